// The appliance's configuration: which backend, which stages run on which core, ring and pool sizes,
// ports and peers, book capacities. Read from JSON (docs/configuration.md lists every key); every
// value is checked and an error names the key and the form it expects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/order_book.hpp"

namespace pmm::pipe {

struct CoreAssignment {
  int cpu = -1;                     // CPU to pin to (-1: not pinned)
  std::vector<std::string> stages;  // run round-robin, in this order
};

struct PipelineConfig {
  std::string backend = "auto";  // auto | dpdk | afpacket | portable
  std::vector<std::string> symbols;  // shown on the status line (and quoted, later)

  // Market data and its retransmission.
  uint16_t feed_port = 26400;
  std::string feed_group;            // portable: IPv4 multicast group to join ("" = unicast)
  std::string feed_session;          // MoldUDP64 session to accept ("" = the first packet's)
  std::string listen_address = "127.0.0.1";  // portable: address the sockets bind to
  uint16_t retrans_port = 26401;     // where retransmissions (and our requests) come from/to locally
  std::string retrans_server = "127.0.0.1:26410";
  uint32_t retry_ms = 20;
  uint32_t max_retries = 5;
  uint32_t window_messages = 1u << 18;
  uint32_t max_request_messages = 10000;
  uint16_t order_port = 26402;       // local port of the order-entry session (OUCH over MoldUDP64 framing)
  std::string order_gateway = "127.0.0.1:26420";  // the exchange's order-entry address ("" = no order entry)
  // Order entry (used when the configuration has a "risk" section: no limits, no orders).
  std::string order_firm = "PMM1";         // OUCH Firm: our account
  std::string order_session = "PMMORDERS"; // our outbound MoldUDP64 session name
  uint32_t max_open_orders = 256;          // order table slots
  uint32_t order_history = 65536;          // sent messages kept for the gateway's re-requests (power of two)
  uint32_t order_retry_ms = 20;            // re-request a hole in the gateway's stream after this long
  uint32_t order_heartbeat_ms = 100;       // heartbeat on our stream after this long without sending (0: none)
  uint32_t order_login_retry_ms = 50;      // login request again after this long without a complete answer
  uint32_t order_login_max_echo = 4096;    // echoes held (and asked for per login request)
  int64_t fee_maker_e4 = 0;                // fee per share in 1/10000 $ (negative: rebate)
  int64_t fee_taker_e4 = 0;
  uint64_t response_latency_us = 0;        // deterministic mode: apply responses at exchange time + this

  // Sections other layers read from the same document (kept as JSON text; "" when absent):
  // "strategy" (core/strategy), "risk" (risk/), "persistence" (persistence/).
  std::string strategy_json, risk_json, persistence_json;

  // Pipeline.
  uint32_t burst = 32;
  uint32_t ring_size = 4096;      // records per ring, a power of two
  uint32_t pool_packets = 8192;   // receive buffers (mbufs, frames, socket slots)
  std::vector<CoreAssignment> cores{{-1, {"rx", "parse", "book", "quote", "tx"}}};

  book::BookCapacity books;

  // Frame backends (DPDK, AF_PACKET): our addresses and the next hop for what we send.
  std::string local_ip = "10.77.0.2";
  std::string local_mac = "auto";    // "auto": the port's own address
  std::string gateway_mac;           // MAC the retransmission server is reached through
  // DPDK.
  std::vector<std::string> dpdk_eal;
  uint16_t dpdk_port = 0;
  // AF_PACKET.
  std::string afpacket_interface;
  uint32_t afpacket_frames = 4096;   // per ring (RX and TX), a power of two
  uint32_t afpacket_frame_size = 2048;

  uint32_t status_interval_ms = 1000;  // 0: no status line
  bool exit_at_end_of_session = false;
};

// The stages a core list may name, and the order data flows through them.
inline const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> kNames{"rx", "parse", "book", "quote", "tx"};
  return kNames;
}

// Parses JSON text (comments allowed) over the defaults. Returns "" or an error naming the key.
std::string parse_config(const std::string& json, PipelineConfig& out);
// Applies one "dotted.key=value" override (value as JSON, or a bare string). Returns "" or an error.
std::string apply_override(const std::string& assignment, std::string& json);
// Cross-field checks (every stage on exactly one core, powers of two, ...). Returns "" or an error.
std::string validate(const PipelineConfig& c);

// The configuration the README's run command uses when no file is given (hw-profiles/dev.json).
extern const char* const kEmbeddedDevConfig;

}  // namespace pmm::pipe
