// The trading state's persistence in the appliance (docs/recovery.md, "In the appliance"): recovery into
// the shadow state before the pipeline is built, then the write-ahead journal for the rest of the run
// (the trading stage's JournalRing, the JournalWriter continuing at the recovered sequence, the
// JournalCore applying each appended record to the shadow), interval snapshots taken from the shadow on
// the journal thread, and a clean shutdown at stop. The shadow is touched by the journal thread only
// (and by the control thread before launch() and after stop()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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
  ~TradingPersistence();

  // Set-up, on a fresh stage before the cores start: restores it from the recovered state and gives it
  // the journal. Returns "" or the restore's error.
  std::string attach(risk::TradingStage& stage);
  // "restored N open order(s), positions ..., sessions out N in N (journal sequence N)".
  std::string restored_line() const;

  // The journal thread: the JournalCore loop and the snapshot schedule. Unpinned.
  void launch();
  // After the producers stopped (pipeline drained, cores joined): ends the loop, which drains the ring
  // and syncs. Then closes the writer and, if nothing failed, writes the final snapshot and the
  // clean-shutdown marker. Returns false with `error` set otherwise. Call once.
  bool stop(std::string& error);

  // Any thread.
  uint64_t durable_sequence() const noexcept { return writer_->durable_sequence(); }
  uint64_t records() const noexcept { return core_->records(); }
  bool failed() const noexcept { return writer_->failed(); }
  // Only after failed() returned true.
  const std::string& writer_error() const noexcept { return writer_->error(); }
  const persistence::RecoveryResult& recovery() const noexcept { return result_; }

 private:
  TradingPersistence(const persistence::PersistenceConfig& config, const orders::OrderTrackerConfig& orders,
                     persistence::Logger log);
  void loop() noexcept;

  persistence::PersistenceConfig config_;
  persistence::Logger log_;
  persistence::PosixFileOps ops_;
  TradingShadowState shadow_;
  persistence::JournalRing ring_;
  RingTradingJournal journal_;
  persistence::RecoveryResult result_;
  std::unique_ptr<persistence::JournalWriter> writer_;
  std::unique_ptr<persistence::JournalCore> core_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pmm::app
