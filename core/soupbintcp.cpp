#include "core/soupbintcp.hpp"

#include <cassert>
#include <cstring>

#include "core/byte_order.hpp"

namespace pmm::soup {

size_t encode_packet(uint8_t* out, size_t capacity, char type, const uint8_t* payload, size_t payload_len) noexcept {
  if (payload_len > kMaxPayload || capacity < kHeaderSize + payload_len) return 0;
  store_be16(out, static_cast<uint16_t>(payload_len + 1));
  out[2] = static_cast<uint8_t>(type);
  if (payload_len != 0) std::memcpy(out + kHeaderSize, payload, payload_len);
  return kHeaderSize + payload_len;
}

// Right-aligned decimal in a space-filled field of `width` characters.
static void store_numeric(uint8_t* p, size_t width, uint64_t v) noexcept {
  std::memset(p, ' ', width);
  size_t i = width;
  do {
    assert(i > 0);  // 20 digits hold any uint64
    p[--i] = static_cast<uint8_t>('0' + v % 10);
    v /= 10;
  } while (v != 0);
}

size_t encode_login_request(uint8_t* out, const LoginRequest& r) noexcept {
  store_be16(out, static_cast<uint16_t>(kLoginRequestSize - kLengthFieldSize));
  out[2] = static_cast<uint8_t>(kLoginRequest);
  std::memcpy(out + 3, r.username.data(), r.username.size());
  std::memcpy(out + 9, r.password.data(), r.password.size());
  std::memcpy(out + 19, r.session.data(), r.session.size());
  store_numeric(out + 29, 20, r.sequence);
  return kLoginRequestSize;
}

size_t encode_login_accepted(uint8_t* out, const LoginAccepted& a) noexcept {
  store_be16(out, static_cast<uint16_t>(kLoginAcceptedSize - kLengthFieldSize));
  out[2] = static_cast<uint8_t>(kLoginAccepted);
  std::memcpy(out + 3, a.session.data(), a.session.size());
  store_numeric(out + 13, 20, a.sequence);
  return kLoginAcceptedSize;
}

FrameStatus next_packet(const uint8_t* p, size_t len, Packet& out) noexcept {
  if (len < kLengthFieldSize) return FrameStatus::kNeedMore;
  const size_t body = load_be16(p);
  if (body == 0) return FrameStatus::kZeroLength;
  if (len - kLengthFieldSize < body) return FrameStatus::kNeedMore;
  out.type = static_cast<char>(p[2]);
  out.payload = p + kHeaderSize;
  out.payload_len = body - 1;
  out.size = kLengthFieldSize + body;
  return FrameStatus::kPacket;
}

}  // namespace pmm::soup
