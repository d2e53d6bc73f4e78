// The DPDK backend's packet source and sink: one RX and one TX queue of one port. Received mbufs go
// to the stages as RxPackets that point into them (no copy) and come back in bulk; datagrams to send
// are framed (Ethernet/IPv4/UDP, core/udp_frame.hpp) into fresh mbufs and handed to the port at once.
#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <vector>

#include "core/pipeline/events.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/udp_frame.hpp"

namespace pmm::app::dpdk {

inline uint8_t* mbuf_data(rte_mbuf* m) noexcept { return static_cast<uint8_t*>(m->buf_addr) + m->data_off; }

struct alignas(64) RxCounters {
  pipe::RelaxedCounter multi_segment;  // frames in more than one mbuf (no scatter configured): freed, counted
};

class DpdkPacketSource final : public pipe::PacketSource {
 public:
  DpdkPacketSource(uint16_t port, uint16_t queue, uint32_t burst)
      : port_(port), queue_(queue), rx_(burst), release_scratch_(burst) {
    assert(burst > 0 && burst <= UINT16_MAX);
  }

  uint32_t receive_burst(pipe::RxPacket* out, uint32_t max) noexcept override {
    assert(max <= rx_.size());
    const uint16_t n = rte_eth_rx_burst(port_, queue_, rx_.data(), static_cast<uint16_t>(max));
    if (n == 0) return 0;
    const uint64_t tsc = rte_rdtsc();
    uint32_t kept = 0;
    uint32_t multi = 0;  // multi-segment mbufs are gathered at the front of rx_ (multi <= i)
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = rx_[i];
      if (m->nb_segs != 1) {
        rx_[multi++] = m;
        continue;
      }
      pipe::RxPacket& p = out[kept++];
      p.data = mbuf_data(m);
      p.length = m->data_len;
      p.udp_dst_port = 0;
      p.layer = pipe::PacketLayer::kEthernet;
      p.rx_tsc = tsc;
      p.handle = reinterpret_cast<uintptr_t>(m);
    }
    if (multi != 0) {
      rte_pktmbuf_free_bulk(rx_.data(), multi);
      counters_.multi_segment.add(multi);
    }
    return kept;
  }
  // Parse core.
  void release(const pipe::RxPacket* packets, uint32_t n) noexcept override {
    free_handles(packets, n, release_scratch_);
  }

  const RxCounters& counters() const noexcept { return counters_; }

 private:
  static void free_handles(const pipe::RxPacket* packets, uint32_t n, std::vector<rte_mbuf*>& scratch) noexcept {
    while (n != 0) {
      const uint32_t k = std::min<uint32_t>(n, static_cast<uint32_t>(scratch.size()));
      for (uint32_t i = 0; i < k; ++i)
        scratch[i] = reinterpret_cast<rte_mbuf*>(static_cast<uintptr_t>(packets[i].handle));
      rte_pktmbuf_free_bulk(scratch.data(), k);
      packets += k;
      n -= k;
    }
  }

  const uint16_t port_;
  const uint16_t queue_;
  std::vector<rte_mbuf*> rx_;
  std::vector<rte_mbuf*> release_scratch_;
  RxCounters counters_;
};

// Where a Destination is reached: the whole frame address (MACs, IPs, ports). valid = false: not
// configured, datagrams to it are counted and not sent.
struct Route {
  bool valid = false;
  net::FrameAddress address;
};

struct alignas(64) TxCounters {
  pipe::RelaxedCounter no_route;  // destination not configured (orders.gateway "")
  pipe::RelaxedCounter no_mbuf;   // TX pool empty
  pipe::RelaxedCounter too_long;  // length over kTxPayloadCapacity, or the frame does not fit the mbuf
  pipe::RelaxedCounter refused;   // the port did not take it (TX descriptors full, link down)
};

class DpdkPacketSink final : public pipe::PacketSink {
 public:
  static constexpr size_t kDestinations = 2;

  DpdkPacketSink(uint16_t port, uint16_t queue, rte_mempool* pool, uint32_t burst,
                 const std::array<Route, kDestinations>& routes)
      : port_(port), queue_(queue), pool_(pool), routes_(routes), tx_(burst) {
    assert(pool != nullptr && burst > 0 && burst <= UINT16_MAX);
  }

  uint32_t send_burst(const pipe::TxEvent* datagrams, uint32_t n) noexcept override {
    uint32_t sent = 0;
    while (n != 0) {
      const uint32_t k = std::min<uint32_t>(n, static_cast<uint32_t>(tx_.size()));
      sent += send_some(datagrams, k);
      datagrams += k;
      n -= k;
    }
    return sent;
  }

  const TxCounters& counters() const noexcept { return counters_; }

 private:
  uint32_t send_some(const pipe::TxEvent* datagrams, uint32_t n) noexcept {
    uint16_t built = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const pipe::TxEvent& e = datagrams[i];
      const auto dest = static_cast<size_t>(e.destination);
      if (dest >= kDestinations || !routes_[dest].valid) {
        counters_.no_route.add();
        continue;
      }
      if (e.length > pipe::kTxPayloadCapacity) {
        counters_.too_long.add();
        continue;
      }
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (m == nullptr) {
        counters_.no_mbuf.add();
        continue;
      }
      const size_t len = net::build_udp_frame(mbuf_data(m), rte_pktmbuf_tailroom(m), routes_[dest].address, e.payload,
                                              e.length, ip_id_++);
      if (len == 0) {
        rte_pktmbuf_free(m);
        counters_.too_long.add();
        continue;
      }
      m->data_len = static_cast<uint16_t>(len);
      m->pkt_len = static_cast<uint32_t>(len);
      tx_[built++] = m;
    }
    if (built == 0) return 0;
    const uint16_t sent = rte_eth_tx_burst(port_, queue_, tx_.data(), built);
    if (sent < built) {
      rte_pktmbuf_free_bulk(tx_.data() + sent, built - sent);
      counters_.refused.add(built - sent);
    }
    return sent;
  }

  const uint16_t port_;
  const uint16_t queue_;
  rte_mempool* const pool_;
  const std::array<Route, kDestinations> routes_;
  std::vector<rte_mbuf*> tx_;
  uint16_t ip_id_ = 0;
  TxCounters counters_;
};

}  // namespace pmm::app::dpdk
