// The DPDK backend's rings between stages: rte_ring element rings (records copied in place, no
// pointers), single producer and single consumer, in DPDK memory on the NUMA socket of the consumer's
// lcore. The record size is a compile-time constant for the four event types, so the copy is
// specialised; any other size takes the generic path.
#pragma once

#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "dpdk-app/dpdk_eal.hpp"

namespace pmm::app::dpdk {

// How a record is stored: as kPerRecord ring elements of kUnit bytes. rte_ring copies 8- and 16-byte
// elements with wide moves and anything else 4 bytes at a time, so a 64-byte MdEvent moves as four
// 16-byte elements (about 3x cheaper per record, measured with bench_pipeline_dpdk's ring hop). The
// element count per record must be a power of two, so the ring's size stays one.
constexpr bool is_power_of_two(unsigned v) { return v != 0 && (v & (v - 1)) == 0; }
constexpr unsigned ring_unit(unsigned record_size) {
  if (record_size != 0 && record_size % 16 == 0 && is_power_of_two(record_size / 16)) return 16;
  if (record_size != 0 && record_size % 8 == 0 && is_power_of_two(record_size / 8)) return 8;
  return record_size;  // one element per record (0: the size is given at run time)
}

// kRecordSize 0: size given at run time, one element per record.
template <unsigned kRecordSize>
class RteEventRing final : public pipe::RawRing {
  static constexpr unsigned kUnit = ring_unit(kRecordSize);
  static constexpr unsigned kPerRecord = kUnit == 0 ? 1 : kRecordSize / kUnit;

 public:
  // rte_ring keeps one element free: the ring holds capacity - 1 records (capacity() says so).
  // Throws std::runtime_error naming the ring, its size and the socket when DPDK cannot create it.
  RteEventRing(const std::string& name, unsigned record_size, uint32_t capacity, int socket)
      : record_size_(kRecordSize != 0 ? kRecordSize : record_size) {
    assert(record_size_ == record_size && record_size % 4 == 0);
    const unsigned esize = kUnit != 0 ? kUnit : record_size_;
    const uint64_t elements = uint64_t{capacity} * kPerRecord;
    if (elements > RTE_RING_SZ_MASK)
      throw std::runtime_error("dpdk: ring " + name + ": " + std::to_string(capacity) +
                               " records is too many for rte_ring");
    const auto count = static_cast<unsigned>(elements);
    ring_ = rte_ring_create_elem(name.c_str(), esize, count, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring_ == nullptr && rte_errno == ENOMEM && socket != SOCKET_ID_ANY)  // e.g. --no-huge: socket 0 only
      ring_ = rte_ring_create_elem(name.c_str(), esize, count, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
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
    if constexpr (kPerRecord == 1) {
      return rte_ring_enqueue_burst_elem(ring_, records, esize(), n, nullptr);
    } else {
      // Whole records only. Single producer: the free space seen here can only grow before the bulk
      // enqueue, which therefore takes all of it.
      n = std::min(n, rte_ring_free_count(ring_) / kPerRecord);
      if (n == 0) return 0;
      return rte_ring_enqueue_bulk_elem(ring_, records, kUnit, n * kPerRecord, nullptr) / kPerRecord;
    }
  }
  uint32_t pop_burst(void* out, uint32_t n) noexcept override {
    if constexpr (kPerRecord == 1) {
      return rte_ring_dequeue_burst_elem(ring_, out, esize(), n, nullptr);
    } else {
      n = std::min(n, rte_ring_count(ring_) / kPerRecord);  // single consumer: can only grow
      if (n == 0) return 0;
      return rte_ring_dequeue_bulk_elem(ring_, out, kUnit, n * kPerRecord, nullptr) / kPerRecord;
    }
  }
  uint32_t size() const noexcept override { return rte_ring_count(ring_) / kPerRecord; }
  uint32_t capacity() const noexcept override { return rte_ring_get_capacity(ring_) / kPerRecord; }
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
      case sizeof(pipe::RxPacket):
        return std::make_unique<RteEventRing<sizeof(pipe::RxPacket)>>(unique, size, capacity, socket);
      case sizeof(pipe::MdEvent):
        return std::make_unique<RteEventRing<sizeof(pipe::MdEvent)>>(unique, size, capacity, socket);
      case sizeof(pipe::TopEvent):
        return std::make_unique<RteEventRing<sizeof(pipe::TopEvent)>>(unique, size, capacity, socket);
      case sizeof(pipe::TxEvent):
        return std::make_unique<RteEventRing<sizeof(pipe::TxEvent)>>(unique, size, capacity, socket);
      default:
        return std::make_unique<RteEventRing<0>>(unique, size, capacity, socket);
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
