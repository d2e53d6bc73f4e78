// OUCH 4.2 order tokens for our own orders (docs/order-manager.md, "Tokens and epochs").
//
// A token is the 14-byte Alpha field of Enter/Replace/Cancel Order and of every response: ASCII,
// left-justified, space-padded. Ours fill all 14 characters with upper-case base-36 digits
// (0-9, A-Z), most significant first:
//
//   chars 0..3   epoch    0 .. 36^4-1 (1,679,615)      one per process start (durable counter file)
//   chars 4..9   counter  0 .. 36^6-1 (2,176,782,335)  one per token issued in this epoch
//   chars 10..13 slot     0 .. 36^4-1                  the order-table slot, so lookup is O(1)
//
// (epoch, counter) alone makes a token unique across restarts; the slot only tells the order
// table where to look, and a lookup always compares the whole token.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pmm::orders {

inline constexpr size_t kTokenSize = 14;

struct OrderToken {
  std::array<char, kTokenSize> chars{};
  bool operator==(const OrderToken&) const = default;
  std::string_view view() const noexcept { return {chars.data(), chars.size()}; }
};

inline constexpr size_t kEpochDigits = 4;
inline constexpr size_t kCounterDigits = 6;
inline constexpr size_t kSlotDigits = 4;
static_assert(kEpochDigits + kCounterDigits + kSlotDigits == kTokenSize);

inline constexpr uint32_t kMaxEpoch = 36u * 36u * 36u * 36u - 1;  // 1,679,615
inline constexpr uint64_t kCounterLimit = 36ull * 36 * 36 * 36 * 36 * 36;  // counters 0 .. limit-1
inline constexpr uint32_t kSlotLimit = 36u * 36u * 36u * 36u;  // slots 0 .. limit-1

struct TokenParts {
  uint32_t epoch = 0;
  uint64_t counter = 0;
  uint32_t slot = 0;
  bool operator==(const TokenParts&) const = default;
};

// Preconditions (asserted): epoch <= kMaxEpoch, counter < kCounterLimit, slot < kSlotLimit.
OrderToken encode_token(const TokenParts& p) noexcept;

// False when the token is not in our format (any character outside 0-9/A-Z, e.g. padding or
// lower case): such a token can never be one of ours.
bool decode_token(const OrderToken& t, TokenParts& out) noexcept;
// The slot field alone (chars 10..13), false when it is not base-36: the order table's lookup, which
// then compares the whole token (a token with a bad epoch or counter matches no order of ours).
bool decode_token_slot(const OrderToken& t, uint32_t& slot) noexcept;

// Any text as an OUCH Alpha token: left-justified, space-padded, cut at 14 characters.
OrderToken make_token(std::string_view text) noexcept;

// Issues this instance's tokens: epoch fixed at construction, counter from 0 upwards.
class TokenIssuer {
 public:
  explicit TokenIssuer(uint32_t epoch) noexcept;  // asserts epoch <= kMaxEpoch

  // False once all kCounterLimit counters of this epoch are used: exhaustion is an error the caller
  // reports (the remedy is a restart, which takes a new epoch), never a silent wrap.
  bool next(uint32_t slot, OrderToken& out) noexcept;

  uint32_t epoch() const noexcept { return epoch_; }
  uint64_t issued() const noexcept { return next_counter_; }
  uint64_t remaining() const noexcept { return kCounterLimit - next_counter_; }

  // Tests and restore only: continue from `counter` (<= kCounterLimit).
  void set_next_counter(uint64_t counter) noexcept;

 private:
  uint32_t epoch_;
  uint64_t next_counter_ = 0;
  // The epoch and counter characters of the next token, counted up in base 36 as tokens are issued
  // (no division per token; equal to encode_token's, tests/orders checks it across carries).
  std::array<char, kEpochDigits + kCounterDigits> prefix_{};
};

}  // namespace pmm::orders
