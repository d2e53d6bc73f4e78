// The simulator's feed over loopback UDP, in-process: the bytes on the wire against FeedPacketizer's
// output for the same day, planned drops and their retransmission, the end of the session, heartbeats,
// stop(), and retransmission requests served while the feed is still running.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "core/mold_sequence_tracker.hpp"
#include "tests/sim/sim_fixture.hpp"

namespace pmm::sim::test {
namespace {

using namespace std::chrono_literals;

void expect_contiguous(const std::vector<Bytes>& data, uint64_t first = 1) {
  uint64_t next = first;
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_EQ(sequence_of(data[i]), next) << "packet " << i + 1;
    next += count_of(data[i]);
  }
}

struct PacketizerCase {
  const char* name;
  gen::PacketizerConfig packets;
  uint64_t rate;  // messages/s: one-message packets go slower, the collector pays per datagram
};

void PrintTo(const PacketizerCase& c, std::ostream* os) { *os << c.name; }

class FeedBytes : public ::testing::TestWithParam<PacketizerCase> {};

TEST_P(FeedBytes, EqualThePacketizersOutputForTheSameDay) {
  const gen::DayConfig day = small_day(30000);
  FeedConfig feed = loopback_feed(GetParam().rate);
  feed.packets = GetParam().packets;
  const std::vector<Bytes> expected = reference_packets(day, feed.packets);
  ASSERT_GT(expected.size(), 100u);

  for (int run = 0; run < 2; ++run) {  // and again: same config, same bytes
    InProcessSim sim(day, feed);
    sim.publisher->run();
    ASSERT_TRUE(sim.wait_for_end_of_session());
    const std::vector<Bytes> packets = sim.from(sim.feed_from());
    const std::vector<Bytes> data = InProcessSim::data_packets(packets);
    ASSERT_EQ(data.size(), expected.size());
    for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], expected[i]) << "packet " << i + 1;
    expect_contiguous(data);
    // Exactly: the data packets, then one end of session with the next sequence (no linger).
    ASSERT_EQ(packets.size(), data.size() + 1);
    EXPECT_EQ(count_of(packets.back()), mold::kEndOfSessionCount);
    EXPECT_EQ(sequence_of(packets.back()), day.messages + 1);
    EXPECT_EQ(session_of(packets.back()), std::string(feed.packets.session.data(), 10));

    const FeedStats& s = sim.publisher->stats();
    EXPECT_EQ(s.messages, day.messages);
    EXPECT_EQ(s.packets, expected.size());
    EXPECT_EQ(s.packets_sent, expected.size());
    EXPECT_EQ(s.send_errors, 0u);
    EXPECT_EQ(s.end_of_session_packets, 1u);
    EXPECT_EQ(s.next_sequence, day.messages + 1);
    EXPECT_FALSE(s.stopped);
  }
}

gen::PacketizerConfig packets(const char* session, size_t max_payload, uint16_t max_messages) {
  gen::PacketizerConfig p;
  p.session = mold::make_session(session);
  p.max_payload = max_payload;
  p.max_messages = max_messages;
  return p;
}

INSTANTIATE_TEST_SUITE_P(Sim, FeedBytes,
                         ::testing::Values(PacketizerCase{"defaults", gen::PacketizerConfig{}, 300'000},
                                           PacketizerCase{"small_packets", packets("TESTSESS", 300, 7), 200'000},
                                           PacketizerCase{"one_message_each", packets("X", 1400, 1), 50'000}),
                         [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(Feed, DroppedPacketsAreMissingOnTheWireAndRetransmittedByteForByte) {
  const gen::DayConfig day = small_day(20000);
  FeedConfig feed = loopback_feed();
  const std::vector<Bytes> expected = reference_packets(day, feed.packets);
  const uint64_t last = expected.size();
  feed.drops.packets = {2, 5, 6, 40, last};
  InProcessSim sim(day, feed);
  sim.publisher->run();
  ASSERT_TRUE(sim.wait_for_end_of_session());

  const std::set<uint64_t> dropped(feed.drops.packets.begin(), feed.drops.packets.end());
  std::vector<Bytes> kept;
  for (uint64_t i = 1; i <= last; ++i)
    if (!dropped.contains(i)) kept.push_back(expected[i - 1]);
  EXPECT_EQ(InProcessSim::data_packets(sim.from(sim.feed_from())), kept);
  EXPECT_EQ(sim.publisher->stats().dropped_list, std::vector<uint64_t>(dropped.begin(), dropped.end()));
  EXPECT_EQ(sim.publisher->stats().dropped_packets, dropped.size());
  EXPECT_EQ(sim.publisher->stats().packets_sent, last - dropped.size());

  // One request per run of consecutive dropped packets; the answers are those packets, byte for byte
  // (same session, same limits, starting at the same sequence).
  const std::vector<std::vector<uint64_t>> runs = {{2}, {5, 6}, {40}, {last}};
  uint64_t requested = 0;
  std::vector<Bytes> expected_answers;
  for (const auto& run : runs) {
    uint64_t count = 0;
    for (uint64_t p : run) {
      count += count_of(expected[p - 1]);
      expected_answers.push_back(expected[p - 1]);
    }
    sim.request(sequence_of(expected[run.front() - 1]), static_cast<uint16_t>(count), feed.packets.session);
    requested += count;
    ASSERT_TRUE(sim.wait_for_retransmitted(requested));  // in order: one request at a time
  }
  EXPECT_EQ(sim.from(sim.retrans_from()), expected_answers);
  ASSERT_TRUE(eventually([&] { return sim.server->stats().requests == runs.size(); }));
  const RetransStats r = sim.server->stats();
  EXPECT_EQ(r.requests, runs.size());
  EXPECT_EQ(r.messages_sent, requested);
  EXPECT_EQ(r.packets_sent, expected_answers.size());
  EXPECT_EQ(r.out_of_range + r.capped + r.malformed + r.wrong_session + r.send_errors, 0u);
}

TEST(Feed, DropRateIsSeededAndRepeatable) {
  const gen::DayConfig day = small_day(20000);
  FeedConfig feed = loopback_feed();
  feed.drops.rate = 0.1;
  feed.drops.seed = 5;
  const std::vector<Bytes> expected = reference_packets(day, feed.packets);
  std::vector<uint64_t> first_run;
  for (int run = 0; run < 2; ++run) {
    InProcessSim sim(day, feed);
    sim.publisher->run();
    ASSERT_TRUE(sim.wait_for_end_of_session());
    const std::vector<uint64_t>& dropped = sim.publisher->stats().dropped_list;
    // ~10 % of ~450 packets; the bounds only catch a plan that ignores the rate.
    EXPECT_GT(dropped.size(), expected.size() / 40);
    EXPECT_LT(dropped.size(), expected.size() / 4);
    std::vector<Bytes> kept;
    for (uint64_t i = 1; i <= expected.size(); ++i)
      if (!std::binary_search(dropped.begin(), dropped.end(), i)) kept.push_back(expected[i - 1]);
    EXPECT_EQ(InProcessSim::data_packets(sim.from(sim.feed_from())), kept);
    if (run == 0) {
      first_run = dropped;
    } else {
      EXPECT_EQ(dropped, first_run);
    }
  }
}

// Heartbeats while waiting to start carry 1; the end of session and what repeats after it carry the
// next sequence, so a receiver that lost the last packet sees the gap from them.
TEST(Feed, EndOfSessionAndHeartbeatsCarryTheNextSequence) {
  const gen::DayConfig day = small_day(3000);
  for (const LingerPacket linger : {LingerPacket::kHeartbeat, LingerPacket::kEndOfSession}) {
    FeedConfig feed = loopback_feed();
    feed.start_delay_ms = 250;
    feed.heartbeat_ms = 100;
    feed.linger_ms = 450;
    feed.linger_packet = linger;
    const std::vector<Bytes> expected = reference_packets(day, feed.packets);
    feed.drops.packets = {expected.size()};  // the tail gap
    InProcessSim sim(day, feed);
    sim.publisher->run();
    const FeedStats& s = sim.publisher->stats();
    const size_t total = s.packets_sent + s.heartbeats + s.end_of_session_packets;
    ASSERT_TRUE(sim.receiver.wait_for([&](const std::vector<Datagram>& ds) { return ds.size() >= total; }));
    const std::vector<Bytes> packets = sim.from(sim.feed_from());
    ASSERT_EQ(packets.size(), total);

    mold::SequenceTracker tracker;
    size_t i = 0;
    size_t early_heartbeats = 0;
    for (; i < packets.size() && count_of(packets[i]) == mold::kHeartbeatCount; ++i) {
      EXPECT_EQ(sequence_of(packets[i]), 1u);
      EXPECT_EQ(packets[i].size(), mold::kHeaderSize);
      ++early_heartbeats;
    }
    EXPECT_GE(early_heartbeats, 1u);  // 250 ms of waiting, one every 100 ms
    EXPECT_LE(early_heartbeats, 2u);
    for (; i < packets.size() && count_of(packets[i]) != mold::kEndOfSessionCount; ++i) {
      ASSERT_NE(count_of(packets[i]), mold::kHeartbeatCount) << "heartbeat in the middle of a fast feed";
      tracker.on_packet(mold::PacketHeader{mold::make_session("PMMSIM0001"), sequence_of(packets[i]), count_of(packets[i])});
    }
    ASSERT_LT(i, packets.size());
    const uint64_t last_first = sequence_of(expected.back());
    EXPECT_EQ(tracker.next_expected(), last_first);  // the last packet never arrived
    const mold::Verdict v = tracker.on_packet(
        mold::PacketHeader{mold::make_session("PMMSIM0001"), sequence_of(packets[i]), count_of(packets[i])});
    EXPECT_EQ(v.gap.first, last_first);
    EXPECT_EQ(v.gap.count, day.messages + 1 - last_first);
    EXPECT_EQ(sequence_of(packets[i]), day.messages + 1);
    EXPECT_EQ(packets[i].size(), mold::kHeaderSize);

    const uint16_t repeat = linger == LingerPacket::kHeartbeat ? mold::kHeartbeatCount : mold::kEndOfSessionCount;
    size_t repeats = 0;
    for (++i; i < packets.size(); ++i, ++repeats) {
      EXPECT_EQ(count_of(packets[i]), repeat);
      EXPECT_EQ(sequence_of(packets[i]), day.messages + 1);
    }
    EXPECT_GE(repeats, 2u);  // 450 ms of lingering, one every 100 ms (fewer if sleeps overshoot)
    EXPECT_LE(repeats, 4u);
    EXPECT_EQ(s.heartbeats, early_heartbeats + (linger == LingerPacket::kHeartbeat ? repeats : 0));
    EXPECT_EQ(s.end_of_session_packets, 1 + (linger == LingerPacket::kEndOfSession ? repeats : 0));
  }
}

TEST(Feed, StopEndsTheSessionAtOnceWithTheNextSequence) {
  const gen::DayConfig day = small_day(100000);
  FeedConfig feed = loopback_feed(5000);  // 20 s for the day
  feed.linger_ms = 10000;
  InProcessSim sim(day, feed);
  std::thread publisher([&] { sim.publisher->run(); });
  ASSERT_TRUE(sim.receiver.wait_for([](const std::vector<Datagram>& ds) { return ds.size() >= 3; }));
  const auto t0 = std::chrono::steady_clock::now();
  sim.publisher->stop();
  publisher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  ASSERT_TRUE(sim.wait_for_end_of_session());

  const FeedStats& s = sim.publisher->stats();
  EXPECT_TRUE(s.stopped);
  EXPECT_LT(s.messages, day.messages);
  EXPECT_EQ(s.next_sequence, s.messages + 1);
  const std::vector<Bytes> packets = sim.from(sim.feed_from());
  const std::vector<Bytes> data = InProcessSim::data_packets(packets);
  expect_contiguous(data);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(sequence_of(packets.back()), sequence_of(data.back()) + count_of(data.back()));
  EXPECT_EQ(count_of(packets.back()), mold::kEndOfSessionCount);
  EXPECT_EQ(sequence_of(packets.back()), s.next_sequence);
  EXPECT_EQ(s.end_of_session_packets, 1u);  // stopped: no lingering
}

// The retransmission server reads the history while the publisher overwrites it (a ring smaller than
// the day): every message it returns must be the one with that sequence number, never a torn or
// newer one.
TEST(Feed, RequestsServedWhilePublishingReturnOnlyTheRightMessages) {
  const gen::DayConfig day = small_day(200000, 3);
  const std::vector<Bytes> messages = reference_messages(day);
  FeedConfig feed = loopback_feed(1'000'000);
  InProcessSim sim(day, feed, /*history_capacity=*/4000);
  DatagramCollector requester;
  std::atomic<bool> done{false};
  uint64_t sent = 0;
  std::thread asker([&] {
    uint8_t req[mold::kHeaderSize];
    while (!done.load()) {
      const uint64_t end = sim.history->published_end();
      // Straddle the ring's tail (partly overwritten), its middle, and the not-yet-published head.
      for (uint64_t back : {4100u, 2000u, 30u}) {
        const uint64_t first = end > back ? end - back : 1;
        mold::encode_request(req, mold::Request{feed.packets.session, first, 200});
        if (requester.socket().send_to(req, sizeof req, sim.retrans_from()) == 0) ++sent;
      }
      std::this_thread::sleep_for(200us);
    }
  });
  sim.publisher->run();
  done = true;
  asker.join();
  ASSERT_TRUE(eventually([&] { return sim.server->stats().requests == sent; }));
  const RetransStats r = sim.server->stats();
  ASSERT_TRUE(eventually([&] { return requester.size() == r.packets_sent; }));
  EXPECT_GT(sent, 100u);
  EXPECT_GT(r.messages_sent, 10000u);
  EXPECT_GT(r.out_of_range, 0u);

  uint64_t checked = 0;
  for (const Datagram& d : requester.datagrams()) {
    mold::DownstreamPacket p;
    ASSERT_EQ(mold::parse_downstream(d.bytes.data(), d.bytes.size(), p), mold::ParseError::kNone);
    p.for_each_message([&](uint64_t sequence, const uint8_t* msg, uint16_t len) {
      ASSERT_GE(sequence, 1u);
      ASSERT_LE(sequence, messages.size());
      ASSERT_EQ(Bytes(msg, msg + len), messages[sequence - 1]) << "sequence " << sequence;
      ++checked;
    });
  }
  EXPECT_EQ(checked, r.messages_sent);
}

}  // namespace
}  // namespace pmm::sim::test
