// The write-ahead journal's cost per 64-byte record (48-byte payload: a 64-byte record on disk too).
//   BM_Enqueue          hot path: JournalRing::enqueue of one record (a pipeline core's whole cost);
//                       4096 enqueues timed, then the ring is emptied untimed.
//   BM_Drain/0          journal core: JournalCore::run_once draining a full 4096-record ring into the
//                       mapped segment (pop, header, CRC32C, copy), syncs EXCLUDED (interval 60 s).
//                       Batches during which a segment rollover happened (file creation, preallocation
//                       and pre-faulting of 64 MiB) are left out and counted in `rollovers`.
//   BM_Drain/100        the same with group commit at the default 100 ms interval. The msync runs on
//                       the writer's sync thread (journal_sync_thread.hpp), not in the drain: what is
//                       left here is the hand-over and the sync markers; under `taskset -c 1` the
//                       sync thread shares the drain's CPU, so its CPU time still shows in wall clock.
//   BM_DrainByCopy      the drain as it was before JournalRing::peek_burst, for comparison in the same
//                       run: pop_burst into a burst buffer, then JournalWriter::append per record (two
//                       copies of each record instead of one, a bounds check per record).
//   BM_WriterAppend     JournalWriter::append alone (no ring), same payload.
// Files go to $PMM_BENCH_DIR (default /tmp) and are removed at the end. ns_per_record: wall-clock ns
// per record over the timed parts (includes waiting for msync in BM_Drain/100, and anything the
// machine steals); cpu_ns_per_record: this thread's CPU time (user + kernel) over the same parts.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "perf/bench/bench_day.hpp"  // thread_cpu_ns
#include "persistence/journal_core.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/journal_writer.hpp"

namespace {

namespace ps = pmm::persistence;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kPayload = 48;
constexpr uint32_t kRing = 4096;

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("PMM_BENCH_DIR");
    path_ = std::string(base != nullptr ? base : "/tmp") + "/pmm-bench-journal-" + std::to_string(::getpid()) +
            "-" + std::to_string(std::random_device{}());
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<ps::JournalWriter> open_writer(const std::string& dir) {
  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = 64ull << 20;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  if (!w) std::abort();
  return w;
}

double ns_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
}

void BM_Enqueue(benchmark::State& state) {
  ps::JournalRing ring(kRing);
  std::array<uint8_t, kPayload> payload{};
  std::array<ps::JournalEntry, 256> sink{};
  double ns = 0;
  double cpu_ns = 0;
  uint64_t records = 0;
  for (auto _ : state) {
    const uint64_t c0 = pmm::bench::thread_cpu_ns();
    const auto t0 = Clock::now();
    for (uint32_t i = 0; i < kRing; ++i) {
      payload[0] = static_cast<uint8_t>(i);
      benchmark::DoNotOptimize(ring.enqueue(100, payload.data(), kPayload));
    }
    const auto t1 = Clock::now();
    cpu_ns += static_cast<double>(pmm::bench::thread_cpu_ns() - c0);
    ns += ns_between(t0, t1);
    records += kRing;
    state.PauseTiming();
    while (ring.pop_burst(sink.data(), sink.size()) != 0) {
    }
    state.ResumeTiming();
  }
  if (ring.rejected() != 0) state.SkipWithError("ring overflowed");
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["ns_per_record"] = ns / static_cast<double>(records);
  state.counters["cpu_ns_per_record"] = cpu_ns / static_cast<double>(records);
}
BENCHMARK(BM_Enqueue)->Iterations(2000);

void BM_Drain(benchmark::State& state) {
  const auto interval = static_cast<uint32_t>(state.range(0));
  BenchDir dir;
  auto writer = open_writer(dir.path());
  ps::JournalRing ring(kRing);
  ps::JournalCoreOptions co;
  co.burst = 32;
  co.sync_interval_ms = interval == 0 ? 60000 : interval;
  ps::JournalCore core(*writer, {&ring}, co);
  std::array<uint8_t, kPayload> payload{};
  double ns = 0;
  double cpu_ns = 0;
  uint64_t records = 0;
  uint64_t rollovers = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (uint32_t i = 0; i < kRing; ++i) {
      payload[0] = static_cast<uint8_t>(i);
      ring.enqueue(100, payload.data(), kPayload);
    }
    const uint64_t segments = writer->segments_created();
    state.ResumeTiming();
    const uint64_t c0 = pmm::bench::thread_cpu_ns();
    const auto t0 = Clock::now();
    uint64_t n = 0;
    while (n < kRing) n += core.run_once();
    const auto t1 = Clock::now();
    const uint64_t c1 = pmm::bench::thread_cpu_ns();
    if (writer->segments_created() != segments) {
      ++rollovers;
    } else {
      ns += ns_between(t0, t1);
      cpu_ns += static_cast<double>(c1 - c0);
      records += n;
    }
  }
  if (writer->failed()) state.SkipWithError(writer->error().c_str());
  writer->close();
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["ns_per_record"] = records != 0 ? ns / static_cast<double>(records) : 0;
  state.counters["cpu_ns_per_record"] = records != 0 ? cpu_ns / static_cast<double>(records) : 0;
  state.counters["rollovers"] = static_cast<double>(rollovers);
  state.counters["syncs"] = static_cast<double>(core.syncs());
}
BENCHMARK(BM_Drain)->Arg(0)->Arg(100)->Iterations(1000);

void BM_DrainByCopy(benchmark::State& state) {
  BenchDir dir;
  auto writer = open_writer(dir.path());
  ps::JournalRing ring(kRing);
  std::array<ps::JournalEntry, 32> burst{};
  std::array<uint8_t, kPayload> payload{};
  double ns = 0;
  double cpu_ns = 0;
  uint64_t records = 0;
  uint64_t rollovers = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (uint32_t i = 0; i < kRing; ++i) {
      payload[0] = static_cast<uint8_t>(i);
      ring.enqueue(100, payload.data(), kPayload);
    }
    const uint64_t segments = writer->segments_created();
    state.ResumeTiming();
    const uint64_t c0 = pmm::bench::thread_cpu_ns();
    const auto t0 = Clock::now();
    uint64_t n = 0;
    while (n < kRing) {
      const size_t k = ring.pop_burst(burst.data(), burst.size());
      for (size_t i = 0; i < k; ++i) {
        const ps::JournalEntry& e = burst[i];
        if (writer->append(e.type, e.payload, e.length) == 0) std::abort();
      }
      n += k;
    }
    const auto t1 = Clock::now();
    const uint64_t c1 = pmm::bench::thread_cpu_ns();
    if (writer->segments_created() != segments) {
      ++rollovers;
    } else {
      ns += ns_between(t0, t1);
      cpu_ns += static_cast<double>(c1 - c0);
      records += n;
    }
  }
  writer->close();
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["ns_per_record"] = records != 0 ? ns / static_cast<double>(records) : 0;
  state.counters["cpu_ns_per_record"] = records != 0 ? cpu_ns / static_cast<double>(records) : 0;
  state.counters["rollovers"] = static_cast<double>(rollovers);
}
BENCHMARK(BM_DrainByCopy)->Iterations(1000);

void BM_WriterAppend(benchmark::State& state) {
  BenchDir dir;
  auto writer = open_writer(dir.path());
  std::array<uint8_t, kPayload> payload{};
  double ns = 0;
  double cpu_ns = 0;
  uint64_t records = 0;
  for (auto _ : state) {
    const uint64_t segments = writer->segments_created();
    const uint64_t c0 = pmm::bench::thread_cpu_ns();
    const auto t0 = Clock::now();
    for (uint32_t i = 0; i < kRing; ++i) {
      payload[0] = static_cast<uint8_t>(i);
      benchmark::DoNotOptimize(writer->append(100, payload.data(), kPayload));
    }
    const auto t1 = Clock::now();
    const uint64_t c1 = pmm::bench::thread_cpu_ns();
    if (writer->segments_created() == segments) {
      ns += ns_between(t0, t1);
      cpu_ns += static_cast<double>(c1 - c0);
      records += kRing;
    }
  }
  writer->close();
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["ns_per_record"] = records != 0 ? ns / static_cast<double>(records) : 0;
  state.counters["cpu_ns_per_record"] = records != 0 ? cpu_ns / static_cast<double>(records) : 0;
}
BENCHMARK(BM_WriterAppend)->Iterations(1000);

}  // namespace

BENCHMARK_MAIN();
