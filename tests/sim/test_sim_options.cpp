// The simulator's option notations and its drop plan: IP:PORT endpoints, packet lists, and which
// packets a plan drops (listed ones, a seeded fraction, repeatable).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "perf/sim/endpoint.hpp"
#include "perf/sim/packet_drop_plan.hpp"

namespace pmm::sim {
namespace {

TEST(Endpoint, ParsesIpAndPort) {
  Endpoint e;
  std::string error;
  ASSERT_TRUE(parse_endpoint("127.0.0.1:26400", e, error)) << error;
  EXPECT_EQ(e, (Endpoint{0x7F000001, 26400}));
  ASSERT_TRUE(parse_endpoint("239.1.1.1:0", e, error));
  EXPECT_EQ(e, (Endpoint{0xEF010101, 0}));
  EXPECT_TRUE(e.is_multicast());
  ASSERT_TRUE(parse_endpoint("255.255.255.255:65535", e, error));
  EXPECT_EQ(e, (Endpoint{0xFFFFFFFF, 65535}));
  EXPECT_FALSE(e.is_multicast());
  EXPECT_EQ(to_string(Endpoint{0x0A000001, 26401}), "10.0.0.1:26401");
  EXPECT_TRUE((Endpoint{0xE0000000, 1}).is_multicast());
  EXPECT_FALSE((Endpoint{0xDFFFFFFF, 1}).is_multicast());
}

TEST(Endpoint, RejectsWhatIsNotIpColonPort) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":26400", "127.0.0:26400", "127.0.0.1.1:26400",
                          "256.0.0.1:1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+1", "localhost:26400",
                          "127.0.0.1:26400x", " 127.0.0.1:1", "1..2.3:4", "127.0.0.1:123456"}) {
    Endpoint e{1, 1};
    std::string error;
    EXPECT_FALSE(parse_endpoint(bad, e, error)) << bad;
    EXPECT_NE(error.find("IP:PORT"), std::string::npos) << bad << ": " << error;
    EXPECT_EQ(e, (Endpoint{1, 1})) << bad;  // untouched
  }
  uint32_t ip = 0;
  std::string error;
  EXPECT_FALSE(parse_ipv4("10.0.0.1:5", ip, error));
  EXPECT_TRUE(parse_ipv4("10.0.0.1", ip, error));
  EXPECT_EQ(ip, 0x0A000001u);
}

TEST(PacketList, ParsesCommaSeparatedNumbers) {
  std::vector<uint64_t> v;
  std::string error;
  ASSERT_TRUE(parse_packet_list("3,7,10", v, error));
  EXPECT_EQ(v, (std::vector<uint64_t>{3, 7, 10}));
  ASSERT_TRUE(parse_packet_list("", v, error));
  EXPECT_TRUE(v.empty());
  ASSERT_TRUE(parse_packet_list("1000000000000", v, error));
  EXPECT_EQ(v, (std::vector<uint64_t>{1000000000000}));
  for (const char* bad : {"0", "1,,2", "1,", ",1", "a", "1;2", "-1", "1 ,2", "99999999999999999999"}) {
    EXPECT_FALSE(parse_packet_list(bad, v, error)) << bad;
    EXPECT_NE(error.find("N,N"), std::string::npos) << error;
  }
}

std::vector<uint64_t> dropped(const DropConfig& c, uint64_t packets) {
  PacketDropPlan plan(c);
  std::vector<uint64_t> out;
  for (uint64_t p = 1; p <= packets; ++p)
    if (plan.should_drop(p)) out.push_back(p);
  return out;
}

TEST(PacketDropPlan, DropsListedPacketsInAnyOrderOnce) {
  EXPECT_EQ(dropped(DropConfig{{9, 2, 5, 2}, 0.0, 1}, 20), (std::vector<uint64_t>{2, 5, 9}));
  EXPECT_TRUE(dropped(DropConfig{}, 1000).empty());
  EXPECT_EQ(dropped(DropConfig{{}, 1.0, 1}, 50).size(), 50u);
}

TEST(PacketDropPlan, ARateIsSeededAndRepeatable) {
  const DropConfig a{{}, 0.05, 7};
  const std::vector<uint64_t> first = dropped(a, 100000);
  EXPECT_EQ(dropped(a, 100000), first);
  EXPECT_NE(dropped(DropConfig{{}, 0.05, 8}, 100000), first);
  // 5 % of 100 000: a binomial with sd ~69; 6 sd either side.
  EXPECT_GT(first.size(), 5000u - 420u);
  EXPECT_LT(first.size(), 5000u + 420u);
  // Listed packets come on top of the rate's choice.
  const std::vector<uint64_t> both = dropped(DropConfig{{1, 2, 3}, 0.05, 7}, 100000);
  for (uint64_t p : {1u, 2u, 3u}) EXPECT_TRUE(std::binary_search(both.begin(), both.end(), p));
}

TEST(PacketDropPlan, ValidateNamesWhatIsWrong) {
  EXPECT_EQ(validate(DropConfig{}), "");
  EXPECT_NE(validate(DropConfig{{}, 1.5, 1}).find("0..1"), std::string::npos);
  EXPECT_NE(validate(DropConfig{{}, -0.1, 1}).find("0..1"), std::string::npos);
  EXPECT_NE(validate(DropConfig{{0}, 0.0, 1}).find("start at 1"), std::string::npos);
}

}  // namespace
}  // namespace pmm::sim
