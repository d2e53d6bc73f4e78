// The exchange simulator's position query (docs/exchange-simulator.md, "Position query"): a tiny
// request/response protocol over UDP, so that reconciliation can ask the exchange for its
// authoritative positions and open orders per account while the simulator runs. One request per
// datagram (ASCII, one line), one JSON object per answer datagram:
//
//   accounts                    -> {"ok": true, "accounts": ["PMM1", ...], ...}
//   positions ACCOUNT [FROM]    -> the account's positions by symbol, from index FROM (default 0)
//   orders ACCOUNT [FROM]       -> the account's open orders (token, symbol, side, price, remaining)
//
// Every answer carries "exchange_time" and "version" (the engine's count of responses produced: any
// change of positions or open orders makes one), so a client that reads several pages can tell they
// came from one state. A page holds at most kMaxItemsPerAnswer items ("next" names the next page's
// FROM, null at the end), so an answer always fits one datagram. A bad request gets
// {"ok": false, "error": "..."} naming what was wrong and where.
//
// The server lives on the gateway's thread (the engine has no lock): OrderGateway::service() polls it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "perf/sim/endpoint.hpp"
#include "perf/sim/matching_engine.hpp"
#include "perf/sim/udp_socket.hpp"

namespace pmm::sim {

inline constexpr uint16_t kDefaultQueryPort = 26421;
inline constexpr size_t kMaxItemsPerAnswer = 128;   // ~150 bytes each: an answer stays under 20 KB
inline constexpr size_t kMaxQueryRequest = 256;     // longer requests are refused

// The answer to one request (text as received; a trailing newline is allowed). Off the hot path.
std::string answer_position_query(const MatchingEngine& engine, std::string_view request, uint64_t exchange_time);

struct PositionQueryStats {
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // answered with an error
  uint64_t send_errors = 0;
};

class PositionQueryServer {
 public:
  // Binds `listen` (port 0: ephemeral). nullptr and the reason when that fails.
  static std::unique_ptr<PositionQueryServer> create(const Endpoint& listen, std::string& error);

  // Answers the requests waiting on the socket (at most a few per call: the feed must not wait).
  void service(const MatchingEngine& engine, uint64_t exchange_time) noexcept;

  Endpoint local_endpoint() const { return socket_.local_endpoint(); }
  const PositionQueryStats& stats() const noexcept { return stats_; }

 private:
  static constexpr int kMaxRequestsPerTurn = 4;
  explicit PositionQueryServer(UdpSocket socket) : socket_(std::move(socket)) {}

  UdpSocket socket_;
  PositionQueryStats stats_;
};

}  // namespace pmm::sim
