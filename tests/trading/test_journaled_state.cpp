// The journal records and state that issue 5 adds to the trading state (docs/journal-records.md types
// 27-30, docs/recovery.md "Risk state file"): the risk-control record's bytes and its replay on the
// shadow; the book stage journaling only the watched symbols' book messages (and the lost count when the
// ring is full); JournaledBooks against hand-worked books, its snapshot bytes and their damage; the risk
// state file's payload and the controls that take one risk state to another; and the appliance's
// TradingPersistence settling the file at start: fresh, journal, degraded (missing, corrupt), newer file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/itch.hpp"
#include "core/pipeline/book_stage.hpp"
#include "dpdk-app/journaled_books.hpp"
#include "dpdk-app/risk_state_file.hpp"
#include "dpdk-app/trading_journal.hpp"
#include "dpdk-app/trading_persistence.hpp"
#include "risk/risk_control_record.hpp"
#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

namespace ps = persistence;
namespace jr = risk::journal_records;

// ---- Risk-control record ----

TEST(RiskControlRecord, RoundTripsEveryFieldBigEndian) {
  risk::RiskControlEvent e;
  e.request_id = 0x0102030405060708;
  e.applied_ns = 77;
  e.old_value = -5;
  e.new_value = int64_t{1} << 40;
  e.kind = risk::RiskControlKind::kSetSymbolLimit;
  e.limit = risk::RiskLimitId::kPriceCollarBps;
  e.symbol = 0x0A0B;
  e.status = risk::RiskControlStatus::kApplied;
  uint8_t b[jr::kRiskControlBytes];
  ASSERT_EQ(jr::encode_risk_control(e, b), 37);
  EXPECT_EQ(b[0], 0x01);
  EXPECT_EQ(b[7], 0x08);
  EXPECT_EQ(b[34], 0x0A);
  EXPECT_EQ(b[35], 0x0B);
  EXPECT_EQ(b[32], 1);  // kSetSymbolLimit
  EXPECT_EQ(b[33], 4);  // kPriceCollarBps
  risk::RiskControlEvent d;
  ASSERT_TRUE(jr::decode_risk_control(b, sizeof b, d));
  EXPECT_EQ(std::memcmp(&d, &e, sizeof d), 0);
  EXPECT_FALSE(jr::decode_risk_control(b, sizeof b - 1, d));  // wrong length
  b[36] = 9;                                                    // unknown status
  EXPECT_FALSE(jr::decode_risk_control(b, sizeof b, d));
  b[36] = 0;
  b[32] = 42;  // an applied control of an unknown kind
  EXPECT_FALSE(jr::decode_risk_control(b, sizeof b, d));
  b[36] = static_cast<uint8_t>(risk::RiskControlStatus::kBadKind);  // refused: kept as it came
  ASSERT_TRUE(jr::decode_risk_control(b, sizeof b, d));
  EXPECT_EQ(static_cast<uint8_t>(d.kind), 42);
}

risk::RiskLimits two_symbol_limits() { return loose_limits({"AAA", "BBB"}); }

orders::OrderTrackerConfig two_symbol_orders() {
  orders::OrderTrackerConfig c;
  c.max_open_orders = 16;
  c.max_symbols = 2;
  c.fill_history = 64;
  return c;
}

void apply(app::TradingShadowState& s, uint64_t sequence, uint16_t type, const uint8_t* p, uint16_t n) {
  s.apply(ps::JournalRecordView{sequence, type, n, p, nullptr, 0});
}

void apply_event(app::TradingShadowState& s, uint64_t sequence, const risk::RiskControlEvent& e) {
  uint8_t b[jr::kRiskControlBytes];
  apply(s, sequence, jr::kRiskControl, b, jr::encode_risk_control(e, b));
}

TEST(RiskControlRecord, ShadowReplaysAppliedControlsAndCountsRefusedOnes) {
  app::TradingShadowState s(two_symbol_orders(), two_symbol_limits());
  const uint64_t digest0 = s.digest();
  const uint64_t changes0 = s.risk_changes();
  // What the live stage's PreTradeRisk returns for these controls is what the shadow gets.
  risk::PreTradeRisk live(two_symbol_limits());
  ASSERT_TRUE(live.submit(risk::symbol_limit_control(1, risk::RiskLimitId::kMaxOrderShares, 777)));
  ASSERT_TRUE(live.submit(risk::kill_switch_control(true)));
  ASSERT_TRUE(live.submit(risk::global_limit_control(risk::RiskLimitId::kPriceCollarBps, 20000)));  // out of range
  ASSERT_TRUE(live.submit(risk::global_limit_control(risk::RiskLimitId::kMaxOpenOrders, 20)));
  risk::RiskControlEvent events[4];
  ASSERT_EQ(live.apply_pending_controls(1000, events), 4u);
  for (uint64_t i = 0; i < 4; ++i) apply_event(s, i + 1, events[i]);
  EXPECT_EQ(s.apply_errors(), 0u) << s.first_apply_error();
  EXPECT_EQ(s.risk_controls_refused(), 1u);
  EXPECT_EQ(s.risk_changes(), changes0 + 3);
  risk::RiskStateSnapshot mine, theirs;
  s.risk_state(mine);
  live.snapshot(theirs);
  EXPECT_EQ(mine.kill_switch, 1);
  EXPECT_EQ(mine.symbols[1].limits.max_order_shares, 777u);
  EXPECT_EQ(mine.symbols[1].overridden, theirs.symbols[1].overridden);
  EXPECT_EQ(mine.max_open_orders, 20u);
  EXPECT_EQ(std::memcmp(&mine, &theirs, sizeof mine), 0);  // no exposure on either side
  EXPECT_NE(s.digest(), digest0);

  // A record the shadow cannot reproduce (the live side said applied, the value is out of range) and a
  // risk record on a shadow without limits are apply errors, never a crash.
  risk::RiskControlEvent bad = events[0];
  bad.new_value = -1;
  apply_event(s, 5, bad);
  EXPECT_EQ(s.apply_errors(), 1u);
  app::TradingShadowState no_risk(two_symbol_orders());
  apply_event(no_risk, 1, events[1]);
  EXPECT_EQ(no_risk.apply_errors(), 1u);
  EXPECT_NE(no_risk.first_apply_error().find("no risk limits"), std::string::npos);
}

// ---- ITCH messages ----

std::vector<uint8_t> add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
  itch::AddOrder m;
  m.h.locate = locate;
  m.ref = ref;
  m.side = side;
  m.shares = shares;
  m.price = price;
  std::vector<uint8_t> b(itch::AddOrder::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> executed(uint16_t locate, uint64_t ref, uint32_t shares) {
  itch::OrderExecuted m;
  m.h.locate = locate;
  m.ref = ref;
  m.shares = shares;
  std::vector<uint8_t> b(itch::OrderExecuted::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> cancel(uint16_t locate, uint64_t ref, uint32_t shares) {
  itch::OrderCancel m;
  m.h.locate = locate;
  m.ref = ref;
  m.shares = shares;
  std::vector<uint8_t> b(itch::OrderCancel::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> remove(uint16_t locate, uint64_t ref) {
  itch::OrderDelete m;
  m.h.locate = locate;
  m.ref = ref;
  std::vector<uint8_t> b(itch::OrderDelete::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> replace(uint16_t locate, uint64_t old_ref, uint64_t new_ref, uint32_t shares, uint32_t price) {
  itch::OrderReplace m;
  m.h.locate = locate;
  m.old_ref = old_ref;
  m.new_ref = new_ref;
  m.shares = shares;
  m.price = price;
  std::vector<uint8_t> b(itch::OrderReplace::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> trading_action(uint16_t locate, char state) {
  itch::StockTradingAction m;
  m.h.locate = locate;
  m.trading_state = state;
  std::vector<uint8_t> b(itch::StockTradingAction::kLength);
  itch::encode(m, b.data());
  return b;
}
std::vector<uint8_t> directory(uint16_t locate, const char* symbol) {
  itch::StockDirectory m;
  m.h.locate = locate;
  m.stock = itch::make_symbol(symbol);
  std::vector<uint8_t> b(itch::StockDirectory::kLength);
  itch::encode(m, b.data());
  return b;
}

std::string apply_all(app::JournaledBooks& b, const std::vector<std::vector<uint8_t>>& messages) {
  for (const auto& m : messages)
    if (std::string e = b.apply_message(m.data(), static_cast<uint16_t>(m.size())); !e.empty()) return e;
  return "";
}

// ---- JournaledBooks ----

TEST(JournaledBooks, FollowsEveryBookMessageAndRestoresFromItsBytes) {
  app::JournaledBooks b({});
  // Locate 5: bids 100 @ 10.0000 (ref 1, partly executed and cancelled), 300 @ 9.9900 (ref 2, replaced
  // by ref 4); ask 50 @ 10.0100 (ref 3, deleted later: none). Locate 9: one ask.
  ASSERT_EQ(apply_all(b, {add(5, 1, 'B', 100, 100000), add(5, 2, 'B', 300, 99900), add(5, 3, 'S', 50, 100100),
                          executed(5, 1, 30), cancel(5, 1, 20), replace(5, 2, 4, 250, 99950), remove(5, 3),
                          add(9, 7, 'S', 10, 5000), trading_action(5, 'H')}),
            "");
  EXPECT_EQ(b.book_count(), 2u);
  EXPECT_EQ(b.live_orders(), 3u);  // refs 1, 4, 7
  EXPECT_EQ(b.trading_state(5), 'H');
  EXPECT_EQ(b.trading_state(9), ' ');
  const book::TopOfBook t = b.books().top(5);
  EXPECT_EQ(t.bid, (book::LevelView{100000, 50, 1}));
  EXPECT_EQ(t.ask.shares, 0u);
  book::LevelView levels[4];
  ASSERT_EQ(b.books().depth(5, book::Side::kBid, levels, 4), 2u);
  EXPECT_EQ(levels[1], (book::LevelView{99950, 250, 1}));
  EXPECT_EQ(b.books().top(9).ask, (book::LevelView{5000, 10, 1}));

  // Executing the rest removes the order, from the table too.
  ASSERT_EQ(b.apply_message(executed(5, 1, 50).data(), itch::OrderExecuted::kLength), "");
  EXPECT_EQ(b.live_orders(), 2u);

  const std::vector<uint8_t> bytes = b.serialize();
  app::JournaledBooks r({});
  ASSERT_EQ(r.restore(bytes.data(), bytes.size()), "");
  EXPECT_EQ(r.digest(), b.digest());
  EXPECT_EQ(r.books().top(5), b.books().top(5));
  EXPECT_EQ(r.trading_state(5), 'H');
  // And they keep going the same way.
  for (app::JournaledBooks* x : {&b, &r}) ASSERT_EQ(apply_all(*x, {cancel(5, 4, 50), add(9, 8, 'B', 5, 4900)}), "");
  EXPECT_EQ(r.digest(), b.digest());
  r.messages_lost(3);
  EXPECT_NE(r.digest(), b.digest());  // the lost count is part of the state
}

TEST(JournaledBooks, CountsWhatTheBookCapacityDropsAsLost) {
  app::JournaledBooksConfig c;
  c.max_orders = 2;
  app::JournaledBooks b(c);
  ASSERT_EQ(apply_all(b, {add(5, 1, 'B', 100, 100000), add(5, 2, 'B', 100, 100000), add(5, 3, 'B', 100, 100000)}), "");
  EXPECT_EQ(b.live_orders(), 2u);
  EXPECT_EQ(b.lost(), 1u);
}

TEST(JournaledBooks, RefusesWhatItCannotApplyAndDamagedBytes) {
  app::JournaledBooksConfig c;
  c.max_books = 2;
  app::JournaledBooks b(c);
  const auto r = directory(5, "AAA");
  EXPECT_NE(b.apply_message(r.data(), static_cast<uint16_t>(r.size())), "");  // not a book message
  const auto a = add(5, 1, 'B', 100, 100000);
  EXPECT_NE(b.apply_message(a.data(), static_cast<uint16_t>(a.size() - 1)), "");  // wrong length
  ASSERT_EQ(apply_all(b, {add(5, 1, 'B', 100, 100000), add(6, 2, 'S', 100, 100100)}), "");
  // A third book: beyond the bound, counted as lost (not corruption), not applied.
  ASSERT_EQ(apply_all(b, {add(7, 3, 'S', 1, 1)}), "");
  EXPECT_EQ(b.book_count(), 2u);
  EXPECT_EQ(b.lost(), 1u);
  EXPECT_EQ(b.books().top(7).ask.shares, 0u);

  // Every truncation and every single-byte change of the snapshot bytes: an error or a state, never a crash.
  const std::vector<uint8_t> bytes = b.serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    app::JournaledBooks x(c);
    EXPECT_NE(x.restore(bytes.data(), n), "") << "truncated to " << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> m = bytes;
    m[i] ^= 0x41;
    app::JournaledBooks x(c);
    (void)x.restore(m.data(), m.size());
  }
}

// ---- The book stage journals the watched symbols' book messages ----

class RecordingJournal final : public pipe::MarketDataJournal {
 public:
  bool append(uint16_t type, const uint8_t* payload, uint16_t length) noexcept override {
    if (!room) return false;
    records.push_back({type, std::vector<uint8_t>(payload, payload + length)});
    return true;
  }
  bool has_room(uint32_t) const noexcept override { return room; }
  bool room = true;
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> records;
};

TEST(BookStageJournal, JournalsOnlyTheWatchedSymbolsBookMessagesAndCountsLosses) {
  pipe::BookStageConfig config;
  config.capacity.max_orders = 1024;
  config.capacity.max_levels = 1024;
  config.capacity.max_locates = 64;
  config.capacity.level_index_entries = 4096;
  config.burst = 16;
  config.watched_symbols = {"AAA"};
  pipe::EventRing<pipe::MdEvent> in(std::make_unique<pipe::SpscRawRing>(sizeof(pipe::MdEvent), 64));
  pipe::EventRing<pipe::TopEvent> out(std::make_unique<pipe::SpscRawRing>(sizeof(pipe::TopEvent), 256));
  pipe::BookStage stage(config, in, out, pipe::TscClock::with_rate(1.0));
  RecordingJournal journal;
  stage.set_journal(&journal);
  uint64_t sequence = 0;
  const auto feed = [&](const std::vector<std::vector<uint8_t>>& messages) {
    for (const auto& m : messages) {
      pipe::MdEvent e;
      e.sequence = ++sequence;
      e.length = static_cast<uint8_t>(m.size());
      std::memcpy(e.message, m.data(), m.size());
      ASSERT_EQ(in.push_burst(&e, 1), 1u);
    }
    while (stage.run_once() != 0) {
    }
    pipe::TopEvent t[64];
    while (out.pop_burst(t, 64) != 0) {
    }
  };
  const std::vector<std::vector<uint8_t>> watched = {add(5, 1, 'B', 100, 100000), executed(5, 1, 10),
                                                     cancel(5, 1, 10), replace(5, 1, 2, 50, 99000),
                                                     trading_action(5, 'T'), remove(5, 2)};
  feed({directory(5, "AAA"), directory(6, "BBB"), add(6, 9, 'S', 100, 100000)});
  feed(watched);
  feed({add(6, 10, 'S', 100, 100100), remove(6, 9)});
  ASSERT_EQ(journal.records.size(), watched.size());
  for (size_t i = 0; i < watched.size(); ++i) {
    EXPECT_EQ(journal.records[i].first, pipe::md_records::kItchMessage);
    EXPECT_EQ(journal.records[i].second, watched[i]) << i;
  }
  EXPECT_EQ(stage.counters().journaled.get(), watched.size());

  // Full: the book still applies them; the next record that fits is preceded by the count lost.
  journal.room = false;
  feed({add(5, 3, 'B', 10, 100000), add(5, 4, 'B', 10, 100000)});
  EXPECT_EQ(stage.counters().journal_lost.get(), 2u);
  EXPECT_EQ(stage.builder().books().top(5).bid.shares, 20u);
  journal.room = true;
  feed({remove(5, 3)});
  ASSERT_EQ(journal.records.size(), watched.size() + 2);
  EXPECT_EQ(journal.records[watched.size()].first, pipe::md_records::kMessagesLost);
  EXPECT_EQ(load_be64(journal.records[watched.size()].second.data()), 2u);
  EXPECT_EQ(journal.records.back().second, remove(5, 3));
}

// ---- Risk state file ----

TEST(RiskStateFile, PayloadRoundTripsAndRejectsOtherVersionsAndLengths) {
  risk::PreTradeRisk r(two_symbol_limits());
  app::RiskStateFileContent c;
  c.sequence = 12345;
  r.snapshot(c.state);
  const std::vector<uint8_t> p = app::encode_risk_state(c);
  app::RiskStateFileContent d;
  ASSERT_EQ(app::decode_risk_state(app::kRiskStatePayloadVersion, p, d), "");
  EXPECT_EQ(d.sequence, 12345u);
  EXPECT_EQ(std::memcmp(&d.state, &c.state, sizeof c.state), 0);
  EXPECT_NE(app::decode_risk_state(2, p, d), "");
  std::vector<uint8_t> shorter(p.begin(), p.end() - 1);
  EXPECT_NE(app::decode_risk_state(app::kRiskStatePayloadVersion, shorter, d), "");
  std::vector<uint8_t> bad_magic = p;
  bad_magic[8] ^= 1;
  EXPECT_NE(app::decode_risk_state(app::kRiskStatePayloadVersion, bad_magic, d), "");
}

// Property: for random run-time changes on two copies, the controls between their states take the first
// to the second's limits and kill switch.
TEST(RiskStateFile, ControlsBetweenReachTheTargetLimits) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    risk::PreTradeRisk from(two_symbol_limits()), to(two_symbol_limits());
    for (risk::PreTradeRisk* x : {&from, &to}) {
      const int n = static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) {
        const auto id = static_cast<risk::RiskLimitId>(rng() % risk::kPerSymbolLimitCount);
        const int64_t v = static_cast<int64_t>(1 + rng() % 1000);
        switch (rng() % 4) {
          case 0: ASSERT_TRUE(x->submit(risk::global_limit_control(id, v))); break;
          case 1: ASSERT_TRUE(x->submit(risk::symbol_limit_control(static_cast<uint16_t>(rng() % 2), id, v))); break;
          case 2: ASSERT_TRUE(x->submit(risk::kill_switch_control(rng() % 2 == 0))); break;
          default: ASSERT_TRUE(x->submit(risk::global_limit_control(risk::RiskLimitId::kOrderBurst, v))); break;
        }
      }
      risk::RiskControlEvent ev[8];
      x->apply_pending_controls(0, ev);
    }
    risk::RiskStateSnapshot a, b;
    from.snapshot(a);
    to.snapshot(b);
    const std::vector<risk::RiskControl> controls = app::controls_between(a, b);
    for (const risk::RiskControl& c : controls) ASSERT_TRUE(from.submit(c));
    std::vector<risk::RiskControlEvent> ev(controls.size() + 1);
    ASSERT_EQ(from.apply_pending_controls(0, ev), controls.size());
    for (size_t i = 0; i < controls.size(); ++i) EXPECT_EQ(ev[i].status, risk::RiskControlStatus::kApplied);
    risk::RiskStateSnapshot reached;
    from.snapshot(reached);
    EXPECT_EQ(reached.kill_switch, b.kill_switch);
    EXPECT_EQ(std::memcmp(&reached.defaults, &b.defaults, sizeof b.defaults), 0);
    EXPECT_EQ(reached.order_burst, b.order_burst);
    for (int s = 0; s < 2; ++s) {
      EXPECT_EQ(std::memcmp(&reached.symbols[s].limits, &b.symbols[s].limits, sizeof b.symbols[s].limits), 0)
          << "round " << round << " symbol " << s;
      // Overrides the target has are there (one the source had may stay: a control cannot clear it).
      EXPECT_EQ(reached.symbols[s].overridden & b.symbols[s].overridden, b.symbols[s].overridden);
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// ---- The appliance at start: where the risk state comes from ----

class RiskStateAtStart : public ::testing::Test {
 protected:
  RiskStateAtStart()
      : day_(make_day(3, 20000, 10, 2000)),
        symbols_(most_active_symbols(day_, 2)),
        config_(trading_config(symbols_, R"({"quote_size": 100, "max_inventory": 1000})", loose_limits(symbols_))),
        dir_(std::filesystem::temp_directory_path() / ("pmm-risk-state-" + std::to_string(::getpid()))),
        file_(ops_, (dir_ / "state" / "risk.state").string()) {
    config_.heartbeat_ns = 0;
    std::filesystem::remove_all(dir_);
    pc_.data_directory = dir_.string();
    pc_.journal_ring_size = 1u << 14;
    loop_ = std::make_unique<TradingLoop>(day_, config_, LoopOptions{});
  }
  ~RiskStateAtStart() override { std::filesystem::remove_all(dir_); }

  // A start of the appliance: recovery, a new stage attached (a new token epoch), the journal thread.
  std::unique_ptr<app::TradingPersistence> start() {
    std::string e;
    auto p = app::TradingPersistence::start(pc_, config_, [this](ps::LogLevel, const std::string& l) { log_ += l + "\n"; }, e);
    EXPECT_NE(p, nullptr) << e;
    if (!p) return p;
    risk::TradingConfig c = config_;
    c.epoch = ++epoch_;
    loop_->replace_stage([&](const pipe::QuoteWiring& w, orders::OrderEventSink& sink) {
      auto s = std::make_unique<risk::TradingStage>(c, w, sink);
      EXPECT_EQ(p->attach(*s), "");
      return s;
    });
    p->launch();
    return p;
  }
  void stop(std::unique_ptr<app::TradingPersistence>& p) {
    std::string e;
    EXPECT_TRUE(p->stop(e)) << e;
    p.reset();
  }
  void steps(size_t n) {
    for (size_t i = 0; i < n && loop_->step(); ++i) {
    }
  }
  // Waits (bounded) for the journal thread to have written the file `writes` times.
  void wait_for_writes(const app::TradingPersistence& p, uint64_t writes) {
    for (int i = 0; i < 2000 && p.risk_state_writes() < writes; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_GE(p.risk_state_writes(), writes);
  }
  app::RiskStateFileContent file_content() {
    const ps::StateLoadResult r = file_.load();
    app::RiskStateFileContent c;
    EXPECT_TRUE(r.loaded()) << r.what;
    if (r.loaded()) {
      EXPECT_EQ(app::decode_risk_state(r.payload_version, r.payload, c), "");
    }
    return c;
  }

  Day day_;
  std::vector<std::string> symbols_;
  risk::TradingConfig config_;
  std::filesystem::path dir_;
  ps::PosixFileOps ops_;
  ps::AtomicStateFile file_;
  ps::PersistenceConfig pc_;
  std::unique_ptr<TradingLoop> loop_;
  uint32_t epoch_ = 100;
  std::string log_;
};

TEST_F(RiskStateAtStart, FreshThenJournalThenDegradedThenANewerFileWins) {
  // First start: no file, no journal.
  auto p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "fresh");
  EXPECT_TRUE(file_.load().loaded()) << "written at start";
  steps(3000);
  ASSERT_TRUE(loop_->stage().risk_controls().submit(risk::kill_switch_control(true)));
  ASSERT_TRUE(loop_->stage().risk_controls().submit(risk::symbol_limit_control(1, risk::RiskLimitId::kMaxOrderShares, 777)));
  steps(10);
  ASSERT_TRUE(loop_->stage().risk().kill_switch());
  // Written at start, then after the journal thread applied the changes (one write may cover both).
  for (int i = 0; i < 2000 && (p->risk_state_writes() < 2 || file_content().state.symbols[1].limits.max_order_shares != 777); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_GE(p->risk_state_writes(), 2u);
  EXPECT_EQ(file_content().state.kill_switch, 1);
  EXPECT_EQ(file_content().state.symbols[1].limits.max_order_shares, 777u);
  stop(p);

  // Restart: the journal has the changes (the file agrees).
  p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "journal") << p->risk_state_note();
  EXPECT_TRUE(loop_->stage().risk().kill_switch());
  EXPECT_EQ(loop_->stage().risk().limits().per_symbol[1].max_order_shares, 777u);
  stop(p);

  // Missing file after a run: the configuration's limits with the journal's changes, a warning, degraded;
  // the file is written again.
  std::filesystem::remove(file_.path());
  log_.clear();
  p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "degraded");
  EXPECT_NE(log_.find("WARNING: risk state degraded"), std::string::npos) << log_;
  EXPECT_TRUE(loop_->stage().risk().kill_switch());
  EXPECT_TRUE(file_.load().loaded());
  stop(p);

  // Corrupt file: the same.
  {
    std::fstream f(file_.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x5a');
  }
  ASSERT_FALSE(file_.load().loaded());
  p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "degraded");
  EXPECT_NE(p->risk_state_note().find("risk.state"), std::string::npos) << p->risk_state_note();
  EXPECT_TRUE(loop_->stage().risk().kill_switch());
  stop(p);

  // A file newer than the journal (its tail lost, say): its limits and kill switch, through the control
  // ring, so they are journaled; the next start finds them in the journal.
  app::RiskStateFileContent newer = file_content();
  newer.sequence += 1'000'000;
  newer.state.kill_switch = 0;
  newer.state.symbols[0].limits.max_order_shares = 555;
  newer.state.symbols[0].overridden |= 1u << static_cast<unsigned>(risk::RiskLimitId::kMaxOrderShares);
  const std::vector<uint8_t> payload = app::encode_risk_state(newer);
  std::string e;
  ASSERT_TRUE(file_.save(app::kRiskStatePayloadVersion, payload.data(), payload.size(), e)) << e;
  p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "file") << p->risk_state_note();
  steps(5);  // the stage applies the queued controls
  EXPECT_FALSE(loop_->stage().risk().kill_switch());
  EXPECT_EQ(loop_->stage().risk().limits().per_symbol[0].max_order_shares, 555u);
  wait_for_writes(*p, 1);
  stop(p);
  EXPECT_EQ(file_content().state.kill_switch, 0);
  EXPECT_LT(file_content().sequence, newer.sequence);  // now the journal's sequence again
  p = start();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->risk_state_status(), "journal") << p->risk_state_note();
  EXPECT_FALSE(loop_->stage().risk().kill_switch());
  EXPECT_EQ(loop_->stage().risk().limits().per_symbol[0].max_order_shares, 555u);
  EXPECT_EQ(loop_->stage().risk().limits().per_symbol[1].max_order_shares, 777u);
  stop(p);
}

}  // namespace
}  // namespace pmm::trading_test
