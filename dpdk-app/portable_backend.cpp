// Portable backend: plain UDP sockets and threads, nothing Linux-only, so the same stages run on a
// developer's laptop (macOS included). The RX stage polls non-blocking sockets: one recv per packet,
// and one per socket per empty poll. That is fine for development and CI, not for production.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/huge_buffer.hpp"
#include "core/pipeline/net_address.hpp"
#include "core/spsc_ring.hpp"
#include "dpdk-app/backend.hpp"
#include "dpdk-app/thread_launcher.hpp"

namespace pmm::app {
namespace {

constexpr size_t kSlotSize = 2048;  // one datagram per slot; MoldUDP64 packets stay under the MTU

sockaddr_in make_addr(uint32_t ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(port);
  return a;
}

int open_udp(uint32_t ip, uint16_t port, const std::string& what, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    error = what + ": socket(): " + std::strerror(errno);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const int rcvbuf = 8 << 20;  // absorbs bursts while the RX core is busy; the kernel may cap it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  const sockaddr_in a = make_addr(ip, port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    error = what + ": bind " + pipe::format_ipv4(ip) + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

class UdpSockets final : public pipe::PacketSource, public pipe::PacketSink {
 public:
  bool open(const pipe::PipelineConfig& c, std::string& error) {
    uint32_t listen = 0;
    if (!pipe::parse_ipv4(c.listen_address, listen)) {
      error = "feed.listen: expected a dotted IPv4 address, got \"" + c.listen_address + "\"";
      return false;
    }
    if (!pipe::parse_endpoint(c.retrans_server, server_ip_, server_port_)) {
      error = "retransmission.server: expected IP:PORT, got \"" + c.retrans_server + "\"";
      return false;
    }
    if (!c.order_gateway.empty() && !pipe::parse_endpoint(c.order_gateway, gateway_ip_, gateway_port_)) {
      error = "orders.gateway: expected IP:PORT or \"\", got \"" + c.order_gateway + "\"";
      return false;
    }
    uint32_t group = 0;
    if (!c.feed_group.empty() && (!pipe::parse_ipv4(c.feed_group, group) || (group >> 28) != 0xE)) {
      error = "feed.group: expected an IPv4 multicast group (224.0.0.0/4) or \"\", got \"" + c.feed_group + "\"";
      return false;
    }
    // A multicast feed binds the group's port on any address and joins on the listen interface.
    fds_[0] = open_udp(group != 0 ? 0 : listen, c.feed_port, "feed socket", error);
    if (fds_[0] < 0) return false;
    if (group != 0) {
      ip_mreq m{};
      m.imr_multiaddr.s_addr = htonl(group);
      m.imr_interface.s_addr = htonl(listen);
      if (::setsockopt(fds_[0], IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
        error = "feed.group: joining " + c.feed_group + " on " + c.listen_address + ": " + std::strerror(errno);
        return false;
      }
    }
    fds_[1] = open_udp(listen, c.retrans_port, "retransmission socket", error);
    if (fds_[1] < 0) return false;
    fds_[2] = open_udp(listen, c.order_port, "order response socket", error);
    if (fds_[2] < 0) return false;
    ports_ = {c.feed_port, c.retrans_port, c.order_port};
    slots_ = HugeArray<uint8_t>(size_t{c.pool_packets} * kSlotSize);
    free_ = std::make_unique<SpscRing<uint32_t>>(std::bit_ceil(size_t{c.pool_packets}));
    stash_.reserve(c.pool_packets);
    for (uint32_t i = 0; i < c.pool_packets; ++i) stash_.push_back(i);
    describe_ = "portable: UDP " + (group != 0 ? c.feed_group : c.listen_address) + ":" + std::to_string(c.feed_port) +
                " (feed), " + c.listen_address + ":" + std::to_string(c.retrans_port) + " (retransmissions, requests to " +
                c.retrans_server + "), " + std::to_string(c.pool_packets) + " buffers";
    return true;
  }

  ~UdpSockets() override {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }

  uint32_t receive_burst(pipe::RxPacket* out, uint32_t max) noexcept override {
    uint32_t n = 0;
    for (size_t s = 0; s < fds_.size() && n < max; ++s) {
      while (n < max) {
        uint32_t slot;
        if (!take_slot(slot)) {
          ++pool_empty_;
          return finish(out, n);
        }
        uint8_t* buf = slots_.data() + size_t{slot} * kSlotSize;
        const ssize_t len = ::recv(fds_[s], buf, kSlotSize, MSG_DONTWAIT);
        if (len < 0) {
          stash_.push_back(slot);  // EAGAIN (or an error: the next poll sees it again)
          break;
        }
        pipe::RxPacket& p = out[n++];
        p.data = buf;
        p.length = static_cast<uint32_t>(len);
        p.udp_dst_port = ports_[s];
        p.layer = pipe::PacketLayer::kUdpPayload;
        p.handle = slot;
      }
    }
    return finish(out, n);
  }

  void release(const pipe::RxPacket* packets, uint32_t n) noexcept override {
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t slot = static_cast<uint32_t>(packets[i].handle);
      const bool ok = free_->try_push(slot);  // cannot be full: it holds every slot
      (void)ok;
    }
  }

  uint32_t send_burst(const pipe::TxEvent* d, uint32_t n) noexcept override {
    uint32_t sent = 0;
    const sockaddr_in server = make_addr(server_ip_, server_port_);
    const sockaddr_in gateway = make_addr(gateway_ip_, gateway_port_);
    for (uint32_t i = 0; i < n; ++i) {
      // From the socket whose port the answer must come back to.
      int fd = fds_[1];
      const sockaddr_in* to = &server;
      if (d[i].destination == pipe::Destination::kOrderGateway) {
        if (gateway_port_ == 0) continue;  // orders.gateway "": not sent, counted by the TX stage
        fd = fds_[2];
        to = &gateway;
      }
      if (::sendto(fd, d[i].payload, d[i].length, 0, reinterpret_cast<const sockaddr*>(to), sizeof *to) ==
          static_cast<ssize_t>(d[i].length))
        ++sent;
    }
    return sent;
  }

  const std::string& description() const noexcept { return describe_; }

 private:
  bool take_slot(uint32_t& slot) noexcept {
    if (stash_.empty()) {
      uint32_t got[64];
      const size_t k = free_->pop_burst(got, 64);
      if (k == 0) return false;
      stash_.insert(stash_.end(), got, got + k);  // capacity reserved for every slot: no allocation
    }
    slot = stash_.back();
    stash_.pop_back();
    return true;
  }
  uint32_t finish(pipe::RxPacket* out, uint32_t n) noexcept {
    if (n == 0) return 0;
    const uint64_t now = pipe::read_tsc();
    for (uint32_t i = 0; i < n; ++i) out[i].rx_tsc = now;
    return n;
  }

  std::array<int, 3> fds_{-1, -1, -1};  // feed, retransmission, order responses
  std::array<uint16_t, 3> ports_{};
  uint32_t server_ip_ = 0;
  uint16_t server_port_ = 0;
  uint32_t gateway_ip_ = 0;  // orders.gateway; port 0: none
  uint16_t gateway_port_ = 0;
  HugeArray<uint8_t> slots_;
  std::unique_ptr<SpscRing<uint32_t>> free_;  // parse core -> RX core
  std::vector<uint32_t> stash_;               // RX core's own free slots
  uint64_t pool_empty_ = 0;
  std::string describe_;
};

class PortableBackend final : public ThreadedBackend {
 public:
  std::string name() const override { return "portable"; }
  std::string describe() const override { return sockets_.description(); }
  pipe::PacketSource& source() override { return sockets_; }
  pipe::PacketSink& sink() override { return sockets_; }

  bool open(const pipe::PipelineConfig& c, std::string& error) {
    set_cores(c.cores);
    return sockets_.open(c, error);
  }

 private:
  UdpSockets sockets_;
};

}  // namespace

std::unique_ptr<Backend> make_portable_backend(const pipe::PipelineConfig& config, std::string& error) {
  auto b = std::make_unique<PortableBackend>();
  if (!b->open(config, error)) return nullptr;
  return b;
}

}  // namespace pmm::app
