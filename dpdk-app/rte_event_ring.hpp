// The DPDK backend's rings between stages: rte_ring element rings (records copied in place, no
// pointers), single producer and single consumer, in DPDK memory on the NUMA socket of the consumer's
// lcore. The record size is a compile-time constant for the four event types, so the copy loop is
// specialised; any other size takes the generic path.
#pragma once

#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <cassert>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "dpdk-app/dpdk_eal.hpp"

namespace pmm::app::dpdk {

// kRecordSize 0: size given at run time.
template <unsigned kRecordSize>
class RteEventRing final : public pipe::RawRing {
 public:
  // rte_ring keeps one slot free: the ring holds capacity - 1 records (capacity() says so).
  // Throws std::runtime_error naming the ring, its size and the socket when DPDK cannot create it.
  RteEventRing(const std::string& name, unsigned record_size, uint32_t capacity, int socket)
      : record_size_(kRecordSize != 0 ? kRecordSize : record_size) {
    assert(record_size_ == record_size && record_size % 4 == 0);
    ring_ = rte_ring_create_elem(name.c_str(), record_size_, capacity, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring_ == nullptr && rte_errno == ENOMEM && socket != SOCKET_ID_ANY)  // e.g. --no-huge: socket 0 only
      ring_ = rte_ring_create_elem(name.c_str(), record_size_, capacity, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring_ == nullptr)
      throw std::runtime_error("dpdk: rte_ring_create_elem(" + name + ", " + std::to_string(record_size) + " B x " +
                               std::to_string(capacity) + ", socket " + std::to_string(socket) +
                               ") failed: " + rte_strerror(rte_errno) +
                               (rte_errno == ENOMEM ? " (raise EAL -m in dpdk.eal, or lower pipeline.ring_size)" : ""));
  }
  ~RteEventRing() override {
    if (Eal::running()) rte_ring_free(ring_);  // after rte_eal_cleanup the memory is already gone
  }
  RteEventRing(const RteEventRing&) = delete;
  RteEventRing& operator=(const RteEventRing&) = delete;

  uint32_t push_burst(const void* records, uint32_t n) noexcept override {
    return rte_ring_enqueue_burst_elem(ring_, records, esize(), n, nullptr);
  }
  uint32_t pop_burst(void* out, uint32_t n) noexcept override {
    return rte_ring_dequeue_burst_elem(ring_, out, esize(), n, nullptr);
  }
  uint32_t size() const noexcept override { return rte_ring_count(ring_); }
  uint32_t capacity() const noexcept override { return rte_ring_get_capacity(ring_); }
  size_t record_size() const noexcept override { return record_size_; }
  int socket() const noexcept { return ring_->memzone != nullptr ? ring_->memzone->socket_id : SOCKET_ID_ANY; }

 private:
  unsigned esize() const noexcept { return kRecordSize != 0 ? kRecordSize : record_size_; }

  const unsigned record_size_;
  rte_ring* ring_ = nullptr;
};

// Makes the pipeline's rings. Names get a per-process sequence number (rte_ring names are global to the
// EAL instance); the socket is the one set by the last set_socket() (the backend's before_core) unless
// the caller names one.
class RteRingFactory final : public pipe::RingFactory {
 public:
  explicit RteRingFactory(int socket) : socket_(socket) {}
  void set_socket(int socket) noexcept { socket_ = socket; }

  std::unique_ptr<pipe::RawRing> make(const std::string& name, size_t record_size, uint32_t capacity,
                                      int numa_node) override {
    const int socket = numa_node >= 0 ? numa_node : socket_;
    // "RG_" + name must fit RTE_MEMZONE_NAMESIZE: keep the caller's name short, the number unique.
    const std::string unique = name.substr(0, 16) + "_" + std::to_string(next_id()++);
    const auto size = static_cast<unsigned>(record_size);
    switch (record_size) {
      case sizeof(pipe::RxPacket): return std::make_unique<RteEventRing<sizeof(pipe::RxPacket)>>(unique, size, capacity, socket);
      case sizeof(pipe::MdEvent): return std::make_unique<RteEventRing<sizeof(pipe::MdEvent)>>(unique, size, capacity, socket);
      case sizeof(pipe::TopEvent): return std::make_unique<RteEventRing<sizeof(pipe::TopEvent)>>(unique, size, capacity, socket);
      case sizeof(pipe::TxEvent): return std::make_unique<RteEventRing<sizeof(pipe::TxEvent)>>(unique, size, capacity, socket);
      default: return std::make_unique<RteEventRing<0>>(unique, size, capacity, socket);
    }
  }

 private:
  static uint32_t& next_id() noexcept {
    static uint32_t id = 0;  // control thread only
    return id;
  }
  int socket_;
};

}  // namespace pmm::app::dpdk
