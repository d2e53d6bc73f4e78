// RX stage: pulls a burst from the backend's packet source and passes it to the parse stage's ring.
// When that ring is full the stage keeps what it could not pass on and stops receiving until it can:
// the backlog stays in the NIC (or kernel) queue, and if that overflows the backend counts the drops
// and MoldUDP64 sees a gap that the parse stage re-requests. Nothing is lost silently.
#pragma once

#include <cassert>
#include <vector>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/stage.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace pmm::pipe {

struct alignas(64) RxCounters {
  RelaxedCounter bursts;           // non-empty receive bursts
  RelaxedCounter packets;
  RelaxedCounter bytes;
  RelaxedCounter ring_full;        // steps that found the parse ring full (back-pressure into the NIC)
};

class RxStage final : public Stage {
 public:
  RxStage(PacketSource& source, EventRing<RxPacket>& out, uint32_t burst, const RunControl& control)
      : source_(source), out_(out), burst_(burst), control_(control), packets_(burst) {
    assert(burst > 0);
  }

  std::string_view name() const noexcept override { return "rx"; }

  uint32_t run_once() noexcept override {
    if (pending_ != 0 && !push_pending()) {
      counters_.ring_full.add();
      publish_idle(false);
      return 0;
    }
    publish_idle(true);  // nothing pending past this point until a new burst is taken
    if (!control_.running()) return 0;  // draining: take nothing new in
    const uint32_t n = source_.receive_burst(packets_.data(), burst_);
    if (n == 0) return 0;
    counters_.bursts.add();
    counters_.packets.add(n);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < n; ++i) bytes += packets_[i].length;
    counters_.bytes.add(bytes);
    first_pending_ = 0;
    pending_ = n;
    publish_idle(push_pending());
    return n;
  }


  const RxCounters& counters() const noexcept { return counters_; }

 private:
  bool push_pending() noexcept {
    const uint32_t pushed = out_.push_burst(packets_.data() + first_pending_, pending_);
    first_pending_ += pushed;
    pending_ -= pushed;
    return pending_ == 0;
  }

  PacketSource& source_;
  EventRing<RxPacket>& out_;
  const uint32_t burst_;
  const RunControl& control_;
  std::vector<RxPacket> packets_;  // sized once, here
  uint32_t first_pending_ = 0;     // packets_[first_pending_, +pending_) wait for ring space
  uint32_t pending_ = 0;
  RxCounters counters_;
};

}  // namespace pmm::pipe
