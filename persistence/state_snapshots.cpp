#include "persistence/state_snapshots.hpp"

#include <cassert>
#include <chrono>
#include <memory>

namespace pmm::persistence {
namespace {

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Commits a writer the state was written into; "" or what failed.
std::string finish(std::unique_ptr<SnapshotWriter> w, const std::string& create_error, const RecoverableState& state,
                   uint32_t& blocks) {
  if (!w) return create_error;
  if (std::string e = state.write_snapshot(*w); !e.empty()) {
    return "writing the state into " + w->temp_path() + " failed: " + e +
           (w->error().empty() ? "" : " (" + w->error() + ")");
  }
  if (!w->commit()) return w->error();
  blocks = w->block_count();
  return "";
}

}  // namespace

namespace {

// Writes `n` bytes to `path`: temp file, fsync, rename, fsync of the directory. "" or what failed (the
// temp file removed).
std::string write_file_durably(FileOps& ops, const std::string& path, const uint8_t* data, size_t n) {
  const std::string tmp = path + ".tmp";
  int fd = -1;
  if (const int err = ops.open_write(tmp, fd); err != 0) return describe_errno("create", tmp, err);
  int err = ops.write_all(fd, data, n);
  const char* step = "write";
  if (err == 0) {
    step = "fsync";
    err = ops.sync(fd);
  }
  const int close_err = ops.close(fd);
  if (err == 0 && close_err != 0) {
    step = "close";
    err = close_err;
  }
  if (err == 0) {
    step = "rename";
    err = ops.rename(tmp, path);
  }
  if (err != 0) {
    ops.unlink(tmp);
    return describe_errno(step, tmp, err) + " (snapshot " + path + " not written)";
  }
  const std::string dir = parent_dir(path);
  if (const int e = ops.sync_dir(dir); e != 0)
    return describe_errno("fsync directory", dir, e) + " (snapshot " + path + " is complete but may not survive a power loss)";
  return "";
}

// Logs the outcome; on success prunes. Then the oldest snapshot left.
void settle(SnapshotTakeResult& r, uint64_t sequence, uint32_t blocks, SnapshotDirectory& snapshots, size_t keep,
            const Logger& log) {
  if (!r.error.empty()) {
    log_line(log, LogLevel::Error, "Snapshot at sequence " + std::to_string(sequence) + " failed: " + r.error);
    r.path.clear();
  } else {
    r.ok = true;
    log_line(log, LogLevel::Info, "Snapshot taken at sequence " + std::to_string(sequence) + " (" + r.path + ", " +
                                      std::to_string(blocks) + " blocks)");
    SnapshotPruneResult pr = snapshots.prune(keep);
    r.pruned = std::move(pr.deleted);
    r.prune_errors = std::move(pr.errors);
    for (const std::string& p : r.pruned) log_line(log, LogLevel::Info, "Snapshot pruned: " + p);
    for (const std::string& e : r.prune_errors) log_line(log, LogLevel::Warning, "Snapshot prune: " + e);
  }
  std::vector<SnapshotFileEntry> files;
  std::string error;
  if (snapshots.list(files, error) && !files.empty()) r.oldest_retained_sequence = files.front().sequence;
}

}  // namespace

SnapshotTakeResult write_snapshot_image(FileOps& ops, const SnapshotImage& image, SnapshotDirectory& snapshots,
                                        size_t keep, const Logger& log) {
  assert(keep >= 1 && image.size() != 0);
  SnapshotTakeResult r;
  r.path = snapshots.path_of(image.sequence());
  r.error = write_file_durably(ops, r.path, image.data(), image.size());
  settle(r, image.sequence(), image.block_count(), snapshots, keep, log);
  return r;
}

SnapshotTakeResult take_snapshot(const RecoverableState& state, uint64_t sequence, SnapshotDirectory& snapshots,
                                 size_t keep, const Logger& log) {
  assert(keep >= 1);
  SnapshotTakeResult r;
  r.path = snapshots.path_of(sequence);
  uint32_t blocks = 0;
  std::string create_error;
  r.error = finish(snapshots.begin(sequence, unix_now_ns(), create_error), create_error, state, blocks);
  settle(r, sequence, blocks, snapshots, keep, log);
  return r;
}

bool clean_shutdown(const RecoverableState& state, uint64_t final_sequence, DataDirectory& directory,
                    size_t keep, const Logger& log, std::string& error) {
  const SnapshotTakeResult snap = take_snapshot(state, final_sequence, directory.snapshots(), keep, log);
  if (!snap.ok) {
    error = "clean shutdown: final snapshot failed: " + snap.error + " (no clean-shutdown marker written)";
    log_line(log, LogLevel::Error, error);
    return false;
  }
  if (!directory.mark_clean_shutdown(final_sequence, error)) {
    error = "clean shutdown: " + error;
    log_line(log, LogLevel::Error, error);
    return false;
  }
  log_line(log, LogLevel::Info, "Clean shutdown: final snapshot at sequence " + std::to_string(final_sequence) +
                                    ", clean-shutdown marker written");
  return true;
}

std::string emergency_save(FileOps& ops, const RecoverableState& state, uint64_t state_sequence,
                           uint64_t durable_sequence, SnapshotDirectory& snapshots, const std::string& why, const Logger& log) {
  const bool usable = state_sequence <= durable_sequence;
  std::string path = snapshots.path_of(state_sequence);
  if (!usable) path += kEmergencySnapshotSuffix;
  log_line(log, LogLevel::Error, "EMERGENCY SAVE: " + why + ": writing the state at sequence " +
                                     std::to_string(state_sequence) + " (journal durable through " +
                                     std::to_string(durable_sequence) + ") to " + path);
  uint32_t blocks = 0;
  std::string create_error;
  const std::string error =
      finish(SnapshotWriter::create(ops, path, state_sequence, unix_now_ns(), create_error), create_error, state,
             blocks);
  if (!error.empty()) {
    log_line(log, LogLevel::Error, "EMERGENCY SAVE failed: " + error);
    return "";
  }
  log_line(log, LogLevel::Error,
           "EMERGENCY SAVE written: " + path +
               (usable ? " (an ordinary snapshot: recovery may use it)"
                       : " (beyond the durable journal: recovery ignores it; kept for inspection)"));
  return path;
}

}  // namespace pmm::persistence
