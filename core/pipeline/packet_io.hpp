// What a backend (DPDK, AF_PACKET, portable sockets) gives the shared stages: a source of received
// packets and a sink for datagrams to send. Called once per burst, so one virtual call is noise.
#pragma once

#include <cstdint>

#include "core/pipeline/events.hpp"

namespace pmm::pipe {

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // RX core only: up to `max` packets, each stamped with rx_tsc; never blocks.
  virtual uint32_t receive_burst(RxPacket* out, uint32_t max) noexcept = 0;
  // Parse core only (may be another core than RX): hands packets back once copied out.
  virtual void release(const RxPacket* packets, uint32_t n) noexcept = 0;
};

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // TX core only: sends what it can at once (no batching timer); returns how many were sent.
  // A datagram that cannot be sent (no buffer, link refused it) is the caller's to count.
  virtual uint32_t send_burst(const TxEvent* datagrams, uint32_t n) noexcept = 0;
};

}  // namespace pmm::pipe
