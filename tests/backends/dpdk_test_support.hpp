// What the DPDK backend tests share: EAL arguments that need no hugepages and no NIC, a generated day
// written to a pcap for net_pcap, the books a plain BookBuilder makes of the same messages, and a
// pipeline run that always stops its lcores (a failed check must not leave them spinning).
#pragma once

#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/book_builder.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/pipeline/pipeline_config.hpp"
#include "dpdk-app/dpdk_backend.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"

namespace pmm::test {

inline bool running_as_root() { return ::geteuid() == 0; }

// Two EAL lcores (main + one worker): on two CPUs we may run on when there are two, else both on one.
inline std::vector<std::string> lcore_args() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  if (cpus.size() >= 2) return {"-l", std::to_string(cpus[0]) + "," + std::to_string(cpus[1])};
  return {"--lcores", "0@" + std::to_string(cpus[0]) + ",1@" + std::to_string(cpus[0])};
}

// No hugepages, no PCI scan, no shared runtime files or telemetry socket (nothing left in /var/run/dpdk), a
// file prefix of our own, quiet EAL.
inline std::vector<std::string> eal_args(const std::string& vdev) {
  const std::string prefix = "--file-prefix=pmm-test-" + std::to_string(::getpid());
  std::vector<std::string> a{"--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry",
                             prefix, "--log-level=lib.eal:warning", "--vdev=" + vdev};
  for (std::string& s : lcore_args()) a.push_back(std::move(s));
  return a;
}

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pmm-" + std::to_string(::getpid()) + "-" + name)).string();
}

struct ReferenceBooks {
  uint64_t messages = 0;
  uint64_t digest = 0;
};

// The generated day's messages straight into a BookBuilder: what the pipeline's books must equal.
// `lost(sequence)`: messages the pipeline cannot have (MoldUDP64 numbers them from 1), left out.
inline ReferenceBooks reference_books(const gen::DayConfig& day, const book::BookCapacity& capacity,
                                      const std::function<bool(uint64_t)>& lost = {}) {
  gen::ItchDayGenerator generator(day);
  auto builder = std::make_unique<BookBuilder>(capacity);
  ReferenceBooks r;
  uint8_t msg[64];
  uint64_t sequence = 0;
  for (size_t len; (len = generator.next(msg)) != 0;) {
    if (lost && lost(++sequence)) continue;
    builder->on_message(msg, len);
    ++r.messages;
  }
  r.digest = builder->books().digest();
  return r;
}

// Every stage on one worker lcore.
inline pipe::PipelineConfig one_core_config(const std::vector<std::string>& eal) {
  pipe::PipelineConfig c;
  c.backend = "dpdk";
  c.cores = {{-1, {"rx", "parse", "book", "quote", "tx"}}};
  c.dpdk_eal = eal;
  c.dpdk_port = 0;
  c.gateway_mac = "02:00:00:00:00:01";
  c.local_ip = "10.77.0.2";
  c.status_interval_ms = 0;
  return c;
}

struct RunResult {
  bool condition_met = false;
  bool drained = false;
  pipe::PipelineSnapshot snapshot;
  uint64_t digest = 0;
  app::dpdk::DeviceStats device;  // after the cores stopped, the pipeline still alive
};

// Launches the pipeline's cores on the backend, waits for `done` (polled every millisecond, up to
// `timeout`), drains, stops and joins: the cores never outlive this call.
inline RunResult run_pipeline(app::dpdk::DpdkBackend& backend, pipe::Pipeline& p, const std::function<bool()>& done,
                              std::chrono::milliseconds timeout) {
  RunResult r;
  backend.launch(p);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      r.condition_met = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  r.drained = p.drain_and_stop(5000);
  backend.join();
  r.snapshot = p.snapshot();
  r.digest = p.books_digest();
  r.device = backend.device_stats();
  return r;
}

}  // namespace pmm::test
