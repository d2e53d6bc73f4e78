// FNV-1a 64: a cheap, stable digest of bytes (order streams, state digests). Not a checksum for data
// at rest: the journal and snapshots use CRC32C.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pmm {

inline constexpr uint64_t kFnv1aOffset = 1469598103934665603ull;

inline void fnv1a(uint64_t& h, const uint8_t* p, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}

}  // namespace pmm
