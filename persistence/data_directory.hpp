// The persistence data directory (`persistence.dataDirectory`) and its layout:
//
//   <dataDirectory>/                      0700
//     initialised.marker                  written once, when the directory is first set up
//     clean-shutdown.marker               written at clean shutdown (final sequence), removed at start
//     journal/                            the write-ahead journal's segments (JournalWriter's)
//     snapshots/<20 digits>.snapshot      SnapshotDirectory
//     state/risk.state, state/strategy.state   AtomicStateFile
//
// The initialised marker is what tells a first start (no marker, no data) from lost data (marker,
// but no journal and no snapshot). docs/snapshot-format.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/atomic_state_file.hpp"
#include "persistence/file_ops.hpp"
#include "persistence/snapshot_directory.hpp"

namespace pmm::persistence {

// What open() found; the caller logs it and decides how to recover.
struct DataDirectoryStart {
  // No initialised marker and no files in journal/, snapshots/ or state/: a clean first start. The
  // marker has now been written.
  bool first_start = false;
  uint64_t initialised_unix_ns = 0;  // when the directory was first set up
  // The initialised marker was missing or damaged although data was present (e.g. a directory from
  // before markers, or the marker deleted by hand): not a first start; the marker was rewritten.
  // Says what was wrong; empty otherwise.
  std::string initialised_marker_problem;

  // The previous run ended with mark_clean_shutdown(); the marker has now been removed, so a crash
  // of this run is not mistaken for a clean stop.
  bool clean_shutdown = false;
  uint64_t clean_shutdown_sequence = 0;
  std::string clean_shutdown_marker_problem;  // the marker was present but unreadable (treated as unclean)

  std::vector<std::string> removed_temp_files;  // left by a crash mid-write; deleted
  std::vector<std::string> warnings;            // temp files that could not be deleted, ...
};

class DataDirectory {
 public:
  static constexpr const char* kInitialisedMarker = "initialised.marker";
  static constexpr const char* kCleanShutdownMarker = "clean-shutdown.marker";

  // Creates `root` (and missing parents) and journal/, snapshots/, state/ with mode 0700, removes
  // temp files in root, snapshots/ and state/ (journal/ belongs to the journal), reads and settles
  // the markers. nullptr and `error` when the directory cannot be set up; `ops` must outlive it.
  static std::unique_ptr<DataDirectory> open(FileOps& ops, std::string root, DataDirectoryStart& start,
                                             std::string& error);

  const std::string& root() const noexcept { return root_; }
  std::string journal_dir() const { return root_ + "/journal"; }
  std::string snapshot_dir() const { return root_ + "/snapshots"; }
  std::string state_dir() const { return root_ + "/state"; }

  SnapshotDirectory& snapshots() noexcept { return snapshots_; }
  AtomicStateFile& risk_state() noexcept { return risk_state_; }          // state/risk.state
  AtomicStateFile& strategy_state() noexcept { return strategy_state_; }  // state/strategy.state

  // Snapshot files by ascending sequence.
  bool list_snapshots(std::vector<SnapshotFileEntry>& out, std::string& error) const {
    return snapshots_.list(out, error);
  }

  // Call last at a clean shutdown, after the journal is flushed and synced up to `final_sequence`.
  bool mark_clean_shutdown(uint64_t final_sequence, std::string& error);

 private:
  DataDirectory(FileOps& ops, std::string root);
  bool settle_markers(DataDirectoryStart& start, std::string& error);

  FileOps& ops_;
  std::string root_;
  SnapshotDirectory snapshots_;
  AtomicStateFile risk_state_;
  AtomicStateFile strategy_state_;
  AtomicStateFile initialised_;
  AtomicStateFile clean_shutdown_;
};

}  // namespace pmm::persistence
