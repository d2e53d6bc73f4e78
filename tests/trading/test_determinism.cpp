// Determinism of the trading stage in the closed loop (trading_loop.hpp): the same day gives the same
// order stream (figures().order_stream_digest) and the same positions every time; and in the
// deterministic mode (response_latency_ns = L, the engine applying each request at its as-of + L),
// delivering both directions with different seeded delays changes nothing as long as nothing is late.
#include <gtest/gtest.h>

#include <vector>

#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}

constexpr const char* kStrategy = R"({"quote_size": 100, "max_inventory": 1000, "min_requote_interval_us": 1000})";

// Longer than the exchange time any 4 consecutive messages of this day span (about 62 s, after the
// close): a packet delayed by up to 3 feed messages is never late.
constexpr uint64_t kLatencyNs = 90'000'000'000;

struct Outcome {
  uint64_t digest = 0;
  uint64_t orders_sent = 0, fills = 0, late_responses = 0, late_orders = 0, held_full = 0;
  std::vector<int64_t> stage_positions, engine_positions;
  std::vector<std::vector<uint8_t>> engine_requests;  // OUCH bytes as the engine got them
  bool unwound = false;
};

Outcome run(const LoopOptions& options) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  TradingLoop loop(day(), trading_config(symbols, kStrategy, loose_limits(symbols)), options);
  loop.run_all();
  loop.finish_feed();
  loop.inject(pipe::TopKind::kEndOfSession);  // releases what the stage holds, then unwinds
  for (int i = 0; i < 5 && !loop.stage().unwound(); ++i) loop.flush_links();
  Outcome o;
  const risk::TradingFigures& f = loop.stage().figures();
  o.digest = f.order_stream_digest.get();
  o.orders_sent = f.orders_sent.get();
  o.fills = f.fills.get();
  o.late_responses = f.late_responses.get();
  o.held_full = f.held_full.get();
  o.late_orders = loop.late_orders();
  o.stage_positions = loop.stage_positions();
  o.engine_positions = loop.engine_positions();
  for (const EngineRequest& r : loop.engine_requests()) o.engine_requests.push_back(r.ouch);
  o.unwound = loop.stage().unwound();
  EXPECT_TRUE(loop.engine_open_orders().empty());
  return o;
}

void expect_same(const Outcome& a, const Outcome& b) {
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.orders_sent, b.orders_sent);
  EXPECT_EQ(a.fills, b.fills);
  EXPECT_EQ(a.stage_positions, b.stage_positions);
  EXPECT_EQ(a.engine_positions, b.engine_positions);
  EXPECT_TRUE(a.engine_requests == b.engine_requests) << "the engine got different requests";
}

void expect_traded(const Outcome& o) {
  EXPECT_GT(o.orders_sent, 200u);
  EXPECT_GT(o.fills, 20u);
  EXPECT_EQ(o.stage_positions, o.engine_positions);
  EXPECT_TRUE(o.unwound);
}

TEST(TradingDeterminism, SameDaySameOrdersAndPositions) {
  const Outcome a = run(LoopOptions{});
  const Outcome b = run(LoopOptions{});
  expect_traded(a);
  expect_same(a, b);
}

// Handed a TX stage (all stages on one core), the stage sends each decision's orders within its step
// and takes the digest after they left: the same orders, digest, fills and positions as through the ring.
TEST(TradingDeterminism, SendingItsOwnOrdersChangesNothing) {
  for (const uint64_t latency : {uint64_t{0}, kLatencyNs}) {
    SCOPED_TRACE("latency " + std::to_string(latency));
    LoopOptions ring;
    ring.latency_ns = latency;
    LoopOptions sends = ring;
    sends.stage_sends = true;
    const Outcome a = run(ring);
    const Outcome b = run(sends);
    expect_traded(b);
    expect_same(a, b);
  }
}

TEST(TradingDeterminism, DelaysDoNotMatterWithResponseLatency) {
  LoopOptions base;
  base.latency_ns = kLatencyNs;
  const Outcome reference = run(base);
  expect_traded(reference);
  EXPECT_EQ(reference.late_responses, 0u);
  EXPECT_EQ(reference.late_orders, 0u);
  for (const uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LoopOptions o = base;
    o.to_engine = LinkDelay{3, seed * 2};
    o.to_stage = LinkDelay{3, seed * 2 + 1};
    const Outcome delayed = run(o);
    ASSERT_EQ(delayed.late_responses, 0u) << "the test's delays are too long for its latency";
    ASSERT_EQ(delayed.late_orders, 0u) << "the test's delays are too long for its latency";
    EXPECT_EQ(delayed.held_full, 0u);
    expect_same(reference, delayed);
  }
  // The delays were real: without the latency the same delays change the order stream.
  LoopOptions undelayed_latency;
  undelayed_latency.to_engine = LinkDelay{3, 2};
  undelayed_latency.to_stage = LinkDelay{3, 3};
  const Outcome moved = run(undelayed_latency);
  EXPECT_NE(moved.digest, run(LoopOptions{}).digest);
}

}  // namespace
}  // namespace pmm::trading_test
