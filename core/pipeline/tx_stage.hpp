// TX stage: sends what other stages queued at once, no batching timer: orders from the quote stage
// first (they are the latency path), then gap re-requests from the parse stage. Measures tick-to-trade:
// the RX timestamp of the packet that triggered an order to the moment its burst was handed to the
// backend. When the quote stage runs on the same core, it calls send_orders() itself right after a
// decision (Pipeline wires it: QuoteWiring::tx), so an order does not wait for the rest of that step.
#pragma once

#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/latency_histogram.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace pmm::pipe {

struct alignas(64) TxCounters {
  RelaxedCounter sent;
  RelaxedCounter send_failed;  // the backend could not send (no buffer, link refused): dropped, counted
  RelaxedCounter orders_sent;  // of `sent`: order-session datagrams
  RelaxedCounter orders_failed;
};

class TxStage final : public Stage {
 public:
  // `orders` may be null (no order entry configured).
  TxStage(PacketSink& sink, EventRing<TxEvent>& requests, EventRing<TxEvent>* orders, uint32_t burst,
          const TscClock& clock)
      : sink_(sink), requests_(requests), orders_(orders), burst_(burst), clock_(clock), events_(burst) {}

  std::string_view name() const noexcept override { return "tx"; }

  uint32_t run_once() noexcept override {
    uint32_t total = send_order_burst();
    const uint32_t n = requests_.pop_burst(events_.data(), burst_);
    if (n != 0) {
      const uint32_t sent = sink_.send_burst(events_.data(), n);
      counters_.sent.add(sent);
      if (sent < n) counters_.send_failed.add(n - sent);  // re-requests are retried by their timer
      total += n;
    }
    return total;
  }

  // The TX core only (the quote stage calls it when it shares the core): sends every order waiting on
  // the order ring now, a burst at a time, up to kMaxOrderBursts bursts (the rest goes at the next step).
  uint32_t send_orders() noexcept {
    uint32_t total = 0;
    for (uint32_t round = 0; round < kMaxOrderBursts; ++round) {
      const uint32_t n = send_order_burst();
      total += n;
      if (n < burst_) break;
    }
    return total;
  }

  const TxCounters& counters() const noexcept { return counters_; }
  const LatencyHistogram& tick_to_trade() const noexcept { return tick_to_trade_; }

 private:
  static constexpr uint32_t kMaxOrderBursts = 16;

  uint32_t send_order_burst() noexcept {
    if (orders_ == nullptr) return 0;
    const uint32_t n = orders_->pop_burst(events_.data(), burst_);
    if (n == 0) return 0;
    // Failed sends are not retried here: the gateway sees the sequence gap and re-requests.
    const uint32_t sent = sink_.send_burst(events_.data(), n);
    const uint64_t now = read_tsc();
    for (uint32_t i = 0; i < n; ++i)
      if (events_[i].rx_tsc != 0) tick_to_trade_.record(clock_.to_ns(now - events_[i].rx_tsc));
    counters_.orders_sent.add(sent);
    counters_.sent.add(sent);
    if (sent < n) {
      counters_.orders_failed.add(n - sent);
      counters_.send_failed.add(n - sent);
    }
    return n;
  }

  PacketSink& sink_;
  EventRing<TxEvent>& requests_;
  EventRing<TxEvent>* orders_;
  const uint32_t burst_;
  TscClock clock_;
  std::vector<TxEvent> events_;
  TxCounters counters_;
  LatencyHistogram tick_to_trade_;
};

}  // namespace pmm::pipe
