// The state that recovery rebuilds, seen from persistence: opaque. The trading state (books, orders,
// positions) implements this; recovery only calls these five functions (docs/recovery.md).
//
// The contract that makes recovery exact: apply() is the SAME function the live journal core's shadow
// copy calls for every record it journals, and it depends only on the state and the record (no clock,
// no randomness, no configuration read at apply time). Then "snapshot at S + apply(S+1..N)" equals the
// live state at N, which recovery's tests check through digest().
#pragma once

#include <cstdint>
#include <string>

#include "persistence/journal_reader.hpp"
#include "persistence/snapshot_file.hpp"

namespace pmm::persistence {

class RecoverableState {
 public:
  virtual ~RecoverableState() = default;

  // Back to the empty state (before sequence 1). Recovery calls it before restoring a snapshot, before
  // replaying from the start, and to discard a partial replay.
  virtual void reset() = 0;

  // Applies one caller record (type >= journal::kFirstUserType; `payload` holds `length` bytes, valid
  // during the call only; `file` is null and `offset` 0 when the record comes from the live path).
  // A payload the state cannot use is counted and ignored by the state, never a crash: the live copy
  // did the same with the same bytes.
  virtual void apply(const JournalRecordView& record) = 0;

  // Writes the whole state as blocks (out.add_block); the caller commits. "" or what failed.
  virtual std::string write_snapshot(SnapshotWriter& out) const = 0;

  // Rebuilds the state from a snapshot written by write_snapshot(), after reset(). Reads blocks with
  // in.next() until it returns false; the reader checks every CRC. "" or what is wrong (block index,
  // type, offset); recovery then resets and falls back to an older snapshot.
  virtual std::string restore_snapshot(SnapshotReader& in) = 0;

  // A hash of everything the state holds: equal digests <=> equal states (for tests and for the
  // "recovered state digest" log line that an operator can compare with the live one).
  virtual uint64_t digest() const = 0;
};

}  // namespace pmm::persistence
