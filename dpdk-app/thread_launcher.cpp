#include "dpdk-app/thread_launcher.hpp"

#include <cstdio>
#include <cstring>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(PMM_HAVE_NUMA)
#include <numa.h>
#endif

namespace pmm::app {

void ThreadLauncher::prefer_node_of(int cpu) noexcept {
#if defined(PMM_HAVE_NUMA)
  if (cpu < 0 || numa_available() < 0) return;
  const int node = numa_node_of_cpu(cpu);
  if (node >= 0) numa_set_preferred(node);
#else
  (void)cpu;
#endif
}

void ThreadLauncher::launch(pipe::Pipeline& p, const std::vector<pipe::CoreAssignment>& cores) {
  for (size_t i = 0; i < p.core_count(); ++i) {
    const std::vector<pipe::Stage*>* stages = &p.core_stages(i);
    const pipe::RunControl* control = &p.control();
    threads_.emplace_back([stages, control] { pipe::run_core_loop(*stages, *control); });
    const int cpu = i < cores.size() ? cores[i].cpu : -1;
    if (cpu < 0) continue;
#if defined(__linux__)
    // Pinned from here so warnings stay on one thread; the few microseconds the loop may run elsewhere
    // first do no harm.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (const int rc = pthread_setaffinity_np(threads_.back().native_handle(), sizeof set, &set); rc != 0)
      warnings_.push_back("core " + std::to_string(i) + ": cannot pin to CPU " + std::to_string(cpu) + ": " +
                          std::strerror(rc) + " (running unpinned)");
#else
    warnings_.push_back("core " + std::to_string(i) + ": CPU pinning is Linux-only here (running unpinned)");
#endif
  }
}

void ThreadedBackend::launch(pipe::Pipeline& p) {
  launcher_.launch(p, cores_);
  for (const std::string& w : launcher_.warnings()) std::fprintf(stderr, "[pmm] warning: %s\n", w.c_str());
}

void ThreadLauncher::join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace pmm::app
