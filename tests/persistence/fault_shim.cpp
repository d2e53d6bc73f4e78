// LD_PRELOAD shim for the syscall-fault proof (docs/journal.md, "Proof"; Linux): makes one chosen call
// fail with a chosen errno, as a failing disk would, in an unmodified process. Controlled by:
//
//   PMM_FAULT_CALL   msync | fdatasync | fsync | fallocate | write | rename
//   PMM_FAULT_NTH    the first call that fails, 1-based (counted per process)
//   PMM_FAULT_ERRNO  EIO | ENOSPC | <number>                          (default EIO)
//   PMM_FAULT_COUNT  how many calls fail from the NTH on; 0 = all     (default 1: the disk "recovers")
//
// `write` counts and fails only writes to regular files (not the pipes a process reports on).
// Each injected failure is logged on stderr: "fault_shim: fdatasync #3 -> EIO".
// The functions are declared here rather than through the libc headers, whose declarations carry
// attributes that the definitions would have to repeat exactly.
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace {

enum Call { kMsync, kFdatasync, kFsync, kFallocate, kWrite, kRename, kCalls };
constexpr const char* kNames[kCalls] = {"msync", "fdatasync", "fsync", "fallocate", "write", "rename"};

struct Plan {
  int call = -1;
  unsigned long nth = 0, count = 1;
  int err = EIO;
};

const Plan& plan() {
  static const Plan p = [] {
    Plan q;
    const char* call = std::getenv("PMM_FAULT_CALL");
    for (int i = 0; call != nullptr && i < kCalls; ++i)
      if (std::strcmp(call, kNames[i]) == 0) q.call = i;
    if (const char* n = std::getenv("PMM_FAULT_NTH")) q.nth = std::strtoul(n, nullptr, 10);
    if (const char* c = std::getenv("PMM_FAULT_COUNT")) q.count = std::strtoul(c, nullptr, 10);
    if (const char* e = std::getenv("PMM_FAULT_ERRNO")) {
      if (std::strcmp(e, "EIO") == 0) q.err = EIO;
      else if (std::strcmp(e, "ENOSPC") == 0) q.err = ENOSPC;
      else q.err = static_cast<int>(std::strtol(e, nullptr, 10));
    }
    return q;
  }();
  return p;
}

std::atomic<unsigned long> calls[kCalls];

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

using WriteFn = ssize_t (*)(int, const void*, size_t);

// True if this call of `c` must fail (and logs it).
bool inject(Call c) {
  const Plan& p = plan();
  if (p.call != c || p.nth == 0) return false;
  const unsigned long n = calls[c].fetch_add(1) + 1;
  if (n < p.nth || (p.count != 0 && n >= p.nth + p.count)) return false;
  // "fault_shim: <call> #<n> -> <errno>\n" without stdio (whose header declares rename()).
  char line[128] = "fault_shim: ";
  std::strcat(line, kNames[c]);
  std::strcat(line, " #");
  char digits[24];
  int d = 0;
  for (unsigned long v = n; v != 0 || d == 0; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
  size_t at = std::strlen(line);
  while (d > 0) line[at++] = digits[--d];
  line[at] = '\0';
  std::strcat(line, p.err == EIO ? " -> EIO\n" : p.err == ENOSPC ? " -> ENOSPC\n" : " -> errno\n");
  static const WriteFn w = real<WriteFn>("write");
  w(2, line, std::strlen(line));
  return true;
}

bool regular_file(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

extern "C" {

int msync(void* addr, size_t len, int flags);
int fdatasync(int fd);
int fsync(int fd);
int posix_fallocate(int fd, off_t offset, off_t len);
int posix_fallocate64(int fd, off_t offset, off_t len);
ssize_t write(int fd, const void* buf, size_t n);
int rename(const char* from, const char* to);

int msync(void* addr, size_t len, int flags) {
  if (inject(kMsync)) {
    errno = plan().err;
    return -1;
  }
  static const auto f = real<int (*)(void*, size_t, int)>("msync");
  return f(addr, len, flags);
}

int fdatasync(int fd) {
  if (inject(kFdatasync)) {
    errno = plan().err;
    return -1;
  }
  static const auto f = real<int (*)(int)>("fdatasync");
  return f(fd);
}

int fsync(int fd) {
  if (inject(kFsync)) {
    errno = plan().err;
    return -1;
  }
  static const auto f = real<int (*)(int)>("fsync");
  return f(fd);
}

// posix_fallocate returns the error number instead of setting errno.
int posix_fallocate(int fd, off_t offset, off_t len) {
  if (inject(kFallocate)) return plan().err;
  static const auto f = real<int (*)(int, off_t, off_t)>("posix_fallocate");
  return f(fd, offset, len);
}

int posix_fallocate64(int fd, off_t offset, off_t len) {
  if (inject(kFallocate)) return plan().err;
  static const auto f = real<int (*)(int, off_t, off_t)>("posix_fallocate64");
  return f(fd, offset, len);
}

ssize_t write(int fd, const void* buf, size_t n) {
  if (regular_file(fd) && inject(kWrite)) {
    errno = plan().err;
    return -1;
  }
  static const WriteFn f = real<WriteFn>("write");
  return f(fd, buf, n);
}

int rename(const char* from, const char* to) {
  if (inject(kRename)) {
    errno = plan().err;
    return -1;
  }
  static const auto f = real<int (*)(const char*, const char*)>("rename");
  return f(from, to);
}

}  // extern "C"
