// The order session in the closed loop (trading_loop.hpp): a lost order packet is noticed by the
// gateway side, re-requested with a 20-byte MoldUDP64 request and resent by the stage with its
// original bytes, and the engine gets every order exactly once and in order; a lost response is
// re-requested by the stage (its TX packet is the 20-byte request) and resent from the gateway's
// history; a lost last response shows up with the gateway's next heartbeat. The end state is always
// the engine's.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}

constexpr const char* kStrategy = R"({"quote_size": 100, "max_inventory": 1000, "min_requote_interval_us": 1000})";

std::unique_ptr<TradingLoop> make_loop(const LoopOptions& options = {}) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  return std::make_unique<TradingLoop>(day(), trading_config(symbols, kStrategy, loose_limits(symbols)), options);
}

void expect_state_matches_engine(const TradingLoop& loop) {
  EXPECT_EQ(loop.stage_positions(), loop.engine_positions());
  EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders());
  EXPECT_EQ(loop.stage().figures().fills.get(), loop.engine().stats().executions);
}

using Bytes = std::vector<uint8_t>;

TEST(TradingSession, LostOrderIsReRequestedAndResentWithItsOriginalBytes) {
  auto loop = make_loop();
  constexpr uint64_t kLost = 60;
  std::map<uint64_t, Bytes> first;               // sequence -> the packet as first sent
  std::vector<std::pair<uint64_t, Bytes>> resent;  // retransmissions
  loop->on_stage_packet = [&](const StagePacket& p) {
    if (p.request) return;
    Bytes b(p.packet, p.packet + p.packet_length);
    if (p.retransmission)
      resent.emplace_back(p.sequence, std::move(b));
    else
      first.emplace(p.sequence, std::move(b));
  };
  loop->drop_stage_packet = [&](const StagePacket& p) { return p.sequence == kLost; };
  loop->run_all();
  loop->finish_feed();
  const uint64_t requests_seen = loop->gateway_requests();

  ASSERT_EQ(loop->dropped_stage_packets(), 1u);
  ASSERT_GT(first.size(), kLost + 10) << "the day sent too few orders for the test";
  // The gateway noticed the hole once, asked for it, and the stage answered from its history.
  EXPECT_EQ(loop->gateway_receiver().counters().gaps, 1u);
  EXPECT_GE(requests_seen, 1u);
  EXPECT_GT(loop->stage().figures().retransmitted.get(), 0u);
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(resent.front().first, kLost);
  for (const auto& [seq, bytes] : resent) EXPECT_EQ(bytes, first.at(seq)) << "message " << seq;
  // The engine got every order once, in sequence order, as first sent.
  const std::vector<EngineRequest>& got = loop->engine_requests();
  ASSERT_EQ(got.size(), first.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].sequence, i + 1);
    const Bytes& sent = first.at(i + 1);
    const Bytes ouch(sent.begin() + mold::kHeaderSize + mold::kBlockHeaderSize + kAsOfSize, sent.end());
    EXPECT_EQ(got[i].ouch, ouch) << "message " << i + 1;
  }
  EXPECT_EQ(loop->gateway_receiver().expected(), loop->stage().figures().orders_sent.get() + 1);
  EXPECT_FALSE(loop->gateway_receiver().hole_open());
  expect_state_matches_engine(*loop);
}

TEST(TradingSession, LostResponseIsReRequestedByTheStage) {
  auto loop = make_loop();
  constexpr uint64_t kLost = 40;
  std::vector<StagePacket> requests;
  loop->on_stage_packet = [&](const StagePacket& p) {
    if (!p.request) return;
    EXPECT_EQ(p.packet_length, mold::kHeaderSize);
    EXPECT_EQ(ouch::classify_datagram(p.packet, p.packet_length), ouch::DatagramKind::kRequest);
    requests.push_back(p);
  };
  loop->drop_response = [&](uint64_t seq) { return seq == kLost; };
  loop->run_all();
  loop->finish_feed();

  ASSERT_EQ(loop->dropped_responses(), 1u);
  ASSERT_GT(loop->gateway_sender().next_sequence(), kLost + 10);
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front().sequence, kLost);
  EXPECT_GE(requests.front().count, 1u);
  const risk::TradingFigures& f = loop->stage().figures();
  EXPECT_EQ(f.session_gaps.get(), 1u);
  EXPECT_EQ(f.session_requests.get(), requests.size());
  EXPECT_EQ(f.bad_messages.get(), 0u);
  EXPECT_EQ(f.responses.get(), loop->gateway_sender().next_sequence() - 1) << "every response applied once";
  expect_state_matches_engine(*loop);

  loop->stage().request_unwind();
  for (int i = 0; i < 5 && !loop->stage().unwound(); ++i) loop->pump();
  EXPECT_TRUE(loop->stage().unwound());
  EXPECT_TRUE(loop->engine_open_orders().empty());
  expect_state_matches_engine(*loop);
}

TEST(TradingSession, LostLastResponseShowsWithTheGatewayHeartbeat) {
  auto loop = make_loop();
  loop->run_to(day().size() / 2);
  const size_t open = loop->engine_open_orders().size();
  ASSERT_GT(open, 0u);
  // The unwind's cancels are the last messages the gateway sends: lose the last answer.
  const uint64_t last = loop->gateway_sender().next_sequence() + open - 1;
  loop->drop_response = [&](uint64_t seq) { return seq == last; };
  loop->stage().request_unwind();
  loop->pump();
  ASSERT_EQ(loop->dropped_responses(), 1u);
  EXPECT_TRUE(loop->engine_open_orders().empty());
  EXPECT_FALSE(loop->stage().unwound()) << "one cancel is still unanswered as far as the stage knows";
  EXPECT_EQ(loop->stage().figures().session_gaps.get(), 0u);

  loop->send_gateway_heartbeat();
  loop->pump();
  EXPECT_EQ(loop->stage().figures().session_gaps.get(), 1u);
  EXPECT_GE(loop->stage_requests(), 1u);
  EXPECT_TRUE(loop->stage().unwound());
  expect_state_matches_engine(*loop);
}

}  // namespace
}  // namespace pmm::trading_test
