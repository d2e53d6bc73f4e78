// Ethernet II / IPv4 / UDP framing for the market-data path: building frames (generator, pcap files,
// test traffic) and validating received or captured frames down to the UDP payload. Portable C++:
// the layouts are written out from RFC 791 / RFC 768 / IEEE 802.3 + 802.1Q, no OS headers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pmm::net {

inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr size_t kVlanTagSize = 4;
inline constexpr size_t kIpv4HeaderSize = 20;  // without options
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr size_t kUdpFrameOverhead = kEthernetHeaderSize + kIpv4HeaderSize + kUdpHeaderSize;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint8_t kIpProtocolUdp = 17;

struct FrameAddress {
  std::array<uint8_t, 6> src_mac{};
  std::array<uint8_t, 6> dst_mac{};
  uint32_t src_ip = 0;  // host order: 10.0.0.1 is 0x0A000001
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

// The Ethernet group address an IPv4 multicast group maps to (RFC 1112: 01:00:5e + low 23 bits).
std::array<uint8_t, 6> multicast_mac(uint32_t group_ip) noexcept;

// RFC 1071 one's-complement sum of len bytes taken as big-endian 16-bit words (an odd last byte is
// padded with zero), added to `initial`; returned folded to 16 bits, not complemented.
uint16_t ones_complement_sum(const uint8_t* p, size_t len, uint32_t initial = 0) noexcept;
// The Internet checksum of a block: the complement of its one's-complement sum.
inline uint16_t internet_checksum(const uint8_t* p, size_t len) noexcept {
  return static_cast<uint16_t>(~ones_complement_sum(p, len));
}

// Writes an untagged Ethernet + IPv4 (no options, TTL 64, DF clear) + UDP frame carrying payload
// into out. Returns the frame length (42 + len), or 0 when it does not fit in cap or the UDP
// datagram would exceed 65535 bytes. Both the IPv4 header checksum and the UDP checksum are filled.
size_t build_udp_frame(uint8_t* out, size_t cap, const FrameAddress& addr, const uint8_t* payload,
                       size_t len, uint16_t ip_id) noexcept;

enum class FrameError : uint8_t {
  kNone,
  kShort,          // shorter than the Ethernet (+ VLAN tag) header plus a minimal IPv4 header
  kNotIpv4,        // EtherType (after at most one 802.1Q tag) is not IPv4
  kBadIpHeader,    // version not 4, IHL < 5, or total length shorter than the header
  kIpChecksum,     // IPv4 header checksum does not verify
  kFragmented,     // more-fragments flag set or non-zero fragment offset
  kNotUdp,         // IPv4 protocol is not 17
  kBadUdpLength,   // UDP length < 8 or different from the IPv4 payload length
  kUdpChecksum,    // non-zero UDP checksum does not verify
  kTruncated,      // IPv4 total length (or the header with options) runs past the frame's bytes
};
inline constexpr size_t kFrameErrorCount = 10;
const char* to_string(FrameError e) noexcept;

struct UdpView {
  FrameAddress addr;
  const uint8_t* payload = nullptr;  // points into the frame
  size_t len = 0;
};

// Validates a captured or received frame and points out at its UDP payload. Reads nothing past
// frame + len; bytes after the IPv4 total length (Ethernet minimum-size padding) are ignored.
FrameError parse_udp_frame(const uint8_t* frame, size_t len, UdpView& out) noexcept;

}  // namespace pmm::net
