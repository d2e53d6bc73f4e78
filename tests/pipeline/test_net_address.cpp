// The configuration's address forms (core/pipeline/net_address.hpp) and the TSC clock's conversions
// (core/pipeline/tsc_clock.hpp). Accepted forms are exactly: four decimal numbers 0..255 joined by
// dots; that plus ':' and a decimal port 1..65535; six two-digit hex bytes joined by colons, either case.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "core/pipeline/net_address.hpp"
#include "core/pipeline/tsc_clock.hpp"

namespace {

using pmm::pipe::format_ipv4;
using pmm::pipe::format_mac;
using pmm::pipe::parse_endpoint;
using pmm::pipe::parse_ipv4;
using pmm::pipe::parse_mac;
using pmm::pipe::TscClock;
using Mac = std::array<uint8_t, 6>;

bool ipv4_ok(const std::string& s) {
  uint32_t ip = 0;
  return parse_ipv4(s, ip);
}
bool endpoint_ok(const std::string& s) {
  uint32_t ip = 0;
  uint16_t port = 0;
  return parse_endpoint(s, ip, port);
}
bool mac_ok(const std::string& s) {
  Mac m{};
  return parse_mac(s, m);
}

TEST(ParseIpv4, Accepts) {
  const struct {
    const char* text;
    uint32_t ip;
  } cases[] = {
      {"0.0.0.0", 0},
      {"255.255.255.255", 0xFFFFFFFFu},
      {"10.77.0.2", (10u << 24) | (77u << 16) | 2u},
      {"1.2.3.4", 0x01020304u},
      {"239.1.2.3", 0xEF010203u},
      {"192.168.100.254", 0xC0A864FEu},
  };
  for (const auto& c : cases) {
    uint32_t ip = 0;
    EXPECT_TRUE(parse_ipv4(c.text, ip)) << c.text;
    EXPECT_EQ(ip, c.ip) << c.text;
  }
}

TEST(ParseIpv4, RejectsAndLeavesOutputAlone) {
  for (const char* bad : {"", ".", "...", "1.2.3", "1.2.3.", "1.2.3.4.", "1.2.3.4.5", "256.1.1.1", "1.256.1.1",
                          "1.1.256.1", "1.1.1.256", "999.1.1.1", "1234.1.1.1", "1.2.3.1234", "1..2.3", "1.2.3.4 ",
                          "1.2.3.4x", "1.2.3.4:80", "1.2.3.4\n", "a.b.c.d", "x1.2.3.4", "1.2.3.-4", "1,2,3,4",
                          "localhost", "1.2.3.0x4"}) {
    uint32_t ip = 0x5A5A5A5A;
    EXPECT_FALSE(parse_ipv4(bad, ip)) << '"' << bad << '"';
    EXPECT_EQ(ip, 0x5A5A5A5Au) << '"' << bad << '"';
  }
}

// Digits and dots only: a stray space or sign in a configuration value must not pass.
TEST(ParseIpv4, RejectsLeadingJunkAndSigns) {
  for (const char* bad : {" 1.2.3.4", "\t1.2.3.4", "1. 2.3.4", "1.2.3. 4", "+1.2.3.4", "1.+2.3.4", "-0.1.2.3"})
    EXPECT_FALSE(ipv4_ok(bad)) << '"' << bad << '"';
  EXPECT_FALSE(endpoint_ok(" 1.2.3.4:80"));
}

TEST(ParseEndpoint, AcceptsAndRejects) {
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(parse_endpoint("10.77.0.1:26410", ip, port));
  EXPECT_EQ(ip, (10u << 24) | (77u << 16) | 1u);
  EXPECT_EQ(port, 26410);
  ASSERT_TRUE(parse_endpoint("0.0.0.0:1", ip, port));
  EXPECT_EQ(ip, 0u);
  EXPECT_EQ(port, 1);
  ASSERT_TRUE(parse_endpoint("255.255.255.255:65535", ip, port));
  EXPECT_EQ(port, 65535);
  for (const char* bad : {"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:00000", "1.2.3.4:65536",
                          "1.2.3.4:99999", "1.2.3.4:123456", "1.2.3.4:+80", "1.2.3.4:-80", "1.2.3.4: 80",
                          "1.2.3.4:80 ", "1.2.3.4:8a", "1.2.3.4:0x50", ":80", "host:80", "1.2.3:80", "1.2.3.4::80",
                          "256.0.0.1:80", "1.2.3.4:80:81"}) {
    uint32_t ip2 = 7;
    uint16_t port2 = 7;
    EXPECT_FALSE(parse_endpoint(bad, ip2, port2)) << '"' << bad << '"';
    EXPECT_EQ(port2, 7) << '"' << bad << '"';
  }
}

TEST(ParseMac, AcceptsEitherCase) {
  const Mac want{0x02, 0x00, 0x00, 0x77, 0x00, 0x02};
  for (const char* text : {"02:00:00:77:00:02"}) {
    Mac m{};
    ASSERT_TRUE(parse_mac(text, m)) << text;
    EXPECT_EQ(m, want);
  }
  const Mac hex{0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
  for (const char* text : {"aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "aA:Bb:cC:Dd:eE:Ff"}) {
    Mac m{};
    ASSERT_TRUE(parse_mac(text, m)) << text;
    EXPECT_EQ(m, hex) << text;
  }
}

TEST(ParseMac, RejectsAndLeavesOutputAlone) {
  for (const char* bad : {"", "02:00:00:77:00", "02:00:00:77:00:", "02:00:00:77:00:02:", "02:00:00:77:00:02:03",
                          "02-00-00-77-00-02", "0200.0077.0002", "02:00:00:77:00:0g", "2:0:0:77:0:2",
                          "002:00:00:77:00:2", "02:00:00:77:00:022", "02:00:00:77:00:02 ", "02:00:00:77:00:2x",
                          "gg:00:00:77:00:02", "02:00:00:77:00:02\n", "auto", "02:00:00:77::002"}) {
    Mac m{9, 9, 9, 9, 9, 9};
    EXPECT_FALSE(parse_mac(bad, m)) << '"' << bad << '"';
    EXPECT_EQ(m, (Mac{9, 9, 9, 9, 9, 9})) << '"' << bad << '"';
  }
}

// Hex pairs and colons only: "-2:..." must not be read as fe:... (a different address).
TEST(ParseMac, RejectsSignsSpacesAndPrefixes) {
  for (const char* bad : {" 2:00:00:77:00:02", "+2:00:00:77:00:02", "-2:00:00:77:00:02", "02:00:00:77:00: 2",
                          "0x:00:00:77:00:02"})
    EXPECT_FALSE(mac_ok(bad)) << '"' << bad << '"';
}

TEST(NetAddress, FormatRoundTrips) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100000; ++i) {
    const auto ip = static_cast<uint32_t>(rng());
    const std::string text = format_ipv4(ip);
    uint32_t back = ~ip;
    ASSERT_TRUE(parse_ipv4(text, back)) << text;
    EXPECT_EQ(back, ip) << text;
    const std::string endpoint = text + ":" + std::to_string(1 + rng() % 65535);
    uint32_t eip = 0;
    uint16_t eport = 0;
    ASSERT_TRUE(parse_endpoint(endpoint, eip, eport)) << endpoint;
    EXPECT_EQ(eip, ip);
    EXPECT_EQ(text + ":" + std::to_string(eport), endpoint);

    Mac m;
    for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
    const std::string mac_text = format_mac(m);
    ASSERT_EQ(mac_text.size(), 17u);
    EXPECT_EQ(mac_text.find_first_of("ABCDEF"), std::string::npos) << "lower case: " << mac_text;
    Mac mb{};
    ASSERT_TRUE(parse_mac(mac_text, mb)) << mac_text;
    EXPECT_EQ(mb, m) << mac_text;
  }
  // Canonical text survives parse then format.
  for (const char* text : {"0.0.0.0", "10.77.0.2", "255.255.255.255"}) {
    uint32_t ip = 0;
    ASSERT_TRUE(parse_ipv4(text, ip));
    EXPECT_EQ(format_ipv4(ip), text);
  }
  Mac m{};
  ASSERT_TRUE(parse_mac("02:00:00:77:00:02", m));
  EXPECT_EQ(format_mac(m), "02:00:00:77:00:02");
}

// to_ns truncates through a 32.32 fixed-point factor: for a rate r ticks/ns the result lies in
// (t/r - 1 - t/2^32, t/r], i.e. within 1 ns plus 1 ns per 2^32 ticks (about 1.4 s at 3 GHz).
TEST(TscClock, ConversionsWithinRounding) {
  std::mt19937_64 rng(17);
  for (double rate : {1.0, 0.5, 1.7, 2.1, 2.5, 2.9999, 3.0, 3.6, 4.2}) {
    const TscClock clock = TscClock::with_rate(rate);
    EXPECT_EQ(clock.ticks_per_ns(), rate);
    EXPECT_EQ(clock.to_ns(0), 0u);
    EXPECT_EQ(clock.from_ns(0), 0u);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t ticks = rng() >> (20 + rng() % 44);  // up to 2^44 ticks
      const long double exact = static_cast<long double>(ticks) / rate;
      const long double got = static_cast<long double>(clock.to_ns(ticks));
      const long double drift = static_cast<long double>(ticks) / 4294967296.0L;
      EXPECT_LE(got, exact + 1e-6L) << "rate " << rate << " ticks " << ticks;
      EXPECT_GE(got, exact - 1.0L - drift - 1e-6L) << "rate " << rate << " ticks " << ticks;
      if (ticks < (uint64_t{1} << 30)) {
        EXPECT_GE(got, exact - 1.25L) << "rate " << rate << " ticks " << ticks;
      }

      // from_ns: one multiply in double, truncated (double rounding adds < 0.01 tick below 2^47).
      const uint64_t ns = rng() >> (20 + rng() % 44);
      const long double ticks_exact = static_cast<long double>(ns) * rate;
      const uint64_t from = clock.from_ns(ns);
      EXPECT_LE(static_cast<long double>(from), ticks_exact + 0.01L) << "rate " << rate << " ns " << ns;
      EXPECT_GT(static_cast<long double>(from), ticks_exact - 1.01L) << "rate " << rate << " ns " << ns;
      // Round trip ns -> ticks -> ns: never more, and less by at most one tick plus to_ns's rounding.
      const uint64_t back = clock.to_ns(from);
      EXPECT_LE(back, ns) << "rate " << rate << " ns " << ns;
      EXPECT_GE(static_cast<long double>(back),
                static_cast<long double>(ns) - 1.01L / rate - 1.0L - static_cast<long double>(from) / 4294967296.0L)
          << "rate " << rate << " ns " << ns;
    }
  }
  // A rate that is not positive falls back to one tick per ns.
  for (double bad : {0.0, -2.0}) {
    const TscClock c = TscClock::with_rate(bad);
    EXPECT_EQ(c.ticks_per_ns(), 1.0);
    EXPECT_EQ(c.to_ns(123456789), 123456789u);
    EXPECT_EQ(c.from_ns(123456789), 123456789u);
  }
}

TEST(TscClock, CalibrateAgreesWithSteadyClock) {
  const TscClock clock = TscClock::calibrate(std::chrono::milliseconds(50));
  ASSERT_GT(clock.ticks_per_ns(), 0.0);
  using steady = std::chrono::steady_clock;
  const auto t0 = steady::now();
  const uint64_t c0 = pmm::pipe::read_tsc();
  while (steady::now() - t0 < std::chrono::milliseconds(100)) {
  }
  const uint64_t c1 = pmm::pipe::read_tsc();
  const auto t1 = steady::now();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  const double measured = static_cast<double>(c1 - c0) / ns;
  // Loose: a shared VM can be descheduled in either window.
  EXPECT_NEAR(clock.ticks_per_ns(), measured, 0.2 * measured);
  EXPECT_NEAR(static_cast<double>(clock.to_ns(c1 - c0)), ns, 0.2 * ns);
  RecordProperty("ticks_per_ns", std::to_string(clock.ticks_per_ns()));
}

}  // namespace
