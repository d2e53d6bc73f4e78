#include "persistence/snapshot_directory.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pmm::persistence {
namespace {

constexpr size_t kDigits = 20;  // UINT64_MAX has 20 decimal digits

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

SnapshotDirectory::SnapshotDirectory(FileOps& ops, std::string dir) : ops_(ops), dir_(std::move(dir)) {
  assert(!dir_.empty());
}

std::string SnapshotDirectory::file_name(uint64_t sequence) {
  char buf[kDigits + 1];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(sequence));
  return std::string(buf) + kExtension;
}

bool SnapshotDirectory::parse_file_name(const std::string& name, uint64_t& sequence) {
  if (name.size() != kDigits + std::strlen(kExtension) || !ends_with(name, kExtension)) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // beyond UINT64_MAX
    v = v * 10 + d;
  }
  sequence = v;
  return true;
}

std::string SnapshotDirectory::path_of(uint64_t sequence) const { return dir_ + "/" + file_name(sequence); }

bool SnapshotDirectory::list(std::vector<SnapshotFileEntry>& out, std::string& error) const {
  out.clear();
  std::vector<std::string> names;
  if (const int err = ops_.list_dir(dir_, names); err != 0) {
    error = describe_errno("list", dir_, err);
    return false;
  }
  for (const std::string& n : names) {
    uint64_t seq = 0;
    if (parse_file_name(n, seq)) out.push_back({seq, dir_ + "/" + n});
  }
  std::sort(out.begin(), out.end(),
            [](const SnapshotFileEntry& a, const SnapshotFileEntry& b) { return a.sequence < b.sequence; });
  return true;
}

std::unique_ptr<SnapshotWriter> SnapshotDirectory::begin(uint64_t sequence, uint64_t created_unix_ns,
                                                         std::string& error) {
  return SnapshotWriter::create(ops_, path_of(sequence), sequence, created_unix_ns, error);
}

bool SnapshotDirectory::verify(const SnapshotFileEntry& e, SnapshotDamage& damage) const {
  SnapshotInfo info;
  if (!verify_snapshot_file(ops_, e.path, info, damage)) return false;
  if (info.sequence != e.sequence) {
    damage = SnapshotDamage{e.path, 16,
                            "the header says sequence " + std::to_string(info.sequence) +
                                " but the file name says " + std::to_string(e.sequence)};
    return false;
  }
  return true;
}

SnapshotLoadResult SnapshotDirectory::open_newest_valid() const {
  SnapshotLoadResult r;
  std::vector<SnapshotFileEntry> files;
  if (!list(files, r.error)) return r;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    SnapshotDamage damage;
    if (!verify(*it, damage)) {
      r.skipped.push_back(std::move(damage));
      continue;
    }
    // Verified a moment ago; the reader checks every CRC again as it goes, so a file changed in
    // between shows up as damage on the reader rather than as bad state.
    r.reader = SnapshotReader::open(ops_, it->path, damage);
    if (!r.reader) {
      r.skipped.push_back(std::move(damage));
      continue;
    }
    break;
  }
  return r;
}

SnapshotPruneResult SnapshotDirectory::prune(size_t keep) const {
  assert(keep >= 1);
  SnapshotPruneResult r;
  std::vector<SnapshotFileEntry> files;
  std::string error;
  if (!list(files, error)) {
    r.errors.push_back(error);
    return r;
  }
  size_t valid = 0;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (valid < keep) {
      SnapshotDamage damage;
      if (verify(*it, damage)) ++valid;
      continue;  // valid ones are kept; damaged ones newer than the keep-th valid stay for inspection
    }
    if (const int err = ops_.unlink(it->path); err != 0 && err != ENOENT) {
      r.errors.push_back(describe_errno("unlink", it->path, err));
    } else {
      r.deleted.push_back(it->path);
    }
  }
  // A deletion that does not survive a power loss is harmless (the next prune repeats it), so the
  // directory is synced for tidiness only and its failure is reported, not acted on.
  if (!r.deleted.empty()) {
    if (const int err = ops_.sync_dir(dir_); err != 0) {
      r.errors.push_back(describe_errno("fsync directory", dir_, err));
    }
  }
  return r;
}

std::vector<std::string> SnapshotDirectory::remove_temp_files(std::vector<std::string>& errors) const {
  return persistence::remove_temp_files(ops_, dir_, errors);
}

}  // namespace pmm::persistence
