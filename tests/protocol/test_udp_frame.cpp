// core/udp_frame: Internet checksum, frame building and frame validation. Expected bytes are laid out
// here at the offsets of IEEE 802.3 / 802.1Q, RFC 791 (IPv4) and RFC 768 (UDP), with a plain 16-bit
// word checksum written for the test, never taken from the code under test.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/udp_frame.hpp"

namespace {

using pmm::net::FrameAddress;
using pmm::net::FrameError;
using pmm::net::UdpView;

// RFC 1071, the obvious way: 16-bit big-endian words, odd byte padded, end-around carry.
uint16_t reference_sum(const std::vector<uint8_t>& bytes, uint32_t sum = 0) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    const uint32_t hi = bytes[i];
    const uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    sum += (hi << 8) | lo;
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

uint16_t get16(const std::vector<uint8_t>& v, size_t at) { return static_cast<uint16_t>(v[at] << 8 | v[at + 1]); }

FrameAddress feed_address() {
  FrameAddress a;
  a.src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  a.dst_mac = {0x01, 0x00, 0x5E, 0x01, 0x01, 0x01};
  a.src_ip = 0x0A000001;  // 10.0.0.1
  a.dst_ip = 0xEF010101;  // 239.1.1.1
  a.src_port = 26401;
  a.dst_port = 26400;
  return a;
}

// A frame written byte by byte at the spec offsets. ip_options: extra 32-bit words of IPv4 options.
struct HandFrame {
  std::vector<uint8_t> bytes;
  size_t ip = 0;   // offset of the IPv4 header
  size_t udp = 0;  // offset of the UDP header
  size_t ihl = 20;

  void fix_ip_checksum() {
    put16(bytes, ip + 10, 0);
    const std::vector<uint8_t> header(bytes.begin() + static_cast<long>(ip), bytes.begin() + static_cast<long>(ip + ihl));
    put16(bytes, ip + 10, static_cast<uint16_t>(~reference_sum(header)));
  }
  void fix_udp_checksum() {
    put16(bytes, udp + 6, 0);
    const uint16_t udp_len = get16(bytes, udp + 4);
    const std::vector<uint8_t> pseudo = {bytes[ip + 12], bytes[ip + 13], bytes[ip + 14], bytes[ip + 15],
                                         bytes[ip + 16], bytes[ip + 17], bytes[ip + 18], bytes[ip + 19],
                                         0, 17, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len)};
    const std::vector<uint8_t> datagram(bytes.begin() + static_cast<long>(udp),
                                        bytes.begin() + static_cast<long>(udp + udp_len));
    uint16_t c = static_cast<uint16_t>(~reference_sum(datagram, reference_sum(pseudo)));
    put16(bytes, udp + 6, c == 0 ? 0xFFFF : c);
  }
};

HandFrame hand_frame(const std::vector<uint8_t>& payload, bool vlan = false, size_t option_words = 0,
                     uint16_t ip_id = 0x1234) {
  const FrameAddress a = feed_address();
  HandFrame f;
  auto& b = f.bytes;
  b.insert(b.end(), a.dst_mac.begin(), a.dst_mac.end());
  b.insert(b.end(), a.src_mac.begin(), a.src_mac.end());
  if (vlan) b.insert(b.end(), {0x81, 0x00, 0x20, 0x64});  // TPID, PCP 1 / VLAN 100
  b.insert(b.end(), {0x08, 0x00});
  f.ip = b.size();
  f.ihl = 20 + 4 * option_words;
  const size_t total = f.ihl + 8 + payload.size();
  b.insert(b.end(), {static_cast<uint8_t>(0x40 | (f.ihl / 4)), 0x00, static_cast<uint8_t>(total >> 8),
                     static_cast<uint8_t>(total), static_cast<uint8_t>(ip_id >> 8), static_cast<uint8_t>(ip_id),
                     0x00, 0x00, 64, 17, 0, 0, 10, 0, 0, 1, 239, 1, 1, 1});
  for (size_t i = 0; i < option_words; ++i) b.insert(b.end(), {0x01, 0x01, 0x01, 0x01});  // NOPs
  f.udp = b.size();
  const size_t udp_len = 8 + payload.size();
  b.insert(b.end(), {0x67, 0x21, 0x67, 0x20, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 0, 0});
  b.insert(b.end(), payload.begin(), payload.end());
  f.fix_ip_checksum();
  f.fix_udp_checksum();
  return f;
}

// out.payload points into `frame`, which must outlive it.
FrameError parse(const std::vector<uint8_t>& frame, UdpView& out) {
  // An exact-size heap copy: a read past the end is a heap overflow a sanitizer build reports.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[frame.size() ? frame.size() : 1]);
  if (!frame.empty()) std::memcpy(copy.get(), frame.data(), frame.size());
  const FrameError e = pmm::net::parse_udp_frame(copy.get(), frame.size(), out);
  if (e == FrameError::kNone) out.payload = frame.data() + (out.payload - copy.get());  // keep it valid
  return e;
}

FrameError parse(const std::vector<uint8_t>& frame) {
  UdpView v;
  return parse(frame, v);
}

std::vector<uint8_t> sample_payload(size_t n) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 37 + 11);
  return p;
}

TEST(InternetChecksum, Rfc1071NumericalExample) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (carry 2 folded in).
  const uint8_t bytes[] = {0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7};
  EXPECT_EQ(pmm::net::ones_complement_sum(bytes, sizeof bytes), 0xDDF2);
  EXPECT_EQ(pmm::net::internet_checksum(bytes, sizeof bytes), 0x220D);
}

TEST(InternetChecksum, KnownIpv4Header) {
  // 192.168.0.1 -> 192.168.0.199, UDP, total length 0x73, DF: the header checksum is b861.
  uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7};
  EXPECT_EQ(pmm::net::internet_checksum(header, sizeof header), 0xB861);
  header[10] = 0xB8;
  header[11] = 0x61;
  EXPECT_EQ(pmm::net::ones_complement_sum(header, sizeof header), 0xFFFF);  // verifies
}

TEST(InternetChecksum, MatchesReferenceForEveryLengthAndAlignment) {
  std::vector<uint8_t> data(301);
  uint32_t x = 12345;
  for (auto& b : data) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
  for (size_t start = 0; start < 4; ++start)
    for (size_t len = 0; start + len <= data.size(); ++len) {
      const std::vector<uint8_t> block(data.begin() + static_cast<long>(start),
                                       data.begin() + static_cast<long>(start + len));
      ASSERT_EQ(pmm::net::ones_complement_sum(data.data() + start, len), reference_sum(block))
          << "start " << start << " len " << len;
    }
  // All ones everywhere: the 64-bit accumulator must not lose carries.
  const std::vector<uint8_t> ones(1500, 0xFF);
  EXPECT_EQ(pmm::net::ones_complement_sum(ones.data(), ones.size()), reference_sum(ones));
  EXPECT_EQ(pmm::net::ones_complement_sum(nullptr, 0), 0);
  EXPECT_EQ(pmm::net::ones_complement_sum(nullptr, 0, 0x1FFFE), 0xFFFF);  // initial folded too
}

TEST(MulticastMac, Rfc1112Mapping) {
  const auto mac = pmm::net::multicast_mac(0xEF810203);  // 239.129.2.3: the top bit of 129 is dropped
  const std::array<uint8_t, 6> expected = {0x01, 0x00, 0x5E, 0x01, 0x02, 0x03};
  EXPECT_EQ(mac, expected);
}

TEST(BuildUdpFrame, HandComputedUdpChecksum) {
  // 10.0.0.1:26401 -> 239.1.1.1:26400, payload "AB". Words: pseudo header 0a00 0001 ef01 0101 0011
  // 000a, UDP header 6721 6720 000a 0000, data 4142; sum 209ab -> 09ad; checksum ~09ad = f652.
  const uint8_t payload[] = {'A', 'B'};
  uint8_t frame[64];
  const size_t n = pmm::net::build_udp_frame(frame, sizeof frame, feed_address(), payload, 2, 7);
  ASSERT_EQ(n, 14u + 20u + 8u + 2u);
  EXPECT_EQ(frame[40], 0xF6);
  EXPECT_EQ(frame[41], 0x52);
}

TEST(BuildUdpFrame, MatchesHandAssembledFrame) {
  for (size_t len : {0u, 1u, 2u, 33u, 1400u}) {
    const std::vector<uint8_t> payload = sample_payload(len);
    const HandFrame want = hand_frame(payload, false, 0, 0xBEEF);
    std::vector<uint8_t> got(want.bytes.size());
    ASSERT_EQ(pmm::net::build_udp_frame(got.data(), got.size(), feed_address(), payload.data(), len, 0xBEEF),
              want.bytes.size());
    EXPECT_EQ(got, want.bytes) << "payload " << len;
  }
}

TEST(BuildUdpFrame, RefusesWhatDoesNotFit) {
  const std::vector<uint8_t> payload = sample_payload(100);
  std::vector<uint8_t> frame(142);
  EXPECT_EQ(pmm::net::build_udp_frame(frame.data(), 141, feed_address(), payload.data(), 100, 0), 0u);
  EXPECT_EQ(pmm::net::build_udp_frame(frame.data(), 142, feed_address(), payload.data(), 100, 0), 142u);
  // The IPv4 total length field caps a datagram at 65535 - 20 - 8 payload bytes.
  std::vector<uint8_t> big(65536);
  std::vector<uint8_t> out(65536 + 64);
  EXPECT_EQ(pmm::net::build_udp_frame(out.data(), out.size(), feed_address(), big.data(), 65508, 0), 0u);
  EXPECT_EQ(pmm::net::build_udp_frame(out.data(), out.size(), feed_address(), big.data(), 65507, 0), 65507u + 42u);
}

TEST(BuildUdpFrame, ComputedZeroChecksumIsSentAsAllOnes) {
  // Two payload bytes chosen so the datagram sums to ffff: the checksum would be 0, which means
  // "no checksum" on the wire, so RFC 768 sends ffff.
  const FrameAddress a = feed_address();
  const std::vector<uint8_t> fixed = {0x0A, 0x00, 0x00, 0x01, 0xEF, 0x01, 0x01, 0x01, 0x00, 0x11, 0x00, 0x0A,
                                      0x67, 0x21, 0x67, 0x20, 0x00, 0x0A, 0x00, 0x00};
  const uint16_t rest = static_cast<uint16_t>(0xFFFF - reference_sum(fixed));
  const uint8_t payload[] = {static_cast<uint8_t>(rest >> 8), static_cast<uint8_t>(rest)};
  std::vector<uint8_t> frame(44);
  ASSERT_EQ(pmm::net::build_udp_frame(frame.data(), frame.size(), a, payload, 2, 0), 44u);
  EXPECT_EQ(get16(frame, 40), 0xFFFF);
  UdpView v;
  EXPECT_EQ(parse(frame, v), FrameError::kNone);
}

TEST(ParseUdpFrame, ValidFrameGivesAddressesAndPayload) {
  const std::vector<uint8_t> payload = sample_payload(57);
  const HandFrame f = hand_frame(payload);
  UdpView v;
  ASSERT_EQ(parse(f.bytes, v), FrameError::kNone);
  const FrameAddress a = feed_address();
  EXPECT_EQ(v.addr.src_mac, a.src_mac);
  EXPECT_EQ(v.addr.dst_mac, a.dst_mac);
  EXPECT_EQ(v.addr.src_ip, a.src_ip);
  EXPECT_EQ(v.addr.dst_ip, a.dst_ip);
  EXPECT_EQ(v.addr.src_port, a.src_port);
  EXPECT_EQ(v.addr.dst_port, a.dst_port);
  ASSERT_EQ(v.len, payload.size());
  EXPECT_EQ(std::vector<uint8_t>(v.payload, v.payload + v.len), payload);
}

TEST(ParseUdpFrame, RoundTripsBuiltFrames) {
  for (size_t len = 0; len < 200; len += 7) {
    const std::vector<uint8_t> payload = sample_payload(len);
    std::vector<uint8_t> frame(len + 42);
    ASSERT_GT(pmm::net::build_udp_frame(frame.data(), frame.size(), feed_address(), payload.data(), len, 1), 0u);
    UdpView v;
    ASSERT_EQ(parse(frame, v), FrameError::kNone) << len;
    EXPECT_EQ(std::vector<uint8_t>(v.payload, v.payload + v.len), payload);
  }
}

TEST(ParseUdpFrame, AcceptsOneVlanTag) {
  const std::vector<uint8_t> payload = sample_payload(20);
  const HandFrame f = hand_frame(payload, true);
  UdpView v;
  ASSERT_EQ(parse(f.bytes, v), FrameError::kNone);
  EXPECT_EQ(std::vector<uint8_t>(v.payload, v.payload + v.len), payload);
}

TEST(ParseUdpFrame, SkipsIpOptions) {
  const std::vector<uint8_t> payload = sample_payload(9);
  const HandFrame f = hand_frame(payload, false, 2);
  UdpView v;
  ASSERT_EQ(parse(f.bytes, v), FrameError::kNone);
  EXPECT_EQ(std::vector<uint8_t>(v.payload, v.payload + v.len), payload);
}

TEST(ParseUdpFrame, IgnoresEthernetPadding) {
  // A 2-byte payload gives a 44-byte frame; on the wire it is padded to the 60-byte minimum.
  const std::vector<uint8_t> payload = {0x41, 0x42};
  HandFrame f = hand_frame(payload);
  f.bytes.resize(60, 0x00);
  UdpView v;
  ASSERT_EQ(parse(f.bytes, v), FrameError::kNone);
  EXPECT_EQ(v.len, 2u);
}

TEST(ParseUdpFrame, ZeroUdpChecksumMeansNone) {
  HandFrame f = hand_frame(sample_payload(30));
  put16(f.bytes, f.udp + 6, 0);
  f.bytes[f.udp + 8] ^= 0xFF;  // would fail a checksum, but there is none
  EXPECT_EQ(parse(f.bytes), FrameError::kNone);
}

TEST(ParseUdpFrame, EveryShortPrefixIsRejectedWithoutReadingPastIt) {
  for (bool vlan : {false, true}) {
    const HandFrame f = hand_frame(sample_payload(40), vlan);
    for (size_t n = 0; n < f.bytes.size(); ++n) {
      const std::vector<uint8_t> prefix(f.bytes.begin(), f.bytes.begin() + static_cast<long>(n));
      const FrameError e = parse(prefix);
      EXPECT_NE(e, FrameError::kNone) << "prefix " << n;
      const size_t headers = (vlan ? 18 : 14) + 20;
      EXPECT_EQ(e, n < headers ? FrameError::kShort : FrameError::kTruncated) << "prefix " << n;
    }
  }
}

TEST(ParseUdpFrame, Short) {
  EXPECT_EQ(parse(std::vector<uint8_t>(13)), FrameError::kShort);
  std::vector<uint8_t> tagged = hand_frame({}, true).bytes;
  tagged.resize(17);  // the tag is there, the inner EtherType is not
  EXPECT_EQ(parse(tagged), FrameError::kShort);
}

TEST(ParseUdpFrame, NotIpv4) {
  HandFrame f = hand_frame(sample_payload(8));
  put16(f.bytes, 12, 0x86DD);  // IPv6
  EXPECT_EQ(parse(f.bytes), FrameError::kNotIpv4);
  HandFrame t = hand_frame(sample_payload(8), true);
  put16(t.bytes, 16, 0x0806);  // ARP inside a VLAN tag
  EXPECT_EQ(parse(t.bytes), FrameError::kNotIpv4);
  put16(t.bytes, 16, 0x8100);  // a second tag (QinQ) is not followed
  EXPECT_EQ(parse(t.bytes), FrameError::kNotIpv4);
}

TEST(ParseUdpFrame, BadIpHeader) {
  HandFrame version = hand_frame(sample_payload(8));
  version.bytes[version.ip] = 0x65;  // version 6
  version.fix_ip_checksum();
  EXPECT_EQ(parse(version.bytes), FrameError::kBadIpHeader);
  HandFrame ihl = hand_frame(sample_payload(8));
  ihl.bytes[ihl.ip] = 0x44;  // 16-byte header
  EXPECT_EQ(parse(ihl.bytes), FrameError::kBadIpHeader);
  HandFrame total = hand_frame(sample_payload(8));
  put16(total.bytes, total.ip + 2, 19);  // shorter than its own header
  total.fix_ip_checksum();
  EXPECT_EQ(parse(total.bytes), FrameError::kBadIpHeader);
}

TEST(ParseUdpFrame, Truncated) {
  HandFrame longer = hand_frame(sample_payload(8));
  put16(longer.bytes, longer.ip + 2, static_cast<uint16_t>(get16(longer.bytes, longer.ip + 2) + 1));
  longer.fix_ip_checksum();
  EXPECT_EQ(parse(longer.bytes), FrameError::kTruncated);
  // IHL 15 (a 60-byte header) and a total length to match, in a frame that ends after 28 bytes of IP.
  HandFrame ihl = hand_frame({});
  ihl.bytes[ihl.ip] = 0x4F;
  put16(ihl.bytes, ihl.ip + 2, 60 + 8);
  EXPECT_EQ(parse(ihl.bytes), FrameError::kTruncated);
}

TEST(ParseUdpFrame, IpChecksum) {
  for (size_t at = 0; at < 20; ++at) {
    if (at == 0 || at == 2 || at == 3) continue;  // version/IHL and total length fail earlier checks
    HandFrame f = hand_frame(sample_payload(8));
    f.bytes[f.ip + at] ^= 0x10;
    EXPECT_EQ(parse(f.bytes), FrameError::kIpChecksum) << "IPv4 header byte " << at;
  }
}

TEST(ParseUdpFrame, Fragmented) {
  HandFrame more = hand_frame(sample_payload(8));
  put16(more.bytes, more.ip + 6, 0x2000);  // MF
  more.fix_ip_checksum();
  EXPECT_EQ(parse(more.bytes), FrameError::kFragmented);
  HandFrame offset = hand_frame(sample_payload(8));
  put16(offset.bytes, offset.ip + 6, 0x0001);  // fragment offset 8 bytes
  offset.fix_ip_checksum();
  EXPECT_EQ(parse(offset.bytes), FrameError::kFragmented);
  HandFrame dont = hand_frame(sample_payload(8));
  put16(dont.bytes, dont.ip + 6, 0x4000);  // DF alone is fine
  dont.fix_ip_checksum();
  EXPECT_EQ(parse(dont.bytes), FrameError::kNone);
}

TEST(ParseUdpFrame, NotUdp) {
  HandFrame f = hand_frame(sample_payload(8));
  f.bytes[f.ip + 9] = 6;  // TCP
  f.fix_ip_checksum();
  EXPECT_EQ(parse(f.bytes), FrameError::kNotUdp);
}

TEST(ParseUdpFrame, BadUdpLength) {
  for (uint16_t udp_len : {uint16_t{0}, uint16_t{7}, uint16_t{15}, uint16_t{17}}) {  // the datagram is 16 bytes
    HandFrame f = hand_frame(sample_payload(8));
    put16(f.bytes, f.udp + 4, udp_len);
    EXPECT_EQ(parse(f.bytes), FrameError::kBadUdpLength) << udp_len;
  }
  // An IPv4 payload too short for a UDP header.
  HandFrame tiny = hand_frame({});
  put16(tiny.bytes, tiny.ip + 2, 20 + 7);
  tiny.fix_ip_checksum();
  EXPECT_EQ(parse(tiny.bytes), FrameError::kBadUdpLength);
}

TEST(ParseUdpFrame, UdpChecksum) {
  const HandFrame good = hand_frame(sample_payload(31));
  for (size_t at = good.udp; at < good.bytes.size(); ++at) {
    if (at == good.udp + 4 || at == good.udp + 5) continue;  // the length fails its own check
    HandFrame f = good;
    f.bytes[at] ^= 0x01;
    if (get16(f.bytes, good.udp + 6) == 0) continue;  // flipped to "no checksum"
    EXPECT_EQ(parse(f.bytes), FrameError::kUdpChecksum) << "byte " << at;
  }
  // The pseudo header covers the addresses: a changed source IP (header checksum fixed) fails UDP.
  HandFrame moved = good;
  moved.bytes[moved.ip + 15] = 2;
  moved.fix_ip_checksum();
  EXPECT_EQ(parse(moved.bytes), FrameError::kUdpChecksum);
}

TEST(FrameError, EveryValueHasText) {
  for (size_t e = 0; e < pmm::net::kFrameErrorCount; ++e) {
    const std::string text = pmm::net::to_string(static_cast<FrameError>(e));
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "?") << e;
  }
}

}  // namespace
