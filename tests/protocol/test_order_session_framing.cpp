// The order session on UDP (docs/order-entry.md): OUCH messages in MoldUDP64 packets both ways. The
// expected packet bytes are laid out by hand from shared/specs/moldudp64.txt (header: session 10,
// sequence 8, count 2; blocks: length 2 + message) and ouch42.txt; then a lost packet is found by the
// sequence tracker and asked for again with a request packet on the same socket pair.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/mold_sequence_tracker.hpp"
#include "core/moldudp64.hpp"
#include "core/order_session_framing.hpp"
#include "core/ouch42.hpp"

namespace {

namespace mold = pmm::mold;
namespace ouch = pmm::ouch;

void put_be(std::vector<uint8_t>& v, uint64_t x, size_t width) {
  for (size_t i = 0; i < width; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * (width - 1 - i))));
}
void put_text(std::vector<uint8_t>& v, const std::string& s) { v.insert(v.end(), s.begin(), s.end()); }

std::unique_ptr<uint8_t[]> exact_copy(const std::vector<uint8_t>& v) {
  std::unique_ptr<uint8_t[]> out(new uint8_t[v.size()]);
  std::memcpy(out.get(), v.data(), v.size());
  return out;
}

ouch::CancelOrder cancel(const char* token, uint32_t shares) {
  ouch::CancelOrder m;
  m.token = ouch::make_token(token);
  m.shares = shares;
  return m;
}

TEST(OrderSessionFraming, OuchMessagesInAMoldUdp64Packet) {
  std::vector<uint8_t> buf(1400);
  mold::PacketBuilder b(buf.data(), buf.size(), mold::make_session("ORD0000001"), 41);
  ASSERT_TRUE(ouch::add_message(b, cancel("TKN1", 0)));
  ouch::ModifyOrder mod;
  mod.token = ouch::make_token("TKN2");
  mod.side = 'S';
  mod.shares = 0x01020304;
  ASSERT_TRUE(ouch::add_message(b, mod));
  buf.resize(b.finish());

  std::vector<uint8_t> expected;
  put_text(expected, "ORD0000001");
  put_be(expected, 41, 8);
  put_be(expected, 2, 2);
  put_be(expected, 19, 2);  // Cancel Order: 'X', token 1..14, shares 15..18
  put_text(expected, "XTKN1          ");
  put_be(expected, 0, 4);
  put_be(expected, 20, 2);  // Modify Order: 'M', token 1..14, side 15, shares 16..19
  put_text(expected, "MTKN2          S");
  put_be(expected, 0x01020304, 4);
  EXPECT_EQ(buf, expected);
}

TEST(OrderSessionFraming, AddMessageRefusesWhatDoesNotFit) {
  std::vector<uint8_t> buf(mold::kHeaderSize + 2 + 19 + 2 + 18);  // room for one Cancel Order, not two
  mold::PacketBuilder b(buf.data(), buf.size(), mold::make_session("S"), 1);
  EXPECT_TRUE(ouch::add_message(b, cancel("A", 1)));
  EXPECT_FALSE(ouch::add_message(b, cancel("B", 2)));
  EXPECT_EQ(b.count(), 1u);
  EXPECT_EQ(b.size(), mold::kHeaderSize + 2 + 19);
}

TEST(OrderSessionFraming, ClassifiesRequestsHeartbeatsAndPackets) {
  std::vector<uint8_t> header;
  put_text(header, "ORD0000001");
  put_be(header, 7, 8);
  auto with_count = [&](uint16_t count) {
    std::vector<uint8_t> v = header;
    put_be(v, count, 2);
    return v;
  };
  auto kind = [](const std::vector<uint8_t>& v) {
    const auto p = exact_copy(v);
    return ouch::classify_datagram(p.get(), v.size());
  };
  EXPECT_EQ(kind(with_count(0)), ouch::DatagramKind::kDownstream);       // heartbeat
  EXPECT_EQ(kind(with_count(0xFFFF)), ouch::DatagramKind::kDownstream);  // end of session
  EXPECT_EQ(kind(with_count(1)), ouch::DatagramKind::kRequest);
  EXPECT_EQ(kind(with_count(0xFFFE)), ouch::DatagramKind::kRequest);
  std::vector<uint8_t> one = with_count(1);
  put_be(one, 0, 2);  // one empty block
  EXPECT_EQ(kind(one), ouch::DatagramKind::kDownstream);
  for (size_t len = 1; len < mold::kHeaderSize; ++len)
    EXPECT_EQ(kind(std::vector<uint8_t>(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(len))),
              ouch::DatagramKind::kMalformed)
        << len;
  uint8_t req[mold::kHeaderSize];
  mold::encode_request(req, mold::Request{mold::make_session("ORD0000001"), 5, 3});
  EXPECT_EQ(ouch::classify_datagram(req, sizeof req), ouch::DatagramKind::kRequest);
}

struct Orders : ouch::IgnoreInbound {
  using IgnoreInbound::on;
  std::vector<std::string> cancels;
  void on(const ouch::CancelOrder& m) { cancels.push_back(std::string(m.token.data(), 14) + "/" + std::to_string(m.shares)); }
};

TEST(OrderSessionFraming, DispatchPacketSkipsTheSeenHeadAndCountsBadMessages) {
  std::vector<uint8_t> buf(512);
  mold::PacketBuilder b(buf.data(), buf.size(), mold::make_session("ORD"), 10);
  ouch::add_message(b, cancel("SEEN", 1));
  ouch::add_message(b, cancel("NEW1", 2));
  const uint8_t short_cancel[5] = {'X', 'A', 'B', 'C', 'D'};
  b.add(short_cancel, sizeof short_cancel);
  const uint8_t unknown[3] = {'Q', 0, 0};
  b.add(unknown, sizeof unknown);
  ouch::add_message(b, cancel("NEW2", 3));
  buf.resize(b.finish());
  const auto wire = exact_copy(buf);
  mold::DownstreamPacket pkt;
  ASSERT_EQ(mold::parse_downstream(wire.get(), buf.size(), pkt), mold::ParseError::kNone);
  Orders h;
  ouch::DecodeCounters c;
  ouch::dispatch_packet<ouch::Direction::kInbound>(pkt, 1, h, c);
  EXPECT_EQ(h.cancels, (std::vector<std::string>{"NEW1          /2", "NEW2          /3"}));
  EXPECT_EQ(c.ok, 2u);
  EXPECT_EQ(c.bad_length, 1u);
  EXPECT_EQ(c.unknown_type, 1u);
  EXPECT_EQ(c.last_error.type, 'Q');
}

// Client -> exchange: three packets of one order each, the second lost. The exchange's tracker reports
// the gap, the exchange sends a request back, the client (which keeps what it sent) recognises it as
// a request for its own stream and re-sends exactly the missing message.
TEST(OrderSessionFraming, LostPacketIsReRequestedFromTheSender) {
  const mold::SessionId session = mold::make_session("ORD0000001");
  std::vector<std::vector<uint8_t>> sent;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    std::vector<uint8_t> buf(256);
    mold::PacketBuilder b(buf.data(), buf.size(), session, seq);
    ouch::add_message(b, cancel(("T" + std::to_string(seq)).c_str(), 0));
    buf.resize(b.finish());
    sent.push_back(buf);
  }

  mold::SequenceTracker exchange_side;
  Orders orders;
  ouch::DecodeCounters counters;
  mold::Gap gap;
  for (const size_t i : {size_t{0}, size_t{2}}) {  // sent[1] lost
    mold::DownstreamPacket pkt;
    ASSERT_EQ(mold::parse_downstream(sent[i].data(), sent[i].size(), pkt), mold::ParseError::kNone);
    const mold::Verdict v = exchange_side.on_packet(pkt.header);
    if (v.gap.count != 0) gap = v.gap;
    ouch::dispatch_packet<ouch::Direction::kInbound>(pkt, v.skip, orders, counters);
  }
  ASSERT_EQ(gap.first, 2u);
  ASSERT_EQ(gap.count, 1u);

  uint8_t req[mold::kHeaderSize];
  mold::encode_request(req, mold::Request{session, gap.first, static_cast<uint16_t>(gap.count)});
  ASSERT_EQ(ouch::classify_datagram(req, sizeof req), ouch::DatagramKind::kRequest);
  mold::Request r;
  ASSERT_TRUE(mold::parse_request(req, sizeof req, r));
  EXPECT_EQ(r.session, session);
  ASSERT_EQ(r.sequence, 2u);
  ASSERT_EQ(r.count, 1u);

  // The client re-sends from its own history; the exchange takes it as the missing message.
  const std::vector<uint8_t>& resent = sent[r.sequence - 1];
  mold::DownstreamPacket pkt;
  ASSERT_EQ(mold::parse_downstream(resent.data(), resent.size(), pkt), mold::ParseError::kNone);
  const mold::Verdict v = exchange_side.on_packet(pkt.header);
  // The tracker does not buffer: a re-sent old packet is a duplicate to it; the caller that asked for
  // the range delivers it from the request it made.
  EXPECT_EQ(v.kind, mold::Verdict::Kind::kDuplicate);
  ouch::dispatch_packet<ouch::Direction::kInbound>(pkt, 0, orders, counters);
  EXPECT_EQ(orders.cancels, (std::vector<std::string>{"T1            /0", "T3            /0", "T2            /0"}));
}

}  // namespace
