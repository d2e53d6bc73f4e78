#include "core/binary_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace pmm {

std::unique_ptr<BinaryFileReader> BinaryFileReader::open(const std::string& path, std::string& error,
                                                         size_t buffer_bytes) {
  // The buffer must hold the largest possible message (65535 bytes) plus its length field.
  assert(buffer_bytes >= (1u << 16) + 2);
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<BinaryFileReader>(new BinaryFileReader(fd, path, buffer_bytes));
}

BinaryFileReader::BinaryFileReader(int fd, std::string path, size_t buffer_bytes)
    : fd_(fd), path_(std::move(path)), buf_(new uint8_t[buffer_bytes]), cap_(buffer_bytes) {}

BinaryFileReader::~BinaryFileReader() { ::close(fd_); }

bool BinaryFileReader::refill(size_t keep_from) {
  const size_t keep = end_ - keep_from;
  std::memmove(buf_.get(), buf_.get() + keep_from, keep);
  base_ += keep_from;
  begin_ = 0;
  end_ = keep;
  bool got = false;
  while (end_ < cap_) {
    const ssize_t n = ::read(fd_, buf_.get() + end_, cap_ - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      read_error_ = path_ + ": read failed at byte offset " + std::to_string(base_ + end_) + ": " +
                    std::strerror(errno);
      eof_ = true;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(n);
    got = true;
  }
  return got;
}

BinaryFileResult BinaryFileReader::for_each(const std::function<bool(const uint8_t*, uint16_t, uint64_t)>& f) {
  return for_each_fast(f);
}

std::unique_ptr<BinaryFileWriter> BinaryFileWriter::open(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  static constexpr size_t kBuffer = 1 << 20;
  std::setvbuf(f, nullptr, _IOFBF, kBuffer);
  return std::unique_ptr<BinaryFileWriter>(new BinaryFileWriter(f, path));
}

BinaryFileWriter::~BinaryFileWriter() {
  if (f_) std::fclose(f_);
}

bool BinaryFileWriter::write(const uint8_t* msg, uint16_t len) {
  assert(len > 0);
  const uint8_t prefix[2] = {static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
  if (std::fwrite(prefix, 1, 2, f_) != 2 || std::fwrite(msg, 1, len, f_) != len) failed_ = true;
  return !failed_;
}

bool BinaryFileWriter::write_end_of_session() {
  const uint8_t zero[2] = {0, 0};
  if (std::fwrite(zero, 1, 2, f_) != 2) failed_ = true;
  return !failed_;
}

bool BinaryFileWriter::close(std::string& error) {
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (failed_ || rc != 0) {
    error = path_ + ": write failed: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace pmm
