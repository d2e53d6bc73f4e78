#include "persistence/journal_repair.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pmm::persistence {

namespace {

std::string errno_text(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

int pread_all(int fd, uint8_t* p, size_t n, uint64_t offset) {
  while (n != 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return EIO;  // the file is shorter than the verifier saw
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return 0;
}

int pwrite_all(int fd, const uint8_t* p, size_t n, uint64_t offset) {
  while (n != 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return EIO;
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

int full_sync(int fd) {
#if defined(__APPLE__)
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;
#endif
  return ::fsync(fd) == 0 ? 0 : errno;
}

int sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = full_sync(fd);
  ::close(fd);
  return err;
}

}  // namespace

std::string JournalRepairResult::summary() const {
  if (!ok) return "journal repair refused: " + error;
  if (segment.empty()) return "journal repair: nothing to do (" + before.summary() + ")";
  std::string s = changed ? "journal repaired: " : "journal repair (dry run) would cut: ";
  s += segment + " bytes " + std::to_string(offset) + ".." + std::to_string(offset + bytes) + " -> " +
       corrupt_path + ", " + std::to_string(records_dropped) + " record(s) with a valid CRC dropped, last sequence kept " +
       std::to_string(last_sequence_kept);
  return s;
}

JournalRepairResult repair_journal(const std::string& directory, bool dry_run) {
  JournalRepairResult r;
  r.before = verify_journal(directory);
  if (r.before.status == JournalStatus::Empty || r.before.status == JournalStatus::Clean) {
    r.ok = true;
    r.last_sequence_kept = r.before.last_sequence;
    return r;
  }
  if (r.before.status == JournalStatus::Failed) {
    r.error = "damage before the durable watermark is not a torn tail; nothing changed: " + r.before.damage.detail;
    return r;
  }
  const JournalDamage& d = r.before.damage;
  r.segment = d.file;
  r.offset = d.offset;
  r.bytes = d.bytes;
  r.records_dropped = d.records_beyond;
  r.last_sequence_kept = r.before.last_sequence;
  r.corrupt_path = d.file + ".corrupt";
  for (int n = 1; exists(r.corrupt_path); ++n) r.corrupt_path = d.file + ".corrupt." + std::to_string(n);
  if (dry_run) {
    r.ok = true;
    return r;
  }

  const int fd = ::open(d.file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    r.error = errno_text("open", d.file, errno);
    return r;
  }
  std::vector<uint8_t> damaged(d.bytes);
  if (int err = pread_all(fd, damaged.data(), damaged.size(), d.offset); err != 0) {
    ::close(fd);
    r.error = errno_text("read", d.file, err);
    return r;
  }
  // The copy first, durable, before a single byte of the segment changes.
  const int out = ::open(r.corrupt_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(fd);
    r.error = errno_text("create", r.corrupt_path, errno);
    return r;
  }
  int err = pwrite_all(out, damaged.data(), damaged.size(), 0);
  if (err == 0) err = full_sync(out);
  ::close(out);
  if (err == 0) err = sync_dir(directory);
  if (err != 0) {
    ::close(fd);
    r.error = errno_text("write", r.corrupt_path, err);
    return r;
  }
  r.changed = true;
  // Zeros over the region (pwrite, not a hole: the file stays fully allocated for the mapped writer).
  const std::vector<uint8_t> zeros(d.bytes, 0);
  err = pwrite_all(fd, zeros.data(), zeros.size(), d.offset);
  if (err == 0) err = full_sync(fd);
  ::close(fd);
  if (err == 0) err = sync_dir(directory);
  if (err != 0) {
    r.error = errno_text("zero the damaged region of", d.file, err);
    return r;
  }
  r.after = verify_journal(directory);
  if (r.after.status != JournalStatus::Clean) {
    r.error = "the journal does not verify clean after the repair: " + r.after.summary();
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace pmm::persistence
