// Loads and stores of wire fields: big-endian integers (ITCH, MoldUDP64, OUCH are all network byte
// order), fixed-width alpha fields and single characters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pmm {

inline uint16_t load_be16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline uint32_t load_be32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}

// ITCH timestamps are 6-byte nanoseconds since midnight.
inline uint64_t load_be48(const uint8_t* p) noexcept {
  return (uint64_t{load_be16(p)} << 32) | load_be32(p + 2);
}

inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be64(uint8_t* p, uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be48(uint8_t* p, uint64_t v) noexcept {
  store_be16(p, static_cast<uint16_t>(v >> 32));
  store_be32(p + 2, static_cast<uint32_t>(v));
}

// Alpha fields: N bytes as on the wire (left-justified, space-padded; no terminator).
template <size_t N>
inline std::array<char, N> load_alpha(const uint8_t* p) noexcept {
  std::array<char, N> a;
  std::memcpy(a.data(), p, N);
  return a;
}
template <size_t N>
inline void store_alpha(uint8_t* p, const std::array<char, N>& a) noexcept {
  std::memcpy(p, a.data(), N);
}

inline char load_char(const uint8_t* p) noexcept { return static_cast<char>(*p); }
inline void store_char(uint8_t* p, char c) noexcept { *p = static_cast<uint8_t>(c); }

}  // namespace pmm
