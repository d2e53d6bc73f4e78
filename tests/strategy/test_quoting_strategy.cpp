// QuotingStrategy: the requote threshold and throttle, pauses (stale book, trading states, one-sided
// and crossed books) and resumption, counters, volatility reaching the quote, and the restart state.
// Prices are hand-computed from the formulas (docs/strategy.md) or from reference_quote.hpp.
#include <gtest/gtest.h>

#include <cmath>

#include "core/strategy/quoting_strategy.hpp"
#include "tests/strategy/reference_quote.hpp"

namespace pmm::strategy {
namespace {

constexpr uint64_t kMs = 1000000;

StrategyConfig config_for(std::vector<std::string> symbols, const std::string& json = "{}") {
  StrategyConfig c;
  const std::string e = parse_strategy_json(json, symbols, c);
  EXPECT_EQ(e, "");
  return c;
}

// gamma 0.01, k 100: delta = 200 ln(1.0001) = 0.019999 dollars, so the quote is the mid -+ ~1 cent,
// floored/ceiled: on $100.00 x $100.01 it is 99.99 x 100.02. sigma 0.01, horizon 60 s: the skew is
// q * 0.01 * 0.006 dollars (0.6 cents per 100 shares).
const char* const kPlain = R"({"min_requote_interval_us": 0, "requote_threshold_ticks": 1})";

TopOfBook top(uint32_t bid, uint32_t ask) { return {bid, 300, ask, 400}; }

struct Fixture : ::testing::Test {
  QuotingStrategy s{config_for({"AAPL", "MSFT"}, kPlain)};
  void SetUp() override {
    s.set_trading_state(0, 'T');
    s.set_trading_state(1, 'T');
  }
  Decision top_and_eval(uint32_t bid, uint32_t ask, uint64_t t) {
    s.on_top(0, top(bid, ask), t);
    return s.evaluate(0, t);
  }
};

TEST_F(Fixture, FirstTopQuotesAtTheFormulaPrices) {
  const Decision d = top_and_eval(1000000, 1000100, 1 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_EQ(d.reason, Reason::kQuoting);
  EXPECT_EQ(d.quote.bid, (SideQuote{999900, 100}));
  EXPECT_EQ(d.quote.ask, (SideQuote{1000200, 100}));
  EXPECT_EQ(s.live_quote(0), d.quote);
  EXPECT_EQ(s.counters(0).requotes.get(), 1u);
}

TEST_F(Fixture, InventorySkewsTheQuoteByTheReservationShift) {
  // Long 500: r = 100.005 - 500 * 0.01 * 0.006 = 100.005 - 0.03 = 99.975 -> 99.96 x 99.99.
  s.set_inventory(0, 500);
  const Decision d = top_and_eval(1000000, 1000100, 1 * kMs);
  EXPECT_EQ(d.quote.bid.price, 999600u);
  EXPECT_EQ(d.quote.ask.price, 1000100u);  // 99.985 ceils to 99.99, then post-only: above 100.00
  // Short 500: r = 100.035 -> 100.02 x 100.05.
  s.set_inventory(1, -500);
  s.on_top(1, top(1000000, 1000100), 1 * kMs);
  const Decision e = s.evaluate(1, 1 * kMs);
  EXPECT_EQ(e.quote.bid.price, 1000000u);  // 100.025 floors to 100.02, then post-only: below 100.01
  EXPECT_EQ(e.quote.ask.price, 1000500u);
}

TEST_F(Fixture, RequotesOnlyWhenATargetMovesByMoreThanTheThreshold) {
  ASSERT_EQ(top_and_eval(1000000, 1000100, 1 * kMs).action, Action::kRequote);
  // The book moves up 1 cent: targets move 1 tick: not more than the threshold (1).
  Decision d = top_and_eval(1000100, 1000200, 2 * kMs);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kBelowThreshold);
  EXPECT_EQ(d.quote.bid.price, 1000000u);  // the target, not sent
  EXPECT_EQ(s.live_quote(0).bid.price, 999900u);
  // Another cent: 2 ticks from the live quote: requote.
  d = top_and_eval(1000200, 1000300, 3 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_EQ(d.quote.bid.price, 1000100u);
  EXPECT_EQ(d.quote.ask.price, 1000400u);
  EXPECT_EQ(s.counters(0).by_reason[static_cast<size_t>(Reason::kBelowThreshold)].get(), 1u);
  EXPECT_EQ(s.counters(0).requotes.get(), 2u);
  // A size change (inventory near the limit) requotes even at the same prices.
  s.set_inventory(0, 950);
  d = s.evaluate(0, 4 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_EQ(d.quote.bid.shares, 50u);
}

TEST(QuotingStrategy, ZeroThresholdRequotesOnAnyTickChange) {
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 0, "requote_threshold_ticks": 0})"));
  s.set_trading_state(0, 'T');
  s.on_top(0, top(1000000, 1000100), kMs);
  ASSERT_EQ(s.evaluate(0, kMs).action, Action::kRequote);
  s.on_top(0, top(1000000, 1000100), 2 * kMs);  // same book: same target
  EXPECT_EQ(s.evaluate(0, 2 * kMs).reason, Reason::kBelowThreshold);
  s.on_top(0, top(1000100, 1000200), 3 * kMs);
  EXPECT_EQ(s.evaluate(0, 3 * kMs).action, Action::kRequote);
}

TEST(QuotingStrategy, ThrottleHoldsARequoteUntilTheIntervalHasPassed) {
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 1000, "requote_threshold_ticks": 0})"));
  s.set_trading_state(0, 'T');
  s.on_top(0, top(1000000, 1000100), 10 * kMs);
  ASSERT_EQ(s.evaluate(0, 10 * kMs).action, Action::kRequote);
  s.on_top(0, top(1000300, 1000400), 10 * kMs + 500000);
  Decision d = s.evaluate(0, 10 * kMs + 500000);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kThrottled);
  EXPECT_EQ(s.evaluate(0, 10 * kMs + 999999).reason, Reason::kThrottled);
  d = s.evaluate(0, 11 * kMs);  // exactly the interval: allowed
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_EQ(d.quote.bid.price, 1000200u);
  EXPECT_EQ(s.counters(0).by_reason[static_cast<size_t>(Reason::kThrottled)].get(), 2u);
  // A clock that went back does not block quoting.
  s.on_top(0, top(1000600, 1000700), 5 * kMs);
  EXPECT_EQ(s.evaluate(0, 5 * kMs).action, Action::kRequote);
  EXPECT_EQ(s.counters(0).time_backwards.get(), 1u);
}

TEST_F(Fixture, StaleBookPullsOnceAndResumesWhenWhole) {
  ASSERT_EQ(top_and_eval(1000000, 1000100, 1 * kMs).action, Action::kRequote);
  s.set_feed_stale(true);
  Decision d = s.evaluate(0, 2 * kMs);
  EXPECT_EQ(d.action, Action::kPull);
  EXPECT_EQ(d.reason, Reason::kStale);
  EXPECT_FALSE(d.quote.any());
  EXPECT_FALSE(s.live_quote(0).any());
  d = top_and_eval(1000000, 1000100, 3 * kMs);  // tops while stale: still paused, nothing to pull
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kStale);
  EXPECT_EQ(s.evaluate(1, 3 * kMs).reason, Reason::kStale);  // the whole feed: every symbol
  s.set_feed_stale(false);
  d = s.evaluate(0, 4 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_EQ(d.quote.bid.price, 999900u);
  EXPECT_EQ(s.counters(0).pulls.get(), 1u);
  EXPECT_EQ(s.counters(0).by_reason[static_cast<size_t>(Reason::kStale)].get(), 2u);
  // One symbol's book alone.
  s.set_book_stale(0, true);
  EXPECT_EQ(s.evaluate(0, 5 * kMs).action, Action::kPull);
  s.on_top(1, top(500000, 500100), 5 * kMs);
  EXPECT_EQ(s.evaluate(1, 5 * kMs).action, Action::kRequote);
}

TEST_F(Fixture, TopsDuringAGapDoNotFeedVolatility) {
  s.on_top(0, top(1000000, 1000100), 1 * kMs);
  s.set_feed_stale(true);
  for (uint32_t i = 0; i < 20; ++i) s.on_top(0, top(900000 + i * 10000, 900100 + i * 10000), (2 + i) * kMs);
  EXPECT_EQ(s.volatility(0).samples(), 0u);
  EXPECT_EQ(s.variance_q8(0), s.params(0).variance_initial_q8);
  s.set_feed_stale(false);
  // The first whole top is compared with the last good one ($100.005), over the whole 29 ms.
  s.on_top(0, top(1000100, 1000200), 30 * kMs);
  EXPECT_EQ(s.volatility(0).samples(), 1u);
  EXPECT_EQ(s.volatility(0).last_mid2(), 2000300u);
  // num = prior * 2^(-29 ms / 60 s) + (200)^2, in Q8: the change is 1 cent of mid, not the gap's jumps.
  const long double want = static_cast<long double>(s.params(0).seed_num_q8) * std::exp2l(-29e6L / 60e9L) + 40000.0L * 256;
  EXPECT_LE(std::fabs(static_cast<long double>(s.volatility(0).num_q8()) - want), 2.0L);
}

TEST_F(Fixture, EveryTradingStateButTPausesAndTResumes) {
  uint64_t base = 0;
  for (char state : {'H', 'P', 'Q', ' ', 'X'}) {
    base += 10 * kMs;
    ASSERT_EQ(top_and_eval(1000000, 1000100, base + 1 * kMs).action, Action::kRequote) << state;
    s.set_trading_state(0, state);
    Decision d = s.evaluate(0, base + 2 * kMs);
    EXPECT_EQ(d.action, Action::kPull) << state;
    EXPECT_EQ(d.reason, Reason::kNotTrading) << state;
    d = top_and_eval(1000100, 1000200, base + 3 * kMs);
    EXPECT_EQ(d.action, Action::kNone) << state;
    EXPECT_EQ(d.reason, Reason::kNotTrading) << state;
    s.set_trading_state(0, 'T');
    d = s.evaluate(0, base + 4 * kMs);
    EXPECT_EQ(d.action, Action::kRequote) << state;
    EXPECT_EQ(d.quote.bid.price, 1000000u) << state;
    s.set_trading_state(0, 'H');
    ASSERT_EQ(s.evaluate(0, base + 5 * kMs).action, Action::kPull);
    s.set_trading_state(0, 'T');
  }
}

TEST(QuotingStrategy, NoTradingStateSeenYetMeansNoQuote) {
  QuotingStrategy s(config_for({"AAPL"}, kPlain));
  s.on_top(0, top(1000000, 1000100), kMs);
  const Decision d = s.evaluate(0, kMs);
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kNotTrading);
}

TEST_F(Fixture, OneSidedOrCrossedBooksPull) {
  EXPECT_EQ(s.evaluate(0, kMs).reason, Reason::kNoBbo);  // no top yet
  ASSERT_EQ(top_and_eval(1000000, 1000100, 1 * kMs).action, Action::kRequote);
  Decision d = top_and_eval(0, 1000100, 2 * kMs);
  EXPECT_EQ(d.action, Action::kPull);
  EXPECT_EQ(d.reason, Reason::kNoBbo);
  EXPECT_EQ(top_and_eval(1000000, 0, 3 * kMs).reason, Reason::kNoBbo);
  ASSERT_EQ(top_and_eval(1000000, 1000100, 4 * kMs).action, Action::kRequote);
  d = top_and_eval(1000100, 1000100, 5 * kMs);  // locked
  EXPECT_EQ(d.action, Action::kPull);
  EXPECT_EQ(d.reason, Reason::kCrossedBook);
  d = top_and_eval(1000200, 1000100, 6 * kMs);  // crossed
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kCrossedBook);
  EXPECT_EQ(s.counters(0).by_reason[static_cast<size_t>(Reason::kNoBbo)].get(), 3u);
  EXPECT_EQ(s.counters(0).by_reason[static_cast<size_t>(Reason::kCrossedBook)].get(), 2u);
  EXPECT_EQ(s.counters(0).pulls.get(), 2u);
}

TEST(QuotingStrategy, AQuoteTheMarketMovedThroughMovesWhateverTheThreshold) {
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 0, "requote_threshold_ticks": 50})"));
  s.set_trading_state(0, 'T');
  s.on_top(0, top(1000000, 1000100), kMs);
  ASSERT_EQ(s.evaluate(0, kMs).quote.bid.price, 999900u);
  s.on_top(0, top(1000000, 1000050), 2 * kMs);  // still above our bid: within the threshold
  EXPECT_EQ(s.evaluate(0, 2 * kMs).reason, Reason::kBelowThreshold);
  s.on_top(0, top(999800, 999900), 3 * kMs);  // best ask at our bid
  const Decision d = s.evaluate(0, 3 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);
  EXPECT_LT(d.quote.bid.price, 999900u);
}

TEST(QuotingStrategy, InventoryAtTheLimitLeavesOnlyTheReducingSide) {
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 0, "max_inventory": 100})"));
  s.set_trading_state(0, 'T');
  s.on_top(0, top(1000000, 1000100), kMs);
  ASSERT_EQ(s.evaluate(0, kMs).action, Action::kRequote);
  s.set_inventory(0, 100);
  Decision d = s.evaluate(0, 2 * kMs);
  EXPECT_EQ(d.action, Action::kRequote);  // ask only
  EXPECT_FALSE(d.quote.bid.present());
  EXPECT_EQ(d.quote.ask.shares, 100u);
}

TEST(QuotingStrategy, ATargetWithNoValidSidePulls) {
  // post_only off, gamma 1, sigma 1 dollar/sqrt(s): V = 60 dollars^2. Long 100 (the limit): no bid,
  // and r = 100.005 - 6000 puts the ask below zero.
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 0, "max_inventory": 100,
      "post_only": false, "gamma": 1, "sigma_initial": 1})"));
  s.set_trading_state(0, 'T');
  s.on_top(0, top(1000000, 1000100), kMs);
  ASSERT_EQ(s.evaluate(0, kMs).action, Action::kRequote);
  s.set_inventory(0, 100);
  const Decision d = s.evaluate(0, 2 * kMs);
  EXPECT_EQ(d.action, Action::kPull);
  EXPECT_EQ(d.reason, Reason::kNoSide);
}

TEST(QuotingStrategy, VolatilityEstimateReachesTheQuote) {
  // One symbol, sigma_initial 0.01: the first quote uses V = sigma^2 T exactly. After the mid moves,
  // the quote uses the estimator, whose variance the model turns into prices like the reference.
  QuotingStrategy s(config_for({"AAPL"}, R"({"min_requote_interval_us": 0, "requote_threshold_ticks": 0,
      "gamma": 0.5, "k": 50, "sigma_floor": 0.002, "volatility_half_life_ms": 1000})"));
  s.set_trading_state(0, 'T');
  s.set_inventory(0, 40);
  const uint64_t initial = 600000ull * 256;  // 0.01^2 * 60 s = 0.006 dollars^2 = 600000 Price(4)^2
  EXPECT_EQ(s.variance_q8(0), initial);
  uint32_t bid = 1000000;
  for (uint64_t i = 0; i < 3000; ++i) {
    bid = (i % 2) ? bid + 500 : bid - 500;  // 5-cent swings every ms: very volatile
    s.on_top(0, top(bid, bid + 100), (i + 1) * kMs);
  }
  EXPECT_GT(s.variance_q8(0), 100 * initial);
  const Decision d = s.evaluate(0, 3001 * kMs);
  ASSERT_EQ(d.action, Action::kRequote);
  test::RefParams rp;
  rp.gamma = 0.5L;
  rp.k = 50;
  const long double V = static_cast<long double>(s.variance_q8(0)) / 256 / 1e8L;
  const test::RefQuote ref = test::reference_quote(rp, bid, bid + 100, 40, V);
  EXPECT_EQ(static_cast<long double>(d.quote.bid.price), ref.bid);
  EXPECT_EQ(static_cast<long double>(d.quote.ask.price), ref.ask);
  // Wider than at the initial volatility.
  const test::RefQuote calm = test::reference_quote(rp, bid, bid + 100, 40, 0.006L);
  EXPECT_GT(ref.ask - ref.bid, calm.ask - calm.bid);
  // A flat market afterwards: the estimate decays, never below the floor (0.002^2 * 60).
  for (uint64_t i = 0; i < 100; ++i) s.on_top(0, top(bid, bid + 100), (3002 + i * 1000) * kMs);
  EXPECT_EQ(s.variance_q8(0), 24000ull * 256);
}

TEST(QuotingStrategy, PerSymbolOverridesApply) {
  QuotingStrategy s(config_for({"AAPL", "MSFT"}, R"({"min_requote_interval_us": 0,
      "symbols": {"MSFT": {"min_spread_ticks": 10}}})"));
  EXPECT_EQ(s.index_of("MSFT"), 1);
  EXPECT_EQ(s.index_of("NVDA"), -1);
  for (uint32_t i = 0; i < 2; ++i) {
    s.set_trading_state(i, 'T');
    s.on_top(i, top(1000000, 1000100), kMs);
  }
  const Decision a = s.evaluate(0, kMs), m = s.evaluate(1, kMs);
  EXPECT_EQ(a.quote.ask.price - a.quote.bid.price, 300u);
  EXPECT_EQ(m.quote.bid.price, 999500u);   // 100.005 -+ 0.05 -> 99.955 floors to 99.95
  EXPECT_EQ(m.quote.ask.price, 1000600u);  // 100.055 ceils to 100.06
}

TEST(QuotingStrategy, StateSurvivesARestart) {
  const StrategyConfig c = config_for({"AAPL", "MSFT"}, R"({"min_requote_interval_us": 1000})");
  QuotingStrategy a(c);
  a.set_trading_state(1, 'T');
  for (uint64_t i = 0; i < 50; ++i) a.on_top(1, top(static_cast<uint32_t>(500000 + (i % 3) * 100), 500400), i * kMs);
  ASSERT_EQ(a.evaluate(1, 50 * kMs).action, Action::kRequote);
  StrategyState saved;
  a.save(saved);
  EXPECT_EQ(saved.symbol_count, 2);
  EXPECT_EQ(std::string(saved.symbols[1].symbol.data(), 8), "MSFT    ");

  // A restart with the symbols in another order and one more.
  const StrategyConfig c2 = config_for({"NVDA", "MSFT"}, R"({"min_requote_interval_us": 1000})");
  QuotingStrategy b(c2);
  uint32_t restored = 0;
  ASSERT_EQ(b.restore(saved, &restored), "");
  EXPECT_EQ(restored, 1u);
  EXPECT_EQ(b.variance_q8(1), a.variance_q8(1));
  EXPECT_EQ(b.live_quote(1), a.live_quote(1));
  EXPECT_EQ(b.variance_q8(0), b.params(0).variance_initial_q8);
  // The same inputs give the same decisions after the restart (throttle included).
  b.set_trading_state(1, 'T');
  for (QuotingStrategy* s : {&a, &b}) s->on_top(s->index_of("MSFT"), top(500300, 500700), 50 * kMs + 500000);
  EXPECT_EQ(a.evaluate(1, 50 * kMs + 500000).reason, Reason::kThrottled);
  EXPECT_EQ(b.evaluate(1, 50 * kMs + 500000).reason, Reason::kThrottled);
  const Decision da = a.evaluate(1, 52 * kMs), db = b.evaluate(1, 52 * kMs);
  EXPECT_EQ(da.action, Action::kRequote);
  EXPECT_EQ(db.action, da.action);
  EXPECT_EQ(db.quote, da.quote);

  StrategyState bad = saved;
  bad.magic = 0;
  EXPECT_NE(b.restore(bad).find("bad magic"), std::string::npos);
  bad = saved;
  bad.version = 2;
  EXPECT_EQ(b.restore(bad), "strategy state: version 2, expected 1");
  bad = saved;
  bad.symbol_count = 65;
  EXPECT_NE(b.restore(bad).find("symbol_count 65"), std::string::npos);
  // A saved quote that we would never send (bid >= ask) is dropped, not restored.
  bad = saved;
  bad.symbols[1].bid_price = bad.symbols[1].ask_price;
  ASSERT_EQ(b.restore(bad), "");
  EXPECT_FALSE(b.live_quote(1).any());
}

TEST(QuotingStrategy, ReasonNames) {
  EXPECT_STREQ(to_string(Reason::kStale), "stale");
  EXPECT_STREQ(to_string(Reason::kNotTrading), "not_trading");
  EXPECT_STREQ(to_string(Reason::kThrottled), "throttled");
  EXPECT_STREQ(to_string(Reason::kBelowThreshold), "below_threshold");
}

}  // namespace
}  // namespace pmm::strategy
