#include "core/pipeline/parse_stage.hpp"

#include <cassert>
#include <cstring>

#include "core/order_session_framing.hpp"

namespace pmm::pipe {

ParseStage::ParseStage(const ParseConfig& config, PacketSource& source, EventRing<RxPacket>& in,
                       EventRing<MdEvent>& out, EventRing<TxEvent>& tx, EventRing<OrderResponseEvent>* orders,
                       const TscClock& clock)
    : cfg_(config), source_(source), in_(in), out_(out), tx_(tx), orders_(orders), clock_(clock),
      sequencer_(config.sequencer),
      packets_(config.burst), staging_(config.staging_events) {
  assert(config.burst > 0 && config.staging_events > 0);
}

uint32_t ParseStage::run_once() noexcept {
  const uint32_t done = step();
  publish_idle(staged_ == flushed_ && !sequencer_.has_output());
  return done;
}

uint32_t ParseStage::step() noexcept {
  // Back-pressure first: what is staged must reach the book ring before anything new is taken.
  if (!flush()) {
    counters_.ring_full.add();
    return 0;
  }
  const uint64_t now = read_tsc();
  if (const GapRequest r = sequencer_.poll(now); r.count != 0) send_request(r);
  if (sequencer_.has_output()) {
    staged_ = sequencer_.drain(staging_.data(), static_cast<uint32_t>(staging_.size()));
    flushed_ = 0;
    publish_sequencer();
    if (!flush()) return staged_;
  }
  // Messages held only for lack of ring space: let the books catch up before taking more packets.
  if (sequencer_.backlogged()) return 0;
  const uint32_t n = in_.pop_burst(packets_.data(), cfg_.burst);
  if (n == 0) return 0;
  staged_ = flushed_ = 0;
  for (uint32_t i = 0; i < n; ++i) handle(packets_[i]);
  source_.release(packets_.data(), n);  // everything needed is copied out
  const uint64_t done = read_tsc();
  for (uint32_t i = 0; i < n; ++i) latency_.record(clock_.to_ns(done - packets_[i].rx_tsc));
  publish_sequencer();
  flush();
  return n;
}

void ParseStage::handle(const RxPacket& p) noexcept {
  counters_.packets.add();
  const uint8_t* payload = p.data;
  size_t len = p.length;
  uint16_t port = p.udp_dst_port;
  if (p.layer == PacketLayer::kEthernet) {
    net::UdpView udp;
    const net::FrameError e = net::parse_udp_frame(p.data, p.length, udp);
    if (e != net::FrameError::kNone) {
      counters_.bad_frames.add();
      ++frame_errors_[static_cast<size_t>(e)];
      return;
    }
    if (cfg_.local_ip != 0 && udp.addr.dst_ip != cfg_.local_ip && (udp.addr.dst_ip >> 28) != 0xE) {
      counters_.wrong_address.add();  // neither ours nor multicast
      return;
    }
    payload = udp.payload;
    len = udp.len;
    port = udp.addr.dst_port;
  }
  if (port == cfg_.feed_port) {
    counters_.feed_packets.add();
    handle_mold(payload, len, p.rx_tsc, false);
  } else if (port == cfg_.retrans_port) {
    counters_.retrans_packets.add();
    handle_mold(payload, len, p.rx_tsc, true);
  } else if (port == cfg_.order_port) {
    counters_.order_packets.add();
    handle_order_session(payload, len, p.rx_tsc);
  } else {
    counters_.wrong_port.add();
  }
}

void ParseStage::handle_mold(const uint8_t* payload, size_t len, uint64_t rx_tsc, bool) noexcept {
  mold::DownstreamPacket packet;
  if (mold::parse_downstream(payload, len, packet) != mold::ParseError::kNone) {
    counters_.malformed_mold.add();
    return;
  }
  uint32_t n = staged_;
  if (!sequencer_.on_packet(packet, rx_tsc, staging_.data(), static_cast<uint32_t>(staging_.size()), &n)) {
    counters_.wrong_session.add();
    return;
  }
  staged_ = n;
}

void ParseStage::handle_order_session(const uint8_t* payload, size_t len, uint64_t rx_tsc) noexcept {
  OrderResponseEvent e;
  e.rx_tsc = rx_tsc;
  if (ouch::classify_datagram(payload, len) == ouch::DatagramKind::kRequest) {
    mold::Request r;
    const bool ok = mold::parse_request(payload, len, r);  // classify_datagram checked size and count
    assert(ok);
    (void)ok;
    e.kind = OrderEventKind::kRequest;
    e.sequence = r.sequence;
    e.length = r.count;
    std::memcpy(e.session, r.session.data(), sizeof e.session);
    push_order_event(e);
    return;
  }
  mold::DownstreamPacket packet;
  if (mold::parse_downstream(payload, len, packet) != mold::ParseError::kNone) {
    counters_.malformed_order.add();
    return;
  }
  std::memcpy(e.session, packet.header.session.data(), sizeof e.session);
  if (packet.is_heartbeat() || packet.is_end_of_session()) {
    e.kind = OrderEventKind::kHeartbeat;
    e.sequence = packet.header.sequence;
    push_order_event(e);
    return;
  }
  packet.for_each_message([&](uint64_t seq, const uint8_t* msg, uint16_t n) {
    e.kind = OrderEventKind::kMessage;
    e.sequence = seq;
    if (n > kOrderMessageCapacity) {
      // No OUCH message is this long. It still takes its sequence number (as an empty message the
      // quote stage counts as bad), or the session would stall re-requesting it for ever.
      counters_.malformed_order.add();
      n = 0;
    }
    e.length = n;
    std::memcpy(e.message, msg, n);
    push_order_event(e);
  });
}

void ParseStage::push_order_event(const OrderResponseEvent& e) noexcept {
  if (orders_ != nullptr && orders_->push_burst(&e, 1) == 1) {
    counters_.order_events.add();
  } else {
    counters_.order_ring_full.add();
  }
}

bool ParseStage::flush() noexcept {
  if (flushed_ == staged_) return true;
  const uint32_t pushed = out_.push_burst(staging_.data() + flushed_, staged_ - flushed_);
  flushed_ += pushed;
  counters_.events_out.add(pushed);
  if (flushed_ != staged_) return false;
  staged_ = flushed_ = 0;
  return true;
}

void ParseStage::send_request(const GapRequest& r) noexcept {
  TxEvent e;
  e.destination = Destination::kRetransmissionServer;
  mold::Request req;
  req.session = sequencer_.session();
  req.sequence = r.first;
  req.count = r.count;
  e.length = static_cast<uint16_t>(mold::encode_request(e.payload, req));
  if (tx_.push_burst(&e, 1) == 1) {
    counters_.requests_sent.add();
  } else {
    counters_.request_ring_full.add();
    sequencer_.request_not_sent();
  }
}

void ParseStage::publish_sequencer() noexcept {
  const SequencerStats& s = sequencer_.stats();
  counters_.delivered.set(s.delivered);
  counters_.unknown_type.set(s.unknown_type);
  counters_.bad_length.set(s.bad_length);
  counters_.duplicates.set(s.duplicates);
  counters_.gaps.set(s.gaps);
  counters_.gaps_filled.set(s.gaps_filled);
  counters_.gaps_unrecovered.set(s.gaps_unrecovered);
  counters_.messages_lost.set(s.messages_lost);
  counters_.window_overflow.set(s.window_overflow);
  counters_.held.set(sequencer_.held());
  counters_.stale.set(sequencer_.stale() ? 1 : 0);
}

}  // namespace pmm::pipe
