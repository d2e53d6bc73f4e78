// BinaryFILE (shared/specs/binaryfile.txt): a 2-byte big-endian length before each message; a zero
// length ends the session. The reader streams through a fixed buffer, so file size does not matter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace pmm {

struct BinaryFileResult {
  uint64_t messages = 0;
  uint64_t bytes = 0;          // bytes consumed, including length prefixes
  bool end_of_session = false; // a zero-length message was read (file complete)
  std::string error;           // "" or what went wrong and at which byte offset
};

class BinaryFileReader {
 public:
  static constexpr size_t kDefaultBuffer = 1 << 20;

  // Opens path; on failure returns nullptr and sets error.
  static std::unique_ptr<BinaryFileReader> open(const std::string& path, std::string& error,
                                                size_t buffer_bytes = kDefaultBuffer);
  ~BinaryFileReader();

  // Calls f(msg, len, offset_of_length_field) for each message until end of session, end of file or
  // an error. f returns false to stop early.
  BinaryFileResult for_each(const std::function<bool(const uint8_t*, uint16_t, uint64_t)>& f);

  // Same, without std::function overhead, for the replay hot loop.
  template <class F>
  BinaryFileResult for_each_fast(F&& f);

 private:
  BinaryFileReader(int fd, std::string path, size_t buffer_bytes);
  bool refill(size_t keep_from);  // moves [keep_from, end) to the front and reads more; false at EOF/error

  int fd_;
  std::string path_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_;
  size_t begin_ = 0;     // next unread byte in buf_
  size_t end_ = 0;       // one past the last valid byte in buf_
  uint64_t base_ = 0;    // file offset of buf_[0]
  bool eof_ = false;
  std::string read_error_;
};

template <class F>
BinaryFileResult BinaryFileReader::for_each_fast(F&& f) {
  BinaryFileResult r;
  for (;;) {
    if (end_ - begin_ < 2 || end_ - begin_ < 2 + size_t((buf_[begin_] << 8) | buf_[begin_ + 1])) {
      if (!eof_ && refill(begin_)) continue;
      if (!read_error_.empty()) {
        r.error = read_error_;
      } else if (end_ - begin_ == 1) {
        r.error = path_ + ": truncated length field at byte offset " + std::to_string(base_ + begin_);
      } else if (end_ != begin_) {
        const size_t want = (size_t(buf_[begin_]) << 8) | buf_[begin_ + 1];
        r.error = path_ + ": truncated message at byte offset " + std::to_string(base_ + begin_) +
                  ": length field says " + std::to_string(want) + " bytes, " +
                  std::to_string(end_ - begin_ - 2) + " remain";
      }
      return r;
    }
    const uint16_t len = static_cast<uint16_t>((buf_[begin_] << 8) | buf_[begin_ + 1]);
    const uint64_t offset = base_ + begin_;
    const uint8_t* msg = buf_.get() + begin_ + 2;
    begin_ += 2 + size_t{len};
    r.bytes += 2 + size_t{len};
    if (len == 0) {
      r.end_of_session = true;
      return r;
    }
    ++r.messages;
    if (!f(msg, len, offset)) return r;
  }
}

class BinaryFileWriter {
 public:
  static std::unique_ptr<BinaryFileWriter> open(const std::string& path, std::string& error);
  ~BinaryFileWriter();
  bool write(const uint8_t* msg, uint16_t len);  // len > 0
  bool write_end_of_session();
  bool close(std::string& error);  // flushes; reports a write error with the path

 private:
  explicit BinaryFileWriter(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  std::FILE* f_;
  std::string path_;
  bool failed_ = false;
};

}  // namespace pmm
