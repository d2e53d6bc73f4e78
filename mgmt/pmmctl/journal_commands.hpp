// `pmmctl journal ...`: the operator's view of the write-ahead journal and snapshots in a data
// directory (persistence.dataDirectory), docs/recovery.md. Each command writes its report to `out`,
// errors to `err`, and returns the process exit code:
//
//   verify   0 recovery would succeed as is, 1 a torn tail (recovery or `repair` cuts it), 2 recovery
//            would fail (the reason names file, offset, what)
//   dump     0 all records read, 1 the journal ends in a torn tail (records before it were printed),
//            2 damage before the watermark (records before it were printed) or the directory unusable
//   repair   0 repaired or nothing to repair; with --dry-run 1 when a cut would be made;
//            2 refused (damage before the watermark: nothing changed) or an I/O error
//   resume-from-snapshot   0 done, 2 refused (the journal is not empty, or no valid snapshot)
//
// None of them may run while the appliance runs on the same directory (repair and resume change files).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "mgmt/pmmctl/record_type_names.hpp"

namespace pmm::mgmt {

int journal_verify(const std::string& data_dir, std::ostream& out, std::ostream& err);

struct JournalDumpOptions {
  std::optional<uint16_t> type;   // only this type
  uint64_t from = 0;              // first sequence (0: from the start)
  uint64_t to = UINT64_MAX;       // last sequence
  uint64_t limit = 0;             // at most this many lines (0: no limit)
  bool include_internal = false;  // also padding, sync markers, segment ends
};

int journal_dump(const std::string& data_dir, const JournalDumpOptions& options, const RecordTypeNames& names,
                 std::ostream& out, std::ostream& err);

int journal_repair(const std::string& data_dir, bool dry_run, std::ostream& out, std::ostream& err);

// The deliberate form of the older runbook's "delete the journal and restart from the snapshot": with
// no journal segment left, starts an empty journal right after the newest valid snapshot, so recovery
// accepts that snapshot (whatever was journaled after it is knowingly given up).
int journal_resume_from_snapshot(const std::string& data_dir, std::ostream& out, std::ostream& err);

}  // namespace pmm::mgmt
