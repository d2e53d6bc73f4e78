// exchange-sim: the exchange simulator. Publishes a MoldUDP64 / ITCH 5.0 feed over UDP (a seeded
// generated day, or a recorded BinaryFILE / pcap re-packetized in our own session), serves MoldUDP64
// retransmission requests from a history of everything published, can leave chosen packets off the
// wire to test gap recovery, ends the session and lingers for late re-requests. Its order gateway takes
// OUCH 4.2 orders over UDP and matches them against the same feed (perf/sim/order_gateway.hpp).
//
//   exchange-sim --messages 200000 --rate 1000000 --feed-dest 239.1.1.1:26400 --feed-interface 10.0.0.1
//   exchange-sim --replay day.pcap --drop-packets 3,10 --json
//   exchange-sim --rate 100000 --order-latency-ns 2000000000 --positions-out positions.json
//
// Exit status: 0 done (also after SIGINT/SIGTERM); 1 the source, a socket or memory failed; 2 bad
// options. See docs/exchange-simulator.md.
#include <CLI/CLI.hpp>

#include <signal.h>  // sigaction (POSIX)

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "perf/sim/endpoint.hpp"
#include "perf/sim/feed_publisher.hpp"
#include "perf/sim/message_history.hpp"
#include "perf/sim/message_source.hpp"
#include "perf/sim/order_gateway.hpp"
#include "perf/sim/packet_drop_plan.hpp"
#include "perf/sim/retransmission_server.hpp"
#include "perf/json_text.hpp"

namespace {

using pmm::sim::Endpoint;

constexpr const char* kDefaultQueryListen = "127.0.0.1:26421";

struct Options {
  pmm::gen::DayConfig day;
  std::string replay;
  uint16_t replay_port = 0;
  std::string session = "PMMSIM0001";
  size_t max_payload = 1400;
  uint16_t max_messages = 64;
  std::string feed_dest = "127.0.0.1:26400";
  std::string feed_interface;
  std::string bind;
  uint64_t rate = 0;
  uint32_t start_delay_ms = 0;
  uint64_t history_messages = 0;
  std::string retrans_listen = "127.0.0.1:26410";
  uint32_t retrans_max_messages = 10000;
  uint32_t retrans_max_packets = 0;
  std::string drop_packets;
  double drop_rate = 0;
  uint64_t drop_seed = 1;
  uint32_t heartbeat_ms = 1000;
  uint32_t linger_ms = 2000;
  std::string linger_packet = "end-of-session";
  bool json = false;
  // Order gateway.
  std::string order_listen = "127.0.0.1:26420";
  std::string order_session;  // empty: --session
  uint32_t order_heartbeat_ms = 100;
  uint64_t order_latency_ns = 0;
  uint32_t order_max_held = 65536;
  uint32_t order_history = 65536;
  double order_reject_rate = 0;
  uint32_t order_delay_ms = 0;
  double order_delay_rate = 1;
  double order_drop_rate = 0;
  uint64_t order_seed = 1;
  std::string positions_out;
  std::string query_listen = kDefaultQueryListen;
};

// Option errors: exit 2 after naming the option and what it expects.
struct OptionError {
  std::string message;
};

pmm::sim::FeedPublisher* g_publisher = nullptr;

extern "C" void on_stop_signal(int) {
  if (g_publisher != nullptr) g_publisher->stop();  // an atomic store: async-signal-safe
}

Endpoint endpoint_option(const std::string& name, const std::string& value) {
  Endpoint e;
  std::string error;
  if (!pmm::sim::parse_endpoint(value, e, error)) throw OptionError{name + ": " + error};
  return e;
}

uint32_t ipv4_option(const std::string& name, const std::string& value) {
  uint32_t ip = 0;
  std::string error;
  if (!pmm::sim::parse_ipv4(value, ip, error)) throw OptionError{name + ": " + error};
  return ip;
}

// Builds the feed and retransmission settings from the options; throws OptionError.
void configure(const Options& o, pmm::sim::FeedConfig& feed, pmm::sim::RetransConfig& retrans) {
  if (o.session.empty() || o.session.size() > 10)
    throw OptionError{"--session: '" + o.session + "' must be 1..10 characters"};
  for (char c : o.session)
    if (c < 0x20 || c > 0x7E) throw OptionError{"--session: '" + o.session + "' must be printable ASCII"};
  feed.packets.session = pmm::mold::make_session(o.session.c_str());
  feed.packets.max_payload = o.max_payload;
  feed.packets.max_messages = o.max_messages;
  if (const std::string e = pmm::gen::validate(feed.packets); !e.empty())
    throw OptionError{(e.rfind("max_payload", 0) == 0 ? "--max-payload: " : "--max-messages: ") + e};

  feed.destination = endpoint_option("--feed-dest", o.feed_dest);
  if (feed.destination.ip == 0 || feed.destination.port == 0)
    throw OptionError{"--feed-dest: '" + o.feed_dest + "' needs a non-zero IP and port (IP:PORT)"};
  if (!o.feed_interface.empty()) {
    feed.multicast_interface = ipv4_option("--feed-interface", o.feed_interface);
    if (!feed.destination.is_multicast())
      throw OptionError{"--feed-interface: only with a multicast --feed-dest (224.0.0.0/4), got " + o.feed_dest};
  }
  if (!o.bind.empty()) {
    if (o.bind.find(':') == std::string::npos)
      feed.local_address.ip = ipv4_option("--bind", o.bind);
    else
      feed.local_address = endpoint_option("--bind", o.bind);
  }
  feed.rate = o.rate;
  feed.start_delay_ms = o.start_delay_ms;
  feed.heartbeat_ms = o.heartbeat_ms;
  feed.linger_ms = o.linger_ms;
  feed.linger_packet = o.linger_packet == "heartbeat" ? pmm::sim::LingerPacket::kHeartbeat
                                                      : pmm::sim::LingerPacket::kEndOfSession;
  std::string error;
  if (!pmm::sim::parse_packet_list(o.drop_packets, feed.drops.packets, error)) throw OptionError{"--drop-packets: " + error};
  feed.drops.rate = o.drop_rate;
  feed.drops.seed = o.drop_seed;

  retrans.session = feed.packets.session;
  retrans.listen = endpoint_option("--retrans-listen", o.retrans_listen);
  retrans.max_payload = o.max_payload;
  retrans.max_messages = o.max_messages;
  retrans.max_request_messages = o.retrans_max_messages;
  retrans.max_response_packets = o.retrans_max_packets;
  if (o.retrans_max_messages == 0) throw OptionError{"--retrans-max-messages: must be at least 1"};
}

bool orders_off(const Options& o) { return o.order_listen == "off"; }

// The order gateway's settings; throws OptionError. The engine's feed books are sized to a generated
// day (twice its live orders); a replay gets the core defaults, sized for a full NASDAQ day.
void configure_orders(const Options& o, pmm::sim::OrderGatewayConfig& c) {
  c.listen = endpoint_option("--order-listen", o.order_listen);
  const std::string& session = o.order_session.empty() ? o.session : o.order_session;
  if (session.empty() || session.size() > 10)
    throw OptionError{"--order-session: '" + session + "' must be 1..10 characters"};
  for (char ch : session)
    if (ch < 0x20 || ch > 0x7E) throw OptionError{"--order-session: '" + session + "' must be printable ASCII"};
  c.session = pmm::mold::make_session(session.c_str());
  c.heartbeat_ms = o.order_heartbeat_ms;
  c.latency_ns = o.order_latency_ns;
  c.max_held = o.order_max_held;
  c.history_messages = o.order_history;
  if (o.query_listen != "off") c.query_listen = endpoint_option("--query-listen", o.query_listen);
  if (o.replay.empty()) {
    const uint64_t orders = std::min<uint64_t>(2 * uint64_t{o.day.target_live_orders} + 65536, 1u << 30);
    c.matching.book.max_orders = static_cast<uint32_t>(orders);
    c.matching.book.max_levels = static_cast<uint32_t>(orders);
    c.matching.book.max_locates = std::min<uint32_t>(o.day.symbols + 1, 65536);
    c.matching.book.level_index_entries =
        std::clamp<uint32_t>(std::bit_ceil(static_cast<uint32_t>(orders)), 1u << 16, 1u << 22);
  }
  c.matching.seed = o.order_seed;
  c.matching.reject_rate = o.order_reject_rate;
  c.matching.delay_ms = o.order_delay_ms;
  c.matching.delay_rate = o.order_delay_ms != 0 ? o.order_delay_rate : 0.0;
  c.matching.drop_rate = o.order_drop_rate;
  if (const std::string e = pmm::sim::validate(c); !e.empty()) {
    const char* option = e.rfind("orders.max_held", 0) == 0           ? "--order-max-held"
                         : e.rfind("orders.history_messages", 0) == 0 ? "--order-history"
                         : e.rfind("orders.matching.delay_ms", 0) == 0 ? "--order-delay-ms"
                                                                       : "--order-*";
    throw OptionError{std::string(option) + ": " + e};
  }
}

std::unique_ptr<pmm::sim::MessageSource> open_source(const Options& o, std::string& error) {
  if (!o.replay.empty()) return pmm::sim::open_replay_source({o.replay, o.replay_port}, error);
  if (const std::string e = pmm::gen::validate(o.day); !e.empty()) {
    const char* option = e.rfind("symbols", 0) == 0         ? "--symbols"
                         : e.rfind("target_live", 0) == 0 ? "--live-orders"
                                                           : "--messages";
    throw OptionError{std::string(option) + ": " + e};
  }
  return pmm::sim::make_generator_source(o.day);
}

std::string join(const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

using pmm::tools::json_escape;

double rate_of(uint64_t messages, double seconds) { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }

void print_json(const Options& o, const pmm::sim::MessageSource& source, const pmm::sim::MessageHistory& history,
                const pmm::sim::FeedStats& f, const pmm::sim::RetransStats& r, const Endpoint& from,
                const Endpoint& listen, const std::string& feed_dest, const pmm::sim::OrderGateway* gateway) {
  std::printf("{\"source\": \"%s\", \"session\": \"%s\", \"feed_dest\": \"%s\", \"feed_source\": \"%s\", "
              "\"retrans_listen\": \"%s\",\n",
              source.kind(), json_escape(o.session).c_str(), feed_dest.c_str(), pmm::sim::to_string(from).c_str(),
              pmm::sim::to_string(listen).c_str());
  std::printf(" \"messages\": %llu, \"packets\": %llu, \"packets_sent\": %llu, \"dropped_packets\": [%s],\n",
              static_cast<unsigned long long>(f.messages), static_cast<unsigned long long>(f.packets),
              static_cast<unsigned long long>(f.packets_sent), join(f.dropped_list).c_str());
  std::printf(" \"dropped_packet_count\": %llu, \"dropped_messages\": %llu, \"heartbeats\": %llu, "
              "\"end_of_session_packets\": %llu, \"next_sequence\": %llu,\n",
              static_cast<unsigned long long>(f.dropped_packets), static_cast<unsigned long long>(f.dropped_messages),
              static_cast<unsigned long long>(f.heartbeats), static_cast<unsigned long long>(f.end_of_session_packets),
              static_cast<unsigned long long>(f.next_sequence));
  std::printf(" \"send_errors\": %llu, \"stopped\": %s, \"publish_seconds\": %.6f, \"messages_per_second\": %.0f,\n",
              static_cast<unsigned long long>(f.send_errors), f.stopped ? "true" : "false", f.publish_seconds,
              rate_of(f.messages, f.publish_seconds));
  std::printf(" \"history_messages\": %llu, \"history_bytes\": %llu,\n",
              static_cast<unsigned long long>(history.capacity()), static_cast<unsigned long long>(history.bytes()));
  std::printf(" \"retrans_requests\": %llu, \"retrans_packets_sent\": %llu, \"retrans_messages_sent\": %llu, "
              "\"retrans_out_of_range\": %llu, \"retrans_capped\": %llu, \"retrans_malformed\": %llu, "
              "\"retrans_wrong_session\": %llu, \"retrans_send_errors\": %llu,\n",
              static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.packets_sent),
              static_cast<unsigned long long>(r.messages_sent), static_cast<unsigned long long>(r.out_of_range),
              static_cast<unsigned long long>(r.capped), static_cast<unsigned long long>(r.malformed),
              static_cast<unsigned long long>(r.wrong_session), static_cast<unsigned long long>(r.send_errors));
  std::printf(" \"source_counters\": {");
  const char* sep = "";
  for (const auto& [name, value] : source.counters()) {
    std::printf("%s\"%s\": %llu", sep, name.c_str(), static_cast<unsigned long long>(value));
    sep = ", ";
  }
  std::printf("}, \"source_error\": \"%s\",\n \"orders\": %s}\n", json_escape(f.source_error).c_str(),
              gateway != nullptr ? gateway->counters_json().c_str() : "null");
}

void print_text(const pmm::sim::MessageSource& source, const pmm::sim::FeedStats& f, const pmm::sim::RetransStats& r,
                const pmm::sim::OrderGateway* gateway) {
  std::fprintf(stderr,
               "exchange-sim: published %llu messages in %llu packets in %.3f s (%.0f messages/s)%s; "
               "dropped %llu packets (%llu messages)%s%s; %llu heartbeats, %llu end-of-session packets, next "
               "sequence %llu\n",
               static_cast<unsigned long long>(f.messages), static_cast<unsigned long long>(f.packets),
               f.publish_seconds, rate_of(f.messages, f.publish_seconds), f.stopped ? ", stopped by a signal" : "",
               static_cast<unsigned long long>(f.dropped_packets), static_cast<unsigned long long>(f.dropped_messages),
               f.dropped_list.empty() ? "" : ": ", join(f.dropped_list).c_str(),
               static_cast<unsigned long long>(f.heartbeats), static_cast<unsigned long long>(f.end_of_session_packets),
               static_cast<unsigned long long>(f.next_sequence));
  std::fprintf(stderr,
               "exchange-sim: retransmission: %llu requests answered with %llu messages in %llu packets; out of "
               "range %llu, capped %llu, malformed %llu, wrong session %llu, send errors %llu\n",
               static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.messages_sent),
               static_cast<unsigned long long>(r.packets_sent), static_cast<unsigned long long>(r.out_of_range),
               static_cast<unsigned long long>(r.capped), static_cast<unsigned long long>(r.malformed),
               static_cast<unsigned long long>(r.wrong_session), static_cast<unsigned long long>(r.send_errors));
  for (const auto& [name, value] : source.counters())
    if (value != 0) std::fprintf(stderr, "exchange-sim: replay %s: %llu\n", name.c_str(), static_cast<unsigned long long>(value));
  if (gateway == nullptr) return;
  const pmm::sim::OrderGatewayStats& g = gateway->stats();
  const pmm::sim::MatchingStats& m = gateway->engine().stats();
  std::fprintf(stderr,
               "exchange-sim: orders: %llu received (%llu enter, %llu replace, %llu cancel), %llu accepted, %llu "
               "fills, %llu responses sent; late %llu, held full %llu, gaps %llu, malformed %llu, other client %llu\n",
               static_cast<unsigned long long>(g.orders), static_cast<unsigned long long>(g.enters),
               static_cast<unsigned long long>(g.replaces), static_cast<unsigned long long>(g.cancels),
               static_cast<unsigned long long>(m.accepted), static_cast<unsigned long long>(m.executions),
               static_cast<unsigned long long>(g.messages_sent), static_cast<unsigned long long>(g.late_orders),
               static_cast<unsigned long long>(g.held_full), static_cast<unsigned long long>(gateway->receiver().gaps),
               static_cast<unsigned long long>(g.malformed), static_cast<unsigned long long>(g.other_client));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Exchange simulator, feed side: publishes a MoldUDP64 / ITCH 5.0 feed over UDP and serves "
               "MoldUDP64 retransmission requests."};
  auto* seed = app.add_option("--seed", o.day.seed, "Generator: random seed")->capture_default_str();
  auto* messages = app.add_option("--messages", o.day.messages, "Generator: messages in the day")->capture_default_str();
  auto* symbols = app.add_option("--symbols", o.day.symbols, "Generator: symbols, 1..65535")->capture_default_str();
  auto* live = app.add_option("--live-orders", o.day.target_live_orders, "Generator: live orders the day holds")
                   ->capture_default_str();
  app.add_option("--replay", o.replay, "Publish the messages of a BinaryFILE or pcap/pcapng instead of generating")
      ->excludes(seed)
      ->excludes(messages)
      ->excludes(symbols)
      ->excludes(live);
  app.add_option("--replay-port", o.replay_port, "pcap replay: only UDP to this port (0: any)")->capture_default_str();
  app.add_option("--session", o.session, "MoldUDP64 session, 1..10 characters")->capture_default_str();
  app.add_option("--max-payload", o.max_payload, "UDP payload bytes per packet")->capture_default_str();
  app.add_option("--max-messages", o.max_messages, "Messages per packet, 1..65534")->capture_default_str();
  app.add_option("--feed-dest", o.feed_dest, "Feed destination IP:PORT (unicast or multicast)")->capture_default_str();
  app.add_option("--feed-interface", o.feed_interface, "Multicast: IP of the interface to send from (TTL 1)");
  app.add_option("--bind", o.bind, "Feed source address IP or IP:PORT (default: any)");
  app.add_option("--rate", o.rate, "Messages per second (0: as fast as possible)")->capture_default_str();
  app.add_option("--start-delay-ms", o.start_delay_ms, "Wait before the first packet")->capture_default_str();
  app.add_option("--history-messages", o.history_messages,
                 "Keep only the latest N messages for retransmission (0: all of the source)")
      ->capture_default_str();
  app.add_option("--retrans-listen", o.retrans_listen, "Retransmission server IP:PORT (port 0: ephemeral)")
      ->capture_default_str();
  app.add_option("--retrans-max-messages", o.retrans_max_messages, "Cut a request's count to this")
      ->capture_default_str();
  app.add_option("--retrans-max-packets", o.retrans_max_packets,
                 "Packets per answer (0: as many as needed; 1: the spec's single packet)")
      ->capture_default_str();
  app.add_option("--drop-packets", o.drop_packets, "Leave these feed packets off the wire: N,N,... (1-based)");
  app.add_option("--drop-rate", o.drop_rate, "Leave this fraction of feed packets off the wire, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--drop-seed", o.drop_seed, "Seed of --drop-rate's choice")->capture_default_str();
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "Idle heartbeat / end-of-session repeat interval (0: none)")
      ->capture_default_str();
  app.add_option("--linger-ms", o.linger_ms, "After the end of session, serve re-requests this long")
      ->capture_default_str();
  app.add_option("--linger-packet", o.linger_packet, "Repeated while lingering: end-of-session or heartbeat")
      ->check(CLI::IsMember({"end-of-session", "heartbeat"}))
      ->capture_default_str();
  app.add_flag("--json", o.json, "Print a JSON summary on stdout");
  app.add_option("--order-listen", o.order_listen, "Order gateway IP:PORT (port 0: ephemeral; off: no gateway)")
      ->capture_default_str();
  app.add_option("--order-session", o.order_session, "The gateway's MoldUDP64 session (default: --session)");
  app.add_option("--order-heartbeat-ms", o.order_heartbeat_ms, "Idle heartbeats to the client (0: none)")
      ->capture_default_str();
  app.add_option("--order-latency-ns", o.order_latency_ns,
                 "Deterministic mode: apply a request at its as-of + this, in feed time (0: on arrival)")
      ->capture_default_str();
  app.add_option("--order-max-held", o.order_max_held, "Requests held for their time at most")->capture_default_str();
  app.add_option("--order-history", o.order_history, "Responses kept for re-requests (a power of two)")
      ->capture_default_str();
  app.add_option("--order-reject-rate", o.order_reject_rate, "Reject this fraction of valid Enter Orders, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--order-delay-ms", o.order_delay_ms, "Hold chosen responses this long, in feed time")
      ->capture_default_str();
  app.add_option("--order-delay-rate", o.order_delay_rate, "Fraction of responses --order-delay-ms holds, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--order-drop-rate", o.order_drop_rate, "Never send this fraction of responses, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--order-seed", o.order_seed, "Seed of the --order-*-rate choices")->capture_default_str();
  app.add_option("--positions-out", o.positions_out, "At exit, write positions, open orders and counters (JSON)");
  app.add_option("--query-listen", o.query_listen,
                 "Position query server IP:PORT (UDP; port 0: ephemeral; off: none). The default is dropped "
                 "with a warning when it cannot be bound")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  pmm::sim::FeedConfig feed;
  pmm::sim::RetransConfig retrans;
  pmm::sim::OrderGatewayConfig orders;
  std::unique_ptr<pmm::sim::MessageSource> source;
  std::string error;
  try {
    configure(o, feed, retrans);
    if (!orders_off(o)) configure_orders(o, orders);
    else if (!o.positions_out.empty()) throw OptionError{"--positions-out: needs the order gateway (--order-listen)"};
    source = open_source(o, error);
    constexpr size_t kFraming = pmm::mold::kHeaderSize + pmm::mold::kBlockHeaderSize;
    if (source && source->max_message_length() > feed.packets.max_payload - kFraming)
      throw OptionError{"--max-payload: " + std::to_string(o.max_payload) + " cannot carry the longest message of " +
                        o.replay + " (" + std::to_string(source->max_message_length()) + " bytes); use at least " +
                        std::to_string(source->max_message_length() + kFraming)};
  } catch (const OptionError& e) {
    std::fprintf(stderr, "exchange-sim: %s\n", e.message.c_str());
    return 2;
  }
  if (!source) {
    std::fprintf(stderr, "exchange-sim: %s\n", error.c_str());
    return 1;
  }

  const uint64_t whole = std::max<uint64_t>(1, source->message_count());
  const uint64_t capacity = o.history_messages != 0 ? std::min(o.history_messages, whole) : whole;
  std::unique_ptr<pmm::sim::MessageHistory> history;
  try {
    history = std::make_unique<pmm::sim::MessageHistory>(capacity, source->max_message_length());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "exchange-sim: cannot allocate a history of %llu messages; bound it with --history-messages\n",
                 static_cast<unsigned long long>(capacity));
    return 1;
  }
  auto server = pmm::sim::RetransmissionServer::create(retrans, *history, error);
  if (!server) {
    std::fprintf(stderr, "exchange-sim: %s\n", error.c_str());
    return 1;
  }
  auto publisher = pmm::sim::FeedPublisher::create(feed, *source, *history, error);
  if (!publisher) {
    std::fprintf(stderr, "exchange-sim: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<pmm::sim::OrderGateway> gateway;
  std::string query_warning;  // printed after the start line, which scripts read first
  if (!orders_off(o)) {
    try {
      gateway = pmm::sim::OrderGateway::create(orders, error);
      if (!gateway && orders.query_listen && o.query_listen == kDefaultQueryListen &&
          error.rfind("position query:", 0) == 0) {
        // Only the default address is busy (another simulator): run without the query rather than fail.
        query_warning = "exchange-sim: warning: " + error + "; position query off (pass --query-listen)\n";
        orders.query_listen.reset();
        gateway = pmm::sim::OrderGateway::create(orders, error);
      }
    } catch (const std::bad_alloc&) {
      error = "order gateway: cannot allocate the matching engine's tables";
    }
    if (!gateway) {
      std::fprintf(stderr, "exchange-sim: %s\n", error.c_str());
      return 1;
    }
    publisher->set_observer(gateway.get());
  }
  // Scripts read this line for the ports actually bound (port 0 asks for an ephemeral one).
  std::fprintf(stderr,
               "exchange-sim: session %s: %llu messages (%s) to %s from %s; retransmission requests on %s; "
               "orders on %s; position query on %s\n",
               o.session.c_str(), static_cast<unsigned long long>(source->message_count()), source->kind(),
               o.feed_dest.c_str(), pmm::sim::to_string(publisher->local_endpoint()).c_str(),
               pmm::sim::to_string(server->local_endpoint()).c_str(),
               gateway ? pmm::sim::to_string(gateway->local_endpoint()).c_str() : "off",
               gateway && gateway->query_server() ? pmm::sim::to_string(gateway->query_server()->local_endpoint()).c_str()
                                                  : "off");
  std::fputs(query_warning.c_str(), stderr);
  std::fflush(stderr);

  g_publisher = publisher.get();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  server->start();
  publisher->run();
  server->stop();
  g_publisher = nullptr;
  if (gateway) gateway->end_session();
  bool positions_failed = false;
  if (gateway && !o.positions_out.empty()) {
    const std::string text = gateway->positions_json();
    std::FILE* out = std::fopen(o.positions_out.c_str(), "w");
    positions_failed = out == nullptr || std::fwrite(text.data(), 1, text.size(), out) != text.size();
    if (out != nullptr && std::fclose(out) != 0) positions_failed = true;
    if (positions_failed)
      std::fprintf(stderr, "exchange-sim: --positions-out: cannot write %s: %s\n", o.positions_out.c_str(),
                   std::strerror(errno));
  }

  const pmm::sim::FeedStats& f = publisher->stats();
  const pmm::sim::RetransStats r = server->stats();
  if (o.json)
    print_json(o, *source, *history, f, r, publisher->local_endpoint(), server->local_endpoint(), o.feed_dest,
               gateway.get());
  else
    print_text(*source, f, r, gateway.get());
  std::fflush(stdout);
  if (!f.source_error.empty()) {
    std::fprintf(stderr, "exchange-sim: the source failed part-way: %s\n", f.source_error.c_str());
    return 1;
  }
  if (f.send_errors != 0) {
    std::fprintf(stderr, "exchange-sim: %llu feed packets could not be sent (last error: %s)\n",
                 static_cast<unsigned long long>(f.send_errors), std::strerror(f.last_send_errno));
    return 1;
  }
  return positions_failed ? 1 : 0;
}
