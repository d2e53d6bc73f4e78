#include "perf/sim/order_gateway.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "core/byte_order.hpp"
#include "core/order_session_framing.hpp"
#include "perf/json_text.hpp"
#include "perf/sim/ouch_request_decoding.hpp"
#include "perf/sim/ouch_response_encoding.hpp"

namespace pmm::sim {

namespace {

constexpr size_t kAsOfSize = 8;  // each client message block: [as-of, 8 bytes big-endian][OUCH message]
constexpr size_t kItchTimestampOffset = 5;
constexpr size_t kItchHeaderSize = 11;

uint64_t total_rejected(const MatchingStats& s) noexcept {
  return s.rejected_unknown_stock + s.rejected_shares + s.rejected_price + s.rejected_side + s.rejected_display +
         s.rejected_duplicate_token + s.rejected_unknown_token + s.rejected_halted + s.rejected_fault +
         s.rejected_account_limit + s.rejected_open_order_limit + s.rejected_token_limit + s.rejected_position_limit;
}

// An alpha field without its padding; bytes outside printable ASCII (a client may send anything) as '?'.
template <size_t N>
std::string trimmed(const std::array<char, N>& a) {
  std::string s(a.data(), N);
  s.erase(s.find_last_not_of(' ') + 1);
  for (char& c : s)
    if (c < 0x20 || c > 0x7E) c = '?';
  return s;
}

std::string quoted(const std::string& s) { return "\"" + tools::json_escape(s) + "\""; }

}  // namespace

std::string validate(const OrderGatewayConfig& c) {
  if (std::string e = validate(c.matching); !e.empty()) return "orders." + e;
  if (c.max_held < 1 || c.max_held > (1u << 24)) return "orders.max_held: expected an integer in 1 .. 16777216";
  if (c.history_messages < 1 || c.history_messages > (1u << 24) || (c.history_messages & (c.history_messages - 1)) != 0)
    return "orders.history_messages: expected a power of two in 1 .. 16777216";
  if (c.retry_ms < 1 || c.retry_ms > 60000) return "orders.retry_ms: expected milliseconds in 1 .. 60000";
  if (c.max_request_messages < 1) return "orders.max_request_messages: expected an integer in 1 .. 65535";
  if (c.heartbeat_ms > 3600000) return "orders.heartbeat_ms: expected milliseconds in 0 .. 3600000";
  return "";
}

// Client OUCH messages -> engine requests.
class OrderGateway::InboundHandler {
 public:
  InboundHandler(OrderGateway& g, uint64_t as_of) : g_(g), as_of_(as_of) {}

  void on(const ouch::EnterOrder& m) noexcept {
    ++g_.stats_.enters;
    if (!g_.have_account_) {
      g_.session_account_ = m.firm;
      g_.have_account_ = true;
    }
    submit(enter_request(m));
  }
  void on(const ouch::ReplaceOrder& m) noexcept {
    ++g_.stats_.replaces;
    submit(replace_request(m, g_.session_account_));
  }
  void on(const ouch::CancelOrder& m) noexcept {
    ++g_.stats_.cancels;
    submit(cancel_request(m, g_.session_account_));
  }
  void on(const ouch::ModifyOrder&) noexcept { ++g_.stats_.unsupported; }
  void on(const ouch::TradeNow&) noexcept { ++g_.stats_.unsupported; }

 private:
  template <class Request>
  void submit(const Request& r) noexcept {
    Held h;
    h.request = r;
    g_.submit(h, as_of_);
  }

  OrderGateway& g_;
  uint64_t as_of_;
};

std::unique_ptr<OrderGateway> OrderGateway::create(const OrderGatewayConfig& config, std::string& error) {
  if (std::string e = validate(config); !e.empty()) {
    error = "order gateway: " + e;
    return nullptr;
  }
  UdpSocket socket = UdpSocket::open(config.listen, "order gateway", error);
  if (!socket.valid()) return nullptr;
  socket.set_receive_buffer(1 << 20);  // the socket is polled between feed packets: bursts wait in it
  std::unique_ptr<PositionQueryServer> query;
  if (config.query_listen) {
    query = PositionQueryServer::create(*config.query_listen, error);
    if (!query) return nullptr;
  }
  return std::unique_ptr<OrderGateway>(new OrderGateway(config, std::move(socket), std::move(query)));
}

OrderGateway::OrderGateway(const OrderGatewayConfig& config, UdpSocket socket,
                           std::unique_ptr<PositionQueryServer> query)
    : config_(config),
      socket_(std::move(socket)),
      engine_(std::make_unique<MatchingEngine>(config.matching)),
      query_(std::move(query)),
      sender_(config.session, config.history_messages),
      receiver_(uint64_t{config.retry_ms} * 1000000, config.max_request_messages),
      receive_buffer_(std::make_unique<uint8_t[]>(kReceiveBuffer)),
      responses_(64) {
  held_.reserve(config.max_held);
}

// ---------------------------------------------------------------------------------------------
// The feed

void OrderGateway::on_published(const uint8_t* msg, uint16_t len) noexcept {
  if (len >= kItchHeaderSize) exchange_time_ = std::max(exchange_time_, load_be48(msg + kItchTimestampOffset));
  // Held requests due by this message's time go in just before it.
  while (!held_.empty() && held_.front().due <= exchange_time_) {
    std::pop_heap(held_.begin(), held_.end(), HeldLater{});
    const Held h = held_.back();
    held_.pop_back();
    apply(h, h.due);
  }
  engine_now_ = std::max(engine_now_, exchange_time_);
  engine_->on_feed_message(msg, len, engine_now_);
}

void OrderGateway::on_feed_end() noexcept {
  while (!held_.empty()) {
    std::pop_heap(held_.begin(), held_.end(), HeldLater{});
    const Held h = held_.back();
    held_.pop_back();
    apply(h, h.due);
  }
  feed_ended_ = true;
  release_responses();  // their answers go before the feed's end of session, as a feed message's fills do
}

// ---------------------------------------------------------------------------------------------
// Requests

void OrderGateway::submit(const Held& request, uint64_t as_of) noexcept {
  ++stats_.orders;
  Held h = request;
  h.arrival = ++arrivals_;
  if (config_.latency_ns == 0) return apply(h, exchange_time_);
  h.due = as_of > UINT64_MAX - config_.latency_ns ? UINT64_MAX : as_of + config_.latency_ns;
  // The feed already passed the request's time: the message it should have preceded is out.
  if (h.due <= exchange_time_) {
    ++stats_.late_orders;
    return apply(h, exchange_time_);
  }
  if (feed_ended_) return apply(h, h.due);  // nothing left to precede: in arrival order
  if (held_.size() == config_.max_held) {
    ++stats_.held_full;
    return apply(h, exchange_time_);
  }
  held_.push_back(h);  // reserved: no allocation
  std::push_heap(held_.begin(), held_.end(), HeldLater{});
  stats_.held_peak = std::max<uint64_t>(stats_.held_peak, held_.size());
}

void OrderGateway::apply(const Held& h, uint64_t now) noexcept {
  engine_now_ = std::max(engine_now_, now);
  if (const auto* e = std::get_if<EnterRequest>(&h.request))
    engine_->enter(*e, engine_now_);
  else if (const auto* r = std::get_if<ReplaceRequest>(&h.request))
    engine_->replace(*r, engine_now_);
  else
    engine_->cancel(std::get<CancelRequest>(h.request), engine_now_);
}

// ---------------------------------------------------------------------------------------------
// The socket

void OrderGateway::service(uint64_t real_ns) noexcept {
  real_ns_ = real_ns;
  for (int i = 0; i < kMaxDatagramsPerTurn; ++i) {
    const Received r = socket_.receive(receive_buffer_.get(), kReceiveBuffer, 0);
    if (r.kind != Received::Kind::kDatagram) break;
    on_datagram(receive_buffer_.get(), r.len, r.from);
  }
  if (has_client_) {
    mold::Request request;
    if (receiver_.poll(real_ns, request)) {
      uint8_t p[mold::kHeaderSize];
      send(p, mold::encode_request(p, request));
    }
  }
  release_responses();
  if (query_) query_->service(*engine_, exchange_time_);
  if (has_client_ && config_.heartbeat_ms != 0 &&
      real_ns - last_send_real_ns_ >= uint64_t{config_.heartbeat_ms} * 1000000) {
    ++stats_.heartbeats;
    send(packet_, sender_.heartbeat(packet_, sizeof packet_));
  }
}

void OrderGateway::learn_client(const Endpoint& from) noexcept {
  if (has_client_) return;  // on_datagram checked the address
  client_ = from;
  has_client_ = true;
  last_send_real_ns_ = real_ns_;
}

void OrderGateway::on_datagram(const uint8_t* p, size_t len, const Endpoint& from) noexcept {
  ++stats_.datagrams;
  if (has_client_ && from != client_) {
    ++stats_.other_client;
    return;
  }
  switch (ouch::classify_datagram(p, len)) {
    case ouch::DatagramKind::kMalformed:
      ++stats_.malformed;
      return;
    case ouch::DatagramKind::kRequest: {
      mold::Request r;
      if (!mold::parse_request(p, len, r) || r.sequence == 0) {
        ++stats_.malformed;
        return;
      }
      if (r.session != config_.session) {
        // A request naming the client's own stream is its login (docs/order-entry.md, "Login").
        if (receiver_.has_session() && r.session != receiver_.session()) {
          ++stats_.wrong_session;
          return;
        }
        learn_client(from);
        return on_login(r);
      }
      learn_client(from);
      return on_request(r);
    }
    case ouch::DatagramKind::kDownstream:
      break;
  }
  mold::DownstreamPacket pkt;
  if (mold::parse_downstream(p, len, pkt) != mold::ParseError::kNone) {
    ++stats_.malformed;
    return;
  }
  learn_client(from);
  char session[10];
  std::memcpy(session, pkt.header.session.data(), sizeof session);
  if (pkt.is_heartbeat() || pkt.is_end_of_session())
    return receiver_.on_heartbeat(session, pkt.header.sequence, real_ns_);
  pkt.for_each_message([&](uint64_t sequence, const uint8_t* msg, uint16_t n) {
    if (receiver_.on_message(session, sequence, real_ns_) != orders::SessionReceiver::Verdict::kDeliver) return;
    keep_client_message(pkt.header.session, sequence, msg, n);
    on_client_message(msg, n);
  });
}

void OrderGateway::on_client_message(const uint8_t* p, uint16_t len) noexcept {
  if (len < kAsOfSize) {  // delivered (its number is used) but not an order
    ++stats_.malformed;
    return;
  }
  InboundHandler handler(*this, load_be64(p));
  stats_.decode.record(ouch::dispatch_inbound(p + kAsOfSize, len - kAsOfSize, handler));
}

void OrderGateway::keep_client_message(const mold::SessionId& session, uint64_t sequence, const uint8_t* p,
                                       uint16_t len) {
  // One allocation per run, at the client's first message (the simulator, not the appliance's hot path).
  if (!received_) received_ = std::make_unique<orders::SessionSender>(session, config_.history_messages);
  received_->adopt(sequence, p, len);  // a block too long to keep is simply not echoed (counted then)
}

// The client asks where its stream ends here: its messages from r.sequence we have (up to r.count, one
// per packet, as it sent them), then a heartbeat under ITS session carrying our next expected sequence
// of its, then our own heartbeat (our next sequence), so that it re-requests the responses it missed.
void OrderGateway::on_login(const mold::Request& r) noexcept {
  ++stats_.logins;
  const uint64_t expected = receiver_.expected();
  const uint64_t end = std::min<uint64_t>(expected, r.sequence + r.count);
  for (uint64_t s = r.sequence; s < end; ++s) {
    const size_t n = received_ ? received_->retransmit(s, packet_, sizeof packet_) : 0;
    if (n == 0) {
      ++stats_.login_echo_missing;  // the client cannot complete its login: it keeps asking (and says so)
      break;
    }
    ++stats_.login_echoes;
    send(packet_, n);
  }
  uint8_t p[mold::kHeaderSize];
  send(p, mold::encode_heartbeat(p, r.session, expected));
  ++stats_.heartbeats;
  send(packet_, sender_.heartbeat(packet_, sizeof packet_));
}

void OrderGateway::on_request(const mold::Request& r) noexcept {
  ++stats_.client_requests;
  const uint64_t next = sender_.next_sequence();
  uint64_t count = r.count;
  if (count > config_.max_request_messages) {
    ++stats_.retransmit_capped;
    count = config_.max_request_messages;
  }
  bool missing = false;
  for (uint64_t s = r.sequence; s - r.sequence < count; ++s) {
    if (s >= next) {
      missing = true;
      break;
    }
    const size_t n = sender_.retransmit(s, packet_, sizeof packet_);
    if (n == 0) {
      missing = true;
      continue;
    }
    ++stats_.retransmitted;
    send(packet_, n);
  }
  if (missing) ++stats_.retransmit_missing;
}

// ---------------------------------------------------------------------------------------------
// Responses

void OrderGateway::release_responses() noexcept {
  if (engine_->queued() == 0) return;
  // Once the feed has ended the exchange clock stops: whatever is held back (delay_rate) goes now.
  const uint64_t now = feed_ended_ ? UINT64_MAX : exchange_time_;
  for (size_t n; (n = engine_->poll(now, responses_.data(), responses_.size())) > 0;)
    for (size_t i = 0; i < n; ++i) send_response(responses_[i]);
}

void OrderGateway::send_response(const Response& r) noexcept {
  assert(has_client_);  // responses answer the client's requests
  uint8_t m[ouch::kMaxMessageLength];
  const size_t len = encode_response(r, m);
  const size_t n = sender_.send(m, static_cast<uint16_t>(len), packet_, sizeof packet_);
  assert(n != 0);  // any OUCH message fits a packet of ours
  ++stats_.messages_sent;
  send(packet_, n);
}

void OrderGateway::send(const uint8_t* packet, size_t len) noexcept {
  if (const int e = socket_.send_to(packet, len, client_); e != 0) {
    ++stats_.send_errors;
    stats_.last_send_errno = e;
  }
  last_send_real_ns_ = real_ns_;
}

void OrderGateway::end_session() noexcept {
  if (!has_client_) return;
  uint8_t p[mold::kHeaderSize];
  ++stats_.end_of_session;
  send(p, mold::encode_end_of_session(p, config_.session, sender_.next_sequence()));
}

// ---------------------------------------------------------------------------------------------
// Reports

std::string OrderGateway::counters_json() const {
  const OrderGatewayStats& s = stats_;
  const MatchingStats& m = engine_->stats();
  const orders::SessionReceiverCounters& rc = receiver_.counters();
  std::string out = "{";
  const auto add = [&](const char* key, uint64_t v) {
    if (out.size() > 1) out += ", ";
    out += "\"";
    out += key;
    out += "\": " + std::to_string(v);
  };
  out += "\"listen\": " + quoted(to_string(local_endpoint())) +
         ", \"client\": " + quoted(has_client_ ? to_string(client_) : std::string()) +
         ", \"latency_ns\": " + std::to_string(config_.latency_ns);
  add("orders_received", s.orders);
  add("enters", s.enters);
  add("replaces", s.replaces);
  add("cancels", s.cancels);
  add("unsupported", s.unsupported);
  add("accepted", m.accepted);
  add("rejected", total_rejected(m));
  add("replaced", m.replaced);
  add("canceled", m.canceled);
  add("cancel_rejects", m.cancel_rejects);
  add("fills", m.executions);
  add("late_orders", s.late_orders);
  add("held_full", s.held_full);
  add("held_peak", s.held_peak);
  add("responses_sent", s.messages_sent);
  add("responses_dropped", m.responses_dropped);
  add("responses_delayed", m.responses_delayed);
  add("responses_overflow", m.responses_overflow);
  add("responses_queued", engine_->queued());
  add("next_sequence", sender_.next_sequence());
  add("client_next_sequence", receiver_.expected());
  add("delivered", rc.delivered);
  add("gaps", rc.gaps);
  add("requests", rc.requests);
  add("duplicates", rc.duplicates);
  add("out_of_order", rc.out_of_order);
  add("wrong_session", rc.wrong_session + s.wrong_session);
  add("client_requests", s.client_requests);
  add("retransmitted", s.retransmitted);
  add("retransmit_missing", s.retransmit_missing);
  add("retransmit_capped", s.retransmit_capped);
  add("datagrams", s.datagrams);
  add("malformed", s.malformed);
  add("unknown_type", s.decode.unknown_type);
  add("bad_length", s.decode.bad_length);
  add("empty", s.decode.empty);
  add("other_client", s.other_client);
  add("heartbeats", s.heartbeats);
  add("end_of_session", s.end_of_session);
  add("send_errors", s.send_errors);
  add("logins", s.logins);
  add("login_echoes", s.login_echoes);
  add("login_echo_missing", s.login_echo_missing);
  add("exchange_time", exchange_time_);
  add("feed_messages", m.feed_messages);
  add("mirror_errors", m.mirror_errors);
  const book::BookStats& b = engine_->feed().books().stats();
  add("book_capacity_exceeded", b.order_capacity_exceeded + b.level_capacity_exceeded + b.locate_out_of_range);
  add("sweep_level_limit", m.sweep_level_limit);
  out += "}";
  return out;
}

std::string OrderGateway::positions_json() const {
  std::string out = "{\"session\": " + quoted(std::string(config_.session.data(), config_.session.size())) +
                    ", \"exchange_time\": " + std::to_string(exchange_time_) + ",\n \"accounts\": [";
  const char* sep = "";
  for (const Account& a : engine_->accounts()) {
    out += sep;
    sep = ",";
    out += "\n  {\"account\": " + quoted(trimmed(a)) + ", \"positions\": [";
    const char* psep = "";
    for (const PositionView& p : engine_->positions(a)) {
      out += psep;
      psep = ", ";
      out += "\n    {\"symbol\": " + quoted(trimmed(p.stock)) + ", \"locate\": " + std::to_string(p.locate) +
             ", \"shares\": " + std::to_string(p.shares) + ", \"cash\": " + std::to_string(p.cash) +
             ", \"fees\": " + std::to_string(p.fees) + ", \"bought\": " + std::to_string(p.bought) +
             ", \"sold\": " + std::to_string(p.sold) + "}";
    }
    out += "],\n   \"open_orders\": [";
    const char* osep = "";
    for (const OpenOrderView& o : engine_->open_orders(a)) {
      out += osep;
      osep = ", ";
      out += "\n    {\"token\": " + quoted(trimmed(o.token)) + ", \"order_ref\": " + std::to_string(o.order_ref) +
             ", \"symbol\": " + quoted(trimmed(o.stock)) + ", \"side\": " + quoted(std::string(1, o.side)) +
             ", \"price\": " + std::to_string(o.price) + ", \"open_shares\": " + std::to_string(o.open_shares) +
             ", \"executed_shares\": " + std::to_string(o.executed_shares) +
             ", \"time_in_force\": " + std::to_string(o.time_in_force) +
             ", \"display\": " + quoted(std::string(1, o.display)) + "}";
    }
    out += "]}";
  }
  out += "],\n \"counters\": " + counters_json() + "}\n";
  return out;
}

}  // namespace pmm::sim
