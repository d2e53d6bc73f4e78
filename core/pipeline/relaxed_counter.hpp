// A counter with one writer (a hot-path core) and any number of readers (the management core).
// The writer's increment is a plain load/add/store (no locked instruction); readers see a value that
// is never torn and at most a moment old.
#pragma once

#include <atomic>
#include <cstdint>

namespace pmm::pipe {

class RelaxedCounter {
 public:
  void add(uint64_t n = 1) noexcept { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  // Writer only: raise to v if larger (peaks).
  void raise_to(uint64_t v) noexcept {
    if (v > value_.load(std::memory_order_relaxed)) value_.store(v, std::memory_order_relaxed);
  }
  uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace pmm::pipe
