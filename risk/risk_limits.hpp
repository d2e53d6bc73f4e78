// The pre-trade risk limits: what the "risk" object of the configuration holds, the range each limit
// may take (shared by the config reader and the control ring, so a run-time change can never set what
// the file could not), and the reader. docs/risk.md lists every key and its exact semantics.
#pragma once

#include <rapidjson/fwd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmm::risk {

// Capacity of the per-symbol tables (hot state and snapshot). More configured symbols is a
// configuration error, never a run-time one.
inline constexpr size_t kMaxRiskSymbols = 64;
inline constexpr size_t kSymbolNameBytes = 8;  // ITCH stock symbols are 8 characters

// Every limit, by the id the control ring uses. The first five exist per symbol (a global value is the
// default for symbols without an override); the rest are global only.
enum class RiskLimitId : uint8_t {
  kMaxPosition = 0,          // shares: |position| reachable on one side, open orders included
  kMaxOrderShares,           // shares in one order
  kMaxOrderNotional,         // whole currency units: price x shares of one order
  kMaxOpenOrdersPerSymbol,   // open orders in one symbol
  kPriceCollarBps,           // basis points beyond the opposite best price
  kMaxTotalPosition,         // shares: gross exposure summed over symbols
  kMaxOpenOrders,            // open orders over all symbols
  kMaxOrdersPerSecond,       // token bucket refill rate
  kOrderBurst,               // token bucket capacity
};
inline constexpr size_t kRiskLimitCount = 9;
inline constexpr size_t kPerSymbolLimitCount = 5;  // ids below kMaxTotalPosition

constexpr bool is_per_symbol(RiskLimitId id) noexcept { return static_cast<size_t>(id) < kPerSymbolLimitCount; }

struct LimitRange {
  int64_t min;
  int64_t max;
};

// Bounds chosen so every sum the checks form stays far inside int64/uint64 (docs/risk.md, "Overflow").
inline constexpr int64_t kMaxPositionLimit = int64_t{1} << 40;
inline constexpr int64_t kMaxNotionalLimit = 100'000'000'000'000;  // 1e14 currency units; x1e4 < 2^63
inline constexpr int64_t kMaxOpenOrdersLimit = int64_t{1} << 20;
inline constexpr int64_t kMaxRateLimit = 1'000'000;

constexpr LimitRange limit_range(RiskLimitId id) noexcept {
  switch (id) {
    case RiskLimitId::kMaxPosition: return {0, kMaxPositionLimit};
    case RiskLimitId::kMaxOrderShares: return {0, int64_t{UINT32_MAX}};
    case RiskLimitId::kMaxOrderNotional: return {0, kMaxNotionalLimit};
    case RiskLimitId::kMaxOpenOrdersPerSymbol: return {0, kMaxOpenOrdersLimit};
    case RiskLimitId::kPriceCollarBps: return {0, 10000};
    case RiskLimitId::kMaxTotalPosition: return {0, kMaxPositionLimit * int64_t{kMaxRiskSymbols}};
    case RiskLimitId::kMaxOpenOrders: return {0, kMaxOpenOrdersLimit};
    case RiskLimitId::kMaxOrdersPerSecond: return {1, kMaxRateLimit};
    case RiskLimitId::kOrderBurst: return {1, kMaxRateLimit};
  }
  return {0, 0};
}

// The configuration key of a limit (also the name the management API should use).
constexpr std::string_view limit_key(RiskLimitId id) noexcept {
  switch (id) {
    case RiskLimitId::kMaxPosition: return "max_position";
    case RiskLimitId::kMaxOrderShares: return "max_order_shares";
    case RiskLimitId::kMaxOrderNotional: return "max_order_notional";
    case RiskLimitId::kMaxOpenOrdersPerSymbol: return "max_open_orders_per_symbol";
    case RiskLimitId::kPriceCollarBps: return "price_collar_bps";
    case RiskLimitId::kMaxTotalPosition: return "max_total_position";
    case RiskLimitId::kMaxOpenOrders: return "max_open_orders";
    case RiskLimitId::kMaxOrdersPerSecond: return "max_orders_per_second";
    case RiskLimitId::kOrderBurst: return "order_burst";
  }
  return "?";
}

// The limits that exist per symbol. A plain fixed-layout record: it is also part of the snapshot.
struct SymbolLimits {
  int64_t max_position = 0;
  int64_t max_order_notional = 0;  // whole currency units
  uint32_t max_order_shares = 0;
  uint32_t max_open_orders_per_symbol = 0;
  uint32_t price_collar_bps = 0;
  uint32_t reserved = 0;

  int64_t get(RiskLimitId id) const noexcept;
  void set(RiskLimitId id, int64_t value) noexcept;  // id per symbol, value within limit_range
};
static_assert(sizeof(SymbolLimits) == 32);

struct RiskLimits {
  std::vector<std::string> symbols;  // symbol index -> name; at most kMaxRiskSymbols, 1..8 characters
  SymbolLimits defaults;             // the global values of the per-symbol limits
  std::vector<SymbolLimits> per_symbol;    // effective limits, one per symbol (defaults + overrides)
  std::vector<uint8_t> overridden;         // per symbol: bit i set = limit id i overridden for it
  int64_t max_total_position = 0;
  uint32_t max_open_orders = 0;
  uint32_t max_orders_per_second = 1;
  uint32_t order_burst = 1;
  bool kill_switch = false;          // start with the kill switch engaged
  uint32_t control_ring_size = 64;   // RiskControl records, a power of two

  int64_t get_global(RiskLimitId id) const noexcept;  // any id; per-symbol ids give the default
};

// Limits built in code (tests, tools): every symbol uses `defaults`, no overrides.
RiskLimits uniform_limits(std::vector<std::string> symbols, const SymbolLimits& defaults, int64_t max_total_position,
                          uint32_t max_open_orders, uint32_t max_orders_per_second, uint32_t order_burst);

// Reads the "risk" object (`risk` is its value; errors are named "risk.<key>") for the symbols the
// appliance trades, in symbol-index order. Every global limit is required; "symbols" holds per-symbol
// overrides keyed by symbol name; unknown keys and unknown symbols are errors. Returns "" or an error
// naming the dotted key and the expected form.
std::string parse_risk_limits(const rapidjson::Value& risk, const std::vector<std::string>& symbols, RiskLimits& out);
// The same from JSON text holding the "risk" object itself (comments and trailing commas allowed).
std::string parse_risk_limits_json(const std::string& json, const std::vector<std::string>& symbols, RiskLimits& out);

// Ranges, symbol names and table sizes. Returns "" or an error naming the key.
std::string validate(const RiskLimits& limits);

}  // namespace pmm::risk
