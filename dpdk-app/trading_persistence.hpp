// The trading state's persistence in the appliance (docs/recovery.md, "In the appliance"): recovery into
// the shadow state before the pipeline is built, then the write-ahead journal for the rest of the run
// (the trading stage's JournalRing, the JournalWriter continuing at the recovered sequence, the
// JournalCore applying each appended record to the shadow; the group commit runs on the writer's sync
// thread), interval snapshots captured from the shadow on the journal thread into a preallocated image
// and written by a snapshot file thread, and a clean shutdown at stop. The shadow is touched by the
// journal thread only (and by the control thread before launch() and after stop()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "dpdk-app/trading_journal.hpp"
#include "persistence/file_ops.hpp"
#include "persistence/journal_core.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/logger.hpp"
#include "persistence/persistence_config.hpp"
#include "persistence/recovery.hpp"
#include "persistence/snapshot_file_thread.hpp"
#include "persistence/snapshot_image.hpp"
#include "risk/trading_stage.hpp"

namespace pmm::app {

class TradingPersistence {
 public:
  // recover_state() into the shadow, then opens the writer at the recovered next sequence. Null with
  // `error` set when recovery failed (every file untouched when the plan failed) or the writer could not
  // be opened.
  static std::unique_ptr<TradingPersistence> start(const persistence::PersistenceConfig& config,
                                                   const orders::OrderTrackerConfig& orders,
                                                   persistence::Logger log, std::string& error);
  // The same with the trading configuration: the shadow then also replays risk controls (limits, kill
  // switch) and keeps the quoted symbols' books (persistence.journalMarketData), and attach() settles the
  // risk state file (docs/recovery.md, "Risk state file").
  static std::unique_ptr<TradingPersistence> start(const persistence::PersistenceConfig& config,
                                                   const risk::TradingConfig& trading, persistence::Logger log,
                                                   std::string& error);
  ~TradingPersistence();

  // Set-up, on a fresh stage before the cores start: restores it from the recovered state and gives it
  // the journal. Returns "" or the restore's error.
  std::string attach(risk::TradingStage& stage);
  // Set-up: what the book stage journals the quoted symbols' market data to (BookStage::set_journal);
  // null when persistence.journalMarketData is false.
  pipe::MarketDataJournal* market_data_journal() noexcept {
    return config_.journal_market_data ? &md_journal_ : nullptr;
  }
  // After attach(): where the risk state came from: "fresh" (first start, configuration), "journal"
  // (snapshot + journal, the state file agreeing or older), "file" (the state file was newer: applied as
  // controls), "degraded" (the state file missing or corrupt: configuration + journal, warned), "off"
  // (no risk limits given). risk_state_note() says why.
  const std::string& risk_state_status() const noexcept { return risk_state_status_; }
  const std::string& risk_state_note() const noexcept { return risk_state_note_; }
  // Risk state file writes that failed (logged), and done.
  uint64_t risk_state_writes() const noexcept { return risk_state_writes_.load(std::memory_order_relaxed); }
  uint64_t risk_state_write_errors() const noexcept { return risk_state_write_errors_.load(std::memory_order_relaxed); }
  // "restored N open order(s), positions ..., sessions out N in N (journal sequence N)".
  std::string restored_line() const;

  // Set-up, before launch(): snapshots every `interval` instead of persistence.snapshotIntervalMin
  // (bench_tick_to_trade takes them every few hundred milliseconds).
  void set_snapshot_interval(std::chrono::milliseconds interval) noexcept { snapshot_interval_ = interval; }
  // The journal thread: the JournalCore loop and the snapshot schedule; and the snapshot file thread.
  // `cpu` >= 0 pins both, and the writer's sync thread, there (persistence.journalCpu as placed by
  // place_journal_thread, dpdk-app/journal_cpu.hpp); if the process may not use that CPU, a warning is
  // logged and the thread runs unpinned. -1: unpinned (they run where the caller may run).
  void launch(int cpu = -1);
  // After the producers stopped (pipeline drained, cores joined): ends the loop, which drains the ring
  // and syncs. Then closes the writer and, if nothing failed, writes the final snapshot and the
  // clean-shutdown marker. Returns false with `error` set otherwise. Call once.
  bool stop(std::string& error);

  // Any thread.
  uint64_t durable_sequence() const noexcept { return writer_->durable_sequence(); }
  uint64_t records() const noexcept { return core_->records(); }
  bool failed() const noexcept { return writer_->failed(); }
  // The journal thread's share of the interval snapshots: time spent serialising the shadow (all, longest).
  uint64_t snapshot_capture_ns() const noexcept { return capture_ns_.load(std::memory_order_relaxed); }
  uint64_t snapshot_capture_max_ns() const noexcept { return capture_max_ns_.load(std::memory_order_relaxed); }

  // Only after failed() returned true.
  const std::string& writer_error() const noexcept { return writer_->error(); }
  const persistence::RecoveryResult& recovery() const noexcept { return result_; }

 private:
  TradingPersistence(const persistence::PersistenceConfig& config, const orders::OrderTrackerConfig& orders,
                     std::optional<risk::RiskLimits> risk, const JournaledBooksConfig& books, persistence::Logger log);
  static std::unique_ptr<TradingPersistence> recover(std::unique_ptr<TradingPersistence> p, std::string& error);
  void loop() noexcept;
  void capture_snapshot() noexcept;  // journal thread: shadow -> snapshot_image_ -> snapshot_files_
  void settle_risk_state_file(risk::TradingStage& stage, const risk::RiskStateSnapshot& journaled);
  void write_risk_state() noexcept;  // the shadow's risk state, at its sequence

  persistence::PersistenceConfig config_;
  persistence::Logger log_;
  persistence::PosixFileOps ops_;
  TradingShadowState shadow_;
  persistence::JournalRing ring_;
  RingTradingJournal journal_;
  persistence::JournalRing md_ring_;  // the book stage's (market data of the quoted symbols)
  RingMarketDataJournal md_journal_;
  uint64_t risk_written_ = 0;         // shadow_.risk_changes() the file was last written for
  std::atomic<uint64_t> risk_state_writes_{0}, risk_state_write_errors_{0};
  std::string risk_state_status_ = "off";
  std::string risk_state_note_;
  persistence::RecoveryResult result_;
  std::unique_ptr<persistence::JournalWriter> writer_;
  std::unique_ptr<persistence::JournalCore> core_;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::duration snapshot_interval_;
  persistence::SnapshotImage snapshot_image_;  // persistence.snapshotBufferBytes, captured on the journal thread
  std::atomic<uint64_t> capture_ns_{0}, capture_max_ns_{0};
  std::unique_ptr<persistence::SnapshotFileThread> snapshot_files_;  // launch() .. stop()
  std::thread thread_;
};

}  // namespace pmm::app
