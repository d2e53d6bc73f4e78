// DataDirectory: layout and permissions, the initialised marker (first start vs. data lost vs. a
// missing/damaged marker with data present), the clean-shutdown marker's life cycle, temp files
// removed at start (but not the journal's), and errors that name the path.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "persistence/data_directory.hpp"
#include "tests/persistence/memory_file_ops.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace {

namespace ps = pmm::persistence;
using ps::testing::MemoryFileOps;
using ps::testing::TempDir;

void touch(const std::string& path, const std::string& text = "x") { std::ofstream(path) << text; }
bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}
unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

std::unique_ptr<ps::DataDirectory> open(ps::FileOps& fs, const std::string& root, ps::DataDirectoryStart& start) {
  std::string error;
  auto d = ps::DataDirectory::open(fs, root, start, error);
  EXPECT_TRUE(d) << error;
  return d;
}

TEST(DataDirectory, FirstStartCreatesTheLayoutWith0700) {
  TempDir tmp;
  ps::PosixFileOps fs;
  const std::string root = tmp.path() + "/data/pinnaclemm";  // parents are created too
  ps::DataDirectoryStart start;
  auto d = open(fs, root + "/", start);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->root(), root);
  EXPECT_TRUE(start.first_start);
  EXPECT_FALSE(start.clean_shutdown);
  EXPECT_TRUE(start.initialised_marker_problem.empty());
  EXPECT_GT(start.initialised_unix_ns, 0u);
  for (const std::string& p : {root, root + "/journal", root + "/snapshots", root + "/state"}) {
    EXPECT_EQ(mode_of(p), 0700u) << p;
  }
  EXPECT_EQ(d->journal_dir(), root + "/journal");
  EXPECT_EQ(d->snapshots().dir(), root + "/snapshots");
  EXPECT_EQ(d->risk_state().path(), root + "/state/risk.state");
  EXPECT_EQ(d->strategy_state().path(), root + "/state/strategy.state");
  EXPECT_EQ(mode_of(root + "/initialised.marker"), 0600u);

  // Second start: not a first start, same initialisation time, nothing clean about it.
  const uint64_t t = start.initialised_unix_ns;
  d = open(fs, root, start);
  ASSERT_TRUE(d);
  EXPECT_FALSE(start.first_start);
  EXPECT_EQ(start.initialised_unix_ns, t);
  EXPECT_FALSE(start.clean_shutdown);
}

// Marker present, journal and snapshots gone: not a first start, which is what lets recovery tell
// lost data from a fresh install.
TEST(DataDirectory, MarkerWithoutDataIsNotAFirstStart) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::DataDirectoryStart start;
  ASSERT_TRUE(open(fs, tmp.path(), start));
  touch(tmp.path() + "/journal/00000000000000000001.journal");
  ASSERT_TRUE(open(fs, tmp.path(), start));
  std::filesystem::remove(tmp.path() + "/journal/00000000000000000001.journal");
  ASSERT_TRUE(open(fs, tmp.path(), start));
  EXPECT_FALSE(start.first_start);
  std::vector<ps::SnapshotFileEntry> snaps;
  std::string error;
  auto d = open(fs, tmp.path(), start);
  ASSERT_TRUE(d->list_snapshots(snaps, error)) << error;
  EXPECT_TRUE(snaps.empty());
}

TEST(DataDirectory, MissingOrDamagedMarkerWithDataIsRewrittenAndReported) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::DataDirectoryStart start;
  ASSERT_TRUE(open(fs, tmp.path(), start));
  touch(tmp.path() + "/snapshots/00000000000000000005.snapshot");

  std::filesystem::remove(tmp.path() + "/initialised.marker");
  ASSERT_TRUE(open(fs, tmp.path(), start));
  EXPECT_FALSE(start.first_start);
  EXPECT_NE(start.initialised_marker_problem.find("missing"), std::string::npos) << start.initialised_marker_problem;
  EXPECT_TRUE(exists(tmp.path() + "/initialised.marker"));

  touch(tmp.path() + "/initialised.marker", "garbage");
  ASSERT_TRUE(open(fs, tmp.path(), start));
  EXPECT_FALSE(start.first_start);
  EXPECT_NE(start.initialised_marker_problem.find("initialised.marker"), std::string::npos);
  ASSERT_TRUE(open(fs, tmp.path(), start));
  EXPECT_TRUE(start.initialised_marker_problem.empty());  // rewritten: fine from now on
}

TEST(DataDirectory, CleanShutdownMarkerIsReadOnceThenRemoved) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::DataDirectoryStart start;
  auto d = open(fs, tmp.path(), start);
  ASSERT_TRUE(d);
  std::string error;
  ASSERT_TRUE(d->mark_clean_shutdown(123456789012ull, error)) << error;
  EXPECT_TRUE(exists(tmp.path() + "/clean-shutdown.marker"));

  d = open(fs, tmp.path(), start);
  ASSERT_TRUE(d);
  EXPECT_TRUE(start.clean_shutdown);
  EXPECT_EQ(start.clean_shutdown_sequence, 123456789012ull);
  EXPECT_FALSE(exists(tmp.path() + "/clean-shutdown.marker"));

  // This run "crashes": the next start must not think it was clean.
  d = open(fs, tmp.path(), start);
  EXPECT_FALSE(start.clean_shutdown);

  // A damaged marker counts as unclean, is reported and removed.
  touch(tmp.path() + "/clean-shutdown.marker", "half-written");
  d = open(fs, tmp.path(), start);
  ASSERT_TRUE(d);
  EXPECT_FALSE(start.clean_shutdown);
  EXPECT_NE(start.clean_shutdown_marker_problem.find("clean-shutdown.marker"), std::string::npos);
  EXPECT_FALSE(exists(tmp.path() + "/clean-shutdown.marker"));
}

TEST(DataDirectory, TempFilesAreRemovedAtStartButNotTheJournals) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::DataDirectoryStart start;
  ASSERT_TRUE(open(fs, tmp.path(), start));
  const std::vector<std::string> ours = {tmp.path() + "/clean-shutdown.marker.tmp",
                                         tmp.path() + "/snapshots/00000000000000000007.snapshot.tmp",
                                         tmp.path() + "/state/risk.state.tmp"};
  for (const auto& p : ours) touch(p);
  touch(tmp.path() + "/journal/x.tmp");
  ASSERT_TRUE(open(fs, tmp.path(), start));
  std::vector<std::string> removed = start.removed_temp_files;
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expect = ours;
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(removed, expect);
  for (const auto& p : ours) EXPECT_FALSE(exists(p)) << p;
  EXPECT_TRUE(exists(tmp.path() + "/journal/x.tmp"));
}

TEST(DataDirectory, ErrorsNameThePath) {
  TempDir tmp;
  ps::PosixFileOps fs;
  touch(tmp.path() + "/file");
  ps::DataDirectoryStart start;
  std::string error;
  EXPECT_FALSE(ps::DataDirectory::open(fs, tmp.path() + "/file", start, error));
  EXPECT_NE(error.find(tmp.path() + "/file"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(ps::DataDirectory::open(fs, "", start, error));
  EXPECT_NE(error.find("persistence.dataDirectory"), std::string::npos) << error;
  ASSERT_EQ(::mkdir((tmp.path() + "/d").c_str(), 0700), 0);
  touch(tmp.path() + "/d/snapshots");  // a file where a directory belongs
  error.clear();
  EXPECT_FALSE(ps::DataDirectory::open(fs, tmp.path() + "/d", start, error));
  EXPECT_NE(error.find(tmp.path() + "/d/snapshots"), std::string::npos) << error;
}

// The clean-shutdown marker must be gone before the run does anything: if it cannot be removed,
// open() fails rather than risk a later crash looking clean.
TEST(DataDirectory, UnremovableCleanShutdownMarkerFailsTheStart) {
  MemoryFileOps fs;
  ps::DataDirectoryStart start;
  std::string error;
  auto d = ps::DataDirectory::open(fs, "/data", start, error);
  ASSERT_TRUE(d) << error;
  ASSERT_TRUE(d->mark_clean_shutdown(5, error)) << error;
  d.reset();
  // Find the unlink of the marker on a dry run, then fail exactly that call.
  MemoryFileOps probe;
  ASSERT_TRUE(ps::DataDirectory::open(probe, "/data", start, error));
  ASSERT_TRUE(ps::DataDirectory::open(probe, "/data", start, error)->mark_clean_shutdown(5, error));
  const uint64_t before = probe.calls();
  const size_t log_at = probe.log.size();
  ASSERT_TRUE(ps::DataDirectory::open(probe, "/data", start, error));
  uint64_t unlink_at = 0;
  for (size_t i = log_at; i < probe.log.size(); ++i) {
    if (probe.log[i] == "unlink /data/clean-shutdown.marker") unlink_at = i - log_at;
  }
  ASSERT_GT(unlink_at, 0u);
  ASSERT_EQ(probe.calls() - before, probe.log.size() - log_at);
  fs.fail_call(fs.calls() + unlink_at, EIO);
  error.clear();
  EXPECT_FALSE(ps::DataDirectory::open(fs, "/data", start, error));
  EXPECT_NE(error.find("/data/clean-shutdown.marker"), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(EIO)), std::string::npos) << error;
}

}  // namespace
