// TX stage: sends each datagram other stages queued (gap re-requests now, orders later) at once: no
// batching timer, whatever a step finds goes out in one burst.
#pragma once

#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"

namespace pmm::pipe {

struct alignas(64) TxCounters {
  RelaxedCounter sent;
  RelaxedCounter send_failed;  // the backend could not send (no buffer, link refused): dropped, counted
};

class TxStage final : public Stage {
 public:
  TxStage(PacketSink& sink, EventRing<TxEvent>& in, uint32_t burst)
      : sink_(sink), in_(in), burst_(burst), events_(burst) {}

  std::string_view name() const noexcept override { return "tx"; }

  uint32_t run_once() noexcept override {
    const uint32_t n = in_.pop_burst(events_.data(), burst_);
    if (n == 0) return 0;
    const uint32_t sent = sink_.send_burst(events_.data(), n);
    counters_.sent.add(sent);
    if (sent < n) counters_.send_failed.add(n - sent);  // re-requests are retried by their timer
    return n;
  }

  const TxCounters& counters() const noexcept { return counters_; }

 private:
  PacketSink& sink_;
  EventRing<TxEvent>& in_;
  const uint32_t burst_;
  std::vector<TxEvent> events_;
  TxCounters counters_;
};

}  // namespace pmm::pipe
