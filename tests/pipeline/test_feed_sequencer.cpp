// FeedSequencer against the obvious reference: whatever the network does to the packets (drops,
// duplicates, reordering, partial or lost retransmissions) the books must receive exactly the feed's
// book messages, in sequence order, once each; and when a hole is given up, exactly the messages
// outside it. The test plays the network and the retransmission server.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include "core/itch.hpp"
#include "core/moldudp64.hpp"
#include "core/pipeline/feed_sequencer.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

using pmm::pipe::FeedSequencer;
using pmm::pipe::GapRequest;
using pmm::pipe::MdEvent;
using pmm::pipe::MdKind;
using pmm::pipe::SequencerConfig;

using Bytes = std::vector<uint8_t>;
const pmm::mold::SessionId kSession = pmm::mold::make_session("SEQTEST001");

// Generated messages (index i has sequence i + 1), some made malformed: the sequencer must still count
// their sequence numbers but hand none of them to the books.
std::vector<Bytes> feed_messages(uint64_t seed, uint64_t n) {
  pmm::gen::ItchDayGenerator gen(pmm::gen::DayConfig{seed, n, 200, 5000});
  std::mt19937_64 rng(seed ^ 0x5eed);
  std::vector<Bytes> out;
  uint8_t buf[pmm::itch::kMaxMessageLength];
  while (size_t len = gen.next(buf)) {
    Bytes m(buf, buf + len);
    switch (rng() % 97) {
      case 0: m.pop_back(); break;  // bad length
      case 1: m[0] = 'Z'; break;    // unknown type
      default: break;
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The reference: what the books must see, in order.
bool is_book_message(const Bytes& m) {
  if (m.empty()) return false;
  const char t = static_cast<char>(m[0]);
  if (std::string_view("RHAFECXDU").find(t) == std::string_view::npos) return false;
  return pmm::itch::message_length(m[0]) == m.size();
}

Bytes packet(const std::vector<Bytes>& msgs, uint64_t first, uint64_t count) {
  Bytes buf(pmm::mold::kHeaderSize + count * (2 + pmm::itch::kMaxMessageLength));
  pmm::mold::PacketBuilder b(buf.data(), buf.size(), kSession, first);
  for (uint64_t s = first; s < first + count; ++s) {
    const bool ok = b.add(msgs[s - 1].data(), static_cast<uint16_t>(msgs[s - 1].size()));
    EXPECT_TRUE(ok);
  }
  buf.resize(b.finish());
  return buf;
}

Bytes control_packet(uint64_t next, bool end) {
  Bytes buf(pmm::mold::kHeaderSize);
  if (end) pmm::mold::encode_end_of_session(buf.data(), kSession, next);
  else pmm::mold::encode_heartbeat(buf.data(), kSession, next);
  return buf;
}

struct Network {
  double drop = 0, duplicate = 0, reorder = 0, answer_loss = 0, partial_answer = 0;
  std::vector<std::pair<uint64_t, uint64_t>> never_answer;  // [first, end) the server has lost
};

struct Outcome {
  std::vector<std::pair<uint64_t, Bytes>> messages;  // (sequence, bytes) in the order handed on
  std::vector<MdKind> states;
  pmm::pipe::SequencerStats stats;
  bool ended = false, damaged = false, stale = false;
  std::array<uint64_t, 256> by_type{};
};

Outcome run(const std::vector<Bytes>& msgs, const Network& net, const SequencerConfig& cfg, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  FeedSequencer seq(cfg);
  Outcome o;
  std::vector<MdEvent> out(64);
  const auto take = [&](uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      const MdEvent& e = out[i];
      if (e.kind == MdKind::kMessage) o.messages.emplace_back(e.sequence, Bytes(e.message, e.message + e.length));
      else o.states.push_back(e.kind);
      if (e.kind == MdKind::kEndOfSession) o.ended = true;
    }
  };
  const auto offer = [&](const Bytes& p, uint64_t now) {
    pmm::mold::DownstreamPacket d;
    ASSERT_EQ(pmm::mold::parse_downstream(p.data(), p.size(), d), pmm::mold::ParseError::kNone);
    uint32_t n = 0;
    const uint32_t cap = 1 + static_cast<uint32_t>(rng() % out.size());  // small outputs: back-pressure paths
    seq.on_packet(d, now, out.data(), cap, &n);
    take(n);
  };
  // Feed packets of 1..8 messages, then end of session.
  std::deque<Bytes> wire;
  for (uint64_t s = 1; s <= msgs.size();) {
    const uint64_t k = std::min<uint64_t>(1 + rng() % 8, msgs.size() - s + 1);
    wire.push_back(packet(msgs, s, k));
    s += k;
  }
  wire.push_back(control_packet(msgs.size() + 1, true));
  std::multimap<uint64_t, Bytes> answers;  // due time -> retransmitted packet
  uint64_t now = 1;
  for (int step = 0; step < 2'000'000 && !o.ended; ++step, ++now) {
    if (!wire.empty()) {
      Bytes p = std::move(wire.front());
      wire.pop_front();
      const bool is_control = p.size() == pmm::mold::kHeaderSize;
      if (!is_control && u(rng) < net.reorder && !wire.empty()) std::swap(p, wire.front());
      if (is_control || u(rng) >= net.drop) offer(p, now);
      if (!is_control && u(rng) < net.duplicate) offer(p, now);
    } else if (step % 50 == 0) {
      offer(control_packet(msgs.size() + 1, true), now);  // the server repeats end of session
    }
    for (auto it = answers.begin(); it != answers.end() && it->first <= now;) {
      offer(it->second, now);
      it = answers.erase(it);
    }
    if (seq.has_output()) take(seq.drain(out.data(), 1 + static_cast<uint32_t>(rng() % out.size())));
    const GapRequest r = seq.poll(now);
    if (r.count == 0) continue;
    EXPECT_EQ(r.first, seq.next_sequence());
    if (u(rng) < net.answer_loss) continue;
    uint64_t count = r.count;
    if (u(rng) < net.partial_answer) count = 1 + rng() % count;
    for (uint64_t s = r.first; s < r.first + count;) {
      bool lost = false;
      for (const auto& [a, b] : net.never_answer) lost |= s >= a && s < b;
      if (lost) break;  // the server answers up to the lost range
      const uint64_t k = std::min<uint64_t>(1 + rng() % 8, r.first + count - s);
      answers.emplace(now + rng() % 4, packet(msgs, s, k));
      s += k;
    }
  }
  o.stats = seq.stats();
  o.damaged = seq.damaged();
  o.stale = seq.stale();
  o.by_type = seq.by_type();
  return o;
}

std::vector<std::pair<uint64_t, Bytes>> expected(const std::vector<Bytes>& msgs,
                                                  const std::vector<std::pair<uint64_t, uint64_t>>& lost = {}) {
  std::vector<std::pair<uint64_t, Bytes>> e;
  for (uint64_t s = 1; s <= msgs.size(); ++s) {
    bool gone = false;
    for (const auto& [a, b] : lost) gone |= s >= a && s < b;
    if (!gone && is_book_message(msgs[s - 1])) e.emplace_back(s, msgs[s - 1]);
  }
  return e;
}

// Compares without printing megabytes: the first difference is what matters.
::testing::AssertionResult same_messages(const std::vector<std::pair<uint64_t, Bytes>>& got,
                                         const std::vector<std::pair<uint64_t, Bytes>>& want) {
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i].first != want[i].first)
      return ::testing::AssertionFailure() << "message " << i << ": sequence " << got[i].first << ", expected "
                                           << want[i].first;
    if (got[i].second != want[i].second)
      return ::testing::AssertionFailure() << "message " << i << " (sequence " << got[i].first << "): bytes differ";
  }
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " messages, expected " << want.size();
  return ::testing::AssertionSuccess();
}

SequencerConfig config(uint32_t window = 1u << 12) {
  SequencerConfig c;
  c.window_messages = window;
  c.retry_ticks = 20;
  c.max_retries = 1000;
  c.max_request_messages = 100;
  return c;
}

TEST(FeedSequencer, CleanFeedPassesStraightThrough) {
  const auto msgs = feed_messages(1, 20000);
  const Outcome o = run(msgs, Network{}, config(), 11);
  EXPECT_TRUE(same_messages(o.messages, expected(msgs)));
  EXPECT_TRUE(o.ended);
  EXPECT_EQ(o.stats.gaps, 0u);
  EXPECT_EQ(o.stats.requests, 0u);
  EXPECT_EQ(o.states, std::vector<MdKind>{MdKind::kEndOfSession});
}

TEST(FeedSequencer, EveryNetworkFaultEndsWithTheExactFeed) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(seed);
    const auto msgs = feed_messages(seed, 15000);
    Network net;
    net.drop = 0.02 * static_cast<double>(seed % 4);
    net.duplicate = 0.05;
    net.reorder = 0.05;
    net.answer_loss = 0.2;
    net.partial_answer = 0.3;
    const Outcome o = run(msgs, net, config(seed % 2 ? 1u << 12 : 64), seed);
    ASSERT_TRUE(o.ended);
    EXPECT_TRUE(same_messages(o.messages, expected(msgs)));
    EXPECT_EQ(o.stats.gaps, o.stats.gaps_filled);
    EXPECT_EQ(o.stats.messages_lost, 0u);
    EXPECT_FALSE(o.damaged);
    EXPECT_FALSE(o.stale);
    // Every stale is followed by a whole, and the session end comes last.
    int open = 0;
    for (size_t i = 0; i < o.states.size(); ++i) {
      if (o.states[i] == MdKind::kFeedStale) {
        EXPECT_EQ(open++, 0);
      } else if (o.states[i] == MdKind::kFeedWhole) {
        EXPECT_EQ(open--, 1);
      } else if (o.states[i] == MdKind::kEndOfSession) {
        EXPECT_EQ(i, o.states.size() - 1);
      }
    }
    EXPECT_EQ(open, 0);
    if (net.drop > 0) {
      EXPECT_GT(o.stats.gaps, 0u);
    }
  }
}

TEST(FeedSequencer, CountsEveryMessageOnceByTypeAndMalformedApart) {
  const auto msgs = feed_messages(5, 20000);
  Network net;
  net.drop = 0.05;
  net.duplicate = 0.1;
  const Outcome o = run(msgs, net, config(), 5);
  std::array<uint64_t, 256> by_type{};
  uint64_t bad_length = 0, unknown = 0;
  for (const Bytes& m : msgs) {
    const size_t want = pmm::itch::message_length(m[0]);
    if (want == 0) ++unknown;
    if (want != 0 && want != m.size()) ++bad_length;
    else ++by_type[m[0]];
  }
  EXPECT_EQ(o.by_type, by_type);
  EXPECT_EQ(o.stats.bad_length, bad_length);
  EXPECT_EQ(o.stats.unknown_type, unknown);
  EXPECT_EQ(o.stats.delivered, msgs.size());
  EXPECT_GT(o.stats.duplicates, 0u);
}

TEST(FeedSequencer, AHoleTheServerLostIsGivenUpAndTheBooksStayStale) {
  // Packets of 10 from sequence 1; those touching [4000, 4100) never arrive and are never answered.
  const auto msgs = feed_messages(3, 10000);
  SequencerConfig c = config(1u << 14);  // holds everything after the hole: no overflow holes
  c.max_retries = 3;
  FeedSequencer seq(c);
  Outcome o;
  std::vector<MdEvent> out(256);
  uint64_t now = 1;
  const auto take = [&](uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      if (out[i].kind == MdKind::kMessage)
        o.messages.emplace_back(out[i].sequence, Bytes(out[i].message, out[i].message + out[i].length));
      else o.states.push_back(out[i].kind);
    }
  };
  const auto offer = [&](const Bytes& p) {
    pmm::mold::DownstreamPacket d;
    ASSERT_EQ(pmm::mold::parse_downstream(p.data(), p.size(), d), pmm::mold::ParseError::kNone);
    uint32_t n = 0;
    seq.on_packet(d, now, out.data(), static_cast<uint32_t>(out.size()), &n);
    take(n);
  };
  for (uint64_t s = 1; s <= msgs.size(); s += 10) {
    const uint64_t k = std::min<uint64_t>(10, msgs.size() - s + 1);
    if (s + k > 4000 && s < 4100) continue;
    offer(packet(msgs, s, k));
  }
  offer(control_packet(msgs.size() + 1, true));
  int requests = 0;
  for (int i = 0; i < 100000 && !seq.end_of_session(); ++i, now += 7) {
    if (seq.has_output()) take(seq.drain(out.data(), static_cast<uint32_t>(out.size())));
    if (seq.poll(now).count != 0) ++requests;
  }
  ASSERT_TRUE(seq.end_of_session());
  EXPECT_EQ(requests, 1 + 3);  // the first request and max_retries re-requests
  EXPECT_TRUE(seq.damaged());
  EXPECT_TRUE(seq.stale());
  EXPECT_EQ(seq.stats().gaps_unrecovered, 1u);
  EXPECT_EQ(seq.stats().messages_lost, 110u);  // [3991, 4101): the packets touching the range
  EXPECT_TRUE(same_messages(o.messages, expected(msgs, {{3991, 4101}})));
  ASSERT_FALSE(o.states.empty());
  EXPECT_EQ(o.states.front(), MdKind::kFeedStale);
  EXPECT_EQ(std::count(o.states.begin(), o.states.end(), MdKind::kFeedWhole), 0);
  EXPECT_EQ(o.states.back(), MdKind::kEndOfSession);
}

TEST(FeedSequencer, ATailGapAnnouncedOnlyByTheEndOfSessionIsRequested) {
  const auto msgs = feed_messages(4, 1000);
  FeedSequencer seq(config());
  std::vector<MdEvent> out(2048);
  uint32_t n = 0;
  pmm::mold::DownstreamPacket d;
  const Bytes first = packet(msgs, 1, 900);
  ASSERT_EQ(pmm::mold::parse_downstream(first.data(), first.size(), d), pmm::mold::ParseError::kNone);
  seq.on_packet(d, 1, out.data(), 2048, &n);
  EXPECT_EQ(seq.poll(2).count, 0);  // nothing is known to be missing yet
  const Bytes eos = control_packet(1001, true);
  ASSERT_EQ(pmm::mold::parse_downstream(eos.data(), eos.size(), d), pmm::mold::ParseError::kNone);
  seq.on_packet(d, 3, out.data(), 2048, &n);
  const GapRequest r = seq.poll(4);
  EXPECT_EQ(r.first, 901u);
  EXPECT_EQ(r.count, 100);
  EXPECT_FALSE(seq.end_of_session());
}

TEST(FeedSequencer, AnAnswerStillArrivingIsNotAskedForAgain) {
  // A hole of 500 messages answered 10 at a time, each packet half a retry interval after the last:
  // one request, not one per retry interval (that would fetch the same messages over and over).
  const auto msgs = feed_messages(8, 2000);
  SequencerConfig c = config();
  c.retry_ticks = 100;
  c.max_request_messages = 1000;
  FeedSequencer seq(c);
  std::vector<MdEvent> out(4096);
  const auto offer = [&](uint64_t first, uint64_t count, uint64_t now) {
    const Bytes p = packet(msgs, first, count);
    pmm::mold::DownstreamPacket d;
    ASSERT_EQ(pmm::mold::parse_downstream(p.data(), p.size(), d), pmm::mold::ParseError::kNone);
    uint32_t n = 0;
    seq.on_packet(d, now, out.data(), static_cast<uint32_t>(out.size()), &n);
  };
  uint64_t now = 1;
  offer(1, 100, now);
  offer(601, 100, now);  // [101, 601) missing
  GapRequest r = seq.poll(++now);
  ASSERT_EQ(r.first, 101u);
  ASSERT_EQ(r.count, 500);
  int requests = 1;
  for (uint64_t s = 101; s < 601; s += 10) {
    now += 50;
    offer(s, 10, now);
    if (seq.has_output()) seq.drain(out.data(), static_cast<uint32_t>(out.size()));
    if (seq.poll(now).count != 0) ++requests;
  }
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(seq.stats().gaps, 1u);
  EXPECT_EQ(seq.stats().gaps_filled, 1u);
  EXPECT_EQ(seq.next_sequence(), 701u);
}

TEST(FeedSequencer, AnotherSessionIsRefused) {
  const auto msgs = feed_messages(6, 100);
  FeedSequencer seq(config());
  std::vector<MdEvent> out(256);
  uint32_t n = 0;
  pmm::mold::DownstreamPacket d;
  const Bytes p = packet(msgs, 1, 10);
  ASSERT_EQ(pmm::mold::parse_downstream(p.data(), p.size(), d), pmm::mold::ParseError::kNone);
  EXPECT_TRUE(seq.on_packet(d, 1, out.data(), 256, &n));
  d.header.session = pmm::mold::make_session("OTHER00001");
  d.header.sequence = 11;
  EXPECT_FALSE(seq.on_packet(d, 1, out.data(), 256, &n));
  EXPECT_EQ(seq.stats().wrong_session, 1u);
  EXPECT_EQ(seq.next_sequence(), 11u);
}

TEST(FeedSequencer, RejectsBadConfiguration) {
  SequencerConfig c = config();
  c.window_messages = 1000;
  EXPECT_THROW(FeedSequencer{c}, std::invalid_argument);
  c = config();
  c.max_request_messages = 0;
  EXPECT_THROW(FeedSequencer{c}, std::invalid_argument);
}

}  // namespace
