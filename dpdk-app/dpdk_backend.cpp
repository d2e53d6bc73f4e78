#include "dpdk-app/dpdk_backend.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "core/pipeline/net_address.hpp"

namespace pmm::app {

bool dpdk_available() noexcept { return true; }

std::unique_ptr<Backend> make_dpdk_backend(const pipe::PipelineConfig& config, std::string& error) {
  return dpdk::DpdkBackend::create(config, error);
}

namespace dpdk {

namespace {

constexpr uint16_t kQueue = 0;
constexpr uint32_t kRxDescriptors = 1024;  // asked for; the driver may adjust (rte_eth_dev_adjust_nb_rx_tx_desc)
constexpr uint32_t kTxDescriptors = 1024;
// TX frames are at most 42 + kTxPayloadCapacity bytes: small TX mbufs.
constexpr uint16_t kTxDataRoom = RTE_PKTMBUF_HEADROOM + 256;
static_assert(net::kUdpFrameOverhead + pipe::kTxPayloadCapacity <= 256);

std::string errno_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

// Most mbufs a mempool cache can hold: it is flushed above 1.5 x its size (rte_mempool.c).
uint32_t cache_slack(uint32_t cache) { return cache + cache / 2; }

}  // namespace

// The RX pool must cover every mbuf that can be out of it at once while the pipeline keeps up:
//   rx_descriptors                  filled RX descriptors waiting for the NIC
// + ring_size - 1                   RxPackets in the RX -> parse ring (rte_ring keeps one slot free)
// + 2 * burst                       the RX stage's burst being pushed and the parse stage's popped burst
// + (cores + 1) * 1.5 * cache       mbufs parked in the cache of each lcore that allocates or frees
//                                   (the core lcores and the main lcore at teardown)
// pipeline.pool_packets below that is an error: the NIC would starve (rx_nombuf) before the ring fills.
// The TX pool is not configured: tx_descriptors + burst + (cores + 1) * 1.5 * tx_cache.
PoolPlan plan_pools(const pipe::PipelineConfig& config, uint32_t rx_descriptors, uint32_t tx_descriptors) {
  PoolPlan p;
  const auto lcores = static_cast<uint32_t>(config.cores.size() + 1);
  p.rx_descriptors = rx_descriptors;
  p.tx_descriptors = tx_descriptors;
  p.cache = std::min<uint32_t>(RTE_MEMPOOL_CACHE_MAX_SIZE, 4 * config.burst);
  p.tx_cache = std::min<uint32_t>(RTE_MEMPOOL_CACHE_MAX_SIZE, config.burst);
  p.rx_required = rx_descriptors + (config.ring_size - 1) + 2 * config.burst + lcores * cache_slack(p.cache);
  p.tx_pool = tx_descriptors + config.burst + lcores * cache_slack(p.tx_cache);
  return p;
}

std::unique_ptr<DpdkBackend> DpdkBackend::create(const pipe::PipelineConfig& config, std::string& error) {
  std::unique_ptr<DpdkBackend> b(new DpdkBackend());
  error = b->start(config);
  if (!error.empty()) return nullptr;  // the destructor undoes what was done
  return b;
}

std::string DpdkBackend::start(const pipe::PipelineConfig& config) {
  if (std::string e = pipe::validate(config); !e.empty()) return "config: " + e;
  std::array<Route, DpdkPacketSink::kDestinations> routes;
  // Addresses first: a typo should not cost an EAL start.
  if (std::string e = make_routes(config, routes); !e.empty()) return e;

  if (std::string e = Eal::start("pinnaclemm", config.dpdk_eal); !e.empty()) return e;
  eal_owner_ = true;
  if (std::string e = map_lcores(config); !e.empty()) return e;
  if (std::string e = setup_port(config); !e.empty()) return e;

  // The local MAC is known only now ("auto": the port's).
  const bool auto_mac = config.local_mac == "auto";
  rte_ether_addr port_mac{};
  rte_eth_macaddr_get(port_, &port_mac);
  std::array<uint8_t, 6> mac{};
  std::copy(std::begin(port_mac.addr_bytes), std::end(port_mac.addr_bytes), mac.begin());
  if (!auto_mac) pipe::parse_mac(config.local_mac, mac);  // checked by make_routes
  mac_text_ = pipe::format_mac(mac) + (auto_mac ? " (port)" : " (network.local_mac)");
  const bool sends = std::any_of(routes.begin(), routes.end(), [](const Route& r) { return r.valid; });
  if (mac == std::array<uint8_t, 6>{} && sends)
    notes_.push_back("the port has no MAC (00:00:00:00:00:00): set network.local_mac for the frames we send");
  for (Route& r : routes) r.address.src_mac = mac;

  source_ = std::make_unique<DpdkPacketSource>(port_, kQueue, config.burst);
  sink_ = std::make_unique<DpdkPacketSink>(port_, kQueue, tx_pool_, config.burst, routes);
  rings_.set_socket(socket_);
  return "";
}

std::string DpdkBackend::make_routes(const pipe::PipelineConfig& config,
                                     std::array<Route, DpdkPacketSink::kDestinations>& routes) {
  if (config.local_mac != "auto") {
    std::array<uint8_t, 6> mac{};
    if (!pipe::parse_mac(config.local_mac, mac))
      return "config: network.local_mac: expected \"auto\" or aa:bb:cc:dd:ee:ff, got \"" + config.local_mac + "\"";
  }
  Route& retrans = routes[static_cast<size_t>(pipe::Destination::kRetransmissionServer)];
  if (config.retrans_server.empty()) return "";  // nothing to send to: requests are counted as not sent
  if (!pipe::parse_endpoint(config.retrans_server, retrans.address.dst_ip, retrans.address.dst_port))
    return "config: retransmission.server: expected ip:port, got \"" + config.retrans_server + "\"";
  if (config.local_ip.empty() || !pipe::parse_ipv4(config.local_ip, retrans.address.src_ip))
    return "config: network.local_ip: the dpdk backend needs it as the source of retransmission requests; "
           "expected a dotted IPv4 address, got \"" + config.local_ip + "\"";
  if (config.gateway_mac.empty())
    return "config: network.gateway_mac: the dpdk backend builds its own frames and needs the next hop's MAC "
           "(the router, or the retransmission server " + config.retrans_server +
           " on the same segment) to send retransmission requests, e.g. \"02:00:00:00:00:01\"";
  if (!pipe::parse_mac(config.gateway_mac, retrans.address.dst_mac))
    return "config: network.gateway_mac: expected aa:bb:cc:dd:ee:ff, got \"" + config.gateway_mac + "\"";
  retrans.address.src_port = config.retrans_port;
  retrans.valid = true;
  // Orders leave through the same next hop, from the order port, so responses come back to it.
  if (config.order_gateway.empty()) return "";
  Route& orders = routes[static_cast<size_t>(pipe::Destination::kOrderGateway)];
  orders.address = retrans.address;
  if (!pipe::parse_endpoint(config.order_gateway, orders.address.dst_ip, orders.address.dst_port))
    return "config: orders.gateway: expected ip:port or \"\", got \"" + config.order_gateway + "\"";
  orders.address.src_port = config.order_port;
  orders.valid = true;
  return "";
}

// Core i runs on the worker lcore whose id is cores[i].cpu when EAL has that lcore (with -l, lcore ids
// are CPU numbers), else on the lowest worker lcore still free. The main lcore is the control thread.
std::string DpdkBackend::map_lcores(const pipe::PipelineConfig& config) {
  const unsigned main_lcore = rte_get_main_lcore();
  std::vector<unsigned> workers;
  for (unsigned l = 0; l < RTE_MAX_LCORE; ++l)
    if (rte_lcore_is_enabled(l) && l != main_lcore) workers.push_back(l);
  const size_t wanted = config.cores.size();
  if (workers.size() < wanted)
    return "dpdk: pipeline.cores has " + std::to_string(wanted) + " core(s) but EAL has " +
           std::to_string(workers.size()) + " worker lcore(s) besides the main lcore " + std::to_string(main_lcore) +
           " (the control thread): give EAL one lcore more than pipeline.cores in dpdk.eal, e.g. \"-l\", \"0-" +
           std::to_string(wanted) + "\" (the first is the main lcore), on a machine with that many CPUs";
  std::vector<bool> taken(workers.size(), false);
  lcores_.assign(wanted, RTE_MAX_LCORE);
  core_cpus_.clear();
  for (size_t i = 0; i < wanted; ++i) {
    const int cpu = config.cores[i].cpu;
    core_cpus_.push_back(cpu);
    if (cpu < 0) continue;
    const auto it = std::find(workers.begin(), workers.end(), static_cast<unsigned>(cpu));
    if (it == workers.end() || taken[static_cast<size_t>(it - workers.begin())]) continue;
    taken[static_cast<size_t>(it - workers.begin())] = true;
    lcores_[i] = *it;
  }
  for (size_t i = 0; i < wanted; ++i) {
    if (lcores_[i] != RTE_MAX_LCORE) continue;
    const size_t w = static_cast<size_t>(std::find(taken.begin(), taken.end(), false) - taken.begin());
    taken[w] = true;
    lcores_[i] = workers[w];
    const int cpu = config.cores[i].cpu;
    if (cpu >= 0)
      notes_.push_back("pipeline.cores[" + std::to_string(i) + "].cpu " + std::to_string(cpu) +
                       (static_cast<unsigned>(cpu) == main_lcore ? " is the main (control) lcore"
                                                                 : " is not a free EAL worker lcore") +
                       ": the core runs on lcore " + std::to_string(workers[w]) + " (add the CPU to EAL -l)");
  }
  return "";
}

std::string DpdkBackend::setup_port(const pipe::PipelineConfig& config) {
  port_ = config.dpdk_port;
  if (!rte_eth_dev_is_valid_port(port_)) {
    std::string found;
    for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) {
      if (!rte_eth_dev_is_valid_port(p)) continue;
      char name[RTE_ETH_NAME_MAX_LEN] = {};
      rte_eth_dev_get_name_by_port(p, name);
      // Appended piece by piece: GCC 12 -O3 warns (falsely) on const char* + std::string here.
      if (!found.empty()) found += ", ";
      found.append(std::to_string(p)).append(" (").append(name).append(")");
    }
    return "dpdk.port: port " + std::to_string(port_) + " does not exist; EAL found " +
           (found.empty() ? std::string("no ports: name a device in dpdk.eal, a NIC with \"-a\", \"0000:01:00.0\" "
                                        "(bound to vfio-pci) or a virtual one with \"--vdev=net_pcap0,...\"")
                          : found);
  }
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_, name);
  port_name_ = name;
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(port_, &info); rc != 0)
    return "dpdk: rte_eth_dev_info_get(port " + std::to_string(port_) + "): " + errno_text(rc);
  driver_name_ = info.driver_name != nullptr ? info.driver_name : "?";
  const std::string where = "port " + std::to_string(port_) + " (" + port_name_ + ", " + driver_name_ + ")";

  socket_ = rte_eth_dev_socket_id(port_);
  if (socket_ < 0) socket_ = static_cast<int>(rte_socket_id());  // virtual devices have no socket

  rte_eth_conf conf{};
  if (const int rc = rte_eth_dev_configure(port_, 1, 1, &conf); rc != 0)
    return "dpdk: rte_eth_dev_configure(" + where + ", 1 RX + 1 TX queue): " + errno_text(rc);
  port_configured_ = true;
  uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_, &rxd, &txd); rc != 0)
    return "dpdk: rte_eth_dev_adjust_nb_rx_tx_desc(" + where + "): " + errno_text(rc);

  plan_ = plan_pools(config, rxd, txd);
  if (config.pool_packets < plan_.rx_required)
    return "config: pipeline.pool_packets: the dpdk backend needs at least " + std::to_string(plan_.rx_required) +
           " mbufs (" + std::to_string(rxd) + " RX descriptors + " + std::to_string(config.ring_size - 1) +
           " in the RX ring + 2 x burst " + std::to_string(config.burst) + " + " +
           std::to_string(config.cores.size() + 1) + " lcore caches of up to " +
           std::to_string(cache_slack(plan_.cache)) + "), got " + std::to_string(config.pool_packets);

  const auto make_pool = [&](const std::string& pool_name, uint32_t n, uint32_t cache, uint16_t room) {
    rte_mempool* mp = rte_pktmbuf_pool_create(pool_name.c_str(), n, cache, 0, room, socket_);
    if (mp == nullptr && rte_errno == ENOMEM) {  // --no-huge has memory on socket 0 only
      mp = rte_pktmbuf_pool_create(pool_name.c_str(), n, cache, 0, room, SOCKET_ID_ANY);
      if (mp != nullptr)
        notes_.push_back(pool_name + ": no memory on socket " + std::to_string(socket_) + ", allocated elsewhere");
    }
    return mp;
  };
  const std::string suffix = "_p" + std::to_string(port_);
  rx_pool_ = make_pool("pmm_rx" + suffix, config.pool_packets, plan_.cache, RTE_MBUF_DEFAULT_BUF_SIZE);
  if (rx_pool_ == nullptr)
    return "dpdk: rte_pktmbuf_pool_create(" + std::to_string(config.pool_packets) + " mbufs of " +
           std::to_string(RTE_MBUF_DEFAULT_BUF_SIZE) + " B, socket " + std::to_string(socket_) +
           "): " + rte_strerror(rte_errno) + " (pipeline.pool_packets; raise EAL -m in dpdk.eal)";
  tx_pool_ = make_pool("pmm_tx" + suffix, plan_.tx_pool, plan_.tx_cache, kTxDataRoom);
  if (tx_pool_ == nullptr)
    return "dpdk: rte_pktmbuf_pool_create(TX, " + std::to_string(plan_.tx_pool) + " mbufs, socket " +
           std::to_string(socket_) + "): " + rte_strerror(rte_errno) + " (raise EAL -m in dpdk.eal)";

  if (const int rc = rte_eth_rx_queue_setup(port_, kQueue, rxd, static_cast<unsigned>(socket_), nullptr, rx_pool_);
      rc != 0)
    return "dpdk: rte_eth_rx_queue_setup(" + where + ", " + std::to_string(rxd) + " descriptors): " + errno_text(rc);
  if (const int rc = rte_eth_tx_queue_setup(port_, kQueue, txd, static_cast<unsigned>(socket_), nullptr); rc != 0)
    return "dpdk: rte_eth_tx_queue_setup(" + where + ", " + std::to_string(txd) + " descriptors): " + errno_text(rc);
  if (const int rc = rte_eth_dev_start(port_); rc != 0)
    return "dpdk: rte_eth_dev_start(" + where + "): " + errno_text(rc);
  port_started_ = true;
  // The feed is multicast (or unicast to an address the port does not own, on a virtual device).
  if (const int rc = rte_eth_promiscuous_enable(port_); rc != 0)
    notes_.push_back("promiscuous mode refused (" + errno_text(rc) + "): only frames to the port's MAC arrive");
  return "";
}

DpdkBackend::~DpdkBackend() {
  if (launched_) rte_eal_mp_wait_lcore();  // join() normally did it
  if (port_started_) rte_eth_dev_stop(port_);
  if (port_configured_) rte_eth_dev_close(port_);
  if (rx_pool_ != nullptr) rte_mempool_free(rx_pool_);
  if (tx_pool_ != nullptr) rte_mempool_free(tx_pool_);
  if (eal_owner_) Eal::stop();
}

void DpdkBackend::before_core(int cpu) {
  int socket = socket_;
  for (size_t i = 0; i < core_cpus_.size(); ++i)
    if (core_cpus_[i] == cpu) {
      socket = static_cast<int>(rte_lcore_to_socket_id(lcores_[i]));
      break;
    }
  rings_.set_socket(socket);
}

int DpdkBackend::run_core(void* arg) {
  const CoreLaunch* c = static_cast<const CoreLaunch*>(arg);
  pipe::run_core_loop(*c->stages, *c->control);
  return 0;
}

void DpdkBackend::launch(pipe::Pipeline& p) {
  if (p.core_count() != lcores_.size())
    throw std::logic_error("dpdk: the pipeline has " + std::to_string(p.core_count()) +
                           " cores, the backend was made for " + std::to_string(lcores_.size()));
  launches_.assign(p.core_count(), CoreLaunch{});
  for (size_t i = 0; i < p.core_count(); ++i) {
    launches_[i] = CoreLaunch{&p.core_stages(i), &p.control()};
    if (const int rc = rte_eal_remote_launch(&DpdkBackend::run_core, &launches_[i], lcores_[i]); rc != 0)
      throw std::runtime_error("dpdk: rte_eal_remote_launch(core " + std::to_string(i) + ", lcore " +
                               std::to_string(lcores_[i]) + "): " + errno_text(rc));
    launched_ = true;
  }
}

void DpdkBackend::join() {
  rte_eal_mp_wait_lcore();
  launched_ = false;
}

DeviceStats DpdkBackend::device_stats() const {
  DeviceStats s;
  rte_eth_stats e{};
  if (rte_eth_stats_get(port_, &e) == 0) {
    s.ipackets = e.ipackets;
    s.ibytes = e.ibytes;
    s.imissed = e.imissed;
    s.ierrors = e.ierrors;
    s.rx_nombuf = e.rx_nombuf;
    s.opackets = e.opackets;
    s.oerrors = e.oerrors;
  }
  s.rx_multi_segment = source_->counters().multi_segment.get();
  const TxCounters& tx = sink_->counters();
  s.tx_no_route = tx.no_route.get();
  s.tx_no_mbuf = tx.no_mbuf.get();
  s.tx_too_long = tx.too_long.get();
  s.tx_refused = tx.refused.get();
  s.rx_pool_size = rx_pool_->size;
  s.rx_pool_available = rte_mempool_avail_count(rx_pool_);
  s.tx_pool_size = tx_pool_->size;
  s.tx_pool_available = rte_mempool_avail_count(tx_pool_);
  return s;
}

uint64_t DpdkBackend::device_drops() const {
  const DeviceStats s = device_stats();
  return s.imissed + s.ierrors + s.rx_nombuf;
}

std::string DpdkBackend::device_status() const {
  const DeviceStats s = device_stats();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "nic rx %" PRIu64 " missed %" PRIu64 " err %" PRIu64 " nombuf %" PRIu64 " multiseg %" PRIu64
                " tx %" PRIu64 " err %" PRIu64 " refused %" PRIu64 " | mbufs free %u/%u",
                s.ipackets, s.imissed, s.ierrors, s.rx_nombuf, s.rx_multi_segment, s.opackets, s.oerrors,
                s.tx_refused + s.tx_no_mbuf, s.rx_pool_available, s.rx_pool_size);
  return buf;
}

std::string DpdkBackend::describe() const {
  std::string d = "dpdk port " + std::to_string(port_) + " " + port_name_ + " (" + driver_name_ + ", socket " +
                  std::to_string(socket_) + ") mac " + mac_text_;
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_, &link) == 0) {
    if (link.link_status == 0)
      d += ", link down";
    else if (link.link_speed == RTE_ETH_SPEED_NUM_NONE || link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
      d += ", link up";
    else
      d += ", link up " + std::to_string(link.link_speed) + " Mbps " + (link.link_duplex != 0 ? "full" : "half") +
           " duplex";
  }
  d += "; rx " + std::to_string(plan_.rx_descriptors) + " desc, tx " + std::to_string(plan_.tx_descriptors) +
       " desc; mbufs rx " + std::to_string(rx_pool_->size) + " (needs >= " + std::to_string(plan_.rx_required) +
       ") tx " + std::to_string(tx_pool_->size) + "; main lcore " + std::to_string(rte_get_main_lcore());
  for (size_t i = 0; i < lcores_.size(); ++i)
    d += ", core " + std::to_string(i) + " -> lcore " + std::to_string(lcores_[i]) + " (socket " +
         std::to_string(rte_lcore_to_socket_id(lcores_[i])) + ")";
  for (const std::string& n : notes_) d += "; note: " + n;
  return d;
}

}  // namespace dpdk
}  // namespace pmm::app
