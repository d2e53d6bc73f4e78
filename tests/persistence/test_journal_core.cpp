// JournalRing (bounded, counted, closable), JournalCore (several producer threads, one journal core
// thread; the journal must hold every producer's records in its own order, with one sequence for
// all) and the fail-stop path from a sync error to full() on the producers' side; PersistenceConfig
// parsing (every error names its dotted key).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "persistence/journal_core.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/persistence_config.hpp"
#include "tests/persistence/journal_test_util.hpp"

namespace {

namespace ps = pmm::persistence;
using journal_test::TempDir;

TEST(JournalRing, FullIsCountedAndSignalled) {
  ps::JournalRing ring(64);
  uint64_t v = 0;
  for (; v < 64; ++v) {
    EXPECT_FALSE(ring.full());
    ASSERT_TRUE(ring.enqueue(20, &v, sizeof v));
  }
  EXPECT_TRUE(ring.full());
  EXPECT_FALSE(ring.enqueue(20, &v, sizeof v));
  EXPECT_FALSE(ring.enqueue(20, &v, sizeof v));
  EXPECT_EQ(ring.rejected(), 2u);
  ps::JournalEntry out[4];
  ASSERT_EQ(ring.pop_burst(out, 4), 4u);
  EXPECT_EQ(out[0].type, 20);
  EXPECT_EQ(out[0].length, sizeof v);
  uint64_t got;
  std::memcpy(&got, out[3].payload, sizeof got);
  EXPECT_EQ(got, 3u);
  EXPECT_FALSE(ring.full());
  EXPECT_TRUE(ring.enqueue(20, &v, sizeof v));
  ring.close();
  EXPECT_TRUE(ring.full());
  EXPECT_FALSE(ring.enqueue(20, &v, sizeof v));
  EXPECT_EQ(ring.rejected(), 3u);
}

struct Tagged {
  uint32_t producer;
  uint32_t index;
};

TEST(JournalCore, ThreeProducersOneTotalOrder) {
  TempDir tmp;
  ps::JournalWriterOptions o;
  o.directory = tmp.journal();
  o.segment_bytes = 256 * 1024;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  ASSERT_TRUE(w) << error;

  constexpr uint32_t kProducers = 3;
  constexpr uint32_t kPerProducer = 20000;
  std::vector<std::unique_ptr<ps::JournalRing>> rings;
  std::vector<ps::JournalRing*> raw;
  for (uint32_t p = 0; p < kProducers; ++p) {
    rings.push_back(std::make_unique<ps::JournalRing>(256));
    raw.push_back(rings.back().get());
  }
  ps::JournalCoreOptions co;
  co.burst = 16;
  co.sync_interval_ms = 2;
  ps::JournalCore core(*w, raw, co);
  std::atomic<bool> stop{false};
  std::thread journal_thread([&] { core.run(stop); });
  std::vector<std::thread> producers;
  std::vector<uint64_t> refused(kProducers, 0);
  for (uint32_t p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (uint32_t i = 0; i < kPerProducer; ++i) {
        const Tagged t{p, i};
        // A test producer waits for room; a quoting core would stop quoting instead.
        while (!rings[p]->enqueue(static_cast<uint16_t>(100 + p), &t, sizeof t)) ++refused[p];
      }
    });
  for (auto& t : producers) t.join();
  stop.store(true, std::memory_order_release);
  journal_thread.join();

  const uint64_t total = uint64_t{kProducers} * kPerProducer;
  EXPECT_EQ(core.records(), total);
  EXPECT_EQ(core.durable_sequence(), total);
  EXPECT_GE(core.syncs(), 2u);
  for (uint32_t p = 0; p < kProducers; ++p) EXPECT_EQ(rings[p]->rejected(), refused[p]);
  ASSERT_TRUE(w->close());

  std::vector<uint32_t> next(kProducers, 0);
  uint64_t seq = 0;
  bool ok = true;
  const auto r = ps::replay_journal(tmp.journal(), {}, [&](const ps::JournalRecordView& v) {
    Tagged t;
    ok = ok && v.sequence == ++seq && v.length == sizeof t;
    std::memcpy(&t, v.payload, sizeof t);
    ok = ok && t.producer < kProducers && v.type == 100 + t.producer && t.index == next[t.producer]++;
    return ok;
  });
  EXPECT_TRUE(ok) << "at sequence " << seq;
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.report.status, ps::JournalStatus::Clean) << r.report.summary();
  EXPECT_EQ(r.report.last_sequence, total);
  EXPECT_EQ(r.report.durable_watermark, total);  // drain_and_sync() syncs twice at teardown
  for (uint32_t p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
}

int failing_msync(void*, size_t) { return EIO; }

TEST(JournalCore, SyncErrorClosesTheRings) {
  TempDir tmp;
  ps::JournalSyscalls sys = ps::real_journal_syscalls();
  ps::JournalWriterOptions o;
  o.directory = tmp.journal();
  o.segment_bytes = 64 * 1024;
  o.syscalls = &sys;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  ASSERT_TRUE(w) << error;
  ps::JournalRing ring(64);
  ps::JournalCore core(*w, {&ring}, ps::JournalCoreOptions{});
  uint32_t v = 1;
  ASSERT_TRUE(ring.enqueue(20, &v, sizeof v));
  EXPECT_EQ(core.run_once(), 1u);
  sys.sync_range = failing_msync;  // the disk goes bad
  ASSERT_TRUE(ring.enqueue(20, &v, sizeof v));
  core.request_sync();
  EXPECT_EQ(core.run_once(), 1u);  // hands the range to the sync thread, which fails it
  // The failure arrives from the sync thread: the next passes see it and close the rings.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!core.failed() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_TRUE(core.failed());
  EXPECT_EQ(core.run_once(), 0u);
  EXPECT_EQ(w->append(20, &v, sizeof v), 0u);  // the writer adopted it: nothing more is appended
  EXPECT_TRUE(ring.closed());
  EXPECT_TRUE(ring.full());  // the producer stops quoting
  EXPECT_FALSE(ring.enqueue(20, &v, sizeof v));
  EXPECT_EQ(core.durable_sequence(), 0u);
  EXPECT_NE(w->error().find("msync"), std::string::npos) << w->error();
  EXPECT_FALSE(core.drain_and_sync());
}

// ---- PersistenceConfig ----

std::string parse(const std::string& json, ps::PersistenceConfig& c) {
  return ps::parse_persistence_config(json, c);
}

TEST(PersistenceConfig, TheGuideExampleAndDefaults) {
  ps::PersistenceConfig c;
  EXPECT_EQ(parse(R"({"enabled": true, "dataDirectory": "data", "journalSyncIntervalMs": 100,
                      "snapshotIntervalMin": 15, "keepSnapshots": 5, "compactionThreshold": 1000000})",
                  c),
            "");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.data_directory, "data");
  EXPECT_EQ(c.journal_directory(), "data/journal");
  EXPECT_EQ(c.journal_sync_interval_ms, 100u);
  EXPECT_EQ(c.snapshot_interval_min, 15u);
  EXPECT_EQ(c.keep_snapshots, 5u);
  EXPECT_EQ(c.compaction_threshold, 1000000u);
  EXPECT_EQ(c.journal_segment_bytes, 64u << 20);
  EXPECT_EQ(parse(R"({"enabled": false, "dataDirectory": "/data/pinnaclemm", "journalSegmentBytes": 65536,
                      "journalRingSize": 1024})",
                  c),
            "");
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.data_directory, "/data/pinnaclemm");
  EXPECT_EQ(c.journal_segment_bytes, 65536u);
  EXPECT_EQ(c.journal_ring_size, 1024u);
}

TEST(PersistenceConfig, JournalCpuIsAutoMinusOneOrACpu) {
  ps::PersistenceConfig c;
  EXPECT_EQ(c.journal_cpu, ps::PersistenceConfig::kJournalCpuAuto) << "the default";
  EXPECT_EQ(parse(R"({"journalCpu": 7})", c), "");
  EXPECT_EQ(c.journal_cpu, 7);
  EXPECT_EQ(parse(R"({"journalCpu": -1})", c), "");
  EXPECT_EQ(c.journal_cpu, -1);
  EXPECT_EQ(parse(R"({"journalCpu": "auto"})", c), "");
  EXPECT_EQ(c.journal_cpu, ps::PersistenceConfig::kJournalCpuAuto);
  EXPECT_EQ(parse(R"({"journalCpu": 4095})", c), "");
  EXPECT_EQ(c.journal_cpu, 4095);
  const std::string form = "persistence.journalCpu: expected \"auto\", -1 (unpinned) or a CPU number from 0 to 4095";
  for (const char* bad : {R"({"journalCpu": -2})", R"({"journalCpu": 4096})", R"({"journalCpu": "7"})",
                          R"({"journalCpu": "Auto"})", R"({"journalCpu": 1.5})", R"({"journalCpu": null})"}) {
    ps::PersistenceConfig d;
    EXPECT_EQ(parse(bad, d), form) << bad;
    EXPECT_EQ(d.journal_cpu, ps::PersistenceConfig::kJournalCpuAuto) << bad << ": left untouched";
  }
}

TEST(PersistenceConfig, ErrorsNameTheDottedKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"journalSyncIntervalMs": 0})", "persistence.journalSyncIntervalMs: expected an integer from 1 to 60000"},
      {R"({"journalSyncIntervalMs": "100"})", "persistence.journalSyncIntervalMs: expected an integer from 1 to 60000"},
      {R"({"journalSyncIntervalMs": 1.5})", "persistence.journalSyncIntervalMs: expected an integer from 1 to 60000"},
      {R"({"enabled": 1})", "persistence.enabled: expected true or false"},
      {R"({"dataDirectory": ""})", "persistence.dataDirectory: expected a non-empty path string"},
      {R"({"dataDirectory": 5})", "persistence.dataDirectory: expected a non-empty path string"},
      {R"({"snapshotIntervalMin": 0})", "persistence.snapshotIntervalMin: expected an integer from 1 to 1440"},
      {R"({"keepSnapshots": 1001})", "persistence.keepSnapshots: expected an integer from 1 to 1000"},
      {R"({"compactionThreshold": -1})",
       "persistence.compactionThreshold: expected an integer from 1 to 1125899906842624"},
      {R"({"journalSegmentBytes": 65537})",
       "persistence.journalSegmentBytes: expected an integer from 65536 to 1073741824, a multiple of 4096"},
      {R"({"journalSegmentBytes": 4096})",
       "persistence.journalSegmentBytes: expected an integer from 65536 to 1073741824, a multiple of 4096"},
      {R"({"journalRingSize": 1000})", "persistence.journalRingSize: expected an integer from 64 to 16777216, a power of two"},
      {R"({"snapshotBufferBytes": 1048575})",
       "persistence.snapshotBufferBytes: expected an integer from 1048576 to 68719476736"},
      {R"({"journalSyncIntervallMs": 100})", "persistence.journalSyncIntervallMs: unknown key"},
      {R"([1, 2])", "persistence: expected an object"},
  };
  for (const auto& [json, want] : cases) {
    ps::PersistenceConfig c;
    EXPECT_EQ(parse(json, c), want) << json;
  }
  ps::PersistenceConfig c;
  EXPECT_EQ(parse("{", c).rfind("persistence: JSON error at byte", 0), 0u);
}

TEST(PersistenceConfig, FromAValueInsideALargerDocument) {
  rapidjson::Document doc;
  doc.Parse(R"({"persistence": {"keepSnapshots": 7}, "other": 1})");
  ps::PersistenceConfig c;
  EXPECT_EQ(ps::parse_persistence_config(doc["persistence"], c), "");
  EXPECT_EQ(c.keep_snapshots, 7u);
  EXPECT_EQ(c.snapshot_buffer_bytes, uint64_t{64} << 20);  // the default, documented in docs/journal.md
}

}  // namespace
