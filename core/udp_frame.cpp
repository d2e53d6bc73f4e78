#include "core/udp_frame.hpp"

#include <cstring>

#include "core/byte_order.hpp"

namespace pmm::net {

namespace {

// IPv4 header offsets (RFC 791), relative to the start of the IP header.
constexpr size_t kIpVersionIhl = 0;
constexpr size_t kIpTotalLength = 2;
constexpr size_t kIpId = 4;
constexpr size_t kIpFlagsFragment = 6;
constexpr size_t kIpTtl = 8;
constexpr size_t kIpProtocol = 9;
constexpr size_t kIpChecksum = 10;
constexpr size_t kIpSrc = 12;
constexpr size_t kIpDst = 16;
constexpr uint16_t kIpMoreFragments = 0x2000;
constexpr uint16_t kIpFragmentOffsetMask = 0x1FFF;

// UDP header offsets (RFC 768), relative to the start of the UDP header.
constexpr size_t kUdpSrcPort = 0;
constexpr size_t kUdpDstPort = 2;
constexpr size_t kUdpLength = 4;
constexpr size_t kUdpChecksum = 6;

constexpr size_t kMaxIpTotalLength = 65535;

uint16_t fold(uint64_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The UDP pseudo header (source, destination, zero, protocol, UDP length) as one partial sum.
uint32_t pseudo_header_sum(uint32_t src_ip, uint32_t dst_ip, uint16_t udp_length) noexcept {
  return (src_ip >> 16) + (src_ip & 0xFFFF) + (dst_ip >> 16) + (dst_ip & 0xFFFF) + kIpProtocolUdp +
         udp_length;
}

}  // namespace

std::array<uint8_t, 6> multicast_mac(uint32_t group_ip) noexcept {
  return {0x01, 0x00, 0x5E, static_cast<uint8_t>((group_ip >> 16) & 0x7F),
          static_cast<uint8_t>(group_ip >> 8), static_cast<uint8_t>(group_ip)};
}

uint16_t ones_complement_sum(const uint8_t* p, size_t len, uint32_t initial) noexcept {
  // Summing 32-bit big-endian words is equivalent: 2^16 == 1 in one's-complement arithmetic, so a
  // word hi:lo adds hi + lo after folding. 64 bits cannot overflow for any frame-sized block.
  uint64_t sum = initial;
  size_t i = 0;
  for (; i + 4 <= len; i += 4) sum += load_be32(p + i);
  if (i + 2 <= len) {
    sum += load_be16(p + i);
    i += 2;
  }
  if (i < len) sum += uint32_t{p[i]} << 8;
  return fold(sum);
}

size_t build_udp_frame(uint8_t* out, size_t cap, const FrameAddress& addr, const uint8_t* payload,
                       size_t len, uint16_t ip_id) noexcept {
  if (len > kMaxIpTotalLength - kIpv4HeaderSize - kUdpHeaderSize) return 0;
  const size_t frame_len = kUdpFrameOverhead + len;
  if (frame_len > cap) return 0;

  std::memcpy(out, addr.dst_mac.data(), 6);
  std::memcpy(out + 6, addr.src_mac.data(), 6);
  store_be16(out + 12, kEtherTypeIpv4);

  uint8_t* ip = out + kEthernetHeaderSize;
  ip[kIpVersionIhl] = 0x45;  // version 4, 5 32-bit words
  ip[1] = 0;                 // DSCP / ECN
  store_be16(ip + kIpTotalLength, static_cast<uint16_t>(kIpv4HeaderSize + kUdpHeaderSize + len));
  store_be16(ip + kIpId, ip_id);
  store_be16(ip + kIpFlagsFragment, 0);
  ip[kIpTtl] = 64;
  ip[kIpProtocol] = kIpProtocolUdp;
  store_be16(ip + kIpChecksum, 0);
  store_be32(ip + kIpSrc, addr.src_ip);
  store_be32(ip + kIpDst, addr.dst_ip);
  store_be16(ip + kIpChecksum, internet_checksum(ip, kIpv4HeaderSize));

  uint8_t* udp = ip + kIpv4HeaderSize;
  const auto udp_len = static_cast<uint16_t>(kUdpHeaderSize + len);
  store_be16(udp + kUdpSrcPort, addr.src_port);
  store_be16(udp + kUdpDstPort, addr.dst_port);
  store_be16(udp + kUdpLength, udp_len);
  store_be16(udp + kUdpChecksum, 0);
  if (len != 0) std::memcpy(udp + kUdpHeaderSize, payload, len);
  const uint16_t sum = ones_complement_sum(udp, udp_len, pseudo_header_sum(addr.src_ip, addr.dst_ip, udp_len));
  uint16_t checksum = static_cast<uint16_t>(~sum);
  if (checksum == 0) checksum = 0xFFFF;  // RFC 768: a computed zero is sent as all ones; 0 means "none"
  store_be16(udp + kUdpChecksum, checksum);
  return frame_len;
}

const char* to_string(FrameError e) noexcept {
  switch (e) {
    case FrameError::kNone: return "ok";
    case FrameError::kShort: return "frame shorter than Ethernet + IPv4 headers";
    case FrameError::kNotIpv4: return "EtherType is not IPv4";
    case FrameError::kBadIpHeader: return "bad IPv4 header (version, IHL or total length)";
    case FrameError::kIpChecksum: return "IPv4 header checksum mismatch";
    case FrameError::kFragmented: return "IPv4 fragment";
    case FrameError::kNotUdp: return "IPv4 protocol is not UDP";
    case FrameError::kBadUdpLength: return "UDP length does not match the IPv4 payload";
    case FrameError::kUdpChecksum: return "UDP checksum mismatch";
    case FrameError::kTruncated: return "IPv4 packet runs past the end of the frame";
  }
  return "?";
}

FrameError parse_udp_frame(const uint8_t* frame, size_t len, UdpView& out) noexcept {
  if (len < kEthernetHeaderSize) return FrameError::kShort;
  size_t l3 = kEthernetHeaderSize;
  uint16_t ether_type = load_be16(frame + 12);
  if (ether_type == kEtherTypeVlan) {
    if (len < kEthernetHeaderSize + kVlanTagSize) return FrameError::kShort;
    ether_type = load_be16(frame + 16);
    l3 += kVlanTagSize;
  }
  if (ether_type != kEtherTypeIpv4) return FrameError::kNotIpv4;
  if (len - l3 < kIpv4HeaderSize) return FrameError::kShort;

  const uint8_t* ip = frame + l3;
  const size_t available = len - l3;
  if ((ip[kIpVersionIhl] >> 4) != 4) return FrameError::kBadIpHeader;
  const size_t ihl = size_t{ip[kIpVersionIhl] & 0x0Fu} * 4;
  if (ihl < kIpv4HeaderSize) return FrameError::kBadIpHeader;
  const size_t total = load_be16(ip + kIpTotalLength);
  if (total < ihl) return FrameError::kBadIpHeader;
  if (ihl > available || total > available) return FrameError::kTruncated;
  // A header that includes its own checksum sums to all ones.
  if (ones_complement_sum(ip, ihl) != 0xFFFF) return FrameError::kIpChecksum;
  const uint16_t flags_fragment = load_be16(ip + kIpFlagsFragment);
  if ((flags_fragment & (kIpMoreFragments | kIpFragmentOffsetMask)) != 0) return FrameError::kFragmented;
  if (ip[kIpProtocol] != kIpProtocolUdp) return FrameError::kNotUdp;

  const size_t ip_payload = total - ihl;
  if (ip_payload < kUdpHeaderSize) return FrameError::kBadUdpLength;
  const uint8_t* udp = ip + ihl;
  const uint16_t udp_len = load_be16(udp + kUdpLength);
  if (udp_len < kUdpHeaderSize || udp_len != ip_payload) return FrameError::kBadUdpLength;
  const uint32_t src_ip = load_be32(ip + kIpSrc);
  const uint32_t dst_ip = load_be32(ip + kIpDst);
  if (load_be16(udp + kUdpChecksum) != 0 &&
      ones_complement_sum(udp, udp_len, pseudo_header_sum(src_ip, dst_ip, udp_len)) != 0xFFFF)
    return FrameError::kUdpChecksum;

  std::memcpy(out.addr.dst_mac.data(), frame, 6);
  std::memcpy(out.addr.src_mac.data(), frame + 6, 6);
  out.addr.src_ip = src_ip;
  out.addr.dst_ip = dst_ip;
  out.addr.src_port = load_be16(udp + kUdpSrcPort);
  out.addr.dst_port = load_be16(udp + kUdpDstPort);
  out.payload = udp + kUdpHeaderSize;
  out.len = udp_len - kUdpHeaderSize;
  return FrameError::kNone;
}

}  // namespace pmm::net
