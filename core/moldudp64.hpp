// MoldUDP64 (shared/specs/moldudp64.txt): downstream packet parsing with full bounds checks, packet
// building, and the 20-byte request packet. Sequence tracking lives in mold_sequence_tracker.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/byte_order.hpp"

namespace pmm::mold {

inline constexpr size_t kHeaderSize = 20;
inline constexpr size_t kBlockHeaderSize = 2;
inline constexpr uint16_t kHeartbeatCount = 0;
inline constexpr uint16_t kEndOfSessionCount = 0xFFFF;

using SessionId = std::array<char, 10>;

SessionId make_session(const char* s) noexcept;  // space-padded, as NASDAQ sends it

struct PacketHeader {
  SessionId session{};
  uint64_t sequence = 0;  // sequence number of the first message in the packet
  uint16_t count = 0;     // messages in the packet; 0 heartbeat; 0xFFFF end of session
};

enum class ParseError : uint8_t {
  kNone,
  kShortHeader,      // fewer than 20 bytes
  kTruncatedBlock,   // a block's length field or data runs past the end of the packet
  kTrailingBytes,    // bytes left after the last counted block
  kSequenceOverflow, // sequence + count wraps 2^64
};
const char* to_string(ParseError e) noexcept;

// A downstream packet whose block lengths were all checked against the buffer.
struct DownstreamPacket {
  PacketHeader header;
  const uint8_t* blocks = nullptr;  // first message block
  size_t blocks_len = 0;

  bool is_heartbeat() const noexcept { return header.count == kHeartbeatCount; }
  bool is_end_of_session() const noexcept { return header.count == kEndOfSessionCount; }
  uint16_t message_count() const noexcept { return is_end_of_session() ? 0 : header.count; }

  // f(sequence, const uint8_t* msg, uint16_t len) for each message from index `skip` on.
  template <class F>
  void for_each_message(F&& f, uint16_t skip = 0) const {
    const uint8_t* p = blocks;
    const uint16_t n = message_count();
    for (uint16_t i = 0; i < n; ++i) {
      const uint16_t len = load_be16(p);
      if (i >= skip) f(header.sequence + i, p + kBlockHeaderSize, len);
      p += kBlockHeaderSize + len;
    }
  }
};

// Checks the header and every block against len; nothing past p + len is read.
ParseError parse_downstream(const uint8_t* p, size_t len, DownstreamPacket& out) noexcept;

// Builds one downstream packet in a caller-owned buffer.
class PacketBuilder {
 public:
  PacketBuilder(uint8_t* buf, size_t capacity, const SessionId& session, uint64_t first_sequence) noexcept;
  // False (and nothing written) when the message does not fit or the packet already holds 65534.
  bool add(const uint8_t* msg, uint16_t len) noexcept;
  uint16_t count() const noexcept { return count_; }
  size_t size() const noexcept { return used_; }
  uint64_t next_sequence() const noexcept { return first_sequence_ + count_; }
  // Writes the count into the header; returns the packet's length.
  size_t finish() noexcept;

 private:
  uint8_t* buf_;
  size_t capacity_;
  size_t used_;
  uint64_t first_sequence_;
  uint16_t count_ = 0;
};

// Heartbeat and end-of-session packets carry the next expected sequence number and no blocks.
size_t encode_heartbeat(uint8_t* out, const SessionId& session, uint64_t next_sequence) noexcept;
size_t encode_end_of_session(uint8_t* out, const SessionId& session, uint64_t next_sequence) noexcept;

// Request packet: retransmit `count` messages starting at `sequence`.
struct Request {
  SessionId session{};
  uint64_t sequence = 0;
  uint16_t count = 0;
};
size_t encode_request(uint8_t* out, const Request& r) noexcept;  // writes kHeaderSize bytes
bool parse_request(const uint8_t* p, size_t len, Request& out) noexcept;  // exactly 20 bytes

}  // namespace pmm::mold
