// Starts a pipeline's core loops on std::threads, each pinned to its configured CPU (Linux) with its
// memory policy on that CPU's NUMA node: the launcher of the AF_PACKET and portable backends.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/pipeline.hpp"

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

}  // namespace pmm::app
