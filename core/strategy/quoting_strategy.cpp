#include "core/strategy/quoting_strategy.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace pmm::strategy {

const char* to_string(Reason r) noexcept {
  switch (r) {
    case Reason::kQuoting: return "quoting";
    case Reason::kStale: return "stale";
    case Reason::kNotTrading: return "not_trading";
    case Reason::kNoBbo: return "no_bbo";
    case Reason::kCrossedBook: return "crossed_book";
    case Reason::kNoSide: return "no_side";
    case Reason::kBelowThreshold: return "below_threshold";
    case Reason::kThrottled: return "throttled";
  }
  return "?";
}

QuotingStrategy::QuotingStrategy(const StrategyConfig& config) : slots_(config.symbols.size()) {
  assert(config.symbols.size() <= kMaxSymbols);
  for (size_t i = 0; i < config.symbols.size(); ++i) {
    assert(validate(config.symbols[i].params, config.symbols[i].symbol).empty());
    Slot& s = slots_[i];
    s.name = config.symbols[i].symbol;
    s.params = derive_model_params(config.symbols[i].params);
    s.vol.reset(s.params.seed_num_q8, s.params.seed_den_ns);
  }
}

QuotingStrategy::Slot& QuotingStrategy::slot(uint32_t index) noexcept {
  assert(index < slots_.size());
  return slots_[index];
}
const QuotingStrategy::Slot& QuotingStrategy::slot(uint32_t index) const noexcept {
  assert(index < slots_.size());
  return slots_[index];
}

int QuotingStrategy::index_of(std::string_view symbol) const noexcept {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].name == symbol) return static_cast<int>(i);
  return -1;
}

void QuotingStrategy::on_top(uint32_t index, const TopOfBook& top, uint64_t now_ns) noexcept {
  Slot& s = slot(index);
  s.top = top;
  s.have_top = true;
  s.counters.tops.add();
  if (s.stale || top.bid_price == 0 || top.ask_price == 0 || top.bid_price >= top.ask_price) return;
  if (!s.vol.add(uint64_t{top.bid_price} + top.ask_price, now_ns, s.params.half_life_ns)) s.counters.time_backwards.add();
}

uint64_t QuotingStrategy::variance_q8(uint32_t index) const noexcept {
  const Slot& s = slot(index);
  // Before the first mid change the estimate is the prior itself: sigma_initial, exactly.
  if (s.vol.samples() == 0) return s.params.variance_initial_q8;
  return std::max(s.vol.horizon_variance_q8(s.params.horizon_ns), s.params.variance_floor_q8);
}

Decision QuotingStrategy::pause(Slot& s, Reason reason, uint64_t now_ns) noexcept {
  s.counters.by_reason[static_cast<size_t>(reason)].add();
  if (!s.live.any()) return {Action::kNone, reason, {}};
  // Pulling is never throttled: it removes risk.
  s.live = Quote{};
  s.last_message_ns = now_ns;
  s.sent_any = true;
  s.counters.pulls.add();
  return {Action::kPull, reason, {}};
}

Decision QuotingStrategy::evaluate(uint32_t index, uint64_t now_ns) noexcept {
  Slot& s = slot(index);
  s.counters.evaluations.add();
  if (s.stale) return pause(s, Reason::kStale, now_ns);
  if (s.trading_state != 'T') return pause(s, Reason::kNotTrading, now_ns);
  if (!s.have_top || s.top.bid_price == 0 || s.top.ask_price == 0) return pause(s, Reason::kNoBbo, now_ns);
  if (s.top.bid_price >= s.top.ask_price) return pause(s, Reason::kCrossedBook, now_ns);

  const ModelParams& m = s.params;
  const Quote target = compute_quote(m, s.top.bid_price, s.top.ask_price, s.inventory, variance_q8(index)).quote;
  if (!target.any()) return pause(s, Reason::kNoSide, now_ns);

  if (s.live.any()) {
    const auto moved = [&](const SideQuote& live, const SideQuote& want) {
      if (live.present() != want.present()) return true;
      if (!live.present()) return false;
      if (live.shares != want.shares) return true;
      const int64_t d = want.price > live.price ? int64_t{want.price} - live.price : int64_t{live.price} - want.price;
      return d > int64_t{m.requote_threshold_ticks} * tick_at(m, live.price);
    };
    // A live post-only quote the market has moved through must move whatever the threshold.
    const bool through = m.post_only && ((s.live.bid.present() && s.live.bid.price >= s.top.ask_price) ||
                                         (s.live.ask.present() && s.live.ask.price <= s.top.bid_price));
    if (!through && !moved(s.live.bid, target.bid) && !moved(s.live.ask, target.ask)) {
      s.counters.by_reason[static_cast<size_t>(Reason::kBelowThreshold)].add();
      return {Action::kNone, Reason::kBelowThreshold, target};
    }
  }
  // Throttled only inside [last, last + interval): a clock that went back does not block quoting.
  if (s.sent_any && now_ns >= s.last_message_ns && now_ns - s.last_message_ns < m.min_requote_interval_ns) {
    s.counters.by_reason[static_cast<size_t>(Reason::kThrottled)].add();
    return {Action::kNone, Reason::kThrottled, target};
  }
  s.live = target;
  s.last_message_ns = now_ns;
  s.sent_any = true;
  s.counters.requotes.add();
  s.counters.by_reason[static_cast<size_t>(Reason::kQuoting)].add();
  return {Action::kRequote, Reason::kQuoting, target};
}

void QuotingStrategy::save(StrategyState& out) const noexcept {
  out = StrategyState{};
  out.symbol_count = static_cast<uint16_t>(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    SymbolStrategyState& o = out.symbols[i];
    o.symbol.fill(' ');
    std::memcpy(o.symbol.data(), s.name.data(), std::min<size_t>(s.name.size(), o.symbol.size()));
    o.variance_num_q8 = s.vol.num_q8();
    o.variance_den_ns = s.vol.den_ns();
    o.variance_samples = s.vol.samples();
    o.last_mid2 = s.vol.last_mid2();
    o.last_mid_ns = s.vol.last_ns();
    o.last_message_ns = s.last_message_ns;
    o.bid_price = s.live.bid.price;
    o.bid_shares = s.live.bid.shares;
    o.ask_price = s.live.ask.price;
    o.ask_shares = s.live.ask.shares;
    o.flags = (s.vol.has_mid() ? SymbolStrategyState::kHasMid : 0u) | (s.sent_any ? SymbolStrategyState::kSentAny : 0u);
  }
}

std::string QuotingStrategy::restore(const StrategyState& in, uint32_t* restored) {
  if (restored) *restored = 0;
  if (in.magic != kStrategyStateMagic) return "strategy state: bad magic (not a strategy state file)";
  if (in.version != kStrategyStateVersion)
    return "strategy state: version " + std::to_string(in.version) + ", expected " + std::to_string(kStrategyStateVersion);
  if (in.size != sizeof(StrategyState))
    return "strategy state: size " + std::to_string(in.size) + ", expected " + std::to_string(sizeof(StrategyState));
  if (in.symbol_count > kMaxSymbols)
    return "strategy state: symbol_count " + std::to_string(in.symbol_count) + ", expected at most " +
           std::to_string(kMaxSymbols);
  for (size_t i = 0; i < in.symbol_count; ++i) {
    const SymbolStrategyState& o = in.symbols[i];
    std::string_view name(o.symbol.data(), o.symbol.size());
    name = name.substr(0, name.find_last_not_of(' ') + 1);
    const int idx = index_of(name);
    if (idx < 0) continue;
    Slot& s = slots_[static_cast<size_t>(idx)];
    s.vol.restore(o.variance_num_q8, o.variance_den_ns, o.variance_samples, (o.flags & SymbolStrategyState::kHasMid) != 0,
                  o.last_mid2, o.last_mid_ns);
    s.sent_any = (o.flags & SymbolStrategyState::kSentAny) != 0;
    s.last_message_ns = o.last_message_ns;
    Quote q;
    if (o.bid_shares != 0 && o.bid_price >= 1 && o.bid_price <= kMaxQuotePrice) q.bid = {o.bid_price, o.bid_shares};
    if (o.ask_shares != 0 && o.ask_price >= 1 && o.ask_price <= kMaxQuotePrice) q.ask = {o.ask_price, o.ask_shares};
    if (q.bid.present() && q.ask.present() && q.bid.price >= q.ask.price) q = Quote{};  // not one we would send
    s.live = q;
    if (restored) ++*restored;
  }
  return "";
}

}  // namespace pmm::strategy
