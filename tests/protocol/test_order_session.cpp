// The order session's two halves (core/orders/order_session.hpp). SessionSender: numbering from 1,
// one message per MoldUDP64 packet (bytes laid out by hand from shared/specs/moldudp64.txt: session
// 10, sequence 8, count 2, then length 2 + message), refusals, the retransmission history and its wrap
// (too old: counted, 0), heartbeats. SessionReceiver: delivery, duplicates, out-of-order messages,
// another session, a lost tail revealed by a heartbeat, when it asks (at once, then every retry_ns,
// later after progress) and how much (capped at max_request). Last, a property test: a random lossy,
// duplicating, reordering channel between a sender and a receiver, with the receiver's requests
// answered from the sender's history, delivers every message exactly once, in order, unchanged.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "core/moldudp64.hpp"
#include "core/orders/order_session.hpp"

namespace {

namespace mold = pmm::mold;
using pmm::orders::SessionReceiver;
using pmm::orders::SessionSender;
using Verdict = SessionReceiver::Verdict;
using Bytes = std::vector<uint8_t>;

const mold::SessionId kSession = mold::make_session("ORDERS0001");

void put_be(Bytes& v, uint64_t x, size_t width) {
  for (size_t i = 0; i < width; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * (width - 1 - i))));
}

Bytes message(uint64_t i, size_t len = 12) {
  Bytes m(len);
  for (size_t k = 0; k < len; ++k) m[k] = static_cast<uint8_t>(i * 31 + k);
  return m;
}

// The packet SessionSender must produce for message `m` numbered `seq`, by hand.
Bytes expected_packet(const std::string& session, uint64_t seq, const Bytes& m) {
  Bytes p(session.begin(), session.end());
  p.resize(10, ' ');
  put_be(p, seq, 8);
  put_be(p, 1, 2);
  put_be(p, m.size(), 2);
  p.insert(p.end(), m.begin(), m.end());
  return p;
}

Bytes send(SessionSender& s, const Bytes& m) {
  Bytes out(256);
  const size_t n = s.send(m.data(), static_cast<uint16_t>(m.size()), out.data(), out.size());
  out.resize(n);
  return out;
}

Bytes retransmit(SessionSender& s, uint64_t seq) {
  Bytes out(256);
  out.resize(s.retransmit(seq, out.data(), out.size()));
  return out;
}

const char (&name(const mold::SessionId& id))[10] { return *reinterpret_cast<const char(*)[10]>(id.data()); }

// ---- SessionSender ----

TEST(SessionSender, NumbersFromOneOneMessagePerPacket) {
  SessionSender s(kSession, 8);
  EXPECT_EQ(s.next_sequence(), 1u);
  EXPECT_EQ(s.session(), kSession);
  for (uint64_t i = 1; i <= 5; ++i) {
    const Bytes m = message(i, 10 + i);
    EXPECT_EQ(send(s, m), expected_packet("ORDERS0001", i, m)) << "message " << i;
    EXPECT_EQ(s.next_sequence(), i + 1);
  }
}

TEST(SessionSender, RefusesWithoutNumbering) {
  SessionSender s(kSession, 8);
  Bytes out(256);
  const Bytes m = message(1);
  EXPECT_EQ(s.send(m.data(), 0, out.data(), out.size()), 0u);  // empty
  const Bytes too_long = message(1, SessionSender::kMaxMessage + 1);
  EXPECT_EQ(s.send(too_long.data(), static_cast<uint16_t>(too_long.size()), out.data(), out.size()), 0u);
  // The packet would not fit: header 20 + block length 2 + 12.
  EXPECT_EQ(s.send(m.data(), static_cast<uint16_t>(m.size()), out.data(), 33), 0u);
  EXPECT_EQ(s.next_sequence(), 1u);
  EXPECT_EQ(retransmit(s, 1).size(), 0u);  // nothing was kept either
  // The longest message allowed, in a buffer exactly its packet's size.
  const Bytes longest = message(2, SessionSender::kMaxMessage);
  EXPECT_EQ(s.send(longest.data(), static_cast<uint16_t>(longest.size()), out.data(), 22 + longest.size()),
            22 + longest.size());
  EXPECT_EQ(s.next_sequence(), 2u);
}

TEST(SessionSender, RetransmitsTheOriginalBytes) {
  SessionSender s(kSession, 16);
  std::vector<Bytes> sent(1);
  for (uint64_t i = 1; i <= 10; ++i) sent.push_back(send(s, message(i, 5 + i)));
  for (uint64_t i = 1; i <= 10; ++i) EXPECT_EQ(retransmit(s, i), sent[i]) << "message " << i;
  EXPECT_EQ(retransmit(s, 0).size(), 0u);   // no message 0
  EXPECT_EQ(retransmit(s, 11).size(), 0u);  // not sent yet
  EXPECT_EQ(s.requests_too_old(), 0u);      // neither is "too old"
  Bytes small(21);
  EXPECT_EQ(s.retransmit(3, small.data(), small.size()), 0u);  // does not fit the caller's buffer
  EXPECT_EQ(s.next_sequence(), 11u);  // retransmitting numbers nothing
}

TEST(SessionSender, HistoryWrapForgetsTheOldestAndCountsRequestsForThem) {
  SessionSender s(kSession, 4);
  std::vector<Bytes> sent(1);
  for (uint64_t i = 1; i <= 10; ++i) sent.push_back(send(s, message(i)));
  for (uint64_t i = 1; i <= 6; ++i) EXPECT_EQ(retransmit(s, i).size(), 0u) << "message " << i;
  EXPECT_EQ(s.requests_too_old(), 6u);
  for (uint64_t i = 7; i <= 10; ++i) EXPECT_EQ(retransmit(s, i), sent[i]) << "message " << i;
  EXPECT_EQ(s.requests_too_old(), 6u);
}

TEST(SessionSender, HeartbeatCarriesTheNextSequence) {
  SessionSender s(kSession, 4);
  send(s, message(1));
  send(s, message(2));
  Bytes hb(20);
  ASSERT_EQ(s.heartbeat(hb.data(), hb.size()), 20u);
  Bytes expected(kSession.begin(), kSession.end());
  put_be(expected, 3, 8);
  put_be(expected, 0, 2);
  EXPECT_EQ(hb, expected);
  EXPECT_EQ(s.heartbeat(hb.data(), 19), 0u);
  EXPECT_EQ(s.next_sequence(), 3u);
}

// ---- SessionReceiver ----

constexpr uint64_t kRetry = 1000;

TEST(SessionReceiver, DeliversInOrderAndDropsDuplicates) {
  SessionReceiver r(kRetry, 100);
  EXPECT_EQ(r.expected(), 1u);
  EXPECT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDeliver);
  EXPECT_EQ(r.on_message(name(kSession), 2, 0), Verdict::kDeliver);
  EXPECT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDuplicate);
  EXPECT_EQ(r.on_message(name(kSession), 2, 0), Verdict::kDuplicate);
  EXPECT_EQ(r.on_message(name(kSession), 0, 0), Verdict::kDuplicate);  // 0 is never a message
  EXPECT_EQ(r.on_message(name(kSession), 3, 0), Verdict::kDeliver);
  EXPECT_EQ(r.expected(), 4u);
  EXPECT_EQ(r.counters().delivered, 3u);
  EXPECT_EQ(r.counters().duplicates, 3u);
  EXPECT_EQ(r.counters().gaps, 0u);
  EXPECT_FALSE(r.hole_open());
  mold::Request q;
  EXPECT_FALSE(r.poll(1'000'000, q));
  EXPECT_EQ(r.counters().requests, 0u);
}

TEST(SessionReceiver, OutOfOrderOpensAHoleAskedForAtOnce) {
  SessionReceiver r(kRetry, 100);
  ASSERT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDeliver);
  EXPECT_EQ(r.on_message(name(kSession), 4, 50), Verdict::kOutOfOrder);  // 2 and 3 lost
  EXPECT_EQ(r.on_message(name(kSession), 5, 60), Verdict::kOutOfOrder);  // dropped too: go-back-N
  EXPECT_TRUE(r.hole_open());
  EXPECT_EQ(r.counters().gaps, 1u);
  EXPECT_EQ(r.counters().out_of_order, 2u);
  EXPECT_EQ(r.expected(), 2u);
  mold::Request q;
  ASSERT_TRUE(r.poll(60, q));  // due since the hole opened (50)
  EXPECT_EQ(q.session, kSession);
  EXPECT_EQ(q.sequence, 2u);
  EXPECT_EQ(q.count, 4u);  // 2..5: everything from the hole to the last message seen
  EXPECT_EQ(r.counters().requests, 1u);
  // The answer arrives: each delivered message is progress, the hole closes with the last one.
  for (uint64_t s = 2; s <= 5; ++s) EXPECT_EQ(r.on_message(name(kSession), s, 70), Verdict::kDeliver);
  EXPECT_FALSE(r.hole_open());
  EXPECT_FALSE(r.poll(1'000'000, q));
  EXPECT_EQ(r.counters().gaps, 1u);
  EXPECT_EQ(r.counters().delivered, 5u);
}

TEST(SessionReceiver, AsksAgainEveryRetryAndLaterAfterProgress) {
  SessionReceiver r(kRetry, 100);
  ASSERT_EQ(r.on_message(name(kSession), 10, 100), Verdict::kOutOfOrder);  // 1..9 missing
  mold::Request q;
  EXPECT_FALSE(r.poll(99, q));  // the hole opened at 100
  ASSERT_TRUE(r.poll(100, q));
  EXPECT_EQ(q.sequence, 1u);
  EXPECT_EQ(q.count, 10u);
  EXPECT_FALSE(r.poll(100, q));
  EXPECT_FALSE(r.poll(100 + kRetry - 1, q));
  ASSERT_TRUE(r.poll(100 + kRetry, q));  // no answer: ask again
  EXPECT_EQ(q.sequence, 1u);
  EXPECT_EQ(q.count, 10u);
  EXPECT_EQ(r.counters().requests, 2u);
  // Part of the answer arrives at 1500: the rest is given retry_ns from then before asking again.
  ASSERT_EQ(r.on_message(name(kSession), 1, 1500), Verdict::kDeliver);
  ASSERT_EQ(r.on_message(name(kSession), 2, 1500), Verdict::kDeliver);
  EXPECT_FALSE(r.poll(2100, q));  // the previous request's retry time has passed, but progress was made
  EXPECT_FALSE(r.poll(1500 + kRetry - 1, q));
  ASSERT_TRUE(r.poll(1500 + kRetry, q));
  EXPECT_EQ(q.sequence, 3u);
  EXPECT_EQ(q.count, 8u);
  EXPECT_EQ(r.counters().gaps, 1u);  // still the same hole
}

TEST(SessionReceiver, RequestsAreCappedAtMaxRequest) {
  SessionReceiver r(kRetry, 10);
  ASSERT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDeliver);
  ASSERT_EQ(r.on_message(name(kSession), 100, 0), Verdict::kOutOfOrder);
  mold::Request q;
  ASSERT_TRUE(r.poll(0, q));
  EXPECT_EQ(q.sequence, 2u);
  EXPECT_EQ(q.count, 10u);
  for (uint64_t s = 2; s <= 11; ++s) ASSERT_EQ(r.on_message(name(kSession), s, 10), Verdict::kDeliver);
  EXPECT_TRUE(r.hole_open());
  ASSERT_TRUE(r.poll(10 + kRetry, q));
  EXPECT_EQ(q.sequence, 12u);
  EXPECT_EQ(q.count, 10u);
  // Near the end the request covers just what is missing.
  for (uint64_t s = 12; s <= 95; ++s) ASSERT_EQ(r.on_message(name(kSession), s, 20), Verdict::kDeliver);
  ASSERT_TRUE(r.poll(20 + kRetry, q));
  EXPECT_EQ(q.sequence, 96u);
  EXPECT_EQ(q.count, 5u);  // 96..100
}

TEST(SessionReceiver, HeartbeatRevealsALostTail) {
  SessionReceiver r(kRetry, 100);
  ASSERT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDeliver);
  ASSERT_EQ(r.on_message(name(kSession), 2, 0), Verdict::kDeliver);
  r.on_heartbeat(name(kSession), 3, 10);  // nothing missing
  EXPECT_FALSE(r.hole_open());
  r.on_heartbeat(name(kSession), 1, 10);  // an old heartbeat: nothing
  EXPECT_FALSE(r.hole_open());
  r.on_heartbeat(name(kSession), 5, 20);  // 3 and 4 were sent and never arrived
  EXPECT_TRUE(r.hole_open());
  EXPECT_EQ(r.counters().gaps, 1u);
  mold::Request q;
  ASSERT_TRUE(r.poll(20, q));
  EXPECT_EQ(q.sequence, 3u);
  EXPECT_EQ(q.count, 2u);
  r.on_heartbeat(name(kSession), 5, 30);  // the same hole, not a new one
  EXPECT_EQ(r.counters().gaps, 1u);
  ASSERT_EQ(r.on_message(name(kSession), 3, 40), Verdict::kDeliver);
  ASSERT_EQ(r.on_message(name(kSession), 4, 40), Verdict::kDeliver);
  EXPECT_FALSE(r.hole_open());
}

TEST(SessionReceiver, FirstPacketNamesTheSessionOthersAreDropped) {
  SessionReceiver r(kRetry, 100);
  const mold::SessionId other = mold::make_session("OTHER");
  ASSERT_EQ(r.on_message(name(kSession), 1, 0), Verdict::kDeliver);
  EXPECT_EQ(r.on_message(name(other), 2, 0), Verdict::kWrongSession);
  EXPECT_EQ(r.on_message(name(other), 5, 0), Verdict::kWrongSession);  // no gap from another session
  r.on_heartbeat(name(other), 50, 0);
  EXPECT_EQ(r.counters().wrong_session, 3u);
  EXPECT_FALSE(r.hole_open());
  EXPECT_EQ(r.expected(), 2u);
  EXPECT_EQ(r.on_message(name(kSession), 2, 0), Verdict::kDeliver);
  mold::Request q;
  r.on_heartbeat(name(kSession), 4, 0);
  ASSERT_TRUE(r.poll(0, q));
  EXPECT_EQ(q.session, kSession);  // requests name the session learned first
}

// ---- Both halves over a bad channel ----

TEST(OrderSessionProperty, LossyChannelDeliversEverythingOnceInOrder) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const uint32_t history = 64;
    SessionSender sender(kSession, history);
    // Retry after 30 steps: the wire drains faster than requests fill it.
    SessionReceiver receiver(300, static_cast<uint16_t>(1 + rng() % 16));
    std::deque<Bytes> wire;  // sender -> receiver, reordered a little
    std::vector<Bytes> originals(1);
    std::vector<Bytes> delivered(1);
    const uint64_t total = 200 + rng() % 300;
    const unsigned loss = 5 + static_cast<unsigned>(rng() % 20);  // percent
    uint64_t now = 0;
    const auto put = [&](Bytes p) {
      if (rng() % 100 < loss) return;                     // lost
      if (rng() % 100 < 5) wire.push_back(p);             // duplicated
      if (!wire.empty() && rng() % 100 < 10) wire.insert(wire.end() - 1, std::move(p));  // overtakes one
      else wire.push_back(std::move(p));
    };
    for (int step = 0; step < 200000 && delivered.size() <= total; ++step) {
      now += 10;
      if (sender.next_sequence() <= total && rng() % 3 == 0) {
        // Messages of the window the receiver might still ask for: never ahead of it by more than the
        // history (the appliance keeps 65536; a request older than that is an operating error).
        if (sender.next_sequence() < receiver.expected() + history / 2) {
          originals.push_back(message(sender.next_sequence(), 1 + rng() % 40));
          put(send(sender, originals.back()));
        }
      }
      for (int k = 0; k < 2 && !wire.empty(); ++k) {
        const Bytes p = wire.front();
        wire.pop_front();
        mold::DownstreamPacket pkt;
        ASSERT_EQ(mold::parse_downstream(p.data(), p.size(), pkt), mold::ParseError::kNone);
        if (pkt.is_heartbeat()) {
          receiver.on_heartbeat(name(pkt.header.session), pkt.header.sequence, now);
        } else {
          pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t n) {
            if (receiver.on_message(name(pkt.header.session), seq, now) == Verdict::kDeliver) {
              ASSERT_EQ(seq, delivered.size());
              delivered.emplace_back(m, m + n);
            }
          });
        }
      }
      if (rng() % 50 == 0) {  // heartbeats reveal a lost last message
        Bytes hb(20);
        sender.heartbeat(hb.data(), hb.size());
        put(hb);
      }
      if (mold::Request q; receiver.poll(now, q)) {
        ASSERT_GE(q.sequence, receiver.expected());
        ASSERT_GE(q.count, 1u);
        for (uint64_t s = q.sequence; s < q.sequence + q.count && s < sender.next_sequence(); ++s) {
          Bytes p = retransmit(sender, s);
          ASSERT_FALSE(p.empty()) << "message " << s << " left the history";
          put(std::move(p));
        }
      }
    }
    ASSERT_EQ(delivered.size(), total + 1) << "not everything arrived";
    for (uint64_t i = 1; i <= total; ++i) ASSERT_EQ(delivered[i], originals[i]) << "message " << i;
    EXPECT_EQ(receiver.counters().delivered, total);
    EXPECT_GT(receiver.counters().gaps, 0u);  // the channel did lose messages
    EXPECT_GT(receiver.counters().requests, 0u);
    EXPECT_EQ(sender.requests_too_old(), 0u);
  }
}

}  // namespace
