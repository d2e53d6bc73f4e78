// What the quoting strategy keeps across a restart, as one fixed-size POD for the strategy state file
// (written atomically by the persistence code): per symbol, the volatility estimate, the quote last
// sent and when. Inventory is not here (the position keeper owns it). docs/strategy.md, "State".
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "core/strategy/strategy_config.hpp"

namespace pmm::strategy {

inline constexpr uint32_t kStrategyStateMagic = 0x53534D50;  // "PMSS" little-endian
inline constexpr uint16_t kStrategyStateVersion = 1;

struct SymbolStrategyState {
  std::array<char, 8> symbol{};  // right-padded with spaces, as in ITCH
  uint64_t variance_num_q8 = 0;  // VolatilityEstimator::num_q8()
  uint64_t variance_den_ns = 0;  // VolatilityEstimator::den_ns()
  uint64_t variance_samples = 0;
  uint64_t last_mid2 = 0;        // bid + ask at the last mid observation, Price(4)
  uint64_t last_mid_ns = 0;
  uint64_t last_message_ns = 0;  // last requote or pull
  uint32_t bid_price = 0;        // the quote last sent (shares 0: none on that side)
  uint32_t bid_shares = 0;
  uint32_t ask_price = 0;
  uint32_t ask_shares = 0;
  uint32_t flags = 0;            // kHasMid | kSentAny
  uint32_t reserved = 0;

  static constexpr uint32_t kHasMid = 1;
  static constexpr uint32_t kSentAny = 2;
};
static_assert(sizeof(SymbolStrategyState) == 80);

struct StrategyState {
  uint32_t magic = kStrategyStateMagic;
  uint16_t version = kStrategyStateVersion;
  uint16_t symbol_count = 0;
  uint32_t size = sizeof(StrategyState);  // of this struct as written: catches a layout change
  uint32_t reserved = 0;
  std::array<SymbolStrategyState, kMaxSymbols> symbols{};
};
static_assert(std::is_trivially_copyable_v<StrategyState> && std::is_standard_layout_v<StrategyState>);
static_assert(sizeof(StrategyState) == 16 + 80 * kMaxSymbols);

}  // namespace pmm::strategy
