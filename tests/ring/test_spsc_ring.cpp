// SpscRing: edges by hand, a random-operation property test against std::deque (a bounded FIFO that
// drops what does not fit) at every power-of-two capacity up to 1024, and a two-thread stress test
// that checks every one of 5 million numbered records arrives exactly once, in order, intact.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/spsc_ring.hpp"

namespace {

using pmm::SpscRing;

// A 64-byte event record whose payload is a function of its sequence number, so a torn or stale
// copy is detected by the receiver without shared state.
struct Record {
  uint64_t seq;
  std::array<uint64_t, 7> payload;
};
static_assert(sizeof(Record) == 64);

uint64_t payload_word(uint64_t seq, size_t i) {
  return (seq + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t{i} << 56 | i);
}
Record make_record(uint64_t seq) {
  Record r{};
  r.seq = seq;
  for (size_t i = 0; i < r.payload.size(); ++i) r.payload[i] = payload_word(seq, i);
  return r;
}
bool intact(const Record& r) {
  for (size_t i = 0; i < r.payload.size(); ++i)
    if (r.payload[i] != payload_word(r.seq, i)) return false;
  return true;
}

TEST(SpscRing, CapacityMustBeAPowerOfTwo) {
  for (size_t bad : {size_t{0}, size_t{3}, size_t{6}, size_t{1000}, size_t{1025}})
    EXPECT_THROW(SpscRing<uint32_t>{bad}, std::invalid_argument) << "capacity " << bad;
  for (size_t good : {size_t{1}, size_t{2}, size_t{64}, size_t{1} << 16}) {
    SpscRing<uint32_t> ring(good);
    EXPECT_EQ(ring.capacity(), good);
    EXPECT_EQ(ring.size_approx(), 0u);
  }
}

TEST(SpscRing, EmptyRingPopsNothingAndLeavesOutputUntouched) {
  SpscRing<uint32_t> ring(4);
  uint32_t out[4] = {7, 7, 7, 7};
  EXPECT_EQ(ring.pop_burst(out, 4), 0u);
  uint32_t one = 7;
  EXPECT_FALSE(ring.try_pop(one));
  EXPECT_EQ(one, 7u);
  for (uint32_t v : out) EXPECT_EQ(v, 7u);
  // Zero-length bursts are no-ops.
  EXPECT_EQ(ring.push_burst(out, 0), 0u);
  EXPECT_EQ(ring.pop_burst(out, 0), 0u);
  EXPECT_EQ(ring.size_approx(), 0u);
}

TEST(SpscRing, FullRingRefusesAndNeverOverwrites) {
  SpscRing<uint32_t> ring(4);
  for (uint32_t v = 1; v <= 4; ++v) EXPECT_TRUE(ring.try_push(v)) << v;
  EXPECT_EQ(ring.size_approx(), 4u);
  EXPECT_FALSE(ring.try_push(99));
  const uint32_t more[3] = {100, 101, 102};
  EXPECT_EQ(ring.push_burst(more, 3), 0u);
  EXPECT_EQ(ring.size_approx(), 4u);

  uint32_t out[8] = {};
  ASSERT_EQ(ring.pop_burst(out, 8), 4u);  // asks for more than there is: gets what there is
  EXPECT_EQ(out[0], 1u);
  EXPECT_EQ(out[1], 2u);
  EXPECT_EQ(out[2], 3u);
  EXPECT_EQ(out[3], 4u);
  EXPECT_EQ(ring.size_approx(), 0u);
}

TEST(SpscRing, CapacityOneAlternates) {
  SpscRing<uint32_t> ring(1);
  for (uint32_t v = 0; v < 10; ++v) {
    ASSERT_TRUE(ring.try_push(v));
    ASSERT_FALSE(ring.try_push(v + 100));
    uint32_t got = 0;
    ASSERT_TRUE(ring.try_pop(got));
    EXPECT_EQ(got, v);
    ASSERT_FALSE(ring.try_pop(got));
  }
}

TEST(SpscRing, BurstIsPartiallyEnqueuedWhenNearlyFull) {
  SpscRing<uint32_t> ring(8);
  // Move the indices so the partial burst also crosses the end of the storage.
  uint32_t sink[5];
  const uint32_t warm[5] = {90, 91, 92, 93, 94};
  ASSERT_EQ(ring.push_burst(warm, 5), 5u);
  ASSERT_EQ(ring.pop_burst(sink, 5), 5u);

  const uint32_t first[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_EQ(ring.push_burst(first, 6), 6u);
  const uint32_t second[5] = {7, 8, 9, 10, 11};
  // 2 free slots: 7 and 8 go in; 9..11 are refused, the caller's drops.
  EXPECT_EQ(ring.push_burst(second, 5), 2u);
  EXPECT_EQ(ring.size_approx(), 8u);
  EXPECT_EQ(ring.push_burst(second + 2, 3), 0u);

  uint32_t out[8] = {};
  ASSERT_EQ(ring.pop_burst(out, 3), 3u);
  EXPECT_EQ(ring.push_burst(second + 2, 3), 3u);  // room again: the rest goes in after 8
  uint32_t rest[8] = {};
  ASSERT_EQ(ring.pop_burst(rest, 8), 8u);
  const uint32_t expected[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(out[i], expected[i]) << i;
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(rest[i], expected[3 + i]) << i;
}

// Random bursts and single try_push/try_pop against a reference bounded FIFO: a push of n accepts
// exactly min(n, capacity - size) records, a pop of n returns exactly min(n, size), in FIFO order; a
// peek of n shows exactly min(n, size, slots before the end of the storage), in place, and a release of
// k of them removes exactly those k.
// Enough operations that the indices wrap the storage many times at every capacity.
TEST(SpscRing, MatchesBoundedFifoReferenceAtEveryCapacity) {
  std::mt19937_64 rng(20261202);
  for (size_t capacity = 1; capacity <= 1024; capacity *= 2) {
    SpscRing<Record> ring(capacity);
    std::deque<uint64_t> reference;
    uint64_t next_seq = 0;
    uint64_t pushed = 0;
    uint64_t removed = 0;  // records popped or released: the read index
    std::vector<Record> buf(2 * capacity + 3);
    std::uniform_int_distribution<size_t> burst(0, 2 * capacity + 2);
    const size_t ops = std::max<size_t>(2000, 40 * capacity);
    for (size_t op = 0; op < ops; ++op) {
      const size_t n = burst(rng);
      switch (rng() % 5) {
        case 0: {
          for (size_t i = 0; i < n; ++i) buf[i] = make_record(next_seq + i);
          const size_t accepted = ring.push_burst(buf.data(), n);
          ASSERT_EQ(accepted, std::min(n, capacity - reference.size()))
              << "capacity " << capacity << " op " << op << " burst " << n;
          for (size_t i = 0; i < accepted; ++i) reference.push_back(next_seq + i);
          // Refused records are dropped; the next push starts a fresh sequence after them.
          next_seq += n;
          pushed += accepted;
          break;
        }
        case 1: {
          const size_t got = ring.pop_burst(buf.data(), n);
          ASSERT_EQ(got, std::min(n, reference.size()))
              << "capacity " << capacity << " op " << op << " burst " << n;
          for (size_t i = 0; i < got; ++i) {
            ASSERT_EQ(buf[i].seq, reference.front()) << "capacity " << capacity << " op " << op;
            ASSERT_TRUE(intact(buf[i])) << "seq " << buf[i].seq;
            reference.pop_front();
          }
          removed += got;
          break;
        }
        case 3: {
          const Record* first = nullptr;
          const size_t got = ring.peek_burst(first, n);
          ASSERT_EQ(got, std::min({n, reference.size(), capacity - removed % capacity}))
              << "capacity " << capacity << " op " << op << " burst " << n;
          for (size_t i = 0; i < got; ++i) {
            ASSERT_EQ(first[i].seq, reference[i]) << "capacity " << capacity << " op " << op;
            ASSERT_TRUE(intact(first[i])) << "seq " << first[i].seq;
          }
          ASSERT_EQ(ring.size_approx(), reference.size()) << "a peek removes nothing";
          const size_t k = got == 0 ? 0 : rng() % (got + 1);
          ring.release(k);
          reference.erase(reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(k));
          removed += k;
          break;
        }
        case 2: {
          const bool accepted = ring.try_push(make_record(next_seq));
          ASSERT_EQ(accepted, reference.size() < capacity)
              << "capacity " << capacity << " op " << op;
          if (accepted) {
            reference.push_back(next_seq);
            ++pushed;
          }
          ++next_seq;
          break;
        }
        default: {
          Record r{};
          const bool got = ring.try_pop(r);
          ASSERT_EQ(got, !reference.empty()) << "capacity " << capacity << " op " << op;
          if (got) {
            ASSERT_EQ(r.seq, reference.front()) << "capacity " << capacity << " op " << op;
            ASSERT_TRUE(intact(r)) << "seq " << r.seq;
            reference.pop_front();
            ++removed;
          }
          break;
        }
      }
      ASSERT_EQ(ring.size_approx(), reference.size()) << "capacity " << capacity << " op " << op;
    }
    EXPECT_GT(pushed, 4 * capacity) << "the storage should have wrapped several times";
  }
}

// One producer, one consumer (pop_burst, try_pop and peek_burst/release), random burst sizes on both sides, a small ring so both full and empty
// happen often. Each side only spins (yielding) while the other makes progress, so the test ends as
// soon as the records are through; meson's timeout bounds it if the ring ever loses one.
TEST(SpscRing, TwoThreadStressEveryRecordOnceInOrderIntact) {
  constexpr uint64_t kRecords = 5'000'000;
  constexpr size_t kMaxBurst = 16;  // small enough that bursts of 1 (try_push/try_pop) are common
  SpscRing<Record> ring(64);

  std::thread producer([&ring] {
    std::mt19937 rng(1);
    std::uniform_int_distribution<size_t> burst(1, kMaxBurst);
    Record batch[kMaxBurst];
    uint64_t next = 0;
    while (next < kRecords) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(burst(rng), kRecords - next));
      for (size_t i = 0; i < n; ++i) batch[i] = make_record(next + i);
      size_t done = 0;
      while (done < n) {
        // A burst of 1 goes through try_push, so both code paths race the consumer.
        const size_t k =
            n == 1 ? size_t{ring.try_push(batch[0])} : ring.push_burst(batch + done, n - done);
        if (k == 0) std::this_thread::yield();  // full: 2 cores are shared, let the consumer run
        done += k;
      }
      next += n;
    }
  });

  std::mt19937 rng(2);
  std::uniform_int_distribution<size_t> burst(1, kMaxBurst);
  Record out[kMaxBurst];
  uint64_t expected = 0;
  uint64_t bad_seq = 0, bad_payload = 0;
  while (expected < kRecords) {
    const size_t want = burst(rng);
    size_t got;
    if (want % 3 == 0) {  // the zero-copy form: read in place, then release
      const Record* first = nullptr;
      got = ring.peek_burst(first, want);
      std::copy(first, first + got, out);
      ring.release(got);
    } else {
      got = want == 1 ? size_t{ring.try_pop(out[0])} : ring.pop_burst(out, want);
    }
    if (got == 0) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < got; ++i) {
      // Count rather than assert per record: one failure would otherwise print millions of lines.
      if (out[i].seq != expected) {
        if (bad_seq++ == 0) ADD_FAILURE() << "expected seq " << expected << ", got " << out[i].seq;
        expected = out[i].seq;  // resynchronise so one loss is one failure, not all that follow
      }
      if (!intact(out[i]) && bad_payload++ == 0) ADD_FAILURE() << "payload of seq " << out[i].seq;
      ++expected;
    }
  }
  producer.join();
  EXPECT_EQ(bad_seq, 0u);
  EXPECT_EQ(bad_payload, 0u);
  EXPECT_EQ(expected, kRecords);
  Record extra;
  EXPECT_FALSE(ring.try_pop(extra)) << "nothing beyond the last record";
  EXPECT_EQ(ring.size_approx(), 0u);
}

}  // namespace
