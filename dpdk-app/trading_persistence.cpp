#include "dpdk-app/trading_persistence.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <vector>

#include "dpdk-app/journal_cpu.hpp"
#include "dpdk-app/risk_state_file.hpp"
#include "persistence/state_snapshots.hpp"

namespace pmm::app {

namespace ps = persistence;

TradingPersistence::TradingPersistence(const ps::PersistenceConfig& config, const orders::OrderTrackerConfig& orders,
                                       std::optional<risk::RiskLimits> risk, const JournaledBooksConfig& books,
                                       ps::Logger log)
    : config_(config),
      log_(std::move(log)),
      shadow_(orders, std::move(risk), books),
      ring_(config.journal_ring_size),
      journal_(ring_),
      md_ring_(config.journal_ring_size),
      md_journal_(md_ring_),
      snapshot_interval_(std::chrono::minutes(config.snapshot_interval_min)),
      snapshot_image_(config.snapshot_buffer_bytes) {}

TradingPersistence::~TradingPersistence() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  snapshot_files_.reset();  // before the writer it reads
}

std::unique_ptr<TradingPersistence> TradingPersistence::start(const ps::PersistenceConfig& config,
                                                              const orders::OrderTrackerConfig& orders,
                                                              ps::Logger log, std::string& error) {
  JournaledBooksConfig books;
  books.max_books = std::max<uint32_t>(1, orders.max_symbols);
  return recover(std::unique_ptr<TradingPersistence>(
                     new TradingPersistence(config, orders, std::nullopt, books, std::move(log))),
                 error);
}

std::unique_ptr<TradingPersistence> TradingPersistence::start(const ps::PersistenceConfig& config,
                                                              const risk::TradingConfig& trading, ps::Logger log,
                                                              std::string& error) {
  JournaledBooksConfig books;
  books.max_books = static_cast<uint32_t>(std::max<size_t>(1, trading.symbols.size()));
  return recover(std::unique_ptr<TradingPersistence>(
                     new TradingPersistence(config, trading.orders, trading.risk, books, std::move(log))),
                 error);
}

std::unique_ptr<TradingPersistence> TradingPersistence::recover(std::unique_ptr<TradingPersistence> p,
                                                                std::string& error) {
  const ps::PersistenceConfig& config = p->config_;
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
  p->core_ = std::make_unique<ps::JournalCore>(*p->writer_, std::vector<ps::JournalRing*>{&p->ring_, &p->md_ring_},
                                               ps::JournalCoreOptions{32, config.journal_sync_interval_ms});
  TradingShadowState* shadow = &p->shadow_;
  p->core_->set_on_append([shadow](const ps::JournalRecordView& v) { shadow->apply(v); });
  return p;
}

std::string TradingPersistence::attach(risk::TradingStage& stage) {
  risk::RiskStateSnapshot journaled;
  if (shadow_.has_risk()) {
    // The recovered limits and kill switch; exposure follows the tracker (stage.restore below).
    shadow_.risk_state(journaled);
    if (std::string e = stage.risk_controls().restore(journaled, risk::LimitsOnRestore::kFromSnapshot, 0); !e.empty())
      return "restoring the risk state from the recovered state: " + e;
  }
  const std::vector<uint8_t> bytes = shadow_.tracker_bytes();
  if (std::string e = stage.restore(bytes.data(), bytes.size(), shadow_.next_outbound(), shadow_.expected_inbound());
      !e.empty())
    return "restoring the trading stage from the recovered state: " + e;
  stage.set_journal(&journal_);
  if (shadow_.has_risk()) settle_risk_state_file(stage, journaled);
  // This run's book stage starts from empty books: so do the shadow's (the recovered ones are in the
  // snapshot and journal before this record).
  if (config_.journal_market_data || shadow_.books().book_count() != 0) {
    const uint8_t none[1] = {0};
    if (!md_ring_.enqueue(kBooksResetRecord, none, 0)) return "journal: no room for the books-reset record";
  }
  return "";
}

void TradingPersistence::settle_risk_state_file(risk::TradingStage& stage, const risk::RiskStateSnapshot& journaled) {
  ps::AtomicStateFile& file = result_.directory->risk_state();
  const ps::StateLoadResult r = file.load();
  RiskStateFileContent c;
  std::string problem;
  if (r.status == ps::StateLoadStatus::Loaded) {
    problem = decode_risk_state(r.payload_version, r.payload, c);
    if (problem.empty() && c.state.symbol_count != journaled.symbol_count)
      problem = std::to_string(c.state.symbol_count) + " symbols, configured " + std::to_string(journaled.symbol_count);
    for (uint16_t i = 0; problem.empty() && i < journaled.symbol_count; ++i)
      if (std::memcmp(c.state.symbols[i].symbol, journaled.symbols[i].symbol, risk::kSymbolNameBytes) != 0)
        problem = "symbol " + std::to_string(i) + " is not the configured one";
    if (!problem.empty()) problem = file.path() + ": " + problem;
  } else {
    problem = r.what.empty() ? file.path() + ": " + ps::to_string(r.status) : r.what;
  }
  const std::string at = "journal sequence " + std::to_string(shadow_.sequence());
  if (r.status == ps::StateLoadStatus::Missing && result_.status == ps::RecoveryStatus::CleanStart) {
    risk_state_status_ = "fresh";
    risk_state_note_ = "first start: risk limits from the configuration";
    if (log_) log_(ps::LogLevel::Info, "risk state: " + risk_state_note_);
  } else if (!problem.empty()) {
    // The runbook: missing or corrupt risk state files -> default limits from the configuration and a
    // warning. The journal's own record of run-time changes still applies on top of them.
    risk_state_status_ = "degraded";
    risk_state_note_ = problem + "; starting from the configuration's risk limits with the journal's changes (" + at + ")";
    if (log_) log_(ps::LogLevel::Warning, "WARNING: risk state degraded: " + risk_state_note_);
  } else if (c.sequence > shadow_.sequence()) {
    // Newer than what the journal kept (its tail was lost): the file's limits and kill switch, applied as
    // controls on the trading core so that they are journaled like any other change.
    const std::vector<risk::RiskControl> controls = controls_between(journaled, c.state);
    uint32_t queued = 0;
    for (const risk::RiskControl& k : controls) queued += stage.risk_controls().submit(k) ? 1 : 0;
    risk_state_status_ = "file";
    risk_state_note_ = file.path() + " (journal sequence " + std::to_string(c.sequence) + ") is newer than the " + at +
                       ": " + std::to_string(queued) + " of " + std::to_string(controls.size()) +
                       " risk control(s) queued to apply it";
    if (log_) log_(queued == controls.size() ? ps::LogLevel::Info : ps::LogLevel::Warning, "risk state: " + risk_state_note_);
    risk_written_ = shadow_.risk_changes();  // rewritten as the journal thread applies them, not before
    return;
  } else {
    risk_state_status_ = "journal";
    risk_state_note_ = "from the " + at + " (" + file.path() + " at sequence " + std::to_string(c.sequence) + ")";
    if (log_) log_(ps::LogLevel::Info, "risk state: " + risk_state_note_);
    risk_written_ = shadow_.risk_changes();
    return;
  }
  write_risk_state();  // so that the next start finds a good file
}

void TradingPersistence::write_risk_state() noexcept {
  risk_written_ = shadow_.risk_changes();
  RiskStateFileContent c;
  c.sequence = shadow_.sequence();
  shadow_.risk_state(c.state);
  const std::vector<uint8_t> payload = encode_risk_state(c);
  std::string e;
  if (!result_.directory->risk_state().save(kRiskStatePayloadVersion, payload.data(), payload.size(), e)) {
    if (risk_state_write_errors_.fetch_add(1, std::memory_order_relaxed) == 0)
      if (log_) log_(ps::LogLevel::Warning, "WARNING: risk state file not written: " + e + " (retried at the next change)");
    return;
  }
  risk_state_writes_.fetch_add(1, std::memory_order_relaxed);
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

void TradingPersistence::launch(int cpu) {
  assert(!thread_.joinable());
  ps::SnapshotFileThreadOptions so;
  so.keep_snapshots = config_.keep_snapshots;
  so.journal_directory = config_.journal_directory();
  so.compaction_threshold = config_.compaction_threshold;
  snapshot_files_ = std::make_unique<ps::SnapshotFileThread>(ops_, result_.directory->snapshots(), *writer_, so, log_);
  thread_ = std::thread([this] { loop(); });
  // Pinned from here, like the pipeline cores: the first microseconds elsewhere do no harm. The sync
  // thread and the snapshot file thread go with it: all the persistence work shares the journal CPU
  // (they mostly wait for the disk), never a pipeline core's.
  if (cpu >= 0) {
    if (const std::string e = pin_thread(thread_, cpu); !e.empty())
      ps::log_line(log_, ps::LogLevel::Warning, "journal thread: " + e + " (running unpinned)");
    if (ps::JournalSyncThread* sync = writer_->sync_thread())
      if (const std::string e = pin_thread(sync->thread(), cpu); !e.empty())
        ps::log_line(log_, ps::LogLevel::Warning, "journal sync thread: " + e + " (running unpinned)");
    if (const std::string e = pin_thread(snapshot_files_->thread(), cpu); !e.empty())
      ps::log_line(log_, ps::LogLevel::Warning, "snapshot file thread: " + e + " (running unpinned)");
  }
}

void TradingPersistence::capture_snapshot() noexcept {
  // The shadow at its exact sequence, serialised into memory here (the only part of a snapshot on this
  // thread); the file thread writes it once the sequence is durable, which is asked for right away.
  const auto start = std::chrono::steady_clock::now();
  const uint64_t sequence = shadow_.sequence();
  const auto created = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::string e = snapshot_image_.capture(shadow_, sequence, static_cast<uint64_t>(created.count()));
  const auto took = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  capture_ns_.store(capture_ns_.load(std::memory_order_relaxed) + took, std::memory_order_relaxed);
  if (took > capture_max_ns_.load(std::memory_order_relaxed)) capture_max_ns_.store(took, std::memory_order_relaxed);
  if (!e.empty()) {
    ps::log_line(log_, ps::LogLevel::Error, "Snapshot at sequence " + std::to_string(sequence) + " failed: " + e);
    return;
  }
  core_->request_sync();
  snapshot_files_->submit(snapshot_image_);
}

void TradingPersistence::loop() noexcept {
  using Clock = ps::SnapshotSchedule::Clock;
  ps::SnapshotSchedule schedule(snapshot_interval_, Clock::now());
  while (!stop_.load(std::memory_order_acquire)) {
    const uint32_t n = core_->run_once();
    if (core_->failed()) break;  // the core closed the ring: the stage stops quoting
    // A risk control changed the limits or the kill switch: rewrite the state file (rare; here, never
    // on a pipeline core).
    if (shadow_.has_risk() && shadow_.risk_changes() != risk_written_) write_risk_state();
    // The snapshot schedule: one clock read per idle pass is plenty (minutes apart).
    if (n == 0) {
      const Clock::time_point now = Clock::now();
      if (schedule.due(now) && !snapshot_files_->busy()) {
        capture_snapshot();
        schedule.taken(now);  // also after a failure: a failing capture is not repeated every pass
      }
      // Idle: on a small machine this thread shares a CPU with a pipeline core (and an unpinned one may
      // anyway). 100 us is far below journalSyncIntervalMs and the ring holds journalRingSize records.
      // Never while records wait: they may have arrived since run_once() found the rings empty.
      if (!core_->pending()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

bool TradingPersistence::stop(std::string& error) {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  const bool synced = core_->drain_and_sync();
  // The last interval snapshot: written now that everything is durable (or dropped if the journal failed).
  if (snapshot_files_) snapshot_files_->wait_idle();
  snapshot_files_.reset();
  if (shadow_.has_risk() && shadow_.risk_changes() != risk_written_) write_risk_state();  // drained just now
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
