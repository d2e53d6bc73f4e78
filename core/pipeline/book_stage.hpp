// Book stage: applies the parse stage's in-sequence ITCH messages to the L3 books (BookBuilder, with its
// prefetching batch path) and tells the quote stage which tops of book changed, plus the feed's state
// (stale while a gap is open) and the trading state (ITCH H) of the configured symbols. Publishes the
// tops of those symbols for the status line.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/book_builder.hpp"
#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/latency_histogram.hpp"
#include "core/pipeline/market_data_journal.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace pmm::pipe {

struct BookStageConfig {
  book::BookCapacity capacity;
  uint32_t burst = 64;
  std::vector<std::string> watched_symbols;  // at most kMaxWatched, shown on the status line
};

inline constexpr size_t kMaxWatched = 16;

// Top of one watched symbol, written by the book core and read by anyone (a sequence lock: readers
// retry while the writer is between its two version bumps).
class WatchedTop {
 public:
  void publish(const book::TopOfBook& t) noexcept;
  bool read(book::TopOfBook& out) const noexcept;  // false: nothing published yet
  std::atomic<int32_t> locate{-1};                 // -1 until the directory (R) names it

 private:
  std::atomic<uint64_t> version_{0};
  std::atomic<uint64_t> bid_price_{0}, bid_shares_{0}, ask_price_{0}, ask_shares_{0};
};

struct alignas(64) BookCounters {
  RelaxedCounter bursts;
  RelaxedCounter messages;      // ITCH messages applied
  RelaxedCounter top_changes;   // TopEvents produced
  RelaxedCounter ring_full;     // steps that found the quote ring full (back-pressure)
  RelaxedCounter stale_events;  // kFeedStale received
  RelaxedCounter whole_events;  // kFeedWhole received
  RelaxedCounter stale;         // 1 while the books are stale
  RelaxedCounter end_of_session;
  RelaxedCounter live_orders;
  RelaxedCounter capacity_rejects;  // order/level capacity exceeded (see BookStats)
  RelaxedCounter last_sequence;
  RelaxedCounter journaled;     // messages of watched symbols written to the journal
  RelaxedCounter journal_lost;  // of those, not taken (ring full): the shadow's books are marked inexact
};

class BookStage final : public Stage {
 public:
  BookStage(const BookStageConfig& config, EventRing<MdEvent>& in, EventRing<TopEvent>& out, const TscClock& clock);

  std::string_view name() const noexcept override { return "book"; }
  uint32_t run_once() noexcept override;

  const BookCounters& counters() const noexcept { return counters_; }
  const LatencyHistogram& latency() const noexcept { return latency_; }  // RX -> applied to the book
  const std::vector<std::string>& watched_symbols() const noexcept { return watched_names_; }
  const WatchedTop& watched(size_t i) const noexcept { return watched_[i]; }
  // Read after the cores stop.
  const BookBuilder& builder() const noexcept { return builder_; }
  // Set-up, before the cores start: journal the book-affecting messages of the watched symbols
  // (market_data_journal.hpp). `journal` must outlive the stage; null: none.
  void set_journal(MarketDataJournal* journal) noexcept { journal_ = journal; }

 private:
  static constexpr uint32_t kMaxBurstsPerStep = 16;
  void apply_burst(uint32_t n) noexcept;
  void apply_run(uint32_t from, uint32_t to) noexcept;
  void apply_sub_run(uint32_t from, uint32_t to) noexcept;
  void on_control(const MdEvent& e) noexcept;
  void emit_tops(const MdEvent& last) noexcept;  // `last`: the run's last message
  void emit_trading_states(uint32_t from, uint32_t to) noexcept;
  void note_directory(const MdEvent& e) noexcept;
  bool flush() noexcept;
  void journal_message(const MdEvent& e) noexcept;

  uint32_t burst_;
  EventRing<MdEvent>& in_;
  EventRing<TopEvent>& out_;
  TscClock clock_;
  BookBuilder builder_;
  std::vector<MdEvent> events_;
  std::vector<MessageRef> refs_;
  std::vector<TopEvent> staging_;  // 2 * burst: see emit_tops
  uint32_t staged_ = 0;
  uint32_t flushed_ = 0;
  bool stale_ = false;
  std::vector<std::string> watched_names_;
  std::array<WatchedTop, kMaxWatched> watched_;
  std::vector<uint8_t> watched_slot_;  // per locate: 0, or 1 + index into watched_
  MarketDataJournal* journal_ = nullptr;
  uint64_t journal_lost_pending_ = 0;  // lost since the last record taken: told to the journal first
  BookCounters counters_;
  LatencyHistogram latency_;
};

}  // namespace pmm::pipe
