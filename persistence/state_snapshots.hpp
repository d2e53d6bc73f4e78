// Taking snapshots of a RecoverableState: at the interval (persistence.snapshotIntervalMin), on demand,
// at a clean shutdown, and as a best-effort emergency save (docs/recovery.md). Off the hot path: the
// caller runs these on the thread that owns the state copy (the journal core's shadow copy, or a helper
// that owns a frozen copy). After take_snapshot(), compact_journal() (journal_compaction.hpp) may drop
// journal segments the oldest retained snapshot no longer needs.
//
// Precondition everywhere: `sequence` is the state's sequence AND is durable in the journal
// (<= JournalWriter::durable_sequence()). Recovery treats a snapshot beyond the journal's end as lost
// journal data (Failed), so a snapshot of not-yet-durable state would make the next start fail after a
// crash. emergency_save() is the one exception and names its file so recovery ignores it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "persistence/data_directory.hpp"
#include "persistence/logger.hpp"
#include "persistence/recoverable_state.hpp"
#include "persistence/snapshot_directory.hpp"
#include "persistence/snapshot_image.hpp"

namespace pmm::persistence {

struct SnapshotTakeResult {
  bool ok = false;
  std::string path;                  // the committed snapshot
  std::string error;                 // what failed (step, path, errno); no snapshot was added
  std::vector<std::string> pruned;   // older snapshots deleted (keepSnapshots)
  std::vector<std::string> prune_errors;
  // The oldest snapshot file left after pruning (0 if none): compact_journal() keeps the journal from
  // there on, so recovery can still fall back to it.
  uint64_t oldest_retained_sequence = 0;
};

// Writes the state at `sequence` (durable, see above) to snapshots/<sequence>.snapshot, commits it
// (fsync, rename, directory fsync), then prunes to the newest `keep` (>= 1) valid snapshots. Logs
// "Snapshot taken at sequence N (<path>, B blocks)" or the error.
SnapshotTakeResult take_snapshot(const RecoverableState& state, uint64_t sequence, SnapshotDirectory& snapshots,
                                 size_t keep, const Logger& log);

// The same for a snapshot the journal thread already serialised (snapshot_image.hpp): writes the image's
// bytes to snapshots/<sequence>.snapshot.tmp, fsync, rename, fsync of the directory, then prunes and
// logs like take_snapshot(). The image's sequence must be durable (the caller waits for it).
SnapshotTakeResult write_snapshot_image(FileOps& ops, const SnapshotImage& image, SnapshotDirectory& snapshots,
                                        size_t keep, const Logger& log);

// When the next interval snapshot is due (persistence.snapshotIntervalMin). The caller asks due() in its
// slow loop and calls taken() after take_snapshot() (successful or not: a failing disk is not hammered).
class SnapshotSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  SnapshotSchedule(uint32_t interval_min, Clock::time_point start)
      : SnapshotSchedule(Clock::duration(std::chrono::minutes(interval_min)), start) {}
  // Any interval (benchmarks take snapshots every few hundred milliseconds).
  SnapshotSchedule(Clock::duration interval, Clock::time_point start) : interval_(interval), next_(start + interval_) {}
  bool due(Clock::time_point now) const noexcept { return now >= next_; }
  void taken(Clock::time_point now) noexcept { next_ = now + interval_; }
  Clock::time_point next() const noexcept { return next_; }

 private:
  Clock::duration interval_;
  Clock::time_point next_;
};

// Clean shutdown, after the journal writer is closed (so final_sequence, its last record, is durable):
// a final snapshot at final_sequence, pruning, then the clean-shutdown marker. false and `error` if the
// snapshot or the marker could not be written (then no marker: the next start recovers as after a crash).
// Logs "Clean shutdown: final snapshot at sequence N, clean-shutdown marker written".
bool clean_shutdown(const RecoverableState& state, uint64_t final_sequence, DataDirectory& directory,
                    size_t keep, const Logger& log, std::string& error);

// Best effort when the process must stop without a clean shutdown (journal failure, fatal error): logs
// "EMERGENCY SAVE: <why>" and writes a snapshot of the state at `state_sequence`, no pruning.
// If state_sequence <= durable_sequence the file is an ordinary snapshot that recovery may use.
// Otherwise the state holds records the journal may not have, and recovery must not take it for one
// (it would fail as "snapshot beyond the journal's end"): it is written as
// snapshots/<sequence>.snapshot.emergency, which recovery and pruning ignore, for the operator to
// inspect (pmmctl journal verify lists it). Returns the path written, or "" (and logs why).
// `ops` is the one `snapshots` uses.
std::string emergency_save(FileOps& ops, const RecoverableState& state, uint64_t state_sequence,
                           uint64_t durable_sequence, SnapshotDirectory& snapshots, const std::string& why, const Logger& log);

constexpr const char* kEmergencySnapshotSuffix = ".emergency";

}  // namespace pmm::persistence
