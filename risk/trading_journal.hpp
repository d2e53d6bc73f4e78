// The trading stage's write-ahead journal, seen from the stage: an output it writes each input to
// (every request the tracker accepted, every response applied), and the records' byte layouts. The
// stage does not depend on persistence: the appliance plugs in a JournalRing-backed implementation
// (dpdk-app/trading_journal.hpp), which a shadow OrderTracker replays through the same calls, so the
// journal rebuilds the stage's orders, positions and session sequences exactly (docs/journal-records.md).
//
// Layouts: every multi-byte field big-endian (as the other persistence formats); tokens are the 14
// OUCH characters. Each record fits persistence::JournalEntry's 60-byte payload.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/byte_order.hpp"
#include "core/orders/order_events.hpp"
#include "core/orders/order_token.hpp"

namespace pmm::risk {

// Where the stage writes its journal records. Called on the stage's core: no blocking, no allocation.
class TradingJournal {
 public:
  virtual ~TradingJournal() = default;
  // False when the record could not be taken (full, or the journal failed): the caller counts it.
  virtual bool append(uint16_t type, const uint8_t* payload, uint16_t length) noexcept = 0;
  // True when `records` appends in a row would all be taken now (the stage is the only producer).
  virtual bool has_room(uint32_t records) const noexcept = 0;
  // True once the journal can take nothing any more (its writer failed): nothing becomes durable.
  virtual bool failed() const noexcept = 0;
};

namespace journal_records {

// Record types (>= 16: 0..15 belong to the journal itself).
enum Type : uint16_t {
  kOrderSubmit = 16,     // token, symbol, side, price, shares, outbound seq, as-of
  kReplaceRequest = 17,  // old token, new token, price, shares, outbound seq, as-of
  kCancelRequest = 18,   // token, outbound seq, as-of
  kAccepted = 19,        // token, shares, price, inbound seq
  kReplaced = 20,        // new token, previous token, shares, price, inbound seq
  kCanceled = 21,        // token, decrement, reason, inbound seq
  kExecuted = 22,        // token, shares, price, liquidity, match, inbound seq
  kBrokenTrade = 23,     // token, match, reason, inbound seq
  kRejected = 24,        // token, reason, inbound seq
  kCancelPending = 25,   // token, inbound seq
  kCancelReject = 26,    // token, inbound seq
};
inline constexpr uint16_t kFirstType = kOrderSubmit;
inline constexpr uint16_t kLastType = kCancelReject;

inline constexpr uint16_t kSubmitBytes = 14 + 2 + 1 + 4 + 4 + 8 + 8;  // 41
inline constexpr uint16_t kReplaceBytes = 14 + 14 + 4 + 4 + 8 + 8;    // 52
inline constexpr uint16_t kCancelBytes = 14 + 8 + 8;                  // 30
inline constexpr uint16_t kAcceptedBytes = 14 + 4 + 4 + 8;            // 30
inline constexpr uint16_t kReplacedBytes = 14 + 14 + 4 + 4 + 8;       // 44
inline constexpr uint16_t kCanceledBytes = 14 + 4 + 1 + 8;            // 27
inline constexpr uint16_t kExecutedBytes = 14 + 4 + 4 + 1 + 8 + 8;    // 39
inline constexpr uint16_t kBrokenTradeBytes = 14 + 8 + 1 + 8;         // 31
inline constexpr uint16_t kRejectedBytes = 14 + 1 + 8;                // 23
inline constexpr uint16_t kTokenOnlyBytes = 14 + 8;                   // 22 (cancel pending / reject)
inline constexpr uint16_t kMaxBytes = 60;
static_assert(kReplaceBytes <= kMaxBytes);

// The exact length each type must have (0: not a trading record).
constexpr uint16_t length_of(uint16_t type) noexcept {
  switch (type) {
    case kOrderSubmit: return kSubmitBytes;
    case kReplaceRequest: return kReplaceBytes;
    case kCancelRequest: return kCancelBytes;
    case kAccepted: return kAcceptedBytes;
    case kReplaced: return kReplacedBytes;
    case kCanceled: return kCanceledBytes;
    case kExecuted: return kExecutedBytes;
    case kBrokenTrade: return kBrokenTradeBytes;
    case kRejected: return kRejectedBytes;
    case kCancelPending:
    case kCancelReject: return kTokenOnlyBytes;
    default: return 0;
  }
}

// The decoded form of any trading record: the fields its type uses are set.
struct TradingRecord {
  uint16_t type = 0;
  orders::OrderToken token;        // the order (submit: the token issued; replace: the old one; Replaced: new)
  orders::OrderToken other_token;  // replace request: the new token; Replaced: the previous token
  uint16_t symbol = 0;
  orders::Side side = orders::Side::kBuy;
  uint32_t price = 0;
  uint32_t shares = 0;   // submit/replace/Accepted/Replaced/Executed shares; Canceled: decrement
  char reason = ' ';     // Canceled, BrokenTrade, Rejected
  orders::Liquidity liquidity = orders::Liquidity::kMaker;
  uint64_t match = 0;    // Executed, BrokenTrade
  uint64_t sequence = 0; // requests: our outbound session sequence; responses: the gateway's
  uint64_t as_of = 0;    // requests: the exchange time the message carried
};

// Writes `r` (r.type chosen) into out (>= kMaxBytes); returns the length.
inline uint16_t encode(const TradingRecord& r, uint8_t* out) noexcept {
  uint8_t* p = out;
  const auto tok = [&](const orders::OrderToken& t) {
    std::memcpy(p, t.chars.data(), orders::kTokenSize);
    p += orders::kTokenSize;
  };
  const auto u8 = [&](uint8_t v) { *p++ = v; };
  const auto u16 = [&](uint16_t v) { store_be16(p, v); p += 2; };
  const auto u32 = [&](uint32_t v) { store_be32(p, v); p += 4; };
  const auto u64 = [&](uint64_t v) { store_be64(p, v); p += 8; };
  switch (r.type) {
    case kOrderSubmit: tok(r.token); u16(r.symbol); u8(static_cast<uint8_t>(r.side)); u32(r.price); u32(r.shares);
      u64(r.sequence); u64(r.as_of); break;
    case kReplaceRequest: tok(r.token); tok(r.other_token); u32(r.price); u32(r.shares); u64(r.sequence);
      u64(r.as_of); break;
    case kCancelRequest: tok(r.token); u64(r.sequence); u64(r.as_of); break;
    case kAccepted: tok(r.token); u32(r.shares); u32(r.price); u64(r.sequence); break;
    case kReplaced: tok(r.token); tok(r.other_token); u32(r.shares); u32(r.price); u64(r.sequence); break;
    case kCanceled: tok(r.token); u32(r.shares); u8(static_cast<uint8_t>(r.reason)); u64(r.sequence); break;
    case kExecuted: tok(r.token); u32(r.shares); u32(r.price); u8(static_cast<uint8_t>(r.liquidity)); u64(r.match);
      u64(r.sequence); break;
    case kBrokenTrade: tok(r.token); u64(r.match); u8(static_cast<uint8_t>(r.reason)); u64(r.sequence); break;
    case kRejected: tok(r.token); u8(static_cast<uint8_t>(r.reason)); u64(r.sequence); break;
    case kCancelPending:
    case kCancelReject: tok(r.token); u64(r.sequence); break;
    default: return 0;
  }
  return static_cast<uint16_t>(p - out);
}

// Reads a record; false when the type is not a trading record, the length is not the type's, or a
// field is out of range (side, liquidity).
inline bool decode(uint16_t type, const uint8_t* payload, uint16_t length, TradingRecord& r) noexcept {
  if (length_of(type) == 0 || length != length_of(type)) return false;
  r = TradingRecord{};
  r.type = type;
  const uint8_t* p = payload;
  const auto tok = [&](orders::OrderToken& t) {
    std::memcpy(t.chars.data(), p, orders::kTokenSize);
    p += orders::kTokenSize;
  };
  const auto u8 = [&]() { return *p++; };
  const auto u16 = [&]() { const uint16_t v = load_be16(p); p += 2; return v; };
  const auto u32 = [&]() { const uint32_t v = load_be32(p); p += 4; return v; };
  const auto u64 = [&]() { const uint64_t v = load_be64(p); p += 8; return v; };
  uint8_t v = 0;
  switch (type) {
    case kOrderSubmit:
      tok(r.token); r.symbol = u16(); v = u8();
      if (v > 1) return false;
      r.side = static_cast<orders::Side>(v); r.price = u32(); r.shares = u32(); r.sequence = u64(); r.as_of = u64();
      return true;
    case kReplaceRequest:
      tok(r.token); tok(r.other_token); r.price = u32(); r.shares = u32(); r.sequence = u64(); r.as_of = u64();
      return true;
    case kCancelRequest: tok(r.token); r.sequence = u64(); r.as_of = u64(); return true;
    case kAccepted: tok(r.token); r.shares = u32(); r.price = u32(); r.sequence = u64(); return true;
    case kReplaced: tok(r.token); tok(r.other_token); r.shares = u32(); r.price = u32(); r.sequence = u64(); return true;
    case kCanceled: tok(r.token); r.shares = u32(); r.reason = static_cast<char>(u8()); r.sequence = u64(); return true;
    case kExecuted:
      tok(r.token); r.shares = u32(); r.price = u32(); v = u8();
      if (v > 1) return false;
      r.liquidity = static_cast<orders::Liquidity>(v); r.match = u64(); r.sequence = u64();
      return true;
    case kBrokenTrade: tok(r.token); r.match = u64(); r.reason = static_cast<char>(u8()); r.sequence = u64(); return true;
    case kRejected: tok(r.token); r.reason = static_cast<char>(u8()); r.sequence = u64(); return true;
    default: tok(r.token); r.sequence = u64(); return true;  // cancel pending / reject
  }
}

}  // namespace journal_records
}  // namespace pmm::risk
