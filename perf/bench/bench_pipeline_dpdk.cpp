// The whole pipeline on the DPDK backend, without a NIC: a generated day is framed in memory
// (Ethernet/IPv4/UDP/MoldUDP64), then injected as mbufs into the RX ring of a net_ring virtual port
// from the main lcore while every stage runs on one worker lcore. Reports (docs/performance.md):
//   ring hop      rte_ring element ring (SP/SC, 64-byte records) push_burst + pop_burst of 32 on one lcore,
//                 ns per record, next to the portable SpscRawRing; and one record's one-way trip
//                 between two lcores (ping-pong round trip / 2).
//   throughput    the whole day as fast as the pipeline takes it (at most --inflight packets out of the
//                 injector's pool at once, so nothing is dropped): messages/s and packets/s from the
//                 first injected packet to the last message applied; latencies here include queueing.
//   paced         --paced-packets packets at --paced-rate packets/s, one at a time: RX -> parsed,
//                 RX -> applied to the book and RX -> quote stage, p50/p99/p99.99 from the pipeline's
//                 own histograms (rx_tsc is taken right after rte_eth_rx_burst).
// Needs root (EAL), no hugepages: --no-huge -m 1024. Exit 77 (skipped) when not root.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "core/moldudp64.hpp"
#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/udp_frame.hpp"
#include "dpdk-app/dpdk_backend.hpp"
#include "perf/bench/bench_day.hpp"

namespace {

using pmm::pipe::MdEvent;

// The day's packets as whole Ethernet frames, back to back.
struct Frames {
  std::vector<uint8_t> bytes;
  std::vector<pmm::bench::PacketSlice> frames;
  uint64_t messages = 0;
  uint64_t end_sequence = 0;  // one past the last message
};

Frames frame_day(const pmm::bench::PacketDay& day) {
  Frames f;
  const pmm::net::FrameAddress address = pmm::gen::default_feed_address();
  f.bytes.reserve(day.bytes.size() + day.packets.size() * pmm::net::kUdpFrameOverhead);
  uint8_t frame[2048];
  for (const pmm::bench::PacketSlice& p : day.packets) {
    const size_t len = pmm::net::build_udp_frame(frame, sizeof frame, address, day.bytes.data() + p.offset, p.length,
                                                 static_cast<uint16_t>(f.frames.size()));
    f.frames.push_back({f.bytes.size(), static_cast<uint32_t>(len)});
    f.bytes.insert(f.bytes.end(), frame, frame + len);
  }
  f.messages = day.messages;
  f.end_sequence = day.messages + 1;
  return f;
}

std::vector<uint8_t> end_of_session_frame(uint64_t next_sequence) {
  uint8_t mold[pmm::mold::kHeaderSize];
  const size_t n = pmm::mold::encode_end_of_session(mold, pmm::gen::PacketizerConfig{}.session, next_sequence);
  std::vector<uint8_t> frame(pmm::net::kUdpFrameOverhead + n);
  frame.resize(pmm::net::build_udp_frame(frame.data(), frame.size(), pmm::gen::default_feed_address(), mold, n, 0));
  return frame;
}

// Main lcore -> net_ring's RX ring: frames copied into mbufs of our own pool (its size bounds what is in
// flight: the injector waits for the pipeline to hand mbufs back).
class Injector {
 public:
  Injector(rte_mempool* pool, rte_ring* ring) : pool_(pool), ring_(ring) {}

  // frames[from, to) as fast as the pool and ring allow.
  void burst_all(const Frames& f, size_t from, size_t to) {
    rte_mbuf* m[32];
    while (from < to) {
      const auto k = static_cast<unsigned>(std::min<size_t>(32, to - from));
      if (rte_pktmbuf_alloc_bulk(pool_, m, k) != 0) continue;
      for (unsigned j = 0; j < k; ++j)
        fill(m[j], f.bytes.data() + f.frames[from + j].offset, f.frames[from + j].length);
      enqueue(m, k);
      from += k;
    }
  }
  void one(const uint8_t* frame, size_t len) {
    rte_mbuf* m = nullptr;
    while ((m = rte_pktmbuf_alloc(pool_)) == nullptr) {
    }
    fill(m, frame, len);
    enqueue(&m, 1);
  }

 private:
  static void fill(rte_mbuf* m, const uint8_t* frame, size_t len) {
    std::memcpy(pmm::app::dpdk::mbuf_data(m), frame, len);
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
  }
  void enqueue(rte_mbuf** m, unsigned k) {
    unsigned done = 0;
    while (done < k) done += rte_ring_enqueue_burst(ring_, reinterpret_cast<void* const*>(m + done), k - done, nullptr);
  }
  rte_mempool* pool_;
  rte_ring* ring_;
};

// One lcore: push_burst + pop_burst of `burst` 64-byte records, ns per record.
double burst_cost(pmm::pipe::RawRing& ring, uint32_t burst, uint64_t rounds) {
  std::vector<MdEvent> in(burst), out(burst);
  const uint64_t start = pmm::bench::thread_cpu_ns();
  uint64_t moved = 0;
  for (uint64_t i = 0; i < rounds; ++i) {
    in[0].sequence = i;
    ring.push_burst(in.data(), burst);
    moved += ring.pop_burst(out.data(), burst);
  }
  const uint64_t ns = pmm::bench::thread_cpu_ns() - start;
  return static_cast<double>(ns) / static_cast<double>(moved);
}

struct PingPong {
  pmm::pipe::RawRing* there;
  pmm::pipe::RawRing* back;
  std::atomic<bool> stop{false};
};

int echo(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  MdEvent e;
  while (!pp->stop.load(std::memory_order_relaxed))
    if (pp->there->pop_burst(&e, 1) == 1)
      while (pp->back->push_burst(&e, 1) != 1) {
      }
  return 0;
}

// Two lcores: one 64-byte record there and back, half the round trip in ns (median of `trips`).
double one_way_ns(pmm::pipe::RingFactory& rings, unsigned worker, uint64_t trips, const pmm::pipe::TscClock& clock) {
  auto there = rings.make("bench_there", sizeof(MdEvent), 64, -1);
  auto back = rings.make("bench_back", sizeof(MdEvent), 64, -1);
  PingPong pp{there.get(), back.get()};
  rte_eal_remote_launch(echo, &pp, worker);
  std::vector<uint64_t> rtt;
  rtt.reserve(trips);
  MdEvent e;
  for (uint64_t i = 0; i < trips + 1000; ++i) {
    const uint64_t t0 = rte_rdtsc();
    e.sequence = i;
    there->push_burst(&e, 1);
    while (back->pop_burst(&e, 1) != 1) {
    }
    if (i >= 1000) rtt.push_back(rte_rdtsc() - t0);  // the first trips warm the lines up
  }
  pp.stop.store(true);
  rte_eal_wait_lcore(worker);
  std::nth_element(rtt.begin(), rtt.begin() + static_cast<long>(rtt.size() / 2), rtt.end());
  return static_cast<double>(clock.to_ns(rtt[rtt.size() / 2])) / 2.0;
}

void wait_until_returned(const rte_mempool* pool, std::chrono::seconds timeout) {
  const auto limit = std::chrono::steady_clock::now() + timeout;
  while (rte_mempool_avail_count(pool) != pool->size && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

std::vector<std::string> default_lcores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.size() < 2)
    return {"--lcores",
            "0@" + std::to_string(cpus.empty() ? 0 : cpus[0]) + ",1@" + std::to_string(cpus.empty() ? 0 : cpus[0])};
  return {"-l", std::to_string(cpus[0]) + "," + std::to_string(cpus[1])};
}

void print_latency(const char* what, const pmm::pipe::LatencySnapshot& s) {
  std::printf("  %-18s p50 %6" PRIu64 " ns  p99 %7" PRIu64 " ns  p99.99 %8" PRIu64 " ns  (%" PRIu64 " samples)\n", what,
              s.percentile(0.5), s.percentile(0.99), s.percentile(0.9999), s.total);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"The pipeline on the DPDK backend over net_ring: ring hop, throughput, paced latency"};
  pmm::gen::DayConfig day{.seed = 1, .messages = 2'000'000, .symbols = 4000, .target_live_orders = 250'000};
  uint32_t inflight = 2048, paced_packets = 20'000, paced_rate = 20'000;
  uint16_t packet_messages = 64;
  uint32_t burst = 32;
  std::string lcores;
  cli.add_option("--messages", day.messages, "Messages in the generated day");
  cli.add_option("--symbols", day.symbols, "Symbols in the generated day");
  cli.add_option("--live-orders", day.target_live_orders, "Live orders the day hovers around");
  cli.add_option("--seed", day.seed, "Generator seed");
  cli.add_option("--inflight", inflight, "Throughput run: injector pool size (packets in flight at most)")
      ->check(CLI::Range(64u, 1u << 20));
  cli.add_option("--paced-packets", paced_packets, "Paced run: packets injected one at a time")
      ->check(CLI::Range(1u, 1u << 24));
  cli.add_option("--paced-rate", paced_rate, "Paced run: packets per second")->check(CLI::Range(1u, 10'000'000u));
  cli.add_option("--burst", burst, "pipeline.burst: packets per RX/parse step (latency against throughput)")
      ->check(CLI::Range(1u, 512u));
  cli.add_option("--packet-messages", packet_messages, "Messages per MoldUDP64 packet at most (64: a busy publisher)")
      ->check(CLI::Range(1, 64));
  cli.add_option("--lcores", lcores,
                 "EAL -l value: main lcore (injector), worker (all stages); default: the first two CPUs");
  CLI11_PARSE(cli, argc, argv);
  if (const std::string bad = pmm::gen::validate(day); !bad.empty()) {
    std::fprintf(stderr, "day: %s\n", bad.c_str());
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_pipeline_dpdk: skipped: DPDK's EAL needs root\n");
    return 77;
  }

  std::fprintf(stderr, "generating %" PRIu64 " messages, %u symbols...\n", day.messages, day.symbols);
  pmm::gen::PacketizerConfig packets;
  packets.max_messages = packet_messages;
  const Frames frames = frame_day(pmm::bench::make_packet_day(day, packets));
  const std::vector<uint8_t> eos = end_of_session_frame(frames.end_sequence);

  pmm::pipe::PipelineConfig c;
  c.backend = "dpdk";
  c.cores = {{-1, {"rx", "parse", "book", "quote", "tx"}}};
  c.burst = burst;
  const std::string prefix = "--file-prefix=pmm-bench-" + std::to_string(::getpid());
  c.dpdk_eal = {"--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "--no-telemetry", prefix,
                "--log-level=lib.eal:warning", "--vdev=net_ring0"};
  for (const std::string& a : lcores.empty() ? default_lcores() : std::vector<std::string>{"-l", lcores})
    c.dpdk_eal.push_back(a);
  c.retrans_server = "";  // net_ring's RX and TX share one SP ring: the injector must be its only producer
  c.status_interval_ms = 0;
  std::string error;
  std::unique_ptr<pmm::app::dpdk::DpdkBackend> backend = pmm::app::dpdk::DpdkBackend::create(c, error);
  if (!backend) {
    std::fprintf(stderr, "bench_pipeline_dpdk: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "%s\n", backend->describe().c_str());
  rte_ring* rx_ring = rte_ring_lookup("ETH_RXTX0_net_ring0");
  rte_mempool* pool =
      rte_pktmbuf_pool_create("bench_inject", inflight, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (rx_ring == nullptr || pool == nullptr) {
    std::fprintf(stderr, "bench_pipeline_dpdk: %s\n",
                 rx_ring == nullptr ? "net_ring0's ring ETH_RXTX0_net_ring0 not found"
                                    : "cannot create the injector's mbuf pool");
    return 1;
  }
  Injector injector(pool, rx_ring);
  const pmm::pipe::TscClock clock = pmm::pipe::TscClock::calibrate();
  const unsigned worker = backend->core_lcores().at(0);

  std::printf("day: %" PRIu64 " messages in %zu packets (%.1f MB of frames), %u symbols, seed %" PRIu64 "\n",
              frames.messages, frames.frames.size(), static_cast<double>(frames.bytes.size()) / 1e6, day.symbols,
              day.seed);
  std::printf("lcores: main %u injects, worker %u runs rx parse book quote tx; TSC %.3f GHz\n", rte_get_main_lcore(),
              worker, clock.ticks_per_ns());

  {  // Ring hop.
    pmm::pipe::SpscRawRing spsc(sizeof(MdEvent), 1024);
    auto rte = backend->rings().make("bench_hop", sizeof(MdEvent), 1024, -1);
    const double rte_ns = burst_cost(*rte, 32, 2'000'000);
    const double spsc_ns = burst_cost(spsc, 32, 2'000'000);
    const double cross = one_way_ns(backend->rings(), worker, 200'000, clock);
    std::printf(
        "ring hop: rte_ring elem SP/SC %.2f ns/record, SpscRawRing %.2f ns/record (64 B records, bursts of 32, "
        "one lcore); one record lcore %u -> %u one way %.0f ns (median round trip / 2)\n",
        rte_ns, spsc_ns, rte_get_main_lcore(), worker, cross);
  }

  {  // Throughput.
    pmm::pipe::Pipeline p(c, backend->source(), backend->sink(), backend->rings(), clock,
                          [&](int cpu) { backend->before_core(cpu); });
    backend->launch(p);
    const auto t0 = std::chrono::steady_clock::now();
    injector.burst_all(frames, 0, frames.frames.size());
    injector.one(eos.data(), eos.size());
    const auto limit = t0 + std::chrono::seconds(300);
    while (!p.end_of_session() && std::chrono::steady_clock::now() < limit) {
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.drain_and_stop(2000);
    backend->join();
    const pmm::pipe::PipelineSnapshot s = p.snapshot();
    std::printf("throughput: %" PRIu64 " messages in sequence (%" PRIu64
                " for the books) in %.3f s: %.2f M msg/s, "
                "%.0f k pkt/s (gaps %" PRIu64 ", inflight <= %u packets)\n",
                s.messages, s.applied, secs, static_cast<double>(s.messages) / secs / 1e6,
                static_cast<double>(frames.frames.size()) / secs / 1e3, s.gaps, inflight);
    print_latency("RX -> parsed", s.parse_latency);
    print_latency("RX -> book", s.book_latency);
    print_latency("RX -> quote", s.quote_latency);
    if (s.messages != frames.messages || s.gaps != 0) std::printf("  WARNING: not every message passed in sequence\n");
  }

  {  // Paced latency: the day's first packets, one at a time.
    const size_t n = std::min<size_t>(paced_packets, frames.frames.size());
    pmm::pipe::Pipeline p(c, backend->source(), backend->sink(), backend->rings(), clock,
                          [&](int cpu) { backend->before_core(cpu); });
    backend->launch(p);
    const uint64_t period = static_cast<uint64_t>(clock.ticks_per_ns() * 1e9 / paced_rate);
    uint64_t due = rte_rdtsc();
    for (size_t i = 0; i < n; ++i) {
      while (rte_rdtsc() < due) {
      }
      due += period;
      injector.one(frames.bytes.data() + frames.frames[i].offset, frames.frames[i].length);
    }
    wait_until_returned(pool, std::chrono::seconds(10));  // every injected packet parsed and handed back
    const bool clean = p.drain_and_stop(2000);
    backend->join();
    const pmm::pipe::PipelineSnapshot s = p.snapshot();
    std::printf("paced: %zu packets at %u pkt/s, %" PRIu64 " messages in sequence%s\n", n, paced_rate, s.messages,
                clean ? "" : " (drain deadline passed)");
    print_latency("RX -> parsed", s.parse_latency);
    print_latency("RX -> book", s.book_latency);
    print_latency("RX -> quote", s.quote_latency);
  }

  std::printf("device: %s\n", backend->device_status().c_str());
  rte_mempool_free(pool);
  backend.reset();
  return 0;
}
