// The order gateway's side of the session login (docs/order-entry.md, "Login"), over loopback UDP: a
// request naming the client's own session is answered with the client's messages from its first
// sequence, byte for byte as sent, under the client's session and original numbers; then a heartbeat
// under the client's session carrying the gateway's next expected; then the gateway's own heartbeat.
// Fresh gateway, gateway ahead by k (all, capped by count), gateway behind, a history too short, and a
// third session refused.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "core/byte_order.hpp"
#include "core/moldudp64.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "perf/sim/order_gateway.hpp"
#include "tests/sim/sim_fixture.hpp"

namespace pmm::sim::test {
namespace {

using namespace std::chrono_literals;

const mold::SessionId kGateway = mold::make_session("GWTEST");
const mold::SessionId kClient = mold::make_session("CLIENT");

OrderGatewayConfig config(uint32_t history = 1024) {
  OrderGatewayConfig c;
  c.listen = Endpoint{kLoopback, 0};
  c.session = kGateway;
  c.heartbeat_ms = 0;
  c.history_messages = history;
  c.matching.book.max_orders = 1024;
  c.matching.book.max_levels = 1024;
  c.matching.book.max_locates = 16;
  c.matching.book.level_index_entries = 1u << 12;
  c.matching.max_accounts = 2;
  c.matching.max_open_orders = 64;
  c.matching.max_day_tokens = 1024;
  c.matching.max_positions = 16;
  c.matching.max_queued_responses = 1024;
  return c;
}

struct Packet {
  mold::PacketHeader header;
  Bytes block;  // the one message block, empty for a bare header
};

class GatewayLoginTest : public ::testing::Test {
 protected:
  void start(const OrderGatewayConfig& c) {
    std::string error;
    gateway_ = OrderGateway::create(c, error);
    ASSERT_TRUE(gateway_) << error;
    socket_ = UdpSocket::open(Endpoint{kLoopback, 0}, "test client", error);
    ASSERT_TRUE(socket_.valid()) << error;
  }
  // n Cancel Orders (no feed: each is answered with a Cancel Reject); keeps each block as sent.
  void send_messages(int n) {
    for (int i = 0; i < n; ++i) {
      ouch::CancelOrder m;
      m.token = ouch::make_token(("TOK" + std::to_string(sent_.size())).c_str());
      uint8_t block[8 + ouch::CancelOrder::kLength];
      store_be64(block, 1000 + sent_.size());
      ouch::encode(m, block + 8);
      sent_.emplace_back(block, block + sizeof block);
      uint8_t packet[256];
      const size_t len = sender_.send(block, sizeof block, packet, sizeof packet);
      ASSERT_EQ(socket_.send_to(packet, len, gateway_->local_endpoint()), 0);
    }
    ASSERT_TRUE(turn_until([&] { return gateway_->receiver().delivered == sent_.size(); }));
  }
  void login(const mold::SessionId& session, uint64_t first, uint16_t count) {
    uint8_t p[mold::kHeaderSize];
    ASSERT_EQ(socket_.send_to(p, mold::encode_request(p, mold::Request{session, first, count}), gateway_->local_endpoint()), 0);
  }
  template <class Pred>
  bool turn_until(Pred pred) {
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < end) {
      gateway_->service(OrderGateway::real_now_ns());
      if (pred()) return true;
      std::this_thread::sleep_for(100us);
    }
    return false;
  }
  // Everything the client got since the last call (the gateway's responses dropped: only packets
  // under the client's session and bare headers kept).
  std::vector<Packet> received() {
    gateway_->service(OrderGateway::real_now_ns());
    std::vector<Packet> out;
    uint8_t buf[2048];
    for (;;) {
      const Received r = socket_.receive(buf, sizeof buf, 5);
      if (r.kind != Received::Kind::kDatagram) return out;
      mold::DownstreamPacket pkt;
      EXPECT_EQ(mold::parse_downstream(buf, r.len, pkt), mold::ParseError::kNone);
      Packet p{pkt.header, {}};
      if (pkt.header.session == kGateway && !pkt.is_heartbeat()) continue;  // a response
      pkt.for_each_message([&](uint64_t, const uint8_t* m, uint16_t n) { p.block.assign(m, m + n); });
      out.push_back(p);
    }
  }
  // Turns the gateway until the login answer (a heartbeat under the client's session) came.
  std::vector<Packet> answer() {
    std::vector<Packet> all;
    turn_until([&] {
      for (Packet& p : received()) all.push_back(p);
      for (const Packet& p : all)
        if (p.header.session == kClient && p.header.count == mold::kHeartbeatCount) return true;
      return false;
    });
    return all;
  }
  void expect_answer(const std::vector<Packet>& got, uint64_t first, size_t echoes, uint64_t gateway_expected) {
    ASSERT_EQ(got.size(), echoes + 2) << "echoes, the answer, the gateway's heartbeat";
    for (size_t i = 0; i < echoes; ++i) {
      EXPECT_EQ(got[i].header.session, kClient);
      EXPECT_EQ(got[i].header.sequence, first + i);
      EXPECT_EQ(got[i].header.count, 1u);
      EXPECT_EQ(got[i].block, sent_.at(first + i - 1)) << "echo " << first + i << " is the block as sent";
    }
    EXPECT_EQ(got[echoes].header.session, kClient);
    EXPECT_EQ(got[echoes].header.count, mold::kHeartbeatCount);
    EXPECT_EQ(got[echoes].header.sequence, gateway_expected);
    EXPECT_EQ(got[echoes + 1].header.session, kGateway);
    EXPECT_EQ(got[echoes + 1].header.count, mold::kHeartbeatCount);
    EXPECT_EQ(got[echoes + 1].header.sequence, gateway_->next_sequence());
  }

  std::unique_ptr<OrderGateway> gateway_;
  UdpSocket socket_;
  orders::SessionSender sender_{kClient, 256};
  std::vector<Bytes> sent_;
};

TEST_F(GatewayLoginTest, FreshGatewayAnswersOneAndLearnsTheClient) {
  start(config());
  login(kClient, 1, 100);
  expect_answer(answer(), 1, 0, 1);
  EXPECT_TRUE(gateway_->has_client());
  EXPECT_EQ(gateway_->stats().logins, 1u);
  EXPECT_EQ(gateway_->stats().login_echoes, 0u);
}

TEST_F(GatewayLoginTest, GatewayAheadEchoesWhatItReceivedFromFirst) {
  start(config());
  send_messages(8);
  login(kClient, 4, 100);  // we recovered up to 3: 4..8 are echoed
  expect_answer(answer(), 4, 5, 9);
  EXPECT_EQ(gateway_->stats().login_echoes, 5u);
  login(kClient, 4, 2);  // capped by count: 4, 5, then the answer says 9 (the client asks for more)
  expect_answer(answer(), 4, 2, 9);
  login(kClient, 9, 100);  // equal: nothing to echo
  expect_answer(answer(), 9, 0, 9);
  EXPECT_EQ(gateway_->stats().logins, 3u);
}

TEST_F(GatewayLoginTest, GatewayBehindAnswersItsExpectedOnly) {
  start(config());
  send_messages(3);
  login(kClient, 12, 100);
  expect_answer(answer(), 12, 0, 4);  // the client sees 4 < 12 and refuses to trade
}

TEST_F(GatewayLoginTest, EchoesOlderThanTheHistoryAreMissingAndCounted) {
  start(config(4));
  send_messages(8);
  login(kClient, 2, 100);  // 2..4 are gone from a history of 4
  expect_answer(answer(), 2, 0, 9);
  EXPECT_EQ(gateway_->stats().login_echo_missing, 1u);
}

TEST_F(GatewayLoginTest, AThirdSessionIsRefused) {
  start(config());
  send_messages(2);
  login(mold::make_session("OTHER"), 1, 100);
  EXPECT_TRUE(turn_until([&] { return gateway_->stats().wrong_session == 1; }));
  EXPECT_TRUE(received().empty());
  EXPECT_EQ(gateway_->stats().logins, 0u);
}

}  // namespace
}  // namespace pmm::sim::test
