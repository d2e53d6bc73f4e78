// The DPDK backend's rings between stages (dpdk-app/rte_event_ring.hpp) against a reference bounded
// FIFO: for each event type (stored as 1, 2, 4 or 8 rte_ring elements per record) random bursts of
// pushes and pops must return exactly what a std::deque of capacity - 1 records would, record for
// record; then a worker lcore and the main lcore move 2 M sequenced records through one ring and
// every record must arrive once, in order, intact. EAL starts once per process (--no-huge, no device):
// this executable holds these tests only. Needs root (EAL); skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "core/pipeline/events.hpp"
#include "dpdk-app/dpdk_eal.hpp"
#include "dpdk-app/rte_event_ring.hpp"
#include "tests/backends/dpdk_test_support.hpp"

namespace pmm::test {
namespace {

using app::dpdk::Eal;
using app::dpdk::RteRingFactory;

bool eal_up() {
  static const bool up = [] {
    if (::geteuid() != 0) return false;
    const std::string prefix = "--file-prefix=pmm-ring-" + std::to_string(::getpid());
    std::vector<std::string> args{"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", prefix,
                                  "--log-level=lib.eal:warning"};
    for (std::string& a : lcore_args()) args.push_back(std::move(a));  // main + one worker lcore
    const std::string e = Eal::start("test_dpdk_event_ring", args);
    if (!e.empty()) ADD_FAILURE() << e;
    return e.empty();
  }();
  return up;
}

// EAL stops after the last test (its runtime directory goes with it).
class EalTeardown : public ::testing::Environment {
 public:
  void TearDown() override { Eal::stop(); }
};
[[maybe_unused]] ::testing::Environment* const kEalTeardown = ::testing::AddGlobalTestEnvironment(new EalTeardown);

// A record whose every byte depends on its sequence number, so a torn or shifted copy shows.
template <class T>
T record(uint64_t seq) {
  T r;
  auto* bytes = reinterpret_cast<uint8_t*>(&r);
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<uint8_t>(seq * 131 + i * 7 + (seq >> 8));
  return r;
}
template <class T>
bool same(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T>
void random_bursts_match_reference(uint32_t capacity, uint64_t seed) {
  RteRingFactory factory(SOCKET_ID_ANY);
  pipe::EventRing<T> ring(factory.make("test", sizeof(T), capacity, -1));
  ASSERT_EQ(ring.capacity(), capacity - 1);
  std::deque<uint64_t> reference;
  std::mt19937_64 rng(seed);
  std::vector<T> in(3 * capacity), out(3 * capacity);
  uint64_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto n = static_cast<uint32_t>(rng() % (capacity + capacity / 2 + 2));  // 0 .. past full
    if (rng() % 2 == 0) {
      for (uint32_t i = 0; i < n; ++i) in[i] = record<T>(next + i);
      const uint32_t expected = std::min<uint32_t>(n, ring.capacity() - static_cast<uint32_t>(reference.size()));
      ASSERT_EQ(ring.push_burst(in.data(), n), expected) << "step " << step << " push " << n;
      for (uint32_t i = 0; i < expected; ++i) reference.push_back(next + i);
      next += expected;
    } else {
      const uint32_t expected = std::min<uint32_t>(n, static_cast<uint32_t>(reference.size()));
      ASSERT_EQ(ring.pop_burst(out.data(), n), expected) << "step " << step << " pop " << n;
      for (uint32_t i = 0; i < expected; ++i) {
        ASSERT_TRUE(same(out[i], record<T>(reference.front()))) << "step " << step << " record " << reference.front();
        reference.pop_front();
      }
    }
    ASSERT_EQ(ring.size(), reference.size());
  }
}

TEST(RteEventRing, RandomBurstsMatchABoundedFifo) {
  if (!eal_up()) GTEST_SKIP() << "DPDK's EAL needs root here";
  for (uint32_t capacity : {64u, 128u, 1024u}) {
    SCOPED_TRACE(capacity);
    random_bursts_match_reference<pipe::RxPacket>(capacity, 1);  // 2 x 16 B elements
    random_bursts_match_reference<pipe::MdEvent>(capacity, 2);   // 4 x 16 B
    random_bursts_match_reference<pipe::TopEvent>(capacity, 3);  // 1 x 48 B
    random_bursts_match_reference<pipe::TxEvent>(capacity, 4);   // 8 x 16 B
  }
}

constexpr uint64_t kRecords = 2'000'000;

// Runs on the worker lcore.
int produce(void* arg) {
  auto& ring = *static_cast<pipe::EventRing<pipe::MdEvent>*>(arg);
  std::vector<pipe::MdEvent> burst(32);
  for (uint64_t next = 0; next < kRecords;) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(1 + next % 32, kRecords - next));
    for (uint32_t i = 0; i < n; ++i) burst[i] = record<pipe::MdEvent>(next + i);
    next += ring.push_burst(burst.data(), n);  // a partial push leaves the rest to rebuild
  }
  return 0;
}

TEST(RteEventRing, TwoLcoresMoveEveryRecordOnceInOrder) {
  if (!eal_up()) GTEST_SKIP() << "DPDK's EAL needs root here";
  RteRingFactory factory(SOCKET_ID_ANY);
  pipe::EventRing<pipe::MdEvent> ring(factory.make("stress", sizeof(pipe::MdEvent), 256, -1));
  const unsigned worker = rte_get_next_lcore(rte_get_main_lcore(), 1, 1);
  ASSERT_EQ(rte_eal_remote_launch(produce, &ring, worker), 0);
  std::vector<pipe::MdEvent> out(32);
  uint64_t expected = 0, bad = 0;
  while (expected < kRecords) {
    const uint32_t n = ring.pop_burst(out.data(), 1 + static_cast<uint32_t>(expected % 31));
    for (uint32_t i = 0; i < n; ++i, ++expected) bad += !same(out[i], record<pipe::MdEvent>(expected));
  }
  rte_eal_wait_lcore(worker);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(ring.size(), 0u);
}

}  // namespace
}  // namespace pmm::test
