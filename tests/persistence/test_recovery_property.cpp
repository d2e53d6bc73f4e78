// Recovery exactness as a property: random runs of records applied live (the shadow copy) and journaled,
// random group commits, snapshots at random durable points, compaction, and sessions that end in a clean
// shutdown, a crash, or a crash whose unsynced tail a power loss tore. After every restart the recovered
// state's digest must equal the live state's digest at the recovered sequence, and that sequence must
// not be before what was durable. PMM_RECOVERY_PROPERTY_SEEDS=N runs more seeds (default 6).
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "persistence/journal_compaction.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "tests/persistence/recovery_fixture.hpp"

namespace {

namespace ps = pmm::persistence;
namespace jt = journal_test;
using recovery_test::Bytes;
using ps::RecoveryStatus;
using ps::testing::KeyValueState;

class RecoveryProperty : public recovery_test::RecoveryFixture {
 protected:
  Bytes random_payload(std::mt19937_64& rng, uint16_t& type) {
    const uint64_t pick = rng() % 100;
    const uint64_t key = rng() % 64;
    Bytes p;
    if (pick < 60) {
      type = KeyValueState::kPut;
      p.resize(8 + rng() % 193);
      for (size_t k = 8; k < p.size(); ++k) p[k] = static_cast<uint8_t>(rng());
    } else if (pick < 85) {
      type = KeyValueState::kErase;
      p.resize(8);
    } else if (pick < 95) {
      type = 30;  // a type this state does not know: counted, ignored
      p.resize(rng() % 40);
    } else {
      type = KeyValueState::kPut;  // too short to hold a key
      p.resize(rng() % 8);
    }
    if (p.size() >= 8) ps::journal::store_le<uint64_t>(p.data(), key);
    return p;
  }
};

TEST_F(RecoveryProperty, RecoveredDigestEqualsTheLiveDigestAtTheRecoveredSequence) {
  const char* env = std::getenv("PMM_RECOVERY_PROPERTY_SEEDS");
  const uint64_t seeds = env != nullptr ? std::strtoull(env, nullptr, 10) : 6;
  const std::string base = tmp.path();
  config.compaction_threshold = 48 * 1024;  // three 16 KiB segments: compaction runs often
  uint64_t clean_stops = 0, snapshots_taken = 0, compacted = 0, torn = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    config.data_directory = base + "/seed" + std::to_string(seed);
    digests.clear();
    live.reset();
    std::mt19937_64 rng(seed);
    uint64_t durable_at_stop = 0;
    for (int session = 0; session < 5; ++session) {
      SCOPED_TRACE("session " + std::to_string(session));
      start_live();
      if (HasFatalFailure()) return;
      const uint64_t recovered = writer->last_sequence();
      ASSERT_GE(recovered, durable_at_stop) << "durable records lost\n" << log_text();
      ASSERT_EQ(live.digest(), digests.at(recovered)) << log_text();

      const uint64_t n = 200 + rng() % 1200;
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t type = 0;
        const Bytes p = random_payload(rng, type);
        append(type, p);
        if (rng() % 40 == 0) {
          sync();
          if (rng() % 4 == 0) {
            const ps::SnapshotTakeResult snap = snapshot(3);
            ASSERT_TRUE(snap.ok) << snap.error;
            ++snapshots_taken;
            const ps::CompactionResult c = ps::compact_journal(ops, journal_dir(), snap.oldest_retained_sequence,
                                                               config.compaction_threshold, logger);
            ASSERT_TRUE(c.error.empty()) << c.error;
            compacted += c.deleted.size();
          }
        }
      }
      const uint64_t how = rng() % 3;
      if (how == 0) {  // clean shutdown
        ++clean_stops;
        close_writer();
        durable_at_stop = live.last_sequence();
        std::string error;
        ASSERT_TRUE(ps::clean_shutdown(live, durable_at_stop, *directory, 3, logger, error)) << error;
        directory.reset();
        continue;
      }
      durable_at_stop = writer->durable_sequence();
      const uint64_t last = writer->last_sequence();
      crash_writer();
      directory.reset();
      if (how == 2 && last > durable_at_stop) {
        // A power loss tore one record after the durable point: flip a byte of it.
        const auto segs = recovery_test::segments(journal_dir());
        const jt::RawSegment raw = jt::walk_segment(segs.back());
        const uint64_t victim = durable_at_stop + 1 + rng() % (last - durable_at_stop);
        if (const jt::RawRecord* r = jt::find_user_record(raw, victim); r != nullptr) {
          recovery_test::flip_byte(segs.back(), r->offset + 4);
          ++torn;
        }
      }
    }
    KeyValueState final_state;
    const ps::RecoveryResult r = recover(final_state);
    ASSERT_EQ(r.status, RecoveryStatus::Success) << r.reason;
    ASSERT_GE(r.recovered_sequence, durable_at_stop);
    EXPECT_EQ(final_state.digest(), digests.at(r.recovered_sequence));
  }
  // Every path was taken at least once (the seeds are fixed, so this is about the test, not luck).
  EXPECT_GT(clean_stops, 0u);
  EXPECT_GT(snapshots_taken, 0u);
  EXPECT_GT(compacted, 0u);
  EXPECT_GT(torn, 0u);
  EXPECT_GT(tails_repaired, 0u);
  EXPECT_GT(recovered_from_snapshot, 0u);
  std::printf("%" PRIu64 " seeds: %" PRIu64 " clean stops, %" PRIu64 " snapshots, %" PRIu64
              " segments compacted, %" PRIu64 " torn tails (%" PRIu64 " repaired), %" PRIu64
              " recoveries from a snapshot\n",
              seeds, clean_stops, snapshots_taken, compacted, torn, tails_repaired, recovered_from_snapshot);
}

}  // namespace
