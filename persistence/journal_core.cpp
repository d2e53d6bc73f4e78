#include "persistence/journal_core.hpp"

#include <cassert>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pmm::persistence {

JournalCore::JournalCore(JournalWriter& writer, std::vector<JournalRing*> rings, const JournalCoreOptions& options)
    : writer_(writer),
      rings_(std::move(rings)),
      burst_(options.burst),
      interval_(std::chrono::milliseconds(options.sync_interval_ms)),
      next_sync_(std::chrono::steady_clock::now() + interval_) {
  assert(options.burst >= 1 && options.sync_interval_ms >= 1);
  for (JournalRing* r : rings_) assert(r != nullptr);
}

uint32_t JournalCore::run_once() noexcept {
  if (writer_.failed()) {
    writer_.poll();  // adopts the failure: the writer appends nothing more
    close_rings();
    return 0;
  }
  uint32_t done = 0;
  for (JournalRing* ring : rings_) {
    // The writer encodes straight from the ring's slots (one copy: slot -> segment); the slots are
    // released in one store after the burst, once nothing reads them any more.
    const JournalEntry* entries = nullptr;
    const size_t n = ring->peek_burst(entries, burst_);
    if (n == 0) continue;
    const uint64_t first = writer_.last_sequence() + 1;
    const size_t appended = writer_.append_entries(entries, n);
    if (on_append_) {
      for (size_t i = 0; i < appended; ++i) {
        const JournalEntry& e = entries[i];
        on_append_(JournalRecordView{first + i, e.type, e.length, e.payload, nullptr, 0});
      }
    }
    ring->release(n);
    done += static_cast<uint32_t>(appended);
    if (appended != n) {
      // Fail-stop: the rest of this burst cannot be journaled either; producers learn it from full().
      close_rings();
      records_.store(records_.load(std::memory_order_relaxed) + done, std::memory_order_relaxed);
      return done;
    }
  }
  if (done != 0) records_.store(records_.load(std::memory_order_relaxed) + done, std::memory_order_relaxed);
  // A group commit the sync thread finished: its sync marker; its failure: the rings close next pass.
  writer_.poll();
  // One clock read per pass (vDSO, no syscall). The commit itself only hands the range to the writer's
  // sync thread: the msync never runs here.
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_sync_ || sync_requested_.load(std::memory_order_relaxed)) {
    sync_requested_.store(false, std::memory_order_relaxed);
    next_sync_ = now + interval_;
    begin_commit();
  }
  return done;
}

bool JournalCore::begin_commit() noexcept {
  const bool ok = writer_.begin_sync();
  syncs_.store(syncs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!ok) close_rings();
  return ok;
}

bool JournalCore::commit() noexcept {
  const bool ok = writer_.sync();
  syncs_.store(syncs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!ok) close_rings();
  return ok;
}

bool JournalCore::pending() const noexcept {
  for (const JournalRing* ring : rings_)
    if (ring->size_approx() != 0) return true;
  return false;
}

bool JournalCore::drain_and_sync() noexcept {
  while (!writer_.failed() && pending()) run_once();
  // Twice: the second sync makes the sync marker written by the first durable, so a reader recovers
  // the exact watermark after a clean stop.
  return commit() && commit();
}

void JournalCore::run(const std::atomic<bool>& stop) noexcept {
  while (!stop.load(std::memory_order_acquire)) {
    if (run_once() == 0) {
#if defined(__x86_64__)
      _mm_pause();  // idle poll: be gentle with a hyperthread sibling
#elif defined(__aarch64__)
      __asm__ __volatile__("yield");
#endif
    }
  }
  drain_and_sync();
}

void JournalCore::close_rings() noexcept {
  if (rings_closed_) return;
  for (JournalRing* ring : rings_) ring->close();
  rings_closed_ = true;
}

}  // namespace pmm::persistence
