// BookBuilder::on_messages (the prefetching software pipeline) and on_packet must have exactly the
// effect of on_message applied one by one: same books, same counters, same changed locates. The
// pipeline only reorders loads, never the updates; this proves it on generated days, on streams
// with malformed messages mixed in, and at every batch length around the pipeline's leads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

struct Stream {
  std::vector<std::vector<uint8_t>> messages;
  std::vector<pmm::MessageRef> refs() const {
    std::vector<pmm::MessageRef> r;
    for (const auto& m : messages) r.push_back({m.data(), static_cast<uint16_t>(m.size())});
    return r;
  }
};

Stream generated_day(uint64_t seed, uint64_t count, uint32_t symbols, uint32_t live) {
  pmm::gen::ItchDayGenerator gen(pmm::gen::DayConfig{seed, count, symbols, live});
  Stream s;
  uint8_t buf[pmm::itch::kMaxMessageLength];
  while (size_t n = gen.next(buf)) s.messages.emplace_back(buf, buf + n);
  return s;
}

// Truncates, lengthens or retypes some messages, and references unknown orders with others.
void damage(Stream& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (auto& m : s.messages) {
    switch (rng() % 64) {
      case 0: m.pop_back(); break;                             // known type, bad length
      case 1: m.push_back(0); break;
      case 2: m[0] = 'Z'; break;                               // unknown type
      case 3: if (m.size() > 18) m[11] ^= 0x40; break;         // another (likely unknown) reference
      case 4: m.clear(); break;                                // empty
      default: break;
    }
  }
}

pmm::book::BookCapacity capacity() {
  pmm::book::BookCapacity c;
  c.max_orders = 1 << 16;
  c.max_levels = 1 << 15;
  c.max_locates = 1024;
  c.level_index_entries = 1 << 17;
  return c;
}

void expect_same(const pmm::BookBuilder& a, const pmm::BookBuilder& b) {
  EXPECT_EQ(a.books().digest(), b.books().digest());
  EXPECT_EQ(a.books().live_orders(), b.books().live_orders());
  EXPECT_EQ(a.books().live_levels(), b.books().live_levels());
  EXPECT_EQ(0, std::memcmp(&a.books().stats(), &b.books().stats(), sizeof(pmm::book::BookStats)));
  EXPECT_EQ(a.stats().messages, b.stats().messages);
  EXPECT_EQ(a.stats().bad_length, b.stats().bad_length);
  EXPECT_EQ(a.stats().unknown_type, b.stats().unknown_type);
  EXPECT_EQ(a.stats().empty_messages, b.stats().empty_messages);
  std::vector<uint16_t> ca(a.changed_locates().begin(), a.changed_locates().end());
  std::vector<uint16_t> cb(b.changed_locates().begin(), b.changed_locates().end());
  std::sort(ca.begin(), ca.end());
  std::sort(cb.begin(), cb.end());
  EXPECT_EQ(ca, cb);
}

class BatchApply : public ::testing::TestWithParam<bool> {};

TEST_P(BatchApply, EqualsOneByOneAtEveryBatchLength) {
  Stream s = generated_day(11, 200'000, 200, 20'000);
  if (GetParam()) damage(s, 5);
  const auto refs = s.refs();
  pmm::BookBuilder one(capacity());
  for (const auto& r : refs) one.on_message(r.data, r.len);
  ASSERT_EQ(one.books().check_invariants(), "");
  if (GetParam()) {
    ASSERT_GT(one.stats().bad_length + one.stats().unknown_type, 1000u);
  }

  // Batch lengths cycle through 1 .. 70, so every position relative to the pipeline's leads occurs.
  pmm::BookBuilder batched(capacity());
  size_t i = 0, len = 1;
  while (i < refs.size()) {
    const size_t n = std::min(len, refs.size() - i);
    batched.on_messages(refs.data() + i, n);
    i += n;
    len = len % 70 + 1;
  }
  ASSERT_EQ(batched.books().check_invariants(), "");
  expect_same(one, batched);

  pmm::BookBuilder whole(capacity());
  whole.on_messages(refs.data(), refs.size());
  expect_same(one, whole);
}

INSTANTIATE_TEST_SUITE_P(CleanAndDamaged, BatchApply, ::testing::Values(false, true));

TEST(BatchApply, PacketsEqualMessages) {
  const Stream s = generated_day(3, 100'000, 100, 10'000);
  pmm::BookBuilder one(capacity());
  for (const auto& m : s.messages) one.on_message(m.data(), m.size());

  pmm::BookBuilder packets(capacity());
  pmm::gen::FeedPacketizer packetizer(pmm::gen::PacketizerConfig{});
  uint64_t applied = 0;
  auto send = [&] {
    const auto pkt = packetizer.packet();
    const pmm::PacketOutcome out = packets.on_packet(pkt.data(), pkt.size());
    ASSERT_EQ(out.error, pmm::mold::ParseError::kNone);
    applied += out.applied;
  };
  for (const auto& m : s.messages)
    if (packetizer.add(m.data(), static_cast<uint16_t>(m.size()))) send();
  if (packetizer.flush()) send();
  EXPECT_EQ(applied, s.messages.size());
  EXPECT_EQ(packets.sequence().stats().gaps, 0u);
  expect_same(one, packets);
}

// on_burst: the same packets handed over in bursts of 1..17 packets.
TEST(BatchApply, BurstsEqualMessages) {
  const Stream s = generated_day(4, 100'000, 100, 10'000);
  pmm::BookBuilder one(capacity());
  for (const auto& m : s.messages) one.on_message(m.data(), m.size());

  std::vector<std::vector<uint8_t>> packets;
  pmm::gen::FeedPacketizer packetizer(pmm::gen::PacketizerConfig{});
  auto keep = [&] {
    const auto pkt = packetizer.packet();
    packets.emplace_back(pkt.begin(), pkt.end());
  };
  for (const auto& m : s.messages)
    if (packetizer.add(m.data(), static_cast<uint16_t>(m.size()))) keep();
  if (packetizer.flush()) keep();

  pmm::BookBuilder bursts(capacity());
  uint64_t applied = 0;
  size_t burst = 1;
  for (size_t i = 0; i < packets.size(); i += burst, burst = burst % 17 + 1) {
    std::vector<pmm::PacketRef> refs;
    for (size_t k = i; k < std::min(packets.size(), i + burst); ++k)
      refs.push_back(pmm::PacketRef{packets[k].data(), packets[k].size()});
    applied += bursts.on_burst(refs.data(), refs.size());
  }
  EXPECT_EQ(applied, s.messages.size());
  expect_same(one, bursts);
}

// on_burst runs one prefetch pipeline across the packets of a burst, so it checks every packet's
// framing and sequence before applying the messages of the packets before it. With malformed,
// repeated, overlapping and missing packets mixed into the bursts it must still do exactly what
// on_packet does packet by packet: same books, counters, sequence verdicts and changed locates.
TEST(BatchApply, BurstsWithBadPacketsEqualPackets) {
  const Stream s = generated_day(6, 60'000, 100, 10'000);
  std::vector<std::vector<uint8_t>> packets;
  pmm::gen::FeedPacketizer packetizer(pmm::gen::PacketizerConfig{});
  auto keep = [&] {
    const auto pkt = packetizer.packet();
    packets.emplace_back(pkt.begin(), pkt.end());
  };
  for (const auto& m : s.messages)
    if (packetizer.add(m.data(), static_cast<uint16_t>(m.size()))) keep();
  if (packetizer.flush()) keep();
  ASSERT_GT(packets.size(), 500u);

  std::mt19937_64 rng(9);
  std::vector<std::vector<uint8_t>> sent;
  size_t dropped = 0, repeated = 0, cut = 0;
  for (size_t i = 0; i < packets.size(); ++i) {
    switch (rng() % 40) {
      case 0: ++dropped; continue;  // a gap
      case 1:                       // sent twice: a duplicate
        sent.push_back(packets[i]);
        ++repeated;
        break;
      case 2:  // a truncated copy (malformed) first, then the packet itself
        sent.emplace_back(packets[i].begin(), packets[i].begin() + static_cast<std::ptrdiff_t>(packets[i].size() / 2));
        ++cut;
        break;
      case 3:  // an old packet again, late
        if (i >= 5) sent.push_back(packets[i - 5]);
        break;
      default: break;
    }
    sent.push_back(packets[i]);
  }
  ASSERT_GT(dropped, 0u);
  ASSERT_GT(repeated, 0u);
  ASSERT_GT(cut, 0u);

  pmm::BookBuilder one(capacity());
  uint64_t applied_one = 0;
  for (const auto& p : sent) applied_one += one.on_packet(p.data(), p.size()).applied;

  pmm::BookBuilder bursts(capacity());
  uint64_t applied = 0;
  size_t burst = 1;
  for (size_t i = 0; i < sent.size(); i += burst, burst = burst % 40 + 1) {
    std::vector<pmm::PacketRef> refs;
    for (size_t k = i; k < std::min(sent.size(), i + burst); ++k) refs.push_back(pmm::PacketRef{sent[k].data(), sent[k].size()});
    applied += bursts.on_burst(refs.data(), refs.size());
  }
  EXPECT_EQ(applied, applied_one);
  EXPECT_LT(applied, s.messages.size());  // the gaps were not filled
  expect_same(one, bursts);
  EXPECT_EQ(one.stats().packets, bursts.stats().packets);
  EXPECT_EQ(one.stats().malformed_packets, bursts.stats().malformed_packets);
  EXPECT_GT(bursts.stats().malformed_packets, 0u);
  const pmm::mold::SequenceStats& a = one.sequence().stats();
  const pmm::mold::SequenceStats& b = bursts.sequence().stats();
  EXPECT_EQ(a.gaps, b.gaps);
  EXPECT_GT(b.gaps, 0u);
  EXPECT_EQ(a.gap_messages, b.gap_messages);
  EXPECT_EQ(a.duplicate_packets, b.duplicate_packets);
  EXPECT_GT(b.duplicate_packets, 0u);
  EXPECT_EQ(a.duplicate_messages, b.duplicate_messages);
  EXPECT_EQ(bursts.books().check_invariants(), "");
}

}  // namespace
