// Torn-tail repair: cuts off what a power loss left after the durable watermark, keeping the damaged
// bytes aside for inspection (docs/journal-format.md, "Repair").
//
// Only a TornTail journal is changed: the damaged region [offset, offset + bytes) of the last segment is
// copied to `<segment>.corrupt` (`.corrupt.1`, `.corrupt.2`, ... if that exists), the copy is fsynced,
// the region is overwritten with zeros (the file keeps its size and its blocks), the segment and the
// directory are fsynced, and the journal is verified again (it must be Clean). A Failed journal is
// refused and nothing changes; Clean and Empty journals need nothing.
#pragma once

#include <cstdint>
#include <string>

#include "persistence/journal_reader.hpp"

namespace pmm::persistence {

struct JournalRepairResult {
  bool ok = false;               // false: refused (damage before the watermark) or an I/O error
  bool changed = false;          // the files were changed (never with dry_run)
  std::string error;             // why not ok
  JournalReport before;          // the verification that decided
  JournalReport after;           // re-verification after a real repair
  std::string segment;           // the repaired segment
  std::string corrupt_path;      // where the damaged bytes went (or would go, with dry_run)
  uint64_t offset = 0;           // the damaged region in `segment`
  uint64_t bytes = 0;
  uint64_t records_dropped = 0;  // records with a valid CRC inside the region (the torn ones are not countable)
  uint64_t last_sequence_kept = 0;
  std::string summary() const;   // one line for logs and pmmctl
};

JournalRepairResult repair_journal(const std::string& directory, bool dry_run);

}  // namespace pmm::persistence
