// MessageHistory: every length round-trips, nothing is readable before it is published, the ring
// keeps exactly the latest `capacity` messages, and a reader racing the writer gets either the right
// message or "not kept", never a torn or wrong one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "perf/sim/message_history.hpp"

namespace pmm::sim {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes message(uint64_t sequence, size_t len) {
  Bytes m(len);
  for (size_t i = 0; i < len; ++i) m[i] = static_cast<uint8_t>(sequence ^ (i * 0x9D));
  return m;
}

Bytes read(const MessageHistory& h, uint64_t sequence, bool* ok = nullptr) {
  Bytes out(h.max_message_length() + 1, 0xEE);
  uint16_t len = 0;
  const bool got = h.read(sequence, out.data(), len);
  if (ok != nullptr) *ok = got;
  out.resize(got ? len : 0);
  return out;
}

TEST(MessageHistory, EveryLengthRoundTrips) {
  for (size_t max_len : {0u, 1u, 6u, 7u, 8u, 50u, 1377u}) {
    MessageHistory h(max_len + 1, max_len);
    for (uint64_t s = 1; s <= max_len + 1; ++s) {
      const Bytes m = message(s, s - 1);  // lengths 0..max_len
      h.store(s, m.data(), static_cast<uint16_t>(m.size()));
    }
    h.publish(max_len + 2);
    for (uint64_t s = 1; s <= max_len + 1; ++s) {
      bool ok = false;
      EXPECT_EQ(read(h, s, &ok), message(s, s - 1)) << "max " << max_len << " sequence " << s;
      EXPECT_TRUE(ok);
    }
  }
}

TEST(MessageHistory, OnlyPublishedMessagesAreReadable) {
  MessageHistory h(10, 50);
  bool ok = true;
  read(h, 1, &ok);
  EXPECT_FALSE(ok);
  for (uint64_t s = 1; s <= 5; ++s) h.store(s, message(s, 20).data(), 20);
  EXPECT_EQ(h.published_end(), 1u);
  read(h, 1, &ok);
  EXPECT_FALSE(ok);
  Bytes stored(50);
  uint16_t len = 0;
  EXPECT_TRUE(h.read_stored(5, stored.data(), len));  // the publisher sees what it stored
  h.publish(4);
  EXPECT_EQ(read(h, 3), message(3, 20));
  read(h, 4, &ok);
  EXPECT_FALSE(ok);
  read(h, 0, &ok);
  EXPECT_FALSE(ok);
}

TEST(MessageHistory, TheRingKeepsTheLatestCapacityMessages) {
  MessageHistory h(7, 16);
  for (uint64_t s = 1; s <= 100; ++s) {
    h.store(s, message(s, s % 17).data(), static_cast<uint16_t>(s % 17));
    h.publish(s + 1);
    for (uint64_t q = 1; q <= s; ++q) {
      bool ok = false;
      const Bytes got = read(h, q, &ok);
      ASSERT_EQ(ok, q + 7 > s) << "after " << s << ", sequence " << q;
      if (ok) {
        ASSERT_EQ(got, message(q, q % 17));
      }
    }
  }
}

// One writer overwriting a small ring as fast as it can, two readers reading near its tail where
// slots are overwritten while being copied.
TEST(MessageHistory, ConcurrentReadersGetTheRightMessageOrNothing) {
  constexpr uint64_t kCapacity = 64;
  constexpr uint64_t kMessages = 2'000'000;
  MessageHistory h(kCapacity, 50);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> hits{0}, misses{0}, wrong{0};
  const auto reader = [&](uint64_t back) {
    Bytes out(50);
    while (!done.load(std::memory_order_relaxed)) {
      const uint64_t end = h.published_end();
      for (uint64_t q = end > back ? end - back : 1; q < end; ++q) {
        uint16_t len = 0;
        if (!h.read(q, out.data(), len)) {
          misses.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (len != q % 51 || Bytes(out.begin(), out.begin() + len) != message(q, len))
          wrong.fetch_add(1, std::memory_order_relaxed);
        hits.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::thread r1(reader, kCapacity + 8), r2(reader, kCapacity / 2);
  for (uint64_t s = 1; s <= kMessages; ++s) {
    const Bytes m = message(s, s % 51);
    h.store(s, m.data(), static_cast<uint16_t>(m.size()));
    h.publish(s + 1);
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(hits.load(), 1000u);
  EXPECT_GT(misses.load(), 0u);  // the readers did race the writer
}

}  // namespace
}  // namespace pmm::sim
