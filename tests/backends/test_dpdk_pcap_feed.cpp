// The DPDK backend end to end: a generated ITCH day in a pcap, read by DPDK's net_pcap virtual device
// (no hugepages, no NIC), through the whole pipeline on one EAL worker lcore, must build exactly the
// books a plain BookBuilder builds from the same messages, with every message in sequence, no gap and
// every mbuf back in its pool. EAL starts once per process: this executable holds one DPDK test.
#include <gtest/gtest.h>

#include "tests/backends/dpdk_test_support.hpp"

namespace pmm::test {
namespace {

TEST(DpdkBackend, PcapDayThroughPipelineMatchesBookBuilder) {
  if (!running_as_root()) GTEST_SKIP() << "DPDK's EAL needs root here (even with --no-huge and virtual devices)";

  const gen::DayConfig day{.seed = 20240102, .messages = 200'000, .symbols = 500, .target_live_orders = 20'000};
  const std::string capture = temp_path("dpdk-day.pcap");
  std::string error;
  const size_t frames = gen::write_day_pcap(day, gen::PacketizerConfig{}, gen::default_feed_address(), capture, error);
  ASSERT_GT(frames, 0u) << error;

  // Default ring and pool sizes. net_pcap reads the file only as fast as it is polled, and the RX stage
  // stops polling while the parse ring is full: the whole day must arrive without a gap.
  pipe::PipelineConfig c = one_core_config(eal_args("net_pcap0,rx_pcap=" + capture + ",tx_pcap=/dev/null"));
  const ReferenceBooks expected = reference_books(day, c.books);
  ASSERT_EQ(expected.messages, day.messages);

  std::unique_ptr<app::dpdk::DpdkBackend> backend = app::dpdk::DpdkBackend::create(c, error);
  ASSERT_NE(backend, nullptr) << error;
  EXPECT_EQ(backend->name(), "dpdk");
  EXPECT_NE(backend->describe().find("net_pcap0"), std::string::npos) << backend->describe();
  ASSERT_EQ(backend->core_lcores().size(), 1u);

  const pipe::TscClock clock = pipe::TscClock::calibrate(std::chrono::milliseconds(20));
  RunResult r;
  {
    pipe::Pipeline p(c, backend->source(), backend->sink(), backend->rings(), clock,
                     [&](int cpu) { backend->before_core(cpu); });
    r = run_pipeline(
        *backend, p, [&] { return p.end_of_session(); }, std::chrono::seconds(120));
  }
  std::remove(capture.c_str());

  EXPECT_TRUE(r.condition_met) << "no end of session within 120 s: " << r.snapshot.messages << " messages";
  EXPECT_TRUE(r.drained);
  EXPECT_EQ(r.device.ipackets, frames);
  EXPECT_EQ(r.device.imissed, 0u);
  EXPECT_EQ(r.device.ierrors, 0u);
  EXPECT_EQ(r.device.rx_nombuf, 0u);
  EXPECT_EQ(r.device.rx_multi_segment, 0u);
  EXPECT_EQ(r.snapshot.rx_packets, frames);
  EXPECT_EQ(r.snapshot.feed_packets, frames);
  EXPECT_EQ(r.snapshot.bad_frames, 0u);
  EXPECT_EQ(r.snapshot.malformed_mold, 0u);
  EXPECT_EQ(r.snapshot.gaps, 0u);
  EXPECT_EQ(r.snapshot.messages_lost, 0u);
  EXPECT_EQ(r.snapshot.requests, 0u);
  EXPECT_EQ(r.snapshot.messages, day.messages);
  EXPECT_TRUE(r.snapshot.end_of_session);
  EXPECT_FALSE(r.snapshot.stale);
  EXPECT_EQ(r.digest, expected.digest);
  // Every received mbuf went back (parse released it): none leaked, none still held.
  EXPECT_EQ(r.device.rx_pool_available, r.device.rx_pool_size);
  EXPECT_EQ(r.device.tx_pool_available, r.device.tx_pool_size);
  EXPECT_GT(r.snapshot.book_latency.total, 0u);
}

}  // namespace
}  // namespace pmm::test
