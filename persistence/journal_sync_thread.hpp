// The journal's group commit off the journal core (docs/journal.md, "Sync thread"): the journal core's
// writer hands over the byte range of its mapped segment that it appended since the last hand-over, with
// the last sequence in it, and goes on draining; this thread msyncs the range (whole pages first, the
// partly written tail page last), and only after the calls returned publishes "durable through N" in
// the writer's watermark. The writer appends the sync marker for N when it next sees the watermark move.
//
// Ownership of the mapping: a range refers to the segment mapped when it was handed over. The writer
// calls wait_idle() before it unmaps a segment (rollover, close), so this thread never touches an
// unmapped segment; it never maps or unmaps anything itself.
//
// Fail-stop: a failed call is recorded in the shared FailStopLatch (the writer's failed()/error()); the
// watermark is not raised, and every later range is dropped: nothing is retried.
//
// Bounded: one pending range (a new hand-over extends it: group commits are cumulative), one running.
// The journal core takes the mutex only to hand over or collect; this thread never holds it across a
// system call, so the journal core never waits for the disk.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "persistence/fail_stop_latch.hpp"
#include "persistence/journal_syscalls.hpp"

namespace pmm::persistence {

// Bytes [from, to) of the segment mapped at `base` (segment_bytes long, file `fd`, named `path`).
struct JournalSyncRange {
  uint8_t* base = nullptr;
  uint64_t segment_bytes = 0;
  int fd = -1;
  const std::string* path = nullptr;  // the writer's, unchanged while the range is pending or running
  uint64_t from = 0;
  uint64_t to = 0;
};

// Makes the range durable: msync of the whole OS pages from the one holding `from` up to the one
// holding `to`, then of that partly written tail page as a separate last call (then F_FULLFSYNC on
// macOS). Returns 0, or the errno of the call that failed, with `what` and `offset` naming it.
int sync_journal_range(const JournalSyscalls& sys, const JournalSyncRange& range, const char*& what,
                       uint64_t& offset) noexcept;

class JournalSyncThread {
 public:
  // `durable` (the writer's watermark) and `failure` must outlive the thread. Starts the thread.
  JournalSyncThread(const JournalSyscalls& sys, std::atomic<uint64_t>& durable, FailStopLatch& failure);
  // Finishes what is pending and running (unless discarded or failed), then joins.
  ~JournalSyncThread();
  JournalSyncThread(const JournalSyncThread&) = delete;
  JournalSyncThread& operator=(const JournalSyncThread&) = delete;

  // Journal core: make `range` durable, then raise the watermark to `sequence`. If a range is still
  // pending (not started), this one must continue it in the same mapping: the pending range is
  // extended to range.to and `sequence`. Does not wait for the disk.
  void submit(const JournalSyncRange& range, uint64_t sequence) noexcept;

  // Journal core: waits until nothing is pending or running (then no range refers to any mapping).
  void wait_idle() noexcept;

  // TEST ONLY (JournalWriter::abandon, a simulated crash): drops the pending range, waits for the
  // running one.
  void discard() noexcept;

  // Any thread: ranges made durable.
  uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }

  // Set-up only: the thread, to pin it where the journal core runs (it starts where its creator runs).
  std::thread& thread() noexcept { return thread_; }

 private:
  void loop() noexcept;

  const JournalSyscalls& sys_;
  std::atomic<uint64_t>& durable_;
  FailStopLatch& failure_;
  std::atomic<uint64_t> syncs_{0};

  std::mutex mutex_;
  std::condition_variable wake_;  // to this thread: a range is pending, or stop
  std::condition_variable idle_;  // to wait_idle(): the running range is done
  JournalSyncRange pending_;
  uint64_t pending_sequence_ = 0;
  bool has_pending_ = false;
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace pmm::persistence
