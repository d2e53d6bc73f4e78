// One pipeline: the six rings and five stages of docs/architecture.md, wired from a PipelineConfig over
// a backend's packet source, packet sink and ring factory. It does not run anything itself: a backend
// launches one loop per configured core (run_core_loop) and a control thread calls drain/stop.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/pipeline/book_stage.hpp"
#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/parse_stage.hpp"
#include "core/pipeline/pipeline_config.hpp"
#include "core/pipeline/quote_stage.hpp"
#include "core/pipeline/rx_stage.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"
#include "core/pipeline/tx_stage.hpp"

namespace pmm::pipe {

// What the quote stage is wired to. The appliance's factory builds the trading stage from it; without a
// factory the pipeline uses core's watch-only QuoteStage.
struct QuoteWiring {
  const PipelineConfig& config;
  EventRing<TopEvent>& tops;                  // from the book stage
  EventRing<OrderResponseEvent>& responses;   // from the parse stage: the order session's inbound side
  EventRing<TxEvent>& orders;                 // to the TX stage: the order session's outbound side
  const TscClock& clock;
  // The TX stage when it runs on the quote stage's core (else null): the quote stage calls
  // tx->send_orders() right after a decision that queued orders, so they leave before the rest of its
  // step (other tops, figures) instead of after it.
  TxStage* tx = nullptr;
};
using QuoteStageFactory = std::function<std::unique_ptr<QuotingStage>(const QuoteWiring&)>;

// Runs the stages round-robin until control says stopped. Nothing else: no sleeping, no syscalls.
void run_core_loop(const std::vector<Stage*>& stages, const RunControl& control) noexcept;

// Everything the status line and the final summary need, read without stopping the cores.
struct PipelineSnapshot {
  uint64_t rx_packets = 0, rx_ring_full = 0;
  uint64_t feed_packets = 0, retrans_packets = 0, bad_frames = 0, wrong_port = 0, wrong_address = 0,
           malformed_mold = 0, wrong_session = 0, unknown_type = 0, bad_length = 0;
  uint64_t messages = 0;  // ITCH messages passed in sequence
  uint64_t applied = 0;   // applied to the books
  uint64_t gaps = 0, gaps_filled = 0, gaps_unrecovered = 0, messages_lost = 0, requests = 0, duplicates = 0,
           window_overflow = 0, held = 0;
  uint64_t live_orders = 0, capacity_rejects = 0, top_events = 0, tx_sent = 0, tx_failed = 0;
  uint64_t order_packets = 0, malformed_order = 0, order_ring_full = 0, orders_sent = 0, orders_failed = 0;
  bool stale = false, end_of_session = false;
  std::array<uint32_t, 6> ring_fill{}, ring_capacity{};  // rx, md, top, tx, order responses, order tx
  uint64_t parse_ring_full = 0, book_ring_full = 0;
  LatencySnapshot parse_latency, book_latency, quote_latency, tick_to_trade;
};

class Pipeline {
 public:
  // before_core(cpu) runs before the objects of a core are allocated (a backend sets the NUMA policy).
  Pipeline(const PipelineConfig& config, PacketSource& source, PacketSink& sink, RingFactory& rings,
           const TscClock& clock, const std::function<void(int cpu)>& before_core = {},
           const QuoteStageFactory& quote_factory = {});

  // The stages of configured core i, in order.
  const std::vector<Stage*>& core_stages(size_t i) const { return core_stages_.at(i); }
  size_t core_count() const noexcept { return core_stages_.size(); }
  RunControl& control() noexcept { return control_; }

  // Control thread, at Ctrl-C before drain_and_stop: stop quoting, cancel every open order and wait for
  // the acknowledgements until the deadline. Returns true when every order was acknowledged closed.
  bool unwind(uint64_t deadline_ms);
  // Control thread: stop taking packets in, then wait until every ring is empty and every stage idle
  // (or the deadline passes), then tell the cores to stop. Returns true when drained clean.
  bool drain_and_stop(uint64_t deadline_ms);
  // Control thread: stop at once (second signal).
  void stop_now() noexcept { control_.phase.store(RunControl::kStopped, std::memory_order_relaxed); }
  bool end_of_session() const noexcept { return quote_->end_of_session(); }

  PipelineSnapshot snapshot() const;
  // One line: rates against `previous` over `seconds`, tops of the watched symbols, rings, latencies.
  std::string status_line(const PipelineSnapshot& now, const PipelineSnapshot& previous, double seconds) const;
  // After the cores stopped: the final figures as a JSON object (stable keys; see docs/architecture.md).
  std::string summary_json(const std::string& backend) const;
  uint64_t books_digest() const noexcept { return book_->builder().books().digest(); }
  // Set-up, before the cores start: the book stage journals the watched symbols' market data there.
  void set_book_journal(MarketDataJournal* journal) noexcept { book_->set_journal(journal); }

  const ParseStage& parse() const noexcept { return *parse_; }
  const BookStage& book() const noexcept { return *book_; }
  const QuotingStage& quote() const noexcept { return *quote_; }
  const TxStage& tx() const noexcept { return *tx_; }

 private:
  bool quiescent() const noexcept;

  PipelineConfig cfg_;
  RunControl control_;
  std::unique_ptr<EventRing<RxPacket>> rx_ring_;
  std::unique_ptr<EventRing<MdEvent>> md_ring_;
  std::unique_ptr<EventRing<TopEvent>> top_ring_;
  std::unique_ptr<EventRing<TxEvent>> tx_ring_;
  std::unique_ptr<EventRing<OrderResponseEvent>> response_ring_;
  std::unique_ptr<EventRing<TxEvent>> order_ring_;
  std::unique_ptr<RxStage> rx_;
  std::unique_ptr<ParseStage> parse_;
  std::unique_ptr<BookStage> book_;
  std::unique_ptr<QuotingStage> quote_;
  std::unique_ptr<TxStage> tx_;
  std::vector<std::vector<Stage*>> core_stages_;
};

}  // namespace pmm::pipe
