// The MoldUDP64 retransmission server against a history filled by hand with synthetic messages (so
// every expected byte is computed here): answers hold exactly the requested messages within the
// packet limits; malformed, wrong-session and random datagrams are counted and ignored; requests
// beyond what the history holds are answered with what exists and counted; counts are capped.
#include <gtest/gtest.h>

#include <random>

#include "tests/sim/sim_fixture.hpp"

namespace pmm::sim::test {
namespace {

// Message `sequence`: 0..46 bytes (empty ones included), content derived from the sequence.
Bytes synthetic(uint64_t sequence) {
  Bytes m(sequence % 47);
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(sequence * 31 + i);
  return m;
}

const mold::SessionId kSession = mold::make_session("RETRANS001");

struct ServerUnderTest {
  MessageHistory history;
  std::unique_ptr<RetransmissionServer> server;
  DatagramCollector receiver;

  ServerUnderTest(uint64_t capacity, uint64_t stored, uint64_t published, RetransConfig config = RetransConfig{})
      : history(capacity, itch::kMaxMessageLength) {
    for (uint64_t s = 1; s <= stored; ++s) {
      const Bytes m = synthetic(s);
      history.store(s, m.data(), static_cast<uint16_t>(m.size()));
    }
    history.publish(published + 1);
    config.session = kSession;
    config.listen = Endpoint{kLoopback, 0};
    std::string error;
    server = RetransmissionServer::create(config, history, error);
    if (!server) throw std::runtime_error(error);
    server->start();
  }

  void send(const Bytes& datagram) const {
    ASSERT_EQ(receiver.socket().send_to(datagram.data(), datagram.size(), server->local_endpoint()), 0);
  }
  void request(uint64_t sequence, uint16_t count, const mold::SessionId& session = kSession) const {
    Bytes req(mold::kHeaderSize);
    mold::encode_request(req.data(), mold::Request{session, sequence, count});
    send(req);
  }
  // Waits until the server has handled `requests` datagrams and its answers have all arrived.
  std::vector<Bytes> answers_after(uint64_t requests) const {
    EXPECT_TRUE(eventually([&] { return server->stats().requests == requests; }));
    EXPECT_TRUE(eventually([&] { return receiver.size() == server->stats().packets_sent; }));
    std::vector<Bytes> out;
    for (const Datagram& d : receiver.datagrams()) out.push_back(d.bytes);
    return out;
  }
};

// Checks every answer packet (well formed, in the limits, our session) and returns its messages by
// sequence number, in order.
std::vector<std::pair<uint64_t, Bytes>> messages_of(const std::vector<Bytes>& packets, size_t max_payload = 1400,
                                                    uint16_t max_messages = 64) {
  std::vector<std::pair<uint64_t, Bytes>> out;
  for (const Bytes& b : packets) {
    mold::DownstreamPacket p;
    EXPECT_EQ(mold::parse_downstream(b.data(), b.size(), p), mold::ParseError::kNone);
    EXPECT_LE(b.size(), max_payload);
    EXPECT_GE(p.header.count, 1u);
    EXPECT_LE(p.header.count, max_messages);
    EXPECT_EQ(session_of(b), std::string(kSession.data(), 10));
    p.for_each_message([&](uint64_t s, const uint8_t* m, uint16_t n) { out.emplace_back(s, Bytes(m, m + n)); });
  }
  return out;
}

void expect_messages(const std::vector<std::pair<uint64_t, Bytes>>& got, uint64_t first, uint64_t count) {
  ASSERT_EQ(got.size(), count);
  for (uint64_t i = 0; i < count; ++i) {
    EXPECT_EQ(got[i].first, first + i);
    EXPECT_EQ(got[i].second, synthetic(first + i)) << "sequence " << first + i;
  }
}

TEST(Retransmission, AnswersCarryExactlyTheRequestedMessagesWithinThePacketLimits) {
  RetransConfig config;
  config.max_payload = 400;
  config.max_messages = 20;
  ServerUnderTest t(5000, 5000, 5000, config);
  t.request(100, 500);
  t.request(4990, 11);
  const std::vector<Bytes> answers = t.answers_after(2);
  const auto got = messages_of(answers, 400, 20);
  ASSERT_EQ(got.size(), 511u);
  expect_messages({got.begin(), got.begin() + 500}, 100, 500);
  expect_messages({got.begin() + 500, got.end()}, 4990, 11);
  const RetransStats s = t.server->stats();
  EXPECT_EQ(s.messages_sent, 511u);
  EXPECT_EQ(s.packets_sent, answers.size());
  EXPECT_GE(answers.size(), 500u / 20 + 1);
  EXPECT_EQ(s.out_of_range + s.capped + s.malformed + s.wrong_session + s.send_errors, 0u);
}

TEST(Retransmission, MalformedAndWrongSessionRequestsAreCountedAndIgnored) {
  ServerUnderTest t(1000, 1000, 1000);
  Bytes valid(mold::kHeaderSize);
  mold::encode_request(valid.data(), mold::Request{kSession, 10, 3});
  const Bytes too_long = [&] { Bytes b = valid; b.push_back(0); return b; }();
  t.send({});                                       // empty datagram
  t.send(Bytes(valid.begin(), valid.end() - 1));    // 19 bytes
  t.send(too_long);                                 // 21 bytes
  t.send(Bytes(60000, 0x41));                       // a large one
  t.request(0, 5);                                  // sequence 0 does not exist
  t.request(10, 0);                                 // nothing asked for
  t.request(10, 3, mold::make_session("OTHERSESS1"));
  t.request(10, 3, mold::make_session("retrans001"));  // sessions compare byte for byte
  // Random datagrams: any length 0..40, any bytes.
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    Bytes junk(rng() % 41);
    for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
    t.send(junk);
  }
  t.request(10, 3);  // still served
  const std::vector<Bytes> answers = t.answers_after(9 + 300);
  expect_messages(messages_of(answers), 10, 3);
  const RetransStats s = t.server->stats();
  EXPECT_EQ(s.requests, 309u);
  EXPECT_EQ(s.malformed + s.wrong_session, 308u);
  EXPECT_GE(s.malformed, 6u);
  EXPECT_GE(s.wrong_session, 2u);
  EXPECT_EQ(s.packets_sent, 1u);
  EXPECT_EQ(s.messages_sent, 3u);
}

TEST(Retransmission, RequestsBeyondTheHistoryAreAnsweredWithWhatExistsAndCounted) {
  ServerUnderTest t(1000, 1000, 1000);
  t.request(995, 20);   // 995..1000 exist
  t.request(2000, 5);   // nothing published there
  t.request(1001, 1);   // just past the end
  t.request(UINT64_MAX, 2);  // sequence + count would wrap
  t.request(1, 2);      // in range
  const auto got = messages_of(t.answers_after(5));
  ASSERT_EQ(got.size(), 8u);
  expect_messages({got.begin(), got.begin() + 6}, 995, 6);
  expect_messages({got.begin() + 6, got.end()}, 1, 2);
  const RetransStats s = t.server->stats();
  EXPECT_EQ(s.out_of_range, 4u);
  EXPECT_EQ(s.capped, 0u);
  EXPECT_EQ(s.malformed, 0u);
}

TEST(Retransmission, StoredButUnpublishedMessagesAreNotServed) {
  ServerUnderTest t(100, 50, 39);
  t.request(35, 10);
  expect_messages(messages_of(t.answers_after(1)), 35, 5);
  EXPECT_EQ(t.server->stats().out_of_range, 1u);
}

TEST(Retransmission, ABoundedHistoryKeepsOnlyTheLatestMessages) {
  ServerUnderTest t(300, 1000, 1000);  // keeps 701..1000
  t.request(650, 100);
  t.request(1, 10);
  t.request(900, 101);
  t.request(700, 1);
  const auto got = messages_of(t.answers_after(4));
  ASSERT_EQ(got.size(), 49u + 101u);
  expect_messages({got.begin(), got.begin() + 49}, 701, 49);
  expect_messages({got.begin() + 49, got.end()}, 900, 101);
  EXPECT_EQ(t.server->stats().out_of_range, 3u);
}

TEST(Retransmission, CountsAreCappedByMessagesAndPackets) {
  RetransConfig by_messages;
  by_messages.max_request_messages = 100;
  ServerUnderTest a(1000, 1000, 1000, by_messages);
  a.request(1, 300);
  a.request(500, 100);  // exactly the cap: not capped
  const auto got = messages_of(a.answers_after(2));
  ASSERT_EQ(got.size(), 200u);
  expect_messages({got.begin(), got.begin() + 100}, 1, 100);
  expect_messages({got.begin() + 100, got.end()}, 500, 100);
  EXPECT_EQ(a.server->stats().capped, 1u);
  EXPECT_EQ(a.server->stats().out_of_range, 0u);

  // The spec's behaviour: one packet, as many messages as fit; the receiver asks again for the rest.
  RetransConfig one_packet;
  one_packet.max_response_packets = 1;
  ServerUnderTest b(1000, 1000, 1000, one_packet);
  b.request(1, 300);
  b.request(301, 10);
  const std::vector<Bytes> answers = b.answers_after(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(count_of(answers[0]), 64u);
  const auto got_b = messages_of(answers);
  expect_messages({got_b.begin(), got_b.begin() + 64}, 1, 64);
  expect_messages({got_b.begin() + 64, got_b.end()}, 301, 10);
  EXPECT_EQ(b.server->stats().capped, 1u);
}

TEST(Retransmission, RefusesAHistoryWhoseMessagesDoNotFitItsPackets) {
  MessageHistory history(10, 2000);
  RetransConfig config;
  config.listen = Endpoint{kLoopback, 0};
  std::string error;
  EXPECT_EQ(RetransmissionServer::create(config, history, error), nullptr);
  EXPECT_NE(error.find("1400"), std::string::npos) << error;
}

}  // namespace
}  // namespace pmm::sim::test
