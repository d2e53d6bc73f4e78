// Parse stage: checks each received packet (Ethernet/IPv4/UDP when the backend hands over frames), tells
// market data from retransmissions and order responses by UDP destination port, decodes MoldUDP64,
// puts messages in sequence (FeedSequencer, which re-requests holes) and copies the book's messages
// into MdEvents. Packets go back to the backend as soon as they are copied out.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/moldudp64.hpp"
#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/feed_sequencer.hpp"
#include "core/pipeline/latency_histogram.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"
#include "core/udp_frame.hpp"

namespace pmm::pipe {

struct ParseConfig {
  uint16_t feed_port = 26400;     // MoldUDP64 market data
  uint16_t retrans_port = 26401;  // our request socket: retransmitted MoldUDP64 arrives here
  uint16_t order_port = 26402;    // order-entry session: responses and the gateway's requests
  uint32_t local_ip = 0;          // frames only: drop IPv4 unicast to other hosts (0: accept any)
  uint32_t burst = 32;
  uint32_t staging_events = 2048; // MdEvents built per step before the book ring must take them
  SequencerConfig sequencer;
};

struct alignas(64) ParseCounters {
  RelaxedCounter packets;
  RelaxedCounter feed_packets;
  RelaxedCounter retrans_packets;
  RelaxedCounter order_packets;
  RelaxedCounter malformed_order;  // order-session packet failed MoldUDP64 parsing, or a message too long
  RelaxedCounter order_events;     // OrderResponseEvents pushed to the quote stage
  RelaxedCounter order_ring_full;  // order events not pushed: the session's sequence numbers recover them
  RelaxedCounter bad_frames;       // failed the Ethernet/IPv4/UDP checks
  RelaxedCounter wrong_address;    // IPv4 destination not ours
  RelaxedCounter wrong_port;       // UDP to a port we do not serve
  RelaxedCounter malformed_mold;   // MoldUDP64 packet failed to parse: dropped whole
  RelaxedCounter wrong_session;
  RelaxedCounter events_out;       // MdEvents pushed to the book ring
  RelaxedCounter ring_full;        // steps that found the book ring full (back-pressure, no loss)
  RelaxedCounter requests_sent;    // re-requests handed to TX
  RelaxedCounter request_ring_full;
  // Sequencer figures, copied after each step so the management core can read them.
  RelaxedCounter delivered, unknown_type, bad_length, duplicates, gaps, gaps_filled, gaps_unrecovered, messages_lost, window_overflow, held;
  RelaxedCounter stale;            // 1 while the books are stale
};

class ParseStage final : public Stage {
 public:
  // `orders` may be null: order-session packets are then counted and dropped.
  ParseStage(const ParseConfig& config, PacketSource& source, EventRing<RxPacket>& in, EventRing<MdEvent>& out,
             EventRing<TxEvent>& tx, EventRing<OrderResponseEvent>* orders, const TscClock& clock);

  std::string_view name() const noexcept override { return "parse"; }
  uint32_t run_once() noexcept override;

  const ParseCounters& counters() const noexcept { return counters_; }
  const LatencyHistogram& latency() const noexcept { return latency_; }  // RX -> parsed, per packet
  const FeedSequencer& sequencer() const noexcept { return sequencer_; }
  // Read after the cores stop.
  const std::array<uint64_t, net::kFrameErrorCount>& frame_errors() const noexcept { return frame_errors_; }

 private:
  uint32_t step() noexcept;
  void handle(const RxPacket& p) noexcept;
  void handle_mold(const uint8_t* payload, size_t len, uint64_t rx_tsc, bool retransmission) noexcept;
  void handle_order_session(const uint8_t* payload, size_t len, uint64_t rx_tsc) noexcept;
  void push_order_event(const OrderResponseEvent& e) noexcept;
  bool flush() noexcept;  // true when everything staged is in the ring
  void send_request(const GapRequest& r) noexcept;
  void publish_sequencer() noexcept;

  ParseConfig cfg_;
  PacketSource& source_;
  EventRing<RxPacket>& in_;
  EventRing<MdEvent>& out_;
  EventRing<TxEvent>& tx_;
  EventRing<OrderResponseEvent>* orders_;
  TscClock clock_;
  FeedSequencer sequencer_;
  std::vector<RxPacket> packets_;
  std::vector<MdEvent> staging_;
  uint32_t staged_ = 0;
  uint32_t flushed_ = 0;
  ParseCounters counters_;
  LatencyHistogram latency_;
  std::array<uint64_t, net::kFrameErrorCount> frame_errors_{};
};

}  // namespace pmm::pipe
