// The AF_PACKET backend (dpdk-app/afpacket_backend.cpp) on a veth pair between two network namespaces:
// the far end injects frames with its own raw packet socket and captures what the backend sends.
// Expected bytes are built here and compared whole; what the backend sends is checked with the frame
// parser (checksums included) and field by field against the configuration.
//
// AfPacketConfig.* need nothing. AfPacketVeth.* need root (namespaces, veth, AF_PACKET): without it,
// or when namespaces cannot be made here, the program exits 77 and meson reports a skip.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/net_address.hpp"
#include "core/udp_frame.hpp"
#include "dpdk-app/backend.hpp"

namespace {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

constexpr uint32_t kAppIp = 0x0A4D0002;   // 10.77.0.2: the backend's network.local_ip
constexpr uint32_t kPeerIp = 0x0A4D0001;  // 10.77.0.1: the far end (feed source, retransmission server)
constexpr uint16_t kServerPort = 26410;
constexpr uint16_t kRequestPort = 26401;

int run(const std::string& command) { return std::system(command.c_str()); }

// The calling thread's network namespace, switched for the life of the object: sockets opened meanwhile
// stay in the entered namespace for good.
class InNetns {
 public:
  explicit InNetns(const std::string& name) : home_(::open("/proc/self/ns/net", O_RDONLY)) {
    const int fd = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY);
    entered_ = home_ >= 0 && fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) ::close(fd);
  }
  ~InNetns() {
    if (entered_) ::setns(home_, CLONE_NEWNET);
    if (home_ >= 0) ::close(home_);
  }
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;
  bool entered() const noexcept { return entered_; }

 private:
  int home_;
  bool entered_ = false;
};

// Two namespaces joined by one veth pair, no IP addresses, IPv6 off: nothing but what a test sends
// crosses the link. Names carry the pid, so parallel runs do not collide.
struct VethPair {
  std::string app_ns, peer_ns, app_if, peer_if;
  std::string app_mac, peer_mac;
  bool created = false;

  bool create(std::string& why) {
    const std::string id = std::to_string(::getpid());
    app_ns = app_if = "pmmt" + id + "a";
    peer_ns = peer_if = "pmmt" + id + "p";
    if (run("ip netns add " + app_ns + " && ip netns add " + peer_ns) != 0) {
      why = "cannot create network namespaces (ip netns add)";
      return false;
    }
    created = true;
    for (const std::string& ns : {app_ns, peer_ns}) {
      InNetns in(ns);
      if (!in.entered()) {
        why = "cannot enter network namespace " + ns;
        return false;
      }
      for (const char* key : {"all", "default"}) {
        std::ofstream f(std::string("/proc/sys/net/ipv6/conf/") + key + "/disable_ipv6");
        f << "1\n";  // no router solicitations or MLD reports on the link (absent IPv6: nothing to do)
      }
    }
    if (run("ip link add " + app_if + " type veth peer name " + peer_if + " && ip link set " + app_if + " netns " +
            app_ns + " && ip link set " + peer_if + " netns " + peer_ns + " && ip -n " + app_ns + " link set " + app_if +
            " up && ip -n " + peer_ns + " link set " + peer_if + " up") != 0) {
      why = "cannot create the veth pair " + app_if + "/" + peer_if;
      return false;
    }
    // Through ip: sysfs shows the namespace it was mounted in, not the thread's.
    app_mac = mac_of(app_ns, app_if);
    peer_mac = mac_of(peer_ns, peer_if);
    if (app_mac.size() != 17 || peer_mac.size() != 17) {
      why = "cannot read the veth MAC addresses";
      return false;
    }
    return true;
  }

  static std::string mac_of(const std::string& ns, const std::string& dev) {
    const std::string command = "ip -n " + ns + " -br link show " + dev + " | awk '{print $3}'";
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return "";
    char buf[64] = {};
    const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
    ::pclose(p);
    std::string s = got ? buf : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  void destroy() {
    if (!created) return;
    run("ip netns del " + app_ns + " 2>/dev/null; ip netns del " + peer_ns + " 2>/dev/null");
    created = false;
  }
};

VethPair g_link;

// A killed test must not leave namespaces behind (meson's timeout sends SIGTERM).
extern "C" void on_fatal_signal(int sig) {
  g_link.destroy();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// The far end's raw socket: injects whole frames, captures what arrives (never its own).
class PeerSocket {
 public:
  PeerSocket() {
    InNetns in(g_link.peer_ns);
    fd_ = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ALL);
    at.sll_ifindex = static_cast<int>(::if_nametoindex(g_link.peer_if.c_str()));
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
      throw std::runtime_error("peer socket: " + std::string(std::strerror(errno)));
    timeval tv{0, 20000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~PeerSocket() { ::close(fd_); }
  PeerSocket(const PeerSocket&) = delete;
  PeerSocket& operator=(const PeerSocket&) = delete;

  void inject(const Bytes& frame) const {
    ASSERT_EQ(::send(fd_, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size())) << std::strerror(errno);
  }
  // Frames the backend sent (UDP to the retransmission server's port), until `n` or the deadline.
  std::vector<Bytes> capture(size_t n, std::chrono::milliseconds within = 2000ms) const {
    std::vector<Bytes> out;
    const auto deadline = std::chrono::steady_clock::now() + within;
    uint8_t buf[2048];
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      const ssize_t got = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (got <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
      out.emplace_back(buf, buf + got);
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::array<uint8_t, 6> mac(const std::string& text) {
  std::array<uint8_t, 6> m{};
  EXPECT_TRUE(pmm::pipe::parse_mac(text, m)) << text;
  return m;
}

// Feed-like frame number i from the far end to us: length and contents differ per i.
Bytes feed_frame(uint32_t i) {
  pmm::net::FrameAddress a;
  a.src_mac = mac(g_link.peer_mac);
  a.dst_mac = mac(g_link.app_mac);
  a.src_ip = kPeerIp;
  a.dst_ip = kAppIp;
  a.src_port = 40000;
  a.dst_port = 26400;
  Bytes payload(20 + (i * 37) % 1300);
  for (size_t k = 0; k < payload.size(); ++k) payload[k] = static_cast<uint8_t>(i * 131 + k);
  Bytes frame(pmm::net::kUdpFrameOverhead + payload.size());
  const size_t n = pmm::net::build_udp_frame(frame.data(), frame.size(), a, payload.data(), payload.size(),
                                             static_cast<uint16_t>(i));
  EXPECT_EQ(n, frame.size());
  return frame;
}

pmm::pipe::PipelineConfig config(uint32_t frames = 64) {
  pmm::pipe::PipelineConfig c;
  c.backend = "afpacket";
  c.afpacket_interface = g_link.app_if;
  c.afpacket_frames = frames;
  c.afpacket_frame_size = 2048;
  c.local_ip = pmm::pipe::format_ipv4(kAppIp);
  c.gateway_mac = g_link.peer_mac;
  c.retrans_server = pmm::pipe::format_ipv4(kPeerIp) + ":" + std::to_string(kServerPort);
  c.retrans_port = kRequestPort;
  return c;
}

std::unique_ptr<pmm::app::Backend> open_backend(const pmm::pipe::PipelineConfig& c) {
  InNetns in(g_link.app_ns);
  std::string error;
  auto b = pmm::app::make_afpacket_backend(c, error);
  EXPECT_NE(b, nullptr) << error;
  return b;
}

// Bursts until n packets arrived or the deadline passed.
std::vector<pmm::pipe::RxPacket> receive(pmm::pipe::PacketSource& s, size_t n, std::chrono::milliseconds within = 2000ms) {
  std::vector<pmm::pipe::RxPacket> out;
  pmm::pipe::RxPacket burst[32];
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    const uint32_t got = s.receive_burst(burst, static_cast<uint32_t>(std::min<size_t>(32, n - out.size())));
    out.insert(out.end(), burst, burst + got);
  }
  return out;
}

Bytes bytes_of(const pmm::pipe::RxPacket& p) { return Bytes(p.data, p.data + p.length); }

// The kernel's drop count as describe() reports it ("kernel saw N, dropped M").
uint64_t kernel_drops(const pmm::app::Backend& b) {
  const std::string d = b.describe();
  const size_t at = d.find("kernel saw ");
  unsigned long long saw = 0, dropped = 0;
  if (at == std::string::npos || std::sscanf(d.c_str() + at, "kernel saw %llu, dropped %llu", &saw, &dropped) != 2)
    ADD_FAILURE() << "describe() has no kernel figures: " << d;
  return dropped;
}

pmm::pipe::TxEvent request(uint8_t tag, pmm::pipe::Destination to = pmm::pipe::Destination::kRetransmissionServer) {
  pmm::pipe::TxEvent e;
  e.destination = to;
  e.length = 20;  // a MoldUDP64 request's size
  for (uint16_t k = 0; k < e.length; ++k) e.payload[k] = static_cast<uint8_t>(tag + k);
  return e;
}

std::string open_error(const pmm::pipe::PipelineConfig& c) {
  std::string error;
  auto b = pmm::app::make_afpacket_backend(c, error);
  EXPECT_EQ(b, nullptr);
  return error;
}

// --- configuration errors (no privileges needed: checked before any socket is opened) -----------------

TEST(AfPacketConfig, IsAvailableOnLinux) { EXPECT_TRUE(pmm::app::afpacket_available()); }

TEST(AfPacketConfig, MissingInterfaceNamesTheKey) {
  pmm::pipe::PipelineConfig c;
  c.gateway_mac = "02:00:00:00:00:01";
  EXPECT_NE(open_error(c).find("afpacket.interface"), std::string::npos);
}

TEST(AfPacketConfig, OverlongInterfaceNameNamesTheKey) {
  pmm::pipe::PipelineConfig c;
  c.afpacket_interface = "a-very-long-interface-name";
  c.gateway_mac = "02:00:00:00:00:01";
  const std::string e = open_error(c);
  EXPECT_NE(e.find("afpacket.interface"), std::string::npos) << e;
  EXPECT_NE(e.find("a-very-long-interface-name"), std::string::npos) << e;
}

TEST(AfPacketConfig, MissingGatewayMacNamesTheKey) {
  pmm::pipe::PipelineConfig c;
  c.afpacket_interface = "eth0";
  EXPECT_NE(open_error(c).find("network.gateway_mac"), std::string::npos);
}

TEST(AfPacketConfig, BadValuesNameTheirKeyAndValue) {
  const struct {
    const char* key;
    void (*set)(pmm::pipe::PipelineConfig&);
    const char* value;
  } cases[] = {
      {"network.gateway_mac", [](pmm::pipe::PipelineConfig& c) { c.gateway_mac = "02:00:00:zz:00:01"; }, "02:00:00:zz:00:01"},
      {"network.local_mac", [](pmm::pipe::PipelineConfig& c) { c.local_mac = "02-00-00-00-00-02"; }, "02-00-00-00-00-02"},
      {"network.local_ip", [](pmm::pipe::PipelineConfig& c) { c.local_ip = "10.77.0.256"; }, "10.77.0.256"},
      {"retransmission.server", [](pmm::pipe::PipelineConfig& c) { c.retrans_server = "10.77.0.1"; }, "10.77.0.1"},
      {"afpacket.frame_size", [](pmm::pipe::PipelineConfig& c) { c.afpacket_frame_size = 1000; }, "1000"},
      {"afpacket.frame_size", [](pmm::pipe::PipelineConfig& c) { c.afpacket_frame_size = 128; }, "128"},
  };
  for (const auto& k : cases) {
    pmm::pipe::PipelineConfig c;
    c.afpacket_interface = "eth0";
    c.gateway_mac = "02:00:00:00:00:01";
    k.set(c);
    const std::string e = open_error(c);
    EXPECT_EQ(e.rfind(k.key, 0), 0u) << k.key << ": " << e;
    EXPECT_NE(e.find(k.value), std::string::npos) << k.key << ": " << e;
  }
}

// --- on the veth pair (root) -------------------------------------------------------------------------

TEST(AfPacketVeth, UnknownInterfaceIsNamed) {
  pmm::pipe::PipelineConfig c = config();
  c.afpacket_interface = "pmm-no-such0";
  InNetns in(g_link.app_ns);
  const std::string e = open_error(c);
  EXPECT_NE(e.find("no interface named \"pmm-no-such0\""), std::string::npos) << e;
}

TEST(AfPacketVeth, DownInterfaceIsReported) {
  ASSERT_EQ(run("ip -n " + g_link.app_ns + " link set " + g_link.app_if + " down"), 0);
  std::string e;
  {
    InNetns in(g_link.app_ns);
    e = open_error(config());
  }
  ASSERT_EQ(run("ip -n " + g_link.app_ns + " link set " + g_link.app_if + " up"), 0);
  EXPECT_NE(e.find("down"), std::string::npos) << e;
  EXPECT_NE(e.find(g_link.app_if), std::string::npos) << e;
}

TEST(AfPacketVeth, DescribesInterfaceRingsAndAddresses) {
  auto b = open_backend(config(64));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->name(), "afpacket");
  const std::string d = b->describe();
  EXPECT_NE(d.find(g_link.app_if), std::string::npos) << d;
  EXPECT_NE(d.find("TPACKET_V2"), std::string::npos) << d;
  EXPECT_NE(d.find("RX 64 + TX 64 frames of 2048 B"), std::string::npos) << d;
  EXPECT_NE(d.find(g_link.peer_mac), std::string::npos) << d;  // the gateway
  EXPECT_NE(d.find(g_link.app_mac), std::string::npos) << d;   // local_mac "auto"
}

TEST(AfPacketVeth, DeliversInjectedFramesWhole) {
  auto b = open_backend(config(64));
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  std::vector<Bytes> sent;
  for (uint32_t i = 0; i < 40; ++i) {
    sent.push_back(feed_frame(i));
    peer.inject(sent.back());
  }
  const std::vector<pmm::pipe::RxPacket> got = receive(b->source(), sent.size());
  ASSERT_EQ(got.size(), sent.size());
  std::set<uint64_t> handles;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(bytes_of(got[i]), sent[i]) << "frame " << i;
    EXPECT_EQ(got[i].layer, pmm::pipe::PacketLayer::kEthernet);
    EXPECT_NE(got[i].rx_tsc, 0u);
    EXPECT_LT(got[i].handle, 64u);
    handles.insert(got[i].handle);
    pmm::net::UdpView udp;
    EXPECT_EQ(pmm::net::parse_udp_frame(got[i].data, got[i].length, udp), pmm::net::FrameError::kNone);
  }
  EXPECT_EQ(handles.size(), got.size());
  b->source().release(got.data(), static_cast<uint32_t>(got.size()));
  EXPECT_TRUE(receive(b->source(), 1, 50ms).empty());  // nothing else arrived, nothing handed out twice
}

// Every frame out in the pipeline: new frames are the kernel's to drop (counted), and the ring's slots
// are not handed out a second time when the RX cursor comes round to them again.
TEST(AfPacketVeth, HeldFramesAreNeverHandedOutTwice) {
  auto b = open_backend(config(8));
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  std::vector<Bytes> first;
  for (uint32_t i = 0; i < 8; ++i) {
    first.push_back(feed_frame(i));
    peer.inject(first.back());
  }
  const std::vector<pmm::pipe::RxPacket> held = receive(b->source(), 8);
  ASSERT_EQ(held.size(), 8u);
  for (uint32_t i = 100; i < 103; ++i) peer.inject(feed_frame(i));
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  uint64_t drops = 0;
  while ((drops = kernel_drops(*b)) < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(drops, 3u);
  EXPECT_TRUE(receive(b->source(), 1, 50ms).empty());
  for (size_t i = 0; i < held.size(); ++i) EXPECT_EQ(bytes_of(held[i]), first[i]) << "held frame " << i << " overwritten";

  b->source().release(held.data(), static_cast<uint32_t>(held.size()));
  std::vector<Bytes> second;
  for (uint32_t i = 200; i < 212; ++i) {  // wraps past the end of the ring
    second.push_back(feed_frame(i));
    peer.inject(second.back());
    if (second.size() == 6) {
      const std::vector<pmm::pipe::RxPacket> part = receive(b->source(), 6);
      ASSERT_EQ(part.size(), 6u);
      for (size_t k = 0; k < 6; ++k) EXPECT_EQ(bytes_of(part[k]), second[k]);
      b->source().release(part.data(), 6);
    }
  }
  const std::vector<pmm::pipe::RxPacket> rest = receive(b->source(), 6);
  ASSERT_EQ(rest.size(), 6u);
  for (size_t k = 0; k < 6; ++k) EXPECT_EQ(bytes_of(rest[k]), second[6 + k]);
  b->source().release(rest.data(), 6);
}

// Slots handed back out of order (a burst's tail before its head) must not disturb the ring's order.
TEST(AfPacketVeth, OutOfOrderGiveBackKeepsTheRingInOrder) {
  auto b = open_backend(config(8));
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  for (uint32_t round = 0; round < 5; ++round) {
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 6; ++i) {
      sent.push_back(feed_frame(round * 10 + i));
      peer.inject(sent.back());
    }
    const std::vector<pmm::pipe::RxPacket> got = receive(b->source(), 6);
    ASSERT_EQ(got.size(), 6u) << "round " << round;
    for (size_t k = 0; k < 6; ++k) EXPECT_EQ(bytes_of(got[k]), sent[k]) << "round " << round << " frame " << k;
    b->source().release(got.data() + 3, 3);
    b->source().release(got.data(), 3);
  }
  EXPECT_EQ(kernel_drops(*b), 0u);
}

TEST(AfPacketVeth, SendsWellFormedRetransmissionRequests) {
  pmm::pipe::PipelineConfig c = config(64);
  c.order_gateway = "";  // no order entry: order datagrams are not sent
  auto b = open_backend(c);
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  const pmm::pipe::TxEvent events[] = {request(1), request(2, pmm::pipe::Destination::kOrderGateway), request(3),
                                       request(4)};
  EXPECT_EQ(b->sink().send_burst(events, 4), 3u);
  const std::vector<Bytes> frames = peer.capture(3);
  ASSERT_EQ(frames.size(), 3u);
  const uint8_t tags[] = {1, 3, 4};
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_GE(frames[i].size(), 60u);  // padded to the Ethernet minimum
    pmm::net::UdpView udp;
    ASSERT_EQ(pmm::net::parse_udp_frame(frames[i].data(), frames[i].size(), udp), pmm::net::FrameError::kNone);
    EXPECT_EQ(udp.addr.src_mac, mac(g_link.app_mac));
    EXPECT_EQ(udp.addr.dst_mac, mac(g_link.peer_mac));
    EXPECT_EQ(udp.addr.src_ip, kAppIp);
    EXPECT_EQ(udp.addr.dst_ip, kPeerIp);
    EXPECT_EQ(udp.addr.src_port, kRequestPort);
    EXPECT_EQ(udp.addr.dst_port, kServerPort);
    const pmm::pipe::TxEvent expected = request(tags[i]);
    EXPECT_EQ(Bytes(udp.payload, udp.payload + udp.len), Bytes(expected.payload, expected.payload + expected.length));
  }
  EXPECT_TRUE(receive(b->source(), 1, 50ms).empty());  // our own requests do not come back on RX
}

TEST(AfPacketVeth, OrdersGoToTheGatewayFromTheOrderPort) {
  pmm::pipe::PipelineConfig c = config(64);
  c.order_port = 26402;
  c.order_gateway = pmm::pipe::format_ipv4(kPeerIp) + ":26420";
  auto b = open_backend(c);
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  const pmm::pipe::TxEvent events[] = {request(7, pmm::pipe::Destination::kOrderGateway), request(8)};
  ASSERT_EQ(b->sink().send_burst(events, 2), 2u);
  const std::vector<Bytes> frames = peer.capture(2);
  ASSERT_EQ(frames.size(), 2u);
  pmm::net::UdpView order, req;
  ASSERT_EQ(pmm::net::parse_udp_frame(frames[0].data(), frames[0].size(), order), pmm::net::FrameError::kNone);
  ASSERT_EQ(pmm::net::parse_udp_frame(frames[1].data(), frames[1].size(), req), pmm::net::FrameError::kNone);
  EXPECT_EQ(order.addr.src_ip, kAppIp);
  EXPECT_EQ(order.addr.dst_ip, kPeerIp);
  EXPECT_EQ(order.addr.src_port, 26402);
  EXPECT_EQ(order.addr.dst_port, 26420);
  EXPECT_EQ(order.addr.dst_mac, mac(g_link.peer_mac));
  EXPECT_EQ(Bytes(order.payload, order.payload + order.len), Bytes(events[0].payload, events[0].payload + 20));
  EXPECT_EQ(req.addr.src_port, kRequestPort);
  EXPECT_EQ(req.addr.dst_port, kServerPort);
}

TEST(AfPacketVeth, ConfiguredLocalMacIsTheSource) {
  pmm::pipe::PipelineConfig c = config(64);
  c.local_mac = "02:00:00:77:00:02";
  auto b = open_backend(c);
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  const pmm::pipe::TxEvent e = request(9);
  ASSERT_EQ(b->sink().send_burst(&e, 1), 1u);
  const std::vector<Bytes> frames = peer.capture(1);
  ASSERT_EQ(frames.size(), 1u);
  pmm::net::UdpView udp;
  ASSERT_EQ(pmm::net::parse_udp_frame(frames[0].data(), frames[0].size(), udp), pmm::net::FrameError::kNone);
  EXPECT_EQ(udp.addr.src_mac, mac("02:00:00:77:00:02"));
}

// One kick per burst: a burst longer than the TX ring fills it and returns how many fit; the rest are
// the caller's to count. Once the kernel has sent them the ring takes more.
TEST(AfPacketVeth, TxRingFullSendsWhatFits) {
  auto b = open_backend(config(8));
  ASSERT_NE(b, nullptr);
  PeerSocket peer;
  std::vector<pmm::pipe::TxEvent> burst;
  for (uint8_t i = 0; i < 20; ++i) burst.push_back(request(static_cast<uint8_t>(i * 10)));
  EXPECT_EQ(b->sink().send_burst(burst.data(), 20), 8u);
  const pmm::pipe::TxEvent later = request(250);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  uint32_t sent = 0;
  while ((sent = b->sink().send_burst(&later, 1)) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(sent, 1u);
  const std::vector<Bytes> frames = peer.capture(9);
  ASSERT_EQ(frames.size(), 9u);
  for (size_t i = 0; i < frames.size(); ++i) {
    pmm::net::UdpView udp;
    ASSERT_EQ(pmm::net::parse_udp_frame(frames[i].data(), frames[i].size(), udp), pmm::net::FrameError::kNone);
    EXPECT_EQ(udp.payload[0], i < 8 ? static_cast<uint8_t>(i * 10) : 250) << "frame " << i;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string filter = ::testing::GTEST_FLAG(filter);
  const bool needs_link = filter.find("AfPacketConfig") == std::string::npos || filter.find("AfPacketVeth") != std::string::npos;
  if (needs_link) {
    if (::geteuid() != 0) {
      std::fprintf(stderr, "skipped: AfPacketVeth needs root (network namespaces, veth, AF_PACKET)\n");
      return 77;
    }
    std::signal(SIGTERM, on_fatal_signal);
    std::signal(SIGINT, on_fatal_signal);
    std::string why;
    if (!g_link.create(why)) {
      g_link.destroy();
      std::fprintf(stderr, "skipped: %s\n", why.c_str());
      return 77;
    }
  }
  const int rc = RUN_ALL_TESTS();
  g_link.destroy();
  return rc;
}
