// The control ring and the snapshot: commands take effect only when the owner applies them, at most as
// many per call as it has room for events; each leaves an event with old and new values; bad commands are
// refused and counted; a full ring refuses at submit; overrides survive global changes; a producer thread
// and the owner run at once; snapshot -> restore reproduces the state and its decisions, and a damaged or
// mismatched snapshot is refused naming the field.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "risk/pre_trade_risk.hpp"

namespace {

using namespace pmm::risk;

RiskLimits test_limits(uint32_t ring = 8) {
  SymbolLimits d;
  d.max_position = 1000;
  d.max_order_notional = 10'000;
  d.max_order_shares = 500;
  d.max_open_orders_per_symbol = 3;
  d.price_collar_bps = 100;
  RiskLimits l = uniform_limits({"AAPL", "MSFT"}, d, 1500, 5, 1000, 100);
  l.control_ring_size = ring;
  return l;
}

constexpr Bbo kBbo{199'900, 200'000};
constexpr uint64_t kNow = 5'000'000'000;

TEST(RiskControl, NothingChangesUntilApplied) {
  PreTradeRisk r(test_limits());
  ASSERT_TRUE(r.submit(kill_switch_control(true, 7)));
  EXPECT_EQ(r.check({0, Side::kBuy, 10, 200'000}, kBbo, kNow), RiskReason::kAccepted);
  RiskControlEvent e[4];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 1u);
  EXPECT_EQ(e[0].request_id, 7u);
  EXPECT_EQ(e[0].kind, RiskControlKind::kKillSwitch);
  EXPECT_EQ(e[0].status, RiskControlStatus::kApplied);
  EXPECT_EQ(e[0].old_value, 0);
  EXPECT_EQ(e[0].new_value, 1);
  EXPECT_EQ(e[0].applied_ns, kNow);
  EXPECT_EQ(r.check({0, Side::kBuy, 10, 200'000}, kBbo, kNow), RiskReason::kKillSwitch);
  EXPECT_EQ(r.apply_pending_controls(kNow, e), 0u);  // empty ring
  EXPECT_EQ(r.counters().controls_applied.get(), 1u);
}

TEST(RiskControl, BoundedByTheEventsRoom) {
  PreTradeRisk r(test_limits());
  for (int64_t v = 1; v <= 3; ++v) ASSERT_TRUE(r.submit(global_limit_control(RiskLimitId::kMaxPosition, v * 100)));
  RiskControlEvent e[2];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 2u);
  EXPECT_EQ(e[0].old_value, 1000);
  EXPECT_EQ(e[0].new_value, 100);
  EXPECT_EQ(e[1].old_value, 100);
  EXPECT_EQ(e[1].new_value, 200);
  EXPECT_EQ(r.limits().per_symbol[1].max_position, 200);
  ASSERT_EQ(r.apply_pending_controls(kNow, std::span(e, 1)), 1u);
  EXPECT_EQ(e[0].new_value, 300);
  EXPECT_EQ(r.limits().defaults.max_position, 300);
  EXPECT_EQ(r.counters().controls_applied.get(), 3u);
}

TEST(RiskControl, FullRingRefusesAtSubmitAndCounts) {
  PreTradeRisk r(test_limits(2));
  EXPECT_TRUE(r.submit(kill_switch_control(true)));
  EXPECT_TRUE(r.submit(kill_switch_control(false)));
  EXPECT_FALSE(r.submit(kill_switch_control(true)));
  EXPECT_EQ(r.producer_counters().submitted.get(), 2u);
  EXPECT_EQ(r.producer_counters().ring_full.get(), 1u);
  RiskControlEvent e[4];
  EXPECT_EQ(r.apply_pending_controls(kNow, e), 2u);
  EXPECT_FALSE(r.kill_switch());  // the refused one never happened
}

TEST(RiskControl, BadCommandsAreRefusedAndCounted) {
  PreTradeRisk r(test_limits());
  const RiskControl bad[] = {
      symbol_limit_control(2, RiskLimitId::kMaxPosition, 10),                      // no symbol 2
      symbol_limit_control(0, RiskLimitId::kMaxOpenOrders, 10),                    // global-only limit
      global_limit_control(static_cast<RiskLimitId>(9), 10),                       // not a limit
      global_limit_control(RiskLimitId::kPriceCollarBps, 10'001),                  // out of range
      global_limit_control(RiskLimitId::kMaxOrdersPerSecond, 0),
      kill_switch_control(true),                                                   // fixed below: value 2
      set_position_control(0, kMaxPositionLimit + 1),
  };
  RiskControl c[7];
  std::copy(std::begin(bad), std::end(bad), c);
  c[5].value = 2;
  const RiskControlStatus want[] = {RiskControlStatus::kBadSymbol,  RiskControlStatus::kBadLimit,
                                    RiskControlStatus::kBadLimit,   RiskControlStatus::kOutOfRange,
                                    RiskControlStatus::kOutOfRange, RiskControlStatus::kOutOfRange,
                                    RiskControlStatus::kOutOfRange};
  for (const RiskControl& x : c) ASSERT_TRUE(r.submit(x));
  RiskControlEvent e[8];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(to_string(e[i].status), to_string(want[i])) << i;
    EXPECT_EQ(e[i].old_value, e[i].new_value) << i;
  }
  RiskControl unknown_kind{};
  unknown_kind.kind = static_cast<RiskControlKind>(42);
  ASSERT_TRUE(r.submit(unknown_kind));
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 1u);
  EXPECT_EQ(e[0].status, RiskControlStatus::kBadKind);
  EXPECT_EQ(r.counters().controls_refused.get(), 8u);
  EXPECT_EQ(r.counters().controls_applied.get(), 0u);
  EXPECT_EQ(r.limits().defaults.price_collar_bps, 100u);
  EXPECT_FALSE(r.kill_switch());
}

TEST(RiskControl, SymbolOverrideSurvivesGlobalChanges) {
  PreTradeRisk r(test_limits());
  ASSERT_TRUE(r.submit(symbol_limit_control(1, RiskLimitId::kMaxOrderShares, 50)));
  ASSERT_TRUE(r.submit(global_limit_control(RiskLimitId::kMaxOrderShares, 20)));
  RiskControlEvent e[4];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 2u);
  EXPECT_EQ(r.check({1, Side::kBuy, 50, 200'000}, kBbo, kNow), RiskReason::kAccepted);
  EXPECT_EQ(r.check({1, Side::kBuy, 51, 200'000}, kBbo, kNow), RiskReason::kMaxOrderShares);
  EXPECT_EQ(r.check({0, Side::kBuy, 20, 200'000}, kBbo, kNow), RiskReason::kAccepted);
  EXPECT_EQ(r.check({0, Side::kBuy, 21, 200'000}, kBbo, kNow), RiskReason::kMaxOrderShares);
  EXPECT_EQ(r.limits().overridden[1], 1u << static_cast<unsigned>(RiskLimitId::kMaxOrderShares));
  EXPECT_EQ(r.limits().overridden[0], 0u);
}

TEST(RiskControl, SetPositionReconcilesAndMovesGrossExposure) {
  PreTradeRisk r(test_limits());
  ASSERT_TRUE(r.submit(set_position_control(1, -700, 9)));
  RiskControlEvent e[1];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 1u);
  EXPECT_EQ(e[0].old_value, 0);
  EXPECT_EQ(e[0].new_value, -700);
  EXPECT_EQ(r.position(1), -700);
  EXPECT_EQ(r.gross_exposure(), 700);
  EXPECT_EQ(r.check({1, Side::kSell, 300, 199'900}, kBbo, kNow), RiskReason::kAccepted);   // short 1000
  EXPECT_EQ(r.check({1, Side::kSell, 301, 199'900}, kBbo, kNow), RiskReason::kMaxPosition);
}

TEST(RiskControl, ResetRateBucketAndRateChanges) {
  RiskLimits l = test_limits();
  l.max_orders_per_second = 1;
  l.order_burst = 3;
  PreTradeRisk r(l);
  const OrderRequest o{0, Side::kBuy, 1, 200'000};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(r.check(o, kBbo, kNow), RiskReason::kAccepted);
  ASSERT_EQ(r.check(o, kBbo, kNow), RiskReason::kMaxOrdersPerSecond);
  ASSERT_TRUE(r.submit(reset_rate_bucket_control()));
  RiskControlEvent e[2];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 1u);
  EXPECT_EQ(e[0].old_value, 0);
  EXPECT_EQ(e[0].new_value, 3);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(r.check(o, kBbo, kNow), RiskReason::kAccepted);
  ASSERT_EQ(r.check(o, kBbo, kNow), RiskReason::kMaxOrdersPerSecond);
  // 0.5 s at 1/s is half a token; then 1000/s: 0.5 ms more completes it.
  ASSERT_TRUE(r.submit(global_limit_control(RiskLimitId::kMaxOrdersPerSecond, 1000)));
  ASSERT_EQ(r.apply_pending_controls(kNow + 500'000'000, e), 1u);
  EXPECT_EQ(r.check(o, kBbo, kNow + 500'499'999), RiskReason::kMaxOrdersPerSecond);
  EXPECT_EQ(r.check(o, kBbo, kNow + 500'500'000), RiskReason::kAccepted);
  // A smaller burst caps what is there.
  ASSERT_TRUE(r.submit(global_limit_control(RiskLimitId::kOrderBurst, 1)));
  ASSERT_EQ(r.apply_pending_controls(kNow + 900'000'000'000, e), 1u);
  EXPECT_EQ(r.tokens(), 1u);
}

TEST(RiskControl, ProducerThreadAndOwnerConcurrently) {
  // The management core toggles the order-size limit 2,000 times while the owner checks orders
  // and applies controls; every command is applied exactly once, in order.
  PreTradeRisk r(test_limits(16));
  constexpr int kCommands = 2'000;
  std::thread producer([&] {
    for (int i = 1; i <= kCommands; ++i) {
      const RiskControl c = global_limit_control(RiskLimitId::kMaxOrderShares, i % 2 == 0 ? 500 : 100,
                                                 static_cast<uint64_t>(i));
      while (!r.submit(c)) std::this_thread::yield();
    }
  });
  uint64_t next_id = 1;
  uint64_t t = kNow;
  uint64_t mismatches = 0;  // counted, not asserted inside the loop: the producer must be joined
  RiskControlEvent e[4];
  while (next_id <= kCommands) {
    const uint32_t n = r.apply_pending_controls(t, e);
    for (uint32_t i = 0; i < n; ++i) {
      mismatches += e[i].request_id != next_id;
      mismatches += e[i].new_value != (next_id % 2 == 0 ? 500 : 100);
      ++next_id;
    }
    t += 1'000'000;  // 1 ms: one rate token per check
    const RiskReason want = (next_id - 1) % 2 == 0 ? RiskReason::kAccepted : RiskReason::kMaxOrderShares;
    if (next_id > 1) mismatches += r.check({0, Side::kBuy, 200, 200'000}, kBbo, t) != want;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(r.counters().controls_applied.get(), static_cast<uint64_t>(kCommands));
  EXPECT_EQ(r.producer_counters().submitted.get(), static_cast<uint64_t>(kCommands));
}

// A state worth saving: positions, open orders both sides, a run-time limit change, an override.
void build_state(PreTradeRisk& r) {
  ASSERT_EQ(r.check({0, Side::kBuy, 400, 200'000}, kBbo, kNow), RiskReason::kAccepted);
  r.on_order_sent({0, Side::kBuy, 400, 200'000});
  r.on_fill(0, Side::kBuy, 150, 150, false);
  ASSERT_EQ(r.check({1, Side::kSell, 300, 199'900}, kBbo, kNow), RiskReason::kAccepted);
  r.on_order_sent({1, Side::kSell, 300, 199'900});
  ASSERT_TRUE(r.submit(global_limit_control(RiskLimitId::kMaxTotalPosition, 1200)));
  ASSERT_TRUE(r.submit(symbol_limit_control(1, RiskLimitId::kMaxPosition, 350)));
  RiskControlEvent e[2];
  ASSERT_EQ(r.apply_pending_controls(kNow, e), 2u);
}

TEST(RiskSnapshot, RoundTripRestoresStateAndDecisions) {
  PreTradeRisk a(test_limits());
  build_state(a);
  RiskStateSnapshot s;
  a.snapshot(s);
  EXPECT_EQ(s.magic, RiskStateSnapshot::kMagic);
  EXPECT_EQ(s.version, RiskStateSnapshot::kVersion);
  EXPECT_EQ(s.symbol_count, 2u);
  EXPECT_EQ(std::string(s.symbols[1].symbol, 4), "MSFT");
  EXPECT_EQ(s.symbols[0].position, 150);
  EXPECT_EQ(s.symbols[0].open_buy_shares, 250);
  EXPECT_EQ(s.symbols[1].open_sell_shares, 300);
  EXPECT_EQ(s.max_total_position, 1200);

  // Through bytes, as the state file will carry it.
  unsigned char bytes[sizeof(RiskStateSnapshot)];
  std::memcpy(bytes, &s, sizeof s);
  RiskStateSnapshot back;
  std::memcpy(&back, bytes, sizeof back);

  PreTradeRisk b(test_limits());
  ASSERT_EQ(b.restore(back, LimitsOnRestore::kFromSnapshot, kNow), "");
  EXPECT_EQ(b.position(0), 150);
  EXPECT_EQ(b.open_buy_shares(0), 250);
  EXPECT_EQ(b.open_sell_shares(1), 300);
  EXPECT_EQ(b.open_orders(0), 1u);
  EXPECT_EQ(b.total_open_orders(), 2u);
  EXPECT_EQ(b.gross_exposure(), a.gross_exposure());
  EXPECT_EQ(b.limits().max_total_position, 1200);
  EXPECT_EQ(b.limits().per_symbol[1].max_position, 350);
  EXPECT_EQ(b.check({1, Side::kSell, 50, 199'900}, kBbo, kNow), RiskReason::kAccepted);   // short 350
  EXPECT_EQ(b.check({1, Side::kSell, 51, 199'900}, kBbo, kNow), RiskReason::kMaxPosition);
  // Overrides came back too: a global change leaves MSFT's max_position alone.
  ASSERT_TRUE(b.submit(global_limit_control(RiskLimitId::kMaxPosition, 2000)));
  RiskControlEvent e[1];
  ASSERT_EQ(b.apply_pending_controls(kNow, e), 1u);
  EXPECT_EQ(b.limits().per_symbol[1].max_position, 350);

  // Keeping the configured limits: exposure restored, limits as configured.
  PreTradeRisk c(test_limits());
  ASSERT_EQ(c.restore(back, LimitsOnRestore::kKeepConfigured, kNow), "");
  EXPECT_EQ(c.position(0), 150);
  EXPECT_EQ(c.limits().max_total_position, 1500);
  EXPECT_EQ(c.check({1, Side::kSell, 51, 199'900}, kBbo, kNow), RiskReason::kAccepted);
}

TEST(RiskSnapshot, KillSwitchSurvivesRestore) {
  PreTradeRisk a(test_limits());
  ASSERT_TRUE(a.submit(kill_switch_control(true)));
  RiskControlEvent e[1];
  ASSERT_EQ(a.apply_pending_controls(kNow, e), 1u);
  RiskStateSnapshot s;
  a.snapshot(s);
  PreTradeRisk b(test_limits());
  ASSERT_EQ(b.restore(s, LimitsOnRestore::kKeepConfigured, kNow), "");
  EXPECT_TRUE(b.kill_switch());
  // Engaged by the configuration stays engaged even if the snapshot had it off.
  RiskLimits engaged = test_limits();
  engaged.kill_switch = true;
  PreTradeRisk c(engaged);
  PreTradeRisk d(test_limits());
  d.snapshot(s);
  ASSERT_EQ(c.restore(s, LimitsOnRestore::kFromSnapshot, kNow), "");
  EXPECT_TRUE(c.kill_switch());
}

TEST(RiskSnapshot, DamagedOrMismatchedSnapshotsAreRefused) {
  PreTradeRisk a(test_limits());
  build_state(a);
  RiskStateSnapshot good;
  a.snapshot(good);
  struct Case {
    const char* expect;
    void (*damage)(RiskStateSnapshot&);
  };
  const Case cases[] = {
      {"bad magic", [](RiskStateSnapshot& s) { s.magic ^= 1; }},
      {"version 2, expected 1", [](RiskStateSnapshot& s) { s.version = 2; }},
      {"3 symbols, configured 2", [](RiskStateSnapshot& s) { s.symbol_count = 3; }},
      {"symbols[1] is \"MSFX\"", [](RiskStateSnapshot& s) { s.symbols[1].symbol[3] = 'X'; }},
      {"symbols[0].position", [](RiskStateSnapshot& s) { s.symbols[0].position = kMaxPositionLimit + 1; }},
      {"symbols[1]: open orders/shares inconsistent", [](RiskStateSnapshot& s) { s.symbols[1].open_orders = 0; }},
      {"symbols[0]: open orders/shares inconsistent", [](RiskStateSnapshot& s) { s.symbols[0].open_sell_shares = -1; }},
      {"kill_switch 7", [](RiskStateSnapshot& s) { s.kill_switch = 7; }},
      {"risk.symbols.MSFT.price_collar_bps", [](RiskStateSnapshot& s) { s.symbols[1].limits.price_collar_bps = 20'000; }},
      {"risk.order_burst", [](RiskStateSnapshot& s) { s.order_burst = 0; }},
  };
  for (const Case& c : cases) {
    RiskStateSnapshot s = good;
    c.damage(s);
    PreTradeRisk b(test_limits());
    const std::string error = b.restore(s, LimitsOnRestore::kFromSnapshot, kNow);
    EXPECT_NE(error.find(c.expect), std::string::npos) << "want \"" << c.expect << "\", got \"" << error << "\"";
    EXPECT_EQ(b.position(0), 0);  // nothing changed
    EXPECT_EQ(b.total_open_orders(), 0u);
  }
}

}  // namespace
