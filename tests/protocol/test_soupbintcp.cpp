// SoupBinTCP 3.00 framing: packets and login packets laid out by hand from shared/specs/soupbintcp.txt
// (section 1.1 logical packet, 3.2 Login Accepted, 3.7 Login Request), and re-framing of a byte stream
// split at every possible point, in exact-size heap buffers.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/soupbintcp.hpp"

namespace {

namespace soup = pmm::soup;

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::unique_ptr<uint8_t[]> exact_copy(const uint8_t* p, size_t n) {
  std::unique_ptr<uint8_t[]> out(new uint8_t[n == 0 ? 1 : n]);
  if (n != 0) std::memcpy(out.get(), p, n);
  return out;
}

TEST(SoupBinTcp, PacketIsLengthTypePayload) {
  const std::vector<uint8_t> payload = bytes_of("X" "TOKEN         " "\x00\x00\x00\x07");
  std::vector<uint8_t> out(64, 0xEE);
  const size_t n = soup::encode_packet(out.data(), out.size(), soup::kUnsequencedData, payload.data(), payload.size());
  ASSERT_EQ(n, 3 + payload.size());
  EXPECT_EQ(out[0], 0x00);  // Packet Length = payload + 1 (the type byte), big-endian
  EXPECT_EQ(out[1], payload.size() + 1);
  EXPECT_EQ(out[2], 'U');
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 3, out.begin() + static_cast<std::ptrdiff_t>(n)), payload);
  EXPECT_EQ(out[n], 0xEE);
}

TEST(SoupBinTcp, PacketThatDoesNotFitIsNotWritten) {
  std::vector<uint8_t> payload(10, 'a');
  std::vector<uint8_t> out(14, 0xEE);
  EXPECT_EQ(soup::encode_packet(out.data(), 12, 'S', payload.data(), payload.size()), 0u);
  for (uint8_t b : out) EXPECT_EQ(b, 0xEE);
  EXPECT_EQ(soup::encode_packet(out.data(), 13, 'S', payload.data(), payload.size()), 13u);
  EXPECT_EQ(out[13], 0xEE);
  // The length field counts the type byte: 65534 payload bytes is the most it can say.
  std::vector<uint8_t> big(soup::kMaxPayload + 1, 'b');
  std::vector<uint8_t> room(big.size() + 3);
  EXPECT_EQ(soup::encode_packet(room.data(), room.size(), 'S', big.data(), big.size()), 0u);
  EXPECT_EQ(soup::encode_packet(room.data(), room.size(), 'S', big.data(), soup::kMaxPayload), 65537u);
  EXPECT_EQ(room[0], 0xFF);
  EXPECT_EQ(room[1], 0xFF);
  // Empty payload: heartbeats, logout.
  EXPECT_EQ(soup::encode_packet(out.data(), out.size(), soup::kServerHeartbeat, nullptr, 0), 3u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(out[2], 'H');
}

TEST(SoupBinTcp, LoginRequestAtTheSpecsOffsets) {  // 3.7: total 49, Packet Length 47
  soup::LoginRequest r;
  std::memcpy(r.username.data(), "user01", 6);
  std::memcpy(r.password.data(), "secret    ", 10);
  std::memcpy(r.session.data(), "SESSION001", 10);
  r.sequence = 18446744073709551615u;  // 20 digits: fills the field
  std::vector<uint8_t> out(soup::kLoginRequestSize + 1, 0xEE);
  ASSERT_EQ(soup::encode_login_request(out.data(), r), 49u);
  const std::string expected = std::string("\x00\x2f", 2) + "L" + "user01" + "secret    " + "SESSION001" +
                               "18446744073709551615";
  EXPECT_EQ(std::string(out.begin(), out.begin() + 49), expected);
  EXPECT_EQ(out[49], 0xEE);

  r.sequence = 1;
  soup::encode_login_request(out.data(), r);
  EXPECT_EQ(std::string(out.begin() + 29, out.begin() + 49), std::string(19, ' ') + "1");
  r.sequence = 0;
  soup::encode_login_request(out.data(), r);
  EXPECT_EQ(std::string(out.begin() + 29, out.begin() + 49), std::string(19, ' ') + "0");
}

TEST(SoupBinTcp, LoginAcceptedAtTheSpecsOffsets) {  // 3.2: total 33, Packet Length 31
  soup::LoginAccepted a;
  std::memcpy(a.session.data(), "  SESS0042", 10);
  a.sequence = 1234567;
  std::vector<uint8_t> out(soup::kLoginAcceptedSize + 1, 0xEE);
  ASSERT_EQ(soup::encode_login_accepted(out.data(), a), 33u);
  const std::string expected = std::string("\x00\x1f", 2) + "A" + "  SESS0042" + std::string(13, ' ') + "1234567";
  EXPECT_EQ(std::string(out.begin(), out.begin() + 33), expected);
  EXPECT_EQ(out[33], 0xEE);
}

// A stream of three packets (one empty) handed over in two pieces, split at every byte: the reader
// says "need more" until the piece holds a whole packet, and yields the same packets for every split.
TEST(SoupBinTcp, ReFramesAStreamSplitAnywhere) {
  std::vector<uint8_t> stream(200);
  size_t used = 0;
  const std::vector<uint8_t> p1 = bytes_of("first payload");
  const std::vector<uint8_t> p3 = bytes_of("third");
  used += soup::encode_packet(stream.data() + used, stream.size() - used, 'S', p1.data(), p1.size());
  used += soup::encode_packet(stream.data() + used, stream.size() - used, 'H', nullptr, 0);
  used += soup::encode_packet(stream.data() + used, stream.size() - used, 'U', p3.data(), p3.size());
  stream.resize(used);

  for (size_t split = 0; split <= stream.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    std::vector<std::string> got;
    std::vector<uint8_t> pending;
    for (const auto& [from, to] : {std::pair<size_t, size_t>{0, split}, {split, stream.size()}}) {
      pending.insert(pending.end(), stream.begin() + static_cast<std::ptrdiff_t>(from),
                     stream.begin() + static_cast<std::ptrdiff_t>(to));
      for (;;) {
        const auto buf = exact_copy(pending.data(), pending.size());
        soup::Packet pkt;
        const soup::FrameStatus st = soup::next_packet(buf.get(), pending.size(), pkt);
        ASSERT_NE(st, soup::FrameStatus::kZeroLength);
        if (st == soup::FrameStatus::kNeedMore) break;
        got.push_back(std::string(1, pkt.type) + ":" +
                      std::string(reinterpret_cast<const char*>(pkt.payload), pkt.payload_len));
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pkt.size));
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"S:first payload", "H:", "U:third"}));
    EXPECT_TRUE(pending.empty());
  }
}

TEST(SoupBinTcp, ZeroLengthFieldIsReported) {
  const uint8_t zero[2] = {0, 0};
  const auto buf = exact_copy(zero, 2);
  soup::Packet pkt;
  EXPECT_EQ(soup::next_packet(buf.get(), 2, pkt), soup::FrameStatus::kZeroLength);
  EXPECT_EQ(soup::next_packet(buf.get(), 1, pkt), soup::FrameStatus::kNeedMore);
  EXPECT_EQ(soup::next_packet(buf.get(), 0, pkt), soup::FrameStatus::kNeedMore);
}

}  // namespace
