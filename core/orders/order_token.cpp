#include "core/orders/order_token.hpp"

#include <algorithm>
#include <cassert>

namespace pmm::orders {

namespace {

constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

void put_base36(char* out, size_t digits, uint64_t v) noexcept {
  for (size_t i = digits; i-- > 0;) {
    out[i] = kDigits[v % 36];
    v /= 36;
  }
  assert(v == 0 && "value does not fit its field");
}

bool get_base36(const char* in, size_t digits, uint64_t& v) noexcept {
  v = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = in[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'A' && c <= 'Z') {
      d = static_cast<uint64_t>(c - 'A') + 10;
    } else {
      return false;
    }
    v = v * 36 + d;
  }
  return true;
}

}  // namespace

OrderToken encode_token(const TokenParts& p) noexcept {
  assert(p.epoch <= kMaxEpoch);
  assert(p.counter < kCounterLimit);
  assert(p.slot < kSlotLimit);
  OrderToken t;
  put_base36(t.chars.data(), kEpochDigits, p.epoch);
  put_base36(t.chars.data() + kEpochDigits, kCounterDigits, p.counter);
  put_base36(t.chars.data() + kEpochDigits + kCounterDigits, kSlotDigits, p.slot);
  return t;
}

bool decode_token(const OrderToken& t, TokenParts& out) noexcept {
  uint64_t epoch, counter, slot;
  if (!get_base36(t.chars.data(), kEpochDigits, epoch)) return false;
  if (!get_base36(t.chars.data() + kEpochDigits, kCounterDigits, counter)) return false;
  if (!get_base36(t.chars.data() + kEpochDigits + kCounterDigits, kSlotDigits, slot)) return false;
  out.epoch = static_cast<uint32_t>(epoch);
  out.counter = counter;
  out.slot = static_cast<uint32_t>(slot);
  return true;
}

bool decode_token_slot(const OrderToken& t, uint32_t& slot) noexcept {
  uint64_t v;
  if (!get_base36(t.chars.data() + kEpochDigits + kCounterDigits, kSlotDigits, v)) return false;
  slot = static_cast<uint32_t>(v);
  return true;
}

OrderToken make_token(std::string_view text) noexcept {
  OrderToken t;
  t.chars.fill(' ');
  for (size_t i = 0; i < text.size() && i < kTokenSize; ++i) t.chars[i] = text[i];
  return t;
}

TokenIssuer::TokenIssuer(uint32_t epoch) noexcept : epoch_(epoch) {
  assert(epoch <= kMaxEpoch);
  set_next_counter(0);
}

bool TokenIssuer::next(uint32_t slot, OrderToken& out) noexcept {
  if (next_counter_ >= kCounterLimit) return false;
  assert(slot < kSlotLimit);
  std::copy(prefix_.begin(), prefix_.end(), out.chars.begin());
  put_base36(out.chars.data() + kEpochDigits + kCounterDigits, kSlotDigits, slot);
  ++next_counter_;
  // The counter's digits count up: a 'Z' carries into the digit before it. After the last counter the
  // digits wrap to zeros, never used: next() refuses from then on.
  for (size_t i = prefix_.size(); i-- > kEpochDigits;) {
    char& c = prefix_[i];
    if (c == 'Z') {
      c = '0';
      continue;
    }
    c = c == '9' ? 'A' : static_cast<char>(c + 1);
    break;
  }
  return true;
}

void TokenIssuer::set_next_counter(uint64_t counter) noexcept {
  assert(counter <= kCounterLimit);
  next_counter_ = counter;
  put_base36(prefix_.data(), kEpochDigits, epoch_);
  put_base36(prefix_.data() + kEpochDigits, kCounterDigits, counter == kCounterLimit ? 0 : counter);
}

}  // namespace pmm::orders
