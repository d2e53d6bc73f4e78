// MoldUDP64 packets built by hand from shared/specs/moldudp64.txt:
//   Downstream Packet Header: Session 0..9 (10), Sequence Number 10..17 (8), Message Count 18..19 (2)
//   Message Block: Message Length (2, excludes itself), then that many bytes of Message Data
//   Message Count 0 = heartbeat, 0xFFFF = end of session; Request Packet has the header's layout.
// Parsed packets sit in heap buffers of exactly their length, so an over-read is an ASan/valgrind error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/moldudp64.hpp"

namespace {

namespace mold = pmm::mold;
using Bytes = std::vector<uint8_t>;

void put_be(Bytes& b, size_t offset, size_t width, uint64_t value) {
  for (size_t i = 0; i < width; ++i) b[offset + i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
}

// 20-byte header; session must be exactly 10 characters.
Bytes header(std::string_view session, uint64_t sequence, uint16_t count) {
  EXPECT_EQ(session.size(), 10u);
  Bytes b(20, 0);
  std::memcpy(b.data(), session.data(), 10);
  put_be(b, 10, 8, sequence);
  put_be(b, 18, 2, count);
  return b;
}

void append_block(Bytes& packet, const Bytes& data) {
  const size_t at = packet.size();
  packet.resize(at + 2 + data.size());
  put_be(packet, at, 2, data.size());
  if (!data.empty()) std::memcpy(packet.data() + at + 2, data.data(), data.size());
}

Bytes payload(size_t len, uint8_t seed) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(seed + 7 * i);
  return b;
}

struct Parsed {
  mold::ParseError error;
  mold::DownstreamPacket packet;
  std::unique_ptr<uint8_t[]> storage;  // keeps packet.blocks valid
};

// Copies the first `len` bytes into an allocation of exactly `len` and parses there.
Parsed parse_exact(const Bytes& bytes, size_t len) {
  Parsed r;
  r.storage.reset(new uint8_t[len]);
  if (len != 0) std::memcpy(r.storage.get(), bytes.data(), len);
  r.error = mold::parse_downstream(r.storage.get(), len, r.packet);
  return r;
}
Parsed parse_exact(const Bytes& bytes) { return parse_exact(bytes, bytes.size()); }

struct Seen {
  uint64_t sequence;
  Bytes data;
  bool operator==(const Seen&) const = default;
};
std::vector<Seen> messages_of(const mold::DownstreamPacket& p, uint16_t skip = 0) {
  std::vector<Seen> out;
  p.for_each_message([&](uint64_t seq, const uint8_t* msg, uint16_t len) { out.push_back({seq, Bytes(msg, msg + len)}); },
                     skip);
  return out;
}

std::string session_text(const mold::SessionId& s) { return std::string(s.data(), s.size()); }

constexpr std::string_view kSession = "ABCDEFGHIJ";  // distinct bytes: a shifted read shows

// A valid packet of three messages, one of them empty, used by several tests.
Bytes three_message_packet(uint64_t first_sequence) {
  Bytes p = header(kSession, first_sequence, 3);
  append_block(p, payload(3, 0x10));
  append_block(p, {});
  append_block(p, payload(7, 0x40));
  return p;
}

// ---------------------------------------------------------------------------------------------

TEST(MoldParse, HeaderFieldsAreReadAtSpecOffsets) {
  const Bytes bytes = three_message_packet(0x0102030405060708);
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  EXPECT_EQ(session_text(r.packet.header.session), "ABCDEFGHIJ");
  EXPECT_EQ(r.packet.header.sequence, 0x0102030405060708u);
  EXPECT_EQ(r.packet.header.count, 3u);
  EXPECT_EQ(r.packet.message_count(), 3u);
  EXPECT_FALSE(r.packet.is_heartbeat());
  EXPECT_FALSE(r.packet.is_end_of_session());
  EXPECT_EQ(r.packet.blocks, r.storage.get() + 20);
  EXPECT_EQ(r.packet.blocks_len, bytes.size() - 20);
  const std::vector<Seen> want = {
      {0x0102030405060708, payload(3, 0x10)}, {0x0102030405060709, {}}, {0x010203040506070A, payload(7, 0x40)}};
  EXPECT_EQ(messages_of(r.packet), want);
}

TEST(MoldParse, MessageCountIsBigEndian) {
  // 0x0102 = 258 blocks; read little-endian it would be 513 and the packet would look truncated.
  Bytes bytes = header(kSession, 1, 0x0102);
  for (int i = 0; i < 0x0102; ++i) append_block(bytes, {});
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  EXPECT_EQ(r.packet.message_count(), 258u);
  EXPECT_EQ(messages_of(r.packet).size(), 258u);
}

TEST(MoldParse, MessageLengthIsBigEndianAndExcludesItself) {
  Bytes bytes = header(kSession, 9, 1);
  append_block(bytes, payload(0x0103, 1));  // 259 bytes: 0x01 0x03 on the wire
  ASSERT_EQ(bytes[20], 0x01);
  ASSERT_EQ(bytes[21], 0x03);
  ASSERT_EQ(bytes.size(), 20u + 2u + 259u);
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  const std::vector<Seen> want = {{9, payload(0x0103, 1)}};
  EXPECT_EQ(messages_of(r.packet), want);
}

TEST(MoldParse, HeartbeatHasNoBlocks) {
  const Bytes bytes = header(kSession, 77, 0);
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  EXPECT_TRUE(r.packet.is_heartbeat());
  EXPECT_FALSE(r.packet.is_end_of_session());
  EXPECT_EQ(r.packet.header.sequence, 77u);
  EXPECT_EQ(r.packet.message_count(), 0u);
  EXPECT_EQ(r.packet.blocks_len, 0u);
  EXPECT_TRUE(messages_of(r.packet).empty());
}

TEST(MoldParse, EndOfSessionHasNoBlocks) {
  const Bytes bytes = header(kSession, 1000, 0xFFFF);
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  EXPECT_TRUE(r.packet.is_end_of_session());
  EXPECT_FALSE(r.packet.is_heartbeat());
  EXPECT_EQ(r.packet.header.count, 0xFFFFu);
  EXPECT_EQ(r.packet.message_count(), 0u);
  EXPECT_TRUE(messages_of(r.packet).empty());
}

TEST(MoldParse, BytesAfterHeartbeatOrEndOfSessionAreTrailing) {
  for (const uint16_t count : {uint16_t{0}, uint16_t{0xFFFF}}) {
    Bytes bytes = header(kSession, 5, count);
    append_block(bytes, payload(4, 0));
    EXPECT_EQ(parse_exact(bytes).error, mold::ParseError::kTrailingBytes) << "count " << count;
  }
}

TEST(MoldParse, ZeroLengthMessagesAreLegal) {
  // "It is variable length and can be zero length."
  Bytes bytes = header(kSession, 50, 3);
  append_block(bytes, {});
  append_block(bytes, payload(5, 0x99));
  append_block(bytes, {});
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  const std::vector<Seen> want = {{50, {}}, {51, payload(5, 0x99)}, {52, {}}};
  EXPECT_EQ(messages_of(r.packet), want);
}

TEST(MoldParse, EveryTruncationIsRejectedWithoutOverRead) {
  const Bytes bytes = three_message_packet(1);
  ASSERT_EQ(parse_exact(bytes).error, mold::ParseError::kNone);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const mold::ParseError want = cut < 20 ? mold::ParseError::kShortHeader : mold::ParseError::kTruncatedBlock;
    EXPECT_EQ(parse_exact(bytes, cut).error, want) << "cut at " << cut << " of " << bytes.size();
  }
}

TEST(MoldParse, TrailingBytesAfterLastCountedBlock) {
  for (const size_t extra : {size_t{1}, size_t{2}, size_t{3}, size_t{100}}) {
    Bytes bytes = three_message_packet(1);
    bytes.resize(bytes.size() + extra, 0);  // zeros look like further empty blocks: still not counted
    EXPECT_EQ(parse_exact(bytes).error, mold::ParseError::kTrailingBytes) << "extra " << extra;
  }
}

TEST(MoldParse, CountDisagreesWithBlocksPresent) {
  Bytes more = three_message_packet(1);
  put_be(more, 18, 2, 4);  // says 4, carries 3
  EXPECT_EQ(parse_exact(more).error, mold::ParseError::kTruncatedBlock);

  Bytes fewer = three_message_packet(1);
  put_be(fewer, 18, 2, 2);  // says 2, carries 3
  EXPECT_EQ(parse_exact(fewer).error, mold::ParseError::kTrailingBytes);

  // The largest count that is not end of session, with one block present.
  Bytes huge = header(kSession, 1, 0xFFFE);
  append_block(huge, payload(1, 0));
  EXPECT_EQ(parse_exact(huge).error, mold::ParseError::kTruncatedBlock);
}

TEST(MoldParse, BlockLengthPastEndOfPacket) {
  Bytes bytes = header(kSession, 1, 1);
  bytes.push_back(0xFF);
  bytes.push_back(0xFF);  // claims 65535 bytes
  const Bytes tail = payload(10, 3);
  bytes.insert(bytes.end(), tail.begin(), tail.end());
  EXPECT_EQ(parse_exact(bytes).error, mold::ParseError::kTruncatedBlock);
}

TEST(MoldParse, SequenceOverflow) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  auto packet = [](uint64_t seq, uint16_t n) {
    Bytes b = header(kSession, seq, n);
    if (n != 0xFFFF)
      for (uint16_t i = 0; i < n; ++i) append_block(b, payload(1, static_cast<uint8_t>(i)));
    return b;
  };
  // Last message numbered kMax - 1: the next expected number kMax still fits.
  EXPECT_EQ(parse_exact(packet(kMax - 2, 2)).error, mold::ParseError::kNone);
  // sequence + count reaches 2^64.
  EXPECT_EQ(parse_exact(packet(kMax - 1, 2)).error, mold::ParseError::kSequenceOverflow);
  EXPECT_EQ(parse_exact(packet(kMax, 1)).error, mold::ParseError::kSequenceOverflow);
  EXPECT_EQ(parse_exact(packet(kMax, 2)).error, mold::ParseError::kSequenceOverflow);
  // No messages: nothing is numbered, so any sequence is fine.
  EXPECT_EQ(parse_exact(packet(kMax, 0)).error, mold::ParseError::kNone);
  EXPECT_EQ(parse_exact(packet(kMax, 0xFFFF)).error, mold::ParseError::kNone);
}

TEST(MoldParse, ForEachMessageWithSkip) {
  const Bytes bytes = three_message_packet(100);
  const Parsed r = parse_exact(bytes);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  const std::vector<Seen> all = {{100, payload(3, 0x10)}, {101, {}}, {102, payload(7, 0x40)}};
  for (uint16_t skip = 0; skip <= 5; ++skip) {
    const std::vector<Seen> want(all.begin() + std::min<size_t>(skip, all.size()), all.end());
    EXPECT_EQ(messages_of(r.packet, skip), want) << "skip " << skip;
  }
}

TEST(MoldParse, ErrorsHaveDistinctDescriptions) {
  std::set<std::string> seen;
  for (const auto e : {mold::ParseError::kNone, mold::ParseError::kShortHeader, mold::ParseError::kTruncatedBlock,
                       mold::ParseError::kTrailingBytes, mold::ParseError::kSequenceOverflow}) {
    const std::string s = mold::to_string(e);
    EXPECT_FALSE(s.empty());
    EXPECT_TRUE(seen.insert(s).second) << s;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoders: compared with hand-built bytes.

TEST(MoldEncode, MakeSessionPadsWithSpaces) {
  EXPECT_EQ(session_text(mold::make_session("S1")), "S1        ");
  EXPECT_EQ(session_text(mold::make_session("ABCDEFGHIJ")), "ABCDEFGHIJ");
  EXPECT_EQ(session_text(mold::make_session("ABCDEFGHIJKL")), "ABCDEFGHIJ");
}

TEST(MoldEncode, HeartbeatAndEndOfSession) {
  const mold::SessionId s = mold::make_session("ABCDEFGHIJ");
  Bytes out(32, 0xEE);
  EXPECT_EQ(mold::encode_heartbeat(out.data(), s, 0x1122334455667788), 20u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 20), header(kSession, 0x1122334455667788, 0));
  EXPECT_EQ(out[20], 0xEE) << "wrote past 20 bytes";

  out.assign(32, 0xEE);
  EXPECT_EQ(mold::encode_end_of_session(out.data(), s, 42), 20u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 20), header(kSession, 42, 0xFFFF));
  EXPECT_EQ(out[20], 0xEE);
}

TEST(MoldBuilder, FillsToCapacityAndRefusesWhatDoesNotFit) {
  const Bytes m1 = payload(10, 1), m2 = payload(0, 0), m3 = payload(21, 3), m4 = payload(1, 4);
  constexpr size_t kCapacity = 20 + (2 + 10) + (2 + 0) + (2 + 21);  // exactly m1..m3
  constexpr size_t kGuard = 8;
  Bytes buf(kCapacity + kGuard, 0xCD);
  mold::PacketBuilder b(buf.data(), kCapacity, mold::make_session("ABCDEFGHIJ"), 0x0A0B0C0D0E0F1011);
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.size(), 20u);
  EXPECT_EQ(b.next_sequence(), 0x0A0B0C0D0E0F1011u);
  EXPECT_TRUE(b.add(m1.data(), 10));
  EXPECT_TRUE(b.add(nullptr, 0));  // an empty message may have no storage at all (UBSan checks memcpy)
  EXPECT_TRUE(b.add(m3.data(), 21));
  EXPECT_EQ(b.size(), kCapacity);
  EXPECT_FALSE(b.add(m4.data(), 1)) << "no room left";
  EXPECT_FALSE(b.add(m2.data(), 0)) << "an empty message still needs its 2-byte length";
  EXPECT_EQ(b.count(), 3u);
  EXPECT_EQ(b.size(), kCapacity);
  EXPECT_EQ(b.next_sequence(), 0x0A0B0C0D0E0F1014u);
  EXPECT_EQ(b.finish(), kCapacity);

  Bytes want = header(kSession, 0x0A0B0C0D0E0F1011, 3);
  append_block(want, m1);
  append_block(want, m2);
  append_block(want, m3);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + kCapacity), want);
  for (size_t i = kCapacity; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xCD) << "wrote past capacity at " << i;

  const Parsed r = parse_exact(want);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  const std::vector<Seen> seen = {{0x0A0B0C0D0E0F1011, m1}, {0x0A0B0C0D0E0F1012, m2}, {0x0A0B0C0D0E0F1013, m3}};
  EXPECT_EQ(messages_of(r.packet), seen);
}

TEST(MoldBuilder, RefusedMessageLeavesPacketUnchangedAndSmallerOneStillFits) {
  constexpr size_t kCapacity = 20 + (2 + 5) + (2 + 3);
  Bytes buf(kCapacity, 0);
  mold::PacketBuilder b(buf.data(), kCapacity, mold::make_session("S"), 7);
  const Bytes a = payload(5, 1), too_big = payload(4, 2), fits = payload(3, 3);
  EXPECT_TRUE(b.add(a.data(), 5));
  EXPECT_FALSE(b.add(too_big.data(), 4));
  EXPECT_EQ(b.count(), 1u);
  EXPECT_EQ(b.size(), 27u);
  EXPECT_TRUE(b.add(fits.data(), 3));
  const size_t n = b.finish();
  Bytes want = header("S         ", 7, 2);
  append_block(want, a);
  append_block(want, fits);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), want);
}

TEST(MoldBuilder, EmptyPacketFinishesAsHeartbeatShape) {
  Bytes buf(20, 0xAA);
  mold::PacketBuilder b(buf.data(), 20, mold::make_session("ABCDEFGHIJ"), 5);
  EXPECT_FALSE(b.add(nullptr, 0));
  EXPECT_EQ(b.finish(), 20u);
  EXPECT_EQ(buf, header(kSession, 5, 0));
}

TEST(MoldBuilder, StopsAt65534MessagesBecause65535MeansEndOfSession) {
  constexpr size_t kMaxCount = 0xFFFE;
  const size_t capacity = 20 + 2 * (kMaxCount + 1);  // room for one more: the count is the limit
  Bytes buf(capacity, 0);
  mold::PacketBuilder b(buf.data(), capacity, mold::make_session("ABCDEFGHIJ"), 1);
  const uint8_t none = 0;
  for (size_t i = 0; i < kMaxCount; ++i) ASSERT_TRUE(b.add(&none, 0)) << i;
  EXPECT_FALSE(b.add(&none, 0));
  EXPECT_EQ(b.count(), kMaxCount);
  const size_t n = b.finish();
  EXPECT_EQ(n, 20 + 2 * kMaxCount);
  EXPECT_EQ(buf[18], 0xFF);
  EXPECT_EQ(buf[19], 0xFE);
  const Parsed r = parse_exact(buf, n);
  ASSERT_EQ(r.error, mold::ParseError::kNone);
  EXPECT_FALSE(r.packet.is_end_of_session());
  EXPECT_EQ(r.packet.message_count(), kMaxCount);
}

// ---------------------------------------------------------------------------------------------
// Request Packet: same 20-byte layout, Requested Message Count at 18..19.

TEST(MoldRequest, EncodeWritesExactlyTwentyBytes) {
  mold::Request req{mold::make_session("ABCDEFGHIJ"), 0x0102030405060708, 0xA1B2};
  Bytes out(28, 0x5A);
  EXPECT_EQ(mold::encode_request(out.data(), req), 20u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 20), header(kSession, 0x0102030405060708, 0xA1B2));
  for (size_t i = 20; i < out.size(); ++i) EXPECT_EQ(out[i], 0x5A) << i;
}

TEST(MoldRequest, ParseExactlyTwentyBytes) {
  const Bytes bytes = header("0123456789", 0xFFFFFFFFFFFFFFFF, 0x0102);
  const auto wire = std::unique_ptr<uint8_t[]>(new uint8_t[20]);
  std::memcpy(wire.get(), bytes.data(), 20);
  mold::Request req;
  ASSERT_TRUE(mold::parse_request(wire.get(), 20, req));
  EXPECT_EQ(session_text(req.session), "0123456789");
  EXPECT_EQ(req.sequence, 0xFFFFFFFFFFFFFFFFu);
  EXPECT_EQ(req.count, 0x0102u);
}

TEST(MoldRequest, WrongLengthIsRejected) {
  Bytes bytes = header(kSession, 1, 1);
  bytes.push_back(0);
  for (const size_t len : {size_t{0}, size_t{1}, size_t{19}, size_t{21}}) {
    const mold::Request before{mold::make_session("UNTOUCHED"), 99, 9};
    mold::Request req = before;
    EXPECT_FALSE(mold::parse_request(bytes.data(), len, req)) << "len " << len;
    EXPECT_EQ(req.session, before.session) << "output written on failure, len " << len;
    EXPECT_EQ(req.sequence, before.sequence);
    EXPECT_EQ(req.count, before.count);
  }
}

TEST(MoldRequest, RoundTrip) {
  const mold::Request req{mold::make_session("RT"), 123456789012345, 65535};
  uint8_t wire[20];
  ASSERT_EQ(mold::encode_request(wire, req), 20u);
  mold::Request back;
  ASSERT_TRUE(mold::parse_request(wire, sizeof wire, back));
  EXPECT_EQ(back.session, req.session);
  EXPECT_EQ(back.sequence, req.sequence);
  EXPECT_EQ(back.count, req.count);
}

}  // namespace
