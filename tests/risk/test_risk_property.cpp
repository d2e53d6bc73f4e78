// PreTradeRisk against reference_risk.hpp on random streams: orders (many aimed exactly at a limit, one
// below and one above it), sends, partial and full fills, cancels, time steps and control commands
// (valid and invalid), overfills, fills of orders no longer open and position adjustments. Every decision, every control status and, periodically, the whole exposure state
// must be identical. PMM_RISK_PROPERTY_ORDERS scales the run (default 2,000,000 orders over all seeds).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "risk/pre_trade_risk.hpp"
#include "tests/risk/reference_risk.hpp"

namespace {

using namespace pmm::risk;
using test::Int128;
using test::ReferenceRisk;

uint64_t orders_to_run() {
  const char* v = std::getenv("PMM_RISK_PROPERTY_ORDERS");
  return v ? std::strtoull(v, nullptr, 10) : 2'000'000;
}

struct OpenOrder {
  uint16_t symbol;
  Side side;
  uint32_t remaining;
};

class Driver {
 public:
  explicit Driver(uint64_t seed) : rng_(seed) {
    const size_t symbols = 1 + pick(4);
    std::vector<std::string> names;
    for (size_t i = 0; i < symbols; ++i) names.push_back("S" + std::to_string(i));
    SymbolLimits d;
    // Small limits (zero allowed, rarely) so every edge is reached often.
    d.max_position = static_cast<int64_t>(pick(20) == 0 ? 0 : 100 + pick(3000));
    d.max_order_notional = static_cast<int64_t>(pick(20) == 0 ? 0 : 1000 + pick(50'000));
    d.max_order_shares = static_cast<uint32_t>(pick(20) == 0 ? 0 : 50 + pick(3000));
    d.max_open_orders_per_symbol = static_cast<uint32_t>(pick(12));
    d.price_collar_bps = static_cast<uint32_t>(pick(300));
    RiskLimits l = uniform_limits(names, d, static_cast<int64_t>(pick(6000)), static_cast<uint32_t>(pick(30)),
                                  static_cast<uint32_t>(1 + pick(1000)), static_cast<uint32_t>(1 + pick(20)));
    for (size_t i = 0; i < symbols; ++i) {  // some per-symbol overrides
      if (pick(2) == 0) continue;
      l.per_symbol[i].max_position = static_cast<int64_t>(pick(3000));
      l.per_symbol[i].price_collar_bps = static_cast<uint32_t>(pick(300));
      l.overridden[i] = (1u << 0) | (1u << 4);
    }
    l.kill_switch = pick(20) == 0;
    l.control_ring_size = 4;
    real_ = std::make_unique<PreTradeRisk>(l);
    ref_ = std::make_unique<ReferenceRisk>(l);
    for (size_t i = 0; i < symbols; ++i) mids_.push_back(static_cast<uint32_t>(1000 + pick(300'000)));
  }

  // One random step; returns true when it checked an order.
  bool step() {
    const uint64_t r = pick(100);
    if (r < 70) return check_one();
    if (r < 82) fill_one();
    else if (r < 92) cancel_one();
    else if (r < 95) control_one();
    else now_ += pick(4) == 0 ? pick(3'000'000'000) : pick(50'000);
    return false;
  }

  void compare_state() {
    for (uint16_t i = 0; i < real_->symbol_count(); ++i) {
      const ReferenceRisk::Symbol& s = ref_->symbol(i);
      ASSERT_EQ(Int128{real_->position(i)}, s.position);
      ASSERT_EQ(Int128{real_->open_buy_shares(i)}, s.open_buy);
      ASSERT_EQ(Int128{real_->open_sell_shares(i)}, s.open_sell);
      ASSERT_EQ(Int128{real_->open_orders(i)}, s.open_orders);
    }
    ASSERT_EQ(Int128{real_->gross_exposure()}, ref_->gross());
  }

  uint64_t accepted = 0;
  uint64_t by_reason[kRiskReasonCount] = {};

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  // A value at, just below or just above `edge` (clamped into [lo, hi]), or anywhere in [lo, hi].
  int64_t near(int64_t edge, int64_t lo, int64_t hi) {
    const int64_t span = std::min(hi - lo, 2 * (edge < 0 ? -edge : edge) + 10);
    int64_t v = pick(4) == 0 ? lo + static_cast<int64_t>(pick(static_cast<uint64_t>(span) + 1))
                             : edge + static_cast<int64_t>(pick(3)) - 1;
    return std::clamp(v, lo, hi);
  }

  bool check_one() {
    OrderRequest o;
    o.symbol = static_cast<uint16_t>(pick(real_->symbol_count()));
    o.side = pick(2) == 0 ? Side::kBuy : Side::kSell;
    const SymbolLimits& l = ref_->limits().per_symbol[o.symbol];
    const ReferenceRisk::Symbol& s = ref_->symbol(o.symbol);
    const bool buy = o.side == Side::kBuy;

    // Book: mostly a normal market around the symbol's mid, sometimes a side missing.
    Bbo bbo;
    const uint32_t mid = mids_[o.symbol];
    bbo.bid = pick(20) == 0 ? 0 : mid - static_cast<uint32_t>(pick(500));
    bbo.ask = pick(20) == 0 ? 0 : mid + static_cast<uint32_t>(pick(500));
    const uint32_t ref = buy ? bbo.ask : bbo.bid;

    // Shares: aimed at whichever edge this draw picks.
    const int64_t side_exposure = static_cast<int64_t>(buy ? s.position + s.open_buy : s.open_sell - s.position);
    int64_t shares = 0;
    switch (pick(4)) {
      case 0: shares = near(l.max_order_shares, 0, 100'000); break;
      case 1: shares = near(l.max_position - side_exposure, 0, 100'000); break;
      case 2: {
        // Gross exposure: the shares that bring it exactly to the limit (when that is an increase).
        const int64_t worst = static_cast<int64_t>(std::max(s.position + s.open_buy, s.open_sell - s.position));
        const int64_t room = ref_->limits().max_total_position - static_cast<int64_t>(ref_->gross());
        shares = near(worst - side_exposure + room, 0, 100'000);
        break;
      }
      default: shares = static_cast<int64_t>(pick(l.max_order_shares + 1)); break;
    }
    o.shares = static_cast<uint32_t>(shares);

    // Price: at a collar edge, at a notional edge, or near the market.
    switch (pick(4)) {
      case 0: {
        if (ref == 0) break;
        const uint64_t scaled = uint64_t{ref} * (buy ? 10000u + l.price_collar_bps : 10000u - l.price_collar_bps);
        o.price = static_cast<uint32_t>(near(static_cast<int64_t>(scaled / 10000), 0, UINT32_MAX));
        break;
      }
      case 1:
        if (o.shares == 0) break;
        o.price = static_cast<uint32_t>(
            near(l.max_order_notional * 10000 / static_cast<int64_t>(o.shares), 0, UINT32_MAX));
        break;
      case 2: o.price = static_cast<uint32_t>(pick(4'000'000)); break;
      default: break;
    }
    if (o.price == 0 && pick(50) != 0) o.price = mid - 1000 + static_cast<uint32_t>(pick(2000));

    if (pick(3) == 0) now_ += pick(1'000'000'000 / ref_->limits().max_orders_per_second + 1);
    const RiskReason want = ref_->check(o, bbo, now_);
    const RiskReason got = real_->check(o, bbo, now_);
    EXPECT_EQ(to_string(got), to_string(want))
        << "symbol " << o.symbol << (buy ? " buy " : " sell ") << o.shares << " @ " << o.price << " bbo " << bbo.bid
        << "/" << bbo.ask << " t " << now_;
    if (got != want) failed_ = true;
    ++by_reason[static_cast<size_t>(want)];
    if (want == RiskReason::kAccepted) {
      ++accepted;
      if (pick(10) != 0) {
        real_->on_order_sent(o);
        ref_->sent(o);
        if (o.shares > 0) open_.push_back({o.symbol, o.side, o.shares});
        else {  // cannot happen (0 shares is rejected) but keep the books balanced if it did
          real_->on_order_closed(o.symbol, o.side, 0);
          ref_->closed(o.symbol, o.side, 0);
        }
      }
    }
    return true;
  }

  void fill_one() {
    if (open_.empty()) return;
    const size_t i = pick(open_.size());
    OpenOrder& o = open_[i];
    const uint64_t kind = pick(20);
    if (kind == 0) {  // a fill of an order no longer open (stale/terminal): position only
      const auto n = static_cast<uint32_t>(1 + pick(300));
      real_->on_fill(o.symbol, o.side, n, 0, false);
      ref_->fill(o.symbol, o.side, n, 0, false);
      return;
    }
    if (kind == 1) {  // a broken trade or correction
      const int64_t delta = static_cast<int64_t>(pick(600)) - 300;
      real_->on_position_adjust(o.symbol, delta);
      ref_->adjust(o.symbol, delta);
      return;
    }
    // Normal fill (part or all), or an overfill (more than remains: the remainder is consumed).
    uint32_t n = pick(2) == 0 ? o.remaining : static_cast<uint32_t>(1 + pick(o.remaining));
    if (kind == 2) n = o.remaining + static_cast<uint32_t>(1 + pick(100));
    const uint32_t consumed = std::min(n, o.remaining);
    const bool closed = consumed == o.remaining;
    real_->on_fill(o.symbol, o.side, n, consumed, closed);
    ref_->fill(o.symbol, o.side, n, consumed, closed);
    o.remaining -= consumed;
    if (closed) {
      open_[i] = open_.back();
      open_.pop_back();
    }
  }

  void cancel_one() {
    if (open_.empty()) return;
    const size_t i = pick(open_.size());
    real_->on_order_closed(open_[i].symbol, open_[i].side, open_[i].remaining);
    ref_->closed(open_[i].symbol, open_[i].side, open_[i].remaining);
    open_[i] = open_.back();
    open_.pop_back();
  }

  void control_one() {
    RiskControl c;
    c.request_id = ++request_;
    c.kind = static_cast<RiskControlKind>(pick(6));  // 5 is not a kind
    c.limit = static_cast<RiskLimitId>(pick(kRiskLimitCount + 1));
    c.symbol = static_cast<uint16_t>(pick(real_->symbol_count() + 1));
    switch (c.kind) {
      case RiskControlKind::kKillSwitch: c.value = pick(8) == 0 ? 2 : static_cast<int64_t>(pick(6) == 0); break;
      case RiskControlKind::kSetPosition: c.value = static_cast<int64_t>(pick(4000)) - 2000; break;
      default: {
        // Mostly sensible magnitudes for the limit, sometimes out of range.
        const uint64_t scale[] = {3000, 1000, 50'000, 12, 300, 6000, 30, 100'000, 50, 10};
        c.value = static_cast<int64_t>(pick(scale[static_cast<size_t>(c.limit)] + 1));
        if (pick(20) == 0) c.value = -1;
        break;
      }
    }
    ASSERT_TRUE(real_->submit(c));
    RiskControlEvent events[4];
    const uint32_t n = real_->apply_pending_controls(now_, events);
    ASSERT_EQ(n, 1u);
    const RiskControlStatus want = ref_->apply(c, now_);
    EXPECT_EQ(to_string(events[0].status), to_string(want))
        << "control kind " << to_string(c.kind) << " limit " << static_cast<int>(c.limit) << " value " << c.value;
    EXPECT_EQ(events[0].request_id, c.request_id);
    if (events[0].status != want) failed_ = true;
  }

 public:
  bool failed() const { return failed_; }

 private:
  std::mt19937_64 rng_;
  std::unique_ptr<PreTradeRisk> real_;
  std::unique_ptr<ReferenceRisk> ref_;
  std::vector<uint32_t> mids_;
  std::vector<OpenOrder> open_;
  uint64_t now_ = 1'000'000;
  uint64_t request_ = 0;
  bool failed_ = false;
};

TEST(RiskProperty, MatchesReferenceOnRandomStreams) {
  const uint64_t total = orders_to_run();
  constexpr uint64_t kSeeds = 200;
  uint64_t accepted = 0;
  uint64_t by_reason[kRiskReasonCount] = {};
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Driver d(seed);
    uint64_t orders = 0;
    uint64_t steps = 0;
    while (orders < total / kSeeds) {
      if (d.step()) ++orders;
      if (++steps % 64 == 0) {
        d.compare_state();
        if (HasFatalFailure()) return;
      }
      ASSERT_FALSE(d.failed()) << "seed " << seed << " after " << orders << " orders";
    }
    d.compare_state();
    accepted += d.accepted;
    for (size_t r = 0; r < kRiskReasonCount; ++r) by_reason[r] += d.by_reason[r];
  }
  // The stream must actually exercise every outcome (else the comparison proves little).
  for (size_t r = 0; r < kRiskReasonCount; ++r)
    EXPECT_GT(by_reason[r], total / 10000) << to_string(static_cast<RiskReason>(r));
  std::printf("orders %llu accepted %llu\n", static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(accepted));
  for (size_t r = 0; r < kRiskReasonCount; ++r)
    std::printf("  %-40s %llu\n", std::string(to_string(static_cast<RiskReason>(r))).c_str(),
                static_cast<unsigned long long>(by_reason[r]));
}

}  // namespace
