// The journal's fail-stop state, shared by the threads that can fail it (the journal core's writer and
// the journal sync thread, journal_sync_thread.hpp): the first failure wins and keeps its text, later
// ones are dropped, and it never resets. Any thread may read failed(); error() only after failed()
// returned true (the text is written before the flag is published).
#pragma once

#include <atomic>
#include <string>

namespace pmm::persistence {

class FailStopLatch {
 public:
  // Records the failure unless one was recorded already; returns true if this call was the first.
  bool fail(std::string error) noexcept {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return false;
    error_ = std::move(error);
    failed_.store(true, std::memory_order_release);
    return true;
  }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  const std::string& error() const noexcept { return error_; }

 private:
  std::atomic<bool> claimed_{false};
  std::atomic<bool> failed_{false};
  std::string error_;
};

}  // namespace pmm::persistence
