// An in-memory file system behind FileOps that models what survives a power loss, for crash and
// error-injection tests of the snapshot and state files.
//
// Model: a file's data becomes durable at sync(fd); a directory's entries (creations, renames,
// unlinks) become durable at sync_dir(dir). power_loss() reverts, independently, entries and data to
// their durable versions or keeps the unsynced ones, giving the four extreme outcomes a real file
// system may produce (ext4 with delalloc, for example, can persist a rename before the renamed file's
// data: entries kept, data reverted). Directories themselves are durable once created (a
// simplification: the code under test syncs the parent after mkdir anyway).
//
// Faults: every call is numbered from 0. fail_call(k, err) makes call k fail with err and no effect;
// crash_at_call(k) makes call k and every later one fail with EIO and no effect (the process is dead;
// its remaining cleanup never reaches the disk) until power_loss().
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "persistence/file_ops.hpp"

namespace pmm::persistence::testing {

class MemoryFileOps final : public FileOps {
 public:
  static constexpr uint64_t kNever = UINT64_MAX;

  MemoryFileOps() { dirs_["/"]; }

  // ---- fault injection ----
  uint64_t calls() const { return calls_; }
  void fail_call(uint64_t k, int err) {
    fail_at_ = k;
    fail_errno_ = err;
  }
  void crash_at_call(uint64_t k) { crash_at_ = k; }
  bool crashed() const { return crashed_; }
  // Reverts what was not synced (entries and/or data), closes every descriptor, clears the faults.
  void power_loss(bool keep_unsynced_entries, bool keep_unsynced_data) {
    for (auto& [path, d] : dirs_) {
      if (!keep_unsynced_entries) d.entries = d.durable_entries;
    }
    for (auto& [id, f] : inodes_) {
      if (!keep_unsynced_data) f.data = f.durable;
    }
    fds_.clear();
    crashed_ = false;
    crash_at_ = kNever;
    fail_at_ = kNever;
  }
  std::vector<std::string> log;  // one line per call: "<op> <path>"

  // ---- direct access for tests (not counted, never faulted) ----
  bool exists(const std::string& path) const {
    const auto d = dirs_.find(parent_dir(path));
    return d != dirs_.end() && d->second.entries.count(base(path)) != 0;
  }
  std::vector<uint8_t> contents(const std::string& path) const {
    const auto& d = dirs_.at(parent_dir(path));
    return inodes_.at(d.entries.at(base(path))).data;
  }
  // Replaces the file's bytes, durably (entries and data), like an editor on a synced disk.
  void put(const std::string& path, const std::vector<uint8_t>& bytes) {
    Dir& d = dirs_.at(parent_dir(path));
    auto it = d.entries.find(base(path));
    uint64_t id;
    if (it == d.entries.end()) {
      id = next_inode_++;
      d.entries[base(path)] = id;
    } else {
      id = it->second;
    }
    inodes_[id].data = bytes;
    inodes_[id].durable = bytes;
    d.durable_entries = d.entries;
  }
  std::vector<std::string> names(const std::string& dir) const {
    std::vector<std::string> out;
    for (const auto& [n, id] : dirs_.at(dir).entries) out.push_back(n);
    return out;
  }

  // ---- FileOps ----
  int open_write(const std::string& path, int& fd) override {
    if (const int e = enter("open_write", path)) return e;
    auto d = dirs_.find(parent_dir(path));
    if (d == dirs_.end()) return ENOENT;
    if (dirs_.count(path) != 0) return EISDIR;
    auto it = d->second.entries.find(base(path));
    uint64_t id;
    if (it == d->second.entries.end()) {
      id = next_inode_++;
      inodes_[id];
      d->second.entries[base(path)] = id;
    } else {
      id = it->second;
      inodes_[id].data.clear();  // O_TRUNC
    }
    fd = next_fd_++;
    fds_[fd] = Fd{id, 0};
    return 0;
  }
  int open_read(const std::string& path, int& fd) override {
    if (const int e = enter("open_read", path)) return e;
    auto d = dirs_.find(parent_dir(path));
    if (d == dirs_.end()) return ENOENT;
    auto it = d->second.entries.find(base(path));
    if (it == d->second.entries.end()) return dirs_.count(path) != 0 ? EISDIR : ENOENT;
    fd = next_fd_++;
    fds_[fd] = Fd{it->second, 0};
    return 0;
  }
  int write_all(int fd, const void* data, size_t n) override {
    if (const int e = enter("write", fd)) return e;
    if (fds_.count(fd) == 0) return EBADF;
    Fd& f = fds_.at(fd);
    put_bytes(inodes_[f.inode].data, f.pos, data, n);
    f.pos += n;
    return 0;
  }
  int write_at(int fd, uint64_t offset, const void* data, size_t n) override {
    if (const int e = enter("write_at", fd)) return e;
    if (fds_.count(fd) == 0) return EBADF;
    put_bytes(inodes_[fds_.at(fd).inode].data, offset, data, n);
    return 0;
  }
  int read(int fd, void* data, size_t n, size_t& got) override {
    got = 0;
    if (const int e = enter("read", fd)) return e;
    if (fds_.count(fd) == 0) return EBADF;
    Fd& f = fds_.at(fd);
    const std::vector<uint8_t>& bytes = inodes_[f.inode].data;
    if (f.pos < bytes.size()) {
      got = std::min<size_t>(n, bytes.size() - static_cast<size_t>(f.pos));
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(f.pos), got, static_cast<uint8_t*>(data));
      f.pos += got;
    }
    return 0;
  }
  int file_size(int fd, uint64_t& size) override {
    if (const int e = enter("file_size", fd)) return e;
    if (fds_.count(fd) == 0) return EBADF;
    size = inodes_[fds_.at(fd).inode].data.size();
    return 0;
  }
  int sync(int fd) override {
    if (const int e = enter("sync", fd)) return e;
    if (fds_.count(fd) == 0) return EBADF;
    Inode& f = inodes_[fds_.at(fd).inode];
    f.durable = f.data;
    return 0;
  }
  int close(int fd) override {
    if (const int e = enter("close", fd)) return e;
    return fds_.erase(fd) != 0 ? 0 : EBADF;
  }
  int rename(const std::string& from, const std::string& to) override {
    if (const int e = enter("rename", from + " -> " + to)) return e;
    auto fd = dirs_.find(parent_dir(from));
    auto td = dirs_.find(parent_dir(to));
    if (fd == dirs_.end() || td == dirs_.end()) return ENOENT;
    auto it = fd->second.entries.find(base(from));
    if (it == fd->second.entries.end()) return ENOENT;
    const uint64_t id = it->second;
    fd->second.entries.erase(it);
    td->second.entries[base(to)] = id;
    return 0;
  }
  int sync_dir(const std::string& dir) override {
    if (const int e = enter("sync_dir", dir)) return e;
    auto d = dirs_.find(dir);
    if (d == dirs_.end()) return ENOENT;
    d->second.durable_entries = d->second.entries;
    return 0;
  }
  int unlink(const std::string& path) override {
    if (const int e = enter("unlink", path)) return e;
    auto d = dirs_.find(parent_dir(path));
    if (d == dirs_.end() || d->second.entries.erase(base(path)) == 0) return ENOENT;
    return 0;
  }
  int make_dir(const std::string& path) override {
    if (const int e = enter("make_dir", path)) return e;
    if (dirs_.count(path) != 0 || exists(path)) return EEXIST;
    if (dirs_.count(parent_dir(path)) == 0) return ENOENT;
    dirs_[path];
    return 0;
  }
  int is_dir(const std::string& path) override {
    if (const int e = enter("is_dir", path)) return e;
    if (dirs_.count(path) != 0) return 0;
    return exists(path) ? ENOTDIR : ENOENT;
  }
  int list_dir(const std::string& dir, std::vector<std::string>& out) override {
    out.clear();
    if (const int e = enter("list_dir", dir)) return e;
    auto d = dirs_.find(dir);
    if (d == dirs_.end()) return ENOENT;
    for (const auto& [n, id] : d->second.entries) out.push_back(n);
    for (const auto& [p, sub] : dirs_) {
      if (p != dir && p != "/" && parent_dir(p) == dir) out.push_back(base(p));
    }
    return 0;
  }

 private:
  struct Inode {
    std::vector<uint8_t> data;
    std::vector<uint8_t> durable;  // as of the last sync(); empty if never synced
  };
  struct Dir {
    std::map<std::string, uint64_t> entries;
    std::map<std::string, uint64_t> durable_entries;
  };
  struct Fd {
    uint64_t inode;
    uint64_t pos;
  };

  static std::string base(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }
  static void put_bytes(std::vector<uint8_t>& v, uint64_t at, const void* data, size_t n) {
    if (v.size() < at + n) v.resize(static_cast<size_t>(at + n));
    std::copy_n(static_cast<const uint8_t*>(data), n, v.begin() + static_cast<std::ptrdiff_t>(at));
  }
  int enter(const char* op, int fd) { return enter(op, "fd " + std::to_string(fd)); }
  int enter(const char* op, const std::string& what) {
    const uint64_t k = calls_++;
    log.push_back(std::string(op) + " " + what);
    if (k == crash_at_) crashed_ = true;
    if (crashed_) return EIO;
    if (k == fail_at_) return fail_errno_;
    return 0;
  }

  std::map<std::string, Dir> dirs_;
  std::map<uint64_t, Inode> inodes_;
  std::map<int, Fd> fds_;
  uint64_t next_inode_ = 1;
  int next_fd_ = 3;
  uint64_t calls_ = 0;
  uint64_t fail_at_ = kNever;
  int fail_errno_ = 0;
  uint64_t crash_at_ = kNever;
  bool crashed_ = false;
};

}  // namespace pmm::persistence::testing
