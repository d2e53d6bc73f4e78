// The pre-trade checks written the plain way, as the property test's reference: state in 128-bit
// integers, every sum recomputed from scratch on every call (no incremental gross exposure), one `if`
// per check in the documented order, exact rational comparisons. Deliberately shares no code with
// risk/pre_trade_risk.hpp except the public types.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "risk/pre_trade_risk.hpp"

namespace pmm::risk::test {

__extension__ using Int128 = __int128;

class ReferenceRisk {
 public:
  explicit ReferenceRisk(const RiskLimits& l) : limits_(l), symbols_(l.symbols.size()) {
    kill_ = l.kill_switch;
    tokens_ = Int128{l.order_burst} * kUnit;
  }

  RiskReason check(const OrderRequest& o, const Bbo& bbo, uint64_t now_ns) {
    const Symbol& s = symbols_.at(o.symbol);
    const SymbolLimits& l = limits_.per_symbol.at(o.symbol);
    const bool buy = o.side == Side::kBuy;
    if (kill_) return RiskReason::kKillSwitch;
    if (o.shares == 0 || o.price == 0) return RiskReason::kInvalidOrder;
    if (o.shares > l.max_order_shares) return RiskReason::kMaxOrderShares;
    // Money: price is in 1/10000 currency units, the limit in whole units.
    if (Int128{o.price} * o.shares > Int128{l.max_order_notional} * 10000) return RiskReason::kMaxOrderNotional;
    const Int128 ref = buy ? bbo.ask : bbo.bid;
    if (ref == 0) return RiskReason::kNoReferencePrice;
    // How far the price goes through the reference, as a fraction of it: (distance / ref) > bps / 10000.
    const Int128 through = buy ? Int128{o.price} - ref : ref - Int128{o.price};
    if (through * 10000 > ref * l.price_collar_bps) return RiskReason::kPriceCollar;
    if (s.open_orders + 1 > l.max_open_orders_per_symbol) return RiskReason::kMaxOpenOrdersPerSymbol;
    Int128 total_open = 0;
    for (const Symbol& x : symbols_) total_open += x.open_orders;
    if (total_open + 1 > limits_.max_open_orders) return RiskReason::kMaxOpenOrders;
    const Int128 exposure = buy ? s.position + s.open_buy + o.shares : -s.position + s.open_sell + o.shares;
    if (exposure > l.max_position) return RiskReason::kMaxPosition;
    // Gross: per symbol, the largest |position| reachable if any subset of its open orders fills, i.e.
    // the larger magnitude of the interval's ends [position - open sells, position + open buys].
    Int128 before = 0;
    Int128 after = 0;
    for (size_t i = 0; i < symbols_.size(); ++i) {
      const Symbol& x = symbols_[i];
      Int128 hi = x.position + x.open_buy;
      Int128 lo = x.position - x.open_sell;
      before += std::max(abs(hi), abs(lo));
      if (i == o.symbol) (buy ? hi : lo) += buy ? Int128{o.shares} : -Int128{o.shares};
      after += std::max(abs(hi), abs(lo));
    }
    if (after > limits_.max_total_position && after > before) return RiskReason::kMaxTotalPosition;
    // Token bucket in exact units: a token is kUnit, refill is max_orders_per_second units per ns.
    if (now_ns > last_ns_) {
      tokens_ = std::min<Int128>(Int128{limits_.order_burst} * kUnit,
                                 tokens_ + Int128{now_ns - last_ns_} * limits_.max_orders_per_second);
      last_ns_ = now_ns;
    }
    if (tokens_ < kUnit) return RiskReason::kMaxOrdersPerSecond;
    tokens_ -= kUnit;
    return RiskReason::kAccepted;
  }

  void sent(const OrderRequest& o) {
    Symbol& s = symbols_.at(o.symbol);
    (o.side == Side::kBuy ? s.open_buy : s.open_sell) += o.shares;
    ++s.open_orders;
  }
  void fill(uint16_t symbol, Side side, uint32_t shares, uint32_t consumed, bool closed) {
    Symbol& s = symbols_.at(symbol);
    (side == Side::kBuy ? s.open_buy : s.open_sell) -= consumed;
    s.position += side == Side::kBuy ? Int128{shares} : -Int128{shares};
    if (closed) --s.open_orders;
  }
  void adjust(uint16_t symbol, int64_t delta) { symbols_.at(symbol).position += delta; }
  void closed(uint16_t symbol, Side side, uint32_t unfilled) {
    Symbol& s = symbols_.at(symbol);
    (side == Side::kBuy ? s.open_buy : s.open_sell) -= unfilled;
    --s.open_orders;
  }

  // The control semantics of docs/risk.md; returns the status the real one must report.
  RiskControlStatus apply(const RiskControl& c, uint64_t now_ns) {
    const auto in_range = [&](RiskLimitId id) { return c.value >= limit_range(id).min && c.value <= limit_range(id).max; };
    const bool known = static_cast<size_t>(c.limit) < kRiskLimitCount;
    switch (c.kind) {
      case RiskControlKind::kKillSwitch:
        if (c.value != 0 && c.value != 1) return RiskControlStatus::kOutOfRange;
        kill_ = c.value == 1;
        return RiskControlStatus::kApplied;
      case RiskControlKind::kResetRateBucket:
        if (now_ns > last_ns_) last_ns_ = now_ns;
        tokens_ = Int128{limits_.order_burst} * kUnit;
        return RiskControlStatus::kApplied;
      case RiskControlKind::kSetPosition:
        if (c.symbol >= symbols_.size()) return RiskControlStatus::kBadSymbol;
        if (c.value < -kMaxPositionLimit || c.value > kMaxPositionLimit) return RiskControlStatus::kOutOfRange;
        symbols_[c.symbol].position = c.value;
        return RiskControlStatus::kApplied;
      case RiskControlKind::kSetSymbolLimit:
        if (c.symbol >= symbols_.size()) return RiskControlStatus::kBadSymbol;
        if (!known || !is_per_symbol(c.limit)) return RiskControlStatus::kBadLimit;
        if (!in_range(c.limit)) return RiskControlStatus::kOutOfRange;
        limits_.per_symbol[c.symbol].set(c.limit, c.value);
        limits_.overridden[c.symbol] = static_cast<uint8_t>(limits_.overridden[c.symbol] | (1u << static_cast<unsigned>(c.limit)));
        return RiskControlStatus::kApplied;
      case RiskControlKind::kSetGlobalLimit:
        if (!known) return RiskControlStatus::kBadLimit;
        if (!in_range(c.limit)) return RiskControlStatus::kOutOfRange;
        if (is_per_symbol(c.limit)) {
          for (size_t i = 0; i < symbols_.size(); ++i)
            if (!overridden(i, c.limit)) limits_.per_symbol[i].set(c.limit, c.value);
          return RiskControlStatus::kApplied;
        }
        // Rate changes: the time so far counts at the old rate/capacity.
        if (c.limit == RiskLimitId::kMaxOrdersPerSecond || c.limit == RiskLimitId::kOrderBurst) {
          if (now_ns > last_ns_) {
            tokens_ = std::min<Int128>(Int128{limits_.order_burst} * kUnit,
                                       tokens_ + Int128{now_ns - last_ns_} * limits_.max_orders_per_second);
            last_ns_ = now_ns;
          }
        }
        if (c.limit == RiskLimitId::kMaxTotalPosition) limits_.max_total_position = c.value;
        if (c.limit == RiskLimitId::kMaxOpenOrders) limits_.max_open_orders = static_cast<uint32_t>(c.value);
        if (c.limit == RiskLimitId::kMaxOrdersPerSecond) limits_.max_orders_per_second = static_cast<uint32_t>(c.value);
        if (c.limit == RiskLimitId::kOrderBurst) limits_.order_burst = static_cast<uint32_t>(c.value);
        tokens_ = std::min<Int128>(tokens_, Int128{limits_.order_burst} * kUnit);
        return RiskControlStatus::kApplied;
    }
    return RiskControlStatus::kBadKind;
  }

  struct Symbol {
    Int128 position = 0;
    Int128 open_buy = 0;
    Int128 open_sell = 0;
    Int128 open_orders = 0;
  };
  const Symbol& symbol(size_t i) const { return symbols_.at(i); }
  const RiskLimits& limits() const { return limits_; }
  Int128 gross() const {
    Int128 g = 0;
    for (const Symbol& x : symbols_) g += std::max(abs(x.position + x.open_buy), abs(x.position - x.open_sell));
    return g;
  }
  Int128 whole_tokens() const { return tokens_ / kUnit; }

 private:
  static constexpr Int128 kUnit = 1'000'000'000;
  static Int128 abs(Int128 v) { return v < 0 ? -v : v; }
  bool overridden(size_t symbol, RiskLimitId id) const {
    return ((limits_.overridden.at(symbol) >> static_cast<unsigned>(id)) & 1u) != 0;
  }

  RiskLimits limits_;
  std::vector<Symbol> symbols_;
  bool kill_ = false;
  Int128 tokens_ = 0;
  uint64_t last_ns_ = 0;
};

}  // namespace pmm::risk::test
