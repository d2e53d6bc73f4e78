// recover_state() (docs/recovery.md): every status from constructed data directories, the log lines
// operators grep for, files left byte-identical on Failed, snapshot fallback, torn-tail repair, and the
// clean-shutdown and emergency paths. The expected digests come from the live run (the same records
// applied as they were journaled), never from recovery.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "persistence/journal_format.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "tests/persistence/recovery_fixture.hpp"

namespace {

namespace ps = pmm::persistence;
namespace jt = journal_test;
using recovery_test::Bytes;
using recovery_test::RecoveryFixture;
using ps::RecoveryStatus;
using ps::testing::KeyValueState;
namespace fs = std::filesystem;

class Recovery : public RecoveryFixture {};

TEST_F(Recovery, CleanStartWhenNothingExistsThenFailedWhenTheMarkerIsAlone) {
  KeyValueState s;
  ps::RecoveryResult r = recover(s);
  EXPECT_EQ(r.status, RecoveryStatus::CleanStart) << log_text();
  EXPECT_TRUE(logged("recoverState: CleanStart"));
  EXPECT_TRUE(r.start.first_start);
  EXPECT_TRUE(r.warnings.empty()) << log_text();
  EXPECT_EQ(r.next_sequence, 1u);
  ASSERT_TRUE(r.directory);
  EXPECT_TRUE(fs::exists(root() + "/initialised.marker"));
  r.directory.reset();
  // The journal was started before the marker was written: a crash now is a start with 0 records.
  ASSERT_EQ(recovery_test::segments(journal_dir()).size(), 1u);
  r = recover(s);
  EXPECT_EQ(r.status, RecoveryStatus::Success) << log_text();
  EXPECT_EQ(r.recovered_sequence, 0u);
  r.directory.reset();

  // The marker says the directory was set up, but the journal is gone and there is no snapshot or
  // state: data lost (a different volume, or files deleted).
  for (const std::string& seg : recovery_test::segments(journal_dir())) fs::remove(seg);
  const auto before = recovery_test::fingerprint(root());
  r = recover(s);
  EXPECT_EQ(r.status, RecoveryStatus::Failed);
  EXPECT_NE(r.reason.find("data lost"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("initialised.marker"), std::string::npos) << r.reason;
  EXPECT_TRUE(logged("recoverState: Failed: data lost")) << log_text();
  EXPECT_FALSE(r.directory);
  EXPECT_EQ(recovery_test::fingerprint(root()), before);
}

TEST_F(Recovery, CleanStartInAnEmptyExistingDirectory) {
  fs::create_directories(root() + "/journal");
  // A segment whose creation a crash interrupted during an earlier first start is not data.
  recovery_test::write_file(root() + "/journal/00000000000000000001.journal.tmp", Bytes(4096, 0));
  KeyValueState s;
  EXPECT_EQ(recover(s).status, RecoveryStatus::CleanStart) << log_text();
}


TEST_F(Recovery, JournalOnlyReplaysEverything) {
  start_live();
  append_n(700);  // several 16 KiB segments
  stop();
  ASSERT_GE(recovery_test::segments(journal_dir()).size(), 3u);

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason << "\n" << log_text();
  EXPECT_FALSE(r.snapshot_used);
  EXPECT_EQ(r.records_replayed, 700u);
  EXPECT_EQ(r.recovered_sequence, 700u);
  EXPECT_EQ(r.next_sequence, 701u);
  EXPECT_EQ(r.durable_watermark, 700u);  // a clean close syncs twice: the watermark is the last record
  EXPECT_EQ(s.digest(), digests[700]);
  EXPECT_EQ(r.state_digest, digests[700]);
  EXPECT_TRUE(logged("Replaying 700 journal entries")) << log_text();
  EXPECT_TRUE(logged("Recovery completed successfully"));
  EXPECT_TRUE(logged("recoverState: Success"));
  EXPECT_TRUE(logged("did not stop cleanly"));
}

TEST_F(Recovery, SnapshotThenReplayOfTheRecordsAfterIt) {
  start_live();
  append_n(300);
  sync();
  ASSERT_TRUE(snapshot().ok);
  append_n(200);
  stop();

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_TRUE(r.snapshot_used);
  EXPECT_EQ(r.snapshot_sequence, 300u);
  EXPECT_EQ(r.records_replayed, 200u);
  EXPECT_EQ(s.digest(), digests[500]);
  EXPECT_TRUE(logged("Loading latest snapshot from 300")) << log_text();
  EXPECT_TRUE(logged("Replaying 200 journal entries"));
}

TEST_F(Recovery, FallsBackToAnOlderSnapshotWhenTheNewestIsDamaged) {
  start_live();
  append_n(200);
  sync();
  ASSERT_TRUE(snapshot().ok);
  append_n(200);
  sync();
  const ps::SnapshotTakeResult newest = snapshot();
  ASSERT_TRUE(newest.ok);
  append_n(50);
  stop();
  recovery_test::flip_byte(newest.path, 100);

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_EQ(r.snapshot_sequence, 200u);
  EXPECT_EQ(r.records_replayed, 250u);
  EXPECT_EQ(s.digest(), digests[450]);
  EXPECT_TRUE(fs::exists(newest.path)) << "a damaged snapshot is left for inspection";
  EXPECT_TRUE(logged("damaged snapshot skipped")) << log_text();
}

TEST_F(Recovery, FallsBackWhenTheStateRejectsTheNewestSnapshot) {
  start_live();
  append_n(120);
  sync();
  ASSERT_TRUE(snapshot().ok);
  append_n(80);
  sync();
  stop();
  // A snapshot at 200 whose CRCs are all right but whose content the state refuses (unknown block).
  {
    std::string error;
    auto w = ps::SnapshotWriter::create(ops, snapshot_dir() + "/" + ps::SnapshotDirectory::file_name(200), 200, 1,
                                        error);
    ASSERT_TRUE(w) << error;
    const Bytes junk(16, 7);
    ASSERT_TRUE(w->add_block(99, junk.data(), junk.size()));
    ASSERT_TRUE(w->commit()) << w->error();
  }
  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_EQ(r.snapshot_sequence, 120u);
  EXPECT_EQ(r.records_replayed, 80u);
  ASSERT_EQ(r.snapshots_skipped.size(), 1u);
  EXPECT_NE(r.snapshots_skipped[0].find("00000000000000000200.snapshot"), std::string::npos);
  EXPECT_EQ(s.digest(), digests[200]);
  EXPECT_TRUE(logged("Loading latest snapshot from 200"));
  EXPECT_TRUE(logged("Loading older snapshot from 120")) << log_text();
}

TEST_F(Recovery, TornTailAfterTheWatermarkIsCutAsideAndRecoverySucceeds) {
  start_live();
  append_n(150);
  sync();                 // durable through 150 (its marker follows)
  append_n(20);           // 151..170 never synced
  crash_writer();
  directory.reset();
  // A power loss tore record 165: its CRC fails; 166..170 lie intact beyond it.
  const std::string seg = recovery_test::segments(journal_dir()).back();
  const jt::RawSegment raw = jt::walk_segment(seg);
  const jt::RawRecord* torn = jt::find_user_record(raw, 165);
  ASSERT_NE(torn, nullptr);
  const uint64_t cut_from = torn->offset;
  const uint64_t cut_to = jt::last_nonzero_end(seg);
  const Bytes original = recovery_test::read_file(seg);
  recovery_test::flip_byte(seg, torn->offset + 20);
  const Bytes damaged = recovery_test::read_file(seg);

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason << "\n" << log_text();
  EXPECT_TRUE(r.tail_repaired);
  EXPECT_EQ(r.recovered_sequence, 164u);
  EXPECT_EQ(r.records_replayed, 164u);
  EXPECT_EQ(r.records_dropped, 5u);  // 166..170: valid CRCs beyond the torn record
  EXPECT_EQ(r.durable_watermark, 150u);
  EXPECT_EQ(s.digest(), digests[164]);
  EXPECT_EQ(r.corrupt_path, seg + ".corrupt");
  // The cut bytes were kept aside exactly, and zeros are in their place.
  EXPECT_EQ(recovery_test::read_file(r.corrupt_path),
            Bytes(damaged.begin() + static_cast<long>(cut_from), damaged.begin() + static_cast<long>(cut_to)));
  const Bytes after = recovery_test::read_file(seg);
  ASSERT_EQ(after.size(), original.size());
  EXPECT_TRUE(std::equal(after.begin(), after.begin() + static_cast<long>(cut_from), original.begin()));
  EXPECT_TRUE(std::all_of(after.begin() + static_cast<long>(cut_from), after.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(logged("5 record(s) dropped")) << log_text();
  EXPECT_TRUE(logged("torn tail"));

  // The writer continues after the repair.
  start_live();
  EXPECT_EQ(writer->last_sequence(), 164u);
}

// A Failed recovery: every file byte-identical afterwards, markers included.
class RecoveryFailed : public RecoveryFixture {
 protected:
  void expect_failed_untouched(const std::vector<std::string>& reason_parts, bool journal_damage) {
    const auto before = recovery_test::fingerprint(root());
    ASSERT_TRUE(fs::exists(root() + "/initialised.marker"));
    KeyValueState s;
    s.apply(ps::JournalRecordView{1, KeyValueState::kPut, 8, Bytes(8, 1).data(), nullptr, 0});
    const ps::RecoveryResult r = recover(s);
    EXPECT_EQ(r.status, RecoveryStatus::Failed) << log_text();
    for (const std::string& part : reason_parts) EXPECT_NE(r.reason.find(part), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("no file was changed"), std::string::npos) << r.reason;
    EXPECT_TRUE(logged("recoverState: Failed: ")) << log_text();
    EXPECT_EQ(logged("Journal replay failed: "), journal_damage) << log_text();
    EXPECT_EQ(s.digest(), KeyValueState().digest()) << "the state is reset on Failed";
    EXPECT_FALSE(r.directory);
    EXPECT_EQ(recovery_test::fingerprint(root()), before);
  }
};

TEST_F(RecoveryFailed, DamageBeforeTheWatermark) {
  start_live();
  append_n(300);
  sync();
  stop();  // a clean close: durable through 300
  // Also a clean-shutdown marker: a Failed recovery must not remove it either.
  {
    ps::DataDirectoryStart st;
    std::string error;
    auto d = ps::DataDirectory::open(ops, root(), st, error);
    ASSERT_TRUE(d) << error;
    ASSERT_TRUE(d->mark_clean_shutdown(300, error)) << error;
  }
  // In the last segment (damage in an earlier one is Failed for another reason: it was complete).
  const std::string seg = recovery_test::segments(journal_dir()).back();
  const uint64_t victim = recovery_test::first_sequence_of(seg) + 10;
  ASSERT_LT(victim, 300u);
  const jt::RawSegment raw = jt::walk_segment(seg);
  const jt::RawRecord* rec = jt::find_user_record(raw, victim);
  ASSERT_NE(rec, nullptr);
  recovery_test::flip_byte(seg, rec->offset + 18);
  expect_failed_untouched({"CRC mismatch", seg, "offset " + std::to_string(rec->offset), "before the durable watermark"},
                          true);
  EXPECT_TRUE(logged("Journal replay failed: CRC mismatch")) << log_text();
}

TEST_F(RecoveryFailed, SequenceGap) {
  start_live();
  append_n(100);
  stop();
  // Record 40 rewritten with sequence 41 and a correct CRC: intact bytes, wrong order.
  const std::string seg = recovery_test::segments(journal_dir()).front();
  const jt::RawSegment raw = jt::walk_segment(seg);
  const jt::RawRecord* rec = jt::find_user_record(raw, 40);
  ASSERT_NE(rec, nullptr);
  Bytes b = recovery_test::read_file(seg);
  ps::journal::encode_record(b.data() + rec->offset, rec->type, 41, rec->payload.data(), rec->length, raw.salt);
  recovery_test::write_file(seg, b);
  expect_failed_untouched({"sequence gap", seg, "expected sequence 40, found 41"}, true);
}

TEST_F(RecoveryFailed, MissingMiddleSegment) {
  start_live();
  append_n(800);
  stop();
  const auto segs = recovery_test::segments(journal_dir());
  ASSERT_GE(segs.size(), 4u);
  fs::remove(segs[1]);
  expect_failed_untouched({"missing segment", segs[2]}, true);
}

TEST_F(RecoveryFailed, SnapshotNewerThanTheJournalsEnd) {
  start_live();
  append_n(250);
  stop();
  // A snapshot at 300 although the journal ends at 250: records 251..300 were lost from the journal.
  KeyValueState at300;
  for (uint64_t i = 1; i <= 300; ++i) {
    const Bytes p = recovery_test::payload_of(i);
    at300.apply(ps::JournalRecordView{i, KeyValueState::kPut, static_cast<uint16_t>(p.size()), p.data(), nullptr, 0});
  }
  ps::SnapshotDirectory snaps(ops, snapshot_dir());
  ASSERT_TRUE(ps::take_snapshot(at300, 300, snaps, 5, nullptr).ok);
  expect_failed_untouched({"00000000000000000300.snapshot", "journal ends at 250", "251..300"}, false);
}

TEST_F(RecoveryFailed, JournalStartsAfterTheSnapshot) {
  start_live();
  append_n(50);
  sync();
  ASSERT_TRUE(snapshot().ok);
  append_n(800);
  stop();
  const auto segs = recovery_test::segments(journal_dir());
  ASSERT_GE(segs.size(), 3u);
  // Compacted too far: the segments holding 51.. are gone.
  fs::remove(segs[0]);
  fs::remove(segs[1]);
  const uint64_t first = recovery_test::first_sequence_of(segs[2]);
  expect_failed_untouched({"the journal starts at sequence " + std::to_string(first), "snapshot",
                           "records 51.." + std::to_string(first - 1) + " are missing"},
                          false);
}

TEST_F(RecoveryFailed, JournalDeletedBehindASnapshot) {
  // The older runbook's "delete the corrupt journal": recovery no longer resumes silently.
  start_live();
  append_n(100);
  sync();
  ASSERT_TRUE(snapshot().ok);
  append_n(10);
  stop();
  for (const std::string& s : recovery_test::segments(journal_dir())) fs::remove(s);
  expect_failed_untouched({"journal/ holds no segments", "00000000000000000100.snapshot"}, false);
}

TEST_F(RecoveryFailed, OnlyLeftoversOfAnEarlierRun) {
  // The older runbook's `rm journal/*.journal` after a repair: only the .corrupt copy is left.
  start_live();
  append_n(30);
  stop();
  for (const std::string& seg : recovery_test::segments(journal_dir())) {
    fs::rename(seg, seg + ".corrupt");
  }
  expect_failed_untouched({"data lost: no journal segment and no snapshot", ".journal.corrupt"}, false);
  // Without the marker it is still not a clean start.
  fs::remove(root() + "/initialised.marker");
  recovery_test::write_file(root() + "/state/risk.state", Bytes(30, 1));
  const auto before = recovery_test::fingerprint(root());
  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  EXPECT_EQ(r.status, RecoveryStatus::Failed);
  EXPECT_EQ(r.reason.find("data lost"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("risk.state"), std::string::npos) << r.reason;
  EXPECT_EQ(recovery_test::fingerprint(root()), before);
}

TEST_F(RecoveryFailed, CleanShutdownMarkerBeyondTheJournal) {
  start_live();
  append_n(100);
  stop();
  {
    ps::DataDirectoryStart st;
    std::string error;
    auto d = ps::DataDirectory::open(ops, root(), st, error);
    ASSERT_TRUE(d) << error;
    ASSERT_TRUE(d->mark_clean_shutdown(120, error)) << error;
  }
  expect_failed_untouched({"synced through sequence 120", "ends at 100"}, false);
}

TEST_F(Recovery, CleanShutdownWritesAFinalSnapshotAndTheMarker) {
  start_live();
  append_n(333);
  close_writer();
  std::string error;
  ASSERT_TRUE(ps::clean_shutdown(live, 333, *directory, 3, logger, error)) << error;
  EXPECT_TRUE(logged("Clean shutdown: final snapshot at sequence 333"));
  directory.reset();
  EXPECT_TRUE(fs::exists(root() + "/clean-shutdown.marker"));

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_TRUE(r.clean_shutdown);
  EXPECT_EQ(r.clean_shutdown_sequence, 333u);
  EXPECT_EQ(r.snapshot_sequence, 333u);
  EXPECT_EQ(r.records_replayed, 0u);
  EXPECT_EQ(s.digest(), digests[333]);
  EXPECT_TRUE(logged("Clean-shutdown marker found")) << log_text();
  EXPECT_TRUE(logged("Replaying 0 journal entries"));
  EXPECT_FALSE(fs::exists(root() + "/clean-shutdown.marker")) << "removed before the run writes anything";
}

TEST_F(Recovery, MissingInitialisedMarkerWithDataWarnsButRecovers) {
  start_live();
  append_n(40);
  stop();
  fs::remove(root() + "/initialised.marker");
  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_EQ(s.digest(), digests[40]);
  EXPECT_TRUE(logged("WARN " + root() + "/initialised.marker is missing")) << log_text();
  EXPECT_TRUE(fs::exists(root() + "/initialised.marker")) << "rewritten";
}

TEST_F(Recovery, AllSnapshotsRejectedButTheJournalStartsAtOne) {
  start_live();
  append_n(60);
  sync();
  const ps::SnapshotTakeResult snap = snapshot();
  ASSERT_TRUE(snap.ok);
  append_n(5);
  stop();
  recovery_test::flip_byte(snap.path, 50);
  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_FALSE(r.snapshot_used);
  EXPECT_EQ(r.records_replayed, 65u);
  EXPECT_EQ(s.digest(), digests[65]);
}

TEST_F(Recovery, EmergencySaveBeyondTheDurableJournalIsIgnoredByRecovery) {
  start_live();
  append_n(50);
  sync();
  append_n(10);  // 51..60 not durable
  const std::string path =
      ps::emergency_save(ops, live, 60, writer->durable_sequence(), directory->snapshots(), "journal failed", logger);
  EXPECT_TRUE(logged("EMERGENCY SAVE: journal failed")) << log_text();
  ASSERT_EQ(path, snapshot_dir() + "/00000000000000000060.snapshot.emergency");
  ps::SnapshotInfo info;
  ps::SnapshotDamage damage;
  EXPECT_TRUE(ps::verify_snapshot_file(ops, path, info, damage)) << damage.to_string();
  // An emergency save at a durable sequence is an ordinary snapshot.
  const std::string usable =
      ps::emergency_save(ops, live, 60, 60, directory->snapshots(), "test", logger);
  EXPECT_EQ(usable, snapshot_dir() + "/00000000000000000060.snapshot");
  fs::remove(usable);
  crash_writer();
  directory.reset();

  KeyValueState s;
  const ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_FALSE(r.snapshot_used);
  EXPECT_EQ(s.digest(), digests[r.recovered_sequence]);
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(Recovery, CleanShutdownThenJournalDeletedResumesFromTheFinalSnapshot) {
  // After a clean shutdown nothing follows the final snapshot, so a journal deleted afterwards loses
  // nothing: recovery resumes from that snapshot and the writer continues right after it.
  start_live();
  append_n(90);
  close_writer();
  std::string error;
  ASSERT_TRUE(ps::clean_shutdown(live, 90, *directory, 3, logger, error)) << error;
  directory.reset();
  for (const std::string& seg : recovery_test::segments(journal_dir())) fs::remove(seg);

  KeyValueState s;
  ps::RecoveryResult r = recover(s);
  ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
  EXPECT_EQ(r.snapshot_sequence, 90u);
  EXPECT_EQ(r.next_sequence, 91u);
  EXPECT_EQ(s.digest(), digests[90]);
  r.directory.reset();
  start_live();
  EXPECT_EQ(append(KeyValueState::kPut, recovery_test::payload_of(91)), 91u);
  stop();
  KeyValueState again;
  EXPECT_EQ(recover(again).status, RecoveryStatus::Success) << log_text();
  EXPECT_EQ(again.digest(), digests[91]);
}

// A state whose serialisation fails.
class UnwritableState final : public ps::RecoverableState {
 public:
  void reset() override {}
  void apply(const ps::JournalRecordView&) override {}
  std::string write_snapshot(ps::SnapshotWriter&) const override { return "book 3 is inconsistent"; }
  std::string restore_snapshot(ps::SnapshotReader&) override { return ""; }
  uint64_t digest() const override { return 0; }
};

TEST_F(Recovery, TakeSnapshotReportsAStateThatCannotBeWrittenAndLeavesNoFile) {
  start_live();
  const ps::SnapshotTakeResult r = ps::take_snapshot(UnwritableState(), 0, directory->snapshots(), 3, logger);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("book 3 is inconsistent"), std::string::npos) << r.error;
  EXPECT_TRUE(logged("Snapshot at sequence 0 failed")) << log_text();
  EXPECT_TRUE(fs::is_empty(snapshot_dir()));
  std::string error;
  EXPECT_FALSE(ps::clean_shutdown(UnwritableState(), 0, *directory, 3, logger, error));
  EXPECT_NE(error.find("no clean-shutdown marker written"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(root() + "/clean-shutdown.marker"));
}

TEST(SnapshotSchedule, DueOnceTheIntervalHasPassedSinceTheLastSnapshot) {
  using Clock = ps::SnapshotSchedule::Clock;
  const Clock::time_point t0{};
  ps::SnapshotSchedule s(15, t0);
  EXPECT_FALSE(s.due(t0 + std::chrono::minutes(14)));
  EXPECT_TRUE(s.due(t0 + std::chrono::minutes(15)));
  s.taken(t0 + std::chrono::minutes(20));
  EXPECT_FALSE(s.due(t0 + std::chrono::minutes(34)));
  EXPECT_TRUE(s.due(t0 + std::chrono::minutes(35)));
}

TEST(SnapshotSchedule, AnyIntervalBelowAMinute) {  // bench_tick_to_trade's --snapshot-every-ms
  using Clock = ps::SnapshotSchedule::Clock;
  const Clock::time_point t0{};
  ps::SnapshotSchedule s(Clock::duration(std::chrono::milliseconds(250)), t0);
  EXPECT_FALSE(s.due(t0 + std::chrono::milliseconds(249)));
  EXPECT_TRUE(s.due(t0 + std::chrono::milliseconds(250)));
  s.taken(t0 + std::chrono::milliseconds(300));
  EXPECT_FALSE(s.due(t0 + std::chrono::milliseconds(549)));
  EXPECT_TRUE(s.due(t0 + std::chrono::milliseconds(550)));
}

}  // namespace
