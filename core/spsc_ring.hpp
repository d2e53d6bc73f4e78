// Bounded single-producer/single-consumer ring of trivially copyable records: the portable stand-in
// for DPDK's rte_ring (SP/SC mode) between pipeline stages. Exactly one thread pushes and exactly one
// thread pops; nothing else is safe. Never blocks, never grows, never overwrites: a full ring is
// reported by push returning fewer records than offered, and the producer counts those as drops.
// docs/spsc-ring.md explains the guarantees and the memory ordering.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/huge_buffer.hpp"

namespace pmm {

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "records are copied with memcpy");
  static_assert(alignof(T) <= 64, "slots live in cache-line aligned storage");

 public:
  // capacity: how many records the ring holds when full; a power of two >= 1 (all of them usable,
  // no slot is sacrificed). Anything else throws std::invalid_argument. Allocates once, here.
  explicit SpscRing(size_t capacity) : slots_(checked(capacity)), mask_(capacity - 1) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer only. Enqueues the first min(n, free slots) records of items, in order; returns how many.
  size_t push_burst(const T* items, size_t n) noexcept {
    const size_t write = write_index_.load(std::memory_order_relaxed);  // only we store it
    size_t free_slots = capacity() - (write - read_index_cache_);
    if (free_slots < n) {
      // Our cached view of the consumer is stale at worst (it only ever advances): refresh it only
      // when it is not enough, so the consumer's cache line is not pulled over on every push.
      read_index_cache_ = read_index_.load(std::memory_order_acquire);
      free_slots = capacity() - (write - read_index_cache_);
      n = std::min(n, free_slots);
    }
    if (n == 0) return 0;  // full, or nothing offered
    copy_in(write, items, n);
    // Release: the slot writes above become visible before the consumer can see the new index.
    write_index_.store(write + n, std::memory_order_release);
    return n;
  }

  // Consumer only. Dequeues up to n records, oldest first, into out; returns how many (0 when empty).
  size_t pop_burst(T* out, size_t n) noexcept {
    const size_t read = read_index_.load(std::memory_order_relaxed);  // only we store it
    size_t ready = write_index_cache_ - read;
    if (ready < n) {
      write_index_cache_ = write_index_.load(std::memory_order_acquire);
      ready = write_index_cache_ - read;
      n = std::min(n, ready);
    }
    if (n == 0) return 0;
    copy_out(read, out, n);
    // Release: our slot reads are done before the producer may reuse those slots.
    read_index_.store(read + n, std::memory_order_release);
    return n;
  }

  // Consumer only: the zero-copy form of pop_burst. Points `first` at up to n ready records, oldest
  // first, contiguous in the storage (so a burst stops at the end of the storage; the next peek goes on
  // at its start), and returns how many (0 when empty). They stay in place, and the producer cannot
  // reuse their slots, until release() frees them.
  size_t peek_burst(const T*& first, size_t n) noexcept {
    const size_t read = read_index_.load(std::memory_order_relaxed);  // only we store it
    size_t ready = write_index_cache_ - read;
    if (ready < n) {
      write_index_cache_ = write_index_.load(std::memory_order_acquire);
      ready = write_index_cache_ - read;
    }
    const size_t at = read & mask_;
    first = slots_.data() + at;
    return std::min({n, ready, capacity() - at});
  }
  // Consumer only: frees the n oldest records (n <= what the last peek_burst returned), after the
  // consumer is done reading them.
  void release(size_t n) noexcept {
    const size_t read = read_index_.load(std::memory_order_relaxed);
    assert(n <= write_index_cache_ - read);
    // Release: our slot reads are done before the producer may reuse those slots.
    read_index_.store(read + n, std::memory_order_release);
  }

  // Single-record forms: same protocol, a plain slot copy instead of a variable-length memcpy call.
  bool try_push(const T& item) noexcept {
    const size_t write = write_index_.load(std::memory_order_relaxed);
    if (write - read_index_cache_ == capacity()) {
      read_index_cache_ = read_index_.load(std::memory_order_acquire);
      if (write - read_index_cache_ == capacity()) return false;
    }
    slots_[write & mask_] = item;
    write_index_.store(write + 1, std::memory_order_release);
    return true;
  }
  bool try_pop(T& out) noexcept {
    const size_t read = read_index_.load(std::memory_order_relaxed);
    if (write_index_cache_ == read) {
      write_index_cache_ = write_index_.load(std::memory_order_acquire);
      if (write_index_cache_ == read) return false;
    }
    out = slots_[read & mask_];
    read_index_.store(read + 1, std::memory_order_release);
    return true;
  }

  // Records in the ring: exact when neither side is active, otherwise a snapshot that may already be
  // stale (never more than capacity()). Callable from either side or a monitor thread.
  size_t size_approx() const noexcept {
    // Read first: both indices only grow and read <= write, so loading read before write (acquire
    // keeps that order) can never give write < read; the clamp covers pops and pushes in between.
    const size_t read = read_index_.load(std::memory_order_acquire);
    const size_t write = write_index_.load(std::memory_order_acquire);
    return std::min(write - read, capacity());
  }

  size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static size_t checked(size_t capacity) {
    if (capacity == 0 || (capacity & (capacity - 1)) != 0)
      throw std::invalid_argument("SpscRing: capacity " + std::to_string(capacity) +
                                  " is not a power of two >= 1");
    return capacity;
  }

  // Indices run free (counts of records ever pushed/popped) and are masked only to address a slot,
  // so full (write - read == capacity) and empty (write == read) differ without a spare slot.
  // write - read is modular, so even a wrapped counter gives the right fill level.
  // A burst crossing the end of the storage is copied in two pieces.
  void copy_in(size_t index, const T* items, size_t n) noexcept {
    const size_t at = index & mask_;
    const size_t first = std::min(n, capacity() - at);
    std::memcpy(slots_.data() + at, items, first * sizeof(T));
    if (first < n) std::memcpy(slots_.data(), items + first, (n - first) * sizeof(T));
  }
  void copy_out(size_t index, T* out, size_t n) const noexcept {
    const size_t at = index & mask_;
    const size_t first = std::min(n, capacity() - at);
    std::memcpy(out, slots_.data() + at, first * sizeof(T));
    if (first < n) std::memcpy(out + first, slots_.data(), (n - first) * sizeof(T));
  }

  // Set at construction, then only read by both sides.
  HugeArray<T> slots_;
  size_t mask_;

  // Producer's cache line: its own index, and its last view of the consumer's.
  alignas(64) std::atomic<size_t> write_index_{0};
  size_t read_index_cache_ = 0;

  // Consumer's cache line. The class is 64-aligned, so its size is a multiple of 64 and no
  // neighbouring object shares this line either.
  alignas(64) std::atomic<size_t> read_index_{0};
  size_t write_index_cache_ = 0;
};

}  // namespace pmm
