// SoupBinTCP 3.00 framing (shared/specs/soupbintcp.txt): a 2-byte big-endian packet length (type byte +
// payload), a 1-byte packet type, the payload. We use it only to frame OUCH for the tshark oracle
// (docs/order-entry.md); the order session itself runs over UDP with MoldUDP64 framing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pmm::soup {

inline constexpr size_t kLengthFieldSize = 2;
inline constexpr size_t kHeaderSize = 3;           // length + type
inline constexpr size_t kMaxPayload = 0xFFFF - 1;  // the length field counts the type byte too

// Packet types (spec section 2).
inline constexpr char kDebug = '+';
inline constexpr char kLoginAccepted = 'A';
inline constexpr char kLoginRejected = 'J';
inline constexpr char kSequencedData = 'S';
inline constexpr char kServerHeartbeat = 'H';
inline constexpr char kEndOfSession = 'Z';
inline constexpr char kLoginRequest = 'L';
inline constexpr char kUnsequencedData = 'U';
inline constexpr char kClientHeartbeat = 'R';
inline constexpr char kLogoutRequest = 'O';

inline constexpr size_t kLoginRequestSize = 49;   // whole packet, length field included
inline constexpr size_t kLoginAcceptedSize = 33;

using Username = std::array<char, 6>;
using Password = std::array<char, 10>;
using SessionName = std::array<char, 10>;

// One logical packet: header + payload into out. Returns the packet's size, or 0 (nothing written)
// when it does not fit in `capacity` or the payload exceeds kMaxPayload.
size_t encode_packet(uint8_t* out, size_t capacity, char type, const uint8_t* payload, size_t payload_len) noexcept;

struct LoginRequest {
  Username username{};
  Password password{};
  SessionName session{};  // all spaces: the current session
  uint64_t sequence = 0;  // requested sequence number; 20 ASCII digits on the wire
};
struct LoginAccepted {
  SessionName session{};
  uint64_t sequence = 0;  // number of the next Sequenced Data packet the server sends
};

// Numeric fields: ASCII digits right-aligned in spaces. The spec's padding rule was not retrieved; this
// is the usual reading, and Wireshark (atoi) reads it. Write kLoginRequestSize / kLoginAcceptedSize bytes.
size_t encode_login_request(uint8_t* out, const LoginRequest& r) noexcept;
size_t encode_login_accepted(uint8_t* out, const LoginAccepted& a) noexcept;

// One packet found at the start of a byte stream.
struct Packet {
  char type = 0;
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
  size_t size = 0;  // bytes the packet takes in the stream: kLengthFieldSize + length field
};

enum class FrameStatus : uint8_t {
  kPacket,      // `out` holds a whole packet
  kNeedMore,    // the stream holds only part of a packet (TCP may split one anywhere)
  kZeroLength,  // length field 0: no type byte, not a valid packet; the stream is broken here
};

// Reads one packet from p[0, len); nothing past p + len is read.
FrameStatus next_packet(const uint8_t* p, size_t len, Packet& out) noexcept;

}  // namespace pmm::soup
