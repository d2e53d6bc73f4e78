#include "dpdk-app/trading_persistence.hpp"

#include <cassert>
#include <chrono>
#include <vector>

#include "persistence/journal_compaction.hpp"
#include "persistence/state_snapshots.hpp"

namespace pmm::app {

namespace ps = persistence;

TradingPersistence::TradingPersistence(const ps::PersistenceConfig& config, const orders::OrderTrackerConfig& orders,
                                       ps::Logger log)
    : config_(config), log_(std::move(log)), shadow_(orders), ring_(config.journal_ring_size), journal_(ring_) {}

TradingPersistence::~TradingPersistence() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
}

std::unique_ptr<TradingPersistence> TradingPersistence::start(const ps::PersistenceConfig& config,
                                                              const orders::OrderTrackerConfig& orders,
                                                              ps::Logger log, std::string& error) {
  std::unique_ptr<TradingPersistence> p(new TradingPersistence(config, orders, std::move(log)));
  p->result_ = ps::recover_state(config, p->ops_, p->shadow_, p->log_);
  if (p->result_.status == ps::RecoveryStatus::Failed) {
    error = "recovery failed: " + p->result_.reason;
    return nullptr;
  }
  if (p->shadow_.apply_errors() != 0) {
    error = "recovery replayed " + std::to_string(p->shadow_.apply_errors()) +
            " record(s) the trading state could not apply; first: " + p->shadow_.first_apply_error();
    return nullptr;
  }
  ps::JournalWriterOptions wo;
  wo.directory = config.journal_directory();
  wo.segment_bytes = config.journal_segment_bytes;
  wo.first_sequence = p->result_.next_sequence;
  p->writer_ = ps::JournalWriter::open(wo, error);
  if (!p->writer_) return nullptr;
  p->core_ = std::make_unique<ps::JournalCore>(*p->writer_, std::vector<ps::JournalRing*>{&p->ring_},
                                               ps::JournalCoreOptions{32, config.journal_sync_interval_ms});
  TradingShadowState* shadow = &p->shadow_;
  p->core_->set_on_append([shadow](const ps::JournalRecordView& v) { shadow->apply(v); });
  return p;
}

std::string TradingPersistence::attach(risk::TradingStage& stage) {
  const std::vector<uint8_t> bytes = shadow_.tracker_bytes();
  if (std::string e = stage.restore(bytes.data(), bytes.size(), shadow_.next_outbound(), shadow_.expected_inbound());
      !e.empty())
    return "restoring the trading stage from the recovered state: " + e;
  stage.set_journal(&journal_);
  return "";
}

std::string TradingPersistence::restored_line() const {
  const orders::PositionBook& book = shadow_.tracker().positions();
  uint32_t held = 0;
  int64_t net = 0;
  uint64_t bought = 0, sold = 0;
  for (uint32_t s = 0; s < book.max_symbols(); ++s) {
    const orders::Position& p = book.position(s);
    if (p.shares != 0) ++held;
    net += p.shares;
    bought += p.bought;
    sold += p.sold;
  }
  return "restored " + std::to_string(shadow_.tracker().live_orders()) + " open order(s), positions in " +
         std::to_string(held) + " symbol(s) (net " + std::to_string(net) + " shares, bought " + std::to_string(bought) +
         " sold " + std::to_string(sold) + "), order session next outbound " + std::to_string(shadow_.next_outbound()) +
         " expected inbound " + std::to_string(shadow_.expected_inbound()) + " (journal sequence " +
         std::to_string(shadow_.sequence()) + ", " + ps::to_string(result_.status) + ")";
}

void TradingPersistence::launch() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { loop(); });
}

void TradingPersistence::loop() noexcept {
  using Clock = ps::SnapshotSchedule::Clock;
  ps::SnapshotSchedule schedule(config_.snapshot_interval_min, Clock::now());
  bool want_snapshot = false;
  while (!stop_.load(std::memory_order_acquire)) {
    const uint32_t n = core_->run_once();
    if (core_->failed()) break;  // the core closed the ring: the stage stops quoting
    // The snapshot schedule: one clock read per idle pass is plenty (minutes apart).
    if (n == 0) {
      const Clock::time_point now = Clock::now();
      if (!want_snapshot && schedule.due(now)) {
        want_snapshot = true;
        core_->request_sync();  // a snapshot must be at a durable sequence
      } else if (want_snapshot && shadow_.sequence() <= writer_->durable_sequence()) {
        const ps::SnapshotTakeResult t =
            ps::take_snapshot(shadow_, shadow_.sequence(), result_.directory->snapshots(), config_.keep_snapshots, log_);
        // The writer only appends to the last segment, which compaction never deletes.
        if (t.ok)
          (void)ps::compact_journal(ops_, config_.journal_directory(), t.oldest_retained_sequence,
                                    config_.compaction_threshold, log_);
        schedule.taken(now);
        want_snapshot = false;
      } else if (want_snapshot) {
        core_->request_sync();
      }
      // Idle: this thread is not a pinned pipeline core, and on a small machine it shares a CPU with
      // one. 100 us is far below journalSyncIntervalMs and the ring holds journalRingSize records.
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

bool TradingPersistence::stop(std::string& error) {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  const bool synced = core_->drain_and_sync();
  const bool closed = writer_->close();
  if (!synced || !closed || writer_->failed()) {
    error = "journal writer failed: " + writer_->error() + "; no clean shutdown (the next start recovers from the journal)";
    return false;
  }
  if (shadow_.apply_errors() != 0) {
    error = "the shadow state could not apply " + std::to_string(shadow_.apply_errors()) +
            " record(s); first: " + shadow_.first_apply_error() + "; no clean shutdown";
    return false;
  }
  return ps::clean_shutdown(shadow_, writer_->last_sequence(), *result_.directory, config_.keep_snapshots, log_, error);
}

}  // namespace pmm::app
