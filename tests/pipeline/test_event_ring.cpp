// SpscRawRing and EventRing (core/pipeline/event_ring.hpp): a random-burst property test against a
// std::deque bounded FIFO (drops what does not fit) for records of 4, 32, 64 and 128 bytes at several
// capacities, long enough to wrap the storage many times; construction checks; and a two-thread stress
// test of 5 million 64-byte records checking order and content.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"

namespace {

using pmm::pipe::EventRing;
using pmm::pipe::RawRing;
using pmm::pipe::SpscRawRing;
using pmm::pipe::SpscRingFactory;

// Byte i of record number `seq`: a function of both, so a stale, shifted or torn copy shows.
uint8_t record_byte(uint64_t seq, size_t i) {
  const uint64_t h = (seq + 1) * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
  return static_cast<uint8_t>(h >> 56);
}
void fill_record(uint8_t* out, size_t size, uint64_t seq) {
  for (size_t i = 0; i < size; ++i) out[i] = record_byte(seq, i);
}
bool record_is(const uint8_t* r, size_t size, uint64_t seq) {
  for (size_t i = 0; i < size; ++i)
    if (r[i] != record_byte(seq, i)) return false;
  return true;
}

TEST(SpscRawRing, CapacityMustBeAPowerOfTwo) {
  for (uint32_t bad : {0u, 3u, 6u, 100u, 1000u, 1025u, 0x80000001u})
    EXPECT_THROW(SpscRawRing(64, bad), std::invalid_argument) << "capacity " << bad;
  try {
    SpscRawRing ring(64, 1000);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos) << e.what();
  }
  for (uint32_t good : {1u, 2u, 64u, 4096u, 1u << 16}) {
    SpscRawRing ring(32, good);
    EXPECT_EQ(ring.capacity(), good);
    EXPECT_EQ(ring.record_size(), 32u);
    EXPECT_EQ(ring.size(), 0u);
  }
  SpscRingFactory factory;
  EXPECT_THROW(factory.make("bad", 64, 48, -1), std::invalid_argument);
  const auto made = factory.make("ok", 128, 256, 0);
  EXPECT_EQ(made->capacity(), 256u);
  EXPECT_EQ(made->record_size(), 128u);
}

TEST(SpscRawRing, EmptyAndFullEdges) {
  SpscRawRing ring(4, 4);
  std::array<uint32_t, 8> out;
  out.fill(7);
  EXPECT_EQ(ring.pop_burst(out.data(), 4), 0u);
  for (uint32_t v : out) EXPECT_EQ(v, 7u) << "an empty pop must not write";
  EXPECT_EQ(ring.push_burst(out.data(), 0), 0u);
  EXPECT_EQ(ring.pop_burst(out.data(), 0), 0u);
  const std::array<uint32_t, 6> in{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(ring.push_burst(in.data(), 6), 4u) << "takes what fits";
  EXPECT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.push_burst(in.data() + 4, 2), 0u) << "full: takes nothing";
  ASSERT_EQ(ring.pop_burst(out.data(), 8), 4u) << "asks for more than there is: gets what there is";
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(out[i], i + 1);
  EXPECT_EQ(out[4], 7u) << "nothing written past what was popped";
  EXPECT_EQ(ring.size(), 0u);
}

// Random bursts on both sides against a deque of record numbers; every push and pop count, every
// byte and size() checked. Bursts range up to capacity + 3, so full and empty rings are hit often.
void property_test(size_t record_size, uint32_t capacity, uint64_t seed) {
  SCOPED_TRACE("record " + std::to_string(record_size) + " capacity " + std::to_string(capacity));
  SpscRawRing ring(record_size, capacity);
  std::deque<uint64_t> reference;
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> buf((capacity + 3) * record_size);
  uint64_t next_seq = 0, pushed = 0;
  const uint64_t target = std::max<uint64_t>(20'000, uint64_t{capacity} * 40);  // wraps >= 40 times
  while (pushed < target) {
    const auto n = static_cast<uint32_t>(rng() % (capacity + 4));
    if (rng() % 2) {
      for (uint32_t i = 0; i < n; ++i) fill_record(buf.data() + i * record_size, record_size, next_seq + i);
      const uint32_t fits = static_cast<uint32_t>(std::min<uint64_t>(n, capacity - reference.size()));
      const uint32_t got = ring.push_burst(buf.data(), n);
      ASSERT_EQ(got, fits) << "push " << n << " with " << reference.size() << " queued";
      for (uint32_t i = 0; i < got; ++i) reference.push_back(next_seq + i);
      next_seq += got;  // refused records are the caller's: the next push reuses their numbers
      pushed += got;
    } else {
      std::fill(buf.begin(), buf.end(), uint8_t{0xA5});
      const uint32_t ready = static_cast<uint32_t>(std::min<uint64_t>(n, reference.size()));
      const uint32_t got = ring.pop_burst(buf.data(), n);
      ASSERT_EQ(got, ready) << "pop " << n << " with " << reference.size() << " queued";
      for (uint32_t i = 0; i < got; ++i) {
        ASSERT_TRUE(record_is(buf.data() + i * record_size, record_size, reference.front()))
            << "record " << reference.front();
        reference.pop_front();
      }
      for (size_t b = size_t{got} * record_size; b < buf.size(); ++b)
        ASSERT_EQ(buf[b], 0xA5) << "pop wrote past the records it returned";
    }
    ASSERT_EQ(ring.size(), reference.size());
  }
}

TEST(SpscRawRing, RandomBurstsAgainstDeque) {
  uint64_t seed = 1;
  for (size_t record_size : {size_t{4}, size_t{32}, size_t{64}, size_t{128}})
    for (uint32_t capacity : {1u, 2u, 4u, 8u, 64u, 256u, 1024u}) property_test(record_size, capacity, seed++);
}

TEST(EventRing, TypedViewOverARawRing) {
  using pmm::pipe::MdEvent;
  EventRing<MdEvent> ring(std::make_unique<SpscRawRing>(sizeof(MdEvent), 8));
  EXPECT_EQ(ring.capacity(), 8u);
  std::array<MdEvent, 10> in{};
  for (size_t i = 0; i < in.size(); ++i) {
    in[i].sequence = 100 + i;
    in[i].length = static_cast<uint8_t>(i);
    in[i].message[i] = static_cast<uint8_t>(0xF0 + i);
  }
  EXPECT_EQ(ring.push_burst(in.data(), 10), 8u);
  EXPECT_EQ(ring.size(), 8u);
  std::array<MdEvent, 10> out{};
  ASSERT_EQ(ring.pop_burst(out.data(), 3), 3u);
  ASSERT_EQ(ring.push_burst(in.data() + 8, 2), 2u);  // wraps
  ASSERT_EQ(ring.pop_burst(out.data() + 3, 10), 7u);
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(std::memcmp(&out[i], &in[i], sizeof(MdEvent)), 0) << i;
}

TEST(EventRing, RejectsARawRingOfTheWrongRecordSize) {
  using pmm::pipe::MdEvent;
  using pmm::pipe::RxPacket;
  using pmm::pipe::TopEvent;
  EXPECT_THROW(EventRing<MdEvent>(std::make_unique<SpscRawRing>(32, 8)), std::invalid_argument);
  EXPECT_THROW(EventRing<MdEvent>(std::make_unique<SpscRawRing>(128, 8)), std::invalid_argument);
  EXPECT_THROW(EventRing<RxPacket>(std::make_unique<SpscRawRing>(sizeof(TopEvent), 8)), std::invalid_argument);
  EXPECT_THROW(EventRing<uint32_t>(std::make_unique<SpscRawRing>(8, 8)), std::invalid_argument);
  EXPECT_NO_THROW(EventRing<TopEvent>(std::make_unique<SpscRawRing>(sizeof(TopEvent), 8)));
  SpscRingFactory factory;
  EXPECT_NO_THROW(EventRing<RxPacket>(factory.make("rx", sizeof(RxPacket), 64, -1)));
}

// One producer and one consumer thread, random bursts on both sides, 5 M numbered 64-byte records:
// each must arrive exactly once, in order, intact. Sides yield when they cannot progress (2 shared
// vCPUs).
TEST(SpscRawRing, TwoThreadStress) {
  constexpr uint64_t kRecords = 5'000'000;
  constexpr size_t kSize = 64;
  constexpr uint32_t kMaxBurst = 64;
  SpscRawRing ring(kSize, 1024);
  std::thread producer([&] {
    std::mt19937 rng(1);
    std::vector<uint8_t> buf(kMaxBurst * kSize);
    uint64_t next = 0;
    while (next < kRecords) {
      const auto n = static_cast<uint32_t>(std::min<uint64_t>(1 + rng() % kMaxBurst, kRecords - next));
      for (uint32_t i = 0; i < n; ++i) fill_record(buf.data() + i * kSize, kSize, next + i);
      const uint32_t got = ring.push_burst(buf.data(), n);
      next += got;
      if (got == 0) std::this_thread::yield();
    }
  });
  std::mt19937 rng(2);
  std::vector<uint8_t> buf(kMaxBurst * kSize);
  uint64_t expected = 0, bad = 0;
  while (expected < kRecords) {
    const auto n = static_cast<uint32_t>(1 + rng() % kMaxBurst);
    const uint32_t got = ring.pop_burst(buf.data(), n);
    for (uint32_t i = 0; i < got; ++i, ++expected)
      if (!record_is(buf.data() + i * kSize, kSize, expected)) ++bad;
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(expected, kRecords);
  EXPECT_EQ(bad, 0u) << "records out of order or torn";
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.pop_burst(buf.data(), 1), 0u);
}

}  // namespace
