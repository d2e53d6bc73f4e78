// The DPDK backend's sending side and its gap path: a generated day with some MoldUDP64 packets cut
// out of the capture is read by net_pcap; the parse stage finds each hole and re-requests it, and the
// backend frames every request itself (Ethernet/IPv4/UDP) into net_pcap's tx_pcap. Nobody answers, so
// each hole is given up after its retries. Checked: every frame written is a valid UDP datagram from
// our MAC/IP/port to the configured gateway MAC and retransmission server, carrying a MoldUDP64
// request for exactly one hole; every hole was requested; the books equal a BookBuilder fed the day
// without the lost messages; every mbuf is back. One DPDK test per executable (EAL).
#include <gtest/gtest.h>

#include <rte_ethdev.h>

#include <algorithm>
#include <map>

#include "core/moldudp64.hpp"
#include "core/pipeline/net_address.hpp"
#include "core/udp_frame.hpp"
#include "perf/pcap_file.hpp"
#include "tests/backends/dpdk_test_support.hpp"

namespace pmm::test {
namespace {

struct Hole {
  uint64_t first = 0;
  uint16_t count = 0;
};

// Copies `from` to `to` without every `every`-th MoldUDP64 packet carrying messages (never the first
// ones, never the last frame: the end of session must arrive). Returns the holes, in order.
std::vector<Hole> cut_packets(const std::string& from, const std::string& to, uint64_t every, std::string& error) {
  std::vector<Hole> holes;
  std::unique_ptr<gen::PcapReader> in = gen::PcapReader::open(from, error);
  std::unique_ptr<gen::PcapWriter> out = in ? gen::PcapWriter::open(to, error) : nullptr;
  if (!out) return holes;
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint64_t> stamps;
  const uint8_t* data = nullptr;
  size_t len = 0;
  uint64_t ts = 0;
  while (in->next(data, len, ts)) {
    frames.emplace_back(data, data + len);
    stamps.push_back(ts);
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    net::UdpView udp;
    mold::DownstreamPacket p;
    const bool data_packet = net::parse_udp_frame(frames[i].data(), frames[i].size(), udp) == net::FrameError::kNone &&
                             mold::parse_downstream(udp.payload, udp.len, p) == mold::ParseError::kNone &&
                             p.message_count() > 0;
    if (data_packet && i >= every && i % every == 0 && i + 1 < frames.size()) {
      holes.push_back(Hole{p.header.sequence, p.header.count});
      continue;
    }
    out->write(frames[i].data(), frames[i].size(), stamps[i]);
  }
  if (!out->close(error)) holes.clear();
  return holes;
}

TEST(DpdkBackend, CaptureHolesAreRequestedInFramesTheBackendBuilds) {
  if (!running_as_root()) GTEST_SKIP() << "DPDK's EAL needs root here (even with --no-huge and virtual devices)";

  const gen::DayConfig day{.seed = 99, .messages = 100'000, .symbols = 300, .target_live_orders = 10'000};
  const gen::PacketizerConfig packets{};
  const std::string whole = temp_path("dpdk-whole.pcap");
  const std::string capture = temp_path("dpdk-holes.pcap");
  const std::string sent = temp_path("dpdk-requests.pcap");
  std::string error;
  ASSERT_GT(gen::write_day_pcap(day, packets, gen::default_feed_address(), whole, error), 0u) << error;
  const std::vector<Hole> holes = cut_packets(whole, capture, 200, error);
  std::remove(whole.c_str());
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(holes.size(), 3u);
  uint64_t lost_messages = 0;
  for (const Hole& h : holes) lost_messages += h.count;

  pipe::PipelineConfig c = one_core_config(eal_args("net_pcap0,rx_pcap=" + capture + ",tx_pcap=" + sent));
  c.local_mac = "auto";
  c.gateway_mac = "02:00:00:aa:bb:cc";
  c.local_ip = "10.77.0.2";
  c.retrans_server = "10.77.0.9:26410";
  c.retrans_port = 26401;
  c.retry_ms = 5;
  c.max_retries = 2;
  const ReferenceBooks expected = reference_books(day, c.books, [&](uint64_t s) {
    return std::any_of(holes.begin(), holes.end(),
                       [s](const Hole& h) { return s >= h.first && s < h.first + h.count; });
  });

  std::unique_ptr<app::dpdk::DpdkBackend> backend = app::dpdk::DpdkBackend::create(c, error);
  ASSERT_NE(backend, nullptr) << error;
  rte_ether_addr port_mac{};
  ASSERT_EQ(rte_eth_macaddr_get(backend->port(), &port_mac), 0);

  const pipe::TscClock clock = pipe::TscClock::calibrate(std::chrono::milliseconds(20));
  RunResult r;
  {
    pipe::Pipeline p(c, backend->source(), backend->sink(), backend->rings(), clock,
                     [&](int cpu) { backend->before_core(cpu); });
    r = run_pipeline(
        *backend, p, [&] { return p.end_of_session(); }, std::chrono::seconds(120));
  }
  const app::dpdk::DeviceStats after = backend->device_stats();
  backend.reset();  // closes net_pcap: tx_pcap is complete
  std::remove(capture.c_str());

  EXPECT_TRUE(r.condition_met) << "no end of session: gaps " << r.snapshot.gaps << " unrecovered "
                               << r.snapshot.gaps_unrecovered << " sent " << r.snapshot.tx_sent;
  EXPECT_EQ(r.snapshot.bad_frames, 0u);
  EXPECT_EQ(r.snapshot.gaps, holes.size());
  EXPECT_EQ(r.snapshot.gaps_unrecovered, holes.size());
  EXPECT_EQ(r.snapshot.messages_lost, lost_messages);
  EXPECT_EQ(r.snapshot.messages, day.messages - lost_messages);
  EXPECT_EQ(r.digest, expected.digest);
  // Every request the parse stage queued went out through the port: none refused or short of mbufs.
  EXPECT_GE(r.snapshot.requests, holes.size());
  EXPECT_EQ(r.snapshot.tx_failed, 0u);
  EXPECT_EQ(r.snapshot.tx_sent, r.snapshot.requests);
  EXPECT_EQ(r.device.opackets, r.snapshot.tx_sent);
  EXPECT_EQ(r.device.tx_no_mbuf + r.device.tx_refused + r.device.tx_no_route + r.device.tx_too_long, 0u);
  EXPECT_EQ(after.rx_pool_available, after.rx_pool_size);
  EXPECT_EQ(after.tx_pool_available, after.tx_pool_size);

  // What went out on the wire.
  std::unique_ptr<gen::PcapReader> reader = gen::PcapReader::open(sent, error);
  ASSERT_NE(reader, nullptr) << error;
  std::array<uint8_t, 6> gateway{}, ours{};
  ASSERT_TRUE(pipe::parse_mac(c.gateway_mac, gateway));
  std::copy(std::begin(port_mac.addr_bytes), std::end(port_mac.addr_bytes), ours.begin());
  uint32_t local_ip = 0, server_ip = 0;
  uint16_t server_port = 0;
  ASSERT_TRUE(pipe::parse_ipv4(c.local_ip, local_ip));
  ASSERT_TRUE(pipe::parse_endpoint(c.retrans_server, server_ip, server_port));
  std::map<uint64_t, uint64_t> requests_per_hole;
  uint64_t written = 0;
  const uint8_t* data = nullptr;
  size_t len = 0;
  uint64_t ts = 0;
  while (reader->next(data, len, ts)) {
    ++written;
    net::UdpView udp;
    ASSERT_EQ(net::parse_udp_frame(data, len, udp), net::FrameError::kNone) << "frame " << written;
    EXPECT_EQ(udp.addr.dst_mac, gateway);
    EXPECT_EQ(udp.addr.src_mac, ours);
    EXPECT_EQ(udp.addr.src_ip, local_ip);
    EXPECT_EQ(udp.addr.dst_ip, server_ip);
    EXPECT_EQ(udp.addr.src_port, c.retrans_port);
    EXPECT_EQ(udp.addr.dst_port, server_port);
    mold::Request req;
    ASSERT_TRUE(mold::parse_request(udp.payload, udp.len, req)) << "frame " << written;
    EXPECT_EQ(req.session, packets.session);
    const auto hole = std::find_if(holes.begin(), holes.end(), [&](const Hole& h) { return h.first == req.sequence; });
    ASSERT_NE(hole, holes.end()) << "request for " << req.sequence << " (+" << req.count << ") is not a hole";
    EXPECT_EQ(req.count, hole->count);
    ++requests_per_hole[req.sequence];
  }
  EXPECT_EQ(reader->error(), "");
  EXPECT_EQ(written, r.snapshot.tx_sent);
  EXPECT_EQ(requests_per_hole.size(), holes.size());  // every hole asked for
  for (const auto& [first, n] : requests_per_hole) EXPECT_EQ(n, c.max_retries + 1u) << "hole at " << first;
  std::remove(sent.c_str());
}

}  // namespace
}  // namespace pmm::test
