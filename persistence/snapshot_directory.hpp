// The set of snapshot files in `<dataDirectory>/snapshots/`: one file per snapshot, named by its
// journal sequence (`<20 zero-padded digits>.snapshot`), so names sort in sequence order and the
// runbook's `find -name '*.snapshot'` lists them. Picks the newest valid one to recover from (skipping
// and reporting damaged ones), prunes to the newest N valid ones, removes temp files left by a crash.
// docs/snapshot-format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/file_ops.hpp"
#include "persistence/snapshot_file.hpp"

namespace pmm::persistence {

struct SnapshotFileEntry {
  uint64_t sequence = 0;  // from the file name
  std::string path;
};

struct SnapshotLoadResult {
  std::unique_ptr<SnapshotReader> reader;  // positioned before the first block; null: none valid
  std::vector<SnapshotDamage> skipped;     // newer files that failed verification, newest first
  std::string error;                       // the directory could not be listed
};

struct SnapshotPruneResult {
  std::vector<std::string> deleted;  // paths, newest first
  std::vector<std::string> errors;   // one line per file that could not be deleted
};

class SnapshotDirectory {
 public:
  static constexpr const char* kExtension = ".snapshot";

  // `ops` must outlive this object; `dir` must exist.
  SnapshotDirectory(FileOps& ops, std::string dir);

  // "00000000000000000042.snapshot"
  static std::string file_name(uint64_t sequence);
  // True for exactly 20 decimal digits (<= UINT64_MAX) followed by ".snapshot".
  static bool parse_file_name(const std::string& name, uint64_t& sequence);

  std::string path_of(uint64_t sequence) const;
  const std::string& dir() const noexcept { return dir_; }

  // Snapshot files by ascending sequence; other names (temp files, strays) are not listed.
  bool list(std::vector<SnapshotFileEntry>& out, std::string& error) const;

  // A writer for the snapshot at `sequence`; commit() it, then prune().
  std::unique_ptr<SnapshotWriter> begin(uint64_t sequence, uint64_t created_unix_ns, std::string& error);

  // Verifies files newest first and opens the first valid one (a file whose header sequence differs
  // from its name counts as damaged). Damaged newer files are reported in `skipped` and left in place.
  SnapshotLoadResult open_newest_valid() const;

  // Keeps the newest `keep` valid snapshots and any damaged file newer than the oldest of them;
  // deletes everything older. Call after a new snapshot has been committed, so a new file is only
  // counted once it is durable. keep >= 1.
  SnapshotPruneResult prune(size_t keep) const;

  // Deletes `*.tmp` files (snapshots a crash interrupted). Returns the deleted paths.
  std::vector<std::string> remove_temp_files(std::vector<std::string>& errors) const;

 private:
  bool verify(const SnapshotFileEntry& e, SnapshotDamage& damage) const;

  FileOps& ops_;
  std::string dir_;
};

}  // namespace pmm::persistence
