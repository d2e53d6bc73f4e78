// A pipeline stage is a plain object with one step: process at most a burst of whatever is waiting and
// return how much it did. A core runs its list of stages round-robin (core_loop.hpp); the same stage
// objects run on every backend.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace pmm::pipe {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const noexcept = 0;
  // One burst; returns the number of items handled (0: nothing to do).
  virtual uint32_t run_once() noexcept = 0;
  // Any thread: nothing was left staged inside the stage (records waiting for ring space) when its
  // last step ended. Rings are checked separately. A flag the stage publishes, so the control thread
  // never reads the stage's own state while its core changes it.
  bool idle() const noexcept { return idle_.load(std::memory_order_acquire); }

 protected:
  void publish_idle(bool idle) noexcept { idle_.store(idle, std::memory_order_release); }

 private:
  std::atomic<bool> idle_{true};
};

// Shared by the cores of one pipeline and the thread that controls it.
struct RunControl {
  enum Phase : int { kRunning = 0, kDraining = 1, kStopped = 2 };
  std::atomic<int> phase{kRunning};
  bool running() const noexcept { return phase.load(std::memory_order_relaxed) == kRunning; }
  bool stopped() const noexcept { return phase.load(std::memory_order_relaxed) == kStopped; }
};

}  // namespace pmm::pipe
