// The DPDK backend (docs/dpdk-backend.md): EAL from dpdk.eal, one port (dpdk.port) with one RX and one
// TX queue, mbuf pools on the port's socket, rte_ring element rings between stages, and one EAL worker
// lcore per configured core; the main lcore stays the control thread. Tests and benchmarks use this
// class directly for the device figures; the appliance sees it as a Backend.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/pipeline/pipeline_config.hpp"
#include "dpdk-app/backend.hpp"
#include "dpdk-app/dpdk_packet_io.hpp"
#include "dpdk-app/rte_event_ring.hpp"

struct rte_mempool;

namespace pmm::app::dpdk {

// The port's counters (rte_eth_stats) and ours, read by the control thread while the cores run.
struct DeviceStats {
  uint64_t ipackets = 0, ibytes = 0, imissed = 0, ierrors = 0, rx_nombuf = 0, opackets = 0, oerrors = 0;
  uint64_t rx_multi_segment = 0;  // freed: scatter is not configured
  uint64_t tx_no_route = 0, tx_no_mbuf = 0, tx_too_long = 0, tx_refused = 0;
  uint32_t rx_pool_size = 0, rx_pool_available = 0, tx_pool_size = 0, tx_pool_available = 0;
};

// Mbufs the RX pool needs so that the port never runs dry while the pipeline keeps up (see the
// formula in dpdk_backend.cpp).
struct PoolPlan {
  uint32_t rx_descriptors = 0, tx_descriptors = 0, cache = 0, tx_cache = 0;
  uint32_t rx_required = 0;  // pipeline.pool_packets must be at least this
  uint32_t tx_pool = 0;      // TX mbufs (not configured: small frames, sized from the descriptors)
};
PoolPlan plan_pools(const pipe::PipelineConfig& config, uint32_t rx_descriptors, uint32_t tx_descriptors);

class DpdkBackend final : public Backend {
 public:
  // Starts EAL, sets up and starts the port. nullptr with `error` naming the key or the DPDK call that
  // failed. At most one per process (EAL).
  static std::unique_ptr<DpdkBackend> create(const pipe::PipelineConfig& config, std::string& error);
  // Stops and closes the port, frees the pools and stops EAL. Destroy the Pipeline (its rings) and
  // join() first.
  ~DpdkBackend() override;
  DpdkBackend(const DpdkBackend&) = delete;
  DpdkBackend& operator=(const DpdkBackend&) = delete;

  std::string name() const override { return "dpdk"; }
  std::string describe() const override;
  pipe::PacketSource& source() override { return *source_; }
  pipe::PacketSink& sink() override { return *sink_; }
  pipe::RingFactory& rings() override { return rings_; }
  // Rings made after this live on the socket of the lcore that runs `cpu`'s core.
  void before_core(int cpu) override;
  // rte_eal_remote_launch of core i's loop on its worker lcore. Throws std::runtime_error if an lcore
  // is busy (then stop the pipeline and join()).
  void launch(pipe::Pipeline& p) override;
  void join() override;

  DeviceStats device_stats() const;
  // For the status line: "nic rx N missed N err N nombuf N tx N err N | pool free/size".
  std::string device_status() const override;
  uint64_t device_drops() const override;

  uint16_t port() const noexcept { return port_; }
  // EAL lcore that runs configured core i.
  const std::vector<unsigned>& core_lcores() const noexcept { return lcores_; }
  const PoolPlan& pool_plan() const noexcept { return plan_; }
  // Things that work but not as configured (lcore for a CPU, promiscuous mode refused, ...).
  const std::vector<std::string>& notes() const noexcept { return notes_; }

 private:
  struct CoreLaunch {
    const std::vector<pipe::Stage*>* stages = nullptr;
    const pipe::RunControl* control = nullptr;
  };
  static int run_core(void* arg);

  DpdkBackend() : rings_(-1) {}
  std::string start(const pipe::PipelineConfig& config);  // "" or the error
  std::string map_lcores(const pipe::PipelineConfig& config);
  std::string setup_port(const pipe::PipelineConfig& config);
  std::string make_routes(const pipe::PipelineConfig& config, std::array<Route, DpdkPacketSink::kDestinations>& routes);

  bool eal_owner_ = false;
  bool port_configured_ = false;
  bool port_started_ = false;
  bool launched_ = false;
  uint16_t port_ = 0;
  int socket_ = -1;  // the port's, or the main lcore's when the port has none
  std::string port_name_, driver_name_, mac_text_;
  rte_mempool* rx_pool_ = nullptr;
  rte_mempool* tx_pool_ = nullptr;
  PoolPlan plan_;
  std::vector<int> core_cpus_;    // configured CPU per core
  std::vector<unsigned> lcores_;  // EAL lcore per core
  std::vector<std::string> notes_;
  std::unique_ptr<DpdkPacketSource> source_;
  std::unique_ptr<DpdkPacketSink> sink_;
  RteRingFactory rings_;
  std::vector<CoreLaunch> launches_;
};

}  // namespace pmm::app::dpdk
