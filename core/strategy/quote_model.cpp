#include "core/strategy/quote_model.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

#include "core/strategy/volatility_estimator.hpp"

namespace pmm::strategy {

namespace {

// Saturation points: far beyond any sane quote, they only keep the integer products in range.
constexpr int64_t kMaxShiftP8 = int64_t{1} << 56;   // ~$720 million
constexpr uint64_t kMaxInventory = uint64_t{1} << 40;

constexpr int64_t floor_div(int64_t a, int64_t b) noexcept {  // b > 0
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
constexpr int64_t ceil_div(int64_t a, int64_t b) noexcept {  // b > 0
  const int64_t q = a / b;
  return (a % b != 0 && a > 0) ? q + 1 : q;
}

uint64_t to_u64(double v) { return v <= 0 ? 0 : static_cast<uint64_t>(std::llround(v)); }

// sigma^2 (T - t) in Price(4)^2 * 2^8: dollars^2 -> Price(4)^2 is 1e8, seconds are ms / 1000.
uint64_t horizon_variance_q8(double sigma, uint32_t horizon_ms) {
  const double v = (sigma * sigma) * (static_cast<double>(horizon_ms) * (1e5 * 256.0));
  return std::min(to_u64(v), VolatilityEstimator::kMaxVarianceQ8);
}

}  // namespace

ModelParams derive_model_params(const StrategyParams& p) {
  ModelParams m;
  // Products and quotients only (no sums), each rounded once: no contraction into FMAs can change
  // them. log1p is the one libm call; its result is rounded to a whole Price(8).
  m.gamma_q48 = std::llround(p.gamma * 281474976710656.0);  // 2^48: exact scaling
  m.spread_constant_p8 = std::llround((2.0 / p.gamma) * std::log1p(p.gamma / p.k) * 1e8);
  m.horizon_ns = uint64_t{p.horizon_ms} * 1000000;
  m.variance_floor_q8 = horizon_variance_q8(p.sigma_floor, p.horizon_ms);
  m.variance_initial_q8 = std::max(horizon_variance_q8(p.sigma_initial, p.horizon_ms), m.variance_floor_q8);
  m.half_life_ns = uint64_t{p.volatility_half_life_ms} * 1000000;
  // A prior worth half_life / ln 2 of history: the steady-state weight of an EWMA with that half-life,
  // so sigma_initial fades exactly like an old observation would.
  m.seed_den_ns = to_u64(static_cast<double>(m.half_life_ns) / std::numbers::ln2);
  // sigma^2 in (bid + ask)^2 per ns: (2 * 10000)^2 per dollar^2, 1e-9 s per ns: 0.4 sigma^2; Q8.
  m.seed_num_q8 = std::min(to_u64((p.sigma_initial * p.sigma_initial) * (static_cast<double>(m.seed_den_ns) * 102.4)),
                           VolatilityEstimator::kMaxSum);
  m.tick = p.tick;
  m.sub_dollar_tick = p.sub_dollar_tick;
  m.min_spread_ticks = p.min_spread_ticks;
  m.requote_threshold_ticks = p.requote_threshold_ticks;
  m.min_requote_interval_ns = uint64_t{p.min_requote_interval_us} * 1000;
  m.quote_size = p.quote_size;
  m.max_inventory = p.max_inventory;
  m.post_only = p.post_only;
  return m;
}

ModelQuote compute_quote(const ModelParams& m, uint32_t best_bid, uint32_t best_ask, int64_t inventory,
                         uint64_t variance_q8) noexcept {
  assert(best_bid > 0 && best_bid < best_ask);
  ModelQuote out;
  const int64_t mid_p8 = (int64_t{best_bid} + best_ask) * (kPrice8PerPrice4 / 2);

  // gamma * V in Price(8), kept with 24 fraction bits: gamma_q48 * V_q8 carries 56.
  const uint64_t v = std::min(variance_q8, VolatilityEstimator::kMaxVarianceQ8);
  const Uint128 gamma_v_q24 = (Uint128(static_cast<uint64_t>(m.gamma_q48)) * v) >> 32;

  // q * gamma * V, the same magnitude for +q and -q (truncated toward zero).
  const uint64_t q_abs = std::min<uint64_t>(inventory < 0 ? 0 - static_cast<uint64_t>(inventory)
                                                          : static_cast<uint64_t>(inventory), kMaxInventory);
  const Uint128 shift_abs = (Uint128{q_abs} * gamma_v_q24) >> 24;
  const int64_t shift = static_cast<int64_t>(std::min<Uint128>(shift_abs, kMaxShiftP8));
  out.reservation_p8 = inventory < 0 ? mid_p8 + shift : mid_p8 - shift;

  const int64_t risk_p8 = static_cast<int64_t>(std::min<Uint128>(gamma_v_q24 >> 24, kMaxShiftP8));
  out.spread_p8 = risk_p8 + m.spread_constant_p8;

  const int64_t r = out.reservation_p8;
  const int64_t min_spread_p8 = int64_t{m.min_spread_ticks} * tick_at(m, floor_div(r, kPrice8PerPrice4)) * kPrice8PerPrice4;
  const int64_t spread = std::max(out.spread_p8, min_spread_p8);

  // In half Price(8) units so r +- spread/2 stays exact.
  const int64_t bid2 = 2 * r - spread;
  const int64_t ask2 = 2 * r + spread;
  const int64_t bid_p4 = floor_div(bid2, 2 * kPrice8PerPrice4);
  const int64_t ask_p4 = ceil_div(ask2, 2 * kPrice8PerPrice4);
  int64_t bid = bid_p4 < 0 ? 0 : floor_to_tick(m, bid_p4);
  int64_t ask = ask_p4 < 0 ? 0 : ceil_to_tick(m, ask_p4);
  if (m.post_only) {
    bid = std::min(bid, floor_to_tick(m, int64_t{best_ask} - 1));
    ask = std::max(ask, ceil_to_tick(m, int64_t{best_bid} + 1));
  }

  // Sizes: never let one more fill on a side take |inventory| past max_inventory.
  const int64_t q = std::clamp<int64_t>(inventory, -m.max_inventory - int64_t{m.quote_size},
                                        m.max_inventory + int64_t{m.quote_size});
  const int64_t bid_shares = std::clamp<int64_t>(m.max_inventory - q, 0, m.quote_size);
  const int64_t ask_shares = std::clamp<int64_t>(m.max_inventory + q, 0, m.quote_size);
  const auto valid = [](int64_t price) { return price >= 1 && price <= kMaxQuotePrice; };
  if (bid_shares > 0 && valid(bid))
    out.quote.bid = {static_cast<uint32_t>(bid), static_cast<uint32_t>(bid_shares)};
  if (ask_shares > 0 && valid(ask))
    out.quote.ask = {static_cast<uint32_t>(ask), static_cast<uint32_t>(ask_shares)};

  if (out.quote.bid.present() && out.quote.ask.present()) {
    assert(out.quote.bid.price < out.quote.ask.price);
    assert(int64_t{out.quote.ask.price} - out.quote.bid.price >= min_spread_p8 / kPrice8PerPrice4);
  }
  if (m.post_only) {
    assert(!out.quote.bid.present() || out.quote.bid.price < best_ask);
    assert(!out.quote.ask.present() || out.quote.ask.price > best_bid);
  }
  return out;
}

}  // namespace pmm::strategy
