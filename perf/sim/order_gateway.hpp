// The exchange simulator's order-entry gateway (docs/exchange-simulator.md, "Order gateway";
// docs/order-entry.md, "The order session on UDP"): OUCH 4.2 orders from one client arrive over UDP in
// MoldUDP64 packets, each message prefixed with the exchange time its decision was based on (as-of);
// they go to the MatchingEngine, and its responses go back to the client, numbered, one per packet.
// Both directions of the session are core/orders/order_session.hpp's SessionSender / SessionReceiver.
//
// It lives on the feed publisher's thread as its FeedObserver: every published ITCH message reaches
// the engine in order (its timestamp is the exchange time), and the socket is polled, never waited on,
// between packets. With a latency L > 0, a request with as-of A is held until just before the first
// feed message stamped at or after A + L, so fills depend on the feed and the order stream only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/moldudp64.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "perf/sim/endpoint.hpp"
#include "perf/sim/feed_observer.hpp"
#include "perf/sim/matching_engine.hpp"
#include "perf/sim/position_query.hpp"
#include "perf/sim/udp_socket.hpp"

namespace pmm::sim {

struct OrderGatewayConfig {
  Endpoint listen{kLoopback, 26420};                           // port 0: an ephemeral port (see local_endpoint())
  mold::SessionId session = mold::make_session("PMMSIM0001");  // the gateway's own messages
  uint64_t latency_ns = 0;               // > 0: deterministic mode (requests held until as-of + latency)
  uint32_t heartbeat_ms = 100;           // idle heartbeats to a known client; 0: none
  uint32_t max_held = 65536;             // requests waiting for their exchange time (deterministic mode)
  uint32_t history_messages = 65536;     // responses kept for the client's re-requests; a power of two
  uint32_t retry_ms = 20;                // ask the client again for a hole not filled this long
  uint16_t max_request_messages = 1024;  // per re-request sent, and per client re-request answered
  std::optional<Endpoint> query_listen;  // the position query server (position_query.hpp); none: off
  MatchingConfig matching;
};

// "" when usable, else the dotted key and the expected form ("orders.max_held: ...").
std::string validate(const OrderGatewayConfig& config);

struct OrderGatewayStats {
  // Datagrams.
  uint64_t datagrams = 0;      // received on the gateway's socket
  uint64_t malformed = 0;      // shorter than a MoldUDP64 header, blocks that do not parse, a
                               // message block shorter than its 8-byte as-of
  uint64_t other_client = 0;   // from another address than the client's: dropped
  uint64_t wrong_session = 0;  // re-requests naming another session than the gateway's
  // The client's messages (SessionReceiver's counters are in receiver()).
  uint64_t orders = 0;  // Enter, Replace and Cancel Order messages delivered in sequence
  uint64_t enters = 0, replaces = 0, cancels = 0;
  uint64_t unsupported = 0;     // Modify Order and Trade Now: counted, not answered
  ouch::DecodeCounters decode;  // unknown types, bad lengths, empty messages
  uint64_t late_orders = 0;     // deterministic mode: arrived after the feed passed as-of + latency
  uint64_t held_full = 0;       // deterministic mode: the held queue was full, applied at once
  uint64_t held_peak = 0;       // most requests held at once
  // Our messages.
  uint64_t messages_sent = 0;  // responses numbered and sent
  uint64_t heartbeats = 0;
  uint64_t end_of_session = 0;
  uint64_t client_requests = 0;     // re-requests from the client
  uint64_t retransmitted = 0;       // messages re-sent for them
  uint64_t retransmit_missing = 0;  // re-requests naming messages not sent yet or no longer kept
  uint64_t retransmit_capped = 0;   // re-requests cut to max_request_messages
  uint64_t send_errors = 0;
  int last_send_errno = 0;
  // Session logins (docs/order-entry.md, "Login"): requests naming the client's own session.
  uint64_t logins = 0;
  uint64_t login_echoes = 0;         // client messages echoed back
  uint64_t login_echo_missing = 0;   // asked for but no longer kept (older than history_messages)
};

class OrderGateway : public FeedObserver {
 public:
  // Binds the socket and builds the engine. nullptr and the reason (the dotted key, or the address
  // that could not be bound) when that fails.
  static std::unique_ptr<OrderGateway> create(const OrderGatewayConfig& config, std::string& error);

  // FeedObserver: the publisher's thread calls these.
  void on_published(const uint8_t* msg, uint16_t len) noexcept override;
  void on_feed_end() noexcept override;
  void on_idle() noexcept override { service(real_now_ns()); }

  // One turn: the datagrams waiting on the socket (up to a bound), our re-request if one is due, the
  // engine's due responses, an idle heartbeat. real_ns: a steady clock (retries and heartbeats).
  void service(uint64_t real_ns) noexcept;
  // At exit: one end-of-session packet (count 0xFFFF, our next sequence) to the client, if known.
  void end_session() noexcept;

  Endpoint local_endpoint() const { return socket_.local_endpoint(); }
  bool has_client() const noexcept { return has_client_; }
  Endpoint client() const noexcept { return client_; }
  uint64_t exchange_time() const noexcept { return exchange_time_; }  // latest published feed timestamp
  size_t held() const noexcept { return held_.size(); }
  const OrderGatewayStats& stats() const noexcept { return stats_; }
  const orders::SessionReceiverCounters& receiver() const noexcept { return receiver_.counters(); }
  uint64_t next_sequence() const noexcept { return sender_.next_sequence(); }
  const MatchingEngine& engine() const noexcept { return *engine_; }
  const OrderGatewayConfig& config() const noexcept { return config_; }
  // The position query server, when configured (nullptr otherwise).
  const PositionQueryServer* query_server() const noexcept { return query_.get(); }

  // Off the hot path (they allocate). The counters as one JSON object; the positions file: accounts
  // with positions and open orders, and the counters (docs/exchange-simulator.md, "Positions file").
  std::string counters_json() const;
  std::string positions_json() const;

  static uint64_t real_now_ns() noexcept {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

 private:
  static constexpr size_t kReceiveBuffer = 65536;  // any datagram fits, none is cut short
  static constexpr size_t kPacketBuffer = 256;     // one of our packets: header + block + longest message
  static constexpr int kMaxDatagramsPerTurn = 64;  // a flood cannot hold the feed up for long

  struct Held {
    uint64_t due = 0;      // exchange time to apply at
    uint64_t arrival = 0;  // ties: first come first
    std::variant<EnterRequest, ReplaceRequest, CancelRequest> request;
  };
  struct HeldLater {  // heap order: the earliest (due, arrival) on top
    bool operator()(const Held& a, const Held& b) const noexcept {
      return a.due != b.due ? a.due > b.due : a.arrival > b.arrival;
    }
  };
  class InboundHandler;
  friend class InboundHandler;

  OrderGateway(const OrderGatewayConfig& config, UdpSocket socket, std::unique_ptr<PositionQueryServer> query);

  void on_datagram(const uint8_t* p, size_t len, const Endpoint& from) noexcept;
  void on_request(const mold::Request& r) noexcept;
  void on_login(const mold::Request& r) noexcept;
  void keep_client_message(const mold::SessionId& session, uint64_t sequence, const uint8_t* p, uint16_t len);
  void on_client_message(const uint8_t* p, uint16_t len) noexcept;
  void submit(const Held& request, uint64_t as_of) noexcept;
  void apply(const Held& request, uint64_t now) noexcept;
  void release_responses() noexcept;
  void send_response(const Response& r) noexcept;
  void send(const uint8_t* packet, size_t len) noexcept;
  void learn_client(const Endpoint& from) noexcept;

  OrderGatewayConfig config_;
  UdpSocket socket_;
  std::unique_ptr<MatchingEngine> engine_;
  std::unique_ptr<PositionQueryServer> query_;
  orders::SessionSender sender_;
  orders::SessionReceiver receiver_;
  // The client's messages as received (its session, its numbers): what a login echoes. Made at the
  // first message, when the client's session name is known.
  std::unique_ptr<orders::SessionSender> received_;
  std::unique_ptr<uint8_t[]> receive_buffer_;
  uint8_t packet_[kPacketBuffer] = {};
  std::vector<Held> held_;           // a heap, capacity max_held reserved
  std::vector<Response> responses_;  // poll buffer
  OrderGatewayStats stats_;
  bool has_client_ = false;
  Endpoint client_{};
  Account session_account_{};  // the Firm of the client's first Enter Order: Replace and Cancel use it
  bool have_account_ = false;
  uint64_t exchange_time_ = 0;  // running maximum of the published feed timestamps
  uint64_t engine_now_ = 0;     // the latest `now` handed to the engine (never goes back)
  uint64_t arrivals_ = 0;
  bool feed_ended_ = false;
  uint64_t real_ns_ = 0;  // of the current turn
  uint64_t last_send_real_ns_ = 0;
};

}  // namespace pmm::sim
