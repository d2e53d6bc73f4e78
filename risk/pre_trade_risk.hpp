// Inline pre-trade risk: every order is checked here, on the core that sends it, just before it leaves.
// One call evaluates every limit with integer arithmetic and returns the first failing reason (or
// kAccepted); the exposure the limits need (positions, open orders per side) is kept here, per symbol,
// from the order path's own callbacks, so nothing is read from another thread. Limits change at run
// time only through the control ring, applied by this same core between orders: the hot path takes no
// lock, allocates nothing and makes no system call. docs/risk.md defines every check exactly.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/order_book.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/spsc_ring.hpp"
#include "risk/risk_control.hpp"
#include "risk/risk_limits.hpp"
#include "risk/risk_state_snapshot.hpp"

namespace pmm::risk {

using Price = book::Price;  // ITCH Price(4): 1.0000 == 10000

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

// The order about to be sent. `symbol` is the configured symbol index (RiskLimits::symbols).
struct OrderRequest {
  uint16_t symbol = 0;
  Side side = Side::kBuy;
  uint32_t shares = 0;
  Price price = 0;  // limit price
};

// Best bid and offer of the order's symbol as the sender sees it. 0 = that side is empty (or not to be
// trusted, e.g. the feed is stale): an order needing it as reference is rejected.
struct Bbo {
  Price bid = 0;
  Price ask = 0;
};

// The decision: kAccepted, or the first failing check in this order (the order of evaluation is part of
// the contract: cheaper and more fundamental checks first, the rate bucket last so that only orders that
// are sent spend a token). The names are what logs show (operators grep "REJECTED_").
enum class RiskReason : uint8_t {
  kAccepted = 0,
  kKillSwitch,          // the kill switch is engaged
  kInvalidOrder,        // 0 shares or price 0
  kMaxOrderShares,      // shares > max_order_shares
  kMaxOrderNotional,    // price x shares > max_order_notional
  kNoReferencePrice,    // the opposite side of the book is empty
  kPriceCollar,         // price beyond the opposite best by more than price_collar_bps
  kMaxOpenOrdersPerSymbol,
  kMaxOpenOrders,
  kMaxPosition,         // this side's exposure after the order > max_position
  kMaxTotalPosition,    // gross exposure after the order > max_total_position (and it grew)
  kMaxOrdersPerSecond,  // no token in the order-rate bucket
};
inline constexpr size_t kRiskReasonCount = 12;

constexpr std::string_view to_string(RiskReason r) noexcept {
  switch (r) {
    case RiskReason::kAccepted: return "ACCEPTED";
    case RiskReason::kKillSwitch: return "REJECTED_KILL_SWITCH";
    case RiskReason::kInvalidOrder: return "REJECTED_INVALID_ORDER";
    case RiskReason::kMaxOrderShares: return "REJECTED_MAX_ORDER_SHARES";
    case RiskReason::kMaxOrderNotional: return "REJECTED_MAX_ORDER_NOTIONAL";
    case RiskReason::kNoReferencePrice: return "REJECTED_NO_REFERENCE_PRICE";
    case RiskReason::kPriceCollar: return "REJECTED_PRICE_COLLAR";
    case RiskReason::kMaxOpenOrdersPerSymbol: return "REJECTED_MAX_OPEN_ORDERS_PER_SYMBOL";
    case RiskReason::kMaxOpenOrders: return "REJECTED_MAX_OPEN_ORDERS";
    case RiskReason::kMaxPosition: return "REJECTED_MAX_POSITION";
    case RiskReason::kMaxTotalPosition: return "REJECTED_MAX_TOTAL_POSITION";
    case RiskReason::kMaxOrdersPerSecond: return "REJECTED_MAX_ORDERS_PER_SECOND";
  }
  return "UNKNOWN";
}

// Written by the hot-path owner only; readable from any thread (relaxed, never torn).
struct alignas(64) RiskCounters {
  pipe::RelaxedCounter decisions[kRiskReasonCount];  // index = RiskReason: [0] accepted, others rejected
  pipe::RelaxedCounter controls_applied;
  pipe::RelaxedCounter controls_refused;  // status != kApplied

  uint64_t of(RiskReason r) const noexcept { return decisions[static_cast<size_t>(r)].get(); }
  uint64_t rejected() const noexcept {
    uint64_t n = 0;
    for (size_t i = 1; i < kRiskReasonCount; ++i) n += decisions[i].get();
    return n;
  }
};

// Written by the control producer (the management core) only.
struct alignas(64) RiskControlProducerCounters {
  pipe::RelaxedCounter submitted;
  pipe::RelaxedCounter ring_full;  // refused by submit(): the caller reports the failure
};

// Bound on |position| (shares), asserted. Positions move by fills of orders that passed the checks
// (plus the odd overfill), adjustments and reconciliation (each |change| <= kMaxPositionLimit = 2^40):
// reaching 2^50 means the callbacks are wrong. It keeps every sum in check() far inside int64.
inline constexpr int64_t kPositionBound = int64_t{1} << 50;

class PreTradeRisk {
 public:
  // Allocates everything (the control ring included) here. Throws std::invalid_argument when the
  // limits do not validate: a configuration error.
  explicit PreTradeRisk(const RiskLimits& limits)
      : controls_(checked(limits).control_ring_size), limits_(limits) {
    symbol_count_ = static_cast<uint16_t>(limits.symbols.size());
    for (uint16_t i = 0; i < symbol_count_; ++i) refresh_slot(i);
    kill_ = limits.kill_switch ? 1u : 0u;
    max_open_total_ = limits.max_open_orders;
    max_total_ = limits.max_total_position;
    set_rate(limits.max_orders_per_second, limits.order_burst);
    tokens_ = cap_;
  }

  PreTradeRisk(const PreTradeRisk&) = delete;
  PreTradeRisk& operator=(const PreTradeRisk&) = delete;

  // ---- Hot path (the owner: the core that sends orders) ----

  // Decides whether `o` may be sent now. now_ns: the caller's monotonic time (TSC converted once per
  // burst, say); it only drives the rate bucket. On kAccepted one rate token is spent; the caller then
  // sends the order and calls on_order_sent (if it does not send it after all, the token stays spent).
  [[nodiscard]] RiskReason check(const OrderRequest& o, const Bbo& bbo, uint64_t now_ns) noexcept {
    assert(o.symbol < symbol_count_);
    const SymbolSlot& s = slots_[o.symbol];
    const bool buy = o.side == Side::kBuy;
    const int64_t shares = o.shares;

    // Price(4) x shares < 2^64; the limit is stored x 10000 (< 2^63): exact, no overflow.
    const uint64_t notional = uint64_t{o.price} * o.shares;
    // Collar: buy  price <= ask x (1 + bps/10000)  <=>  price x 10000 <= ask x (10000 + bps)
    //         sell price >= bid x (1 - bps/10000)  <=>  price x 10000 >= bid x (10000 - bps)   (< 2^47)
    const uint64_t price_e4 = uint64_t{o.price} * 10000u;
    const uint64_t reference = buy ? bbo.ask : bbo.bid;
    const bool outside_collar = buy ? price_e4 > reference * (10000u + s.collar_bps)
                                    : price_e4 < reference * (10000u - s.collar_bps);
    // Exposure if every open order on the order's side and the order itself fill (|x| < 2^53).
    const int64_t long_exposure = s.position + s.open_buy;
    const int64_t short_exposure = s.open_sell - s.position;
    const int64_t side_after = (buy ? long_exposure : short_exposure) + shares;
    const int64_t worst_before = std::max(long_exposure, short_exposure);
    const int64_t worst_after = std::max(worst_before, side_after);
    const int64_t gross_after = gross_ - worst_before + worst_after;

    // Every check as one bit, in contract order; the lowest set bit is the first failure.
    const uint32_t fail =
        kill_ |
        static_cast<uint32_t>((o.shares == 0) | (o.price == 0)) << 1 |
        static_cast<uint32_t>(o.shares > s.max_order_shares) << 2 |
        static_cast<uint32_t>(notional > s.max_notional_e4) << 3 |
        static_cast<uint32_t>(reference == 0) << 4 |
        static_cast<uint32_t>(outside_collar) << 5 |
        static_cast<uint32_t>(s.open_orders >= s.max_open_orders) << 6 |
        static_cast<uint32_t>(total_open_ >= max_open_total_) << 7 |
        static_cast<uint32_t>(side_after > s.max_position) << 8 |
        static_cast<uint32_t>((gross_after > max_total_) & (worst_after > worst_before)) << 9;
    RiskReason r = RiskReason::kAccepted;
    if (fail != 0) [[unlikely]] {
      r = static_cast<RiskReason>(std::countr_zero(fail) + 1);
    } else if (!take_token(now_ns)) [[unlikely]] {
      r = RiskReason::kMaxOrdersPerSecond;
    }
    counters_.decisions[static_cast<size_t>(r)].add();
    return r;
  }

  // The order checked last was sent: its shares are now open on its side.
  void on_order_sent(const OrderRequest& o) noexcept {
    assert(o.symbol < symbol_count_);
    assert(total_open_ < kMaxOpenOrdersLimit);
    SymbolSlot& s = slots_[o.symbol];
    const int64_t before = worst(s);
    (o.side == Side::kBuy ? s.open_buy : s.open_sell) += o.shares;
    ++s.open_orders;
    ++total_open_;
    gross_ += worst(s) - before;
  }

  // A fill of `filled_shares` on `side`: the position moves by all of them. open_shares_consumed: how
  // many of the order's still-open shares it used up: normally filled_shares; less for an overfill
  // (the order's remainder), 0 for a fill of an order already terminal or unknown (the order tracker
  // knows which). order_closed: nothing of the order remains open now.
  void on_fill(uint16_t symbol, Side side, uint32_t filled_shares, uint32_t open_shares_consumed,
               bool order_closed) noexcept {
    assert(symbol < symbol_count_);
    assert(open_shares_consumed <= filled_shares);
    SymbolSlot& s = slots_[symbol];
    const int64_t before = worst(s);
    int64_t& open = side == Side::kBuy ? s.open_buy : s.open_sell;
    assert(open >= open_shares_consumed);  // the caller consumes only what it had open
    open -= open_shares_consumed;
    s.position += side == Side::kBuy ? int64_t{filled_shares} : -int64_t{filled_shares};
    assert(s.position >= -kPositionBound && s.position <= kPositionBound);
    if (order_closed) close_one(s);
    gross_ += worst(s) - before;
  }

  // The position moves without an order of ours changing: a broken trade reversed (delta of the
  // opposite sign), a correction the order core decided. |delta| <= kMaxPositionLimit.
  void on_position_adjust(uint16_t symbol, int64_t delta) noexcept {
    assert(symbol < symbol_count_);
    assert(delta >= -kMaxPositionLimit && delta <= kMaxPositionLimit);
    SymbolSlot& s = slots_[symbol];
    const int64_t before = worst(s);
    s.position += delta;
    assert(s.position >= -kPositionBound && s.position <= kPositionBound);
    gross_ += worst(s) - before;
  }

  // Sets one symbol's exposure to what the order tracker says it is now: position, open shares per side
  // and live orders. The trading stage calls this after every tracker change instead of the
  // incremental callbacks, so replaces, anomalies and overfills can never make the two disagree.
  void sync_exposure(uint16_t symbol, int64_t position, uint64_t open_buy, uint64_t open_sell,
                     uint32_t open_orders) noexcept {
    assert(symbol < symbol_count_);
    assert(position >= -kPositionBound && position <= kPositionBound);
    SymbolSlot& s = slots_[symbol];
    const int64_t before = worst(s);
    assert(total_open_ >= s.open_orders);
    total_open_ = total_open_ - s.open_orders + open_orders;
    s.position = position;
    s.open_buy = static_cast<int64_t>(open_buy);
    s.open_sell = static_cast<int64_t>(open_sell);
    s.open_orders = open_orders;
    gross_ += worst(s) - before;
  }

  // An open order on `side` left the book without (further) fills: cancelled, expired, rejected by the
  // exchange. unfilled_shares: what was still open of it.
  void on_order_closed(uint16_t symbol, Side side, uint32_t unfilled_shares) noexcept {
    assert(symbol < symbol_count_);
    SymbolSlot& s = slots_[symbol];
    const int64_t before = worst(s);
    int64_t& open = side == Side::kBuy ? s.open_buy : s.open_sell;
    assert(open >= unfilled_shares);
    open -= unfilled_shares;
    close_one(s);
    gross_ += worst(s) - before;
  }

  // Applies at most events.size() queued controls (oldest first), one event each into `events`;
  // returns how many. Call between orders; now_ns as for check().
  uint32_t apply_pending_controls(uint64_t now_ns, std::span<RiskControlEvent> events) noexcept {
    uint32_t n = 0;
    RiskControl c;
    while (n < events.size() && controls_.try_pop(c)) events[n++] = apply(c, now_ns);
    return n;
  }

  // True when a control may be waiting (the owner's cheap look before it makes room to apply them).
  bool controls_pending() const noexcept { return controls_.size_approx() != 0; }

  // ---- Control producer (the management core; exactly one thread) ----

  // Queues a change; false when the ring is full (nothing queued: report it to the requester).
  bool submit(const RiskControl& c) noexcept {
    if (!controls_.try_push(c)) {
      producer_counters_.ring_full.add();
      return false;
    }
    producer_counters_.submitted.add();
    return true;
  }

  // ---- Owner, off the per-order path ----

  void snapshot(RiskStateSnapshot& out) const noexcept {
    out = RiskStateSnapshot{};
    out.symbol_count = symbol_count_;
    out.kill_switch = static_cast<uint8_t>(kill_);
    out.defaults = limits_.defaults;
    out.max_total_position = limits_.max_total_position;
    out.max_open_orders = limits_.max_open_orders;
    out.max_orders_per_second = limits_.max_orders_per_second;
    out.order_burst = limits_.order_burst;
    for (uint16_t i = 0; i < symbol_count_; ++i) {
      RiskSymbolSnapshot& d = out.symbols[i];
      const SymbolSlot& s = slots_[i];
      std::memcpy(d.symbol, limits_.symbols[i].data(), limits_.symbols[i].size());
      d.position = s.position;
      d.open_buy_shares = s.open_buy;
      d.open_sell_shares = s.open_sell;
      d.open_orders = s.open_orders;
      d.overridden = limits_.overridden[i];
      d.limits = limits_.per_symbol[i];
    }
  }

  // Replaces exposure (and, by `mode`, limits) with a snapshot's. The kill switch ends engaged if the
  // snapshot or the configuration has it engaged. The rate bucket starts full at now_ns. Returns "" or
  // an error naming the field; on error nothing changes.
  std::string restore(const RiskStateSnapshot& in, LimitsOnRestore mode, uint64_t now_ns) {
    if (in.magic != RiskStateSnapshot::kMagic) return "risk snapshot: bad magic";
    if (in.version != RiskStateSnapshot::kVersion)
      return "risk snapshot: version " + std::to_string(in.version) + ", expected " +
             std::to_string(RiskStateSnapshot::kVersion);
    if (in.symbol_count != symbol_count_)
      return "risk snapshot: " + std::to_string(in.symbol_count) + " symbols, configured " +
             std::to_string(symbol_count_);
    if (in.kill_switch > 1) return "risk snapshot: kill_switch " + std::to_string(in.kill_switch) + ", expected 0 or 1";
    RiskLimits restored = limits_;
    if (mode == LimitsOnRestore::kFromSnapshot) {
      restored.defaults = in.defaults;
      restored.max_total_position = in.max_total_position;
      restored.max_open_orders = in.max_open_orders;
      restored.max_orders_per_second = in.max_orders_per_second;
      restored.order_burst = in.order_burst;
    }
    int64_t total_open = 0;
    for (uint16_t i = 0; i < symbol_count_; ++i) {
      const RiskSymbolSnapshot& d = in.symbols[i];
      const std::string where = "risk snapshot: symbols[" + std::to_string(i) + "]";
      const std::string name(d.symbol, strnlen(d.symbol, kSymbolNameBytes));
      if (name != limits_.symbols[i]) return where + " is \"" + name + "\", configured \"" + limits_.symbols[i] + "\"";
      if (d.position < -kMaxPositionLimit || d.position > kMaxPositionLimit)
        return where + ".position: " + std::to_string(d.position) + " outside +-" + std::to_string(kMaxPositionLimit);
      const int64_t max_open_shares = int64_t{d.open_orders} * int64_t{UINT32_MAX};
      if (d.open_orders > kMaxOpenOrdersLimit || d.open_buy_shares < 0 || d.open_sell_shares < 0 ||
          d.open_buy_shares > max_open_shares || d.open_sell_shares > max_open_shares)
        return where + ": open orders/shares inconsistent (" + std::to_string(d.open_orders) + " orders, " +
               std::to_string(d.open_buy_shares) + " buy, " + std::to_string(d.open_sell_shares) + " sell shares)";
      total_open += d.open_orders;
      if (mode == LimitsOnRestore::kFromSnapshot) {
        restored.per_symbol[i] = d.limits;
        restored.overridden[i] = d.overridden;
      }
    }
    if (total_open > kMaxOpenOrdersLimit) return "risk snapshot: " + std::to_string(total_open) + " open orders in all";
    if (std::string e = validate(restored); !e.empty()) return "risk snapshot: " + e;

    limits_ = std::move(restored);
    total_open_ = 0;
    gross_ = 0;
    for (uint16_t i = 0; i < symbol_count_; ++i) {
      refresh_slot(i);
      SymbolSlot& s = slots_[i];
      s.position = in.symbols[i].position;
      s.open_buy = in.symbols[i].open_buy_shares;
      s.open_sell = in.symbols[i].open_sell_shares;
      s.open_orders = in.symbols[i].open_orders;
      total_open_ += s.open_orders;
      gross_ += worst(s);
    }
    kill_ = (in.kill_switch != 0 || limits_.kill_switch) ? 1u : 0u;
    max_open_total_ = limits_.max_open_orders;
    max_total_ = limits_.max_total_position;
    set_rate(limits_.max_orders_per_second, limits_.order_burst);
    tokens_ = cap_;
    last_ns_ = now_ns;
    return "";
  }

  // ---- Reads (owner thread; the management plane reads counters() or a snapshot) ----

  uint16_t symbol_count() const noexcept { return symbol_count_; }
  int64_t position(uint16_t symbol) const noexcept { return slot(symbol).position; }
  int64_t open_buy_shares(uint16_t symbol) const noexcept { return slot(symbol).open_buy; }
  int64_t open_sell_shares(uint16_t symbol) const noexcept { return slot(symbol).open_sell; }
  uint32_t open_orders(uint16_t symbol) const noexcept { return slot(symbol).open_orders; }
  uint32_t total_open_orders() const noexcept { return total_open_; }
  // Sum over symbols of max(position + open buys, open sells - position): docs/risk.md.
  int64_t gross_exposure() const noexcept { return gross_; }
  bool kill_switch() const noexcept { return kill_ != 0; }
  uint64_t tokens() const noexcept { return tokens_ / kTokenUnit; }  // whole orders, as of the last refill
  const RiskLimits& limits() const noexcept { return limits_; }
  const RiskCounters& counters() const noexcept { return counters_; }
  const RiskControlProducerCounters& producer_counters() const noexcept { return producer_counters_; }

 private:
  // One cache line per symbol: its exposure and the limits the checks compare it with.
  struct alignas(64) SymbolSlot {
    int64_t position = 0;
    int64_t open_buy = 0;   // unfilled shares of open buys
    int64_t open_sell = 0;
    int64_t max_position = 0;
    uint64_t max_notional_e4 = 0;  // max_order_notional x 10000: Price(4) x shares units
    uint32_t open_orders = 0;
    uint32_t max_open_orders = 0;
    uint32_t max_order_shares = 0;
    uint32_t collar_bps = 0;
  };
  static_assert(sizeof(SymbolSlot) == 64);

  // A token is kTokenUnit units; the bucket gains max_orders_per_second units per nanosecond, so refill
  // is exact integer arithmetic with no division on the hot path.
  static constexpr uint64_t kTokenUnit = 1'000'000'000;

  static const RiskLimits& checked(const RiskLimits& limits) {
    if (std::string e = validate(limits); !e.empty()) throw std::invalid_argument("PreTradeRisk: " + e);
    return limits;
  }

  const SymbolSlot& slot(uint16_t symbol) const noexcept {
    assert(symbol < symbol_count_);
    return slots_[symbol];
  }

  static int64_t worst(const SymbolSlot& s) noexcept {
    // >= 0: the two terms sum to the open shares.
    return std::max(s.position + s.open_buy, s.open_sell - s.position);
  }

  void close_one(SymbolSlot& s) noexcept {
    assert(s.open_orders > 0 && total_open_ > 0);
    --s.open_orders;
    --total_open_;
  }

  void refresh_slot(uint16_t i) noexcept {
    const SymbolLimits& l = limits_.per_symbol[i];
    SymbolSlot& s = slots_[i];
    s.max_position = l.max_position;
    s.max_notional_e4 = static_cast<uint64_t>(l.max_order_notional) * 10000u;
    s.max_open_orders = l.max_open_orders_per_symbol;
    s.max_order_shares = l.max_order_shares;
    s.collar_bps = l.price_collar_bps;
  }

  void set_rate(uint32_t per_second, uint32_t burst) noexcept {
    rate_ = per_second;
    cap_ = uint64_t{burst} * kTokenUnit;
    full_refill_ns_ = (cap_ + rate_ - 1) / rate_;
    tokens_ = std::min(tokens_, cap_);
  }

  void refill(uint64_t now_ns) noexcept {
    if (now_ns <= last_ns_) return;  // time did not advance (or went back): no refill
    const uint64_t elapsed = now_ns - last_ns_;
    // elapsed < full_refill_ns_ keeps elapsed x rate_ below cap_ + rate_ (no overflow).
    tokens_ = elapsed >= full_refill_ns_ ? cap_ : std::min(cap_, tokens_ + elapsed * rate_);
    last_ns_ = now_ns;
  }

  bool take_token(uint64_t now_ns) noexcept {
    refill(now_ns);
    if (tokens_ < kTokenUnit) return false;
    tokens_ -= kTokenUnit;
    return true;
  }

  RiskControlEvent apply(const RiskControl& c, uint64_t now_ns) noexcept {
    RiskControlEvent e{.request_id = c.request_id, .applied_ns = now_ns, .kind = c.kind, .limit = c.limit,
                       .symbol = c.symbol, .status = RiskControlStatus::kApplied};
    e.status = apply_to(c, now_ns, e);
    if (e.status != RiskControlStatus::kApplied) e.new_value = e.old_value;
    (e.status == RiskControlStatus::kApplied ? counters_.controls_applied : counters_.controls_refused).add();
    return e;
  }

  RiskControlStatus apply_to(const RiskControl& c, uint64_t now_ns, RiskControlEvent& e) noexcept {
    const auto in_range = [&](RiskLimitId id) {
      const LimitRange r = limit_range(id);
      return c.value >= r.min && c.value <= r.max;
    };
    const bool known_limit = static_cast<size_t>(c.limit) < kRiskLimitCount;
    switch (c.kind) {
      case RiskControlKind::kKillSwitch:
        e.old_value = kill_;
        if (c.value != 0 && c.value != 1) return RiskControlStatus::kOutOfRange;
        kill_ = static_cast<uint32_t>(c.value);
        e.new_value = kill_;
        limits_.kill_switch = kill_ != 0;
        return RiskControlStatus::kApplied;

      case RiskControlKind::kResetRateBucket:
        refill(now_ns);
        e.old_value = static_cast<int64_t>(tokens_ / kTokenUnit);
        tokens_ = cap_;
        e.new_value = static_cast<int64_t>(tokens_ / kTokenUnit);
        return RiskControlStatus::kApplied;

      case RiskControlKind::kSetPosition: {
        if (c.symbol >= symbol_count_) return RiskControlStatus::kBadSymbol;
        SymbolSlot& s = slots_[c.symbol];
        e.old_value = s.position;
        if (c.value < -kMaxPositionLimit || c.value > kMaxPositionLimit) return RiskControlStatus::kOutOfRange;
        const int64_t before = worst(s);
        s.position = c.value;
        gross_ += worst(s) - before;
        e.new_value = s.position;
        return RiskControlStatus::kApplied;
      }

      case RiskControlKind::kSetSymbolLimit: {
        if (c.symbol >= symbol_count_) return RiskControlStatus::kBadSymbol;
        if (!known_limit || !is_per_symbol(c.limit)) return RiskControlStatus::kBadLimit;
        SymbolLimits& l = limits_.per_symbol[c.symbol];
        e.old_value = l.get(c.limit);
        if (!in_range(c.limit)) return RiskControlStatus::kOutOfRange;
        l.set(c.limit, c.value);
        limits_.overridden[c.symbol] =
            static_cast<uint8_t>(limits_.overridden[c.symbol] | (1u << static_cast<unsigned>(c.limit)));
        refresh_slot(c.symbol);
        e.new_value = c.value;
        return RiskControlStatus::kApplied;
      }

      case RiskControlKind::kSetGlobalLimit: {
        if (!known_limit) return RiskControlStatus::kBadLimit;
        e.old_value = limits_.get_global(c.limit);
        if (!in_range(c.limit)) return RiskControlStatus::kOutOfRange;
        e.new_value = c.value;
        if (is_per_symbol(c.limit)) {
          limits_.defaults.set(c.limit, c.value);
          const unsigned bit = 1u << static_cast<unsigned>(c.limit);
          for (uint16_t i = 0; i < symbol_count_; ++i) {
            if ((limits_.overridden[i] & bit) != 0) continue;
            limits_.per_symbol[i].set(c.limit, c.value);
            refresh_slot(i);
          }
          return RiskControlStatus::kApplied;
        }
        switch (c.limit) {
          case RiskLimitId::kMaxTotalPosition:
            limits_.max_total_position = max_total_ = c.value;
            break;
          case RiskLimitId::kMaxOpenOrders:
            limits_.max_open_orders = max_open_total_ = static_cast<uint32_t>(c.value);
            break;
          case RiskLimitId::kMaxOrdersPerSecond:
            refill(now_ns);  // time so far at the old rate
            limits_.max_orders_per_second = static_cast<uint32_t>(c.value);
            set_rate(limits_.max_orders_per_second, limits_.order_burst);
            break;
          default:  // kOrderBurst
            refill(now_ns);
            limits_.order_burst = static_cast<uint32_t>(c.value);
            set_rate(limits_.max_orders_per_second, limits_.order_burst);
            break;
        }
        return RiskControlStatus::kApplied;
      }
    }
    return RiskControlStatus::kBadKind;
  }

  // Hot: the per-symbol table, then the global state the checks read, on its own line.
  std::array<SymbolSlot, kMaxRiskSymbols> slots_{};
  alignas(64) uint32_t kill_ = 0;  // 0 or 1: bit 0 of the failure mask
  uint32_t total_open_ = 0;
  uint32_t max_open_total_ = 0;
  uint16_t symbol_count_ = 0;
  int64_t gross_ = 0;
  int64_t max_total_ = 0;
  uint64_t tokens_ = 0;  // in kTokenUnit units
  uint64_t last_ns_ = 0;
  uint64_t rate_ = 1;    // units per ns == orders per second
  uint64_t cap_ = 0;
  uint64_t full_refill_ns_ = 1;

  RiskCounters counters_;
  SpscRing<RiskControl> controls_;
  RiskControlProducerCounters producer_counters_;
  RiskLimits limits_;  // cold truth: configured values with run-time changes applied
};

}  // namespace pmm::risk
