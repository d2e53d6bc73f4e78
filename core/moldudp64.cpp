#include "core/moldudp64.hpp"

#include <cassert>
#include <cstring>

namespace pmm::mold {

SessionId make_session(const char* s) noexcept {
  SessionId id;
  id.fill(' ');
  for (size_t i = 0; i < id.size() && s[i] != '\0'; ++i) id[i] = s[i];
  return id;
}

const char* to_string(ParseError e) noexcept {
  switch (e) {
    case ParseError::kNone: return "ok";
    case ParseError::kShortHeader: return "packet shorter than the 20-byte header";
    case ParseError::kTruncatedBlock: return "message block runs past the end of the packet";
    case ParseError::kTrailingBytes: return "bytes after the last message block";
    case ParseError::kSequenceOverflow: return "sequence number + count overflows";
  }
  return "?";
}

static void read_header(const uint8_t* p, PacketHeader& h) noexcept {
  std::memcpy(h.session.data(), p, h.session.size());
  h.sequence = load_be64(p + 10);
  h.count = load_be16(p + 18);
}

static void write_header(uint8_t* p, const SessionId& session, uint64_t sequence, uint16_t count) noexcept {
  std::memcpy(p, session.data(), session.size());
  store_be64(p + 10, sequence);
  store_be16(p + 18, count);
}

ParseError parse_downstream(const uint8_t* p, size_t len, DownstreamPacket& out) noexcept {
  if (len < kHeaderSize) return ParseError::kShortHeader;
  read_header(p, out.header);
  out.blocks = p + kHeaderSize;
  out.blocks_len = len - kHeaderSize;
  const uint16_t n = out.message_count();
  if (out.header.sequence > UINT64_MAX - n) return ParseError::kSequenceOverflow;
  size_t off = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (out.blocks_len - off < kBlockHeaderSize) return ParseError::kTruncatedBlock;
    const size_t msg_len = load_be16(out.blocks + off);
    off += kBlockHeaderSize;
    if (out.blocks_len - off < msg_len) return ParseError::kTruncatedBlock;
    off += msg_len;
  }
  if (off != out.blocks_len) return ParseError::kTrailingBytes;
  return ParseError::kNone;
}

PacketBuilder::PacketBuilder(uint8_t* buf, size_t capacity, const SessionId& session,
                             uint64_t first_sequence) noexcept
    : buf_(buf), capacity_(capacity), used_(kHeaderSize), first_sequence_(first_sequence) {
  assert(capacity >= kHeaderSize);
  write_header(buf_, session, first_sequence, 0);
}

bool PacketBuilder::add(const uint8_t* msg, uint16_t len) noexcept {
  if (count_ == kEndOfSessionCount - 1) return false;
  if (capacity_ - used_ < kBlockHeaderSize + size_t{len}) return false;
  store_be16(buf_ + used_, len);
  // (nullptr, 0) is a legal empty message (an empty span's data()); memcpy from null is UB even for 0 bytes.
  if (len != 0) std::memcpy(buf_ + used_ + kBlockHeaderSize, msg, len);
  used_ += kBlockHeaderSize + len;
  ++count_;
  return true;
}

size_t PacketBuilder::finish() noexcept {
  store_be16(buf_ + 18, count_);
  return used_;
}

size_t encode_heartbeat(uint8_t* out, const SessionId& session, uint64_t next_sequence) noexcept {
  write_header(out, session, next_sequence, kHeartbeatCount);
  return kHeaderSize;
}

size_t encode_end_of_session(uint8_t* out, const SessionId& session, uint64_t next_sequence) noexcept {
  write_header(out, session, next_sequence, kEndOfSessionCount);
  return kHeaderSize;
}

size_t encode_request(uint8_t* out, const Request& r) noexcept {
  write_header(out, r.session, r.sequence, r.count);
  return kHeaderSize;
}

bool parse_request(const uint8_t* p, size_t len, Request& out) noexcept {
  if (len != kHeaderSize) return false;
  PacketHeader h;
  read_header(p, h);
  out = Request{h.session, h.sequence, h.count};
  return true;
}

}  // namespace pmm::mold
