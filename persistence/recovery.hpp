// Start-up recovery: the newest usable snapshot, then the journal's records after it through the same
// apply() the live path uses (docs/recovery.md). Two steps, so an operator tool can run the first alone:
//
//   plan_recovery()   read-only: verifies every journal segment and every snapshot, reads the markers and
//                     decides what recovery will do (or why it cannot). Changes nothing on disk.
//   recover_state()   plan_recovery(); Failed stops there with every file untouched. Otherwise, if the
//                     journal has no segment, starts it (an empty first segment right after the recovered
//                     sequence, so a crash before the run writes anything is still recoverable); opens the
//                     data directory (markers settled, temp files removed); repairs a torn tail (damaged
//                     bytes after the durable watermark go to *.corrupt); restores the snapshot (falling
//                     back to an older one if the state rejects it) and replays the journal after it.
//
// Statuses (the runbook's `recoverState()`):
//   Success     state recovered (possibly from the journal alone, possibly after a torn-tail repair)
//   CleanStart  no data and no initialised marker: a first start; the state is empty
//   Failed      recovery must not guess: damage before the durable watermark, a sequence gap, a missing
//               segment, a snapshot newer than the journal's end, a journal that starts after the
//               snapshot, an initialised marker with no data at all, ... `reason` names file, offset, what.
//
// Log lines (the runbook's grep patterns): "recoverState: Success ...", "recoverState: CleanStart ...",
// "recoverState: Failed: <reason>", "Journal replay failed: <damage>" (whose text begins "CRC mismatch"
// for a bad CRC), "Loading latest snapshot from <sequence> (<path>)", "Replaying <N> journal entries",
// "Recovery completed successfully ...".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/data_directory.hpp"
#include "persistence/file_ops.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/logger.hpp"
#include "persistence/persistence_config.hpp"
#include "persistence/recoverable_state.hpp"

namespace pmm::persistence {

enum class RecoveryStatus : uint8_t { Success, CleanStart, Failed };
const char* to_string(RecoveryStatus s) noexcept;

// One snapshot file as the plan saw it.
struct SnapshotCheck {
  uint64_t sequence = 0;  // from the name
  std::string path;
  bool valid = false;     // every CRC, the footer and the name check out
  SnapshotInfo info;      // valid only
  std::string damage;     // not valid: "<path>: <what> at offset <N>"
};

// A state file (marker) as the plan saw it, read only.
struct MarkerCheck {
  StateLoadStatus status = StateLoadStatus::Missing;
  uint64_t value = 0;  // initialised: set-up time (Unix ns); clean shutdown: final journal sequence
  std::string problem; // Corrupt/ReadFailed/unexpected payload: what and where
  bool present() const noexcept { return status != StateLoadStatus::Missing; }
};

struct RecoveryPlan {
  std::string root;                  // persistence.dataDirectory, without a trailing '/'
  RecoveryStatus status = RecoveryStatus::Failed;  // what recover_state() will return (barring I/O errors)
  std::string reason;                // Failed: file, offset, what
  bool journal_failed = false;       // the reason is the journal's damage ("Journal replay failed")
  bool repair_tail = false;          // the journal has a torn tail after the watermark: recovery repairs it

  JournalReport journal;             // verify_journal(<root>/journal)
  std::vector<SnapshotCheck> snapshots;   // ascending sequence
  std::vector<size_t> candidates;    // indexes into `snapshots`: valid ones usable with this journal, newest first
  bool replay_from_start = false;    // no candidate, or all fail: the journal starts at 1, replay it all
  uint64_t final_sequence = 0;       // the state's sequence after recovery (the journal's last valid record)
  MarkerCheck initialised;
  MarkerCheck clean_shutdown;
  bool has_data = false;             // any file but *.tmp in journal/, snapshots/ or state/
  std::vector<std::string> data_files;  // those files (segments, snapshots, state files, *.corrupt, ...)
  std::vector<std::string> warnings; // logged, not fatal
};

// Read-only: inspects `data_directory` (which need not exist) and decides. Never writes, creates or
// deletes anything; the journal is read through read-only mappings, the rest through `ops`.
RecoveryPlan plan_recovery(FileOps& ops, const std::string& data_directory);

struct RecoveryResult {
  RecoveryStatus status = RecoveryStatus::Failed;
  std::string reason;  // Failed: what, file, offset; also I/O errors met after the plan

  // The opened data directory (markers settled: initialised written, clean-shutdown removed), for
  // snapshots and state files during the run. Null when Failed.
  std::unique_ptr<DataDirectory> directory;
  DataDirectoryStart start;

  bool snapshot_used = false;
  uint64_t snapshot_sequence = 0;
  std::string snapshot_path;
  std::vector<std::string> snapshots_skipped;  // damaged, or rejected by restore_snapshot(): why

  uint64_t records_replayed = 0;
  uint64_t recovered_sequence = 0;  // the state is at this sequence
  // recovered_sequence + 1: where the journal continues. recover_state() has made sure a journal segment
  // exists, so JournalWriter::open() continues there; pass it as first_sequence all the same.
  uint64_t next_sequence = 1;
  uint64_t durable_watermark = 0;   // the highest sync marker in the journal

  bool tail_repaired = false;
  uint64_t records_dropped = 0;     // records with a valid CRC inside the cut region
  uint64_t bytes_cut = 0;
  std::string corrupt_path;         // where the cut bytes were copied

  bool clean_shutdown = false;      // the previous run ended with clean_shutdown()
  uint64_t clean_shutdown_sequence = 0;
  uint64_t state_digest = 0;        // state.digest() after recovery (0 when Failed)
  std::vector<std::string> warnings;

  RecoveryPlan plan;                // what the read-only inspection found

  // The "recoverState: <Status> ..." line.
  std::string summary() const;
};

// Recovers `state` from config.data_directory (docs/recovery.md). `ops` must outlive result.directory.
// config.enabled is not consulted (the caller decides whether to recover at all); journal_segment_bytes
// sizes the first segment when the journal has to be started.
// Logs every step through `log`. On Failed the state is reset(); when the plan decided Failed no file
// was changed (the reason says so), a later failure (an I/O error in the repair, a journal changed
// under recovery) happens after the markers were settled and a torn tail was cut.
RecoveryResult recover_state(const PersistenceConfig& config, FileOps& ops, RecoverableState& state,
                             const Logger& log);

}  // namespace pmm::persistence
