// The one small interface between stages: a bounded single-producer/single-consumer ring of fixed-size
// records. DPDK builds back it with an rte_ring elem ring (dpdk-app/), everything else with SpscRawRing
// below. Stages see only EventRing<T>, a typed view, so core/ never includes DPDK headers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/huge_buffer.hpp"

namespace pmm::pipe {

class RawRing {
 public:
  virtual ~RawRing() = default;
  // Producer only: enqueue up to n records of record_size() bytes; returns how many (never blocks).
  virtual uint32_t push_burst(const void* records, uint32_t n) noexcept = 0;
  // Consumer only: dequeue up to n records, oldest first; returns how many.
  virtual uint32_t pop_burst(void* out, uint32_t n) noexcept = 0;
  // Any thread: a snapshot of the fill level.
  virtual uint32_t size() const noexcept = 0;
  virtual uint32_t capacity() const noexcept = 0;
  virtual size_t record_size() const noexcept = 0;
};

// Makes the rings of one pipeline; a backend supplies its own (rte_ring on the consumer's NUMA node).
class RingFactory {
 public:
  virtual ~RingFactory() = default;
  // capacity: a power of two. numa_node: where the memory should live (-1: anywhere).
  virtual std::unique_ptr<RawRing> make(const std::string& name, size_t record_size, uint32_t capacity,
                                        int numa_node) = 0;
};

template <class T>
class EventRing {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 4 == 0);

 public:
  explicit EventRing(std::unique_ptr<RawRing> raw) : raw_(std::move(raw)) {
    if (raw_->record_size() != sizeof(T)) throw std::invalid_argument("EventRing: record size mismatch");
  }
  uint32_t push_burst(const T* items, uint32_t n) noexcept { return raw_->push_burst(items, n); }
  uint32_t pop_burst(T* out, uint32_t n) noexcept { return raw_->pop_burst(out, n); }
  uint32_t size() const noexcept { return raw_->size(); }
  uint32_t capacity() const noexcept { return raw_->capacity(); }

 private:
  std::unique_ptr<RawRing> raw_;
};

// Portable ring: the SpscRing protocol (free-running indices, cached views of the other side) over
// records whose size is fixed at construction. A burst is one or two memcpy calls.
class SpscRawRing final : public RawRing {
 public:
  SpscRawRing(size_t record_size, uint32_t capacity)
      : record_size_(record_size), capacity_(checked(capacity)), storage_(record_size * capacity) {}

  uint32_t push_burst(const void* records, uint32_t n) noexcept override {
    const uint64_t write = write_.load(std::memory_order_relaxed);
    uint64_t free_slots = capacity_ - (write - read_cache_);
    if (free_slots < n) {
      read_cache_ = read_.load(std::memory_order_acquire);
      free_slots = capacity_ - (write - read_cache_);
      n = static_cast<uint32_t>(std::min<uint64_t>(n, free_slots));
    }
    if (n == 0) return 0;
    copy_in(static_cast<const uint8_t*>(records), write, n);
    write_.store(write + n, std::memory_order_release);
    return n;
  }
  uint32_t pop_burst(void* out, uint32_t n) noexcept override {
    const uint64_t read = read_.load(std::memory_order_relaxed);
    uint64_t ready = write_cache_ - read;
    if (ready < n) {
      write_cache_ = write_.load(std::memory_order_acquire);
      ready = write_cache_ - read;
      n = static_cast<uint32_t>(std::min<uint64_t>(n, ready));
    }
    if (n == 0) return 0;
    copy_out(static_cast<uint8_t*>(out), read, n);
    read_.store(read + n, std::memory_order_release);
    return n;
  }
  uint32_t size() const noexcept override {
    const uint64_t read = read_.load(std::memory_order_acquire);
    const uint64_t write = write_.load(std::memory_order_acquire);
    return static_cast<uint32_t>(std::min<uint64_t>(write - read, capacity_));
  }
  uint32_t capacity() const noexcept override { return capacity_; }
  size_t record_size() const noexcept override { return record_size_; }

 private:
  static uint32_t checked(uint32_t capacity) {
    if (capacity == 0 || (capacity & (capacity - 1)) != 0)
      throw std::invalid_argument("ring capacity " + std::to_string(capacity) + " is not a power of two");
    return capacity;
  }
  // Indices run free and are masked only to address a slot; a burst crossing the end of the storage
  // is copied in two pieces.
  void copy_in(const uint8_t* from, uint64_t index, uint32_t n) noexcept {
    const uint32_t at = static_cast<uint32_t>(index & (capacity_ - 1));
    const uint32_t first = std::min(n, capacity_ - at);
    std::memcpy(storage_.data() + size_t{at} * record_size_, from, first * record_size_);
    if (first < n) std::memcpy(storage_.data(), from + first * record_size_, (n - first) * record_size_);
  }
  void copy_out(uint8_t* to, uint64_t index, uint32_t n) const noexcept {
    const uint32_t at = static_cast<uint32_t>(index & (capacity_ - 1));
    const uint32_t first = std::min(n, capacity_ - at);
    std::memcpy(to, storage_.data() + size_t{at} * record_size_, first * record_size_);
    if (first < n) std::memcpy(to + first * record_size_, storage_.data(), (n - first) * record_size_);
  }

  const size_t record_size_;
  const uint32_t capacity_;
  HugeArray<uint8_t> storage_;
  alignas(64) std::atomic<uint64_t> write_{0};
  uint64_t read_cache_ = 0;
  alignas(64) std::atomic<uint64_t> read_{0};
  uint64_t write_cache_ = 0;
};

class SpscRingFactory final : public RingFactory {
 public:
  std::unique_ptr<RawRing> make(const std::string&, size_t record_size, uint32_t capacity, int) override {
    return std::make_unique<SpscRawRing>(record_size, capacity);
  }
};

}  // namespace pmm::pipe
