#include "persistence/journal_syscalls.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pmm::persistence {

namespace {

int real_preallocate(int fd, uint64_t bytes) {
#if defined(__APPLE__)
  // F_PREALLOCATE reserves blocks (contiguous if possible), ftruncate sets the size: no sparse holes.
  fstore_t store{};
  store.fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL;
  store.fst_posmode = F_PEOFPOSMODE;
  store.fst_offset = 0;
  store.fst_length = static_cast<off_t>(bytes);
  if (::fcntl(fd, F_PREALLOCATE, &store) == -1) {
    store.fst_flags = F_ALLOCATEALL;
    if (::fcntl(fd, F_PREALLOCATE, &store) == -1) return errno;
  }
  return ::ftruncate(fd, static_cast<off_t>(bytes)) == 0 ? 0 : errno;
#else
  // Real blocks, not a sparse file: a full disk must fail here, not as SIGBUS on a mapped write.
  int err;
  do {
    err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  } while (err == EINTR);
  return err;
#endif
}

int real_sync_range(void* addr, size_t bytes) { return ::msync(addr, bytes, MS_SYNC) == 0 ? 0 : errno; }

int real_sync_file(int fd) {
#if defined(__APPLE__)
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;  // fsync alone stops at the drive's cache on macOS
  return ::fsync(fd) == 0 ? 0 : errno;
#else
  return ::fdatasync(fd) == 0 ? 0 : errno;
#endif
}

int real_sync_dir(const char* dir) {
  const int fd = ::open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

constexpr JournalSyscalls kRealSyscalls{real_preallocate, real_sync_range, real_sync_file, real_sync_dir};

}  // namespace

const JournalSyscalls& real_journal_syscalls() noexcept { return kRealSyscalls; }

uint64_t os_page_bytes() noexcept {
  static const uint64_t bytes = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

std::string describe_journal_error(const char* what, const std::string& file, uint64_t offset, int err) {
  return std::string("journal ") + what + " failed on " + file + " at offset " + std::to_string(offset) + ": " +
         std::strerror(err) + " (errno " + std::to_string(err) + ")";
}

}  // namespace pmm::persistence
