// The trading stage's journal in the appliance (docs/journal-records.md): RingTradingJournal puts the
// stage's records on its JournalRing (producer: the trading stage's core); TradingShadowState is the
// RecoverableState recovery rebuilds and the journal core keeps current (it applies every record the
// core appends), so snapshots are taken from it without touching the stage. It replays the stage's
// calls on its own OrderTracker: the same transitions, the journaled tokens (checked), the two session
// sequences. With the risk limits configured it also keeps a PreTradeRisk the journaled risk controls
// (type 27) are replayed on, and with market data journaled the L3 books of the quoted symbols (types
// 28-30, JournaledBooks): snapshots and digests then cover books, orders, positions and risk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/orders/order_tracker.hpp"
#include "core/pipeline/market_data_journal.hpp"
#include "dpdk-app/journaled_books.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/recoverable_state.hpp"
#include "risk/pre_trade_risk.hpp"
#include "risk/risk_state_snapshot.hpp"
#include "risk/trading_journal.hpp"

namespace pmm::app {

class RingTradingJournal final : public risk::TradingJournal {
 public:
  explicit RingTradingJournal(persistence::JournalRing& ring) : ring_(ring) {}
  bool append(uint16_t type, const uint8_t* payload, uint16_t length) noexcept override {
    return ring_.enqueue(type, payload, length);
  }
  bool has_room(uint32_t records) const noexcept override {
    // The producer's view: the consumer only makes room, so this is never optimistic.
    return !ring_.closed() && ring_.size_approx() + records <= ring_.capacity();
  }
  bool failed() const noexcept override { return ring_.closed(); }

 private:
  persistence::JournalRing& ring_;
};

// The book stage's market-data records on their own JournalRing (producer: the book stage's core).
class RingMarketDataJournal final : public pipe::MarketDataJournal {
 public:
  explicit RingMarketDataJournal(persistence::JournalRing& ring) : ring_(ring) {}
  bool append(uint16_t type, const uint8_t* payload, uint16_t length) noexcept override {
    return ring_.enqueue(type, payload, length);
  }
  bool has_room(uint32_t records) const noexcept override {
    return !ring_.closed() && ring_.size_approx() + records <= ring_.capacity();
  }

 private:
  persistence::JournalRing& ring_;
};

// Market-data books reset (type 30, no payload): a new run's book stage starts from empty books, so the
// shadow's must too (enqueued once at start, before the cores run).
inline constexpr uint16_t kBooksResetRecord = pipe::md_records::kBooksReset;

class TradingShadowState final : public persistence::RecoverableState {
 public:
  // Snapshot block types (docs/journal-records.md).
  static constexpr uint16_t kTrackerBlock = 1;    // OrderTracker::snapshot() bytes
  static constexpr uint16_t kSessionsBlock = 2;   // next outbound u64, expected inbound u64 (big-endian)
  static constexpr uint16_t kRiskBlock = 3;       // risk::RiskStateSnapshot bytes (exposure from the tracker)
  static constexpr uint16_t kBooksBlock = 4;      // JournaledBooks::serialize()

  // `risk`: the configured limits (risk controls are then replayed; without them a risk record is an
  // apply error). `books`: bounds of the market-data books.
  explicit TradingShadowState(const orders::OrderTrackerConfig& config,
                              std::optional<risk::RiskLimits> risk = std::nullopt,
                              const JournaledBooksConfig& books = {});

  void reset() override;
  void apply(const persistence::JournalRecordView& record) override;
  std::string write_snapshot(persistence::SnapshotWriter& out) const override;
  std::string restore_snapshot(persistence::SnapshotReader& in) override;
  uint64_t digest() const override;

  const orders::OrderTracker& tracker() const noexcept { return *tracker_; }
  std::vector<uint8_t> tracker_bytes() const { return tracker_->snapshot(); }
  uint64_t next_outbound() const noexcept { return next_outbound_; }
  uint64_t expected_inbound() const noexcept { return expected_inbound_; }
  uint64_t sequence() const noexcept { return sequence_; }  // journal sequence of the last record applied

  // Risk (with limits configured only): limits and kill switch as the controls left them, exposure
  // from the tracker (the order tracker is the truth for positions and open orders).
  bool has_risk() const noexcept { return risk_ != nullptr; }
  void risk_state(risk::RiskStateSnapshot& out) const;
  const risk::PreTradeRisk& risk() const noexcept { return *risk_; }
  // Counts every applied control that changed limits or the kill switch, and every restore: the risk
  // state file is rewritten when it moves.
  uint64_t risk_changes() const noexcept { return risk_changes_; }
  uint64_t risk_controls_refused() const noexcept { return risk_refused_; }
  const JournaledBooks& books() const noexcept { return books_; }

  // Records that could not be applied as they were (unknown type, bad length, a token that differs from
  // the journaled one, a request the tracker refused): corruption or a bug; counted, first one kept.
  uint64_t apply_errors() const noexcept { return apply_errors_; }
  const std::string& first_apply_error() const noexcept { return first_error_; }

 private:
  void error(uint64_t sequence, const std::string& what);

  void apply_risk(const persistence::JournalRecordView& record);
  void apply_market_data(const persistence::JournalRecordView& record);
  std::vector<uint8_t> risk_bytes() const;

  orders::OrderTrackerConfig config_;
  std::optional<risk::RiskLimits> limits_;
  std::unique_ptr<risk::PreTradeRisk> risk_;
  uint64_t risk_changes_ = 0;
  uint64_t risk_refused_ = 0;
  JournaledBooks books_;
  orders::NullEventSink sink_;
  std::unique_ptr<orders::OrderTracker> tracker_;
  uint64_t next_outbound_ = 1;
  uint64_t expected_inbound_ = 1;
  uint64_t sequence_ = 0;
  uint64_t apply_errors_ = 0;
  std::string first_error_;
};

}  // namespace pmm::app
