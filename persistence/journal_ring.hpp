// The hot path's only contact with the journal: a pipeline core enqueues a fixed 64-byte record on its
// own bounded SPSC ring (core/spsc_ring.hpp) and the journal core drains it (journal_core.hpp). Never
// blocks, never allocates, never makes a syscall. A record that does not fit is not lost silently:
// enqueue() returns false and counts it, and full() tells the producer to stop quoting until there is
// room again. Once the journal has failed, the journal core closes every ring: enqueue() then always
// fails and full() stays true (no record would become durable any more).
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>

#include "core/pipeline/relaxed_counter.hpp"
#include "core/spsc_ring.hpp"
#include "persistence/journal_entry.hpp"
#include "persistence/journal_format.hpp"

namespace pmm::persistence {

class JournalRing {
 public:
  // capacity: records, a power of two (SpscRing throws std::invalid_argument otherwise).
  explicit JournalRing(size_t capacity) : ring_(capacity) {}

  // ---- producer (one pipeline core) ----

  // Copies the record into the ring; false (counted in rejected()) when the ring is full or closed.
  bool enqueue(uint16_t type, const void* payload, uint16_t length) noexcept {
    assert(journal::is_user_type(type) && length <= JournalEntry::kMaxPayload);
    JournalEntry e;
    e.type = type;
    e.length = length;
    std::memcpy(e.payload, payload, length);
    return enqueue(e);
  }
  bool enqueue(const JournalEntry& e) noexcept {
    assert(journal::is_user_type(e.type) && e.length <= JournalEntry::kMaxPayload);
    if (closed_.load(std::memory_order_relaxed) || !ring_.try_push(e)) {
      rejected_.add();
      return false;
    }
    return true;
  }
  // True when an enqueue would fail now (the ring is full or closed): the caller stops quoting.
  bool full() const noexcept {
    return closed_.load(std::memory_order_relaxed) || ring_.size_approx() == ring_.capacity();
  }

  // ---- consumer (the journal core) ----
  size_t pop_burst(JournalEntry* out, size_t n) noexcept { return ring_.pop_burst(out, n); }
  // Zero-copy drain (SpscRing::peek_burst/release): up to n records read in place, contiguous, until
  // release(k) frees the k oldest; the journal core appends straight from the slots.
  size_t peek_burst(const JournalEntry*& first, size_t n) noexcept { return ring_.peek_burst(first, n); }
  void release(size_t n) noexcept { ring_.release(n); }
  // After a journal failure: producers see full() and every enqueue fails from now on.
  void close() noexcept { closed_.store(true, std::memory_order_relaxed); }

  // ---- any thread ----
  bool closed() const noexcept { return closed_.load(std::memory_order_relaxed); }
  uint64_t rejected() const noexcept { return rejected_.get(); }  // records refused since start
  size_t size_approx() const noexcept { return ring_.size_approx(); }
  size_t capacity() const noexcept { return ring_.capacity(); }

 private:
  SpscRing<JournalEntry> ring_;
  pipe::RelaxedCounter rejected_;  // written by the producer only
  std::atomic<bool> closed_{false};
};

}  // namespace pmm::persistence
