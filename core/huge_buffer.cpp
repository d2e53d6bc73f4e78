#include "core/huge_buffer.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pmm {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kCacheLine = 64;
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
}  // namespace

HugeBuffer::HugeBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  if (bytes < kHugePage) {
    // Too small for a huge page to matter: a cache-line aligned allocation, no mapping.
    const size_t len = round_up(bytes, kCacheLine);
    data_ = std::aligned_alloc(kCacheLine, len);
    if (data_ == nullptr) throw std::bad_alloc();
    std::memset(data_, 0, len);
    bytes_ = len;
    return;
  }
#if defined(__linux__)
  // Map one huge page more than needed, then trim, so the start is 2 MiB aligned.
  const size_t len = round_up(bytes, kHugePage);
  void* raw = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(raw);
  char* aligned = reinterpret_cast<char*>(round_up(reinterpret_cast<size_t>(base), kHugePage));
  if (aligned > base) ::munmap(base, static_cast<size_t>(aligned - base));
  const size_t tail = static_cast<size_t>((base + len + kHugePage) - (aligned + len));
  if (tail) ::munmap(aligned + len, tail);
  ::madvise(aligned, len, MADV_HUGEPAGE);  // advisory: 4 KiB pages still work if refused
  data_ = aligned;
  bytes_ = len;
  mapped_ = true;
  std::memset(data_, 0, len);  // fault every page in now, not on the hot path
#else
  const size_t len = round_up(bytes, kHugePage);
  data_ = std::aligned_alloc(kHugePage, len);
  if (data_ == nullptr) throw std::bad_alloc();
  std::memset(data_, 0, len);
  bytes_ = len;
#endif
}

HugeBuffer::~HugeBuffer() { release(); }

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    bytes_ = o.bytes_;
    mapped_ = o.mapped_;
    o.data_ = nullptr;
    o.bytes_ = 0;
    o.mapped_ = false;
  }
  return *this;
}

void HugeBuffer::release() noexcept {
  if (data_ == nullptr) return;
#if defined(__linux__)
  if (mapped_) {
    ::munmap(data_, bytes_);
    data_ = nullptr;
    return;
  }
#endif
  std::free(data_);
  data_ = nullptr;
}

}  // namespace pmm
