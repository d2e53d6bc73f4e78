// Where the appliance's journal thread runs (persistence.journalCpu, docs/configuration.md). The journal
// core wants a CPU of its own on the data plane's NUMA node: it reads the rings the pipeline cores write,
// and the segment pages it fills come from its own node. The choice is a pure function of the
// configuration and a CpuTopology, so it is tested on made-up machines; this machine's topology comes
// from sysfs and libnuma (Linux) or is unknown (macOS: nothing is pinned).
#pragma once

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>

#include <cstring>
#endif

#include "core/pipeline/pipeline_config.hpp"

namespace pmm::app {

struct CpuTopology {
  std::vector<int> node_of;    // node_of[cpu]: the CPU's NUMA node; -1 (or past the end): not online
  std::vector<int> isolated;   // CPUs kept from the scheduler (isolcpus=), ascending
  bool known = false;          // false: this platform cannot say, and nothing is pinned
  bool numa_known = false;     // false (no libnuma): every online CPU counts as node 0

  // Linux: /sys/devices/system/cpu/{online,isolated}, nodes from libnuma when the build has it.
  static CpuTopology of_this_machine();
  bool online(int cpu) const noexcept {
    return cpu >= 0 && static_cast<size_t>(cpu) < node_of.size() && node_of[static_cast<size_t>(cpu)] >= 0;
  }
};

struct JournalCpuPlacement {
  int cpu = -1;      // the journal thread's CPU; -1: unpinned
  std::string note;  // one log line: which CPU and why, or why unpinned
};

// Places the journal thread for persistence.journalCpu (`configured`: PersistenceConfig::kJournalCpuAuto,
// -1 or a CPU) given the data plane's CPUs (pipeline.cores[].cpu). "auto": an online CPU on the NUMA
// node of the first pinned pipeline core that no pipeline core uses, an isolated one first, else the
// highest-numbered; unpinned (and the note says why) when the data plane is not pinned, no such CPU
// exists, or the platform cannot pin. Returns "" or a configuration error naming persistence.journalCpu
// (an explicit CPU that is not online, or that a pipeline core uses).
std::string place_journal_thread(int configured, const std::vector<pipe::CoreAssignment>& cores,
                                 const CpuTopology& topology, JournalCpuPlacement& out);

// A sysfs CPU list ("0-3,8,10-11", a trailing newline allowed, "" is empty) into ascending CPU numbers;
// false for anything else.
bool parse_cpu_list(std::string_view text, std::vector<int>& cpus);
// The reverse: ascending CPU numbers as "0-3,8,10-11".
std::string format_cpu_list(const std::vector<int>& cpus);

// Pins `thread` to `cpu` (Linux). Returns "" or why not; the thread then runs unpinned. Inline so that
// the appliance's persistence code needs no extra object file.
inline std::string pin_thread(std::thread& thread, int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int rc = pthread_setaffinity_np(thread.native_handle(), sizeof set, &set); rc != 0)
    return "cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(rc);
  return "";
#else
  (void)thread;
  return "cannot pin to CPU " + std::to_string(cpu) + ": CPU pinning is Linux-only here";
#endif
}

}  // namespace pmm::app
