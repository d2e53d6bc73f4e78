// Starts a pipeline's core loops on std::threads, each pinned to its configured CPU (Linux) with its
// memory policy on that CPU's NUMA node: the launcher of the AF_PACKET and portable backends.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/pipeline.hpp"
#include "dpdk-app/backend.hpp"

namespace pmm::app {

class ThreadLauncher {
 public:
  // Sets the calling thread's preferred NUMA node to cpu's (libnuma, Linux; a no-op elsewhere).
  static void prefer_node_of(int cpu) noexcept;
  // One thread per configured core, pinned to cores[i].cpu when it is >= 0.
  void launch(pipe::Pipeline& p, const std::vector<pipe::CoreAssignment>& cores);
  void join();
  // Pinning problems (CPU out of range, not permitted) are reported, not fatal: the run goes on unpinned.
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

 private:
  std::vector<std::thread> threads_;
  std::vector<std::string> warnings_;
};

// The part of the AF_PACKET and portable backends that is the same: portable SPSC rings, one pinned
// std::thread per configured core, NUMA preference before each core's allocation.
class ThreadedBackend : public Backend {
 public:
  pipe::RingFactory& rings() override { return rings_; }
  void before_core(int cpu) override { ThreadLauncher::prefer_node_of(cpu); }
  void launch(pipe::Pipeline& p) override;
  void join() override { launcher_.join(); }

 protected:
  void set_cores(const std::vector<pipe::CoreAssignment>& cores) { cores_ = cores; }

 private:
  pipe::SpscRingFactory rings_;
  ThreadLauncher launcher_;
  std::vector<pipe::CoreAssignment> cores_;
};

}  // namespace pmm::app
