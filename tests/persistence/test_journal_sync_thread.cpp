// The group commit and the snapshot file writes off the journal core (docs/journal.md, "Sync thread";
// docs/recovery.md, "Snapshots off the journal thread"): the hand-over between the journal core and the
// threads that make things durable.
//
//   - the watermark rises only after the sync thread's msync returned, while the journal core goes on
//     appending; the sync marker that follows carries the watermark, lower than its own sequence, and
//     the reader accepts it;
//   - a sync error on the sync thread fail-stops the writer: the watermark stays, appends return 0,
//     nothing is retried;
//   - rollovers while syncs are in flight: no msync ever reaches an unmapped segment (the injected
//     msync sleeps inside the call to widen the window, and the real msync fails with ENOMEM on an
//     unmapped range), and the journal reads back whole;
//   - a snapshot image is byte for byte the file SnapshotWriter writes; the snapshot file thread
//     renames it into snapshots/ only once its sequence is durable, and drops it if the journal fails
//     first.
// kill -9 during a sync: tests/persistence/test_journal_kill.cpp (its writer runs the JournalCore, so
// every sync there is on the sync thread; each round checks that recovery keeps every record up to
// the last watermark the writer published before the kill).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "persistence/file_ops.hpp"
#include "persistence/journal_format.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/snapshot_directory.hpp"
#include "persistence/snapshot_file.hpp"
#include "persistence/snapshot_file_thread.hpp"
#include "persistence/snapshot_image.hpp"
#include "tests/persistence/key_value_state.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace {

namespace ps = pmm::persistence;
namespace fs = std::filesystem;
using ps::testing::KeyValueState;
using ps::testing::TempDir;
using Clock = std::chrono::steady_clock;

// An msync the test can hold inside the call (gate closed), fail, or slow down.
struct SyncGate {
  static inline std::atomic<bool> open{true};
  static inline std::atomic<bool> fail{false};
  static inline std::atomic<int> delay_us{0};
  static inline std::atomic<uint64_t> entered{0};
  static void reset() {
    open = true;
    fail = false;
    delay_us = 0;
    entered = 0;
  }
  static int sync_range(void* p, size_t n) {
    entered.fetch_add(1);
    while (!open.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (const int d = delay_us.load(); d > 0) std::this_thread::sleep_for(std::chrono::microseconds(d));
    if (fail.load()) return EIO;
    return ps::real_journal_syscalls().sync_range(p, n);  // ENOMEM if the range is no longer mapped
  }
};

ps::JournalSyscalls gated_syscalls() {
  ps::JournalSyscalls s = ps::real_journal_syscalls();
  s.sync_range = SyncGate::sync_range;
  return s;
}

template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

std::unique_ptr<ps::JournalWriter> open_writer(const std::string& dir, const ps::JournalSyscalls* sys,
                                               uint64_t segment_bytes = 1 << 20) {
  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = segment_bytes;
  o.syscalls = sys;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  EXPECT_TRUE(w) << error;
  return w;
}

uint64_t append_n(ps::JournalWriter& w, uint64_t n) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t v = w.last_sequence() + 1;
    last = w.append(KeyValueState::kPut, &v, sizeof v);
  }
  return last;
}

TEST(JournalSyncThread, WatermarkRisesOnlyAfterTheSyncReturnedWhileAppendsGoOn) {
  SyncGate::reset();
  TempDir tmp;
  const ps::JournalSyscalls sys = gated_syscalls();
  auto w = open_writer(tmp.path() + "/journal", &sys);
  ASSERT_TRUE(w);
  ASSERT_EQ(append_n(*w, 100), 100u);

  SyncGate::open = false;  // the disk "hangs" inside msync
  const uint64_t entered = SyncGate::entered.load();
  ASSERT_TRUE(w->begin_sync());  // returns although the msync cannot finish
  ASSERT_TRUE(eventually([&] { return SyncGate::entered.load() > entered; }));
  // The journal core is not held up: it appends, and hands over more (extending nothing: one range
  // runs, the next waits).
  EXPECT_EQ(append_n(*w, 100), 200u);
  ASSERT_TRUE(w->begin_sync());
  w->poll();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(w->durable_sequence(), 0u) << "published before the msync returned";
  w->poll();
  EXPECT_FALSE(w->failed());

  SyncGate::open = true;
  ASSERT_TRUE(eventually([&] { return w->durable_sequence() == 200u; }));
  w->poll();  // the marker for 200
  EXPECT_EQ(append_n(*w, 10), 210u);
  ASSERT_TRUE(w->begin_sync());
  ASSERT_TRUE(eventually([&] { return w->durable_sequence() == 210u; }));
  ASSERT_TRUE(w->close());

  // The markers on disk: durable_through never above the marker's own sequence, and the watermark
  // recovered by the reader is the last record (close syncs twice).
  std::vector<std::pair<uint64_t, uint64_t>> markers;  // (sequence, durable_through)
  ps::JournalReplayOptions ro;
  ro.include_internal = true;
  const ps::JournalReplayResult r = ps::replay_journal(tmp.path() + "/journal", ro, [&](const ps::JournalRecordView& v) {
    if (v.type == ps::journal::kSyncMarker) markers.emplace_back(v.sequence, ps::journal::load_le<uint64_t>(v.payload));
    return true;
  });
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.report.status, ps::JournalStatus::Clean);
  EXPECT_EQ(r.report.last_sequence, 210u);
  EXPECT_EQ(r.report.durable_watermark, 210u);
  bool lower = false;
  for (const auto& [sequence, through] : markers) {
    EXPECT_LE(through, sequence);
    lower = lower || through < sequence;
  }
  EXPECT_FALSE(markers.empty());
  (void)lower;  // whether a marker trails its sequence depends on scheduling; allowed either way
}

TEST(JournalSyncThread, ASyncErrorOnTheSyncThreadFailStops) {
  SyncGate::reset();
  TempDir tmp;
  const ps::JournalSyscalls sys = gated_syscalls();
  auto w = open_writer(tmp.path() + "/journal", &sys);
  ASSERT_TRUE(w);
  ASSERT_EQ(append_n(*w, 50), 50u);
  ASSERT_TRUE(w->sync());
  EXPECT_EQ(w->durable_sequence(), 50u);
  ASSERT_EQ(append_n(*w, 50), 100u);

  SyncGate::fail = true;  // the disk goes bad
  ASSERT_TRUE(w->begin_sync());
  ASSERT_TRUE(eventually([&] { return w->failed(); }));
  EXPECT_NE(w->error().find("journal msync failed on " + tmp.path() + "/journal/"), std::string::npos) << w->error();
  EXPECT_NE(w->error().find("(errno 5)"), std::string::npos) << w->error();
  w->poll();
  EXPECT_EQ(w->append(KeyValueState::kPut, "12345678", 8), 0u);  // fail-stop: nothing more appended
  EXPECT_FALSE(w->begin_sync());

  SyncGate::fail = false;  // the device "recovers": nothing is retried anyway
  EXPECT_FALSE(w->sync());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(w->durable_sequence(), 50u);
  EXPECT_FALSE(w->close());
  EXPECT_EQ(w->durable_sequence(), 50u);
}

TEST(JournalSyncThread, RolloversWhileSyncsAreInFlightNeverSyncAnUnmappedSegment) {
  SyncGate::reset();
  SyncGate::delay_us = 300;  // every msync sleeps inside the call: the journal core overtakes it
  TempDir tmp;
  const ps::JournalSyscalls sys = gated_syscalls();
  auto w = open_writer(tmp.path() + "/journal", &sys, 64 * 1024);
  ASSERT_TRUE(w);
  constexpr uint64_t kRecords = 20000;  // 64-byte records: ~20 segments of 64 KiB
  for (uint64_t s = 1; s <= kRecords; ++s) {
    uint8_t payload[40] = {};
    ps::journal::store_le<uint64_t>(payload, s);
    ASSERT_EQ(w->append(KeyValueState::kPut, payload, sizeof payload), s) << w->error();
    if (s % 97 == 0) {
      ASSERT_TRUE(w->begin_sync()) << w->error();
    }
    w->poll();
  }
  EXPECT_GE(w->segments_created(), 10u);
  ASSERT_TRUE(w->close()) << w->error();
  EXPECT_EQ(w->durable_sequence(), kRecords);

  uint64_t next = 1;
  const ps::JournalReplayResult r = ps::replay_journal(tmp.path() + "/journal", {}, [&](const ps::JournalRecordView& v) {
    EXPECT_EQ(v.sequence, next);
    EXPECT_EQ(ps::journal::load_le<uint64_t>(v.payload), next);
    ++next;
    return true;
  });
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.report.status, ps::JournalStatus::Clean);
  EXPECT_EQ(next, kRecords + 1);
  EXPECT_EQ(r.report.durable_watermark, kRecords);
}

// ---- snapshots ----

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

KeyValueState state_with(uint64_t records) {
  KeyValueState s;
  for (uint64_t i = 1; i <= records; ++i) {
    uint8_t payload[24] = {};
    ps::journal::store_le<uint64_t>(payload, i % 1000);
    ps::journal::store_le<uint64_t>(payload + 8, i * 7);
    s.apply(ps::JournalRecordView{i, KeyValueState::kPut, sizeof payload, payload, nullptr, 0});
  }
  return s;
}

TEST(SnapshotImage, IsByteForByteTheFileSnapshotWriterWrites) {
  TempDir tmp;
  const KeyValueState state = state_with(5000);  // several entry blocks
  ps::PosixFileOps ops;
  const std::string path = tmp.path() + "/direct.snapshot";
  std::string error;
  auto sw = ps::SnapshotWriter::create(ops, path, 5000, 123456789, error);
  ASSERT_TRUE(sw) << error;
  ASSERT_EQ(state.write_snapshot(*sw), "");
  ASSERT_TRUE(sw->commit()) << sw->error();

  ps::SnapshotImage image(1 << 20);
  ASSERT_EQ(image.capture(state, 5000, 123456789), "");
  EXPECT_EQ(image.sequence(), 5000u);
  EXPECT_EQ(image.block_count(), sw->block_count());
  const std::vector<uint8_t> file = slurp(path);
  ASSERT_EQ(image.size(), file.size());
  EXPECT_TRUE(std::equal(file.begin(), file.end(), image.data()));

  // Captured again (a later interval): replaced, not appended.
  ASSERT_EQ(image.capture(state, 5000, 123456789), "");
  EXPECT_EQ(image.size(), file.size());
}

TEST(SnapshotImage, AStateLargerThanTheBufferFailsAndSaysWhichKey) {
  const KeyValueState state = state_with(5000);
  ps::SnapshotImage image(1 << 14);  // the state takes ~26 KB
  const std::string e = image.capture(state, 5000, 1);
  EXPECT_NE(e.find("snapshotBufferBytes"), std::string::npos) << e;
  EXPECT_NE(e.find("16384-byte buffer"), std::string::npos) << e;
  EXPECT_EQ(image.size(), 0u);
}

TEST(SnapshotFileThread, RenamesTheImageOnlyOnceItsSequenceIsDurable) {
  SyncGate::reset();
  TempDir tmp;
  fs::create_directories(tmp.path() + "/snapshots");
  const ps::JournalSyscalls sys = gated_syscalls();
  auto w = open_writer(tmp.path() + "/journal", &sys);
  ASSERT_TRUE(w);
  ASSERT_EQ(append_n(*w, 300), 300u);
  const KeyValueState state = state_with(300);
  ps::SnapshotImage image(1 << 20);
  ASSERT_EQ(image.capture(state, 300, 1), "");

  ps::PosixFileOps ops;
  ps::SnapshotDirectory snapshots(ops, tmp.path() + "/snapshots");
  std::vector<std::string> log;
  ps::SnapshotFileThreadOptions so;
  so.keep_snapshots = 2;
  ps::SnapshotFileThread files(ops, snapshots, *w, so, [&](ps::LogLevel, const std::string& l) { log.push_back(l); });
  files.submit(image);
  EXPECT_TRUE(files.busy());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(fs::exists(snapshots.path_of(300))) << "a snapshot beyond the durable journal";
  EXPECT_TRUE(files.busy());

  ASSERT_TRUE(w->sync());
  files.wait_idle();
  EXPECT_FALSE(files.busy());
  EXPECT_EQ(files.written(), 1u);
  EXPECT_EQ(files.failures(), 0u);
  ps::SnapshotInfo info;
  ps::SnapshotDamage damage;
  ASSERT_TRUE(ps::verify_snapshot_file(ops, snapshots.path_of(300), info, damage)) << damage.to_string();
  EXPECT_EQ(info.sequence, 300u);
  EXPECT_EQ(slurp(snapshots.path_of(300)).size(), image.size());
  EXPECT_FALSE(fs::exists(snapshots.path_of(300) + ".tmp"));
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("Snapshot taken at sequence 300"), std::string::npos) << log.back();
  w->close();
}

TEST(SnapshotFileThread, DropsTheImageWhenTheJournalFailsBeforeItIsDurable) {
  SyncGate::reset();
  TempDir tmp;
  fs::create_directories(tmp.path() + "/snapshots");
  const ps::JournalSyscalls sys = gated_syscalls();
  auto w = open_writer(tmp.path() + "/journal", &sys);
  ASSERT_TRUE(w);
  ASSERT_EQ(append_n(*w, 10), 10u);
  const KeyValueState state = state_with(10);
  ps::SnapshotImage image(1 << 20);
  ASSERT_EQ(image.capture(state, 10, 1), "");

  ps::PosixFileOps ops;
  ps::SnapshotDirectory snapshots(ops, tmp.path() + "/snapshots");
  std::vector<std::string> log;
  ps::SnapshotFileThread files(ops, snapshots, *w, {}, [&](ps::LogLevel, const std::string& l) { log.push_back(l); });
  files.submit(image);
  SyncGate::fail = true;
  EXPECT_FALSE(w->sync());
  files.wait_idle();
  EXPECT_EQ(files.written(), 0u);
  EXPECT_EQ(files.failures(), 1u);
  EXPECT_FALSE(fs::exists(snapshots.path_of(10)));
  EXPECT_FALSE(fs::exists(snapshots.path_of(10) + ".tmp"));
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("dropped: the journal failed"), std::string::npos) << log.back();
}

}  // namespace
