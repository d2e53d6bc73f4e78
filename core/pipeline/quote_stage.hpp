// Quote stage: the hand-off point where top-of-book changes become quotes. The order-entry work fills
// it in; for now it consumes the book stage's events, keeps the feed state, and measures RX -> quote.
#pragma once

#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/latency_histogram.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace pmm::pipe {

struct alignas(64) QuoteCounters {
  RelaxedCounter top_events;
  RelaxedCounter stale;           // 1 while quoting is paused by a feed gap
  RelaxedCounter end_of_session;  // 1 once the feed has ended with nothing missing
};

class QuoteStage final : public Stage {
 public:
  QuoteStage(EventRing<TopEvent>& in, uint32_t burst, const TscClock& clock)
      : in_(in), burst_(burst), clock_(clock), events_(burst) {}

  std::string_view name() const noexcept override { return "quote"; }

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
    return total;
  }

  const QuoteCounters& counters() const noexcept { return counters_; }
  const LatencyHistogram& latency() const noexcept { return latency_; }  // RX -> top seen by quoting

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
      }
    }
    counters_.top_events.add(tops);
  }

  EventRing<TopEvent>& in_;
  const uint32_t burst_;
  TscClock clock_;
  std::vector<TopEvent> events_;
  QuoteCounters counters_;
  LatencyHistogram latency_;
};

}  // namespace pmm::pipe
