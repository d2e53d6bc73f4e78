// The file-system calls the snapshot and state files make, behind one interface, so tests can inject
// ENOSPC/EIO at any call and simulate a crash or power loss between any two calls
// (tests/persistence/memory_file_ops.hpp). PosixFileOps is the real thing; docs/snapshot-format.md.
//
// Every call returns 0 or an errno value; none throws. EINTR and short reads/writes are handled
// inside, so a non-zero result is a real failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pmm::persistence {

class FileOps {
 public:
  virtual ~FileOps() = default;

  // Creates or truncates `path` for writing, mode 0600.
  virtual int open_write(const std::string& path, int& fd) = 0;
  virtual int open_read(const std::string& path, int& fd) = 0;
  virtual int write_all(int fd, const void* data, size_t n) = 0;        // at the file position
  virtual int write_at(int fd, uint64_t offset, const void* data, size_t n) = 0;  // position unchanged
  // Reads up to n bytes at the file position; got == 0 means end of file.
  virtual int read(int fd, void* data, size_t n, size_t& got) = 0;
  virtual int file_size(int fd, uint64_t& size) = 0;
  // Data and metadata to stable storage (F_FULLFSYNC on macOS, where fsync stops at the drive cache).
  virtual int sync(int fd) = 0;
  virtual int close(int fd) = 0;
  virtual int rename(const std::string& from, const std::string& to) = 0;  // replaces `to` atomically
  // Makes the directory's entries (creations, renames, unlinks) durable.
  virtual int sync_dir(const std::string& dir) = 0;
  virtual int unlink(const std::string& path) = 0;
  // Creates `path` with mode 0700; EEXIST if it exists (as a directory or not).
  virtual int make_dir(const std::string& path) = 0;
  // ENOENT if missing, ENOTDIR if not a directory.
  virtual int is_dir(const std::string& path) = 0;
  // Names in `dir` except "." and "..", in no particular order.
  virtual int list_dir(const std::string& dir, std::vector<std::string>& names) = 0;
};

// The process's file system through POSIX calls; portable to Linux and macOS.
class PosixFileOps final : public FileOps {
 public:
  int open_write(const std::string& path, int& fd) override;
  int open_read(const std::string& path, int& fd) override;
  int write_all(int fd, const void* data, size_t n) override;
  int write_at(int fd, uint64_t offset, const void* data, size_t n) override;
  int read(int fd, void* data, size_t n, size_t& got) override;
  int file_size(int fd, uint64_t& size) override;
  int sync(int fd) override;
  int close(int fd) override;
  int rename(const std::string& from, const std::string& to) override;
  int sync_dir(const std::string& dir) override;
  int unlink(const std::string& path) override;
  int make_dir(const std::string& path) override;
  int is_dir(const std::string& path) override;
  int list_dir(const std::string& dir, std::vector<std::string>& names) override;
};

// "what path: strerror(err)", the form every error message of this library uses.
std::string describe_errno(const char* what, const std::string& path, int err);

// Deletes the `*.tmp` files in `dir` (what a crash between create and rename leaves behind) and
// returns their paths; a file that cannot be deleted adds a line to `errors`.
std::vector<std::string> remove_temp_files(FileOps& ops, const std::string& dir,
                                           std::vector<std::string>& errors);

// The directory part of a path ("a/b/c" -> "a/b", "c" -> ".", "/c" -> "/").
std::string parent_dir(const std::string& path);

}  // namespace pmm::persistence
