// AF_PACKET backend (Linux): the kernel's driver instead of DPDK's, for hosts without a DPDK-capable
// NIC or hugepages. One packet socket on the configured interface with a TPACKET_V2 RX ring and TX
// ring mapped into our memory. The RX core busy-polls the RX ring's status words (no syscall); the TX
// core writes whole Ethernet/IPv4/UDP frames into the TX ring and kicks the kernel once per burst, the
// one syscall left on the data path. TPACKET_V3 is not used: its block-retire timeout delays delivery
// by milliseconds. docs/afpacket-backend.md.
#include "dpdk-app/backend.hpp"

#if !defined(__linux__)

namespace pmm::app {

bool afpacket_available() noexcept { return false; }

std::unique_ptr<Backend> make_afpacket_backend(const pipe::PipelineConfig&, std::string& error) {
  error = "AF_PACKET is Linux-only";
  return nullptr;
}

}  // namespace pmm::app

#else

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/byte_order.hpp"
#include "core/pipeline/net_address.hpp"
#include "core/pipeline/relaxed_counter.hpp"
#include "core/pipeline/tsc_clock.hpp"
#include "core/udp_frame.hpp"
#include "dpdk-app/thread_launcher.hpp"

namespace pmm::app {
namespace {

// Where a TX frame's bytes start: right after the aligned tpacket2_hdr (the kernel's default when
// PACKET_TX_HAS_OFF is not set: tp_hdrlen minus the sockaddr_ll it reserves on RX only).
constexpr size_t kTxDataOffset = TPACKET_ALIGN(sizeof(tpacket2_hdr));
// The kernel's RX data offset for an Ethernet frame: the network header at TPACKET_ALIGN(tp_hdrlen + 16),
// the 14-byte MAC header just before it. Used only to say how large a packet a frame holds.
constexpr size_t kRxNetworkOffset = TPACKET_ALIGN(TPACKET2_HDRLEN + 16);
constexpr size_t kMinEthernetFrame = 60;  // without FCS; shorter frames are zero-padded
// The smallest frame that holds our largest datagram on TX (and more than enough on RX).
constexpr size_t kMinFrameSize = TPACKET_ALIGN(kTxDataOffset + net::kUdpFrameOverhead + pipe::kTxPayloadCapacity);
static_assert(kMinFrameSize >= kRxNetworkOffset + net::kIpv4HeaderSize + net::kUdpHeaderSize);
// Written by the RX core over TP_STATUS_USER while a frame is out in the pipeline: the kernel only
// fills a frame whose status is TP_STATUS_KERNEL (0), and the RX core only takes a frame with
// TP_STATUS_USER set, so a frame not yet released is never handed out twice when the ring wraps.
constexpr uint32_t kStatusInPipeline = 1u << 28;
constexpr uint32_t kTxBusy = TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT;

std::atomic_ref<uint32_t> status_of(tpacket2_hdr* h) noexcept { return std::atomic_ref<uint32_t>(h->tp_status); }

std::string errno_text(int e) { return std::strerror(e); }

// A locally generated packet (over veth or loopback) may reach us with its UDP checksum left to an
// offload that never ran (TP_STATUS_CSUMNOTREADY): the field holds only the pseudo-header sum. The
// kernel's own UDP stack trusts such packets; so do we, by zeroing the field ("no checksum" in IPv4)
// so the parse stage's check passes. Anything not IPv4/UDP is left as it is.
bool clear_udp_checksum(uint8_t* frame, size_t len) noexcept {
  size_t l3 = net::kEthernetHeaderSize;
  if (len < l3 + net::kIpv4HeaderSize) return false;
  uint16_t ether_type = load_be16(frame + 12);
  if (ether_type == net::kEtherTypeVlan) {
    l3 += net::kVlanTagSize;
    if (len < l3 + net::kIpv4HeaderSize) return false;
    ether_type = load_be16(frame + 16);
  }
  if (ether_type != net::kEtherTypeIpv4 || frame[l3 + 9] != net::kIpProtocolUdp) return false;
  if ((load_be16(frame + l3 + 6) & 0x1FFF) != 0) return false;  // a later fragment: no UDP header here
  const size_t udp = l3 + size_t{frame[l3] & 0x0Fu} * 4;
  if (len < udp + net::kUdpHeaderSize) return false;
  store_be16(frame + udp + 6, 0);
  return true;
}

// One ring's frames, in ring order. A table of addresses, so the hot path indexes instead of dividing
// by the frames per block.
struct FrameRing {
  std::vector<tpacket2_hdr*> frames;
  uint32_t frame_size = 0;
  tpacket_req request{};
};

size_t ring_bytes(const tpacket_req& r) { return size_t{r.tp_block_size} * r.tp_block_nr; }

tpacket_req ring_request(uint32_t frames, uint32_t frame_size, size_t page) {
  tpacket_req r{};
  // Blocks of whole pages, each holding at least one frame; frames never cross a block.
  const size_t block = (frame_size + page - 1) / page * page;
  const uint32_t per_block = static_cast<uint32_t>(block / frame_size);
  r.tp_block_size = static_cast<unsigned>(block);
  r.tp_block_nr = (frames + per_block - 1) / per_block;
  r.tp_frame_size = frame_size;
  r.tp_frame_nr = r.tp_block_nr * per_block;  // the kernel wants every block full
  return r;
}

void map_frames(FrameRing& ring, uint8_t* base) {
  const tpacket_req& r = ring.request;
  const uint32_t per_block = r.tp_block_size / r.tp_frame_size;
  ring.frames.resize(r.tp_frame_nr);
  for (uint32_t i = 0; i < r.tp_frame_nr; ++i)
    ring.frames[i] = reinterpret_cast<tpacket2_hdr*>(base + size_t{i / per_block} * r.tp_block_size +
                                                      size_t{i % per_block} * r.tp_frame_size);
  ring.frame_size = r.tp_frame_size;
}

// Counters written by one core each (noted per field), read by the control thread.
struct alignas(64) RxRingCounters {
  pipe::RelaxedCounter frames;          // RX core: frames handed to the pipeline
  pipe::RelaxedCounter losing;          // RX core: frames flagged TP_STATUS_LOSING (kernel drops not yet read)
  pipe::RelaxedCounter truncated;       // RX core: tp_snaplen < tp_len (the frame size is too small)
  pipe::RelaxedCounter checksum_cleared;// RX core: TP_STATUS_CSUMNOTREADY frames whose UDP checksum was zeroed
};
struct alignas(64) RxReleaseCounters {
  pipe::RelaxedCounter released;        // parse core
};
struct alignas(64) TxRingCounters {
  pipe::RelaxedCounter frames;          // TX core: frames queued in the TX ring
  pipe::RelaxedCounter ring_full;       // TX core: datagrams not sent because the next frame was still busy
  pipe::RelaxedCounter unroutable;      // TX core: destinations this backend has no address for
  pipe::RelaxedCounter kicks;           // TX core: send() calls, one per burst that queued frames
  pipe::RelaxedCounter kick_errors;     // TX core: send() failed (frames stay queued for the next kick)
};

struct Addresses {
  std::string interface;
  int ifindex = 0;
  int mtu = 0;
  std::array<uint8_t, 6> interface_mac{};
  net::FrameAddress retransmission;  // src = us (local IP, retransmission port), dst = the server
  net::FrameAddress order_gateway;   // src = us (local IP, order port), dst = the exchange's order entry
  bool has_order_gateway = false;    // orders.gateway is "": order datagrams are counted unroutable
};

class PacketRings final : public pipe::PacketSource, public pipe::PacketSink {
 public:
  ~PacketRings() override {
    if (map_ != MAP_FAILED) ::munmap(map_, map_bytes_);
    if (fd_ >= 0) ::close(fd_);
  }

  bool open(const pipe::PipelineConfig& c, std::string& error);

  uint32_t receive_burst(pipe::RxPacket* out, uint32_t max) noexcept override {
    uint32_t n = 0;
    uint32_t i = rx_next_;
    const uint32_t count = static_cast<uint32_t>(rx_.frames.size());
    while (n < max) {
      tpacket2_hdr* h = rx_.frames[i];
      const uint32_t status = status_of(h).load(std::memory_order_acquire);
      if ((status & TP_STATUS_USER) == 0) break;  // the kernel's, or still out in the pipeline
      uint8_t* frame = reinterpret_cast<uint8_t*>(h) + h->tp_mac;
      if ((status & TP_STATUS_LOSING) != 0) rx_counters_.losing.add();
      if (h->tp_snaplen < h->tp_len) rx_counters_.truncated.add();
      if ((status & TP_STATUS_CSUMNOTREADY) != 0 && clear_udp_checksum(frame, h->tp_snaplen))
        rx_counters_.checksum_cleared.add();
      status_of(h).store(kStatusInPipeline, std::memory_order_relaxed);
      pipe::RxPacket& p = out[n++];
      p.data = frame;
      p.length = h->tp_snaplen;
      p.udp_dst_port = 0;
      p.layer = pipe::PacketLayer::kEthernet;
      p.handle = i;
      i = i + 1 == count ? 0 : i + 1;
    }
    if (n == 0) return 0;
    rx_next_ = i;
    const uint64_t now = pipe::read_tsc();
    for (uint32_t k = 0; k < n; ++k) out[k].rx_tsc = now;
    rx_counters_.frames.add(n);
    return n;
  }

  // The kernel fills frames strictly in ring order and drops (tp_drops) when the next one is not yet
  // free, so a frame held long stalls the ring even when later ones are back: release promptly.
  void release(const pipe::RxPacket* packets, uint32_t n) noexcept override {
    give_back(packets, n);
    release_counters_.released.add(n);
  }

  uint32_t send_burst(const pipe::TxEvent* datagrams, uint32_t n) noexcept override {
    uint32_t sent = 0;
    const uint32_t count = static_cast<uint32_t>(tx_.frames.size());
    for (uint32_t k = 0; k < n; ++k) {
      const pipe::TxEvent& e = datagrams[k];
      assert(e.length <= pipe::kTxPayloadCapacity);
      const net::FrameAddress* to = nullptr;
      if (e.destination == pipe::Destination::kRetransmissionServer) to = &addresses_.retransmission;
      else if (e.destination == pipe::Destination::kOrderGateway && addresses_.has_order_gateway)
        to = &addresses_.order_gateway;
      if (to == nullptr) {
        tx_counters_.unroutable.add();
        continue;
      }
      tpacket2_hdr* h = tx_.frames[tx_next_];
      if ((status_of(h).load(std::memory_order_acquire) & kTxBusy) != 0) {
        tx_counters_.ring_full.add(n - k);  // the rest of the burst: frames are reused in order, none is free
        break;
      }
      uint8_t* data = reinterpret_cast<uint8_t*>(h) + kTxDataOffset;
      size_t len = net::build_udp_frame(data, tx_capacity_, *to, e.payload, e.length, ip_id_++);
      assert(len != 0);  // kMinFrameSize: the largest datagram always fits
      if (len < kMinEthernetFrame) {
        std::memset(data + len, 0, kMinEthernetFrame - len);
        len = kMinEthernetFrame;
      }
      h->tp_len = static_cast<uint32_t>(len);
      status_of(h).store(TP_STATUS_SEND_REQUEST, std::memory_order_release);
      tx_next_ = tx_next_ + 1 == count ? 0 : tx_next_ + 1;
      ++sent;
    }
    if (sent != 0) {
      // The one syscall per TX burst: AF_PACKET has no doorbell the kernel polls. MSG_DONTWAIT: return
      // once the frames are handed to the driver, not when they have left.
      tx_counters_.kicks.add();
      if (::send(fd_, nullptr, 0, MSG_DONTWAIT) < 0) tx_counters_.kick_errors.add();
      tx_counters_.frames.add(sent);
    }
    return sent;
  }

  // Control thread: one line of figures, including the kernel's own (a syscall; never on a core).
  std::string figures() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    update_kernel_stats();
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "rx: %llu frames (kernel saw %llu, dropped %llu: ring full), %llu out in the pipeline, %llu flagged "
                  "losing, %llu truncated, %llu checksums left to offload; "
                  "tx: %llu frames in %llu kicks (%llu failed), %llu not sent (ring full), %llu unroutable",
                  ull(rx_counters_.frames.get()), ull(kernel_packets_), ull(kernel_drops_), ull(out_in_pipeline()),
                  ull(rx_counters_.losing.get()), ull(rx_counters_.truncated.get()), ull(rx_counters_.checksum_cleared.get()),
                  ull(tx_counters_.frames.get()), ull(tx_counters_.kicks.get()),
                  ull(tx_counters_.kick_errors.get()), ull(tx_counters_.ring_full.get()),
                  ull(tx_counters_.unroutable.get()));
    return buf;
  }

  // Control thread: the kernel's drops (ring full) since start.
  uint64_t kernel_drops() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    update_kernel_stats();
    return kernel_drops_;
  }

  const std::string& setup() const noexcept { return setup_; }

 private:
  static unsigned long long ull(uint64_t v) noexcept { return v; }
  // Under stats_mutex_. Reading PACKET_STATISTICS resets the kernel's counts: add them up.
  void update_kernel_stats() const {
    tpacket_stats s{};
    socklen_t len = sizeof s;
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &s, &len) == 0) {
      kernel_packets_ += s.tp_packets;
      kernel_drops_ += s.tp_drops;
    }
  }
  // A moment's snapshot from three counters on two cores: clamped, it may lag by a burst.
  uint64_t out_in_pipeline() const noexcept {
    const uint64_t back = release_counters_.released.get();
    const uint64_t out = rx_counters_.frames.get();
    return out > back ? out - back : 0;
  }

  void give_back(const pipe::RxPacket* packets, uint32_t n) noexcept {
    for (uint32_t k = 0; k < n; ++k) {
      assert(packets[k].handle < rx_.frames.size());
      status_of(rx_.frames[static_cast<size_t>(packets[k].handle)]).store(TP_STATUS_KERNEL, std::memory_order_release);
    }
  }

  bool check_config(const pipe::PipelineConfig& c, std::string& error);
  bool query_interface(const pipe::PipelineConfig& c, std::string& error);
  bool fail(std::string& error, const std::string& what, int e) {
    error = "afpacket.interface " + addresses_.interface + ": " + what + ": " + errno_text(e);
    return false;
  }

  int fd_ = -1;
  void* map_ = MAP_FAILED;
  size_t map_bytes_ = 0;
  FrameRing rx_, tx_;
  size_t tx_capacity_ = 0;  // bytes a TX frame can carry
  Addresses addresses_;
  std::string setup_;

  // RX core.
  alignas(64) uint32_t rx_next_ = 0;
  RxRingCounters rx_counters_;
  RxReleaseCounters release_counters_;
  // TX core.
  alignas(64) uint32_t tx_next_ = 0;
  uint16_t ip_id_ = 0;
  TxRingCounters tx_counters_;
  // Control thread.
  mutable std::mutex stats_mutex_;
  mutable uint64_t kernel_packets_ = 0, kernel_drops_ = 0;
};

// The configuration's keys, checked before anything is opened (no privileges needed to hear about a typo).
bool PacketRings::check_config(const pipe::PipelineConfig& c, std::string& error) {
  Addresses& a = addresses_;
  a.interface = c.afpacket_interface;
  if (a.interface.empty()) {
    error = "afpacket.interface: required by the afpacket backend (the interface the feed arrives on), e.g. "
            "--set afpacket.interface=eth1";
    return false;
  }
  if (a.interface.size() >= IFNAMSIZ) {
    error = "afpacket.interface: \"" + a.interface + "\" is longer than " + std::to_string(IFNAMSIZ - 1) +
            " characters, the kernel's limit";
    return false;
  }
  if (c.afpacket_frame_size % TPACKET_ALIGNMENT != 0 || c.afpacket_frame_size < kMinFrameSize) {
    error = "afpacket.frame_size: expected a multiple of " + std::to_string(TPACKET_ALIGNMENT) + " of at least " +
            std::to_string(kMinFrameSize) + ", got " + std::to_string(c.afpacket_frame_size);
    return false;
  }
  uint32_t local_ip = 0;
  if (!pipe::parse_ipv4(c.local_ip, local_ip)) {
    error = "network.local_ip: expected a dotted IPv4 address (the source of what we send), got \"" + c.local_ip + "\"";
    return false;
  }
  if (c.gateway_mac.empty()) {
    error = "network.gateway_mac: required by the afpacket backend (the MAC of the next hop towards "
            "retransmission.server), e.g. --set network.gateway_mac=02:00:00:77:00:01";
    return false;
  }
  if (!pipe::parse_mac(c.gateway_mac, a.retransmission.dst_mac)) {
    error = "network.gateway_mac: expected a MAC address aa:bb:cc:dd:ee:ff, got \"" + c.gateway_mac + "\"";
    return false;
  }
  if (!pipe::parse_endpoint(c.retrans_server, a.retransmission.dst_ip, a.retransmission.dst_port)) {
    error = "retransmission.server: expected IP:PORT, got \"" + c.retrans_server + "\"";
    return false;
  }
  a.retransmission.src_ip = local_ip;
  a.retransmission.src_port = c.retrans_port;
  if (c.local_mac != "auto" && !pipe::parse_mac(c.local_mac, a.retransmission.src_mac)) {
    error = "network.local_mac: expected \"auto\" or a MAC address aa:bb:cc:dd:ee:ff, got \"" + c.local_mac + "\"";
    return false;
  }
  // Orders leave through the same next hop, from the order port, so responses come back to it.
  a.has_order_gateway = !c.order_gateway.empty();
  if (a.has_order_gateway) {
    a.order_gateway = a.retransmission;
    if (!pipe::parse_endpoint(c.order_gateway, a.order_gateway.dst_ip, a.order_gateway.dst_port)) {
      error = "orders.gateway: expected IP:PORT or \"\", got \"" + c.order_gateway + "\"";
      return false;
    }
    a.order_gateway.src_port = c.order_port;
  }
  return true;
}

// What the interface says about itself: index, state, MTU, MAC.
bool PacketRings::query_interface(const pipe::PipelineConfig& c, std::string& error) {
  Addresses& a = addresses_;
  ifreq req{};
  std::memcpy(req.ifr_name, a.interface.c_str(), a.interface.size());
  if (::ioctl(fd_, SIOCGIFINDEX, &req) != 0) {
    if (errno == ENODEV) {
      error = "afpacket.interface: no interface named \"" + a.interface + "\" (ip -br link lists them)";
      return false;
    }
    return fail(error, "SIOCGIFINDEX", errno);
  }
  a.ifindex = req.ifr_ifindex;
  if (::ioctl(fd_, SIOCGIFFLAGS, &req) != 0) return fail(error, "SIOCGIFFLAGS", errno);
  if ((req.ifr_flags & IFF_UP) == 0) {
    error = "afpacket.interface " + a.interface + ": the interface is down (ip link set " + a.interface + " up)";
    return false;
  }
  if (::ioctl(fd_, SIOCGIFMTU, &req) != 0) return fail(error, "SIOCGIFMTU", errno);
  a.mtu = req.ifr_mtu;
  if (::ioctl(fd_, SIOCGIFHWADDR, &req) != 0) return fail(error, "SIOCGIFHWADDR", errno);
  if (req.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    error = "afpacket.interface " + a.interface + ": not an Ethernet interface (ARPHRD " +
            std::to_string(req.ifr_hwaddr.sa_family) + ")";
    return false;
  }
  std::memcpy(a.interface_mac.data(), req.ifr_hwaddr.sa_data, 6);
  if (c.local_mac == "auto") a.retransmission.src_mac = a.interface_mac;
  a.order_gateway.src_mac = a.retransmission.src_mac;
  return true;
}

bool PacketRings::open(const pipe::PipelineConfig& c, std::string& error) {
  if (!check_config(c, error)) return false;
  // Protocol 0: nothing is queued to the socket until bind() below, after the rings exist.
  fd_ = ::socket(AF_PACKET, SOCK_RAW, 0);
  if (fd_ < 0) {
    const int e = errno;
    error = "socket(AF_PACKET): " + errno_text(e) +
            (e == EPERM || e == EACCES ? " (needs root or CAP_NET_RAW)" : std::string());
    return false;
  }
  if (!query_interface(c, error)) return false;

  const int v2 = TPACKET_V2;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v2, sizeof v2) != 0) return fail(error, "PACKET_VERSION V2", errno);
  // A TX frame the kernel rejects is skipped instead of blocking the ring (we build them: never expected).
  const int one = 1;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_LOSS, &one, sizeof one) != 0) return fail(error, "PACKET_LOSS", errno);
  std::string qdisc = "qdisc bypass unavailable";
#ifdef PACKET_QDISC_BYPASS
  // Straight to the driver's queue: no qdisc lock or queueing on the request path.
  if (::setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) == 0) qdisc = "qdisc bypass";
#endif
  std::string outgoing = "sees outgoing frames";
#ifdef PACKET_IGNORE_OUTGOING
  // The host's own traffic on this interface is not market data: keep it out of the RX ring.
  if (::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) == 0) outgoing = "ignores outgoing";
#endif

  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  rx_.request = ring_request(c.afpacket_frames, c.afpacket_frame_size, page);
  tx_.request = ring_request(c.afpacket_frames, c.afpacket_frame_size, page);
  if (::setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &rx_.request, sizeof rx_.request) != 0)
    return fail(error, "PACKET_RX_RING of " + std::to_string(rx_.request.tp_frame_nr) + " frames", errno);
  if (::setsockopt(fd_, SOL_PACKET, PACKET_TX_RING, &tx_.request, sizeof tx_.request) != 0)
    return fail(error, "PACKET_TX_RING of " + std::to_string(tx_.request.tp_frame_nr) + " frames", errno);
  map_bytes_ = ring_bytes(rx_.request) + ring_bytes(tx_.request);
  // One mapping, RX ring first; populated now so the hot path takes no page fault.
  map_ = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
  if (map_ == MAP_FAILED) return fail(error, "mmap of " + std::to_string(map_bytes_) + " bytes of rings", errno);
  map_frames(rx_, static_cast<uint8_t*>(map_));
  map_frames(tx_, static_cast<uint8_t*>(map_) + ring_bytes(rx_.request));
  tx_capacity_ = tx_.frame_size - kTxDataOffset;

  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = addresses_.ifindex;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) return fail(error, "bind", errno);
  // Promiscuous for as long as the socket lives: frames for a configured local_mac other than the
  // interface's own are seen too.
  packet_mreq promisc{};
  promisc.mr_ifindex = addresses_.ifindex;
  promisc.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof promisc) != 0)
    return fail(error, "PACKET_MR_PROMISC", errno);

  const Addresses& a = addresses_;
  const size_t largest = c.afpacket_frame_size - kRxNetworkOffset;
  setup_ = "afpacket: " + a.interface + " (ifindex " + std::to_string(a.ifindex) + ", MTU " + std::to_string(a.mtu) +
           ", " + pipe::format_mac(a.interface_mac) + ", promiscuous, " + outgoing + "), TPACKET_V2 rings RX " +
           std::to_string(rx_.frames.size()) + " + TX " + std::to_string(tx_.frames.size()) + " frames of " +
           std::to_string(rx_.frame_size) + " B (" + std::to_string(map_bytes_ >> 10) + " KiB, packets up to " +
           std::to_string(largest) + " B" +
           (largest < static_cast<size_t>(a.mtu) ? ": below the MTU, longer ones are truncated" : "") + "), TX " +
           qdisc + "; we are " + pipe::format_ipv4(a.retransmission.src_ip) + " " +
           pipe::format_mac(a.retransmission.src_mac) + ", retransmission requests from port " +
           std::to_string(a.retransmission.src_port) + " to " + pipe::format_ipv4(a.retransmission.dst_ip) + ":" +
           std::to_string(a.retransmission.dst_port) + " via " + pipe::format_mac(a.retransmission.dst_mac);
  return true;
}

class AfPacketBackend final : public ThreadedBackend {
 public:
  std::string name() const override { return "afpacket"; }
  std::string describe() const override { return rings_io_.setup() + "; " + rings_io_.figures(); }
  std::string device_status() const override { return rings_io_.figures(); }
  uint64_t device_drops() const override { return rings_io_.kernel_drops(); }
  pipe::PacketSource& source() override { return rings_io_; }
  pipe::PacketSink& sink() override { return rings_io_; }

  bool open(const pipe::PipelineConfig& c, std::string& error) {
    set_cores(c.cores);
    return rings_io_.open(c, error);
  }

 private:
  PacketRings rings_io_;
};

}  // namespace

bool afpacket_available() noexcept { return true; }

std::unique_ptr<Backend> make_afpacket_backend(const pipe::PipelineConfig& config, std::string& error) {
  auto b = std::make_unique<AfPacketBackend>();
  if (!b->open(config, error)) return nullptr;
  return b;
}

}  // namespace pmm::app

#endif
