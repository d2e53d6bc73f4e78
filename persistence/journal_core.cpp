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
    close_rings();
    return 0;
  }
  uint32_t done = 0;
  for (JournalRing* ring : rings_) {
    const size_t n = ring->pop_burst(burst_.data(), burst_.size());
    for (size_t i = 0; i < n; ++i) {
      const JournalEntry& e = burst_[i];
      const uint64_t seq = writer_.append(e.type, e.payload, e.length);
      if (seq == 0) {
        // Fail-stop: the rest of this burst cannot be journaled either; producers learn it from full().
        close_rings();
        records_.store(records_.load(std::memory_order_relaxed) + done, std::memory_order_relaxed);
        return done;
      }
      if (on_append_) on_append_(JournalRecordView{seq, e.type, e.length, e.payload, nullptr, 0});
      ++done;
    }
  }
  if (done != 0) records_.store(records_.load(std::memory_order_relaxed) + done, std::memory_order_relaxed);
  // One clock read per pass (vDSO, no syscall); the sync itself is the only syscall.
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_sync_ || sync_requested_.load(std::memory_order_relaxed)) {
    sync_requested_.store(false, std::memory_order_relaxed);
    next_sync_ = now + interval_;
    commit();
  }
  return done;
}

bool JournalCore::commit() noexcept {
  const bool ok = writer_.sync();
  syncs_.store(syncs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!ok) close_rings();
  return ok;
}

bool JournalCore::drain_and_sync() noexcept {
  for (;;) {
    if (writer_.failed()) break;
    bool any = false;
    for (JournalRing* ring : rings_) any = any || ring->size_approx() != 0;
    if (!any) break;
    run_once();
  }
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
