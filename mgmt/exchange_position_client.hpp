// The client side of the exchange's position query (docs/exchange-simulator.md, "Position query"): asks
// the exchange (simulator) over UDP for an account's authoritative positions and open orders, for
// reconciliation by the management plane and for `pmmctl exchange`. Knows the wire protocol only: it
// does not depend on the simulator's code (perf/sim/position_query.hpp is the server).
// Off the hot path: it blocks (poll with a timeout) and allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmm::mgmt {

struct ExchangePosition {
  std::string symbol;
  uint16_t locate = 0;
  int64_t shares = 0;  // signed: bought - sold
  int64_t cash = 0;    // 1/10000 dollars: sells - buys - fees
  int64_t fees = 0;    // 1/10000 dollars
  uint64_t bought = 0, sold = 0;
  bool operator==(const ExchangePosition&) const = default;
};

struct ExchangeOpenOrder {
  std::string token;  // without its padding
  std::string symbol;
  char side = ' ';          // as entered: 'B', 'S', 'T' or 'E'
  uint32_t price = 0;       // Price(4)
  uint32_t remaining = 0;   // open shares
  uint32_t executed = 0;
  uint64_t order_ref = 0;
  bool operator==(const ExchangeOpenOrder&) const = default;
};

struct ExchangeAccountState {
  std::string account;
  uint64_t exchange_time = 0;  // the simulator's feed time when answered
  uint64_t version = 0;        // every page of this state was answered at this version
  std::vector<ExchangePosition> positions;     // by locate
  std::vector<ExchangeOpenOrder> open_orders;  // by order_ref (arrival)
};

class ExchangePositionClient {
 public:
  // "A.B.C.D:PORT". Throws nothing; check valid() and error().
  ExchangePositionClient(std::string_view address, int timeout_ms = 500, int attempts = 3);
  ~ExchangePositionClient();
  ExchangePositionClient(const ExchangePositionClient&) = delete;
  ExchangePositionClient& operator=(const ExchangePositionClient&) = delete;

  bool valid() const noexcept { return fd_ >= 0; }
  const std::string& error() const noexcept { return error_; }  // why the last call failed

  // One request line, the answer's raw JSON text. False (error()) on timeout after every attempt.
  bool request(std::string_view line, std::string& answer);
  // Every page of the account's positions and open orders, all answered at one version (read again
  // when the state changed between pages). False with the reason in error(), which names the request,
  // and the key when the answer is not as the protocol says.
  bool account_state(std::string_view account, ExchangeAccountState& out);
  bool accounts(std::vector<std::string>& out);

 private:
  int fd_ = -1;
  int timeout_ms_;
  int attempts_;
  std::string error_;
};

}  // namespace pmm::mgmt
