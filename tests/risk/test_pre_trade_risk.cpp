// PreTradeRisk, hand-computed: every check at its limit (allowed: equal passes) and one beyond
// (rejected), for buys and sells; the order in which reasons are reported; the rate bucket's refill;
// the collar with and without a BBO; the kill switch; the per-reason counters.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "risk/pre_trade_risk.hpp"

namespace {

using namespace pmm::risk;

constexpr uint16_t kAapl = 0;
constexpr uint16_t kMsft = 1;

// AAPL and MSFT with: position 1000, order 500 shares / $10,000, 3 open orders per symbol, collar 1%
// (100 bps); 1500 shares gross, 5 open orders in all; the rate bucket large enough not to matter
// unless a test shrinks it.
RiskLimits test_limits() {
  SymbolLimits d;
  d.max_position = 1000;
  d.max_order_notional = 10'000;
  d.max_order_shares = 500;
  d.max_open_orders_per_symbol = 3;
  d.price_collar_bps = 100;
  return uniform_limits({"AAPL", "MSFT"}, d, 1500, 5, 1'000'000, 1'000'000);
}

// A market at 19.9900 / 20.0000.
constexpr Bbo kBbo{199'900, 200'000};

OrderRequest buy(uint16_t symbol, uint32_t shares, Price price = 200'000) { return {symbol, Side::kBuy, shares, price}; }
OrderRequest sell(uint16_t symbol, uint32_t shares, Price price = 199'900) { return {symbol, Side::kSell, shares, price}; }

class PreTradeRiskTest : public ::testing::Test {
 protected:
  void make(const RiskLimits& l) { risk_ = std::make_unique<PreTradeRisk>(l); }
  void SetUp() override { make(test_limits()); }

  RiskReason check(const OrderRequest& o, Bbo bbo = kBbo) { return risk_->check(o, bbo, now_); }
  // Checks and, when accepted, sends.
  RiskReason send(const OrderRequest& o, Bbo bbo = kBbo) {
    const RiskReason r = check(o, bbo);
    if (r == RiskReason::kAccepted) risk_->on_order_sent(o);
    return r;
  }
  void control(const RiskControl& c) {
    ASSERT_TRUE(risk_->submit(c));
    RiskControlEvent e[1];
    ASSERT_EQ(risk_->apply_pending_controls(now_, e), 1u);
    ASSERT_EQ(e[0].status, RiskControlStatus::kApplied);
  }

  std::unique_ptr<PreTradeRisk> risk_;
  uint64_t now_ = 1'000'000'000;
};

#define EXPECT_REASON(expr, reason) EXPECT_EQ(to_string(expr), to_string(RiskReason::reason))

TEST_F(PreTradeRiskTest, MaxOrderSharesAtLimitAndBeyond) {
  EXPECT_REASON(check(buy(kAapl, 500, 100'000)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 501, 100'000)), kMaxOrderShares);
  EXPECT_REASON(check(sell(kAapl, 500, 199'000)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 501, 199'000)), kMaxOrderShares);
}

TEST_F(PreTradeRiskTest, MaxOrderNotionalAtLimitAndBeyond) {
  // $10,000 = 500 x 20.0000 exactly; one price unit (0.0001) more is $10,000.05.
  const Bbo wide{190'000, 201'000};
  EXPECT_REASON(check(buy(kAapl, 500, 200'000), wide), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 500, 200'001), wide), kMaxOrderNotional);
  EXPECT_REASON(check(sell(kAapl, 500, 200'000), wide), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 500, 200'001), wide), kMaxOrderNotional);
  // 400 x 25.0000 is also exactly $10,000.
  const Bbo high{250'000, 250'000};
  EXPECT_REASON(check(buy(kAapl, 400, 250'000), high), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 401, 250'000), high), kMaxOrderNotional);
}

TEST_F(PreTradeRiskTest, NotionalHasNoOverflowAtTheTypesExtremes) {
  // 4294967295 shares at 429496.7295: the product needs all 64 bits.
  RiskLimits l = test_limits();
  for (SymbolLimits* s : {&l.defaults, &l.per_symbol[0], &l.per_symbol[1]}) {
    s->max_order_shares = UINT32_MAX;
    s->max_order_notional = kMaxNotionalLimit;  // 1e14 currency units
    s->max_position = kMaxPositionLimit;
    s->max_open_orders_per_symbol = 10;
  }
  l.max_total_position = kMaxPositionLimit * 64;
  make(l);
  const Bbo top{UINT32_MAX, UINT32_MAX};
  // UINT32_MAX^2 / 1e4 = 1.8446744e15 currency units > 1e14.
  EXPECT_REASON(check(buy(kAapl, UINT32_MAX, UINT32_MAX), top), kMaxOrderNotional);
  // 1e14 x 1e4 / 4294967295 = 232830643.7..: 232830643 x 4294967295 <= 1e18 < 232830644 x 4294967295.
  EXPECT_REASON(check(buy(kAapl, UINT32_MAX, 232'830'643), Bbo{232'830'643, 232'830'643}), kAccepted);
  EXPECT_REASON(check(buy(kAapl, UINT32_MAX, 232'830'644), Bbo{232'830'644, 232'830'644}), kMaxOrderNotional);
}

TEST_F(PreTradeRiskTest, CollarAtLimitAndBeyond) {
  // Buy: at most ask x 1.01 = 20.2000. Sell: at least bid x 0.99 = 19.7901.
  EXPECT_REASON(check(buy(kAapl, 10, 202'000)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 10, 202'001)), kPriceCollar);
  EXPECT_REASON(check(sell(kAapl, 10, 197'901)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 10, 197'900)), kPriceCollar);
  // Passive prices are not limited by the collar.
  EXPECT_REASON(check(buy(kAapl, 10, 1)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 10, 400'000)), kAccepted);
  // A limit that is not a whole price unit: ask 20.0001 x 1.01 = 20.200101 -> 20.2001 allowed.
  const Bbo odd{199'999, 200'001};
  EXPECT_REASON(check(buy(kAapl, 10, 202'001), odd), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 10, 202'002), odd), kPriceCollar);
  // bid 19.9999 x 0.99 = 19.799901 -> 19.7999 is below it, 19.8000 is not.
  EXPECT_REASON(check(sell(kAapl, 10, 198'000), odd), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 10, 197'999), odd), kPriceCollar);
}

TEST_F(PreTradeRiskTest, CollarOfZeroAllowsTheOppositeBestExactly) {
  control(global_limit_control(RiskLimitId::kPriceCollarBps, 0));
  EXPECT_REASON(check(buy(kAapl, 10, 200'000)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 10, 200'001)), kPriceCollar);
  EXPECT_REASON(check(sell(kAapl, 10, 199'900)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 10, 199'899)), kPriceCollar);
}

TEST_F(PreTradeRiskTest, NoReferencePriceWithoutTheOppositeSide) {
  EXPECT_REASON(check(buy(kAapl, 10), Bbo{199'900, 0}), kNoReferencePrice);
  EXPECT_REASON(check(sell(kAapl, 10), Bbo{199'900, 0}), kAccepted);  // a sell needs only the bid
  EXPECT_REASON(check(sell(kAapl, 10), Bbo{0, 200'000}), kNoReferencePrice);
  EXPECT_REASON(check(buy(kAapl, 10), Bbo{0, 200'000}), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 10), Bbo{}), kNoReferencePrice);
  EXPECT_REASON(check(sell(kAapl, 10), Bbo{}), kNoReferencePrice);
}

TEST_F(PreTradeRiskTest, InvalidOrder) {
  EXPECT_REASON(check(buy(kAapl, 0)), kInvalidOrder);
  EXPECT_REASON(check(sell(kAapl, 0)), kInvalidOrder);
  EXPECT_REASON(check(buy(kAapl, 10, 0)), kInvalidOrder);
  EXPECT_REASON(check(sell(kAapl, 10, 0)), kInvalidOrder);
}

TEST_F(PreTradeRiskTest, MaxPositionLongCountsOpenBuysAndPosition) {
  EXPECT_REASON(send(buy(kAapl, 300)), kAccepted);
  risk_->on_fill(kAapl, Side::kBuy, 300, 300, true);          // position +300
  EXPECT_REASON(send(buy(kAapl, 400)), kAccepted);        // open buys 400: long 700
  EXPECT_REASON(check(buy(kAapl, 301)), kMaxPosition);    // 1001
  EXPECT_REASON(check(buy(kAapl, 300)), kAccepted);       // 1000: equal is allowed
  // Open sells never offset long exposure (they may be cancelled).
  EXPECT_REASON(send(sell(kAapl, 500)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 301)), kMaxPosition);
  EXPECT_EQ(risk_->position(kAapl), 300);
  EXPECT_EQ(risk_->open_buy_shares(kAapl), 400);
  EXPECT_EQ(risk_->open_sell_shares(kAapl), 500);
}

TEST_F(PreTradeRiskTest, MaxPositionShortCountsOpenSellsAndPosition) {
  EXPECT_REASON(send(sell(kAapl, 300)), kAccepted);
  risk_->on_fill(kAapl, Side::kSell, 300, 300, true);           // position -300
  EXPECT_REASON(send(sell(kAapl, 400)), kAccepted);         // short 700
  EXPECT_REASON(check(sell(kAapl, 301)), kMaxPosition);
  EXPECT_REASON(check(sell(kAapl, 300)), kAccepted);
  EXPECT_REASON(send(buy(kAapl, 500)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 301)), kMaxPosition);
  EXPECT_EQ(risk_->position(kAapl), -300);
}

TEST_F(PreTradeRiskTest, ReducingOrdersPassAfterTheLimitWasLowered) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(send(buy(kAapl, 500)), RiskReason::kAccepted);
    risk_->on_fill(kAapl, Side::kBuy, 500, 500, true);
  }
  ASSERT_EQ(risk_->position(kAapl), 1000);
  control(global_limit_control(RiskLimitId::kMaxPosition, 400));
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxPosition);
  // Short exposure after selling 500 from +1000 is -500: far inside the limit.
  EXPECT_REASON(check(sell(kAapl, 500)), kAccepted);
}

TEST_F(PreTradeRiskTest, MaxTotalPositionIsGrossWorstCaseExposure) {
  RiskLimits l = test_limits();
  l.max_total_position = 1200;
  make(l);
  ASSERT_EQ(send(buy(kAapl, 500)), RiskReason::kAccepted);
  ASSERT_EQ(send(buy(kAapl, 500)), RiskReason::kAccepted);  // AAPL worst case 1000
  EXPECT_EQ(risk_->gross_exposure(), 1000);
  EXPECT_REASON(check(buy(kMsft, 201)), kMaxTotalPosition);   // 1201
  EXPECT_REASON(check(sell(kMsft, 201)), kMaxTotalPosition);
  EXPECT_REASON(send(buy(kMsft, 200)), kAccepted);            // 1200: equal is allowed
  EXPECT_EQ(risk_->gross_exposure(), 1200);
  EXPECT_REASON(check(buy(kMsft, 1)), kMaxTotalPosition);
  // MSFT sell 200: its worst case stays max(200, 200): gross does not grow, so it passes.
  EXPECT_REASON(send(sell(kMsft, 200)), kAccepted);
  EXPECT_EQ(risk_->gross_exposure(), 1200);
  EXPECT_REASON(check(sell(kMsft, 1)), kMaxTotalPosition);
  // Cancelling an AAPL buy frees 500.
  risk_->on_order_closed(kAapl, Side::kBuy, 500);
  EXPECT_EQ(risk_->gross_exposure(), 700);
  EXPECT_REASON(send(sell(kMsft, 500)), kAccepted);  // MSFT [-700, 200]: 500 + 700 = 1200
  EXPECT_EQ(risk_->gross_exposure(), 1200);
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxTotalPosition);
  EXPECT_REASON(check(sell(kAapl, 500)), kAccepted);  // AAPL [-500, 500]: no growth
}

TEST_F(PreTradeRiskTest, GrossExposureFollowsFillsAndPositions) {
  ASSERT_EQ(send(buy(kAapl, 400)), RiskReason::kAccepted);
  ASSERT_EQ(send(sell(kAapl, 100)), RiskReason::kAccepted);
  EXPECT_EQ(risk_->gross_exposure(), 400);   // interval [-100, 400]
  risk_->on_fill(kAapl, Side::kBuy, 150, 150, false);
  EXPECT_EQ(risk_->gross_exposure(), 400);   // position 150, open buys 250: [50, 400]
  risk_->on_fill(kAapl, Side::kSell, 100, 100, true);
  EXPECT_EQ(risk_->gross_exposure(), 300);   // position 50: [50, 300]
  risk_->on_order_closed(kAapl, Side::kBuy, 250);
  EXPECT_EQ(risk_->gross_exposure(), 50);
  EXPECT_EQ(risk_->open_orders(kAapl), 0u);
  EXPECT_EQ(risk_->total_open_orders(), 0u);
}

TEST_F(PreTradeRiskTest, OverfillsStaleFillsAndAdjustmentsMoveOnlyThePosition) {
  ASSERT_EQ(send(buy(kAapl, 100)), RiskReason::kAccepted);
  // The exchange reports 130 filled on a 100-share order: all 130 are position, 100 were open.
  risk_->on_fill(kAapl, Side::kBuy, 130, 100, true);
  EXPECT_EQ(risk_->position(kAapl), 130);
  EXPECT_EQ(risk_->open_buy_shares(kAapl), 0);
  EXPECT_EQ(risk_->open_orders(kAapl), 0u);
  // A late fill of an order already gone: position only.
  risk_->on_fill(kAapl, Side::kSell, 30, 0, false);
  EXPECT_EQ(risk_->position(kAapl), 100);
  EXPECT_EQ(risk_->gross_exposure(), 100);
  // A broken buy of 100 reverses it.
  risk_->on_position_adjust(kAapl, -100);
  EXPECT_EQ(risk_->position(kAapl), 0);
  EXPECT_EQ(risk_->gross_exposure(), 0);
  EXPECT_EQ(risk_->total_open_orders(), 0u);
}

TEST_F(PreTradeRiskTest, MaxOpenOrdersPerSymbolAndTotal) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(send(buy(kAapl, 10)), RiskReason::kAccepted);
  EXPECT_REASON(check(buy(kAapl, 10)), kMaxOpenOrdersPerSymbol);
  EXPECT_REASON(check(sell(kAapl, 10)), kMaxOpenOrdersPerSymbol);
  risk_->on_order_closed(kAapl, Side::kBuy, 10);
  EXPECT_REASON(send(sell(kAapl, 10)), kAccepted);  // 3 again
  ASSERT_EQ(send(buy(kMsft, 10)), RiskReason::kAccepted);
  ASSERT_EQ(send(sell(kMsft, 10)), RiskReason::kAccepted);  // 5 in all: equal is allowed
  EXPECT_EQ(risk_->total_open_orders(), 5u);
  EXPECT_REASON(check(buy(kMsft, 10)), kMaxOpenOrders);
  EXPECT_REASON(check(sell(kMsft, 10)), kMaxOpenOrders);
  risk_->on_fill(kMsft, Side::kSell, 10, 10, true);
  EXPECT_REASON(check(buy(kMsft, 10)), kAccepted);
}

TEST_F(PreTradeRiskTest, RateBucketRefillsOnTime) {
  control(global_limit_control(RiskLimitId::kOrderBurst, 2));
  control(global_limit_control(RiskLimitId::kMaxOrdersPerSecond, 10));  // a token per 100 ms
  EXPECT_REASON(check(buy(kAapl, 1)), kAccepted);
  EXPECT_REASON(check(sell(kAapl, 1)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxOrdersPerSecond);
  // Rejections for other reasons do not spend tokens; the rate check comes last.
  now_ += 100'000'000;
  EXPECT_REASON(check(buy(kAapl, 501)), kMaxOrderShares);
  EXPECT_REASON(check(buy(kAapl, 1)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxOrdersPerSecond);
  now_ += 99'999'999;  // one nanosecond short of a token
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxOrdersPerSecond);
  now_ += 1;
  EXPECT_REASON(check(buy(kAapl, 1)), kAccepted);
  // A long pause refills to the burst, no more.
  now_ += 3'600'000'000'000;
  EXPECT_REASON(check(buy(kAapl, 1)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 1)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxOrdersPerSecond);
  // Time that goes backwards adds nothing.
  now_ -= 1'000'000'000;
  EXPECT_REASON(check(buy(kAapl, 1)), kMaxOrdersPerSecond);
  EXPECT_EQ(risk_->counters().of(RiskReason::kMaxOrdersPerSecond), 5u);
}

TEST_F(PreTradeRiskTest, KillSwitchRejectsEverythingFirst) {
  control(kill_switch_control(true));
  EXPECT_TRUE(risk_->kill_switch());
  EXPECT_REASON(check(buy(kAapl, 10)), kKillSwitch);
  EXPECT_REASON(check(sell(kMsft, 10)), kKillSwitch);
  EXPECT_REASON(check(buy(kAapl, 0, 0), Bbo{}), kKillSwitch);
  control(kill_switch_control(false));
  EXPECT_REASON(check(buy(kAapl, 10)), kAccepted);
}

TEST_F(PreTradeRiskTest, KillSwitchEngagedFromConfiguration) {
  RiskLimits l = test_limits();
  l.kill_switch = true;
  make(l);
  EXPECT_REASON(check(buy(kAapl, 10)), kKillSwitch);
}

TEST_F(PreTradeRiskTest, ReportsTheFirstFailingCheck) {
  // Each step removes the first failure and the next one in the documented order shows.
  // Set up: AAPL 3 open buys of 300 (per-symbol full), MSFT 2 open buys of 300 (5 in all).
  for (int i = 0; i < 3; ++i) ASSERT_EQ(send(buy(kAapl, 300)), RiskReason::kAccepted);
  ASSERT_EQ(send(buy(kMsft, 300)), RiskReason::kAccepted);
  ASSERT_EQ(send(buy(kMsft, 200)), RiskReason::kAccepted);
  control(kill_switch_control(true));
  EXPECT_REASON(check(buy(kAapl, 0, 0), Bbo{}), kKillSwitch);
  control(kill_switch_control(false));
  EXPECT_REASON(check(buy(kAapl, 0, 0), Bbo{}), kInvalidOrder);
  EXPECT_REASON(check(buy(kAapl, 600, 1'000'000), Bbo{}), kMaxOrderShares);
  EXPECT_REASON(check(buy(kAapl, 400, 1'000'000), Bbo{}), kMaxOrderNotional);  // $40,000
  EXPECT_REASON(check(buy(kAapl, 400, 250'000), Bbo{}), kNoReferencePrice);
  EXPECT_REASON(check(buy(kAapl, 400, 250'000)), kPriceCollar);
  EXPECT_REASON(check(buy(kAapl, 400, 200'000)), kMaxOpenOrdersPerSymbol);
  EXPECT_REASON(check(buy(kMsft, 600, 200'000)), kMaxOrderShares);  // still before open orders
  EXPECT_REASON(check(buy(kMsft, 400, 200'000)), kMaxOpenOrders);
  risk_->on_order_closed(kAapl, Side::kBuy, 300);  // AAPL: 2 open, 600 shares; 4 in all
  EXPECT_REASON(check(buy(kAapl, 401, 200'000)), kMaxPosition);  // 1001
  // Gross is 600 + 500 = 1100; AAPL +400 -> 1500 passes, then lower the limit below it.
  EXPECT_REASON(check(buy(kAapl, 400, 200'000)), kAccepted);
  control(global_limit_control(RiskLimitId::kMaxTotalPosition, 1499));
  EXPECT_REASON(check(buy(kAapl, 400, 200'000)), kMaxTotalPosition);
  EXPECT_REASON(check(buy(kAapl, 399, 200'000)), kAccepted);
  control(global_limit_control(RiskLimitId::kOrderBurst, 1));
  control(global_limit_control(RiskLimitId::kMaxOrdersPerSecond, 1));
  EXPECT_REASON(check(buy(kAapl, 399, 200'000)), kAccepted);
  EXPECT_REASON(check(buy(kAapl, 399, 200'000)), kMaxOrdersPerSecond);
}

TEST_F(PreTradeRiskTest, CountsEveryDecisionByReason) {
  (void)check(buy(kAapl, 10));
  (void)check(buy(kAapl, 10));
  (void)check(buy(kAapl, 501));
  (void)check(buy(kAapl, 10), Bbo{});
  const RiskCounters& c = risk_->counters();
  EXPECT_EQ(c.of(RiskReason::kAccepted), 2u);
  EXPECT_EQ(c.of(RiskReason::kMaxOrderShares), 1u);
  EXPECT_EQ(c.of(RiskReason::kNoReferencePrice), 1u);
  EXPECT_EQ(c.rejected(), 2u);
  EXPECT_EQ(c.of(RiskReason::kPriceCollar), 0u);
}

TEST_F(PreTradeRiskTest, PerSymbolOverridesApplyToTheirSymbolOnly) {
  RiskLimits l = test_limits();
  l.per_symbol[kMsft].max_order_shares = 100;
  l.overridden[kMsft] = 1u << static_cast<unsigned>(RiskLimitId::kMaxOrderShares);
  make(l);
  EXPECT_REASON(check(buy(kMsft, 100)), kAccepted);
  EXPECT_REASON(check(buy(kMsft, 101)), kMaxOrderShares);
  EXPECT_REASON(check(buy(kAapl, 500)), kAccepted);
}

TEST(PreTradeRiskConstruction, InvalidLimitsAreAConfigurationError) {
  RiskLimits l = test_limits();
  l.per_symbol[1].price_collar_bps = 10'001;
  EXPECT_THROW(PreTradeRisk{l}, std::invalid_argument);
  l = test_limits();
  l.defaults.max_position = -1;
  EXPECT_THROW(PreTradeRisk{l}, std::invalid_argument);
  RiskLimits many = test_limits();
  for (size_t i = 0; i < kMaxRiskSymbols; ++i) many.symbols.push_back("X" + std::to_string(i));
  many.per_symbol.assign(many.symbols.size(), many.defaults);
  many.overridden.assign(many.symbols.size(), 0);
  try {
    PreTradeRisk r(many);
    FAIL() << "66 symbols accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at most 64"), std::string::npos) << e.what();
  }
}

}  // namespace
