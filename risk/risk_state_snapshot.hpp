// The pre-trade risk's whole state as one fixed-size plain record: exposure (positions, open orders per
// side), the limits in force (run-time changes included) and the kill switch. The atomic risk-state file
// writes and reads it as bytes; docs/risk.md, "Snapshot", gives the layout rules and the version policy.
#pragma once

#include <cstdint>
#include <type_traits>

#include "risk/risk_limits.hpp"

namespace pmm::risk {

struct RiskSymbolSnapshot {
  char symbol[kSymbolNameBytes] = {};  // name, NUL-padded: restore checks it against the configuration
  int64_t position = 0;                // shares, + long / - short
  int64_t open_buy_shares = 0;         // unfilled shares of open buy orders
  int64_t open_sell_shares = 0;
  uint32_t open_orders = 0;
  uint8_t overridden = 0;              // bit i: limit id i overridden for this symbol
  uint8_t reserved[3] = {};
  SymbolLimits limits;                 // effective limits
};
static_assert(sizeof(RiskSymbolSnapshot) == 72);

struct RiskStateSnapshot {
  static constexpr uint32_t kMagic = 0x53524D50;  // "PMRS" little-endian
  static constexpr uint16_t kVersion = 1;         // bump on any layout or meaning change

  uint32_t magic = kMagic;
  uint16_t version = kVersion;
  uint16_t symbol_count = 0;
  uint8_t kill_switch = 0;
  uint8_t reserved[7] = {};
  SymbolLimits defaults;
  int64_t max_total_position = 0;
  uint32_t max_open_orders = 0;
  uint32_t max_orders_per_second = 0;
  uint32_t order_burst = 0;
  uint32_t reserved2 = 0;
  RiskSymbolSnapshot symbols[kMaxRiskSymbols];  // [0, symbol_count) meaningful, the rest zero
};
static_assert(std::is_trivially_copyable_v<RiskStateSnapshot> && std::is_standard_layout_v<RiskStateSnapshot>);
static_assert(sizeof(RiskStateSnapshot) == 72 + 72 * kMaxRiskSymbols);

// What restore takes from the snapshot's limits.
enum class LimitsOnRestore : uint8_t {
  kKeepConfigured,  // the configuration's limits stay; exposure and kill switch come from the snapshot
  kFromSnapshot,    // limits too (run-time changes survive a restart)
};

}  // namespace pmm::risk
