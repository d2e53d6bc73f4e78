#include "persistence/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pmm::persistence {

int PosixFileOps::open_write(const std::string& path, int& fd) {
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? errno : 0;
}

int PosixFileOps::open_read(const std::string& path, int& fd) {
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? errno : 0;
}

int PosixFileOps::write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n != 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;  // no progress and no error: do not spin
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

int PosixFileOps::write_at(int fd, uint64_t offset, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n != 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

int PosixFileOps::read(int fd, void* data, size_t n, size_t& got) {
  got = 0;
  auto* p = static_cast<uint8_t*>(data);
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return 0;
}

int PosixFileOps::file_size(int fd, uint64_t& size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno;
  size = static_cast<uint64_t>(st.st_size);
  return 0;
}

int PosixFileOps::sync(int fd) {
#if defined(__APPLE__)
  // macOS fsync() does not flush the drive's write cache; F_FULLFSYNC does. Some file systems
  // (network, FUSE) reject it: fall back to fsync there.
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;
#endif
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc != 0 ? errno : 0;
}

int PosixFileOps::close(int fd) {
  // No retry on EINTR: the descriptor is released either way (Linux, and POSIX 2024).
  return ::close(fd) != 0 && errno != EINTR ? errno : 0;
}

int PosixFileOps::rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) != 0 ? errno : 0;
}

int PosixFileOps::sync_dir(const std::string& dir) {
  int fd;
  do {
    fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC
#if defined(O_DIRECTORY)
                                 | O_DIRECTORY
#endif
    );
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  const int rc = sync(fd);
  ::close(fd);
  return rc;
}

int PosixFileOps::unlink(const std::string& path) {
  return ::unlink(path.c_str()) != 0 ? errno : 0;
}

int PosixFileOps::make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) return errno;
  return 0;
}

int PosixFileOps::is_dir(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int PosixFileOps::list_dir(const std::string& dir, std::vector<std::string>& names) {
  names.clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      const int err = errno;
      ::closedir(d);
      return err;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
}

std::string describe_errno(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

std::vector<std::string> remove_temp_files(FileOps& ops, const std::string& dir,
                                           std::vector<std::string>& errors) {
  std::vector<std::string> removed;
  std::vector<std::string> names;
  if (const int err = ops.list_dir(dir, names); err != 0) {
    errors.push_back(describe_errno("list", dir, err));
    return removed;
  }
  static constexpr char kSuffix[] = ".tmp";
  constexpr size_t kLen = sizeof kSuffix - 1;
  for (const std::string& n : names) {
    if (n.size() <= kLen || n.compare(n.size() - kLen, kLen, kSuffix) != 0) continue;
    const std::string p = dir + "/" + n;
    if (const int err = ops.unlink(p); err != 0 && err != ENOENT) {
      errors.push_back(describe_errno("unlink", p, err));
    } else {
      removed.push_back(p);
    }
  }
  return removed;
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace pmm::persistence
