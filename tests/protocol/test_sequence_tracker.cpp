// SequenceTracker: per-packet verdicts (deliver / duplicate / no messages / wrong session), gap ranges
// [first, first + count), overlap skips and counters; then a seeded property test that feeds lossy,
// reordered, duplicated streams and checks the tracker against a set of covered sequence numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "core/mold_sequence_tracker.hpp"
#include "core/moldudp64.hpp"

namespace {

namespace mold = pmm::mold;
using Kind = mold::Verdict::Kind;

mold::PacketHeader packet(uint64_t seq, uint16_t count, const char* session = "SESSION1") {
  return mold::PacketHeader{mold::make_session(session), seq, count};
}
mold::PacketHeader heartbeat(uint64_t next, const char* session = "SESSION1") { return packet(next, 0, session); }
mold::PacketHeader end_of_session(uint64_t next) { return packet(next, 0xFFFF); }

void expect_deliver(const mold::Verdict& v, uint16_t skip, uint64_t gap_first = 0, uint64_t gap_count = 0) {
  EXPECT_EQ(v.kind, Kind::kDeliver);
  EXPECT_EQ(v.skip, skip);
  EXPECT_EQ(v.gap.count, gap_count);
  if (gap_count != 0) {
    EXPECT_EQ(v.gap.first, gap_first);
  }
}

TEST(SequenceTracker, InOrderPacketsAreDeliveredWhole) {
  mold::SequenceTracker t;
  EXPECT_FALSE(t.has_session());
  EXPECT_EQ(t.next_expected(), 1u);
  expect_deliver(t.on_packet(packet(1, 3)), 0);
  EXPECT_TRUE(t.has_session());
  EXPECT_EQ(t.session(), mold::make_session("SESSION1"));
  expect_deliver(t.on_packet(packet(4, 1)), 0);
  expect_deliver(t.on_packet(packet(5, 10)), 0);
  EXPECT_EQ(t.next_expected(), 15u);
  EXPECT_EQ(t.stats().gaps, 0u);
  EXPECT_EQ(t.stats().duplicate_messages, 0u);
}

TEST(SequenceTracker, GapIsReportedAsHalfOpenRangeAndDeliveryContinues) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 3)), 0);
  // 4, 5, 6 missed: the gap is [4, 7), the packet itself is delivered whole.
  expect_deliver(t.on_packet(packet(7, 2)), 0, 4, 3);
  EXPECT_EQ(t.next_expected(), 9u);
  // The missed packet arriving late is a duplicate: the tracker never fills gaps itself.
  EXPECT_EQ(t.on_packet(packet(4, 3)).kind, Kind::kDuplicate);
  EXPECT_EQ(t.stats().gaps, 1u);
  EXPECT_EQ(t.stats().gap_messages, 3u);
}

TEST(SequenceTracker, DuplicatePacketIsDropped) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 5)), 0);
  const mold::Verdict same = t.on_packet(packet(1, 5));
  EXPECT_EQ(same.kind, Kind::kDuplicate);
  EXPECT_EQ(same.gap.count, 0u);
  EXPECT_EQ(t.on_packet(packet(2, 3)).kind, Kind::kDuplicate);  // strictly inside what was seen
  EXPECT_EQ(t.on_packet(packet(5, 1)).kind, Kind::kDuplicate);  // the last seen message alone
  EXPECT_EQ(t.next_expected(), 6u);
  EXPECT_EQ(t.stats().duplicate_packets, 3u);
  EXPECT_EQ(t.stats().duplicate_messages, 5u + 3u + 1u);
}

TEST(SequenceTracker, OverlappingPacketSkipsTheSeenHead) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 3)), 0);  // 1..3
  expect_deliver(t.on_packet(packet(2, 4)), 2);  // 2..5: 2 and 3 seen, deliver 4 and 5
  EXPECT_EQ(t.next_expected(), 6u);
  expect_deliver(t.on_packet(packet(5, 2)), 1);  // 5..6: 5 seen
  EXPECT_EQ(t.next_expected(), 7u);
  EXPECT_EQ(t.stats().duplicate_messages, 3u);
  EXPECT_EQ(t.stats().duplicate_packets, 0u);
}

TEST(SequenceTracker, LargestOverlapFitsTheSkipField) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 0xFFFD)), 0);          // 1..65533
  expect_deliver(t.on_packet(packet(1, 0xFFFE)), 0xFFFD);     // 1..65534: only the last is new
  EXPECT_EQ(t.next_expected(), 0xFFFFu);
}

TEST(SequenceTracker, HeartbeatRevealsGap) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 3)), 0);
  const mold::Verdict quiet = t.on_packet(heartbeat(4));  // carries the next expected number: no loss
  EXPECT_EQ(quiet.kind, Kind::kNoMessages);
  EXPECT_EQ(quiet.gap.count, 0u);

  const mold::Verdict lossy = t.on_packet(heartbeat(6));  // 4 and 5 were sent and missed
  EXPECT_EQ(lossy.kind, Kind::kNoMessages);
  EXPECT_EQ(lossy.gap.first, 4u);
  EXPECT_EQ(lossy.gap.count, 2u);
  EXPECT_EQ(t.next_expected(), 6u);

  const mold::Verdict stale = t.on_packet(heartbeat(2));  // reordered old heartbeat
  EXPECT_EQ(stale.kind, Kind::kNoMessages);
  EXPECT_EQ(stale.gap.count, 0u);
  EXPECT_EQ(t.next_expected(), 6u);

  expect_deliver(t.on_packet(packet(6, 1)), 0);  // the gap was already reported: not again
  EXPECT_EQ(t.stats().heartbeats, 3u);
  EXPECT_EQ(t.stats().gaps, 1u);
}

TEST(SequenceTracker, EndOfSession) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 2)), 0);
  EXPECT_FALSE(t.ended());
  const mold::Verdict v = t.on_packet(end_of_session(3));
  EXPECT_EQ(v.kind, Kind::kNoMessages);
  EXPECT_EQ(v.gap.count, 0u);
  EXPECT_TRUE(t.ended());
  EXPECT_EQ(t.next_expected(), 3u);
}

TEST(SequenceTracker, EndOfSessionRevealsGap) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 2)), 0);
  const mold::Verdict v = t.on_packet(end_of_session(10));
  EXPECT_EQ(v.kind, Kind::kNoMessages);
  EXPECT_EQ(v.gap.first, 3u);
  EXPECT_EQ(v.gap.count, 7u);
  EXPECT_TRUE(t.ended());
  EXPECT_EQ(t.stats().gap_messages, 7u);
}

TEST(SequenceTracker, WrongSessionIsDroppedAndChangesNothing) {
  mold::SequenceTracker t;
  expect_deliver(t.on_packet(packet(1, 3, "SESSION1")), 0);
  for (const mold::PacketHeader& other :
       {packet(4, 3, "SESSION2"), packet(100, 1, "SESSION2"), heartbeat(50, "SESSION2"), packet(4, 1, "session1")}) {
    const mold::Verdict v = t.on_packet(other);
    EXPECT_EQ(v.kind, Kind::kWrongSession);
    EXPECT_EQ(v.gap.count, 0u);
  }
  EXPECT_EQ(t.session(), mold::make_session("SESSION1"));
  EXPECT_EQ(t.next_expected(), 4u);
  EXPECT_EQ(t.stats().wrong_session, 4u);
  EXPECT_EQ(t.stats().heartbeats, 0u);
  EXPECT_EQ(t.stats().gaps, 0u);
  expect_deliver(t.on_packet(packet(4, 1, "SESSION1")), 0);
}

TEST(SequenceTracker, FirstPacketPastConfiguredStartIsAGapFromTheStart) {
  mold::SequenceTracker t;  // new session: starts at 1
  expect_deliver(t.on_packet(packet(5, 2)), 0, 1, 4);
  EXPECT_EQ(t.next_expected(), 7u);

  mold::SequenceTracker restarted(1000);  // client restarted mid-session
  expect_deliver(restarted.on_packet(packet(1000, 2)), 0);
  mold::SequenceTracker late(1000);
  expect_deliver(late.on_packet(packet(1500, 1)), 0, 1000, 500);
  mold::SequenceTracker behind(1000);
  EXPECT_EQ(behind.on_packet(packet(900, 100)).kind, Kind::kDuplicate);  // 900..999: all before the start
  expect_deliver(behind.on_packet(packet(990, 20)), 10);                 // 990..1009: 1000.. are new
}

TEST(SequenceTracker, FirstPacketHeartbeatPastStart) {
  mold::SequenceTracker t;
  const mold::Verdict v = t.on_packet(heartbeat(42));
  EXPECT_EQ(v.kind, Kind::kNoMessages);
  EXPECT_EQ(v.gap.first, 1u);
  EXPECT_EQ(v.gap.count, 41u);
  EXPECT_TRUE(t.has_session());
}

TEST(SequenceTracker, StatsCounters) {
  mold::SequenceTracker t;
  t.on_packet(packet(1, 4));               // deliver 1..4
  t.on_packet(packet(3, 4));               // overlap: 2 duplicates, deliver 5..6
  t.on_packet(packet(10, 2));              // gap [7, 10): 3 missing
  t.on_packet(packet(10, 2));              // duplicate packet: 2 messages
  t.on_packet(heartbeat(12));              // quiet
  t.on_packet(heartbeat(15));              // gap [12, 15): 3 missing
  t.on_packet(packet(20, 1, "OTHER"));     // wrong session
  t.on_packet(end_of_session(15));         // quiet end
  const mold::SequenceStats& s = t.stats();
  EXPECT_EQ(s.packets, 8u);
  EXPECT_EQ(s.heartbeats, 3u);  // end of session counts as a heartbeat
  EXPECT_EQ(s.duplicate_packets, 1u);
  EXPECT_EQ(s.duplicate_messages, 4u);
  EXPECT_EQ(s.gaps, 2u);
  EXPECT_EQ(s.gap_messages, 6u);
  EXPECT_EQ(s.wrong_session, 1u);
  EXPECT_TRUE(t.ended());
  EXPECT_EQ(t.next_expected(), 15u);
}

TEST(SequenceTracker, NearTopOfSequenceSpace) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  mold::SequenceTracker t(kMax - 10);
  expect_deliver(t.on_packet(packet(kMax - 10, 5)), 0);
  expect_deliver(t.on_packet(packet(kMax - 3, 3)), 0, kMax - 5, 2);  // ends at kMax - 1: next is kMax
  EXPECT_EQ(t.next_expected(), kMax);
  EXPECT_EQ(t.on_packet(heartbeat(kMax)).gap.count, 0u);
}

// ---------------------------------------------------------------------------------------------
// Property test. A session of N messages numbered from `first` is cut into packets (with heartbeats and
// maybe an end of session), then sent through a channel that drops, duplicates, delays (reorders),
// retransmits arbitrary ranges and injects another session's packets. Reference model: the set of
// sequence numbers covered so far, by delivery or by a reported gap. After every packet:
//   - each delivered number is new (not delivered nor reported missing before) and above every number
//     delivered before it (at most once, in increasing order);
//   - each reported gap number is new as well;
//   - delivered plus gaps cover [first, max seen] exactly, where max seen is the highest number any
//     packet of the session numbered or, for heartbeats, implied (next expected - 1);
//   - next_expected() == max seen + 1.
// At the end the counters must agree with what the model saw.

struct Sent {
  mold::PacketHeader header;
  bool other_session = false;
  double key = 0;  // arrival order
};

struct ChannelConfig {
  double drop = 0;
  double duplicate = 0;
  double reorder_window = 0;  // a packet may arrive up to this many slots late
  size_t retransmissions = 0;
  double other_session = 0;
};

TEST(SequenceTrackerProperty, RandomLossyStreamsAgainstSetModel) {
  constexpr uint64_t kSeed = 0x5EC7'7AC4'E200'0001;
  constexpr int kIterations = 5000;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t total_delivered = 0, total_gap = 0, total_dup_packets = 0;

  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE(::testing::Message() << "seed " << kSeed << " iteration " << iter);
    std::mt19937_64 rng(kSeed + static_cast<uint64_t>(iter));
    auto uniform = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };

    const uint64_t n = uniform(1, 300);
    uint64_t first = 1;
    switch (uniform(0, 9)) {
      case 0: first = kMax - n - uniform(0, 10); break;  // next expected reaches at most kMax
      case 1: case 2: first = uniform(2, 1'000'000); break;
      default: break;
    }

    const bool clean = iter % 10 == 0;  // no loss, no reordering, no strays: must deliver everything
    ChannelConfig ch;
    if (!clean) {
      ch.drop = std::uniform_real_distribution<double>(0, 0.4)(rng);
      ch.reorder_window = static_cast<double>(uniform(0, 6));
      ch.retransmissions = uniform(0, 5);
      ch.other_session = chance(0.3) ? 0.05 : 0;
    }
    ch.duplicate = std::uniform_real_distribution<double>(0, 0.3)(rng);

    // What the server sends, in order.
    std::vector<mold::PacketHeader> original;
    for (uint64_t s = first; s < first + n;) {
      const uint64_t size = std::min<uint64_t>(uniform(1, 8), first + n - s);
      original.push_back(packet(s, static_cast<uint16_t>(size)));
      s += size;
      if (chance(0.1)) original.push_back(heartbeat(s));
    }
    if (chance(0.5)) original.push_back(end_of_session(first + n));

    // What arrives, in arrival order.
    std::vector<Sent> stream;
    for (size_t i = 0; i < original.size(); ++i) {
      const double slot = static_cast<double>(i);
      if (chance(ch.drop)) continue;
      const double delay = std::uniform_real_distribution<double>(0, ch.reorder_window + 1e-9)(rng);
      stream.push_back({original[i], false, slot + delay});
      if (chance(ch.duplicate))
        stream.push_back({original[i], false, slot + delay + 1 + static_cast<double>(uniform(0, 10))});
    }
    for (size_t r = 0; r < ch.retransmissions; ++r) {
      const uint64_t a = uniform(first, first + n - 1);
      const uint64_t c = uniform(1, std::min<uint64_t>(8, first + n - a));
      stream.push_back({packet(a, static_cast<uint16_t>(c)), false,
                        std::uniform_real_distribution<double>(0, static_cast<double>(original.size()))(rng)});
    }
    std::stable_sort(stream.begin(), stream.end(), [](const Sent& x, const Sent& y) { return x.key < y.key; });
    if (ch.other_session > 0) {  // never first: the first packet is what fixes the session
      for (size_t i = 1; i <= stream.size(); ++i)
        if (chance(ch.other_session)) {
          stream.insert(stream.begin() + static_cast<std::ptrdiff_t>(i),
                        Sent{packet(uniform(1, first + n), static_cast<uint16_t>(uniform(0, 4)), "SESSION2"), true, 0});
          ++i;
        }
    }

    mold::SequenceTracker tracker(first);
    std::set<uint64_t> covered;  // delivered or reported missing
    uint64_t max_seen = first - 1;
    bool any_delivered = false;
    uint64_t last_delivered = 0;
    uint64_t delivered = 0, gap_numbers = 0, gap_reports = 0, received_in_data_packets = 0;
    uint64_t duplicate_packets = 0, heartbeats = 0, wrong_session = 0;
    bool saw_end = false;

    for (size_t i = 0; i < stream.size(); ++i) {
      const mold::PacketHeader& h = stream[i].header;
      SCOPED_TRACE(::testing::Message() << "packet " << i << " seq " << h.sequence << " count " << h.count);
      const mold::Verdict v = tracker.on_packet(h);
      if (stream[i].other_session) {
        ++wrong_session;
        ASSERT_EQ(v.kind, Kind::kWrongSession);
        continue;
      }
      const bool no_messages = h.count == 0 || h.count == 0xFFFF;
      if (no_messages) {
        ++heartbeats;
        saw_end |= h.count == 0xFFFF;
        ASSERT_EQ(v.kind, Kind::kNoMessages);
        max_seen = std::max(max_seen, h.sequence - 1);
      } else {
        received_in_data_packets += h.count;
        max_seen = std::max(max_seen, h.sequence + h.count - 1);
        ASSERT_TRUE(v.kind == Kind::kDeliver || v.kind == Kind::kDuplicate) << static_cast<int>(v.kind);
        if (v.kind == Kind::kDuplicate) ++duplicate_packets;
      }
      if (v.gap.count != 0) {
        ++gap_reports;
        for (uint64_t s = v.gap.first; s != v.gap.first + v.gap.count; ++s) {
          ASSERT_TRUE(covered.insert(s).second) << "gap reports " << s << " which is already covered";
          ++gap_numbers;
        }
      }
      if (v.kind == Kind::kDeliver) {
        ASSERT_LT(v.skip, h.count) << "deliver verdict delivers nothing";
        for (uint64_t s = h.sequence + v.skip; s != h.sequence + h.count; ++s) {
          ASSERT_TRUE(covered.insert(s).second) << "delivers " << s << " twice or after reporting it missing";
          ASSERT_TRUE(!any_delivered || s > last_delivered) << "delivers " << s << " after " << last_delivered;
          any_delivered = true;
          last_delivered = s;
          ++delivered;
        }
      }
      // Covered is exactly [first, max_seen]: distinct elements, right size, right ends.
      ASSERT_EQ(covered.size(), max_seen - (first - 1));
      if (!covered.empty()) {
        ASSERT_EQ(*covered.begin(), first);
        ASSERT_EQ(*covered.rbegin(), max_seen);
      }
      ASSERT_EQ(tracker.next_expected(), max_seen + 1);
    }

    if (clean) {
      EXPECT_EQ(gap_numbers, 0u);
      EXPECT_EQ(delivered, n);
    }
    const mold::SequenceStats& s = tracker.stats();
    EXPECT_EQ(s.packets, stream.size());
    EXPECT_EQ(s.wrong_session, wrong_session);
    EXPECT_EQ(s.heartbeats, heartbeats);
    EXPECT_EQ(s.gaps, gap_reports);
    EXPECT_EQ(s.gap_messages, gap_numbers);
    EXPECT_EQ(s.duplicate_packets, duplicate_packets);
    EXPECT_EQ(s.duplicate_messages, received_in_data_packets - delivered);
    EXPECT_EQ(tracker.ended(), saw_end);
    if (::testing::Test::HasFailure()) return;  // one failing iteration is enough to read
    total_delivered += delivered;
    total_gap += gap_numbers;
    total_dup_packets += duplicate_packets;
  }
  // The generator must actually exercise loss and duplication, not just the happy path.
  EXPECT_GT(total_gap, 10'000u);
  EXPECT_GT(total_dup_packets, 1'000u);
  EXPECT_GT(total_delivered, 100'000u);
}

}  // namespace
