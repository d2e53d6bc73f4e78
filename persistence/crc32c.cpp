// CRC32C: slicing-by-8 tables (portable) and the SSE4.2 crc32 instruction (x86-64), both working on
// the reflected CRC register without the init/final inversion; the public functions add those.
#include "persistence/crc32c.hpp"

#include <array>
#include <atomic>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace pmm::persistence {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;  // 0x1EDC6F41 bit-reversed

using ByteTable = std::array<uint32_t, 256>;

// kSlicing[k][b]: the register contribution of byte b followed by k zero bytes. kSlicing[0] is the
// classic one-byte table; slicing-by-8 folds 8 input bytes with 8 independent lookups.
constexpr std::array<ByteTable, 8> make_slicing_tables() {
  std::array<ByteTable, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t r = b;
    for (int bit = 0; bit < 8; ++bit) r = (r & 1u) != 0 ? (r >> 1) ^ kPolyReflected : r >> 1;
    t[0][b] = r;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}
constexpr std::array<ByteTable, 8> kSlicing = make_slicing_tables();

// Little-endian load by bytes: the CRC is defined on byte order, and gcc/clang turn this into one
// (unaligned) load on little-endian targets.
inline uint32_t load_le32(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint32_t update_portable(uint32_t state, const uint8_t* p, size_t n) noexcept {
  const auto& t = kSlicing;
  while (n >= 8) {
    const uint32_t lo = load_le32(p) ^ state;
    const uint32_t hi = load_le32(p + 4);
    state = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
            t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- != 0) state = (state >> 8) ^ t[0][(state ^ *p++) & 0xFFu];
  return state;
}

#if defined(__x86_64__)

// The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so one dependent
// chain uses a third of it. Large buffers are cut into blocks of 3*K bytes, the three K-byte thirds
// are run as independent chains (the 2nd and 3rd from register 0), and the results are joined by
// linearity: reg(a||b||c) = Z_K(Z_K(reg_a) ^ reg_b) ^ reg_c, where Z_K advances a register over K
// zero bytes. Z_K is linear over GF(2), so it is 4 lookups in tables built from its images of the
// 32 basis vectors.
using ShiftTables = std::array<ByteTable, 4>;

template <size_t K>
constexpr ShiftTables make_shift_tables() {
  std::array<uint32_t, 32> basis{};
  for (unsigned j = 0; j < 32; ++j) {
    uint32_t s = 1u << j;
    for (size_t i = 0; i < K; ++i) s = (s >> 8) ^ kSlicing[0][s & 0xFFu];
    basis[j] = s;
  }
  ShiftTables t{};
  for (size_t i = 0; i < 4; ++i) {
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t r = 0;
      for (unsigned bit = 0; bit < 8; ++bit) {
        if (((v >> bit) & 1u) != 0) r ^= basis[8 * i + bit];
      }
      t[i][v] = r;
    }
  }
  return t;
}

// Two block sizes: 3 KiB blocks keep the join cost (8 lookups) negligible; 384-byte blocks still
// pay off on what is left (a 4 KiB page runs as 3072 + 2*384 + 256 bytes).
constexpr size_t kLargeStride = 1024;
constexpr size_t kSmallStride = 128;
constexpr ShiftTables kShiftLarge = make_shift_tables<kLargeStride>();
constexpr ShiftTables kShiftSmall = make_shift_tables<kSmallStride>();

inline uint32_t shift(const ShiftTables& z, uint32_t s) noexcept {
  return z[0][s & 0xFFu] ^ z[1][(s >> 8) & 0xFFu] ^ z[2][(s >> 16) & 0xFFu] ^ z[3][s >> 24];
}

// The register is kept in a uint64_t (upper half always zero, as crc32q leaves it): truncating to
// uint32_t between steps makes gcc put a zero-extending mov on the dependency chain, 4 cycles per
// 8 bytes instead of 3.
__attribute__((target("sse4.2"))) inline uint64_t step8(uint64_t s, const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned is fine: the journal's records start anywhere
  return _mm_crc32_u64(s, v);
}

template <size_t K>
__attribute__((target("sse4.2"))) uint64_t update_3way(uint64_t state, const uint8_t*& p, size_t& n,
                                                       const ShiftTables& z) noexcept {
  static_assert(K % 8 == 0);
  while (n >= 3 * K) {
    uint64_t a = state;
    uint64_t b = 0;
    uint64_t c = 0;
    for (size_t i = 0; i < K; i += 8) {
      a = step8(a, p + i);
      b = step8(b, p + K + i);
      c = step8(c, p + 2 * K + i);
    }
    state = shift(z, shift(z, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^ c;
    p += 3 * K;
    n -= 3 * K;
  }
  return state;
}

#endif  // __x86_64__

using Crc32cFn = uint32_t (*)(const void*, size_t, uint32_t) noexcept;

Crc32cFn choose_implementation() noexcept {
#if defined(__x86_64__)
  __builtin_cpu_init();  // harmless after start-up; required if first called from a constructor
  if (__builtin_cpu_supports("sse4.2")) return crc32c_sse42;
#endif
  return crc32c_portable;
}

// The first crc32c() call lands here, picks the implementation and replaces itself. Constant
// initialisation (no static-init order problem), and the hot path is one relaxed load (a plain mov)
// plus an indirect call: no guard variable, no lock. Racing first calls store the same value.
uint32_t resolve_and_run(const void* data, size_t n, uint32_t seed) noexcept;
constinit std::atomic<Crc32cFn> g_implementation{resolve_and_run};

uint32_t resolve_and_run(const void* data, size_t n, uint32_t seed) noexcept {
  const Crc32cFn chosen = choose_implementation();
  g_implementation.store(chosen, std::memory_order_relaxed);
  return chosen(data, n, seed);
}

}  // namespace

uint32_t crc32c_portable(const void* data, size_t n, uint32_t seed) noexcept {
  return ~update_portable(~seed, static_cast<const uint8_t*>(data), n);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const void* data, size_t n,
                                                        uint32_t seed) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t state = ~seed;
  state = update_3way<kLargeStride>(state, p, n, kShiftLarge);
  state = update_3way<kSmallStride>(state, p, n, kShiftSmall);
  for (; n >= 8; p += 8, n -= 8) state = step8(state, p);
  auto state32 = static_cast<uint32_t>(state);
  // The tail in at most three steps (a 60-byte journal record is 7 + 1 steps, not 7 + 4).
  if (n >= 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    state32 = _mm_crc32_u32(state32, v);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    state32 = _mm_crc32_u16(state32, v);
    p += 2;
    n -= 2;
  }
  if (n != 0) state32 = _mm_crc32_u8(state32, *p);
  return ~state32;
}
#endif

uint32_t crc32c(const void* data, size_t n, uint32_t seed) noexcept {
  return g_implementation.load(std::memory_order_relaxed)(data, n, seed);
}

const char* crc32c_implementation() noexcept {
#if defined(__x86_64__)
  if (choose_implementation() == crc32c_sse42) return "sse4.2";
#endif
  return "portable";
}

}  // namespace pmm::persistence
