// Property test: random sequences of requests and exchange responses -- plausible ones and bad,
// duplicate, stale and out-of-order ones -- fed to the OrderTracker and to ReferenceTracker
// (reference_orders.hpp). After every step both must agree on every order, every counter, every
// position and PnL figure, every open view, and the event emitted. Every few hundred steps a
// snapshot is restored into a fresh tracker, which must hold the identical state.
// PMM_ORDERS_PROPERTY_SEEDS=<n> runs more sequences (default 40).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "core/orders/order_tracker.hpp"
#include "tests/orders/orders_test_support.hpp"
#include "tests/orders/reference_orders.hpp"

namespace pmm::orders {
namespace {

using namespace pmm::orders::test;

constexpr uint32_t kSymbols = 3;  // of max_symbols 4: symbol 3 stays flat, 4 is out of range

OrderTrackerConfig property_config() {
  OrderTrackerConfig c;
  c.max_open_orders = 8;  // small: the table fills and slots are reused often
  c.max_symbols = 4;
  c.fill_history = 16;    // small: old fills are forgotten
  c.max_order_shares = 300;
  c.fees = FeeSchedule{-20, 30};
  return c;
}

OrderToken tok(const std::string& s) { return make_token(s); }

class PropertyRun {
 public:
  PropertyRun(uint64_t seed) : rng_(seed), t_(property_config(), 3, sink_), ref_(property_config(), 3) {
    pool_ = {"GARBAGE", "", "00000000000000", "0003000000000Z", "0002000000000001"};
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      step();
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "at step " << i;
        return;
      }
      if (i % 500 == 499) check_snapshot_round_trip();
    }
  }

 private:
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool chance(uint32_t percent) { return pick(100) < percent; }

  // Mostly a token of a live order (current or pending), sometimes anything ever seen or garbage.
  std::string any_token() {
    if (chance(75)) {
      std::vector<const RefOrder*> live;
      for (const auto& [id, o] : ref_.orders)
        if (!ReferenceTracker::terminal(o) || chance(20)) live.push_back(&o);
      if (!live.empty()) {
        const RefOrder* o = live[pick(static_cast<uint32_t>(live.size()))];
        if (o->has_pending && chance(40)) return o->pending;
        if (o->has_previous && chance(10)) return o->previous;
        return o->token;
      }
    }
    return pool_[pick(static_cast<uint32_t>(pool_.size()))];
  }
  uint32_t open_of(const std::string& token) {
    const RefOrder* o = ref_.current(token);
    return o == nullptr ? 100 : o->open;
  }
  Price price() { return 9950 + pick(101); }

  void step() {
    const size_t before = sink_.events.size();
    RefOutcome want;
    const uint32_t what = pick(100);
    if (what < 22) {
      const uint32_t sym = chance(3) ? kSymbols + 1 : pick(kSymbols);
      const Side side = chance(50) ? Side::kBuy : Side::kSell;
      const uint32_t shares = chance(3) ? (chance(50) ? 0 : 301) : 1 + pick(300);
      const Price px = chance(2) ? 0 : price();
      std::string rt;
      want = ref_.submit(sym, side, px, shares, rt);
      const SubmitResult r = t_.submit(sym, side, px, shares);
      ASSERT_EQ(r.error, want.error);
      if (r.error == RequestError::kNone) {
        ASSERT_EQ(std::string(r.token.view()), rt);
        ASSERT_TRUE(issued_.insert(rt).second) << "token issued twice: " << rt;
        pool_.push_back(rt);
      }
    } else if (what < 30) {
      const std::string k = any_token();
      want = ref_.cancel(k);
      ASSERT_EQ(t_.request_cancel(tok(k)), want.error);
    } else if (what < 37) {
      const std::string k = any_token();
      const uint32_t shares = chance(3) ? 0 : 1 + pick(300);
      const Price px = price();
      std::string rt;
      want = ref_.replace(k, px, shares, rt);
      const SubmitResult r = t_.request_replace(tok(k), px, shares);
      ASSERT_EQ(r.error, want.error);
      if (r.error == RequestError::kNone) {
        ASSERT_EQ(std::string(r.token.view()), rt);
        ASSERT_TRUE(issued_.insert(rt).second);
        pool_.push_back(rt);
      }
    } else if (what < 47) {
      const std::string k = any_token();
      const uint32_t shares = chance(85) ? open_of(k) : pick(400);
      const Price px = price();
      want = ref_.accepted(k, shares, px);
      t_.on_accepted(accepted(tok(k), shares, px));
    } else if (what < 67) {
      const std::string k = any_token();
      const uint32_t open = open_of(k);
      const uint32_t shares = chance(10) ? open + 1 + pick(20) : (chance(2) ? 0 : 1 + pick(std::max(open, 1u)));
      uint64_t match = next_match_++;
      std::string k2 = k;
      if (chance(10) && !ref_.fills.empty()) {  // a replayed execution
        const RefFill& f = ref_.fills[pick(static_cast<uint32_t>(ref_.fills.size()))];
        match = f.match;
        if (chance(70)) k2 = f.token;
      }
      const Liquidity liq = chance(60) ? Liquidity::kMaker : Liquidity::kTaker;
      const Price px = price();
      want = ref_.executed(k2, shares, px, liq, match);
      t_.on_executed(executed(tok(k2), shares, px, match, liq));
    } else if (what < 77) {
      const std::string k = any_token();
      const uint32_t open = open_of(k);
      const uint32_t dec = chance(60) ? open : pick(open + 10);
      want = ref_.canceled(k, dec);
      t_.on_canceled(canceled(tok(k), dec));
    } else if (what < 83) {
      std::string nk = any_token(), pk = any_token();
      for (const auto& [id, o] : ref_.orders) {
        if (o.has_pending && !ReferenceTracker::terminal(o) && chance(60)) {
          nk = o.pending;
          pk = chance(90) ? o.token : pk;
          break;
        }
      }
      const uint32_t shares = pick(301);
      const Price px = price();
      want = ref_.replaced(nk, pk, shares, px);
      t_.on_replaced(replaced(tok(nk), tok(pk), shares, px));
    } else if (what < 88) {
      const std::string k = any_token();
      want = ref_.rejected(k);
      t_.on_rejected(rejected(tok(k)));
    } else if (what < 91) {
      const std::string k = any_token();
      want = ref_.cancel_pending(k);
      t_.on_cancel_pending(token_only(tok(k)));
    } else if (what < 94) {
      const std::string k = any_token();
      want = ref_.cancel_reject(k);
      t_.on_cancel_reject(token_only(tok(k)));
    } else if (what < 99) {
      std::string k = any_token();
      uint64_t match = pick(static_cast<uint32_t>(next_match_ + 1));
      if (chance(80) && !ref_.fills.empty()) {
        const RefFill& f = ref_.fills[pick(static_cast<uint32_t>(ref_.fills.size()))];
        match = f.match;
        if (chance(90)) k = f.token;
      }
      want = ref_.broken(k, match);
      t_.on_broken_trade(broken(tok(k), match));
    } else {
      cancel_all();
      compare();
      return;
    }
    if (want.emits) {
      ASSERT_EQ(sink_.events.size(), before + 1);
      ASSERT_EQ(sink_.last().kind, want.kind) << to_string(sink_.last().kind) << " vs " << to_string(want.kind);
      ASSERT_EQ(sink_.last().anomaly, want.anomaly) << to_string(sink_.last().anomaly) << " vs " << to_string(want.anomaly);
      ASSERT_EQ(sink_.last().sequence, t_.last_event_sequence());
    } else {
      ASSERT_EQ(sink_.events.size(), before);
    }
    compare();
  }

  void cancel_all() {
    // Reference: every pending-new, accepted or partially filled order, in slot order.
    std::vector<std::pair<uint32_t, std::string>> want;
    uint32_t waiting = 0;
    for (const auto& [id, o] : ref_.orders) {
      if (ReferenceTracker::terminal(o)) continue;
      if (o.state == OrderState::kPendingNew || o.state == OrderState::kAccepted ||
          o.state == OrderState::kPartiallyFilled)
        want.emplace_back(o.slot, o.token);
      else
        ++waiting;
    }
    std::sort(want.begin(), want.end());
    for (const auto& w : want) ref_.cancel(w.second);
    OrderToken out[8];
    const CancelAllResult r = t_.cancel_all(out, 8);
    ASSERT_EQ(r.requested, want.size());
    ASSERT_EQ(r.waiting, waiting);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(std::string(out[i].view()), want[i].second);
    ASSERT_EQ(t_.all_acknowledged(), ref_.live() == 0);
  }

  void compare() {
    ASSERT_EQ(t_.counters(), ref_.counters);
    ASSERT_EQ(t_.live_orders(), ref_.live());
    for (uint32_t s = 0; s < 4; ++s) {
      ASSERT_EQ(t_.open_view(s), ref_.view(s)) << "symbol " << s;
      const Position& p = t_.positions().position(s);
      const RefPosition& r = ref_.positions[s];
      ASSERT_TRUE(p.shares == r.shares) << "symbol " << s;
      ASSERT_TRUE(p.cost_basis == r.basis);
      ASSERT_TRUE(p.realized == r.realized);
      ASSERT_TRUE(p.fees == r.fees);
      ASSERT_EQ(p.bought, r.bought);
      ASSERT_EQ(p.sold, r.sold);
      // Independent of the average-cost rule: realized - basis is exactly the cash flow.
      ASSERT_TRUE(p.realized - p.cost_basis == r.cash);
      const Price mark = 10000;
      ASSERT_TRUE(t_.positions().unrealized(s, mark) == r.shares * mark - r.basis);
    }
    for (const auto& [id, o] : ref_.orders) {
      const OrderRecord& x = t_.slot(o.slot);
      ASSERT_EQ(std::string(x.token.view()), o.token);
      ASSERT_EQ(x.state, o.state) << to_string(x.state) << " vs " << to_string(o.state);
      ASSERT_EQ(x.open, o.open);
      ASSERT_EQ(x.executed, o.executed);
      ASSERT_EQ(x.price, o.price);
      ASSERT_EQ(x.shares, o.shares);
      ASSERT_EQ(x.acked, o.acked);
      ASSERT_EQ(x.has_pending, o.has_pending);
      if (o.has_pending) {
        ASSERT_EQ(std::string(x.pending_token.view()), o.pending);
        ASSERT_EQ(x.pending_shares, o.pending_shares);
        ASSERT_EQ(x.pending_price, o.pending_price);
      }
      ASSERT_EQ(x.has_previous, o.has_previous);
      if (o.has_previous) {
        ASSERT_EQ(std::string(x.previous_token.view()), o.previous);
      }
    }
    ASSERT_EQ(t_.fills().size(), ref_.fills.size());
    for (uint32_t i = 0; i < ref_.fills.size(); ++i) {
      ASSERT_EQ(std::string(t_.fills().at(i).token.view()), ref_.fills[i].token);
      ASSERT_EQ(t_.fills().at(i).match_number, ref_.fills[i].match);
      ASSERT_EQ(t_.fills().at(i).broken, ref_.fills[i].broken);
    }
  }

  void check_snapshot_round_trip() {
    const std::vector<uint8_t> snap = t_.snapshot();
    RecordingSink s2;
    OrderTracker r(property_config(), 4, s2);
    ASSERT_EQ(r.restore(snap.data(), snap.size()), "");
    ASSERT_EQ(r.live_orders(), t_.live_orders());
    for (uint32_t i = 0; i < 8; ++i)
      if (is_live(t_.slot(i).state)) {
        ASSERT_EQ(r.slot(i), t_.slot(i)) << "slot " << i;
      }
    for (uint32_t s = 0; s < 4; ++s) {
      ASSERT_EQ(r.open_view(s), t_.open_view(s));
      ASSERT_EQ(r.positions().position(s), t_.positions().position(s));
    }
    ASSERT_EQ(r.fills().size(), t_.fills().size());
    for (uint32_t i = 0; i < t_.fills().size(); ++i) ASSERT_EQ(r.fills().at(i), t_.fills().at(i));
    ASSERT_EQ(r.last_event_sequence(), t_.last_event_sequence());
    // Snapshot of the restored tracker: the same bytes but for the writer's epoch (offset 8..11).
    std::vector<uint8_t> again = r.snapshot();
    ASSERT_EQ(again.size(), snap.size());
    for (size_t i = 8; i < 12; ++i) again[i] = snap[i];
    ASSERT_EQ(again, snap);
    // New tokens of the restored instance (epoch 4) never equal any token of epoch 3.
    const SubmitResult n = r.submit(0, Side::kBuy, 10000, 1);
    if (n.error == RequestError::kNone) {
      ASSERT_EQ(issued_.count(std::string(n.token.view())), 0u);
    }
    ++snapshots_checked;
  }

 public:
  int snapshots_checked = 0;
  const OrderTrackerCounters& counters() const { return t_.counters(); }

 private:
  std::mt19937_64 rng_;
  RecordingSink sink_;
  OrderTracker t_;
  ReferenceTracker ref_;
  std::vector<std::string> pool_;
  std::set<std::string> issued_;
  uint64_t next_match_ = 1;
};

TEST(OrderProperty, MatchesReferenceOnRandomSequences) {
  int seeds = 40;
  if (const char* env = std::getenv("PMM_ORDERS_PROPERTY_SEEDS")) seeds = std::atoi(env);
  int snapshots = 0;
  OrderTrackerCounters seen;
  for (int seed = 1; seed <= seeds; ++seed) {
    PropertyRun run(static_cast<uint64_t>(seed));
    run.run(3000);
    snapshots += run.snapshots_checked;
    for (uint8_t i = 0; i < kEventKindCount; ++i) seen.events[i] += run.counters().events[i];
    for (uint8_t i = 0; i < kAnomalyCount; ++i) seen.anomalies[i] += run.counters().anomalies[i];
    for (uint8_t i = 0; i < kRequestErrorCount; ++i) seen.request_errors[i] += run.counters().request_errors[i];
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed;
      return;
    }
  }
  EXPECT_EQ(snapshots, seeds * 6);
  // The sequences reach every transition and every bad-response kind, so agreement means something.
  for (uint8_t i = 0; i < kEventKindCount; ++i)
    EXPECT_GT(seen.events[i], 0u) << to_string(static_cast<EventKind>(i));
  for (uint8_t i = 1; i < kAnomalyCount; ++i)
    EXPECT_GT(seen.anomalies[i], 0u) << to_string(static_cast<Anomaly>(i));
  for (uint8_t i = 1; i < kRequestErrorCount; ++i) {
    if (static_cast<RequestError>(i) == RequestError::kTokensExhausted) continue;  // test_order_tracker
    EXPECT_GT(seen.request_errors[i], 0u) << to_string(static_cast<RequestError>(i));
  }
  if (::testing::Test::HasFailure()) return;
  std::printf("events:");
  for (uint8_t i = 0; i < kEventKindCount; ++i)
    std::printf(" %s=%llu", to_string(static_cast<EventKind>(i)), static_cast<unsigned long long>(seen.events[i]));
  std::printf("\nanomalies:");
  for (uint8_t i = 1; i < kAnomalyCount; ++i)
    std::printf(" %s=%llu", to_string(static_cast<Anomaly>(i)), static_cast<unsigned long long>(seen.anomalies[i]));
  std::printf("\n");
}

}  // namespace
}  // namespace pmm::orders
