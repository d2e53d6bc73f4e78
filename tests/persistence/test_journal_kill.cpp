// Proof 1 (docs/journal.md, "Proof"): kill -9 of a process writing the journal at full speed.
//
// Each round starts journal_crash_writer on the same directory (so every round after the first also
// proves that a recovered journal is continued correctly), waits until it has opened the journal, lets
// it write for a random 1..50 ms, SIGKILLs it, and then runs recovery. Asserted every round:
//   - the writer was killed (it did not die on its own) and had continued exactly after the last
//     record the previous recovery kept;
//   - recovery (recover_state: snapshot + journal replay into a state that checks every record) is
//     Success (a torn tail, if the kill left one, is repaired), with the expected state digest;
//   - every record from the journal's first sequence through the end is present, contiguous, and
//     carries exactly proof_record(seed, sequence) (no record lost, none damaged, none invented);
//   - the end is at or after the highest durable watermark the writer reported before the kill.
// To keep the journal bounded over 1000 rounds, a round that leaves more than 8 segments compacts: a
// snapshot at the end of the oldest ones, then those segments are deleted; later rounds recover from
// that snapshot and check the journal from the oldest kept segment.
//
// CI: 100 kills. Full: PMM_PROOF_FULL=1 (1000 kills) or PMM_PROOF_KILLS=<n>; PMM_PROOF_SEED=<n>.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "persistence/journal_format.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "persistence/snapshot_directory.hpp"
#include "tests/persistence/proof_state.hpp"
#include "tests/persistence/proof_util.hpp"

namespace {

namespace ps = pmm::persistence;
namespace pf = pmm::persistence::proof;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kMaxPayload = 60;  // JournalEntry::kMaxPayload: the writer goes through the ring
constexpr size_t kKeepSegments = 8;
constexpr uint64_t kSegmentBytes = 256 * 1024;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(JournalKill, RandomKillsOfAFullSpeedWriter) {
  const uint64_t kills = pf::proof_size("PMM_PROOF_KILLS", 100, 1000);
  const uint64_t seed = pf::proof_seed(20261202);
  const std::string writer = pf::sibling_executable("journal_crash_writer", "PMM_CRASH_WRITER");
  ASSERT_TRUE(fs::exists(writer)) << writer;
  journal_test::TempDir tmp;
  const std::string root = tmp.path() + "/data";  // persistence.dataDirectory
  const std::string dir = root + "/journal";
  const std::string err_log = tmp.path() + "/writer.stderr";
  std::mt19937_64 rng(seed);

  uint64_t expected_open = 0;   // the last record the previous recovery kept
  uint64_t first_kept = 1;      // the oldest sequence still in the journal (after compaction)
  uint64_t records_verified = 0, tails_repaired = 0, records_dropped = 0, max_watermark = 0;
  uint64_t segments_deleted = 0;
  uint64_t snapshot_digest = 0;  // the state's digest at first_kept - 1
  const auto t0 = Clock::now();

  for (uint64_t round = 0; round < kills; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " (seed " + std::to_string(seed) + ")");
    pf::Child child({writer, "--dir", dir, "--seed", std::to_string(seed), "--segment-bytes",
                     std::to_string(kSegmentBytes), "--sync-ms", std::to_string(1 + rng() % 5)},
                    {}, err_log);
    ASSERT_TRUE(child.started());
    uint64_t watermark = 0;
    std::string line, word, rest;
    ASSERT_TRUE(child.next_line(line, Clock::now() + std::chrono::seconds(20)))
        << "the writer did not open the journal: " << slurp(err_log);
    pf::split_line(line, word, rest);
    ASSERT_EQ(word, "open") << line;
    ASSERT_EQ(std::stoull(rest), expected_open) << "the writer must continue after the last kept record";
    watermark = expected_open;

    const auto deadline = Clock::now() + std::chrono::milliseconds(1 + rng() % 50);
    auto absorb = [&](const std::string& l) {
      pf::split_line(l, word, rest);
      if (word == "durable") {
        const uint64_t d = std::stoull(rest);
        EXPECT_GT(d, watermark) << "the watermark only rises";
        watermark = std::max(watermark, d);
      } else {
        ADD_FAILURE() << "unexpected line from the writer: " << l;
      }
    };
    while (child.next_line(line, deadline)) absorb(line);
    ASSERT_FALSE(child.eof()) << "the writer stopped by itself: " << slurp(err_log);
    child.kill9();
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status << ": " << slurp(err_log);
    // Lines already in the pipe were written before the kill: they count as reported.
    while (child.next_line(line, Clock::now() + std::chrono::seconds(5))) absorb(line);
    max_watermark = std::max(max_watermark, watermark);

    // The real start-up path: snapshot (after the first compaction) + journal replay into a state that
    // checks every record; a torn tail is repaired.
    const pf::StateRecovery rec = pf::recover_proof_state(root, seed, kMaxPayload, kSegmentBytes);
    ASSERT_EQ(rec.result.status, ps::RecoveryStatus::Success) << rec.result.summary();
    ASSERT_EQ(rec.wrong, 0u) << rec.first_problem;
    ASSERT_EQ(rec.result.snapshot_used, first_kept > 1);
    tails_repaired += rec.result.tail_repaired ? 1 : 0;
    records_dropped += rec.result.records_dropped;

    // And independently of recovery: the journal it left, record by record.
    const pf::RecordCheck c = pf::check_proof_records(dir, seed, kMaxPayload, first_kept - 1);
    ASSERT_EQ(c.error, "");
    ASSERT_EQ(c.wrong, 0u) << c.first_problem;
    ASSERT_GE(c.last, watermark) << "a record reported durable is missing";
    ASSERT_EQ(c.records, c.last - first_kept + 1);
    ASSERT_EQ(rec.sequence, c.last);
    ASSERT_EQ(rec.result.recovered_sequence, c.last);
    uint64_t digest = snapshot_digest;
    for (uint64_t s = first_kept; s <= c.last; ++s) digest = pf::proof_digest_step(digest, s);
    ASSERT_EQ(rec.result.state_digest, digest);
    records_verified += c.records;
    expected_open = c.last;

    // Compaction as the appliance does it: a snapshot at the end of the segments to drop, then the
    // segments, keeping the newest kKeepSegments.
    std::vector<std::string> segments = journal_test::segment_files(dir);
    if (segments.size() > kKeepSegments) {
      const size_t drop = segments.size() - kKeepSegments;
      uint64_t first = 0;
      ASSERT_TRUE(ps::journal::parse_segment_file_name(fs::path(segments[drop]).filename().string(), first));
      for (uint64_t s = first_kept; s < first; ++s) snapshot_digest = pf::proof_digest_step(snapshot_digest, s);
      ps::PosixFileOps ops;
      ps::SnapshotDirectory snapshots(ops, root + "/snapshots");
      std::string error;
      auto w = snapshots.begin(first - 1, 0, error);
      ASSERT_TRUE(w) << error;
      pf::ProofState at(seed, kMaxPayload);
      at.set_at(first - 1, snapshot_digest);
      ASSERT_EQ(at.write_snapshot(*w), "");
      ASSERT_TRUE(w->commit()) << w->error();
      snapshots.prune(2);
      for (size_t k = 0; k < drop; ++k) fs::remove(segments[k]);
      segments_deleted += drop;
      first_kept = first;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "kill -9 proof: %llu kills, %llu records verified (re-checked each round), last sequence %llu, max reported "
      "watermark %llu, %llu torn tails repaired (%llu valid-CRC records inside cut tails), %llu segments "
      "compacted, %.1f s, seed %llu\n",
      static_cast<unsigned long long>(kills), static_cast<unsigned long long>(records_verified),
      static_cast<unsigned long long>(expected_open), static_cast<unsigned long long>(max_watermark),
      static_cast<unsigned long long>(tails_repaired), static_cast<unsigned long long>(records_dropped),
      static_cast<unsigned long long>(segments_deleted), seconds, static_cast<unsigned long long>(seed));
  EXPECT_GT(expected_open, 0u) << "the writer never wrote anything";
}

}  // namespace
