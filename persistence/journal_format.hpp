// The write-ahead journal's on-disk format (docs/journal-format.md): constants, the segment header,
// the record header, the page rule and little-endian field access. Shared by the writer, the reader
// and the repair tool; nothing here touches a file.
//
// A segment file `<dir>/<first sequence, 20 digits>.journal` is one 4 KiB header page followed by
// record pages. A record is a 16-byte header and a payload, 8-byte aligned, and never crosses a 4 KiB
// page boundary, so every page starts with a record (a reader can resynchronise at any page).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "persistence/crc32c.hpp"

namespace pmm::persistence::journal {

constexpr uint32_t kPageBytes = 4096;           // the format's page (independent of the OS page size)
constexpr uint32_t kSegmentHeaderBytes = 4096;  // page 0 holds only the segment header
constexpr uint32_t kRecordHeaderBytes = 16;
constexpr uint32_t kRecordAlign = 8;
constexpr uint32_t kMaxPayload = kPageBytes - kRecordHeaderBytes;  // a record may fill one page
constexpr uint32_t kFormatVersion = 1;
constexpr char kSegmentMagic[8] = {'P', 'M', 'M', 'J', 'R', 'N', 'L', '\0'};
constexpr const char* kSegmentSuffix = ".journal";
// The smallest segment: the header page and two record pages (one record plus the end record).
constexpr uint64_t kMinSegmentBytes = 3 * uint64_t{kPageBytes};

// Record types 0..15 belong to the journal itself; callers choose any type from kFirstUserType on.
enum RecordType : uint16_t {
  kInvalid = 0,     // never written: an all-zero header is "no record here"
  kPadding = 1,     // fills the rest of a page; payload all zeros
  kSyncMarker = 2,  // "records up to `sequence` were durable before this was written"
  kSegmentEnd = 3,  // the last record of a complete segment; the next segment starts at sequence + 1
};
constexpr uint16_t kFirstUserType = 16;
constexpr bool is_user_type(uint16_t type) noexcept { return type >= kFirstUserType; }
constexpr bool is_known_internal_type(uint16_t type) noexcept {
  return type == kPadding || type == kSyncMarker || type == kSegmentEnd;
}

// Sync marker payload.
constexpr uint16_t kSyncMarkerPayload = 16;  // u64 durable_through, u64 unix_ns when the sync finished

// ---- little-endian fields (the format is little-endian on every host) ----

template <class T>
inline T load_le(const uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
  }
  return v;
}

template <class T>
inline void store_le(uint8_t* p, T v) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
  }
  std::memcpy(p, &v, sizeof v);
}

// ---- segment header: the first 64 bytes of page 0; the rest of the page is zero ----
//   0  u8[8] magic "PMMJRNL\0"      8  u32 version        12 u32 page_bytes (4096)
//  16  u64 segment_bytes (file size) 24 u64 first_sequence 32 u32 salt       36 u32 reserved (0)
//  40  u64 created_unix_ns           48 u8[12] reserved (0)                   60 u32 header_crc
// header_crc = crc32c(bytes 0..60, seed 0).
constexpr uint32_t kSegmentHeaderUsed = 64;

struct SegmentHeader {
  uint64_t segment_bytes = 0;
  uint64_t first_sequence = 0;
  uint32_t salt = 0;
  uint64_t created_unix_ns = 0;
};

inline void encode_segment_header(const SegmentHeader& h, uint8_t* page) noexcept {
  std::memset(page, 0, kSegmentHeaderUsed);
  std::memcpy(page, kSegmentMagic, sizeof kSegmentMagic);
  store_le<uint32_t>(page + 8, kFormatVersion);
  store_le<uint32_t>(page + 12, kPageBytes);
  store_le<uint64_t>(page + 16, h.segment_bytes);
  store_le<uint64_t>(page + 24, h.first_sequence);
  store_le<uint32_t>(page + 32, h.salt);
  store_le<uint64_t>(page + 40, h.created_unix_ns);
  store_le<uint32_t>(page + 60, crc32c(page, 60));
}

// Returns "" and fills h, or what is wrong with the header (the caller adds the file name).
inline std::string decode_segment_header(const uint8_t* page, SegmentHeader& h) {
  if (std::memcmp(page, kSegmentMagic, sizeof kSegmentMagic) != 0) return "bad magic (not a journal segment)";
  const uint32_t stored = load_le<uint32_t>(page + 60);
  const uint32_t computed = crc32c(page, 60);
  if (stored != computed)
    return "segment header CRC mismatch (expected " + std::to_string(computed) + ", found " +
           std::to_string(stored) + ")";
  const uint32_t version = load_le<uint32_t>(page + 8);
  if (version != kFormatVersion) return "unsupported format version " + std::to_string(version);
  if (load_le<uint32_t>(page + 12) != kPageBytes) return "unsupported page size";
  h.segment_bytes = load_le<uint64_t>(page + 16);
  h.first_sequence = load_le<uint64_t>(page + 24);
  h.salt = load_le<uint32_t>(page + 32);
  h.created_unix_ns = load_le<uint64_t>(page + 40);
  return "";
}

// ---- record header ----
//   0 u32 crc      crc32c(bytes 4 .. 16 + length, seed = segment salt): header fields and payload
//   4 u16 type     6 u16 length (payload bytes, <= kMaxPayload)     8 u64 sequence
//  16 payload, then zero bytes up to the next multiple of 8 (not covered by the CRC)
// `sequence` of a user record is the previous user record's + 1; a journal record (padding, marker,
// end) carries the sequence of the last user record before it and does not consume one.
constexpr uint32_t record_bytes(uint32_t payload_length) noexcept {
  return (kRecordHeaderBytes + payload_length + kRecordAlign - 1) & ~(kRecordAlign - 1);
}

// Bytes left in the page that holds `offset`.
constexpr uint32_t page_room(uint64_t offset) noexcept {
  return kPageBytes - static_cast<uint32_t>(offset % kPageBytes);
}

// The page rule, for readers and writers alike: at `offset`, fewer than kRecordHeaderBytes left in the
// page means "nothing here, continue at the next page" (the writer leaves those bytes zero).
constexpr uint64_t next_record_offset(uint64_t offset) noexcept {
  return page_room(offset) < kRecordHeaderBytes ? offset + page_room(offset) : offset;
}

inline uint32_t record_crc(const uint8_t* record, uint32_t payload_length, uint32_t salt) noexcept {
  return crc32c(record + 4, 12 + size_t{payload_length}, salt);
}

// The same CRC from the fields and the payload's source bytes. The writer uses this form: reading the
// record back from the mapping right after writing it would load 8 bytes across several smaller
// stores, which the CPU cannot forward (a stall of a dozen cycles per load).
inline uint32_t record_crc(uint16_t type, uint16_t length, uint64_t sequence, const void* payload,
                           uint32_t salt) noexcept {
  uint32_t crc;
  if constexpr (std::endian::native == std::endian::little) {
    // Bytes 4..16 of the header as one 8-byte and one 4-byte value, each read back whole.
    struct {
      uint64_t low;
      uint32_t high;
    } fields{uint64_t{type} | uint64_t{length} << 16 | (sequence & 0xFFFFFFFFu) << 32,
             static_cast<uint32_t>(sequence >> 32)};
    crc = crc32c(&fields, 12, salt);
  } else {
    uint8_t fields[12];
    store_le<uint16_t>(fields, type);
    store_le<uint16_t>(fields + 2, length);
    store_le<uint64_t>(fields + 4, sequence);
    crc = crc32c(fields, 12, salt);
  }
  return crc32c(payload, length, crc);
}

// Writes a complete record at `at` (which must have record_bytes(length) bytes of zeros in one page).
inline void encode_record(uint8_t* at, uint16_t type, uint64_t sequence, const void* payload, uint16_t length,
                          uint32_t salt) noexcept {
  const uint32_t crc = record_crc(type, length, sequence, payload, salt);
  store_le<uint32_t>(at, crc);
  store_le<uint16_t>(at + 4, type);
  store_le<uint16_t>(at + 6, length);
  store_le<uint64_t>(at + 8, sequence);
  if (length != 0) std::memcpy(at + kRecordHeaderBytes, payload, length);
}

// "<20-digit first sequence>.journal".
inline std::string segment_file_name(uint64_t first_sequence) {
  std::string digits = std::to_string(first_sequence);
  return std::string(20 - digits.size(), '0') + digits + kSegmentSuffix;
}

// Parses a segment file name; false for anything else (.tmp, .corrupt, other files).
inline bool parse_segment_file_name(const std::string& name, uint64_t& first_sequence) {
  const size_t suffix = std::char_traits<char>::length(kSegmentSuffix);
  if (name.size() != 20 + suffix || name.compare(20, suffix, kSegmentSuffix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  first_sequence = v;
  return true;
}

}  // namespace pmm::persistence::journal
