#include "persistence/data_directory.hpp"

#include <cassert>
#include <cerrno>
#include <chrono>

#include "core/byte_order.hpp"

namespace pmm::persistence {
namespace {

constexpr uint32_t kMarkerVersion = 1;
constexpr const char* kSubdirs[] = {"journal", "snapshots", "state"};

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// mkdir -p, each created level 0700 and made durable in its parent.
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
  if (err == EEXIST && ops.is_dir(path) == 0) return true;  // created by someone else meanwhile
  if (err != 0) {
    error = describe_errno("mkdir", path, err);
    return false;
  }
  if ((err = ops.sync_dir(parent)) != 0) {
    error = describe_errno("fsync directory", parent, err);
    return false;
  }
  return true;
}

}  // namespace

DataDirectory::DataDirectory(FileOps& ops, std::string root)
    : ops_(ops),
      root_(std::move(root)),
      snapshots_(ops, root_ + "/snapshots"),
      risk_state_(ops, root_ + "/state/risk.state"),
      strategy_state_(ops, root_ + "/state/strategy.state"),
      initialised_(ops, root_ + "/" + kInitialisedMarker, 64),
      clean_shutdown_(ops, root_ + "/" + kCleanShutdownMarker, 64) {}

std::unique_ptr<DataDirectory> DataDirectory::open(FileOps& ops, std::string root, DataDirectoryStart& start,
                                                   std::string& error) {
  start = DataDirectoryStart{};
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) {
    error = "persistence.dataDirectory: empty path";
    return nullptr;
  }
  if (!make_dirs(ops, root, error)) return nullptr;
  bool created = false;
  for (const char* sub : kSubdirs) {
    const std::string p = root + "/" + sub;
    int err = ops.is_dir(p);
    if (err == ENOENT) {
      err = ops.make_dir(p);
      created = true;
    }
    if (err != 0 && !(err == EEXIST && ops.is_dir(p) == 0)) {
      error = describe_errno(err == ENOTDIR ? "not a directory:" : "cannot create", p, err);
      return nullptr;
    }
  }
  if (created) {
    if (const int err = ops.sync_dir(root); err != 0) {
      error = describe_errno("fsync directory", root, err);
      return nullptr;
    }
  }

  std::unique_ptr<DataDirectory> d(new DataDirectory(ops, root));
  // The journal's own directory is left to the journal; everything written through a temp file here
  // is ours.
  for (const std::string& dir : {root, d->snapshot_dir(), d->state_dir()}) {
    for (std::string& p : remove_temp_files(ops, dir, start.warnings)) {
      start.removed_temp_files.push_back(std::move(p));
    }
  }
  if (!d->settle_markers(start, error)) return nullptr;
  return d;
}

bool DataDirectory::settle_markers(DataDirectoryStart& start, std::string& error) {
  // Initialised marker.
  const StateLoadResult init = initialised_.load();
  bool write_marker = false;
  if (init.loaded() && init.payload.size() == 8) {
    start.initialised_unix_ns = load_be64(init.payload.data());
  } else {
    bool has_data = false;
    for (const char* sub : kSubdirs) {
      std::vector<std::string> names;
      const std::string p = root_ + "/" + sub;
      if (const int err = ops_.list_dir(p, names); err != 0) {
        error = describe_errno("list", p, err);
        return false;
      }
      has_data = has_data || !names.empty();
    }
    if (init.status == StateLoadStatus::Missing && !has_data) {
      start.first_start = true;
    } else if (init.status == StateLoadStatus::Missing) {
      start.initialised_marker_problem = initialised_.path() +
                                         " is missing but journal/, snapshots/ or state/ hold files: not a "
                                         "first start; marker rewritten";
    } else if (init.loaded()) {
      start.initialised_marker_problem = initialised_.path() + ": unexpected " +
                                         std::to_string(init.payload.size()) +
                                         "-byte payload; marker rewritten";
    } else {
      start.initialised_marker_problem = init.what + "; marker rewritten";
    }
    write_marker = true;
  }
  if (write_marker) {
    start.initialised_unix_ns = unix_now_ns();
    uint8_t payload[8];
    store_be64(payload, start.initialised_unix_ns);
    if (!initialised_.save(kMarkerVersion, payload, sizeof payload, error)) return false;
  }

  // Clean-shutdown marker: read, then removed durably before anything else happens in this run.
  const StateLoadResult clean = clean_shutdown_.load();
  if (clean.status == StateLoadStatus::Missing) return true;
  if (clean.loaded() && clean.payload.size() == 16) {
    start.clean_shutdown = true;
    start.clean_shutdown_sequence = load_be64(clean.payload.data());
  } else {
    start.clean_shutdown_marker_problem =
        clean.loaded() ? clean_shutdown_.path() + ": unexpected " + std::to_string(clean.payload.size()) +
                             "-byte payload (treated as an unclean stop)"
                       : clean.what + " (treated as an unclean stop)";
  }
  std::string remove_error;
  if (!clean_shutdown_.remove(remove_error)) {
    error = remove_error + ": the clean-shutdown marker must be gone before this run writes anything";
    return false;
  }
  return true;
}

bool DataDirectory::mark_clean_shutdown(uint64_t final_sequence, std::string& error) {
  uint8_t payload[16];
  store_be64(payload, final_sequence);
  store_be64(payload + 8, unix_now_ns());
  return clean_shutdown_.save(kMarkerVersion, payload, sizeof payload, error);
}

}  // namespace pmm::persistence
