#include "persistence/atomic_state_file.hpp"

#include <cassert>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/byte_order.hpp"
#include "persistence/crc32c.hpp"

namespace pmm::persistence {
namespace {

constexpr char kMagic[8] = {'P', 'M', 'M', 'S', 'T', 'A', 'T', 'E'};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

const char* to_string(StateLoadStatus s) noexcept {
  switch (s) {
    case StateLoadStatus::Loaded: return "loaded";
    case StateLoadStatus::Missing: return "missing";
    case StateLoadStatus::Corrupt: return "corrupt";
    case StateLoadStatus::ReadFailed: return "read failed";
  }
  return "?";
}

AtomicStateFile::AtomicStateFile(FileOps& ops, std::string path, size_t max_payload)
    : ops_(ops),
      path_(std::move(path)),
      temp_path_(path_ + ".tmp"),
      dir_(parent_dir(path_)),
      max_payload_(max_payload) {
  assert(!path_.empty() && path_.back() != '/');
  assert(max_payload_ <= UINT32_MAX);
  const std::string name = base_name(path_);
  seed_ = crc32c(name.data(), name.size());
}

StateLoadResult AtomicStateFile::load() const {
  StateLoadResult r;
  auto corrupt = [&](uint64_t offset, const std::string& what) {
    r.status = StateLoadStatus::Corrupt;
    r.offset = offset;
    r.what = path_ + ": " + what + " at offset " + std::to_string(offset);
    r.payload.clear();
    return r;
  };

  int fd = -1;
  if (const int err = ops_.open_read(path_, fd); err != 0) {
    r.status = err == ENOENT ? StateLoadStatus::Missing : StateLoadStatus::ReadFailed;
    r.what = describe_errno("open", path_, err);
    return r;
  }
  uint64_t size = 0;
  int err = ops_.file_size(fd, size);
  const uint64_t max_size = kHeaderBytes + max_payload_ + kTrailerBytes;
  if (err == 0 && size >= kHeaderBytes + kTrailerBytes && size <= max_size) {
    r.payload.resize(static_cast<size_t>(size));  // the whole file; trimmed to the payload below
    size_t got = 0;
    err = ops_.read(fd, r.payload.data(), r.payload.size(), got);
    if (err == 0 && got != size) err = EIO;  // the file shrank under us
  }
  ops_.close(fd);
  if (err != 0) {
    r.status = StateLoadStatus::ReadFailed;
    r.what = describe_errno("read", path_, err);
    r.payload.clear();
    return r;
  }
  if (size < kHeaderBytes + kTrailerBytes) {
    return corrupt(size, "truncated: " + std::to_string(size) + " bytes, the smallest valid file is " +
                             std::to_string(kHeaderBytes + kTrailerBytes));
  }
  if (size > max_size) {
    return corrupt(0, "too large: " + std::to_string(size) + " bytes, the limit is " +
                          std::to_string(max_size));
  }

  const uint8_t* p = r.payload.data();
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return corrupt(0, "bad magic (not a state file)");
  const uint16_t version = load_be16(p + 8);
  if (version != kFormatVersion) {
    return corrupt(8, "unsupported format version " + std::to_string(version) + " (this build reads " +
                          std::to_string(kFormatVersion) + ")");
  }
  if (load_be16(p + 10) != 0) return corrupt(10, "reserved field is not zero");
  const uint32_t length = load_be32(p + 16);
  if (uint64_t{length} != size - kHeaderBytes - kTrailerBytes) {
    return corrupt(16, "payload length field says " + std::to_string(length) + " bytes but the file holds " +
                           std::to_string(size - kHeaderBytes - kTrailerBytes));
  }
  const size_t crc_at = kHeaderBytes + length;
  const uint32_t stored = load_be32(p + crc_at);
  const uint32_t computed = crc32c(p, crc_at, seed_);
  if (stored != computed) {
    return corrupt(crc_at, "CRC mismatch: expected " + hex32(computed) + " found " + hex32(stored));
  }

  r.status = StateLoadStatus::Loaded;
  r.payload_version = load_be32(p + 12);
  r.payload.erase(r.payload.begin(), r.payload.begin() + kHeaderBytes);
  r.payload.resize(length);
  r.what.clear();
  return r;
}

bool AtomicStateFile::save(uint32_t payload_version, const uint8_t* payload, size_t n,
                           std::string& error) {
  assert(payload != nullptr || n == 0);
  if (n > max_payload_) {
    error = path_ + ": payload of " + std::to_string(n) + " bytes exceeds the " +
            std::to_string(max_payload_) + "-byte limit (nothing written)";
    return false;
  }
  uint8_t header[kHeaderBytes];
  std::memcpy(header, kMagic, sizeof kMagic);
  store_be16(header + 8, kFormatVersion);
  store_be16(header + 10, 0);
  store_be32(header + 12, payload_version);
  store_be32(header + 16, static_cast<uint32_t>(n));
  uint32_t crc = crc32c(header, sizeof header, seed_);
  crc = crc32c(payload, n, crc);
  uint8_t trailer[kTrailerBytes];
  store_be32(trailer, crc);

  // Steps up to the rename only touch the temp file: on failure, drop it and keep the old version.
  auto fail_before_rename = [&](const char* step, const std::string& on, int err, int open_fd) {
    if (open_fd >= 0) ops_.close(open_fd);
    ops_.unlink(temp_path_);
    error = describe_errno(step, on, err) + " (" + path_ + " is unchanged)";
    return false;
  };

  int fd = -1;
  if (const int err = ops_.open_write(temp_path_, fd); err != 0) {
    return fail_before_rename("create", temp_path_, err, -1);
  }
  int err = ops_.write_all(fd, header, sizeof header);
  if (err == 0 && n != 0) err = ops_.write_all(fd, payload, n);
  if (err == 0) err = ops_.write_all(fd, trailer, sizeof trailer);
  if (err != 0) return fail_before_rename("write", temp_path_, err, fd);
  // After a failed fsync the kernel may have dropped the dirty pages: never retry it on this file.
  if ((err = ops_.sync(fd)) != 0) return fail_before_rename("fsync", temp_path_, err, fd);
  if ((err = ops_.close(fd)) != 0) return fail_before_rename("close", temp_path_, err, -1);
  if ((err = ops_.rename(temp_path_, path_)) != 0) {
    return fail_before_rename("rename", temp_path_ + " -> " + path_, err, -1);
  }
  if ((err = ops_.sync_dir(dir_)) != 0) {
    error = describe_errno("fsync directory", dir_, err) + " (" + path_ +
            " holds the new version, which may not survive a power loss)";
    return false;
  }
  return true;
}

bool AtomicStateFile::remove(std::string& error) {
  const int err = ops_.unlink(path_);
  if (err == ENOENT) return true;
  if (err != 0) {
    error = describe_errno("unlink", path_, err);
    return false;
  }
  if (const int e = ops_.sync_dir(dir_); e != 0) {
    error = describe_errno("fsync directory", dir_, e) + " (after unlinking " + path_ + ")";
    return false;
  }
  return true;
}

}  // namespace pmm::persistence
