#include "core/orders/epoch_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/orders/order_token.hpp"

namespace pmm::orders {

namespace {

std::string sys_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

EpochResult advance_epoch_file(const std::string& path) {
  EpochResult r;
  uint64_t last = 0;
  const int in = ::open(path.c_str(), O_RDONLY);
  if (in < 0) {
    if (errno != ENOENT) {
      r.error = sys_error("open", path);
      return r;
    }
  } else {
    char buf[32];
    size_t len = 0;
    for (;;) {
      const ssize_t n = ::read(in, buf + len, sizeof buf - len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        r.error = sys_error("read", path);
        ::close(in);
        return r;
      }
      if (n == 0) break;
      len += static_cast<size_t>(n);
      if (len == sizeof buf) break;
    }
    ::close(in);
    size_t digits = len;
    if (digits > 0 && buf[digits - 1] == '\n') --digits;
    bool ok = digits >= 1 && digits <= 10;
    for (size_t i = 0; ok && i < digits; ++i) {
      if (buf[i] < '0' || buf[i] > '9') ok = false;
      else last = last * 10 + static_cast<uint64_t>(buf[i] - '0');
    }
    if (!ok) {
      r.error = "epoch file " + path + ": expected 1-10 decimal digits and a newline";
      return r;
    }
  }
  if (last >= kMaxEpoch) {
    r.error = "epoch file " + path + ": epoch " + std::to_string(last) +
              " is the last one the 4-character token field can hold (" + std::to_string(kMaxEpoch) + ")";
    return r;
  }
  const uint32_t next = static_cast<uint32_t>(last + 1);
  const std::string text = std::to_string(next) + "\n";
  const std::string tmp = path + ".tmp";

  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    r.error = sys_error("open", tmp);
    return r;
  }
  if (!write_all(out, text.data(), text.size())) {
    r.error = sys_error("write", tmp);
    ::close(out);
    return r;
  }
  if (::fsync(out) != 0) {
    r.error = sys_error("fsync", tmp);
    ::close(out);
    return r;
  }
  ::close(out);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    r.error = sys_error("rename to " + path + " from", tmp);
    return r;
  }
  // The rename is durable only once the directory entry is: fsync the directory too.
  const std::string dir = directory_of(path);
  const int d = ::open(dir.c_str(), O_RDONLY);
  if (d < 0) {
    r.error = sys_error("open directory", dir);
    return r;
  }
  if (::fsync(d) != 0) {
    r.error = sys_error("fsync directory", dir);
    ::close(d);
    return r;
  }
  ::close(d);
  r.epoch = next;
  return r;
}

}  // namespace pmm::orders
