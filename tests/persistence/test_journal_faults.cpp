// Proof 4 (docs/journal.md, "Proof"; Linux): failing system calls in unmodified processes, injected by
// the LD_PRELOAD shim fault_shim.cpp (EIO on msync/fdatasync/fsync/rename, ENOSPC on fallocate/write).
//
// Journal (journal_crash_writer at full speed, 64 KiB segments so rollovers are frequent): the writer
// fail-stops with a message naming the call and the errno (exit 3; exit 2 when open() itself fails);
// the durable watermark it reports never exceeds the one at the failure and never moves after it,
// although the shim lets later calls succeed (nothing is retried); recovery afterwards is Success
// with every record up to the last reported watermark present and intact; and a writer started again
// on the repaired disk continues exactly after the last record.
//
// State files (state_file_writer, AtomicStateFile saving versions 1, 2, ...): a failure before the
// rename (write, file fsync, rename) leaves exactly the old version and no temp file; a failed
// directory fsync (after the rename) leaves exactly the new one; a kill -9 at any moment leaves the
// last version reported saved or the one being saved, never anything else.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "persistence/atomic_state_file.hpp"
#include "persistence/file_ops.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "tests/persistence/proof_util.hpp"

namespace {

namespace ps = pmm::persistence;
namespace pf = pmm::persistence::proof;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kMaxPayload = 60;
constexpr uint64_t kSeed = 31337;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shim() { return pf::sibling_executable("libfault_shim.so", "PMM_FAULT_SHIM"); }

std::vector<std::string> fault_env(const std::string& call, uint64_t nth, const std::string& err, uint64_t count) {
  return {"LD_PRELOAD=" + shim(), "PMM_FAULT_CALL=" + call, "PMM_FAULT_NTH=" + std::to_string(nth),
          "PMM_FAULT_ERRNO=" + err, "PMM_FAULT_COUNT=" + std::to_string(count),
          "ASAN_OPTIONS=verify_asan_link_order=0"};  // a sanitizer build: the shim comes before libasan
}

struct WriterRun {
  int exit_code = -1;
  uint64_t opened = 0, max_durable = 0, failed_durable = 0, final_durable = 0;
  bool open_failed = false, failed = false, has_final = false, done = false;
  std::string error;
  std::string stderr_text;
};

WriterRun run_writer(const std::string& dir, const std::vector<std::string>& env, uint64_t records) {
  WriterRun w;
  const std::string err_log = dir + ".stderr";
  pf::Child child({pf::sibling_executable("journal_crash_writer", "PMM_CRASH_WRITER"), "--dir", dir, "--seed",
                   std::to_string(kSeed), "--segment-bytes", std::to_string(64 * 1024), "--sync-ms", "2",
                   "--records", std::to_string(records)},
                  env, err_log);
  EXPECT_TRUE(child.started());
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string line, word, rest;
  while (child.next_line(line, deadline)) {
    pf::split_line(line, word, rest);
    if (word == "open") {
      w.opened = std::stoull(rest);
      w.max_durable = w.opened;
    } else if (word == "durable") {
      const uint64_t d = std::stoull(rest);
      EXPECT_FALSE(w.failed) << "the watermark rose after the failure: " << line;
      w.max_durable = std::max(w.max_durable, d);
    } else if (word == "failed") {
      w.failed = true;
      const size_t sp = rest.find(' ');
      w.failed_durable = std::stoull(rest.substr(0, sp));
      w.error = rest.substr(sp + 1);
    } else if (word == "final") {
      w.has_final = true;
      w.final_durable = std::stoull(rest);
    } else if (word == "open-failed") {
      w.open_failed = true;
      w.error = rest;
    } else if (word == "done") {
      w.done = true;
    }
  }
  EXPECT_TRUE(child.eof()) << "the writer did not stop by itself";
  const int status = child.wait();
  w.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  w.stderr_text = slurp(err_log);
  return w;
}

struct JournalFault {
  const char* call;
  uint64_t nth;
  const char* err;
  uint64_t count;        // 0: every call from nth on
  bool open_fails;       // the fault hits the first segment's creation in open()
  const char* message;   // what the error must say
};

void PrintTo(const JournalFault& f, std::ostream* os) {
  *os << f.call << " #" << f.nth << " " << f.err << (f.count == 0 ? " (and every later call)" : "");
}

class JournalFaults : public ::testing::TestWithParam<JournalFault> {};

TEST_P(JournalFaults, WriterFailStopsAndRecoveryKeepsEveryReportedRecord) {
  const JournalFault& f = GetParam();
  ASSERT_TRUE(fs::exists(shim())) << shim();
  journal_test::TempDir tmp;
  const std::string dir = tmp.journal();
  const WriterRun w = run_writer(dir, fault_env(f.call, f.nth, f.err, f.count), 0);
  EXPECT_NE(w.stderr_text.find(std::string("fault_shim: ") + (std::string(f.call) == "fallocate" ? "fallocate" : f.call)),
            std::string::npos)
      << "the fault was not injected: " << w.stderr_text;
  const std::string errno_text = std::string(f.err) == "EIO" ? "(errno 5)" : "(errno 28)";
  if (f.open_fails) {
    EXPECT_EQ(w.exit_code, 2);
    EXPECT_TRUE(w.open_failed);
  } else {
    EXPECT_EQ(w.exit_code, 3) << w.stderr_text;
    ASSERT_TRUE(w.failed);
    ASSERT_TRUE(w.has_final);
    EXPECT_EQ(w.final_durable, w.failed_durable) << "the watermark moved after the failure";
    EXPECT_LE(w.max_durable, w.failed_durable);
  }
  EXPECT_NE(w.error.find(f.message), std::string::npos) << w.error;
  EXPECT_NE(w.error.find(errno_text), std::string::npos) << w.error;

  // Recovery on the same disk, now healthy.
  const pf::RecoveryOutcome rec = pf::recover_journal(dir);
  if (f.open_fails) {
    EXPECT_EQ(rec.status, pf::Outcome::CleanStart) << rec.reason;  // only a .tmp segment was left
  } else {
    ASSERT_EQ(rec.status, pf::Outcome::Success) << rec.reason;
    const pf::RecordCheck c = pf::check_proof_records(dir, kSeed, kMaxPayload, 0);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.wrong, 0u) << c.first_problem;
    EXPECT_GE(c.last, w.max_durable) << "a record reported durable is missing";
    EXPECT_EQ(c.records, c.last);
  }

  // The process restarted without the fault continues after the last record.
  const uint64_t before = rec.report.last_sequence;
  const WriterRun again = run_writer(dir, {}, 3000);
  EXPECT_EQ(again.exit_code, 0) << again.error << again.stderr_text;
  EXPECT_TRUE(again.done);
  EXPECT_EQ(again.opened, f.open_fails ? 0 : before);
  ASSERT_EQ(pf::recover_journal(dir).status, pf::Outcome::Success);
  const pf::RecordCheck c = pf::check_proof_records(dir, kSeed, kMaxPayload, 0);
  EXPECT_EQ(c.wrong, 0u) << c.first_problem;
  EXPECT_EQ(c.last, again.opened + 3000);
  EXPECT_EQ(c.records, c.last);
}

// On an empty journal, open() creates the first segment: msync #1 (header), fdatasync #1, rename #1,
// fsync #1 (directory), fallocate #1. Every later rollover repeats them; syncs are msyncs.
INSTANTIATE_TEST_SUITE_P(
    Shim, JournalFaults,
    ::testing::Values(JournalFault{"msync", 1, "EIO", 1, true, "journal msync failed"},
                      JournalFault{"fallocate", 1, "ENOSPC", 1, true, "journal preallocate failed"},
                      JournalFault{"msync", 4, "EIO", 1, false, "journal msync failed"},
                      JournalFault{"msync", 40, "EIO", 1, false, "journal msync failed"},
                      JournalFault{"msync", 15, "EIO", 0, false, "journal msync failed"},
                      JournalFault{"fdatasync", 2, "EIO", 1, false, "journal fdatasync failed"},
                      JournalFault{"fdatasync", 5, "EIO", 1, false, "journal fdatasync failed"},
                      JournalFault{"fallocate", 2, "ENOSPC", 1, false, "journal preallocate failed"},
                      JournalFault{"fallocate", 4, "ENOSPC", 0, false, "journal preallocate failed"},
                      JournalFault{"fsync", 2, "EIO", 1, false, "journal fsync of the directory failed"},
                      JournalFault{"rename", 3, "EIO", 1, false, "journal rename failed"}));

// ---- state files ----

struct StateRun {
  int exit_code = -1;
  uint64_t last_saved = 0, failed_version = 0;
  std::string error;
};

StateRun run_state_writer(const std::string& path, uint64_t from, uint64_t count, const std::vector<std::string>& env) {
  StateRun r;
  pf::Child child({pf::sibling_executable("state_file_writer", "PMM_STATE_WRITER"), "--path", path, "--from",
                   std::to_string(from), "--count", std::to_string(count)},
                  env, path + ".stderr");
  EXPECT_TRUE(child.started());
  std::string line, word, rest;
  while (child.next_line(line, Clock::now() + std::chrono::seconds(30))) {
    pf::split_line(line, word, rest);
    if (word == "saved") r.last_saved = std::stoull(rest);
    if (word == "failed") {
      const size_t sp = rest.find(' ');
      r.failed_version = std::stoull(rest.substr(0, sp));
      r.error = rest.substr(sp + 1);
    }
  }
  const int status = child.wait();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Loads `path` and returns its version (0: missing); the payload must be exactly that version's.
uint64_t loaded_version(const std::string& path) {
  ps::PosixFileOps ops;
  const ps::StateLoadResult r = ps::AtomicStateFile(ops, path).load();
  if (r.status == ps::StateLoadStatus::Missing) return 0;
  EXPECT_EQ(r.status, ps::StateLoadStatus::Loaded) << r.what;
  if (!r.loaded() || r.payload.size() < 8) return UINT64_MAX;
  uint64_t v = 0;
  std::memcpy(&v, r.payload.data(), 8);
  EXPECT_EQ(r.payload, pf::state_payload(v)) << "version " << v << " is not intact";
  return v;
}

struct StateFault {
  const char* call;
  uint64_t nth;
  const char* err;
  uint64_t failed_version;  // the save the fault hits
  bool new_version_kept;    // the fault comes after the rename
  const char* step;         // the error names it
};

void PrintTo(const StateFault& f, std::ostream* os) { *os << f.call << " #" << f.nth << " " << f.err; }

class StateFileFaults : public ::testing::TestWithParam<StateFault> {};

TEST_P(StateFileFaults, OldOrNewVersionExactly) {
  const StateFault& f = GetParam();
  ASSERT_TRUE(fs::exists(shim())) << shim();
  journal_test::TempDir tmp;
  const std::string path = tmp.path() + "/risk.state";
  const StateRun r = run_state_writer(path, 1, 20, fault_env(f.call, f.nth, f.err, 1));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.failed_version, f.failed_version);
  EXPECT_EQ(r.last_saved, f.failed_version - 1);
  EXPECT_EQ(r.error.rfind(f.step, 0), 0u) << r.error;
  EXPECT_NE(r.error.find(std::string(f.err) == "EIO" ? "Input/output error" : "No space left on device"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(loaded_version(path), f.new_version_kept ? f.failed_version : f.failed_version - 1);
  EXPECT_EQ(fs::exists(path + ".tmp"), false) << "the temp file must be removed (or renamed)";
}

// Per save: 3 writes (header, payload, trailer), fsync of the file, rename, fsync of the directory.
INSTANTIATE_TEST_SUITE_P(
    Shim, StateFileFaults,
    ::testing::Values(StateFault{"write", 1, "ENOSPC", 1, false, "write"},
                      StateFault{"write", 2, "ENOSPC", 1, false, "write"},
                      StateFault{"write", 9, "ENOSPC", 3, false, "write"},
                      StateFault{"write", 20, "ENOSPC", 7, false, "write"},
                      StateFault{"fsync", 1, "EIO", 1, false, "fsync"},
                      StateFault{"fsync", 2, "EIO", 1, true, "fsync directory"},
                      StateFault{"fsync", 7, "EIO", 4, false, "fsync"},
                      StateFault{"fsync", 12, "EIO", 6, true, "fsync directory"},
                      StateFault{"rename", 5, "EIO", 5, false, "rename"}));

TEST(StateFileKill, AlwaysTheOldOrTheNewVersion) {
  const uint64_t kills = pf::proof_size("PMM_PROOF_STATE_KILLS", 40, 400);
  journal_test::TempDir tmp;
  const std::string path = tmp.path() + "/risk.state";
  std::mt19937_64 rng(pf::proof_seed(5));
  uint64_t next = 1, old_kept = 0, new_kept = 0;
  for (uint64_t k = 0; k < kills; ++k) {
    pf::Child child({pf::sibling_executable("state_file_writer", "PMM_STATE_WRITER"), "--path", path, "--from",
                     std::to_string(next), "--count", "1000000"},
                    {}, path + ".stderr");
    ASSERT_TRUE(child.started());
    uint64_t saved = next - 1;
    std::string line, word, rest;
    const auto deadline = Clock::now() + std::chrono::milliseconds(1 + rng() % 60);
    while (child.next_line(line, deadline)) {
      pf::split_line(line, word, rest);
      if (word == "saved") saved = std::stoull(rest);
    }
    child.kill9();
    child.wait();
    while (child.next_line(line, Clock::now() + std::chrono::seconds(5))) {
      pf::split_line(line, word, rest);
      if (word == "saved") saved = std::stoull(rest);
    }
    const uint64_t v = loaded_version(path);
    ASSERT_TRUE(v == saved || v == saved + 1) << "kill " << k << ": loaded " << v << ", last saved " << saved;
    (v == saved ? old_kept : new_kept) += 1;
    next = std::max(v, saved) + 1;
  }
  std::printf("state-file kill proof: %llu kills, old version kept %llu, new version kept %llu, last version %llu\n",
              static_cast<unsigned long long>(kills), static_cast<unsigned long long>(old_kept),
              static_cast<unsigned long long>(new_kept), static_cast<unsigned long long>(next - 1));
}

}  // namespace
