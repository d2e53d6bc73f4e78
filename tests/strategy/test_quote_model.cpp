// compute_quote against the Avellaneda–Stoikov formulas computed here in long double: reservation
// price and spread as functions of inventory, gamma and volatility, the tick floors, post-only
// limits, and a property test against tests/strategy/reference_quote.hpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/strategy/quote_model.hpp"
#include "tests/strategy/reference_quote.hpp"

namespace pmm::strategy {
namespace {

using test::RefParams;
using test::reference_quote;

// V = sigma^2 (T - t) in dollars^2 -> the model's Price(4)^2 * 2^8.
uint64_t variance_q8(long double dollars2) { return static_cast<uint64_t>(std::llround(dollars2 * 1e8L * 256)); }

StrategyParams base_params() {
  StrategyParams p;
  p.gamma = 0.01;
  p.k = 100;
  p.tick = 100;
  p.sub_dollar_tick = 1;
  p.min_spread_ticks = 1;
  p.quote_size = 100;
  p.max_inventory = 1000;
  return p;
}

RefParams ref_of(const StrategyParams& p) {
  RefParams r;
  r.gamma = p.gamma;
  r.k = p.k;
  r.tick = p.tick;
  r.sub_dollar_tick = p.sub_dollar_tick;
  r.min_spread_ticks = p.min_spread_ticks;
  r.post_only = p.post_only;
  r.quote_size = p.quote_size;
  r.max_inventory = p.max_inventory;
  return r;
}

long double p8(long double dollars) { return dollars * 1e8L; }

// EXPECT_NEAR in long double (gtest's converts to double).
#define EXPECT_NEAR_LD(a, b, tol) \
  EXPECT_LE(std::fabs(static_cast<long double>(a) - static_cast<long double>(b)), static_cast<long double>(tol)) \
      << #a " = " << static_cast<long double>(a) << ", " #b " = " << static_cast<long double>(b)

TEST(QuoteModel, ReservationMovesAgainstInventoryByExactlyQGammaV) {
  // gamma = 2^-7 and V = 0.01 dollars^2 are exact in binary, so the integer model has no rounding:
  // q gamma V = 100 * 0.0078125 * 0.01 = 0.0078125 dollars = 781250 Price(8).
  StrategyParams p = base_params();
  p.gamma = 0.0078125;
  const ModelParams m = derive_model_params(p);
  const uint64_t v = variance_q8(0.01L);
  const uint32_t bid = 1000000, ask = 1000100;  // $100.00 / $100.01
  const int64_t mid_p8 = std::llround(p8((bid + ask) / 2.0L / 10000));

  const ModelQuote flat = compute_quote(m, bid, ask, 0, v);
  const ModelQuote long100 = compute_quote(m, bid, ask, 100, v);
  const ModelQuote short100 = compute_quote(m, bid, ask, -100, v);
  EXPECT_EQ(flat.reservation_p8, mid_p8);
  EXPECT_EQ(long100.reservation_p8, mid_p8 - 781250);
  EXPECT_EQ(short100.reservation_p8, mid_p8 + 781250);
  // Independently in long double: r = s - q gamma sigma^2 (T - t).
  const long double s = (bid + ask) / 2.0L / 10000;
  EXPECT_EQ(long100.reservation_p8, std::llround(p8(s - 100 * 0.0078125L * 0.01L)));
  // The spread does not depend on inventory.
  EXPECT_EQ(long100.spread_p8, flat.spread_p8);
  EXPECT_EQ(short100.spread_p8, flat.spread_p8);
}

TEST(QuoteModel, ReservationIsLinearInInventoryForArbitraryParameters) {
  StrategyParams p = base_params();
  p.gamma = 0.0137;
  const ModelParams m = derive_model_params(p);
  const long double V = 0.0123L;
  const uint64_t v = variance_q8(V);
  const long double Vq = static_cast<long double>(v) / 256 / 1e8L;  // what the model was given
  for (int64_t q : {-5000, -1000, -137, -1, 0, 1, 99, 1000, 4321}) {
    const ModelQuote mq = compute_quote(m, 2500000, 2500300, q, v);
    const long double r = (2500000 + 2500300) / 2.0L / 10000 - q * 0.0137L * Vq;
    EXPECT_NEAR_LD(static_cast<long double>(mq.reservation_p8), p8(r), 2.0L) << "q=" << q;
    const int64_t flat = compute_quote(m, 2500000, 2500300, 0, v).reservation_p8;
    EXPECT_EQ(q > 0, mq.reservation_p8 < flat) << "q=" << q;
    EXPECT_EQ(q < 0, mq.reservation_p8 > flat) << "q=" << q;
  }
}

TEST(QuoteModel, SpreadIsGammaVPlusTheArrivalTerm) {
  for (double gamma : {0.001, 0.01, 0.1, 1.0, 10.0}) {
    for (double k : {1.5, 10.0, 100.0, 1000.0}) {
      for (long double V : {0.0L, 1e-6L, 0.0025L, 0.04L, 1.0L}) {
        StrategyParams p = base_params();
        p.gamma = gamma;
        p.k = k;
        const ModelParams m = derive_model_params(p);
        const ModelQuote mq = compute_quote(m, 1000000, 1000100, 0, variance_q8(V));
        const long double g = gamma, kk = k;
        const long double delta = g * V + (2 / g) * std::log1p(g / kk);
        EXPECT_NEAR_LD(static_cast<long double>(mq.spread_p8), p8(delta), 2.0L + 1e-9L * p8(delta))
            << "gamma=" << gamma << " k=" << k << " V=" << static_cast<double>(V);
      }
    }
  }
}

TEST(QuoteModel, SpreadWidensWithVolatilityByGammaTimesTheVarianceChange) {
  StrategyParams p = base_params();
  p.gamma = 0.5;
  const ModelParams m = derive_model_params(p);
  const long double horizon_s = 60;
  int64_t previous = -1;
  for (long double sigma : {0.001L, 0.005L, 0.01L, 0.02L, 0.05L}) {
    const long double V = sigma * sigma * horizon_s;
    const ModelQuote mq = compute_quote(m, 1000000, 1000100, 0, variance_q8(V));
    EXPECT_GT(mq.spread_p8, previous);
    previous = mq.spread_p8;
    // Less the sigma = 0 spread: exactly gamma V.
    const int64_t base = compute_quote(m, 1000000, 1000100, 0, 0).spread_p8;
    EXPECT_NEAR_LD(static_cast<long double>(mq.spread_p8 - base), p8(0.5L * V), 2.0L);
  }
  // And the inventory skew grows with volatility the same way.
  const ModelQuote lo = compute_quote(m, 1000000, 1000100, 10, variance_q8(0.0001L));
  const ModelQuote hi = compute_quote(m, 1000000, 1000100, 10, variance_q8(0.0004L));
  const int64_t mid_p8 = 10000500000;  // $100.005
  EXPECT_NEAR_LD(static_cast<long double>(mid_p8 - lo.reservation_p8), p8(10 * 0.5L * 0.0001L), 1.0L);
  EXPECT_NEAR_LD(static_cast<long double>(mid_p8 - hi.reservation_p8), p8(10 * 0.5L * 0.0004L), 1.0L);
}

TEST(QuoteModel, BidFloorsAndAskCeilsToTheTick) {
  // gamma = 0.01, k = 100: delta = 200 ln(1.0001) = 0.0199990 dollars; V = 0.
  const ModelParams m = derive_model_params(base_params());
  const ModelQuote mq = compute_quote(m, 1000000, 1000100, 0, 0);
  // r = 100.005; r - delta/2 = 99.9950005 -> 99.99; r + delta/2 = 100.0149995 -> 100.02.
  EXPECT_EQ(mq.quote.bid, (SideQuote{999900, 100}));
  EXPECT_EQ(mq.quote.ask, (SideQuote{1000200, 100}));
}

TEST(QuoteModel, MinSpreadTicksWidensANarrowSpread) {
  StrategyParams p = base_params();
  p.k = 1e6;  // delta ~ 2e-6 dollars: far under a tick
  p.min_spread_ticks = 5;
  p.post_only = false;
  const ModelParams m = derive_model_params(p);
  // Mid 50.00: r +- 2.5 ticks -> 49.975 / 50.025 -> 49.97 / 50.03.
  const ModelQuote mq = compute_quote(m, 499900, 500100, 0, 0);
  EXPECT_EQ(mq.quote.bid.price, 499700u);
  EXPECT_EQ(mq.quote.ask.price, 500300u);
  for (uint32_t ticks = 1; ticks <= 8; ++ticks) {
    p.min_spread_ticks = ticks;
    const ModelQuote q = compute_quote(derive_model_params(p), 499950, 500050, 3, 12345);
    EXPECT_GE(q.quote.ask.price - q.quote.bid.price, ticks * 100) << ticks;
    EXPECT_LE(q.quote.ask.price - q.quote.bid.price, (ticks + 1) * 100) << ticks;
  }
}

TEST(QuoteModel, SubDollarPricesUseTheSubDollarTick) {
  StrategyParams p = base_params();
  p.k = 1e4;  // delta ~ 0.0002 dollars
  const ModelParams m = derive_model_params(p);
  const ModelQuote mq = compute_quote(m, 5000, 5010, 0, 0);  // $0.5000 / $0.5010
  // r = 0.5005, delta = 2e-4 ln(2)/... = 200 ln(1 + 1e-6) ~ 0.0002: 0.5004 / 0.5006.
  EXPECT_EQ(mq.quote.bid.price, 5004u);
  EXPECT_EQ(mq.quote.ask.price, 5006u);
  // Straddling $1: the bid below on the sub-dollar grid, the ask on the cent grid above.
  const ModelQuote straddle = compute_quote(m, 9998, 10001, 0, 0);
  EXPECT_EQ(straddle.quote.bid.price, 9998u);
  EXPECT_EQ(straddle.quote.ask.price, 10100u);
}

TEST(QuoteModel, PostOnlyNeverCrossesTheOppositeBest) {
  StrategyParams p = base_params();
  p.gamma = 1;
  const ModelParams m = derive_model_params(p);
  // Long 900 with V = 0.01: r = s - 9 dollars: the ask would sit far under the best bid.
  const ModelQuote longq = compute_quote(m, 1000000, 1000100, 900, variance_q8(0.01L));
  EXPECT_EQ(longq.quote.ask.price, 1000100u);  // best bid + 1 tick
  EXPECT_LT(longq.quote.bid.price, longq.quote.ask.price);
  EXPECT_EQ(longq.quote.bid.shares, 100u);
  const ModelQuote shortq = compute_quote(m, 1000000, 1000100, -900, variance_q8(0.01L));
  EXPECT_EQ(shortq.quote.bid.price, 1000000u);  // best ask - 1 tick
  // An off-grid best ask ($10.005 on a cent grid): the bid stays strictly below it, on the grid.
  const ModelQuote odd = compute_quote(m, 99000, 100050, -900, variance_q8(0.01L));
  EXPECT_EQ(odd.quote.bid.price, 100000u);
  // Without post-only the ask may cross.
  p.post_only = false;
  const ModelQuote crossing = compute_quote(derive_model_params(p), 1000000, 1000100, 900, variance_q8(0.01L));
  EXPECT_LT(crossing.quote.ask.price, 1000000u);
}

TEST(QuoteModel, SizesShrinkNearTheInventoryLimit) {
  const ModelParams m = derive_model_params(base_params());  // quote 100, max 1000
  const auto at = [&](int64_t q) { return compute_quote(m, 1000000, 1000100, q, 0).quote; };
  EXPECT_EQ(at(0).bid.shares, 100u);
  EXPECT_EQ(at(0).ask.shares, 100u);
  EXPECT_EQ(at(930).bid.shares, 70u);
  EXPECT_EQ(at(930).ask.shares, 100u);
  EXPECT_FALSE(at(1000).bid.present());
  EXPECT_EQ(at(1000).bid.price, 0u);
  EXPECT_FALSE(at(5000).bid.present());
  EXPECT_EQ(at(-999).ask.shares, 1u);
  EXPECT_FALSE(at(-1000).ask.present());
  EXPECT_EQ(at(-1000).bid.shares, 100u);
}

TEST(QuoteModel, ExtremeInputsSaturateWithoutCrossing) {
  StrategyParams p = base_params();
  p.gamma = 1000;
  p.max_inventory = 1000000000;
  p.post_only = false;
  const ModelParams m = derive_model_params(p);
  const ModelQuote hi = compute_quote(m, 1, 1999999900, INT64_MAX, UINT64_MAX);
  const ModelQuote lo = compute_quote(m, 1, 1999999900, INT64_MIN, UINT64_MAX);
  EXPECT_FALSE(hi.quote.bid.present());  // reservation far below zero
  EXPECT_FALSE(lo.quote.ask.present());  // and far above the largest price
  EXPECT_LT(hi.reservation_p8, 0);
  EXPECT_GT(lo.reservation_p8, int64_t{1999999900} * 10000);
}

// Every random input: bid < ask, both on the grid, post-only respected, and the quote equals the
// long double reference unless the reference itself sits on a rounding edge (a nudge of a few
// Price(8) changes it), where the integer model may legitimately round the other way.
TEST(QuoteModel, PropertyMatchesTheReferenceOnRandomInputs) {
  std::mt19937_64 rng(20260402);
  const auto uniform = [&](long double lo, long double hi) {
    return lo + (hi - lo) * static_cast<long double>(rng() >> 11) / static_cast<long double>(uint64_t{1} << 53);
  };
  const auto log_uniform = [&](long double lo, long double hi) { return std::exp(uniform(std::log(lo), std::log(hi))); };
  const uint32_t ticks[] = {1, 5, 25, 100, 100, 100, 500};
  const uint32_t sub_ticks[] = {1, 1, 5, 100};
  int compared = 0, edges = 0;
  const int kCases = 20000;
  for (int i = 0; i < kCases; ++i) {
    StrategyParams p = base_params();
    p.gamma = static_cast<double>(log_uniform(1e-4L, 2.0L));
    p.k = static_cast<double>(log_uniform(1.0L, 1e4L));
    p.tick = ticks[rng() % std::size(ticks)];
    p.sub_dollar_tick = sub_ticks[rng() % std::size(sub_ticks)];
    p.min_spread_ticks = static_cast<uint32_t>(1 + rng() % 4);
    p.post_only = rng() % 4 != 0;
    p.quote_size = static_cast<uint32_t>(1 + rng() % 500);
    p.max_inventory = static_cast<uint32_t>(1 + rng() % 5000);
    ASSERT_EQ(validate(p, "strategy"), "");
    const ModelParams m = derive_model_params(p);
    const auto best_bid = static_cast<uint32_t>(std::llround(log_uniform(1, 5e6L)));
    const auto best_ask = best_bid + static_cast<uint32_t>(1 + rng() % 300);
    const auto q = static_cast<int64_t>(rng() % 12001) - 6000;
    const uint64_t v = static_cast<uint64_t>(std::llround(log_uniform(1, 1e13L)));
    const ModelQuote got = compute_quote(m, best_bid, best_ask, q, v);
    const Quote& g = got.quote;

    if (g.bid.present()) {
      EXPECT_TRUE(on_tick(m, g.bid.price)) << i;
    }
    if (g.ask.present()) {
      EXPECT_TRUE(on_tick(m, g.ask.price)) << i;
    }
    if (g.bid.present() && g.ask.present()) {
      EXPECT_LT(g.bid.price, g.ask.price) << i;
    }
    if (p.post_only) {
      if (g.bid.present()) {
        EXPECT_LT(g.bid.price, best_ask) << i;
      }
      if (g.ask.present()) {
        EXPECT_GT(g.ask.price, best_bid) << i;
      }
    }

    const long double V = static_cast<long double>(v) / 256 / 1e8L;
    const RefParams rp = ref_of(p);
    const test::RefQuote ref = reference_quote(rp, best_bid, best_ask, static_cast<long double>(q), V);
    EXPECT_NEAR_LD(static_cast<long double>(got.reservation_p8), p8(ref.reservation),
                3.0L + 1e-9L * std::fabs(p8(ref.reservation - (best_bid + best_ask) / 2.0L / 10000)))
        << i;
    // Rounding edge: nudging r or delta by +-5e-8 dollars (5 Price(8)) changes the reference.
    bool edge = false;
    for (long double dr : {-5e-8L, 5e-8L})
      for (long double ds : {-5e-8L, 5e-8L}) {
        const test::RefQuote n = reference_quote(rp, best_bid, best_ask, static_cast<long double>(q), V,
                                                 dr * (1 + 1e-9L * std::fabs(static_cast<long double>(q) * p.gamma * V)), ds);
        edge = edge || n.bid != ref.bid || n.ask != ref.ask;
      }
    if (edge) {
      ++edges;
      continue;
    }
    ++compared;
    EXPECT_EQ(static_cast<long double>(g.bid.price), ref.bid) << i;
    EXPECT_EQ(static_cast<long double>(g.ask.price), ref.ask) << i;
    EXPECT_EQ(static_cast<long double>(g.bid.shares), ref.bid_shares) << i;
    EXPECT_EQ(static_cast<long double>(g.ask.shares), ref.ask_shares) << i;
  }
  // Edges are rare: nearly every case was compared exactly.
  EXPECT_GT(compared, kCases * 99 / 100) << "edges: " << edges;
}

TEST(QuoteModel, TickHelpers) {
  StrategyParams p = base_params();
  p.tick = 300;
  p.sub_dollar_tick = 25;
  const ModelParams m = derive_model_params(p);
  EXPECT_EQ(floor_to_tick(m, 10299), 10000);
  EXPECT_EQ(floor_to_tick(m, 10300), 10300);
  EXPECT_EQ(ceil_to_tick(m, 10001), 10300);
  EXPECT_EQ(floor_to_tick(m, 9999), 9975);
  EXPECT_EQ(ceil_to_tick(m, 9976), 10000);
  EXPECT_EQ(ceil_to_tick(m, 0), 0);
  EXPECT_TRUE(on_tick(m, 10600));
  EXPECT_FALSE(on_tick(m, 10500));
  EXPECT_TRUE(on_tick(m, 9950));
}

}  // namespace
}  // namespace pmm::strategy
