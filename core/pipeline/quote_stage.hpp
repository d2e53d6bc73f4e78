// Quote stage: where top-of-book changes become quotes and orders. `QuotingStage` is what the pipeline's
// control thread needs from any quote stage; `QuoteStage` is the watch-only one core/ provides (no
// order entry: it keeps the feed state, measures RX -> quote and counts order-session events). The
// trading stage (risk/trading_stage.hpp: strategy, pre-trade risk, orders) is injected by the appliance
// through Pipeline's factory, so core/ never depends on risk/.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/latency_histogram.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace pmm::pipe {

class QuotingStage : public Stage {
 public:
  std::string_view name() const noexcept override { return "quote"; }
  // Any thread (atomics underneath).
  virtual uint64_t top_events() const noexcept = 0;
  virtual bool end_of_session() const noexcept = 0;
  virtual const LatencyHistogram& latency() const noexcept = 0;  // RX -> top seen by quoting
  // Control thread, at Ctrl-C: stop quoting and cancel every open order. unwound() turns true once every
  // order is acknowledged closed (or there were none).
  virtual void request_unwind() noexcept {}
  virtual bool unwound() const noexcept { return true; }
  // Control thread: status-line text (" | ..." or "") and summary JSON members ("  \"k\": v,\n" each).
  virtual std::string status_text() const { return ""; }
  virtual std::string summary_members() const { return ""; }
};

struct alignas(64) QuoteCounters {
  RelaxedCounter top_events;
  RelaxedCounter stale;           // 1 while quoting is paused by a feed gap
  RelaxedCounter end_of_session;  // 1 once the feed has ended with nothing missing
  RelaxedCounter order_events;    // order-session events seen (nothing is sent, so none are expected)
};

class QuoteStage final : public QuotingStage {
 public:
  // `responses` may be null.
  QuoteStage(EventRing<TopEvent>& in, EventRing<OrderResponseEvent>* responses, uint32_t burst, const TscClock& clock)
      : in_(in), responses_(responses), burst_(burst), clock_(clock), events_(burst), order_events_(burst) {}

  uint32_t run_once() noexcept override {
    // Like the book stage: drain full bursts (up to a bound) so a backlog does not wait a loop.
    uint32_t total = 0;
    for (uint32_t round = 0; round < kMaxBurstsPerStep; ++round) {
      const uint32_t n = in_.pop_burst(events_.data(), burst_);
      if (n == 0) break;
      consume(n);
      total += n;
      if (n < burst_) break;
    }
    if (responses_ != nullptr) {
      const uint32_t n = responses_->pop_burst(order_events_.data(), burst_);
      counters_.order_events.add(n);
      total += n;
    }
    return total;
  }

  uint64_t top_events() const noexcept override { return counters_.top_events.get(); }
  bool end_of_session() const noexcept override { return counters_.end_of_session.get() != 0; }
  const LatencyHistogram& latency() const noexcept override { return latency_; }
  const QuoteCounters& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kMaxBurstsPerStep = 16;

  void consume(uint32_t n) noexcept {
    const uint64_t now = read_tsc();
    uint64_t tops = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const TopEvent& e = events_[i];
      switch (e.kind) {
        case TopKind::kTop:
          ++tops;
          latency_.record(clock_.to_ns(now - e.rx_tsc));
          break;
        case TopKind::kFeedStale: counters_.stale.set(1); break;
        case TopKind::kFeedWhole: counters_.stale.set(0); break;
        case TopKind::kEndOfSession: counters_.end_of_session.set(1); break;
        case TopKind::kTradingState: break;
      }
    }
    counters_.top_events.add(tops);
  }

  EventRing<TopEvent>& in_;
  EventRing<OrderResponseEvent>* responses_;
  const uint32_t burst_;
  TscClock clock_;
  std::vector<TopEvent> events_;
  std::vector<OrderResponseEvent> order_events_;
  QuoteCounters counters_;
  LatencyHistogram latency_;
};

}  // namespace pmm::pipe
