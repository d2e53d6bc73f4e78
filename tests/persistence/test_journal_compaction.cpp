// compact_journal(): which segments go (every one whose successor starts at or before snapshot + 1, never
// the last), the threshold, no snapshot, an interrupted compaction that still leaves a chaining journal,
// and recovery from the oldest retained snapshot afterwards. The expected sets come from the segment
// file names and the rule in docs/recovery.md, not from the code under test.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "persistence/journal_compaction.hpp"
#include "persistence/journal_reader.hpp"
#include "tests/persistence/recovery_fixture.hpp"

namespace {

namespace ps = pmm::persistence;
namespace fs = std::filesystem;
using ps::RecoveryStatus;
using ps::testing::KeyValueState;
using recovery_test::first_sequence_of;
using recovery_test::segments;

// PosixFileOps with one unlink failing (EIO), to interrupt a compaction part-way.
class FailingUnlinkOps final : public ps::FileOps {
 public:
  explicit FailingUnlinkOps(int fail_at) : fail_at_(fail_at) {}
  int open_write(const std::string& p, int& fd) override { return real_.open_write(p, fd); }
  int open_read(const std::string& p, int& fd) override { return real_.open_read(p, fd); }
  int write_all(int fd, const void* d, size_t n) override { return real_.write_all(fd, d, n); }
  int write_at(int fd, uint64_t o, const void* d, size_t n) override { return real_.write_at(fd, o, d, n); }
  int read(int fd, void* d, size_t n, size_t& got) override { return real_.read(fd, d, n, got); }
  int file_size(int fd, uint64_t& s) override { return real_.file_size(fd, s); }
  int sync(int fd) override { return real_.sync(fd); }
  int close(int fd) override { return real_.close(fd); }
  int rename(const std::string& a, const std::string& b) override { return real_.rename(a, b); }
  int sync_dir(const std::string& d) override { return real_.sync_dir(d); }
  int unlink(const std::string& p) override { return unlinks_++ == fail_at_ ? EIO : real_.unlink(p); }
  int make_dir(const std::string& p) override { return real_.make_dir(p); }
  int is_dir(const std::string& p) override { return real_.is_dir(p); }
  int list_dir(const std::string& d, std::vector<std::string>& n) override { return real_.list_dir(d, n); }

 private:
  ps::PosixFileOps real_;
  int fail_at_;
  int unlinks_ = 0;
};

class Compaction : public recovery_test::RecoveryFixture {
 protected:
  // A closed journal of at least six segments; returns the segment paths.
  std::vector<std::string> build() {
    start_live();
    append_n(1500);
    stop();
    const auto segs = segments(journal_dir());
    EXPECT_GE(segs.size(), 6u);
    return segs;
  }
  // The segments the rule keeps for a snapshot at `s`: all from the one holding s + 1 (or the last).
  static std::vector<std::string> expected_kept(const std::vector<std::string>& segs, uint64_t s) {
    size_t keep_from = 0;
    for (size_t i = 0; i + 1 < segs.size(); ++i)
      if (first_sequence_of(segs[i + 1]) <= s + 1) keep_from = i + 1;
    return std::vector<std::string>(segs.begin() + static_cast<long>(keep_from), segs.end());
  }
};

TEST_F(Compaction, DeletesExactlyTheSegmentsBeforeTheSnapshot) {
  const auto segs = build();
  const uint64_t f3 = first_sequence_of(segs[3]);
  for (const uint64_t s : {f3 + 5, f3 - 1, f3 - 2, f3}) {
    SCOPED_TRACE("snapshot " + std::to_string(s));
    // Work on a copy so each case starts from the same journal.
    const std::string copy = tmp.path() + "/copy";
    fs::remove_all(copy);
    fs::copy(journal_dir(), copy);
    const ps::CompactionResult r = ps::compact_journal(ops, copy, s, 1, logger);
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::vector<std::string> want;
    for (const std::string& p : expected_kept(segs, s)) want.push_back(copy + "/" + fs::path(p).filename().string());
    EXPECT_EQ(segments(copy), want);
    EXPECT_EQ(r.deleted.size(), segs.size() - want.size());
    EXPECT_EQ(r.bytes_before, segs.size() * 16384u);
    EXPECT_EQ(r.bytes_after, want.size() * 16384u);
    const ps::JournalReport rep = ps::verify_journal(copy);
    EXPECT_EQ(rep.status, ps::JournalStatus::Clean) << rep.summary();
    EXPECT_LE(rep.first_sequence, s + 1);
  }
  EXPECT_EQ(expected_kept(segs, f3 + 5).size(), segs.size() - 3);  // the rule itself, spelled out once
  EXPECT_EQ(expected_kept(segs, f3 - 2).size(), segs.size() - 2);
}

TEST_F(Compaction, NeverTheLastSegmentNorBelowTheThresholdNorWithoutASnapshot) {
  const auto segs = build();
  const uint64_t total = segs.size() * 16384u;
  EXPECT_TRUE(ps::compact_journal(ops, journal_dir(), 1u << 30, total, logger).deleted.empty());  // not above
  EXPECT_TRUE(ps::compact_journal(ops, journal_dir(), 0, 1, logger).deleted.empty());            // no snapshot
  EXPECT_EQ(segments(journal_dir()), segs);
  const ps::CompactionResult r = ps::compact_journal(ops, journal_dir(), 1u << 30, 1, logger);
  EXPECT_EQ(r.deleted.size(), segs.size() - 1);
  EXPECT_EQ(segments(journal_dir()), std::vector<std::string>{segs.back()});
  EXPECT_TRUE(logged("Journal compaction: deleted " + std::to_string(segs.size() - 1) + " segment(s)"));
}

TEST_F(Compaction, AnInterruptedCompactionLeavesAChainingJournal) {
  const auto segs = build();
  FailingUnlinkOps failing(1);  // the second unlink fails
  const ps::CompactionResult r =
      ps::compact_journal(failing, journal_dir(), first_sequence_of(segs[4]), 1, logger);
  EXPECT_EQ(r.deleted, std::vector<std::string>{segs[0]});
  EXPECT_NE(r.error.find("unlink " + segs[1]), std::string::npos) << r.error;
  EXPECT_EQ(ps::verify_journal(journal_dir()).status, ps::JournalStatus::Clean);
}

TEST_F(Compaction, RecoveryStillWorksFromTheOldestRetainedSnapshot) {
  start_live();
  append_n(400);
  sync();
  ASSERT_TRUE(snapshot(2).ok);
  append_n(400);
  sync();
  const ps::SnapshotTakeResult newest = snapshot(2);
  ASSERT_TRUE(newest.ok);
  EXPECT_EQ(newest.oldest_retained_sequence, 400u);
  append_n(300);
  const ps::CompactionResult c =
      ps::compact_journal(ops, journal_dir(), newest.oldest_retained_sequence, 1, logger);
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_FALSE(c.deleted.empty());
  stop();
  // The newest snapshot damaged: recovery falls back to the oldest retained one, whose records are kept.
  recovery_test::flip_byte(newest.path, 60);
  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason << "\n" << log_text();
  EXPECT_EQ(r.snapshot_sequence, 400u);
  EXPECT_EQ(r.records_replayed, 700u);
  EXPECT_EQ(s.digest(), digests[1100]);
}

}  // namespace
