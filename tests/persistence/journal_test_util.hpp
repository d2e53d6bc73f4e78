// Shared by the journal tests: a temporary directory, whole-file byte access, and an independent walk
// of the on-disk format as docs/journal-format.md describes it (no code from the reader), which tells
// the tests where each record lies so they can damage exactly the bytes they mean to.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "persistence/crc32c.hpp"

namespace journal_test {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = (fs::temp_directory_path() / ("pmm-journal-test-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(rd())))
                .string();
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string journal() const { return path_ + "/journal"; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Overwrites bytes [offset, offset + n) of a file in place.
inline void patch_file(const std::string& path, uint64_t offset, const void* data, size_t n) {
  std::vector<uint8_t> b = read_file(path);
  ASSERT_LE(offset + n, b.size());
  std::memcpy(b.data() + offset, data, n);
  write_file(path, b);
}
inline void zero_file_range(const std::string& path, uint64_t offset, size_t n) {
  const std::vector<uint8_t> z(n, 0);
  patch_file(path, offset, z.data(), n);
}

// Segment files of a journal directory, sorted by name.
inline std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() == 28 && name.substr(20) == ".journal") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline uint64_t le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

struct RawRecord {
  uint64_t offset;
  uint16_t type;
  uint16_t length;
  uint64_t sequence;
  uint32_t crc;
  std::vector<uint8_t> payload;
  uint64_t bytes;  // header + payload rounded up to 8
};

struct RawSegment {
  uint64_t first_sequence = 0;
  uint32_t salt = 0;
  std::vector<RawRecord> records;  // the chain as the format defines it, up to the first non-record
};

// The documented format, walked independently of the reader: 4 KiB header page (first sequence at byte
// 24, salt at 32), then records (crc u32, type u16, length u16, sequence u64, payload, pad to 8); fewer
// than 16 bytes left in a page means "go to the next page"; an all-zero header or a bad CRC stops.
inline RawSegment walk_segment(const std::string& path) {
  const std::vector<uint8_t> b = read_file(path);
  RawSegment s;
  if (b.size() < 4096) return s;
  s.first_sequence = le(b.data() + 24, 8);
  s.salt = static_cast<uint32_t>(le(b.data() + 32, 4));
  uint64_t pos = 4096;
  while (true) {
    if (4096 - pos % 4096 < 16) pos += 4096 - pos % 4096;
    if (pos + 16 > b.size()) break;
    const uint8_t* r = b.data() + pos;
    RawRecord rec;
    rec.offset = pos;
    rec.crc = static_cast<uint32_t>(le(r, 4));
    rec.type = static_cast<uint16_t>(le(r + 4, 2));
    rec.length = static_cast<uint16_t>(le(r + 6, 2));
    rec.sequence = le(r + 8, 8);
    if (rec.type == 0) break;
    if (pos % 4096 + 16 + rec.length > 4096) break;
    if (pmm::persistence::crc32c(r + 4, 12 + size_t{rec.length}, s.salt) != rec.crc) break;
    rec.payload.assign(r + 16, r + 16 + rec.length);
    rec.bytes = (16 + uint64_t{rec.length} + 7) / 8 * 8;
    s.records.push_back(rec);
    pos += rec.bytes;
    if (rec.type == 3) break;  // segment end
  }
  return s;
}

inline const RawRecord* find_user_record(const RawSegment& s, uint64_t sequence) {
  for (const RawRecord& r : s.records)
    if (r.type >= 16 && r.sequence == sequence) return &r;
  return nullptr;
}

// Offset one past the last non-zero byte of a file.
inline uint64_t last_nonzero_end(const std::string& path) {
  const std::vector<uint8_t> b = read_file(path);
  uint64_t end = b.size();
  while (end > 0 && b[end - 1] == 0) --end;
  return end;
}

}  // namespace journal_test
