// The trading stage with its write-ahead journal in the closed loop (docs/journal-records.md): the
// real JournalRing, JournalCore (with the shadow state applied after each append) and JournalWriter on a
// temp directory, a snapshot part way, then a crash at a seeded random point after a sync (the stage
// and its rings dropped, the writer abandoned without a sync) or a clean shutdown; recover_state() into
// a new shadow, a new stage restored from it, and the loop continues with the same engine and gateway
// session. Checked: the recovered digest equals the live shadow's at the recovered sequence, the live
// stage's tracker equals the shadow's at every check, no replay error, and at the end the positions
// (shares, bought, sold) equal the engine's and the unwind leaves nothing open.
// PMM_RECOVERY_LOOP_SEEDS=N runs more crash points.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "dpdk-app/trading_journal.hpp"
#include "persistence/file_ops.hpp"
#include "persistence/journal_core.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/recovery.hpp"
#include "persistence/state_snapshots.hpp"
#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

namespace ps = persistence;

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}
constexpr const char* kStrategy =
    R"({"quote_size": 100, "max_inventory": 1000, "min_requote_interval_us": 1000, "requote_threshold_ticks": 1})";

// The tracker's snapshot without its header's epoch (bytes 8..11): the shadow issues no tokens.
std::vector<uint8_t> without_epoch(std::vector<uint8_t> b) {
  for (size_t i = 8; i < 12 && i < b.size(); ++i) b[i] = 0;
  return b;
}

// One run of the appliance's persistence: recovery, writer, ring, core, shadow.
struct Persistence {
  Persistence(const ps::PersistenceConfig& pc, const orders::OrderTrackerConfig& oc, ps::FileOps& ops)
      : shadow(oc), ring(1u << 16), journal(ring) {
    result = ps::recover_state(pc, ops, shadow, [this](ps::LogLevel, const std::string& l) { log += l + "\n"; });
    if (result.status == ps::RecoveryStatus::Failed) return;
    ps::JournalWriterOptions wo;
    wo.directory = pc.journal_directory();
    wo.segment_bytes = pc.journal_segment_bytes;
    wo.first_sequence = result.next_sequence;
    std::string e;
    writer = ps::JournalWriter::open(wo, e);
    EXPECT_NE(writer, nullptr) << e;
    core = std::make_unique<ps::JournalCore>(*writer, std::vector<ps::JournalRing*>{&ring}, ps::JournalCoreOptions{64, 1000});
    core->set_on_append([this](const ps::JournalRecordView& v) { shadow.apply(v); });
  }
  void drain() {
    while (core->run_once() != 0) {
    }
  }
  void sync() {
    drain();
    core->request_sync();
    core->run_once();  // hands the group commit to the writer's sync thread
    // Durable once the sync thread's msync returned (bounded wait); then the sync marker, as the
    // journal core's next pass would append it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (writer->durable_sequence() != writer->last_sequence() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    writer->poll();
    ASSERT_EQ(writer->durable_sequence(), writer->last_sequence());
  }
  std::unique_ptr<risk::TradingStage> restored_stage(risk::TradingConfig config, const pipe::QuoteWiring& w,
                                                     orders::OrderEventSink& sink) {
    auto s = std::make_unique<risk::TradingStage>(config, w, sink);
    const std::vector<uint8_t> bytes = shadow.tracker_bytes();
    const std::string e = s->restore(bytes.data(), bytes.size(), shadow.next_outbound(), shadow.expected_inbound());
    EXPECT_EQ(e, "");
    s->set_journal(&journal);
    return s;
  }

  app::TradingShadowState shadow;
  ps::JournalRing ring;
  app::RingTradingJournal journal;
  ps::RecoveryResult result;
  std::unique_ptr<ps::JournalWriter> writer;
  std::unique_ptr<ps::JournalCore> core;
  std::string log;
};

void expect_stage_is_shadow(const TradingLoop& loop, const app::TradingShadowState& shadow) {
  EXPECT_EQ(without_epoch(loop.stage().tracker().snapshot()), without_epoch(shadow.tracker_bytes()))
      << "at feed message " << loop.index();
  EXPECT_EQ(shadow.apply_errors(), 0u) << shadow.first_apply_error();
}

void run(uint64_t seed, bool clean) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 3);
  risk::TradingConfig config = trading_config(symbols, kStrategy, loose_limits(symbols));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("pmm-trading-recovery-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  std::filesystem::remove_all(dir);
  ps::PersistenceConfig pc;
  pc.data_directory = dir.string();
  pc.journal_segment_bytes = 256u << 10;  // several segments: rollovers during the run
  ps::PosixFileOps ops;

  std::mt19937_64 rng(seed);
  const size_t snapshot_at = day().size() / 8 + rng() % (day().size() / 4);
  const size_t stop_at = snapshot_at + 1 + rng() % (day().size() / 2);

  auto first = std::make_unique<Persistence>(pc, config.orders, ops);
  ASSERT_EQ(first->result.status, ps::RecoveryStatus::CleanStart) << first->log;
  TradingLoop loop(day(), config, LoopOptions{});
  loop.stage().set_journal(&first->journal);
  while (loop.index() < stop_at && loop.step()) {
    first->drain();
    if (loop.index() == snapshot_at) {
      first->sync();
      const ps::SnapshotTakeResult t =
          ps::take_snapshot(first->shadow, first->shadow.sequence(), first->result.directory->snapshots(), 3, {});
      ASSERT_TRUE(t.ok) << t.error;
    }
    if (loop.index() % 2000 == 0) expect_stage_is_shadow(loop, first->shadow);
    if (::testing::Test::HasFailure()) return;
  }
  first->sync();
  expect_stage_is_shadow(loop, first->shadow);
  const uint64_t live_digest = first->shadow.digest();
  const uint64_t live_sequence = first->shadow.sequence();
  ASSERT_GT(live_sequence, 100u);
  EXPECT_EQ(loop.stage().figures().journal_full.get(), 0u);
  EXPECT_EQ(loop.stage().figures().journal_lost.get(), 0u);
  if (clean) {
    first->core->drain_and_sync();
    ASSERT_TRUE(first->writer->close());
    std::string e;
    ASSERT_TRUE(ps::clean_shutdown(first->shadow, first->writer->last_sequence(), *first->result.directory, 3, {}, e)) << e;
  } else {
    first->writer->abandon();  // a crash: no sync, no snapshot, no marker
  }
  first.reset();

  // The restart: recovery, then a new stage (a new token epoch) restored from the recovered state.
  Persistence second(pc, config.orders, ops);
  ASSERT_EQ(second.result.status, ps::RecoveryStatus::Success) << second.log;
  EXPECT_EQ(second.result.recovered_sequence, live_sequence);
  EXPECT_EQ(second.shadow.digest(), live_digest) << second.log;
  EXPECT_EQ(second.shadow.apply_errors(), 0u) << second.shadow.first_apply_error();
  EXPECT_TRUE(second.result.snapshot_used) << second.log;
  EXPECT_EQ(second.result.clean_shutdown, clean);
  if (clean) EXPECT_EQ(second.result.records_replayed, 0u);
  else EXPECT_GT(second.result.records_replayed, 0u);
  risk::TradingConfig config2 = config;
  config2.epoch = config.epoch + 1;
  config2.heartbeat_ns = 0;  // the restored stage would announce its next sequence at once; the loop takes no heartbeats
  loop.replace_stage([&](const pipe::QuoteWiring& w, orders::OrderEventSink& sink) {
    return second.restored_stage(config2, w, sink);
  });
  expect_stage_is_shadow(loop, second.shadow);
  while (loop.step()) {
    second.drain();
    if (loop.index() % 2000 == 0) expect_stage_is_shadow(loop, second.shadow);
    if (::testing::Test::HasFailure()) return;
  }
  loop.finish_feed();
  second.drain();
  // The restored stage took over the live orders and kept quoting (this day is quiet late on, so the
  // count is small: replaces and cancels of the orders it took over, new orders after fills).
  EXPECT_GT(loop.stage().figures().restored_orders.get(), 0u);
  EXPECT_GT(loop.stage().figures().orders_sent.get(), 0u) << "quoting resumed after the restart";
  EXPECT_EQ(loop.stage().figures().bad_messages.get(), 0u);
  EXPECT_GT(loop.engine().stats().executions, 0u);
  expect_stage_is_shadow(loop, second.shadow);
  // The engine's truth: positions, shares bought and sold.
  EXPECT_EQ(loop.stage_positions(), loop.engine_positions());
  for (const sim::PositionView& p : loop.engine().positions(loop.account())) {
    const int s = loop.symbol_of_locate(p.locate);
    ASSERT_GE(s, 0);
    const orders::Position& mine = loop.stage().tracker().positions().position(static_cast<uint32_t>(s));
    EXPECT_EQ(mine.bought, p.bought);
    EXPECT_EQ(mine.sold, p.sold);
  }
  EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders());
  loop.stage().request_unwind();
  for (int i = 0; i < 5 && !loop.stage().unwound(); ++i) loop.pump();
  second.drain();
  EXPECT_TRUE(loop.stage().unwound());
  EXPECT_TRUE(loop.engine_open_orders().empty());
  expect_stage_is_shadow(loop, second.shadow);
  second.core->drain_and_sync();
  second.writer->close();
  std::filesystem::remove_all(dir);
}

uint64_t seeds() {
  const char* e = std::getenv("PMM_RECOVERY_LOOP_SEEDS");
  return e != nullptr ? std::strtoull(e, nullptr, 10) : 2;
}

TEST(TradingRecoveryInLoop, CrashAfterASyncRecoversExactlyAndPositionsMatchTheEngine) {
  for (uint64_t s = 1; s <= seeds(); ++s) {
    SCOPED_TRACE("seed " + std::to_string(s));
    run(s, false);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(TradingRecoveryInLoop, CleanShutdownAndRestartReplaysNothing) {
  SCOPED_TRACE("seed 101");
  run(101, true);
}

// The gap of docs/journal-records.md ("kill -9 between enqueue and drain"), made deterministic: the
// journal core stops draining (its ring keeps the records) for a stretch in which the stage sends
// requests, and the process dies then, so the ring's records are lost while the gateway has the
// messages. The restarted stage recovers a lower next outbound sequence than the gateway expects. With
// the session login the gateway echoes those k requests, the stage takes them as sent (tracker,
// journal, numbering) and continues after them: no sequence used twice, every order known, positions
// equal the engine's. Without it (login off) the same crash reuses numbers: the gateway drops them.
struct PausedJournalRun {
  uint64_t lost_requests = 0;     // the gateway's expected minus the recovered next outbound
  uint64_t duplicates_after = 0;  // messages the gateway dropped as duplicates after the restart
};

PausedJournalRun run_journal_paused(uint64_t seed, bool login) {
  PausedJournalRun out;
  const std::vector<std::string> symbols = most_active_symbols(day(), 3);
  risk::TradingConfig config = trading_config(symbols, kStrategy, loose_limits(symbols));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("pmm-trading-paused-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  std::filesystem::remove_all(dir);
  ps::PersistenceConfig pc;
  pc.data_directory = dir.string();
  pc.journal_segment_bytes = 256u << 10;
  ps::PosixFileOps ops;
  std::mt19937_64 rng(seed);
  const size_t pause_at = day().size() / 8 + rng() % (day().size() / 4);

  auto first = std::make_unique<Persistence>(pc, config.orders, ops);
  EXPECT_EQ(first->result.status, ps::RecoveryStatus::CleanStart) << first->log;
  TradingLoop loop(day(), config, LoopOptions{});
  EXPECT_EQ(loop.stage().figures().login_state.get(), 2u) << "a fresh stage logs in against a fresh gateway";
  loop.stage().set_journal(&first->journal);
  while (loop.index() < pause_at && loop.step()) first->drain();
  first->sync();
  // The journal core pauses: run until the stage sent a few requests whose records stay in the ring.
  const uint64_t sent_before = loop.stage().figures().orders_sent.get();
  while (loop.stage().figures().orders_sent.get() < sent_before + 5 && loop.step()) {
  }
  first->writer->abandon();  // kill -9: the ring's records die with the process
  first.reset();

  Persistence second(pc, config.orders, ops);
  EXPECT_EQ(second.result.status, ps::RecoveryStatus::Success) << second.log;
  EXPECT_EQ(second.shadow.apply_errors(), 0u) << second.shadow.first_apply_error();
  out.lost_requests = loop.gateway_receiver().expected() - second.shadow.next_outbound();
  EXPECT_GE(out.lost_requests, 5u) << "the crash must lose requests the gateway has";
  const uint64_t duplicates_before = loop.gateway_receiver().counters().duplicates;
  risk::TradingConfig config2 = config;
  config2.epoch = config.epoch + 1;
  config2.heartbeat_ns = 0;
  config2.login = login;
  loop.replace_stage([&](const pipe::QuoteWiring& w, orders::OrderEventSink& sink) {
    return second.restored_stage(config2, w, sink);
  });
  second.drain();
  if (login) {
    const risk::TradingFigures& f = loop.stage().figures();
    EXPECT_EQ(f.login_state.get(), 2u) << "logged in";
    EXPECT_EQ(f.login_echoes.get(), out.lost_requests) << "every lost request echoed and taken";
    EXPECT_EQ(f.login_echo_errors.get(), 0u);
    EXPECT_EQ(loop.login_echoes(), out.lost_requests);
    expect_stage_is_shadow(loop, second.shadow);  // the echoes are in the journal
  }
  // Without the login only a stretch: enough for the reused numbers to reach the gateway.
  const size_t end = login ? day().size() : loop.index() + 3000;
  while (loop.index() < end && loop.step()) {
    if (!login && loop.gateway_receiver().counters().duplicates > duplicates_before) break;  // shown
    second.drain();
    if (login && loop.index() % 4000 == 0) expect_stage_is_shadow(loop, second.shadow);
    if (::testing::Test::HasFailure()) break;
  }
  if (login) loop.finish_feed();
  second.drain();
  out.duplicates_after = loop.gateway_receiver().counters().duplicates - duplicates_before;
  if (login && !::testing::Test::HasFailure()) {
    EXPECT_EQ(out.duplicates_after, 0u) << "no sequence number used twice";
    // Every message the engine got, in the stage's numbering: 1, 2, 3, ... with no number twice.
    const std::vector<EngineRequest>& got = loop.engine_requests();
    size_t first_wrong = got.size();
    for (size_t i = 0; i < got.size() && first_wrong == got.size(); ++i)
      if (got[i].sequence != i + 1) first_wrong = i;
    EXPECT_EQ(first_wrong, got.size()) << "engine request " << first_wrong << " has sequence "
                                       << (first_wrong < got.size() ? got[first_wrong].sequence : 0);
    EXPECT_GT(loop.stage().figures().orders_sent.get(), 0u) << "quoting resumed after the login";
    EXPECT_EQ(loop.stage().figures().bad_messages.get(), 0u);
    expect_stage_is_shadow(loop, second.shadow);
    EXPECT_EQ(loop.stage_positions(), loop.engine_positions());
    EXPECT_EQ(loop.stage_open_orders(), loop.engine_open_orders()) << "every order at the exchange is known";
    loop.stage().request_unwind();
    for (int i = 0; i < 5 && !loop.stage().unwound(); ++i) loop.pump();
    second.drain();
    EXPECT_TRUE(loop.stage().unwound());
    EXPECT_TRUE(loop.engine_open_orders().empty());
    expect_stage_is_shadow(loop, second.shadow);
  }
  second.core->drain_and_sync();
  second.writer->close();
  std::filesystem::remove_all(dir);
  return out;
}

// Seed 202 (the second by default) also loses responses some lost requests depended on (the tracker refuses
// a replace before its order's Accepted): those echoes wait for the re-requested responses.
TEST(TradingRecoveryInLoop, CrashWithRecordsStillInTheJournalRingLogsInAndReusesNoSequence) {
  for (uint64_t s = 1; s <= seeds(); ++s) {
    SCOPED_TRACE("seed " + std::to_string(s));
    run_journal_paused(200 + s, true);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(TradingRecoveryInLoop, WithoutTheLoginTheSameCrashReusesSequenceNumbers) {
  const PausedJournalRun r = run_journal_paused(201, false);
  ASSERT_GE(r.lost_requests, 5u);
  EXPECT_GT(r.duplicates_after, 0u) << "the gap this login closes did not show: the test above proves nothing";
}

}  // namespace
}  // namespace pmm::trading_test
