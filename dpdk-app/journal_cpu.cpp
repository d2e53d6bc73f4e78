#include "dpdk-app/journal_cpu.hpp"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <fstream>
#include <iterator>

#include "persistence/persistence_config.hpp"

#if defined(PMM_HAVE_NUMA)
#include <numa.h>
#endif

namespace pmm::app {

namespace {

#if defined(__linux__)
bool read_text(const char* path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}
#endif

// The pipeline core (index) pinned to `cpu`, or -1.
int core_on(const std::vector<pipe::CoreAssignment>& cores, int cpu) {
  for (size_t i = 0; i < cores.size(); ++i)
    if (cores[i].cpu == cpu) return static_cast<int>(i);
  return -1;
}

std::string online_list(const CpuTopology& t) {
  std::vector<int> cpus;
  for (size_t c = 0; c < t.node_of.size(); ++c)
    if (t.node_of[c] >= 0) cpus.push_back(static_cast<int>(c));
  return format_cpu_list(cpus);
}

}  // namespace

bool parse_cpu_list(std::string_view text, std::vector<int>& cpus) {
  cpus.clear();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return true;
  auto number = [&text](int& v) {
    if (text.empty() || text.front() < '0' || text.front() > '9') return false;
    v = 0;
    while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
      v = v * 10 + (text.front() - '0');
      if (v > 65535) return false;
      text.remove_prefix(1);
    }
    return true;
  };
  for (;;) {
    int lo, hi;
    if (!number(lo)) return false;
    hi = lo;
    if (!text.empty() && text.front() == '-') {
      text.remove_prefix(1);
      if (!number(hi) || hi < lo) return false;
    }
    if (!cpus.empty() && lo <= cpus.back()) return false;  // ascending, no overlap
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    if (text.empty()) return true;
    if (text.front() != ',') return false;
    text.remove_prefix(1);
  }
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cpus[i]);
    if (j > i) {
      out += '-';  // (not "-" + to_string(): GCC 12 -O3 warns a false -Wrestrict on that)
      out += std::to_string(cpus[j]);
    }
    i = j + 1;
  }
  return out;
}

CpuTopology CpuTopology::of_this_machine() {
  CpuTopology t;
#if defined(__linux__)
  std::string text;
  std::vector<int> online;
  if (!read_text("/sys/devices/system/cpu/online", text) || !parse_cpu_list(text, online) || online.empty()) {
    const long n = ::sysconf(_SC_NPROCESSORS_CONF);
    online.clear();
    for (long c = 0; c < n; ++c) online.push_back(static_cast<int>(c));
  }
  if (online.empty()) return t;
  t.known = true;
  t.node_of.assign(static_cast<size_t>(online.back()) + 1, -1);
#if defined(PMM_HAVE_NUMA)
  t.numa_known = numa_available() >= 0;
#endif
  for (const int c : online) {
    int node = 0;
#if defined(PMM_HAVE_NUMA)
    if (t.numa_known) node = std::max(0, numa_node_of_cpu(c));
#endif
    t.node_of[static_cast<size_t>(c)] = node;
  }
  if (read_text("/sys/devices/system/cpu/isolated", text) && !parse_cpu_list(text, t.isolated)) t.isolated.clear();
#endif
  return t;
}

std::string place_journal_thread(int configured, const std::vector<pipe::CoreAssignment>& cores,
                                 const CpuTopology& topology, JournalCpuPlacement& out) {
  assert(configured >= -1 || configured == persistence::PersistenceConfig::kJournalCpuAuto);
  out = JournalCpuPlacement{};
  if (configured == -1) {
    out.note = "journal thread unpinned (persistence.journalCpu -1)";
    return "";
  }
  const std::string form = "persistence.journalCpu: expected \"auto\", -1 (unpinned) or an online CPU that no "
                           "pipeline core uses";
  // The data plane's NUMA node: that of the first pinned pipeline core.
  int data_cpu = -1;
  for (const pipe::CoreAssignment& a : cores) {
    if (a.cpu >= 0) {
      data_cpu = a.cpu;
      break;
    }
  }
  const int data_node = topology.online(data_cpu) ? topology.node_of[static_cast<size_t>(data_cpu)] : -1;
  const std::string numa = topology.numa_known ? "" : " (no libnuma: NUMA nodes unknown, all CPUs count as node 0)";

  if (configured >= 0) {
    if (!topology.known) {
      out.note = "journal thread unpinned: persistence.journalCpu " + std::to_string(configured) +
                 " ignored, CPU pinning is Linux-only here";
      return "";
    }
    if (!topology.online(configured))
      return form + " (CPU " + std::to_string(configured) + " is not online here; online: " + online_list(topology) +
             ")";
    if (const int core = core_on(cores, configured); core >= 0)
      return form + " (CPU " + std::to_string(configured) + " is pipeline.cores[" + std::to_string(core) + "].cpu)";
    out.cpu = configured;
    out.note = "journal thread on CPU " + std::to_string(configured) + " (persistence.journalCpu)";
    const int node = topology.node_of[static_cast<size_t>(configured)];
    if (topology.numa_known && data_node >= 0 && node != data_node)
      out.note += "; warning: NUMA node " + std::to_string(node) + ", the data plane is on node " +
                  std::to_string(data_node);
    return "";
  }

  // "auto"
  if (!topology.known) {
    out.note = "journal thread unpinned: CPU pinning is Linux-only here";
    return "";
  }
  if (data_cpu < 0) {
    out.note = "journal thread unpinned: the data plane is not pinned (every pipeline.cores[].cpu is -1); "
               "set persistence.journalCpu to pin it";
    return "";
  }
  if (data_node < 0) {
    out.note = "journal thread unpinned: the data plane's CPU " + std::to_string(data_cpu) +
               " is not online here, so its NUMA node is unknown";
    return "";
  }
  int isolated = -1, highest = -1;
  for (size_t c = 0; c < topology.node_of.size(); ++c) {
    const int cpu = static_cast<int>(c);
    if (topology.node_of[c] != data_node || core_on(cores, cpu) >= 0) continue;
    highest = cpu;
    if (isolated < 0 && std::binary_search(topology.isolated.begin(), topology.isolated.end(), cpu)) isolated = cpu;
  }
  if (highest < 0) {
    out.note = "journal thread unpinned: every online CPU of NUMA node " + std::to_string(data_node) +
               " runs a pipeline core" + numa + "; set persistence.journalCpu to pin it";
    return "";
  }
  out.cpu = isolated >= 0 ? isolated : highest;
  out.note = "journal thread on CPU " + std::to_string(out.cpu) + " (persistence.journalCpu auto: NUMA node " +
             std::to_string(data_node) + " of the data plane, no pipeline core, " +
             (isolated >= 0 ? "isolated" : "not isolated") + ")" + numa;
  return "";
}

}  // namespace pmm::app
