// Pre-trade risk in the closed loop: a strategy that wants far more than the limits allow (large
// quotes, unbounded inventory, skewed quotes that cross the book) against tight limits, with the kill
// switch engaged and released mid-day through the control ring. Every order the engine receives is
// checked against the limits by plain arithmetic here, with the engine's own positions and open
// orders at that moment and the book as the BookBuilder had it when the order left; and each kind of
// rejection the test drives must have happened.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}

// Large quotes, no inventory bound of its own, no post-only, and a skew of ~$0.01 per share of
// inventory: after a fill the reducing side is priced through the book.
constexpr const char* kGreedyStrategy = R"({
  "quote_size": 400, "max_inventory": 1000000, "post_only": false,
  "gamma": 0.1, "sigma_initial": 0.05, "sigma_floor": 0.05, "horizon_ms": 20000,
  "min_requote_interval_us": 1000, "requote_threshold_ticks": 0
})";

struct Limits {
  int64_t max_position = 1000;     // a quote and its replacement fit; two fills and one more do not
  uint32_t max_order_shares = 1000;
  uint32_t small_order_shares = 300;  // the last symbol's: below quote_size
  int64_t collar_bps = 10;
  uint32_t max_open_per_symbol = 2;
  uint32_t one_sided_open = 1;     // the first symbol's: one side at a time
  uint32_t max_open_orders = 4;    // fewer than 2 sides x 3 quotable symbols
  uint32_t rate = 1;               // orders per second
  uint32_t burst = 1;
};

std::string risk_json(const Limits& l, const std::string& one_sided, const std::string& small_symbol) {
  using std::to_string;
  return "{\"max_position\": " + to_string(l.max_position) + ", \"max_order_shares\": " + to_string(l.max_order_shares) +
         ", \"max_order_notional\": 100000000, \"max_open_orders_per_symbol\": " + to_string(l.max_open_per_symbol) +
         ", \"price_collar_bps\": " + to_string(l.collar_bps) + ", \"max_total_position\": 1000000" +
         ", \"max_open_orders\": " + to_string(l.max_open_orders) + ", \"max_orders_per_second\": " + to_string(l.rate) +
         ", \"order_burst\": " + to_string(l.burst) + ", \"symbols\": {\"" + one_sided +
         "\": {\"max_open_orders_per_symbol\": " + to_string(l.one_sided_open) + "}, \"" + small_symbol +
         "\": {\"max_order_shares\": " + to_string(l.small_order_shares) + "}}}";
}

struct SentOrder {
  int symbol = -1;
  char side = ' ';
  uint32_t price = 0;
  uint32_t shares = 0;
  uint32_t bid = 0, ask = 0;  // the BookBuilder's best prices when it left (0: side empty)
  uint64_t as_of = 0;
};

TEST(TradingRisk, NoOrderEverPassesALimit) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  const Limits lim;
  risk::RiskLimits limits;
  ASSERT_EQ(risk::parse_risk_limits_json(risk_json(lim, symbols.front(), symbols.back()), symbols, limits), "");
  TradingLoop loop(day(), trading_config(symbols, kGreedyStrategy, limits), LoopOptions{});
  const auto shares_limit = [&](int sym) {
    return static_cast<size_t>(sym) + 1 == symbols.size() ? lim.small_order_shares : lim.max_order_shares;
  };

  std::map<std::string, std::pair<int, char>> token_owner;  // token -> (symbol, side), replacements too
  std::map<uint64_t, SentOrder> sent;                       // by session sequence: Enter and Replace only
  std::vector<uint64_t> as_of_of_orders;                    // rate check: Enter + Replace, in order
  bool kill = false;
  uint64_t orders_while_killed = 0, cancels_while_killed = 0;

  loop.on_stage_packet = [&](const StagePacket& p) {
    if (p.request || p.retransmission) return;
    const uint8_t type = p.ouch[0];
    if (type == 'X') {
      if (kill) ++cancels_while_killed;
      return;
    }
    if (kill) ++orders_while_killed;
    SentOrder o;
    o.as_of = p.as_of;
    if (type == 'O') {
      ouch::EnterOrder m;
      ouch::decode(p.ouch, m);
      const std::string stock(m.stock.data(), m.stock.size());
      for (size_t s = 0; s < symbols.size(); ++s)
        if (itch::make_symbol(symbols[s].c_str()) == m.stock) o.symbol = static_cast<int>(s);
      ASSERT_GE(o.symbol, 0) << stock;
      o.side = m.side;
      o.price = m.price;
      o.shares = m.shares;
      token_owner[std::string(m.token.data(), m.token.size())] = {o.symbol, o.side};
    } else {
      ASSERT_EQ(type, 'U');
      ouch::ReplaceOrder m;
      ouch::decode(p.ouch, m);
      const auto it = token_owner.find(std::string(m.existing_token.data(), m.existing_token.size()));
      ASSERT_NE(it, token_owner.end());
      o.symbol = it->second.first;
      o.side = it->second.second;
      o.price = m.price;
      o.shares = m.shares;
      token_owner[std::string(m.replacement_token.data(), m.replacement_token.size())] = it->second;
    }
    const book::TopOfBook t = loop.book().books().top(loop.locate_of(static_cast<size_t>(o.symbol)));
    o.bid = t.bid.shares != 0 ? t.bid.price : 0;
    o.ask = t.ask.shares != 0 ? t.ask.price : 0;
    sent[p.sequence] = o;
    as_of_of_orders.push_back(p.as_of);
  };

  uint64_t checked = 0;
  loop.before_engine_request = [&](const EngineRequest& r, const sim::MatchingEngine& engine) {
    if (r.type == 'X') return;
    const auto it = sent.find(r.sequence);
    ASSERT_NE(it, sent.end()) << "the engine got an order the stage never sent: " << r.sequence;
    const SentOrder& o = it->second;
    const uint16_t locate = loop.locate_of(static_cast<size_t>(o.symbol));
    const bool buy = o.side == 'B';
    // The engine's view of our account now.
    int64_t position = 0;
    for (const sim::PositionView& p : engine.positions(loop.account()))
      if (p.locate == locate) position = p.shares;
    // A replace takes its order's place in the counts. Its open shares stay in the exposure: fills of it
    // may be on their way to the stage, and the replacement rests with its full size whatever they were.
    std::string replaced;
    if (r.type == 'U') {
      ouch::ReplaceOrder m;
      ouch::decode(r.ouch.data(), m);
      replaced.assign(m.existing_token.data(), m.existing_token.size());
    }
    int64_t open_same_side = 0;
    uint32_t open_symbol = 0, open_total = 0;
    for (const sim::OpenOrderView& v : engine.open_orders(loop.account())) {
      if (v.locate == locate && (v.side == 'B') == buy) open_same_side += v.open_shares;
      if (std::string(v.token.data(), v.token.size()) == replaced) continue;
      ++open_total;
      if (v.locate == locate) ++open_symbol;
    }
    const std::string where = "order " + std::to_string(r.sequence) + " (" + std::string(1, static_cast<char>(r.type)) +
                              " " + symbols[static_cast<size_t>(o.symbol)] + " " + o.side + " " +
                              std::to_string(o.shares) + " @ " + std::to_string(o.price) + ")";
    EXPECT_FALSE(o.shares == 0 || o.price == 0) << where;
    EXPECT_LE(o.shares, shares_limit(o.symbol)) << where;
    // Exposure of the order's side if everything on it fills: long = position + open buys + order,
    // short = open sells - position + order (a replaced order's open shares included, see above).
    const int64_t exposure = (buy ? position : -position) + open_same_side + o.shares;
    EXPECT_LE(exposure, lim.max_position) << where << ": position " << position << ", open " << open_same_side;
    EXPECT_LE(open_symbol + 1, o.symbol == 0 ? lim.one_sided_open : lim.max_open_per_symbol) << where;
    EXPECT_LE(open_total + 1, lim.max_open_orders) << where;
    // Collar: only the aggressive direction, against the opposite best the stage's book had.
    const uint64_t reference = buy ? o.ask : o.bid;
    EXPECT_NE(reference, 0u) << where;
    if (buy)
      EXPECT_LE(uint64_t{o.price} * 10000, reference * (10000 + uint64_t(lim.collar_bps))) << where;
    else
      EXPECT_GE(uint64_t{o.price} * 10000, reference * (10000 - uint64_t(lim.collar_bps))) << where;
    ++checked;
  };

  const size_t engage_at = day().size() * 45 / 100, release_at = day().size() * 55 / 100;
  loop.run_to(engage_at);
  const uint64_t kill_rejects_before = loop.stage().risk().counters().of(risk::RiskReason::kKillSwitch);
  ASSERT_TRUE(loop.stage().risk_controls().submit(risk::kill_switch_control(true, 1)));
  kill = true;
  loop.run_to(release_at);
  EXPECT_TRUE(loop.stage().risk().kill_switch());
  ASSERT_TRUE(loop.stage().risk_controls().submit(risk::kill_switch_control(false, 2)));
  kill = false;
  const size_t orders_before_release = as_of_of_orders.size();
  loop.run_all();
  loop.finish_feed();
  EXPECT_FALSE(loop.stage().risk().kill_switch());

  const risk::RiskCounters& rc = loop.stage().risk().counters();
  EXPECT_EQ(orders_while_killed, 0u);
  EXPECT_GT(rc.of(risk::RiskReason::kKillSwitch), kill_rejects_before);
  EXPECT_GT(as_of_of_orders.size(), orders_before_release) << "quoting resumed after the release";
  EXPECT_EQ(rc.controls_applied.get(), 2u);

  // Rate: in any window [a_i, a_j] of orders sent, j - i + 1 <= burst + rate x (a_j - a_i) / 1 s,
  // i.e. g(j) - min over i <= j of g(i) <= (burst - 1) x 1e9 with g(k) = k x 1e9 - rate x a_k.
  int64_t min_g = INT64_MAX;
  for (size_t k = 0; k < as_of_of_orders.size(); ++k) {
    const int64_t g = static_cast<int64_t>(k) * 1'000'000'000 - int64_t{lim.rate} * static_cast<int64_t>(as_of_of_orders[k]);
    min_g = std::min(min_g, g);
    ASSERT_LE(g - min_g, int64_t{lim.burst - 1} * 1'000'000'000) << "order " << k << " at " << as_of_of_orders[k];
  }

  // Everything was exercised: orders reached the engine and were checked, and every limit refused some.
  EXPECT_GT(checked, 50u);
  EXPECT_GT(loop.engine().stats().executions, 2u);
  for (const risk::RiskReason r :
       {risk::RiskReason::kKillSwitch, risk::RiskReason::kMaxOrderShares, risk::RiskReason::kPriceCollar,
        risk::RiskReason::kMaxOpenOrdersPerSymbol, risk::RiskReason::kMaxOpenOrders, risk::RiskReason::kMaxPosition,
        risk::RiskReason::kMaxOrdersPerSecond})
    EXPECT_GT(rc.of(r), 0u) << risk::to_string(r);
  EXPECT_EQ(loop.stage().figures().risk_rejects.get(), rc.rejected());
}

// Limits that allow exactly one order per side (2 per symbol, 2 per symbol in all) must not freeze the
// quotes: a replace takes its order's place, it does not add one.
TEST(TradingRisk, OneOrderPerSideLimitsLetQuotesMove) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  risk::SymbolLimits d;
  d.max_position = 100000;
  d.max_order_notional = 100'000'000;
  d.max_order_shares = 100000;
  d.max_open_orders_per_symbol = 2;
  d.price_collar_bps = 1000;
  const risk::RiskLimits limits = risk::uniform_limits(symbols, d, 1'000'000, 2 * 4, 100000, 1000);
  TradingLoop loop(day(), trading_config(symbols, R"({"quote_size": 100, "max_inventory": 1000})", limits),
                   LoopOptions{});
  loop.run_to(day().size() / 2);
  const risk::RiskCounters& rc = loop.stage().risk().counters();
  EXPECT_GT(loop.stage().figures().replaces.get(), 50u);
  EXPECT_EQ(rc.of(risk::RiskReason::kMaxOpenOrdersPerSymbol), 0u);
  EXPECT_EQ(rc.of(risk::RiskReason::kMaxOpenOrders), 0u);
  EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders());
}

}  // namespace
}  // namespace pmm::trading_test
