// Journal compaction (persistence.compactionThreshold): once the journal's segments add up to more than
// the threshold, whole segments that lie entirely before the oldest retained snapshot are deleted, so
// recovery can still start from any snapshot that is kept (docs/recovery.md).
//
// A segment is deleted only if the NEXT segment starts at or before snapshot + 1 (so every record after
// the snapshot is in a later segment); the last segment is never deleted. Deletion goes oldest first
// with a directory fsync after each, so a crash part-way leaves a journal that still chains: what
// remains is always a suffix of the segments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "persistence/file_ops.hpp"
#include "persistence/logger.hpp"

namespace pmm::persistence {

struct CompactionResult {
  uint64_t bytes_before = 0;          // all segments' sizes
  uint64_t bytes_after = 0;
  std::vector<std::string> deleted;   // segment paths, oldest first
  std::string error;                  // "" or what failed (step, path, errno); later segments untouched
};

// `journal_dir` is <dataDirectory>/journal; `oldest_retained_snapshot` the oldest snapshot file's
// sequence (SnapshotTakeResult::oldest_retained_sequence), 0 for none (then nothing is deleted).
// Logs "Journal compaction: deleted N segment(s) ..." when it deletes anything.
CompactionResult compact_journal(FileOps& ops, const std::string& journal_dir, uint64_t oldest_retained_snapshot,
                                 uint64_t compaction_threshold, const Logger& log);

}  // namespace pmm::persistence
