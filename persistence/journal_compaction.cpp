#include "persistence/journal_compaction.hpp"

#include <algorithm>
#include <utility>

#include "persistence/journal_format.hpp"

namespace pmm::persistence {

CompactionResult compact_journal(FileOps& ops, const std::string& journal_dir, uint64_t oldest_retained_snapshot,
                                 uint64_t compaction_threshold, const Logger& log) {
  CompactionResult r;
  std::vector<std::string> names;
  if (const int err = ops.list_dir(journal_dir, names); err != 0) {
    r.error = describe_errno("list", journal_dir, err);
    return r;
  }
  struct Segment {
    uint64_t first;
    std::string path;
    uint64_t bytes;
  };
  std::vector<Segment> segments;
  for (const std::string& n : names) {
    uint64_t first = 0;
    if (!journal::parse_segment_file_name(n, first)) continue;
    Segment s{first, journal_dir + "/" + n, 0};
    int fd = -1;
    int err = ops.open_read(s.path, fd);
    if (err == 0) {
      err = ops.file_size(fd, s.bytes);
      ops.close(fd);
    }
    if (err != 0) {
      r.error = describe_errno("size of", s.path, err);
      return r;
    }
    segments.push_back(std::move(s));
  }
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) { return a.first < b.first; });
  for (const Segment& s : segments) r.bytes_before += s.bytes;
  r.bytes_after = r.bytes_before;
  if (oldest_retained_snapshot == 0 || r.bytes_before <= compaction_threshold) return r;

  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    // Segment i holds [first_i, first_{i+1} - 1]; the snapshot needs everything after it.
    if (segments[i + 1].first > oldest_retained_snapshot + 1) break;
    if (const int err = ops.unlink(segments[i].path); err != 0) {
      r.error = describe_errno("unlink", segments[i].path, err);
      break;
    }
    // Durable before the next one goes: entries may otherwise persist out of order and leave a hole.
    if (const int err = ops.sync_dir(journal_dir); err != 0) {
      r.error = describe_errno("fsync directory", journal_dir, err);
      r.deleted.push_back(segments[i].path);
      r.bytes_after -= segments[i].bytes;
      break;
    }
    r.deleted.push_back(segments[i].path);
    r.bytes_after -= segments[i].bytes;
  }
  if (!r.deleted.empty()) {
    log_line(log, LogLevel::Info, "Journal compaction: deleted " + std::to_string(r.deleted.size()) +
                                      " segment(s) before snapshot " + std::to_string(oldest_retained_snapshot) +
                                      " (" + std::to_string(r.bytes_before) + " -> " +
                                      std::to_string(r.bytes_after) + " bytes, threshold " +
                                      std::to_string(compaction_threshold) + "), oldest kept now " +
                                      segments[r.deleted.size()].path);
  }
  if (!r.error.empty()) log_line(log, LogLevel::Warning, "Journal compaction stopped: " + r.error);
  return r;
}

}  // namespace pmm::persistence
