#include "persistence/recovery.hpp"

#include <cassert>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "core/byte_order.hpp"
#include "persistence/journal_repair.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/snapshot_directory.hpp"

namespace pmm::persistence {

const char* to_string(RecoveryStatus s) noexcept {
  switch (s) {
    case RecoveryStatus::Success: return "Success";
    case RecoveryStatus::CleanStart: return "CleanStart";
    case RecoveryStatus::Failed: return "Failed";
  }
  return "?";
}

namespace {

constexpr const char* kSubdirs[] = {"journal", "snapshots", "state"};

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

std::string range(uint64_t from, uint64_t to) {
  return from == to ? std::to_string(from) : std::to_string(from) + ".." + std::to_string(to);
}

// The markers' payloads (docs/snapshot-format.md, "Markers"): initialised = u64 set-up time;
// clean shutdown = u64 final journal sequence, u64 time; big-endian. Read here without DataDirectory,
// whose open() would settle (rewrite/remove) them: the plan must not change anything.
MarkerCheck check_marker(FileOps& ops, const std::string& path, size_t payload_bytes) {
  MarkerCheck m;
  const StateLoadResult r = AtomicStateFile(ops, path, 64).load();
  m.status = r.status;
  if (r.loaded() && r.payload.size() == payload_bytes) {
    m.value = load_be64(r.payload.data());
  } else if (r.loaded()) {
    m.problem = path + ": unexpected " + std::to_string(r.payload.size()) + "-byte payload";
  } else if (r.status != StateLoadStatus::Missing) {
    m.problem = r.what;
  }
  return m;
}

void fail_plan(RecoveryPlan& p, std::string reason) {
  p.status = RecoveryStatus::Failed;
  p.reason = std::move(reason);
  p.candidates.clear();
  p.replay_from_start = false;
}

std::string first_segment(const JournalReport& j) {
  return j.segments.empty() ? j.directory : j.segments.front().file;
}
std::string last_segment(const JournalReport& j) {
  return j.segments.empty() ? j.directory : j.segments.back().file;
}

// mkdir -p with mode 0700, each new level made durable in its parent (as DataDirectory::open does).
bool make_dirs(FileOps& ops, const std::string& path, std::string& error) {
  int err = ops.is_dir(path);
  if (err == 0) return true;
  if (err != ENOENT) {
    error = describe_errno("cannot use directory", path, err);
    return false;
  }
  const std::string parent = parent_dir(path);
  if (parent != path && !make_dirs(ops, parent, error)) return false;
  err = ops.make_dir(path);
  if (err == EEXIST && ops.is_dir(path) == 0) return true;
  if (err == 0) err = ops.sync_dir(parent);
  if (err != 0) {
    error = describe_errno("mkdir", path, err);
    return false;
  }
  return true;
}

// With no journal segment, starts the journal (an empty first segment at `first`, durable) BEFORE the
// markers are settled: the journal itself then says the directory is in use and which sequence comes
// next, so a crash right after this start is neither "initialised marker without data" nor "snapshot
// without journal" (the clean-shutdown marker that vouched for it is removed next).
std::string start_journal(FileOps& ops, const PersistenceConfig& config, const std::string& root, uint64_t first) {
  std::string error;
  if (!make_dirs(ops, root + "/journal", error)) return error;
  JournalWriterOptions o;
  o.directory = root + "/journal";
  o.segment_bytes = config.journal_segment_bytes;
  o.first_sequence = first;
  std::unique_ptr<JournalWriter> w = JournalWriter::open(o, error);
  if (!w) return error;
  if (!w->close()) return w->error();
  return "";
}

}  // namespace

RecoveryPlan plan_recovery(FileOps& ops, const std::string& data_directory) {
  RecoveryPlan p;
  p.root = data_directory;
  while (p.root.size() > 1 && p.root.back() == '/') p.root.pop_back();
  if (p.root.empty()) {
    fail_plan(p, "persistence.dataDirectory: empty path");
    return p;
  }
  const std::string journal_dir = p.root + "/journal";
  p.journal.directory = journal_dir;
  if (const int err = ops.is_dir(p.root); err == ENOENT) {
    p.status = RecoveryStatus::CleanStart;  // nothing was ever set up here
    return p;
  } else if (err != 0) {
    fail_plan(p, describe_errno("cannot use data directory", p.root, err));
    return p;
  }

  p.initialised = check_marker(ops, p.root + "/" + DataDirectory::kInitialisedMarker, 8);
  p.clean_shutdown = check_marker(ops, p.root + "/" + DataDirectory::kCleanShutdownMarker, 16);
  for (const char* sub : kSubdirs) {
    const std::string dir = p.root + "/" + sub;
    std::vector<std::string> names;
    const int err = ops.list_dir(dir, names);
    if (err == ENOENT) continue;
    if (err != 0) {
      fail_plan(p, describe_errno("list", dir, err));
      return p;
    }
    for (const std::string& n : names) {
      // A temp file is an interrupted write (a segment or snapshot being created), not data.
      if (n.size() < 4 || n.compare(n.size() - 4, 4, ".tmp") != 0) p.data_files.push_back(dir + "/" + n);
    }
  }
  p.has_data = !p.data_files.empty();

  p.journal = verify_journal(journal_dir);
  {
    SnapshotDirectory snapshots(ops, p.root + "/snapshots");
    std::vector<SnapshotFileEntry> files;
    std::string error;
    if (ops.is_dir(snapshots.dir()) == 0 && !snapshots.list(files, error)) {
      fail_plan(p, error);
      return p;
    }
    for (const SnapshotFileEntry& f : files) {
      SnapshotCheck c;
      c.sequence = f.sequence;
      c.path = f.path;
      SnapshotDamage damage;
      if (!verify_snapshot_file(ops, f.path, c.info, damage)) {
        c.damage = damage.to_string();
      } else if (c.info.sequence != f.sequence) {
        c.damage = SnapshotDamage{f.path, 16,
                                  "the header says sequence " + std::to_string(c.info.sequence) +
                                      " but the file name says " + std::to_string(f.sequence)}
                       .to_string();
      } else {
        c.valid = true;
      }
      p.snapshots.push_back(std::move(c));
    }
  }

  if (p.journal.status == JournalStatus::Failed) {
    p.journal_failed = true;
    fail_plan(p, p.journal.damage.detail);
    return p;
  }
  if (!p.has_data) {
    if (p.initialised.present()) {
      fail_plan(p, "data lost: " + p.root + "/" + DataDirectory::kInitialisedMarker +
                       " says this directory was set up before, but journal/, snapshots/ and state/ hold "
                       "no files (deleted, or a different volume mounted?); if it never held a trading "
                       "day, remove the marker to start clean");
    } else {
      p.status = RecoveryStatus::CleanStart;
    }
    return p;
  }
  // Files, but no journal segment and no snapshot (only state files, *.corrupt copies, strays): the
  // journal of an earlier run is gone; an empty state would silently drop it.
  if (p.journal.segments.empty() && p.snapshots.empty()) {
    std::string files;
    for (size_t i = 0; i < p.data_files.size() && i < 3; ++i) files += (i ? ", " : "") + p.data_files[i];
    if (p.data_files.size() > 3) files += ", ... (" + std::to_string(p.data_files.size()) + " files)";
    fail_plan(p, std::string(p.initialised.present() ? "data lost: " : "") + "no journal segment and no snapshot in " +
                     p.root + ", but other files are there (" + files +
                     "): an earlier run's journal is gone; restore it, or remove these files to start clean");
    return p;
  }
  if (!p.initialised.present()) {
    p.warnings.push_back(p.root + "/" + DataDirectory::kInitialisedMarker +
                         " is missing but data is present: not a first start (the marker is rewritten)");
  } else if (!p.initialised.problem.empty()) {
    p.warnings.push_back(p.initialised.problem + " (the marker is rewritten)");
  }
  if (!p.clean_shutdown.problem.empty()) {
    p.warnings.push_back(p.clean_shutdown.problem + " (treated as an unclean stop)");
  }
  for (const SnapshotCheck& s : p.snapshots) {
    if (!s.valid) p.warnings.push_back("damaged snapshot skipped (left in place): " + s.damage);
  }

  const bool journal_empty = p.journal.status == JournalStatus::Empty;
  const bool clean = p.clean_shutdown.status == StateLoadStatus::Loaded && p.clean_shutdown.problem.empty();
  p.repair_tail = p.journal.status == JournalStatus::TornTail;

  if (!journal_empty) {
    const uint64_t first = p.journal.first_sequence;
    const uint64_t last = p.journal.last_sequence;  // a torn tail keeps everything up to here
    if (clean && p.clean_shutdown.value > last) {
      fail_plan(p, p.root + "/" + DataDirectory::kCleanShutdownMarker +
                       " says the previous run stopped with the journal synced through sequence " +
                       std::to_string(p.clean_shutdown.value) + ", but the journal ends at " +
                       std::to_string(last) + " in " + last_segment(p.journal) + ": durable records " +
                       range(last + 1, p.clean_shutdown.value) + " are missing (journal truncated or lost)");
      return p;
    }
    // Snapshots are taken at durable sequences, so one beyond the journal's end means durable records
    // were lost from the journal; an older snapshot would silently lose them too.
    for (const SnapshotCheck& s : p.snapshots) {
      if (s.sequence <= last) continue;
      fail_plan(p, "snapshot " + s.path + (s.valid ? "" : " (damaged)") + " is at sequence " +
                       std::to_string(s.sequence) + " but the journal ends at " + std::to_string(last) +
                       " in " + last_segment(p.journal) + ": records " + range(last + 1, s.sequence) +
                       " were durable when the snapshot was taken and are missing from the journal "
                       "(journal truncated or lost)" +
                       (s.valid ? "" : "; if this snapshot file is known bad, move it out of snapshots/"));
      return p;
    }
    for (size_t i = p.snapshots.size(); i-- > 0;) {
      const SnapshotCheck& s = p.snapshots[i];
      if (s.valid && s.sequence + 1 >= first) p.candidates.push_back(i);
    }
    if (p.candidates.empty() && first != 1) {
      const SnapshotCheck* newest = nullptr;
      for (const SnapshotCheck& s : p.snapshots) newest = s.valid ? &s : newest;
      if (newest != nullptr) {
        fail_plan(p, "the journal starts at sequence " + std::to_string(first) + " (" + first_segment(p.journal) +
                         ") but the newest valid snapshot " + newest->path + " is at " +
                         std::to_string(newest->sequence) + ": records " + range(newest->sequence + 1, first - 1) +
                         " are missing (journal compacted too far or segments deleted)");
      } else {
        std::string why = p.snapshots.empty() ? "there is no snapshot" : "no snapshot is valid";
        for (const SnapshotCheck& s : p.snapshots) why += "; " + s.damage;
        fail_plan(p, "the journal starts at sequence " + std::to_string(first) + " (" + first_segment(p.journal) +
                         "), so records " + range(1, first - 1) + " exist only in snapshots, and " + why);
      }
      return p;
    }
    p.replay_from_start = first == 1;
    p.final_sequence = last;
  } else {
    // No journal segment. Only a snapshot nothing can have followed is usable: one at sequence 0, or the
    // one the clean-shutdown marker names (the journal held nothing after it when the run stopped).
    const SnapshotCheck* newest_any = p.snapshots.empty() ? nullptr : &p.snapshots.back();
    for (size_t i = p.snapshots.size(); i-- > 0;) {
      const SnapshotCheck& s = p.snapshots[i];
      if (s.valid && (s.sequence == 0 || (clean && s.sequence == p.clean_shutdown.value))) {
        p.candidates.push_back(i);
        break;
      }
    }
    if (newest_any != nullptr && newest_any->sequence > 0 &&
        (p.candidates.empty() || p.snapshots[p.candidates.front()].sequence != newest_any->sequence)) {
      fail_plan(p, "journal/ holds no segments but snapshot " + newest_any->path + " is at sequence " +
                       std::to_string(newest_any->sequence) +
                       ": the journal was deleted or lost, so whatever was journaled after the snapshot "
                       "cannot be known (docs/recovery.md: resuming from a snapshot on purpose)");
      return p;
    }
    p.replay_from_start = p.candidates.empty() || p.snapshots[p.candidates.front()].sequence == 0;
    p.final_sequence = p.candidates.empty() ? 0 : p.snapshots[p.candidates.front()].sequence;
  }
  p.status = RecoveryStatus::Success;
  return p;
}

std::string RecoveryResult::summary() const {
  std::string s = std::string("recoverState: ") + to_string(status);
  if (status == RecoveryStatus::Failed) return s + ": " + reason;
  if (status == RecoveryStatus::CleanStart) {
    return s + ": no prior data in " + plan.root + " (first start), state empty, journal starts at sequence " +
           std::to_string(next_sequence);
  }
  s += ": state at sequence " + std::to_string(recovered_sequence) + " from ";
  s += snapshot_used ? "snapshot " + std::to_string(snapshot_sequence) + " (" + snapshot_path + ")"
                     : std::string("no snapshot");
  s += " + " + std::to_string(records_replayed) + " journal entries, durable watermark " +
       std::to_string(durable_watermark) + ", digest " + hex64(state_digest);
  if (tail_repaired) {
    s += ", torn tail repaired (" + std::to_string(bytes_cut) + " bytes -> " + corrupt_path + ", " +
         std::to_string(records_dropped) + " records dropped)";
  }
  if (!snapshots_skipped.empty()) s += ", " + std::to_string(snapshots_skipped.size()) + " snapshot(s) skipped";
  return s;
}

RecoveryResult recover_state(const PersistenceConfig& config, FileOps& ops, RecoverableState& state,
                             const Logger& log) {
  RecoveryResult r;
  r.plan = plan_recovery(ops, config.data_directory);
  const RecoveryPlan& p = r.plan;
  const std::string journal_dir = p.root + "/journal";
  log_line(log, LogLevel::Info, "Initializing persistence in " + p.root);
  state.reset();

  // Everything after the plan may change files; a failure there says what already changed.
  auto fail = [&](std::string reason, bool journal_damage) {
    r.status = RecoveryStatus::Failed;
    r.reason = std::move(reason);
    r.directory.reset();
    state.reset();
    if (journal_damage) log_line(log, LogLevel::Error, "Journal replay failed: " + r.reason);
    log_line(log, LogLevel::Error, r.summary());
    return std::move(r);
  };

  if (p.journal.status != JournalStatus::Empty) log_line(log, LogLevel::Info, p.journal.summary());
  if (p.status == RecoveryStatus::Failed) {
    r.warnings = p.warnings;
    for (const std::string& w : p.warnings) log_line(log, LogLevel::Warning, w);
    return fail(p.reason + " (no file was changed)", p.journal_failed);
  }

  std::string error;
  const bool journal_started = p.journal.status == JournalStatus::Empty;
  if (journal_started) {
    if (std::string e = start_journal(ops, config, p.root, p.final_sequence + 1); !e.empty()) {
      return fail("cannot start the journal: " + e, false);
    }
    log_line(log, LogLevel::Info, "Journal started at sequence " + std::to_string(p.final_sequence + 1) + " in " +
                                      journal_dir);
  }
  r.directory = DataDirectory::open(ops, p.root, r.start, error);
  if (!r.directory) return fail("cannot open the data directory: " + error, false);
  if (p.status == RecoveryStatus::CleanStart) {
    // The only file present is the journal segment started above: this is the first start.
    r.start.first_start = true;
    r.start.initialised_marker_problem.clear();
  }
  r.warnings = p.warnings;
  for (const std::string& path : r.start.removed_temp_files) {
    log_line(log, LogLevel::Info, "removed " + path + " (left by an interrupted write)");
  }
  for (const std::string& w : r.start.warnings) r.warnings.push_back(w);
  for (const std::string& w : r.warnings) log_line(log, LogLevel::Warning, w);

  if (p.status == RecoveryStatus::CleanStart) {
    r.status = RecoveryStatus::CleanStart;
    r.next_sequence = 1;
    r.state_digest = state.digest();
    log_line(log, LogLevel::Info, r.summary());
    return r;
  }

  r.clean_shutdown = r.start.clean_shutdown;
  r.clean_shutdown_sequence = r.start.clean_shutdown_sequence;
  if (r.clean_shutdown) {
    log_line(log, LogLevel::Info, "Clean-shutdown marker found: the previous run stopped cleanly at sequence " +
                                      std::to_string(r.clean_shutdown_sequence));
  } else {
    log_line(log, LogLevel::Info, "No clean-shutdown marker: the previous run did not stop cleanly");
  }
  r.durable_watermark = p.journal.durable_watermark;

  if (p.repair_tail) {
    const JournalRepairResult rep = repair_journal(journal_dir, false);
    if (!rep.ok) return fail("torn-tail repair failed: " + rep.error, false);
    if (rep.changed) {
      r.tail_repaired = true;
      r.records_dropped = rep.records_dropped;
      r.bytes_cut = rep.bytes;
      r.corrupt_path = rep.corrupt_path;
      log_line(log, LogLevel::Warning,
               "Journal torn tail after the durable watermark " + std::to_string(r.durable_watermark) +
                   " repaired: " + rep.summary() + "; " + std::to_string(rep.records_dropped) +
                   " record(s) dropped");
    }
    if (rep.after.last_sequence != p.final_sequence && rep.changed) {
      return fail("after the torn-tail repair the journal ends at " + std::to_string(rep.after.last_sequence) +
                      ", not at " + std::to_string(p.final_sequence) + " as verified before",
                  false);
    }
  }

  // Snapshot: the newest usable one; an older one if the state rejects it.
  bool first_try = true;
  for (const size_t i : p.candidates) {
    const SnapshotCheck& s = p.snapshots[i];
    log_line(log, LogLevel::Info, std::string(first_try ? "Loading latest snapshot from " : "Loading older snapshot from ") +
                                      std::to_string(s.sequence) + " (" + s.path + ")");
    first_try = false;
    state.reset();
    SnapshotDamage damage;
    std::unique_ptr<SnapshotReader> reader = SnapshotReader::open(ops, s.path, damage);
    std::string why;
    if (!reader) {
      why = damage.to_string();
    } else {
      why = state.restore_snapshot(*reader);
      if (why.empty() && !reader->complete()) {
        uint64_t unread = 0;
        SnapshotBlockView block;
        while (reader->next(block)) ++unread;
        if (reader->failed()) {
          why = reader->damage().to_string();
        } else if (unread != 0) {
          why = "restore_snapshot left " + std::to_string(unread) + " block(s) unread";
        }
      }
      if (why.empty() && reader->failed()) why = reader->damage().to_string();
    }
    if (!why.empty()) {
      state.reset();
      r.snapshots_skipped.push_back(s.path + ": " + why);
      log_line(log, LogLevel::Warning, "Snapshot " + s.path + " rejected: " + why + "; trying an older one");
      continue;
    }
    r.snapshot_used = true;
    r.snapshot_sequence = s.sequence;
    r.snapshot_path = s.path;
    break;
  }
  if (!r.snapshot_used && !p.replay_from_start) {
    std::string why;
    for (const std::string& s : r.snapshots_skipped) why += "; " + s;
    return fail("no usable snapshot could be restored and the journal does not start at sequence 1" + why, false);
  }
  if (!r.snapshot_used) state.reset();

  const uint64_t after = r.snapshot_used ? r.snapshot_sequence : 0;
  assert(p.final_sequence >= after);
  const uint64_t expected = p.final_sequence - after;
  log_line(log, LogLevel::Info, "Replaying " + std::to_string(expected) + " journal entries" +
                                    (expected != 0 ? " (sequences " + range(after + 1, p.final_sequence) + ")" : ""));
  if (p.journal.status != JournalStatus::Empty) {
    uint64_t next = after + 1;
    std::string order_error;
    const JournalReplayResult rr =
        replay_journal(journal_dir, JournalReplayOptions{after, false}, [&](const JournalRecordView& v) {
          if (v.sequence != next) {
            order_error = "record " + std::to_string(v.sequence) + " in " + *v.file + " at offset " +
                          std::to_string(v.offset) + " where " + std::to_string(next) + " was expected";
            return false;
          }
          state.apply(v);
          ++next;
          return true;
        });
    r.records_replayed = next - after - 1;
    if (!rr.error.empty()) {
      static constexpr std::string_view kPrefix = "Journal replay failed: ";  // fail() logs it again
      const bool prefixed = rr.error.compare(0, kPrefix.size(), kPrefix) == 0;
      return fail(prefixed ? rr.error.substr(kPrefix.size()) : rr.error, true);
    }
    if (!order_error.empty()) return fail(order_error, true);
    if (rr.report.status != JournalStatus::Clean) {
      return fail(rr.report.summary() + " (changed since it was verified)", true);
    }
    if (r.records_replayed != expected) {
      return fail(journal_dir + ": replay delivered " + std::to_string(r.records_replayed) + " records, " +
                      std::to_string(expected) + " were verified (the journal changed during recovery)",
                  true);
    }
  }
  r.recovered_sequence = p.final_sequence;
  r.next_sequence = p.final_sequence + 1;
  r.state_digest = state.digest();
  r.status = RecoveryStatus::Success;
  log_line(log, LogLevel::Info, "Recovery completed successfully: state at sequence " +
                                    std::to_string(r.recovered_sequence) + ", digest " + hex64(r.state_digest));
  log_line(log, LogLevel::Info, r.summary());
  return r;
}

}  // namespace pmm::persistence
