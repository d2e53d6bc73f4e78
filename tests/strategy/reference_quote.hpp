// A plain long-double Avellaneda–Stoikov quote, written from the formulas in docs/strategy.md and
// independent of core/strategy's integer arithmetic: the tests' oracle.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace pmm::strategy::test {

struct RefParams {
  long double gamma = 0.01L;       // per dollar
  long double k = 100.0L;          // per dollar
  long double tick = 100;          // Price(4), from $1 up
  long double sub_dollar_tick = 1; // Price(4), below $1
  long double min_spread_ticks = 1;
  bool post_only = true;
  long double quote_size = 100;
  long double max_inventory = 1000;
};

struct RefQuote {
  long double reservation = 0;  // dollars
  long double spread = 0;       // dollars, the formula's delta before the floor
  long double bid = 0, ask = 0; // Price(4); 0: no quote on that side
  long double bid_shares = 0, ask_shares = 0;
};

// r = s - q gamma V, delta = gamma V + (2/gamma) ln(1 + gamma/k), V = sigma^2 (T - t) in dollars^2.
// nudge_r and nudge_spread (dollars) move r and delta before rounding: the tests use them to see
// whether a result sits on a rounding edge.
inline RefQuote reference_quote(const RefParams& p, long double best_bid, long double best_ask, long double q,
                                long double variance_dollars2, long double nudge_r = 0, long double nudge_spread = 0) {
  RefQuote out;
  const long double s = (best_bid + best_ask) / 2 / 10000;
  out.reservation = s - q * p.gamma * variance_dollars2;
  out.spread = p.gamma * variance_dollars2 + (2 / p.gamma) * std::log1p(p.gamma / p.k);
  const long double r = out.reservation + nudge_r;
  const long double r_p4 = r * 10000;
  const long double tick_r = std::floor(r_p4) >= 10000 ? p.tick : p.sub_dollar_tick;
  const long double spread = std::max(out.spread + nudge_spread, p.min_spread_ticks * tick_r / 10000);
  const auto grid_floor = [&](long double x) {
    if (x >= 10000) return 10000 + std::floor((x - 10000) / p.tick) * p.tick;
    return std::floor(x / p.sub_dollar_tick) * p.sub_dollar_tick;
  };
  const auto grid_ceil = [&](long double x) {
    if (x > 10000) return 10000 + std::ceil((x - 10000) / p.tick) * p.tick;
    return std::ceil(x / p.sub_dollar_tick) * p.sub_dollar_tick;
  };
  long double bid = grid_floor((r - spread / 2) * 10000);
  long double ask = grid_ceil((r + spread / 2) * 10000);
  if (p.post_only) {
    // Highest grid price below the best ask, lowest above the best bid.
    bid = std::min(bid, grid_floor(best_ask - 1));
    ask = std::max(ask, grid_ceil(best_bid + 1));
  }
  const long double bid_shares = std::clamp(p.max_inventory - q, 0.0L, p.quote_size);
  const long double ask_shares = std::clamp(p.max_inventory + q, 0.0L, p.quote_size);
  const auto valid = [](long double price) { return price >= 1 && price <= 1999999900.0L; };
  if (bid_shares > 0 && valid(bid)) {
    out.bid = bid;
    out.bid_shares = bid_shares;
  }
  if (ask_shares > 0 && valid(ask)) {
    out.ask = ask;
    out.ask_shares = ask_shares;
  }
  return out;
}

}  // namespace pmm::strategy::test
