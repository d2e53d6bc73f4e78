// SpscRing cost per 64-byte record.
//   BM_PushPopBurst/32   one thread: push_burst of 32 records then pop_burst of 32 on a 1024-slot ring
//                        (the indices advance, so bursts cross the end of the storage as they would
//                        in use). ns_per_record = CPU ns / record; no cache-line transfer between
//                        cores is involved, so this is the ring's own instruction cost.
//   BM_TryPushPop        the same with try_push + try_pop of one record.
//   BM_TwoThread/32      a producer thread pushes kRecords records in bursts of 32 while the
//                        benchmark thread pops bursts of 32; wall-clock records/s through the ring,
//                        thread start included (amortised over kRecords, a multiple of the burst).
//                        On a shared 2-core box this measures the machine as much as the ring:
//                        compare runs on one host.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <thread>

#include "core/spsc_ring.hpp"
#include "perf/bench/bench_day.hpp"  // thread_cpu_ns

namespace {

struct Record {
  uint64_t seq;
  std::array<uint64_t, 7> payload;
};
static_assert(sizeof(Record) == 64);

void BM_PushPopBurst(benchmark::State& state) {
  const auto burst = static_cast<size_t>(state.range(0));
  pmm::SpscRing<Record> ring(1024);
  std::array<Record, 256> in{};
  std::array<Record, 256> out{};
  for (size_t i = 0; i < in.size(); ++i) in[i].seq = i;
  const uint64_t start = pmm::bench::thread_cpu_ns();
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring.push_burst(in.data(), burst));
    benchmark::DoNotOptimize(ring.pop_burst(out.data(), burst));
    benchmark::ClobberMemory();
  }
  const uint64_t cpu_ns = pmm::bench::thread_cpu_ns() - start;
  const auto records = static_cast<double>(state.iterations()) * static_cast<double>(burst);
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["ns_per_record"] = static_cast<double>(cpu_ns) / records;
}
BENCHMARK(BM_PushPopBurst)->Arg(1)->Arg(32);

void BM_TryPushPop(benchmark::State& state) {
  pmm::SpscRing<Record> ring(1024);
  Record in{};
  Record out{};
  const uint64_t start = pmm::bench::thread_cpu_ns();
  for (auto _ : state) {
    ++in.seq;
    benchmark::DoNotOptimize(ring.try_push(in));
    benchmark::DoNotOptimize(ring.try_pop(out));
    benchmark::ClobberMemory();
  }
  const uint64_t cpu_ns = pmm::bench::thread_cpu_ns() - start;
  state.SetItemsProcessed(state.iterations());
  state.counters["ns_per_record"] =
      static_cast<double>(cpu_ns) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TryPushPop);

void BM_TwoThread(benchmark::State& state) {
  constexpr uint64_t kRecords = 4'000'000;
  const auto burst = static_cast<size_t>(state.range(0));
  pmm::SpscRing<Record> ring(1024);
  uint64_t checksum = 0;
  for (auto _ : state) {
    std::thread producer([&ring, burst] {
      std::array<Record, 256> in{};
      uint64_t next = 0;
      while (next < kRecords) {
        for (size_t i = 0; i < burst; ++i) in[i].seq = next + i;
        size_t done = 0;
        while (done < burst) done += ring.push_burst(in.data() + done, burst - done);
        next += burst;
      }
    });
    std::array<Record, 256> out{};
    uint64_t got = 0;
    while (got < kRecords) {
      const size_t n = ring.pop_burst(out.data(), burst);
      for (size_t i = 0; i < n; ++i) checksum += out[i].seq;
      got += n;
    }
    producer.join();
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRecords));
}
BENCHMARK(BM_TwoThread)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
