// Parse-only cost of the feed: MoldUDP64 packet parsing plus ITCH dispatch decoding every message
// into its struct, over a generated day held in memory. One iteration = the whole day.
//   BM_MoldFraming  parse_downstream + walking the blocks (no ITCH decode): the framing share
//   BM_ParseOnly    parse_downstream + itch::dispatch of every message into a checksum handler
// Counters: items_per_second counts messages; ns_per_msg is CPU time per message in nanoseconds.
// Flags: the Google Benchmark ones, plus --day_messages/--day_symbols/--day_live_orders/--day_seed.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/moldudp64.hpp"
#include "perf/bench/bench_day.hpp"

namespace {

using pmm::bench::PacketDay;

// Folds a few fields of every decoded message into a sum, so no decode can be optimised away.
struct ChecksumHandler {
  uint64_t sum = 0;

  template <class Msg>
  void on(const Msg& m) noexcept { sum += m.h.timestamp ^ m.h.locate; }
  void on(const pmm::itch::AddOrder& m) noexcept { sum += m.ref ^ m.shares ^ m.price ^ static_cast<uint64_t>(m.side); }
  void on(const pmm::itch::AddOrderMpid& m) noexcept { sum += m.ref ^ m.shares ^ m.price; }
  void on(const pmm::itch::OrderDelete& m) noexcept { sum += m.ref; }
  void on(const pmm::itch::OrderReplace& m) noexcept { sum += m.old_ref ^ m.new_ref ^ m.shares ^ m.price; }
  void on(const pmm::itch::OrderExecuted& m) noexcept { sum += m.ref ^ m.shares; }
  void on(const pmm::itch::OrderExecutedWithPrice& m) noexcept { sum += m.ref ^ m.shares ^ m.price; }
  void on(const pmm::itch::OrderCancel& m) noexcept { sum += m.ref ^ m.shares; }
};

void report(benchmark::State& state, const PacketDay& day, uint64_t cpu_ns) {
  const uint64_t messages = state.iterations() * day.messages;
  state.SetItemsProcessed(static_cast<int64_t>(messages));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * day.bytes.size()));
  state.counters["ns_per_msg"] = static_cast<double>(cpu_ns) / static_cast<double>(messages);
}

void BM_MoldFraming(benchmark::State& state) {
  const PacketDay& day = pmm::bench::packet_day();
  const uint8_t* base = day.bytes.data();
  uint64_t messages = 0;
  uint64_t cpu_ns = 0;
  for (auto _ : state) {
    const uint64_t start = pmm::bench::thread_cpu_ns();
    uint64_t sum = 0;
    for (const pmm::bench::PacketSlice& s : day.packets) {
      pmm::mold::DownstreamPacket pkt;
      if (pmm::mold::parse_downstream(base + s.offset, s.length, pkt) != pmm::mold::ParseError::kNone) [[unlikely]] {
        state.SkipWithError("generated packet failed to parse");
        return;
      }
      pkt.for_each_message([&](uint64_t, const uint8_t* msg, uint16_t len) { sum += msg[0] + len; });
      messages += pkt.message_count();
    }
    benchmark::DoNotOptimize(sum);
    cpu_ns += pmm::bench::thread_cpu_ns() - start;
  }
  if (messages != state.iterations() * day.messages) state.SkipWithError("message count differs from the day's");
  report(state, day, cpu_ns);
}
BENCHMARK(BM_MoldFraming)->Unit(benchmark::kMillisecond);

void BM_ParseOnly(benchmark::State& state) {
  const PacketDay& day = pmm::bench::packet_day();
  const uint8_t* base = day.bytes.data();
  uint64_t decoded = 0;
  uint64_t cpu_ns = 0;
  for (auto _ : state) {
    const uint64_t start = pmm::bench::thread_cpu_ns();
    ChecksumHandler handler;
    for (const pmm::bench::PacketSlice& s : day.packets) {
      pmm::mold::DownstreamPacket pkt;
      if (pmm::mold::parse_downstream(base + s.offset, s.length, pkt) != pmm::mold::ParseError::kNone) [[unlikely]] {
        state.SkipWithError("generated packet failed to parse");
        return;
      }
      pkt.for_each_message([&](uint64_t, const uint8_t* msg, uint16_t len) {
        decoded += pmm::itch::dispatch(msg, len, handler) == pmm::itch::DispatchResult::kOk;
      });
    }
    benchmark::DoNotOptimize(handler.sum);
    cpu_ns += pmm::bench::thread_cpu_ns() - start;
  }
  if (decoded != state.iterations() * day.messages) state.SkipWithError("not every message decoded");
  report(state, day, cpu_ns);
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!pmm::bench::take_day_flags(argc, argv)) return 2;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
