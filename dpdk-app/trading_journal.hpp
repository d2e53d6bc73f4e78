// The trading stage's journal in the appliance (docs/journal-records.md): RingTradingJournal puts the
// stage's records on its JournalRing (producer: the trading stage's core); TradingShadowState is the
// RecoverableState recovery rebuilds and the journal core keeps current (it applies every record the
// core appends), so snapshots are taken from it without touching the stage. It replays the stage's
// calls on its own OrderTracker: the same transitions, the journaled tokens (checked), the two session
// sequences.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/orders/order_tracker.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/recoverable_state.hpp"
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

class TradingShadowState final : public persistence::RecoverableState {
 public:
  // Snapshot block types (docs/journal-records.md).
  static constexpr uint16_t kTrackerBlock = 1;    // OrderTracker::snapshot() bytes
  static constexpr uint16_t kSessionsBlock = 2;   // next outbound u64, expected inbound u64 (big-endian)

  explicit TradingShadowState(const orders::OrderTrackerConfig& config);

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

  // Records that could not be applied as they were (unknown type, bad length, a token that differs from
  // the journaled one, a request the tracker refused): corruption or a bug; counted, first one kept.
  uint64_t apply_errors() const noexcept { return apply_errors_; }
  const std::string& first_apply_error() const noexcept { return first_error_; }

 private:
  void error(uint64_t sequence, const std::string& what);

  orders::OrderTrackerConfig config_;
  orders::NullEventSink sink_;
  std::unique_ptr<orders::OrderTracker> tracker_;
  uint64_t next_outbound_ = 1;
  uint64_t expected_inbound_ = 1;
  uint64_t sequence_ = 0;
  uint64_t apply_errors_ = 0;
  std::string first_error_;
};

}  // namespace pmm::app
