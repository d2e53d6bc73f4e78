// CRC32C (Castagnoli; the iSCSI/SCTP/ext4 CRC) for the write-ahead journal: reflected polynomial
// 0x82F63B78 (normal form 0x1EDC6F41), init 0xFFFFFFFF, final xor 0xFFFFFFFF. docs/crc32c.md.
//
// Seed and chaining: `seed` is the CRC of the bytes that came before, so
//   crc32c(b, nb, crc32c(a, na)) == crc32c(a||b, na + nb)   and   crc32c(p, 0, s) == s.
// seed 0 means "nothing before" and gives the standard CRC32C (crc32c("123456789") == 0xE3069283).
// A journal segment seeds its first record with a per-segment value; for the same bytes, distinct
// seeds always give distinct CRCs (the seed -> CRC map is a bijection for every length), so a record
// copied from another segment fails the check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pmm::persistence {

// The fastest implementation this CPU supports, chosen once on the first call.
uint32_t crc32c(const void* data, size_t n, uint32_t seed = 0) noexcept;

// Slicing-by-8 tables, pure C++: any CPU, any byte order.
uint32_t crc32c_portable(const void* data, size_t n, uint32_t seed = 0) noexcept;

#if defined(__x86_64__)
// The SSE4.2 crc32 instruction, three interleaved streams on large buffers. Only call it on a CPU
// with SSE4.2 (__builtin_cpu_supports("sse4.2")); crc32c() checks that for you.
uint32_t crc32c_sse42(const void* data, size_t n, uint32_t seed = 0) noexcept;
#endif

// Which implementation crc32c() uses on this machine: "sse4.2" or "portable".
const char* crc32c_implementation() noexcept;

}  // namespace pmm::persistence
