#include "persistence/journal_sync_thread.hpp"

#include <algorithm>
#include <cassert>

namespace pmm::persistence {

int sync_journal_range(const JournalSyscalls& sys, const JournalSyncRange& r, const char*& what,
                       uint64_t& offset) noexcept {
  assert(r.base != nullptr && r.from <= r.to && r.to <= r.segment_bytes);
  if (r.to <= r.from) return 0;
  const uint64_t page = os_page_bytes();
  const uint64_t start = r.from - r.from % page;
  const uint64_t tail = r.to - r.to % page;  // the OS page holding the end of the records
  // Whole pages first, then the partly written tail page: the tail page is the only one written again
  // by the next sync, and it goes out only after everything before it is on disk.
  what = "msync";
  if (tail > start) {
    offset = start;
    if (const int err = sys.sync_range(r.base + start, tail - start); err != 0) return err;
  }
  if (r.to > tail) {
    offset = tail;
    if (const int err = sys.sync_range(r.base + tail, std::min(page, r.segment_bytes - tail)); err != 0) return err;
  }
#if defined(__APPLE__)
  what = "F_FULLFSYNC";  // msync stops at the drive's cache on macOS
  offset = start;
  if (const int err = sys.sync_file(r.fd); err != 0) return err;
#endif
  return 0;
}

JournalSyncThread::JournalSyncThread(const JournalSyscalls& sys, std::atomic<uint64_t>& durable,
                                     FailStopLatch& failure)
    : sys_(sys), durable_(durable), failure_(failure), thread_([this] { loop(); }) {}

JournalSyncThread::~JournalSyncThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JournalSyncThread::submit(const JournalSyncRange& range, uint64_t sequence) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (has_pending_) {
      assert(pending_.base == range.base && range.from >= pending_.from && range.to >= pending_.to);
      pending_.to = range.to;
    } else {
      pending_ = range;
      has_pending_ = true;
    }
    pending_sequence_ = sequence;
  }
  wake_.notify_one();
}

void JournalSyncThread::wait_idle() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return !has_pending_ && !running_; });
}

void JournalSyncThread::discard() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  has_pending_ = false;
  idle_.wait(lock, [this] { return !running_; });
}

void JournalSyncThread::loop() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return has_pending_ || stop_; });
    if (!has_pending_) return;  // stop, nothing left
    const JournalSyncRange range = pending_;
    const uint64_t sequence = pending_sequence_;
    has_pending_ = false;
    running_ = true;
    lock.unlock();

    if (!failure_.failed()) {  // after a failure nothing more becomes durable
      const char* what = "";
      uint64_t offset = 0;
      if (const int err = sync_journal_range(sys_, range, what, offset); err != 0) {
        failure_.fail(describe_journal_error(what, *range.path, offset, err));
      } else {
        // Only now: every record up to `sequence` is on stable storage.
        if (sequence > durable_.load(std::memory_order_relaxed)) durable_.store(sequence, std::memory_order_release);
        syncs_.fetch_add(1, std::memory_order_relaxed);
      }
    }

    lock.lock();
    running_ = false;
    idle_.notify_all();
  }
}

}  // namespace pmm::persistence
