#include "persistence/snapshot_file_thread.hpp"

#include <cassert>
#include <chrono>

#include "persistence/journal_compaction.hpp"
#include "persistence/state_snapshots.hpp"

namespace pmm::persistence {

SnapshotFileThread::SnapshotFileThread(FileOps& ops, SnapshotDirectory& snapshots, const JournalWriter& journal,
                                       SnapshotFileThreadOptions options, Logger log)
    : ops_(ops),
      snapshots_(snapshots),
      journal_(journal),
      options_(std::move(options)),
      log_(std::move(log)),
      thread_([this] { loop(); }) {
  assert(options_.keep_snapshots >= 1);
}

SnapshotFileThread::~SnapshotFileThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SnapshotFileThread::submit(const SnapshotImage& image) noexcept {
  assert(!busy() && image.size() != 0);
  busy_.store(true, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    image_ = &image;
  }
  wake_.notify_one();
}

void SnapshotFileThread::wait_idle() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return image_ == nullptr; });
}

bool SnapshotFileThread::wait_durable(uint64_t sequence) noexcept {
  // The journal thread asked for a group commit when it captured the image: this is one sync interval
  // at most. Polled: a snapshot is minutes apart, and the watermark has no one to notify.
  for (;;) {
    if (journal_.durable_sequence() >= sequence) return true;
    if (journal_.failed()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void SnapshotFileThread::loop() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return image_ != nullptr || stop_; });
    if (image_ == nullptr) return;
    const SnapshotImage& image = *image_;
    lock.unlock();

    if (!wait_durable(image.sequence())) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      log_line(log_, LogLevel::Warning,
               "Snapshot at sequence " + std::to_string(image.sequence()) + " dropped: " +
                   (journal_.failed() ? "the journal failed before that sequence was durable"
                                      : "stopping before that sequence was durable"));
    } else {
      const SnapshotTakeResult t = write_snapshot_image(ops_, image, snapshots_, options_.keep_snapshots, log_);
      if (t.ok) {
        written_.fetch_add(1, std::memory_order_relaxed);
        // The writer only appends to the last segment, which compaction never deletes.
        if (!options_.journal_directory.empty())
          (void)compact_journal(ops_, options_.journal_directory, t.oldest_retained_sequence,
                                options_.compaction_threshold, log_);
      } else {
        failures_.fetch_add(1, std::memory_order_relaxed);
      }
    }

    lock.lock();
    image_ = nullptr;
    busy_.store(false, std::memory_order_release);
    idle_.notify_all();
  }
}

}  // namespace pmm::persistence
