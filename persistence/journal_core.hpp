// The journal core's loop (setup -> run -> teardown, like a DPDK lcore loop): drains the pipeline cores'
// JournalRings in bursts, appends each record to the JournalWriter (which assigns the sequence numbers:
// the journal's order is the one total order of the appliance), and group-commits every
// sync interval or when asked. A group commit only hands the appended range to the writer's sync
// thread (JournalWriter::begin_sync): the msync runs there, and the loop keeps draining meanwhile. The
// only syscalls left here are segment rollovers (and the futex wake of the sync thread).
//
// If the writer fails, the core stops draining and closes every ring: producers see full() and stop
// quoting; the writer's failed()/error() say why.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "persistence/journal_reader.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/journal_writer.hpp"

namespace pmm::persistence {

struct JournalCoreOptions {
  uint32_t burst = 32;                // records taken from one ring per visit
  uint32_t sync_interval_ms = 100;    // persistence.journalSyncIntervalMs
};

class JournalCore {
 public:
  // The rings and the writer must outlive the core. Allocates nothing after this.
  JournalCore(JournalWriter& writer, std::vector<JournalRing*> rings, const JournalCoreOptions& options);

  // One pass: at most `burst` records from each ring, then the sync marker of a finished group commit,
  // then the hand-over of a group commit if the interval has passed or one was requested. Returns the
  // records appended.
  uint32_t run_once() noexcept;

  // Loops run_once() until `stop` is set, then drains what is left in the rings and syncs (teardown).
  // The producers must have stopped before `stop` is set, or their last records may stay in the rings.
  void run(const std::atomic<bool>& stop) noexcept;

  // Drains every ring until empty and syncs, waiting for the sync thread; returns false if the writer
  // has failed.
  bool drain_and_sync() noexcept;

  // Set-up only: called on the journal core after each record is appended, with its sequence (file
  // null, offset 0), e.g. to apply it to the shadow state that snapshots are taken from (recovery's
  // "same apply()"). Keep it cheap and allocation-free: it runs inside the drain loop.
  using AppendHook = std::function<void(const JournalRecordView&)>;
  void set_on_append(AppendHook hook) { on_append_ = std::move(hook); }

  // Journal core: whether any ring holds records now. A loop that idles when run_once() returned 0
  // checks this first, so it never sleeps while records are waiting.
  bool pending() const noexcept;

  // Any thread: ask for a group commit at the next pass (e.g. management's "sync now"); it is durable
  // when durable_sequence() reaches the sequence of interest.
  void request_sync() noexcept { sync_requested_.store(true, std::memory_order_release); }

  // Any thread.
  uint64_t records() const noexcept { return records_.load(std::memory_order_relaxed); }
  uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }
  uint64_t durable_sequence() const noexcept { return writer_.durable_sequence(); }
  bool failed() const noexcept { return writer_.failed(); }

 private:
  bool begin_commit() noexcept;  // hands over, does not wait
  bool commit() noexcept;        // waits (teardown)
  void close_rings() noexcept;

  JournalWriter& writer_;
  std::vector<JournalRing*> rings_;
  size_t burst_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point next_sync_;
  bool rings_closed_ = false;
  AppendHook on_append_;
  std::atomic<bool> sync_requested_{false};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace pmm::persistence
