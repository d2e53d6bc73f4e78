// CRC32C cost for the journal: one iteration = the CRC of one buffer of range(0) bytes.
//   BM_Crc32c/<impl>/64    a 64-byte journal record: the time column is ns per record
//   BM_Crc32c/<impl>/4096  a 4 KiB page: GB/s counter (10^9 bytes per second)
// <impl> is dispatch (what crc32c() picked), portable (slicing-by-8) or sse4.2. Buffers rotate over
// 64 KiB of random bytes (L2-resident) so no two consecutive calls see the same data.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "persistence/crc32c.hpp"

namespace {

namespace ps = pmm::persistence;
using Crc32cFn = uint32_t (*)(const void*, size_t, uint32_t) noexcept;

constexpr size_t kArenaBytes = 64 * 1024;

const std::vector<uint8_t>& arena() {
  static const std::vector<uint8_t> bytes = [] {
    std::vector<uint8_t> v(kArenaBytes);
    std::mt19937_64 rng(7);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  }();
  return bytes;
}

void run(benchmark::State& state, Crc32cFn fn) {
  const size_t n = static_cast<size_t>(state.range(0));
  const uint8_t* base = arena().data();
  size_t offset = 0;
  uint32_t sink = 0;
  for (auto _ : state) {
    sink ^= fn(base + offset, n, 0);
    offset += n;
    if (offset + n > kArenaBytes) offset = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(n) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  std::vector<std::pair<const char*, Crc32cFn>> impls{{"dispatch", ps::crc32c},
                                                      {"portable", ps::crc32c_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) impls.emplace_back("sse4.2", ps::crc32c_sse42);
#endif
  for (const auto& [name, fn] : impls) {
    benchmark::RegisterBenchmark((std::string("BM_Crc32c/") + name).c_str(),
                                 [f = fn](benchmark::State& s) { run(s, f); })
        ->Arg(64)
        ->Arg(4096);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("crc32c", ps::crc32c_implementation());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
