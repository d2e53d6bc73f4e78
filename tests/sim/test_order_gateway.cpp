// The order gateway driven directly, over real loopback UDP: a test client numbers its OUCH messages
// (each prefixed with its as-of) in MoldUDP64 packets, the test feeds a generated day to the gateway as
// the publisher would, and turns the gateway's crank (service()) while reading its packets back.
// Enter / cancel / replace answers, fills against the feed, bad input counted, a lost client packet
// re-requested and applied in order, the client's re-requests answered with the original bytes,
// heartbeats, and the deterministic mode: the same feed and order stream delivered at different
// moments gives the same responses, byte for byte; a request that comes too late is counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "core/book_builder.hpp"
#include "core/byte_order.hpp"
#include "core/moldudp64.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "perf/sim/order_gateway.hpp"
#include "tests/sim/sim_fixture.hpp"

namespace pmm::sim::test {
namespace {

using namespace std::chrono_literals;

const mold::SessionId kGatewaySession = mold::make_session("GWTEST");
const mold::SessionId kClientSession = mold::make_session("CLIENT");

book::BookCapacity day_books() {
  book::BookCapacity c;
  c.max_orders = 1u << 15;
  c.max_levels = 1u << 15;
  c.max_locates = 64;
  c.level_index_entries = 1u << 16;
  return c;
}

OrderGatewayConfig test_config(uint64_t latency_ns = 0) {
  OrderGatewayConfig c;
  c.listen = Endpoint{kLoopback, 0};
  c.session = kGatewaySession;
  c.latency_ns = latency_ns;
  c.heartbeat_ms = 0;
  c.max_held = 1024;
  c.history_messages = 1024;
  c.retry_ms = 1;
  c.matching.book = day_books();
  c.matching.max_accounts = 4;
  c.matching.max_open_orders = 1024;
  c.matching.max_day_tokens = 1u << 12;
  c.matching.max_positions = 256;
  c.matching.max_queued_responses = 4096;
  return c;
}

std::unique_ptr<OrderGateway> make_gateway(const OrderGatewayConfig& c) {
  std::string error;
  auto g = OrderGateway::create(c, error);
  if (!g) throw std::runtime_error(error);
  return g;
}

uint64_t timestamp_of(const Bytes& itch_message) { return load_be48(itch_message.data() + 5); }

// One message the gateway sent: its sequence number and the OUCH bytes.
struct Outbound {
  uint64_t sequence = 0;
  Bytes message;
  char type() const { return static_cast<char>(message.at(0)); }
  bool operator==(const Outbound&) const = default;
};

template <class Msg>
Msg decoded(const Outbound& o) {
  EXPECT_EQ(o.type(), Msg::kType);
  EXPECT_EQ(o.message.size(), Msg::kLength);
  Msg m;
  if (o.message.size() == Msg::kLength) ouch::decode(o.message.data(), m);
  return m;
}

// The client end: numbers its messages with the core SessionSender, sends them to the gateway, and
// keeps every datagram the gateway sends back.
class Client {
 public:
  explicit Client(Endpoint gateway) : gateway_(gateway), sender_(kClientSession, 256) {
    std::string error;
    socket_ = UdpSocket::open(Endpoint{kLoopback, 0}, "test client", error);
    if (!socket_.valid()) throw std::runtime_error(error);
  }

  // Numbers [as_of][msg] and sends it (or only numbers it: a packet lost on the way). Its sequence.
  template <class Msg>
  uint64_t send(uint64_t as_of, const Msg& m, bool deliver = true) {
    uint8_t block[8 + Msg::kLength];
    store_be64(block, as_of);
    ouch::encode(m, block + 8);
    return send_block(block, sizeof block, deliver);
  }
  uint64_t send_block(const uint8_t* block, size_t len, bool deliver = true) {
    const uint64_t sequence = sender_.next_sequence();
    uint8_t packet[256];
    const size_t n = sender_.send(block, static_cast<uint16_t>(len), packet, sizeof packet);
    EXPECT_NE(n, 0u);
    if (deliver) raw(packet, n);
    return sequence;
  }
  void resend(uint64_t sequence) {
    uint8_t packet[256];
    const size_t n = sender_.retransmit(sequence, packet, sizeof packet);
    ASSERT_NE(n, 0u);
    raw(packet, n);
  }
  void request(uint64_t sequence, uint16_t count, const mold::SessionId& session = kGatewaySession) {
    uint8_t p[mold::kHeaderSize];
    raw(p, mold::encode_request(p, mold::Request{session, sequence, count}));
  }
  void raw(const uint8_t* p, size_t n) { ASSERT_EQ(socket_.send_to(p, n, gateway_), 0); }
  void raw(const Bytes& b) { raw(b.data(), b.size()); }

  void drain() {
    uint8_t buf[2048];
    for (;;) {
      const Received r = socket_.receive(buf, sizeof buf, 0);
      if (r.kind != Received::Kind::kDatagram) return;
      EXPECT_EQ(r.from, gateway_);
      packets.emplace_back(buf, buf + r.len);
    }
  }

  // The gateway's numbered messages in arrival order (retransmissions included).
  std::vector<Outbound> messages() const {
    std::vector<Outbound> out;
    for (const Bytes& p : packets) {
      if (p.size() <= mold::kHeaderSize) continue;
      mold::DownstreamPacket pkt;
      EXPECT_EQ(mold::parse_downstream(p.data(), p.size(), pkt), mold::ParseError::kNone);
      EXPECT_EQ(pkt.header.session, kGatewaySession);
      EXPECT_EQ(pkt.header.count, 1) << "one message per packet";
      pkt.for_each_message([&](uint64_t s, const uint8_t* m, uint16_t n) {
        out.push_back(Outbound{s, Bytes(m, m + n)});
      });
    }
    return out;
  }
  // Bare headers: heartbeats (count 0), end of session (0xFFFF), re-requests (1..65534).
  std::vector<mold::PacketHeader> headers(bool (*want)(uint16_t)) const {
    std::vector<mold::PacketHeader> out;
    for (const Bytes& p : packets) {
      if (p.size() != mold::kHeaderSize || !want(count_of(p))) continue;
      mold::PacketHeader h;
      std::memcpy(h.session.data(), p.data(), 10);
      h.sequence = sequence_of(p);
      h.count = count_of(p);
      out.push_back(h);
    }
    return out;
  }

  std::vector<Bytes> packets;

 private:
  Endpoint gateway_;
  UdpSocket socket_;
  orders::SessionSender sender_;
};

bool is_heartbeat(uint16_t count) { return count == mold::kHeartbeatCount; }
bool is_request(uint16_t count) { return count != mold::kHeartbeatCount && count != mold::kEndOfSessionCount; }

// Turns the gateway's crank and reads the client's socket until pred() holds; false on timeout.
template <class Pred>
bool pump(OrderGateway& g, Client& c, Pred pred, std::chrono::milliseconds timeout = 2s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    g.service(OrderGateway::real_now_ns());
    c.drain();
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(100us);
  }
}

ouch::EnterOrder enter(const char* token, char side, uint32_t shares, const itch::Symbol& stock, uint32_t price,
                       uint32_t tif = ouch::kTifSystemHours) {
  ouch::EnterOrder m;
  m.token = ouch::make_token(token);
  m.side = side;
  m.shares = shares;
  m.stock = stock;
  m.price = price;
  m.time_in_force = tif;
  m.firm = ouch::make_firm("FRM1");
  m.display = 'Y';
  m.capacity = 'P';
  m.intermarket_sweep = 'N';
  m.cross_type = 'N';
  return m;
}
ouch::CancelOrder cancel(const char* token, uint32_t shares = 0) {
  ouch::CancelOrder m;
  m.token = ouch::make_token(token);
  m.shares = shares;
  return m;
}
ouch::ReplaceOrder replace(const char* existing, const char* replacement, uint32_t shares, uint32_t price) {
  ouch::ReplaceOrder m;
  m.existing_token = ouch::make_token(existing);
  m.replacement_token = ouch::make_token(replacement);
  m.shares = shares;
  m.price = price;
  m.time_in_force = ouch::kTifSystemHours;
  m.display = 'Y';
  m.intermarket_sweep = 'N';
  return m;
}

// A stock that trades and has both sides in the book built from `messages` (a plain BookBuilder).
struct Market {
  uint16_t locate = 0;
  itch::Symbol stock{};
  book::TopOfBook top;
};
Market two_sided(const BookBuilder& b, uint32_t min_ask_shares = 1) {
  for (uint16_t l = 1; l < day_books().max_locates; ++l) {
    const book::TopOfBook t = b.books().top(l);
    if (b.trading_state(l) == 'T' && t.bid.shares > 0 && t.ask.shares >= min_ask_shares && t.bid.price >= 10000)
      return Market{l, b.symbol(l), t};
  }
  ADD_FAILURE() << "no two-sided trading stock";
  return Market{};
}

class OrderGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    day_ = reference_messages(small_day(20000));
    reference_ = std::make_unique<BookBuilder>(day_books());
  }
  void start(const OrderGatewayConfig& c) {
    gateway_ = make_gateway(c);
    client_ = std::make_unique<Client>(gateway_->local_endpoint());
  }
  // Publishes messages up to index `end` (exclusive) to the gateway and the reference books.
  void feed_to(size_t end) {
    for (; fed_ < end && fed_ < day_.size(); ++fed_) {
      gateway_->on_published(day_[fed_].data(), static_cast<uint16_t>(day_[fed_].size()));
      reference_->on_message(day_[fed_].data(), day_[fed_].size());
    }
  }
  bool wait_messages(size_t n) {
    return pump(*gateway_, *client_, [&] { return client_->messages().size() >= n; });
  }

  std::vector<Bytes> day_;
  std::unique_ptr<BookBuilder> reference_;
  std::unique_ptr<OrderGateway> gateway_;
  std::unique_ptr<Client> client_;
  size_t fed_ = 0;
};

TEST_F(OrderGatewayTest, EnterReplaceCancelAreAnsweredInSequence) {
  start(test_config());
  feed_to(3000);
  const Market m = two_sided(*reference_);
  const uint32_t low = m.top.bid.price - 500;  // 5 cents under the bid: rests
  const uint64_t now = gateway_->exchange_time();
  ASSERT_EQ(now, timestamp_of(day_[2999]));

  client_->send(now, enter("ORD1", 'B', 300, m.stock, low));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_TRUE(gateway_->has_client());
  client_->send(now, replace("ORD1", "ORD2", 200, low - 100));
  client_->send(now, cancel("ORD2", 50));  // down to 50 shares
  client_->send(now, cancel("ORD2"));
  client_->send(now, cancel("NOSUCH"));
  ASSERT_TRUE(wait_messages(5));
  const std::vector<Outbound> out = client_->messages();
  ASSERT_EQ(out.size(), 5u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].sequence, i + 1);

  const auto a = decoded<ouch::Accepted>(out[0]);
  EXPECT_EQ(a.timestamp, now);
  EXPECT_EQ(a.token, ouch::make_token("ORD1"));
  EXPECT_EQ(a.side, 'B');
  EXPECT_EQ(a.shares, 300u);
  EXPECT_EQ(a.stock, m.stock);
  EXPECT_EQ(a.price, low);
  EXPECT_EQ(a.time_in_force, ouch::kTifSystemHours);
  EXPECT_EQ(a.firm, ouch::make_firm("FRM1"));
  EXPECT_EQ(a.display, 'Y');
  EXPECT_NE(a.order_ref, 0u);
  EXPECT_EQ(a.order_state, 'L');

  const auto u = decoded<ouch::Replaced>(out[1]);
  EXPECT_EQ(u.replacement_token, ouch::make_token("ORD2"));
  EXPECT_EQ(u.previous_token, ouch::make_token("ORD1"));
  EXPECT_EQ(u.shares, 200u);
  EXPECT_EQ(u.price, low - 100);
  EXPECT_EQ(u.firm, ouch::make_firm("FRM1"));
  EXPECT_NE(u.order_ref, a.order_ref);

  const auto c1 = decoded<ouch::Canceled>(out[2]);
  EXPECT_EQ(c1.token, ouch::make_token("ORD2"));
  EXPECT_EQ(c1.decrement_shares, 150u);
  EXPECT_EQ(c1.reason, 'U');
  const auto c2 = decoded<ouch::Canceled>(out[3]);
  EXPECT_EQ(c2.decrement_shares, 50u);
  const auto reject = decoded<ouch::CancelReject>(out[4]);
  EXPECT_EQ(reject.token, ouch::make_token("NOSUCH"));

  EXPECT_EQ(gateway_->stats().orders, 5u);
  EXPECT_EQ(gateway_->stats().enters, 1u);
  EXPECT_EQ(gateway_->stats().replaces, 1u);
  EXPECT_EQ(gateway_->stats().cancels, 3u);
  EXPECT_EQ(gateway_->stats().messages_sent, 5u);
  EXPECT_TRUE(gateway_->engine().open_orders(make_account("FRM1")).empty());
}

TEST_F(OrderGatewayTest, MarketableOrderFillsAgainstTheGeneratedFeed) {
  start(test_config());
  feed_to(4000);
  const Market m = two_sided(*reference_);
  const uint32_t shares = static_cast<uint32_t>(std::min<uint64_t>(m.top.ask.shares, 500));
  client_->send(gateway_->exchange_time(),
                enter("BUY1", 'B', shares, m.stock, m.top.ask.price, ouch::kTifImmediateOrCancel));
  ASSERT_TRUE(pump(*gateway_, *client_, [&] {
    return gateway_->stats().messages_sent >= 2 && client_->messages().size() == gateway_->stats().messages_sent;
  }));
  const std::vector<Outbound> out = client_->messages();
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0].type(), 'A');
  uint64_t filled = 0;
  for (size_t i = 1; i < out.size(); ++i) {
    const auto e = decoded<ouch::Executed>(out[i]);
    EXPECT_EQ(e.token, ouch::make_token("BUY1"));
    EXPECT_EQ(e.execution_price, m.top.ask.price);  // the best ask's level: nothing was taken from it before
    EXPECT_EQ(e.liquidity_flag, 'R');
    EXPECT_EQ(e.timestamp, gateway_->exchange_time());
    filled += e.executed_shares;
  }
  EXPECT_EQ(filled, shares);  // the level displays at least that many
  const std::vector<PositionView> p = gateway_->engine().positions(make_account("FRM1"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].stock, m.stock);
  EXPECT_EQ(p[0].shares, int64_t{shares});
  EXPECT_EQ(p[0].cash, -int64_t{shares} * int64_t{m.top.ask.price});
  EXPECT_EQ(gateway_->engine().stats().executions, out.size() - 1);
}

TEST_F(OrderGatewayTest, BadInputIsCountedAndDropped) {
  start(test_config());
  feed_to(1000);
  const Market m = two_sided(*reference_);
  client_->raw(Bytes{1, 2, 3, 4, 5});  // shorter than a header: no client learnt from it
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return gateway_->stats().malformed == 1; }));
  EXPECT_FALSE(gateway_->has_client());

  const uint8_t short_block[4] = {0, 0, 0, 1};
  client_->send_block(short_block, sizeof short_block);  // no room for the as-of
  uint8_t only_as_of[8] = {};
  client_->send_block(only_as_of, sizeof only_as_of);  // an empty OUCH message
  uint8_t unknown[8 + 12] = {};
  unknown[8] = 'Q';
  client_->send_block(unknown, sizeof unknown);
  uint8_t enter_bytes[8 + ouch::EnterOrder::kLength];
  ouch::encode(enter("BAD1", 'B', 100, m.stock, 10000), enter_bytes + 8);
  client_->send_block(enter_bytes, sizeof enter_bytes - 1);  // one byte short
  ouch::ModifyOrder modify;
  modify.token = ouch::make_token("BAD1");
  client_->send(0, modify);
  // A downstream packet whose block runs past its end.
  Bytes truncated(mold::kHeaderSize + 4, 0);
  std::memcpy(truncated.data(), kClientSession.data(), 10);
  store_be64(truncated.data() + 10, 6);
  store_be16(truncated.data() + 18, 1);
  store_be16(truncated.data() + 20, 30);
  client_->raw(truncated);
  client_->request(1, 1, mold::make_session("ELSEWHERE"));
  // Finally a good order: it is answered, with the first number.
  client_->send(gateway_->exchange_time(), enter("GOOD", 'B', 100, m.stock, m.top.bid.price - 100));
  ASSERT_TRUE(wait_messages(1));

  // From another address, once the client is known.
  std::string error;
  UdpSocket other = UdpSocket::open(Endpoint{kLoopback, 0}, "other", error);
  uint8_t hb[mold::kHeaderSize];
  ASSERT_EQ(other.send_to(hb, mold::encode_heartbeat(hb, kClientSession, 1), gateway_->local_endpoint()), 0);
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return gateway_->stats().other_client == 1; }));

  const OrderGatewayStats& s = gateway_->stats();
  EXPECT_EQ(s.malformed, 3u);  // 5 bytes, the short block, the truncated packet
  EXPECT_EQ(s.decode.empty, 1u);
  EXPECT_EQ(s.decode.unknown_type, 1u);
  EXPECT_EQ(s.decode.bad_length, 1u);
  EXPECT_EQ(s.decode.last_error.type, 'O');
  EXPECT_EQ(s.unsupported, 1u);
  EXPECT_EQ(s.wrong_session, 1u);
  EXPECT_EQ(s.orders, 1u);
  EXPECT_EQ(gateway_->receiver().delivered, 6u);  // every numbered block, good or not
  EXPECT_EQ(gateway_->receiver().gaps, 0u);
  const std::vector<Outbound> out = client_->messages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sequence, 1u);
  EXPECT_EQ(decoded<ouch::Accepted>(out[0]).token, ouch::make_token("GOOD"));
}

TEST_F(OrderGatewayTest, LostClientPacketIsReRequestedAndAppliedInOrder) {
  start(test_config());
  feed_to(3000);
  const Market m = two_sided(*reference_);
  const uint64_t now = gateway_->exchange_time();
  const uint32_t low = m.top.bid.price - 500;
  client_->send(now, enter("ORD1", 'B', 100, m.stock, low));
  client_->send(now, enter("ORD2", 'B', 100, m.stock, low), /*deliver=*/false);  // lost
  client_->send(now, cancel("ORD2"));                                            // depends on the lost one
  // The gateway asks for 2..3 (the hole up to the last number it saw).
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return !client_->headers(is_request).empty(); }));
  const mold::PacketHeader r = client_->headers(is_request).front();
  EXPECT_EQ(r.session, kClientSession);
  EXPECT_EQ(r.sequence, 2u);
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(client_->messages().size(), 1u);  // ORD1 only: the cancel waits for ORD2
  client_->resend(2);
  client_->resend(3);
  ASSERT_TRUE(wait_messages(3));
  const std::vector<Outbound> out = client_->messages();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(decoded<ouch::Accepted>(out[0]).token, ouch::make_token("ORD1"));
  EXPECT_EQ(decoded<ouch::Accepted>(out[1]).token, ouch::make_token("ORD2"));
  EXPECT_EQ(decoded<ouch::Canceled>(out[2]).token, ouch::make_token("ORD2"));
  EXPECT_EQ(gateway_->receiver().gaps, 1u);
  EXPECT_EQ(gateway_->receiver().out_of_order, 1u);
  EXPECT_GE(gateway_->receiver().requests, 1u);
  EXPECT_EQ(gateway_->receiver().delivered, 3u);
  EXPECT_EQ(gateway_->stats().orders, 3u);

  // A lost last message shows in the client's heartbeat: asked for as well.
  client_->packets.clear();
  client_->send(now, enter("ORD3", 'B', 100, m.stock, low), false);
  uint8_t hb[mold::kHeaderSize];
  client_->raw(hb, mold::encode_heartbeat(hb, kClientSession, 5));
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return !client_->headers(is_request).empty(); }));
  EXPECT_EQ(client_->headers(is_request).front().sequence, 4u);
  EXPECT_EQ(client_->headers(is_request).front().count, 1u);
  client_->resend(4);
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(decoded<ouch::Accepted>(client_->messages()[0]).token, ouch::make_token("ORD3"));
}

TEST_F(OrderGatewayTest, ClientReRequestIsAnsweredWithTheOriginalBytes) {
  start(test_config());
  feed_to(3000);
  const Market m = two_sided(*reference_);
  for (const char* t : {"R1", "R2", "R3"})
    client_->send(gateway_->exchange_time(), enter(t, 'S', 100, m.stock, m.top.ask.price + 1000));
  ASSERT_TRUE(wait_messages(3));
  const std::vector<Bytes> originals = client_->packets;
  ASSERT_EQ(originals.size(), 3u);
  client_->packets.clear();
  client_->request(2, 2);
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return client_->packets.size() >= 2; }));
  ASSERT_EQ(client_->packets.size(), 2u);
  EXPECT_EQ(client_->packets[0], originals[1]);
  EXPECT_EQ(client_->packets[1], originals[2]);
  // Beyond what exists: what exists is sent, the rest counted.
  client_->packets.clear();
  client_->request(3, 5);
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return gateway_->stats().client_requests == 2; }));
  pump(
      *gateway_, *client_, [] { return false; }, 20ms);
  ASSERT_EQ(client_->packets.size(), 1u);
  EXPECT_EQ(client_->packets[0], originals[2]);
  EXPECT_EQ(gateway_->stats().retransmitted, 3u);
  EXPECT_EQ(gateway_->stats().retransmit_missing, 1u);
  EXPECT_EQ(gateway_->next_sequence(), 4u);  // re-sending numbers nothing new
}

TEST_F(OrderGatewayTest, HeartbeatsCarryTheNextSequenceOnceAClientIsKnown) {
  OrderGatewayConfig c = test_config();
  c.heartbeat_ms = 10;
  start(c);
  feed_to(3000);
  pump(
      *gateway_, *client_, [] { return false; }, 40ms);
  EXPECT_TRUE(client_->packets.empty()) << "heartbeats before any client";
  const Market m = two_sided(*reference_);
  client_->send(gateway_->exchange_time(), enter("H1", 'B', 100, m.stock, m.top.bid.price - 100));
  client_->send(gateway_->exchange_time(), enter("H2", 'B', 100, m.stock, m.top.bid.price - 100));
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return client_->headers(is_heartbeat).size() >= 3; }));
  EXPECT_EQ(client_->messages().size(), 2u);
  for (const mold::PacketHeader& h : client_->headers(is_heartbeat)) {
    EXPECT_EQ(h.session, kGatewaySession);
    EXPECT_EQ(h.sequence, 3u);
  }
  gateway_->end_session();
  ASSERT_TRUE(pump(*gateway_, *client_, [&] {
    return !client_->headers([](uint16_t n) { return n == mold::kEndOfSessionCount; }).empty();
  }));
  EXPECT_EQ(client_->headers([](uint16_t n) { return n == mold::kEndOfSessionCount; }).front().sequence, 3u);
}

// ---------------------------------------------------------------------------------------------
// Deterministic mode

struct PlannedOrder {
  size_t decided_at = 0;  // messages published when the client decided (its as-of: the last one's time)
  uint64_t as_of = 0;
  std::vector<uint8_t> block;  // [as-of][OUCH message]
};

template <class Msg>
std::vector<uint8_t> block_of(uint64_t as_of, const Msg& m) {
  std::vector<uint8_t> b(8 + Msg::kLength);
  store_be64(b.data(), as_of);
  ouch::encode(m, b.data() + 8);
  return b;
}

// A client's day: every 700 messages from message 1500 on, a decision on the book as it stands: take
// the best ask (IOC), join the bid, offer above the ask, and later cancel or reprice resting orders.
std::vector<PlannedOrder> plan_orders(const std::vector<Bytes>& day) {
  BookBuilder b(day_books());
  std::vector<PlannedOrder> plan;
  int n = 0;
  for (size_t i = 0; i < day.size(); ++i) {
    b.on_message(day[i].data(), day[i].size());
    const size_t published = i + 1;
    if (published < 1500 || published % 700 != 0 || published + 1000 > day.size()) continue;
    const uint64_t as_of = timestamp_of(day[i]);
    const Market m = two_sided(b);
    const std::string k = std::to_string(n++);
    const auto add = [&](auto msg) { plan.push_back(PlannedOrder{published, as_of, block_of(as_of, msg)}); };
    add(enter(("T" + k).c_str(), 'B', 100, m.stock, m.top.ask.price, ouch::kTifImmediateOrCancel));
    add(enter(("J" + k).c_str(), 'B', 200, m.stock, m.top.bid.price));
    add(enter(("S" + k).c_str(), 'S', 300, m.stock, m.top.ask.price + 100));
    if (n % 3 == 0) add(cancel(("J" + std::to_string(n - 2)).c_str()));
    if (n % 4 == 0) add(replace(("S" + std::to_string(n - 3)).c_str(), ("R" + k).c_str(), 100, m.top.ask.price));
  }
  return plan;
}

// Runs the day through a fresh gateway in deterministic mode; order k is sent once send_at[k]
// messages have been published (never before its decision). Returns the responses, in order.
std::vector<Outbound> deterministic_run(const std::vector<Bytes>& day, const std::vector<PlannedOrder>& plan,
                                        const std::vector<size_t>& send_at, uint64_t latency_ns, std::mt19937& jitter,
                                        OrderGatewayStats& stats) {
  auto g = make_gateway(test_config(latency_ns));
  Client c(g->local_endpoint());
  size_t next = 0;
  for (size_t published = 0; published <= day.size(); ++published) {
    if (published > 0) g->on_published(day[published - 1].data(), static_cast<uint16_t>(day[published - 1].size()));
    for (; next < plan.size() && send_at[next] == published; ++next) {
      c.send_block(plan[next].block.data(), plan[next].block.size());
      if (jitter() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(jitter() % 300));
      const uint64_t orders = next + 1;
      EXPECT_TRUE(pump(*g, c, [&] { return g->stats().orders == orders; })) << "order " << next;
    }
    if (jitter() % 64 == 0) g->service(OrderGateway::real_now_ns());
  }
  g->on_feed_end();
  EXPECT_TRUE(
      pump(*g, c, [&] { return c.messages().size() == g->stats().messages_sent && g->engine().queued() == 0; }));
  stats = g->stats();
  EXPECT_EQ(g->held(), 0u);
  return c.messages();
}

TEST(OrderGatewayDeterminism, SameFeedAndOrdersGiveTheSameResponsesWhateverTheArrivalTimes) {
  const std::vector<Bytes> day = reference_messages(small_day(20000));
  const std::vector<PlannedOrder> plan = plan_orders(day);
  ASSERT_GT(plan.size(), 50u);
  const uint64_t latency = 30'000'000'000;  // 30 s of feed time: tens of messages in this day

  // Run 1: each order arrives right after its decision. Run 2: anywhere up to its due time.
  std::vector<size_t> early(plan.size()), late(plan.size());
  std::mt19937 rng(7);
  size_t floor = 0;
  uint64_t spread = 0;
  for (size_t k = 0; k < plan.size(); ++k) {
    early[k] = plan[k].decided_at;
    size_t last = plan[k].decided_at;  // the last moment: before a message stamped at/after as-of + L
    while (last < day.size() && timestamp_of(day[last]) < plan[k].as_of + latency) ++last;
    floor = std::max(floor, plan[k].decided_at);
    ASSERT_LE(floor, last);
    late[k] = floor + rng() % (last - floor + 1);
    floor = late[k];  // the client sends in its own order
    spread += late[k] - early[k];
  }
  ASSERT_GT(spread, plan.size()) << "the two runs must deliver at different points of the feed";

  std::mt19937 jitter1(1), jitter2(2);
  OrderGatewayStats s1, s2;
  const std::vector<Outbound> r1 = deterministic_run(day, plan, early, latency, jitter1, s1);
  const std::vector<Outbound> r2 = deterministic_run(day, plan, late, latency, jitter2, s2);
  EXPECT_EQ(s1.late_orders, 0u);
  EXPECT_EQ(s2.late_orders, 0u);
  EXPECT_EQ(s1.orders, plan.size());
  ASSERT_EQ(r1.size(), r2.size());
  for (size_t i = 0; i < r1.size(); ++i) ASSERT_EQ(r1[i], r2[i]) << "response " << i;
  size_t fills = 0;
  for (const Outbound& o : r1) fills += o.type() == 'E' ? 1 : 0;
  EXPECT_GT(fills, 10u) << "the day must exercise matching";
  // A held request is applied, and answered, at its due time.
  EXPECT_EQ(decoded<ouch::Accepted>(r1.front()).timestamp, plan.front().as_of + latency);

  // Without the latency the same stream depends on when it arrives.
  std::mt19937 jitter3(3), jitter4(4);
  OrderGatewayStats s3, s4;
  const std::vector<Outbound> r3 = deterministic_run(day, plan, early, 0, jitter3, s3);
  const std::vector<Outbound> r4 = deterministic_run(day, plan, late, 0, jitter4, s4);
  EXPECT_NE(r3, r4);
}

TEST_F(OrderGatewayTest, ARequestPastItsTimeIsLate) {
  const uint64_t latency = 1'000'000'000;
  OrderGatewayConfig c = test_config(latency);
  c.max_held = 1;
  start(c);
  feed_to(3000);
  const Market m = two_sided(*reference_);
  const uint64_t now = gateway_->exchange_time();
  // Decided on data long gone: the feed is past as-of + L.
  client_->send(now - latency, enter("LATE", 'B', 100, m.stock, m.top.bid.price - 100));
  ASSERT_TRUE(wait_messages(1));
  EXPECT_EQ(gateway_->stats().late_orders, 1u);
  EXPECT_EQ(decoded<ouch::Accepted>(client_->messages()[0]).timestamp, now);
  // In time: held until the feed reaches now + L; a second one finds the queue (of 1) full.
  client_->send(now, enter("HELD", 'B', 100, m.stock, m.top.bid.price - 100));
  client_->send(now, enter("FULL", 'B', 100, m.stock, m.top.bid.price - 100));
  ASSERT_TRUE(wait_messages(2));
  EXPECT_EQ(gateway_->held(), 1u);
  EXPECT_EQ(gateway_->stats().held_full, 1u);
  EXPECT_EQ(decoded<ouch::Accepted>(client_->messages()[1]).token, ouch::make_token("FULL"));
  size_t due = fed_;
  while (timestamp_of(day_[due]) < now + latency) ++due;
  feed_to(due);  // every message before the due one: still held
  pump(
      *gateway_, *client_, [] { return false; }, 10ms);
  EXPECT_EQ(client_->messages().size(), 2u);
  feed_to(due + 1);
  ASSERT_TRUE(wait_messages(3));
  const auto held = decoded<ouch::Accepted>(client_->messages()[2]);
  EXPECT_EQ(held.token, ouch::make_token("HELD"));
  EXPECT_EQ(held.timestamp, now + latency);
  EXPECT_EQ(gateway_->stats().late_orders, 1u);
}

// Requests still held when the feed ends are answered from on_feed_end() itself, before the simulator's
// next packet (its end of session): no further turn of service() is needed to send them.
TEST_F(OrderGatewayTest, HeldRequestsAreAnsweredAtTheEndOfTheFeed) {
  const uint64_t latency = 1'000'000'000;
  start(test_config(latency));
  feed_to(3000);
  const Market m = two_sided(*reference_);
  const uint64_t now = gateway_->exchange_time();
  client_->send(now, enter("HELD", 'B', 100, m.stock, m.top.bid.price - 100));
  ASSERT_TRUE(pump(*gateway_, *client_, [&] { return gateway_->held() == 1; }));
  EXPECT_TRUE(client_->messages().empty());
  gateway_->on_feed_end();
  EXPECT_EQ(gateway_->held(), 0u);
  const auto end = std::chrono::steady_clock::now() + 2s;
  while (client_->messages().empty() && std::chrono::steady_clock::now() < end) client_->drain();
  ASSERT_EQ(client_->messages().size(), 1u);
  const auto accepted = decoded<ouch::Accepted>(client_->messages()[0]);
  EXPECT_EQ(accepted.token, ouch::make_token("HELD"));
  EXPECT_EQ(accepted.timestamp, now + latency);
}

}  // namespace
}  // namespace pmm::sim::test
