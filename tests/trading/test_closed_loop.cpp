// The trading stage against the simulator's matching engine over a generated day (trading_loop.hpp):
// orders go out, are accepted and fill; the stage's positions and open orders are the engine's at the
// end; it never keeps more than one order per symbol and side; an unwind leaves nothing open.
#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}

constexpr const char* kStrategy =
    R"({"quote_size": 100, "max_inventory": 1000, "min_requote_interval_us": 1000, "requote_threshold_ticks": 1})";

void expect_positions_agree(const TradingLoop& loop) {
  const std::vector<int64_t> engine = loop.engine_positions();
  const std::vector<int64_t> stage = loop.stage_positions();
  for (size_t s = 0; s < engine.size(); ++s) EXPECT_EQ(stage[s], engine[s]) << loop.symbols()[s];
  // Shares bought and sold too: a fill counted twice on both sides would leave the net position right.
  for (const sim::PositionView& p : loop.engine().positions(loop.account())) {
    const int s = loop.symbol_of_locate(p.locate);
    ASSERT_GE(s, 0);
    const orders::Position& mine = loop.stage().tracker().positions().position(static_cast<uint32_t>(s));
    EXPECT_EQ(mine.bought, p.bought) << loop.symbols()[static_cast<size_t>(s)];
    EXPECT_EQ(mine.sold, p.sold) << loop.symbols()[static_cast<size_t>(s)];
  }
}

// The stage keeps one working order per symbol and side: the engine never holds two of ours there.
void expect_one_order_per_side(const TradingLoop& loop) {
  std::map<std::pair<uint16_t, char>, int> per_side;
  for (const TradingLoop::OpenOrder& o : loop.engine_open_orders()) {
    const int n = ++per_side[{o.locate, o.side}];
    EXPECT_LE(n, 1) << "locate " << o.locate << " side " << o.side << " at feed message " << loop.index();
  }
}

TEST(TradingClosedLoop, OrdersFillAndPositionsMatchTheEngine) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  TradingLoop loop(day(), trading_config(symbols, kStrategy, loose_limits(symbols)), LoopOptions{});
  while (loop.step()) {
    if (loop.index() % 500 != 0) continue;
    expect_one_order_per_side(loop);
    EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders()) << "at feed message " << loop.index();
    if (::testing::Test::HasFailure()) break;  // the first moment is what matters
  }
  loop.finish_feed();
  const risk::TradingFigures& f = loop.stage().figures();
  const sim::MatchingStats& es = loop.engine().stats();
  // The loop did trade: the numbers are far from zero on every leg.
  EXPECT_GT(f.enters.get(), 100u);
  EXPECT_GT(f.replaces.get(), 50u);
  EXPECT_GT(es.accepted, 100u);
  EXPECT_GT(es.executions, 50u);
  EXPECT_EQ(f.fills.get(), es.executions);  // every execution reached the stage once
  EXPECT_EQ(f.orders_sent.get(), es.enters + es.replaces + es.cancels);
  EXPECT_EQ(f.bad_messages.get(), 0u);
  EXPECT_EQ(f.session_gaps.get(), 0u);
  int64_t traded = 0;
  for (const int64_t p : loop.engine_positions()) traded += p < 0 ? -p : p;
  EXPECT_GT(traded, 0);

  expect_positions_agree(loop);
  EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders());
  expect_one_order_per_side(loop);
  EXPECT_EQ(f.open_orders.get(), loop.engine_open_orders().size());
  ASSERT_FALSE(loop.engine_open_orders().empty()) << "nothing left to unwind: the unwind below tests nothing";
  EXPECT_FALSE(loop.stage().unwound());

  loop.stage().request_unwind();
  for (int i = 0; i < 5 && !loop.stage().unwound(); ++i) loop.pump();
  EXPECT_TRUE(loop.stage().unwound());
  EXPECT_EQ(f.unwinding.get(), 1u);
  EXPECT_TRUE(loop.engine_open_orders().empty());
  EXPECT_TRUE(loop.stage_open_orders().empty());
  EXPECT_EQ(loop.stage().tracker().live_orders(), 0u);
  expect_positions_agree(loop);
  EXPECT_EQ(loop.engine().check_invariants(), "");
}

}  // namespace
}  // namespace pmm::trading_test
