// The Avellaneda–Stoikov (2008) quote for one symbol, in integers:
//   reservation r = s - q * gamma * sigma^2 * (T - t)
//   spread  delta = gamma * sigma^2 * (T - t) + (2 / gamma) * ln(1 + gamma / k)
//   bid = r - delta/2 floored to the tick, ask = r + delta/2 ceiled to the tick, then floors and
//   post-only limits. The only floating point (and the only logarithm) is in derive_model_params, at
//   configuration; compute_quote is integer arithmetic, so it gives the same quote on every machine.
//   docs/strategy.md has the units and rounding rules.
#pragma once

#include <cstdint>

#include "core/strategy/strategy_config.hpp"

namespace pmm::strategy {

inline constexpr uint32_t kDollar = 10000;                 // 1.0000 in Price(4)
inline constexpr int64_t kPrice8PerPrice4 = 10000;         // Price(8) = 1e-8 dollar: the model's unit
inline constexpr uint32_t kMaxQuotePrice = 1999999900;     // $199,999.99: ITCH's largest price
inline constexpr int kGammaFractionBits = 48;

// One side of a quote. shares == 0: no quote on this side (price is then 0 too).
struct SideQuote {
  uint32_t price = 0;  // Price(4)
  uint32_t shares = 0;
  bool present() const noexcept { return shares != 0; }
  friend bool operator==(const SideQuote&, const SideQuote&) = default;
};

struct Quote {
  SideQuote bid;
  SideQuote ask;
  bool any() const noexcept { return bid.present() || ask.present(); }
  friend bool operator==(const Quote&, const Quote&) = default;
};

// StrategyParams in the integer units compute_quote uses.
struct ModelParams {
  int64_t gamma_q48 = 0;              // gamma (per dollar) * 2^48
  int64_t spread_constant_p8 = 0;     // (2/gamma) ln(1 + gamma/k), Price(8), rounded to nearest
  uint64_t horizon_ns = 0;            // T - t
  uint64_t variance_floor_q8 = 0;     // sigma_floor^2 (T - t), Price(4)^2 * 2^8
  uint64_t variance_initial_q8 = 0;   // sigma_initial^2 (T - t), Price(4)^2 * 2^8
  uint64_t half_life_ns = 0;
  uint64_t seed_den_ns = 0;           // the initial estimate's weight: half_life / ln 2
  uint64_t seed_num_q8 = 0;           // sigma_initial^2 as (bid + ask)^2 per ns, times seed_den_ns, Q8
  uint32_t tick = 100;
  uint32_t sub_dollar_tick = 1;
  uint32_t min_spread_ticks = 1;
  uint32_t requote_threshold_ticks = 1;
  uint64_t min_requote_interval_ns = 0;
  uint32_t quote_size = 0;
  int64_t max_inventory = 0;
  bool post_only = true;
};

// Converts validated parameters (validate() returned ""). Deterministic: IEEE double products and
// quotients rounded once to integers, plus std::log1p for the spread constant (docs/strategy.md).
ModelParams derive_model_params(const StrategyParams& p);

// The tick that applies at a Price(4) price: sub_dollar_tick below $1, tick from $1 up.
constexpr int64_t tick_at(const ModelParams& m, int64_t price) noexcept {
  return price >= kDollar ? m.tick : m.sub_dollar_tick;
}
// Largest price on the grid <= price (price >= 0). The grid is sub_dollar_tick steps from 0 below $1
// and tick steps from $1 up.
constexpr int64_t floor_to_tick(const ModelParams& m, int64_t price) noexcept {
  if (price >= kDollar) return price - (price - kDollar) % m.tick;
  return price - price % m.sub_dollar_tick;
}
// Smallest price on the grid >= price (price >= 0).
constexpr int64_t ceil_to_tick(const ModelParams& m, int64_t price) noexcept {
  if (price >= kDollar) {
    const int64_t r = (price - kDollar) % m.tick;
    return r == 0 ? price : price + (m.tick - r);
  }
  const int64_t r = price % m.sub_dollar_tick;
  return r == 0 ? price : price + (m.sub_dollar_tick - r);  // at most $1: sub_dollar_tick divides it
}
constexpr bool on_tick(const ModelParams& m, int64_t price) noexcept { return floor_to_tick(m, price) == price; }

struct ModelQuote {
  int64_t reservation_p8 = 0;  // r, Price(8)
  int64_t spread_p8 = 0;       // delta from the formula, Price(8), before the min_spread_ticks floor
  Quote quote;
};

// The quote for a two-sided book (0 < best_bid < best_ask, Price(4)), our inventory (shares, + long)
// and the mid's variance over the horizon (Price(4)^2 * 2^8; the caller applies the floor).
ModelQuote compute_quote(const ModelParams& m, uint32_t best_bid, uint32_t best_ask, int64_t inventory,
                         uint64_t variance_q8) noexcept;

}  // namespace pmm::strategy
