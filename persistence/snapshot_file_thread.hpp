// Writes the snapshots the journal thread captured (snapshot_image.hpp) to disk off the journal thread
// (docs/recovery.md, "Snapshots off the journal thread"): waits until the image's sequence is durable in
// the journal, then temp file, fsync, rename, fsync of the directory (write_snapshot_image), pruning,
// and journal compaction. So the journal thread's share of a snapshot is the in-memory capture only.
//
// One image at a time: submit() takes the image while the thread is idle (busy() false) and the
// journal thread must not capture into it again until busy() is false. A failed write is logged and
// counted; the next interval tries again. If the journal fails before the image's sequence is durable,
// the image is dropped (logged): a snapshot beyond the durable journal would make recovery fail.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "persistence/file_ops.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/logger.hpp"
#include "persistence/snapshot_directory.hpp"
#include "persistence/snapshot_image.hpp"

namespace pmm::persistence {

struct SnapshotFileThreadOptions {
  size_t keep_snapshots = 5;            // persistence.keepSnapshots
  std::string journal_directory;        // compacted after each snapshot ("" = no compaction)
  uint64_t compaction_threshold = 1000000;  // persistence.compactionThreshold
};

class SnapshotFileThread {
 public:
  // Everything passed must outlive the thread; `journal` is only read (durable_sequence(), failed()).
  SnapshotFileThread(FileOps& ops, SnapshotDirectory& snapshots, const JournalWriter& journal,
                     SnapshotFileThreadOptions options, Logger log);
  // Stops waiting for durability (an image still waiting is dropped), finishes a write in progress, joins.
  ~SnapshotFileThread();
  SnapshotFileThread(const SnapshotFileThread&) = delete;
  SnapshotFileThread& operator=(const SnapshotFileThread&) = delete;

  // Journal thread: whether an image is still being written (then the image may not be touched).
  bool busy() const noexcept { return busy_.load(std::memory_order_acquire); }
  // Journal thread, when !busy(): writes `image` (non-empty) once its sequence is durable.
  void submit(const SnapshotImage& image) noexcept;
  // Waits until the image submitted last is written, failed or dropped.
  void wait_idle() noexcept;

  // Any thread.
  uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

  // Set-up only: the thread, to pin it where the journal core runs (it starts where its creator runs).
  std::thread& thread() noexcept { return thread_; }

 private:
  void loop() noexcept;
  bool wait_durable(uint64_t sequence) noexcept;  // false: the journal failed or the thread is stopping

  FileOps& ops_;
  SnapshotDirectory& snapshots_;
  const JournalWriter& journal_;
  SnapshotFileThreadOptions options_;
  Logger log_;
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> written_{0}, failures_{0};

  std::mutex mutex_;
  std::condition_variable wake_;  // to this thread: an image, or stop
  std::condition_variable idle_;  // to wait_idle()
  const SnapshotImage* image_ = nullptr;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace pmm::persistence
