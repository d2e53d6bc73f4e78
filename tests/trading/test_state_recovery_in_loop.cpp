// Recovery exactness over the whole journaled state (docs/recovery.md): the closed loop runs a generated
// day with random risk controls (limits set, some refused, the kill switch engaged and released, the rate
// bucket reset) while the market data of the quoted symbols is journaled as the book stage does it
// (core/pipeline/book_stage.cpp: the book-affecting messages of the watched locates). At several cut
// points the live shadow's digest (books, orders, positions, sessions, risk) is recorded, and its books
// and risk state are compared with the live BookBuilder's and the stage's. At the end each cut point is
// rebuilt from the journal alone (sequence 1..N) and must give the digest recorded at N; a crash then
// recover_state() (snapshot + replay) must give the final live digest.
// PMM_STATE_RECOVERY_SEEDS=N runs more seeds.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "core/pipeline/market_data_journal.hpp"
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

app::JournaledBooksConfig books_config(const risk::TradingConfig& c) {
  app::JournaledBooksConfig b;
  b.max_books = static_cast<uint32_t>(c.symbols.size());
  return b;
}

// The appliance's persistence with both rings: the trading stage's and the book stage's.
struct Persistence {
  Persistence(const ps::PersistenceConfig& pc, const risk::TradingConfig& tc, ps::FileOps& ops)
      : shadow(tc.orders, tc.risk, books_config(tc)), ring(1u << 16), md_ring(1u << 16), journal(ring), md_journal(md_ring) {
    result = ps::recover_state(pc, ops, shadow, [this](ps::LogLevel, const std::string& l) { log += l + "\n"; });
    if (result.status == ps::RecoveryStatus::Failed) return;
    ps::JournalWriterOptions wo;
    wo.directory = pc.journal_directory();
    wo.segment_bytes = pc.journal_segment_bytes;
    wo.first_sequence = result.next_sequence;
    std::string e;
    writer = ps::JournalWriter::open(wo, e);
    EXPECT_NE(writer, nullptr) << e;
    core = std::make_unique<ps::JournalCore>(*writer, std::vector<ps::JournalRing*>{&ring, &md_ring},
                                             ps::JournalCoreOptions{64, 1000});
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

  app::TradingShadowState shadow;
  ps::JournalRing ring, md_ring;
  app::RingTradingJournal journal;
  app::RingMarketDataJournal md_journal;
  ps::RecoveryResult result;
  std::unique_ptr<ps::JournalWriter> writer;
  std::unique_ptr<ps::JournalCore> core;
  std::string log;
};

std::vector<uint16_t> quoted_locates(const std::vector<std::string>& symbols) {
  std::vector<uint16_t> out;
  for (const std::string& s : symbols) {
    const auto it = std::find(day().symbols.begin(), day().symbols.end(), s);
    out.push_back(static_cast<uint16_t>(it - day().symbols.begin() + 1));
  }
  return out;
}

// The book stage's rule: a book-affecting message of a quoted locate is journaled, one record each.
void journal_market_data(size_t index, const std::vector<uint16_t>& locates, pipe::MarketDataJournal& j) {
  const uint8_t* m = day().message(index);
  const uint16_t locate = load_be16(m + 1);
  if (!pipe::md_records::journaled(m[0]) || std::find(locates.begin(), locates.end(), locate) == locates.end()) return;
  ASSERT_TRUE(j.append(pipe::md_records::kItchMessage, m, static_cast<uint16_t>(day().length(index))));
}

int64_t between(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// Mostly changes that keep the loop quoting; some the stage refuses; the kill switch now and then.
risk::RiskControl random_control(std::mt19937_64& rng, size_t symbols, uint64_t id) {
  using risk::RiskLimitId;
  const auto per_symbol_value = [&](RiskLimitId l) -> int64_t {
    switch (l) {
      case RiskLimitId::kMaxPosition: return between(rng, 50'000, 200'000);
      case RiskLimitId::kMaxOrderShares: return between(rng, 1'000, 100'000);
      case RiskLimitId::kMaxOrderNotional: return between(rng, 10'000'000, 1'000'000'000);
      case RiskLimitId::kMaxOpenOrdersPerSymbol: return between(rng, 4, 32);
      default: return between(rng, 500, 2000);  // collar bps
    }
  };
  const auto per_symbol_id = [&] { return static_cast<RiskLimitId>(rng() % risk::kPerSymbolLimitCount); };
  switch (rng() % 8) {
    case 0:
      return risk::kill_switch_control(rng() % 3 == 0, id);
    case 1:
    case 2: {
      const RiskLimitId l = per_symbol_id();
      return risk::global_limit_control(l, per_symbol_value(l), id);
    }
    case 3:
    case 4: {
      const RiskLimitId l = per_symbol_id();
      return risk::symbol_limit_control(static_cast<uint16_t>(rng() % symbols), l, per_symbol_value(l), id);
    }
    case 5:
      switch (rng() % 4) {
        case 0: return risk::global_limit_control(RiskLimitId::kMaxTotalPosition, between(rng, 500'000, 2'000'000), id);
        case 1: return risk::global_limit_control(RiskLimitId::kMaxOpenOrders, between(rng, 16, 128), id);
        case 2: return risk::global_limit_control(RiskLimitId::kMaxOrdersPerSecond, between(rng, 1'000, 100'000), id);
        default: return risk::global_limit_control(RiskLimitId::kOrderBurst, between(rng, 100, 1'000), id);
      }
    case 6:
      return risk::reset_rate_bucket_control(id);
    default:  // refused: out of range, or a symbol that is not configured
      return rng() % 2 == 0 ? risk::global_limit_control(RiskLimitId::kPriceCollarBps, 20'000, id)
                            : risk::symbol_limit_control(200, RiskLimitId::kMaxPosition, 1000, id);
  }
}

void expect_books_match_live(const TradingLoop& loop, const app::TradingShadowState& shadow,
                             const std::vector<uint16_t>& locates) {
  for (const uint16_t l : locates) {
    EXPECT_EQ(shadow.books().books().top(l), loop.book().books().top(l)) << "locate " << l << " at " << loop.index();
    for (const book::Side side : {book::Side::kBid, book::Side::kAsk}) {
      book::LevelView mine[16], live[16];
      const size_t n = shadow.books().books().depth(l, side, mine, 16);
      ASSERT_EQ(n, loop.book().books().depth(l, side, live, 16)) << "locate " << l;
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(mine[i], live[i]) << "locate " << l << " level " << i;
    }
  }
}

void expect_risk_matches_stage(const TradingLoop& loop, const app::TradingShadowState& shadow) {
  risk::RiskStateSnapshot live, mine;
  loop.stage().risk().snapshot(live);
  shadow.risk_state(mine);
  EXPECT_EQ(mine.kill_switch, live.kill_switch) << "at " << loop.index();
  EXPECT_EQ(std::memcmp(&mine.defaults, &live.defaults, sizeof live.defaults), 0);
  EXPECT_EQ(mine.max_total_position, live.max_total_position);
  EXPECT_EQ(mine.max_open_orders, live.max_open_orders);
  EXPECT_EQ(mine.max_orders_per_second, live.max_orders_per_second);
  EXPECT_EQ(mine.order_burst, live.order_burst);
  for (uint16_t i = 0; i < live.symbol_count; ++i) {
    EXPECT_EQ(std::memcmp(&mine.symbols[i].limits, &live.symbols[i].limits, sizeof live.symbols[i].limits), 0) << i;
    EXPECT_EQ(mine.symbols[i].overridden, live.symbols[i].overridden) << i;
  }
}

struct Cut {
  uint64_t sequence = 0;
  uint64_t digest = 0;
};

void run(uint64_t seed) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 3);
  const std::vector<uint16_t> locates = quoted_locates(symbols);
  risk::TradingConfig config = trading_config(symbols, kStrategy, loose_limits(symbols));
  config.heartbeat_ns = 0;
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("pmm-state-recovery-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  std::filesystem::remove_all(dir);
  ps::PersistenceConfig pc;
  pc.data_directory = dir.string();
  pc.journal_segment_bytes = 1u << 20;
  ps::PosixFileOps ops;

  std::mt19937_64 rng(seed);
  const size_t stop_at = day().size() / 2 + rng() % (day().size() / 2);
  const size_t snapshot_at = day().size() / 8 + rng() % (day().size() / 4);
  const size_t cut_every = stop_at / 6;

  auto live = std::make_unique<Persistence>(pc, config, ops);
  ASSERT_EQ(live->result.status, ps::RecoveryStatus::CleanStart) << live->log;
  TradingLoop loop(day(), config, LoopOptions{});
  loop.stage().set_journal(&live->journal);
  std::vector<Cut> cuts;
  uint64_t control_id = 0, most_orders = 0;
  while (loop.index() < stop_at) {
    const size_t index = loop.index();
    journal_market_data(index, locates, live->md_journal);  // before the book applies it, as the book stage
    if (!loop.step()) break;
    if (rng() % 400 == 0) {
      ASSERT_TRUE(loop.stage().risk_controls().submit(random_control(rng, symbols.size(), ++control_id)));
    }
    live->drain();
    most_orders = std::max<uint64_t>(most_orders, live->shadow.books().live_orders());
    if (loop.index() == snapshot_at) {
      live->sync();
      const ps::SnapshotTakeResult t =
          ps::take_snapshot(live->shadow, live->shadow.sequence(), live->result.directory->snapshots(), 3, {});
      ASSERT_TRUE(t.ok) << t.error;
    }
    if (loop.index() % cut_every == 0) {
      live->sync();
      cuts.push_back({live->shadow.sequence(), live->shadow.digest()});
      expect_books_match_live(loop, live->shadow, locates);
      expect_risk_matches_stage(loop, live->shadow);
      ASSERT_EQ(live->shadow.apply_errors(), 0u) << live->shadow.first_apply_error();
    }
    if (::testing::Test::HasFailure()) return;
  }
  live->sync();
  expect_books_match_live(loop, live->shadow, locates);
  expect_risk_matches_stage(loop, live->shadow);
  const risk::RiskCounters& rc = loop.stage().risk().counters();
  EXPECT_GT(rc.controls_applied.get(), 3u);
  EXPECT_GT(rc.controls_refused.get(), 0u);
  EXPECT_EQ(live->shadow.risk_controls_refused(), rc.controls_refused.get());
  EXPECT_EQ(live->shadow.books().book_count(), locates.size());
  EXPECT_GT(most_orders, 10u);
  EXPECT_GT(loop.stage().figures().orders_sent.get(), 10u);
  EXPECT_GT(loop.stage().figures().fills.get(), 0u);
  EXPECT_EQ(live->shadow.books().lost(), 0u);
  EXPECT_EQ(loop.stage().figures().journal_lost.get(), 0u);
  ASSERT_GE(cuts.size(), 5u);
  const Cut final_cut{live->shadow.sequence(), live->shadow.digest()};
  live->writer->abandon();  // a crash after a sync
  live.reset();

  // Every cut point from the journal alone.
  for (const Cut& c : cuts) {
    app::TradingShadowState s(config.orders, config.risk, books_config(config));
    const ps::JournalReplayResult r = ps::replay_journal(pc.journal_directory(), {}, [&](const ps::JournalRecordView& v) {
      if (v.sequence > c.sequence) return false;
      s.apply(v);
      return true;
    });
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(s.sequence(), c.sequence);
    EXPECT_EQ(s.digest(), c.digest) << "replayed to journal sequence " << c.sequence;
    EXPECT_EQ(s.apply_errors(), 0u) << s.first_apply_error();
  }
  // Snapshot + the rest of the journal.
  Persistence recovered(pc, config, ops);
  ASSERT_EQ(recovered.result.status, ps::RecoveryStatus::Success) << recovered.log;
  EXPECT_TRUE(recovered.result.snapshot_used) << recovered.log;
  EXPECT_EQ(recovered.result.recovered_sequence, final_cut.sequence);
  EXPECT_EQ(recovered.shadow.digest(), final_cut.digest) << recovered.log;
  EXPECT_EQ(recovered.shadow.apply_errors(), 0u) << recovered.shadow.first_apply_error();
  expect_books_match_live(loop, recovered.shadow, locates);  // the loop's books are still those at the crash
  expect_risk_matches_stage(loop, recovered.shadow);
  recovered.writer->close();
  std::filesystem::remove_all(dir);
}

uint64_t seeds() {
  const char* e = std::getenv("PMM_STATE_RECOVERY_SEEDS");
  return e != nullptr ? std::strtoull(e, nullptr, 10) : 2;
}

TEST(StateRecoveryInLoop, BooksRiskAndOrdersRecoverToTheLiveDigestAtEveryCut) {
  for (uint64_t s = 1; s <= seeds(); ++s) {
    SCOPED_TRACE("seed " + std::to_string(s));
    run(s);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace pmm::trading_test
