// Start-up memory for large tables (order table, level arena, books). From 2 MiB up: 2 MiB aligned
// and backed by transparent huge pages where the OS offers them (Linux madvise), because random
// lookups in a table of tens of MiB otherwise pay a TLB miss each, which under virtualisation costs
// more than the cache miss itself. Below 2 MiB: cache-line aligned. Always zeroed up front, so that
// no page fault happens on the hot path.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

namespace pmm {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  // Zero-filled. Throws std::bad_alloc when the memory is not there.
  explicit HugeBuffer(size_t bytes);
  ~HugeBuffer();
  HugeBuffer(HugeBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_), mapped_(o.mapped_) {
    o.data_ = nullptr;
    o.bytes_ = 0;
    o.mapped_ = false;
  }
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  void* data() const noexcept { return data_; }
  size_t size() const noexcept { return bytes_; }
  // True when the kernel was asked for huge pages (it may still fall back to 4 KiB pages).
  bool huge_pages_requested() const noexcept { return mapped_; }

 private:
  void release() noexcept;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool mapped_ = false;
};

// A fixed-size array of trivially copyable T in a HugeBuffer, zero-filled. T may be incomplete where
// the array is declared (so a class can hold one of its private types); it must be complete where
// the array is constructed.
template <class T>
class HugeArray {
 public:
  HugeArray() = default;
  explicit HugeArray(size_t n) : buf_(n * sizeof(T)), n_(n) {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  }
  T* data() const noexcept { return static_cast<T*>(buf_.data()); }
  T& operator[](size_t i) const noexcept { return data()[i]; }
  size_t size() const noexcept { return n_; }

 private:
  HugeBuffer buf_;
  size_t n_ = 0;
};

}  // namespace pmm
