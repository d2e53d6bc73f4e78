// NASDAQ O*U*C*H 4.2 order-entry messages (shared/specs/ouch42.txt): one plain struct per message, with
// inline decode (fields read straight from the big-endian wire bytes, no copy of the buffer) and encode
// at the spec's offsets, for both directions: we encode inbound (client -> exchange) messages and decode
// outbound ones; the exchange simulator does the opposite. Prices are Price(4) fixed point as in ITCH.
//
// 'U' and 'M' name one message inbound (Replace Order, Modify Order) and another outbound (Replaced,
// Order Modified), so every length table and dispatcher is per direction. Framing (MoldUDP64 on UDP,
// SoupBinTCP on TCP) gives each message's length; dispatch checks it before any field is read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/byte_order.hpp"

namespace pmm::ouch {

using Token = std::array<char, 14>;  // order token: alphanumeric, right-padded with spaces
using Stock = std::array<char, 8>;   // right-padded with spaces
using Firm = std::array<char, 4>;

enum class Direction : uint8_t {
  kInbound,   // client -> exchange (SoupBinTCP Unsequenced Data)
  kOutbound,  // exchange -> client (SoupBinTCP Sequenced Data)
};

// Time In Force values with a meaning of their own; any other value is a lifetime in seconds.
inline constexpr uint32_t kTifImmediateOrCancel = 0;
inline constexpr uint32_t kTifMarketHours = 99998;
inline constexpr uint32_t kTifSystemHours = 99999;

// Wire length of each inbound message type, 0 for a type OUCH 4.2 does not define inbound.
constexpr size_t inbound_length(uint8_t type) noexcept {
  switch (type) {
    case 'O': return 49;
    case 'U': return 47;
    case 'X': return 19;
    case 'M': return 20;
    case 'N': return 15;
    default: return 0;
  }
}

// Wire length of each outbound message type, 0 for a type OUCH 4.2 does not define outbound.
constexpr size_t outbound_length(uint8_t type) noexcept {
  switch (type) {
    case 'S': return 10;
    case 'A': return 66;
    case 'U': return 80;
    case 'C': return 28;
    case 'D': return 37;
    case 'E': return 40;
    case 'B': return 32;
    case 'G': return 45;
    case 'F': return 41;
    case 'J': return 24;
    case 'P': return 23;
    case 'I': return 23;
    case 'T': return 36;
    case 'M': return 28;
    default: return 0;
  }
}

constexpr size_t message_length(Direction d, uint8_t type) noexcept {
  return d == Direction::kInbound ? inbound_length(type) : outbound_length(type);
}

inline constexpr char kInboundTypes[] = "OUXMN";
inline constexpr char kOutboundTypes[] = "SAUCDEBGFJPITM";
inline constexpr size_t kMaxMessageLength = 80;  // Replaced

// The spec's name of a message ("Enter Order"), or nullptr for a type the direction does not define.
const char* message_name(Direction d, uint8_t type) noexcept;

#define PMM_OUCH_MESSAGE(DIRECTION, TYPE_CHAR)                              \
  static constexpr Direction kDirection = Direction::DIRECTION;             \
  static constexpr char kType = TYPE_CHAR;                                  \
  static constexpr size_t kLength = message_length(kDirection, TYPE_CHAR);  \
  static_assert(kLength != 0)

// ---- Inbound (client -> exchange) ----

struct EnterOrder {
  PMM_OUCH_MESSAGE(kInbound, 'O');
  Token token{};
  char side = ' ';  // Buy/Sell Indicator: B buy, S sell, T sell short, E sell short exempt
  uint32_t shares = 0;
  Stock stock{};
  uint32_t price = 0;  // Price(4)
  uint32_t time_in_force = 0;
  Firm firm{};
  char display = ' ';
  char capacity = ' ';
  char intermarket_sweep = ' ';
  uint32_t min_quantity = 0;
  char cross_type = ' ';
  char customer_type = ' ';
};

struct ReplaceOrder {
  PMM_OUCH_MESSAGE(kInbound, 'U');
  Token existing_token{};
  Token replacement_token{};
  uint32_t shares = 0;
  uint32_t price = 0;
  uint32_t time_in_force = 0;
  char display = ' ';
  char intermarket_sweep = ' ';
  uint32_t min_quantity = 0;
};

struct CancelOrder {
  PMM_OUCH_MESSAGE(kInbound, 'X');
  Token token{};
  uint32_t shares = 0;  // shares to leave on the order; 0 cancels it
};

struct ModifyOrder {
  PMM_OUCH_MESSAGE(kInbound, 'M');
  Token token{};
  char side = ' ';
  uint32_t shares = 0;
};

struct TradeNow {  // in the OMI 4.2 header only; tshark 4.0 does not decode it
  PMM_OUCH_MESSAGE(kInbound, 'N');
  Token token{};
};

// ---- Outbound (exchange -> client) ----

struct SystemEvent {
  PMM_OUCH_MESSAGE(kOutbound, 'S');
  uint64_t timestamp = 0;  // nanoseconds since midnight
  char event_code = ' ';   // S start of day, E end of day
};

struct Accepted {
  PMM_OUCH_MESSAGE(kOutbound, 'A');
  uint64_t timestamp = 0;
  Token token{};
  char side = ' ';
  uint32_t shares = 0;
  Stock stock{};
  uint32_t price = 0;
  uint32_t time_in_force = 0;
  Firm firm{};
  char display = ' ';
  uint64_t order_ref = 0;  // Order Reference Number (the ITCH order reference)
  char capacity = ' ';
  char intermarket_sweep = ' ';
  uint32_t min_quantity = 0;
  char cross_type = ' ';
  char order_state = ' ';  // L live, D dead
  char bbo_weight = ' ';
};

struct Replaced {
  PMM_OUCH_MESSAGE(kOutbound, 'U');
  uint64_t timestamp = 0;
  Token replacement_token{};
  char side = ' ';
  uint32_t shares = 0;
  Stock stock{};
  uint32_t price = 0;
  uint32_t time_in_force = 0;
  Firm firm{};
  char display = ' ';
  uint64_t order_ref = 0;
  char capacity = ' ';
  char intermarket_sweep = ' ';
  uint32_t min_quantity = 0;
  char cross_type = ' ';
  char order_state = ' ';
  Token previous_token{};
  char bbo_weight = ' ';
};

struct Canceled {
  PMM_OUCH_MESSAGE(kOutbound, 'C');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t decrement_shares = 0;
  char reason = ' ';
};

struct AiqCanceled {
  PMM_OUCH_MESSAGE(kOutbound, 'D');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t decrement_shares = 0;
  char reason = ' ';
  uint32_t quantity_prevented = 0;  // Quantity Prevented from Trading
  uint32_t execution_price = 0;
  char liquidity_flag = ' ';
};

struct Executed {
  PMM_OUCH_MESSAGE(kOutbound, 'E');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t executed_shares = 0;
  uint32_t execution_price = 0;
  char liquidity_flag = ' ';
  uint64_t match = 0;
};

struct BrokenTrade {
  PMM_OUCH_MESSAGE(kOutbound, 'B');
  uint64_t timestamp = 0;
  Token token{};
  uint64_t match = 0;
  char reason = ' ';
};

struct ExecutedWithReferencePrice {  // in the OMI 4.2 header only
  PMM_OUCH_MESSAGE(kOutbound, 'G');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t executed_shares = 0;
  uint32_t execution_price = 0;
  char liquidity_flag = ' ';
  uint64_t match = 0;
  uint32_t reference_price = 0;
  char reference_price_type = ' ';
};

struct TradeCorrection {  // in the OMI 4.2 header only
  PMM_OUCH_MESSAGE(kOutbound, 'F');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t executed_shares = 0;
  uint32_t execution_price = 0;
  char liquidity_flag = ' ';
  uint64_t match = 0;
  char reason = ' ';
};

struct Rejected {
  PMM_OUCH_MESSAGE(kOutbound, 'J');
  uint64_t timestamp = 0;
  Token token{};
  char reason = ' ';
};

struct CancelPending {
  PMM_OUCH_MESSAGE(kOutbound, 'P');
  uint64_t timestamp = 0;
  Token token{};
};

struct CancelReject {
  PMM_OUCH_MESSAGE(kOutbound, 'I');
  uint64_t timestamp = 0;
  Token token{};
};

struct PriorityUpdate {  // Order Priority Update
  PMM_OUCH_MESSAGE(kOutbound, 'T');
  uint64_t timestamp = 0;
  Token token{};
  uint32_t price = 0;
  char display = ' ';
  uint64_t order_ref = 0;
};

struct OrderModified {
  PMM_OUCH_MESSAGE(kOutbound, 'M');
  uint64_t timestamp = 0;
  Token token{};
  char side = ' ';
  uint32_t shares = 0;
};

#undef PMM_OUCH_MESSAGE

// decode(p, m): p points at the message type byte and holds at least T::kLength bytes.
// encode(m, p): writes exactly T::kLength bytes, the type byte included.
// Each pair lists the spec's offsets once; keep decode and encode side by side.

inline void decode(const uint8_t* p, EnterOrder& m) noexcept {
  m.token = load_alpha<14>(p + 1);
  m.side = load_char(p + 15);
  m.shares = load_be32(p + 16);
  m.stock = load_alpha<8>(p + 20);
  m.price = load_be32(p + 28);
  m.time_in_force = load_be32(p + 32);
  m.firm = load_alpha<4>(p + 36);
  m.display = load_char(p + 40);
  m.capacity = load_char(p + 41);
  m.intermarket_sweep = load_char(p + 42);
  m.min_quantity = load_be32(p + 43);
  m.cross_type = load_char(p + 47);
  m.customer_type = load_char(p + 48);
}
inline void encode(const EnterOrder& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_alpha(p + 1, m.token);
  store_char(p + 15, m.side);
  store_be32(p + 16, m.shares);
  store_alpha(p + 20, m.stock);
  store_be32(p + 28, m.price);
  store_be32(p + 32, m.time_in_force);
  store_alpha(p + 36, m.firm);
  store_char(p + 40, m.display);
  store_char(p + 41, m.capacity);
  store_char(p + 42, m.intermarket_sweep);
  store_be32(p + 43, m.min_quantity);
  store_char(p + 47, m.cross_type);
  store_char(p + 48, m.customer_type);
}

inline void decode(const uint8_t* p, ReplaceOrder& m) noexcept {
  m.existing_token = load_alpha<14>(p + 1);
  m.replacement_token = load_alpha<14>(p + 15);
  m.shares = load_be32(p + 29);
  m.price = load_be32(p + 33);
  m.time_in_force = load_be32(p + 37);
  m.display = load_char(p + 41);
  m.intermarket_sweep = load_char(p + 42);
  m.min_quantity = load_be32(p + 43);
}
inline void encode(const ReplaceOrder& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_alpha(p + 1, m.existing_token);
  store_alpha(p + 15, m.replacement_token);
  store_be32(p + 29, m.shares);
  store_be32(p + 33, m.price);
  store_be32(p + 37, m.time_in_force);
  store_char(p + 41, m.display);
  store_char(p + 42, m.intermarket_sweep);
  store_be32(p + 43, m.min_quantity);
}

inline void decode(const uint8_t* p, CancelOrder& m) noexcept {
  m.token = load_alpha<14>(p + 1);
  m.shares = load_be32(p + 15);
}
inline void encode(const CancelOrder& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_alpha(p + 1, m.token);
  store_be32(p + 15, m.shares);
}

inline void decode(const uint8_t* p, ModifyOrder& m) noexcept {
  m.token = load_alpha<14>(p + 1);
  m.side = load_char(p + 15);
  m.shares = load_be32(p + 16);
}
inline void encode(const ModifyOrder& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_alpha(p + 1, m.token);
  store_char(p + 15, m.side);
  store_be32(p + 16, m.shares);
}

inline void decode(const uint8_t* p, TradeNow& m) noexcept { m.token = load_alpha<14>(p + 1); }
inline void encode(const TradeNow& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_alpha(p + 1, m.token);
}

inline void decode(const uint8_t* p, SystemEvent& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.event_code = load_char(p + 9);
}
inline void encode(const SystemEvent& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_char(p + 9, m.event_code);
}

inline void decode(const uint8_t* p, Accepted& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.side = load_char(p + 23);
  m.shares = load_be32(p + 24);
  m.stock = load_alpha<8>(p + 28);
  m.price = load_be32(p + 36);
  m.time_in_force = load_be32(p + 40);
  m.firm = load_alpha<4>(p + 44);
  m.display = load_char(p + 48);
  m.order_ref = load_be64(p + 49);
  m.capacity = load_char(p + 57);
  m.intermarket_sweep = load_char(p + 58);
  m.min_quantity = load_be32(p + 59);
  m.cross_type = load_char(p + 63);
  m.order_state = load_char(p + 64);
  m.bbo_weight = load_char(p + 65);
}
inline void encode(const Accepted& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_char(p + 23, m.side);
  store_be32(p + 24, m.shares);
  store_alpha(p + 28, m.stock);
  store_be32(p + 36, m.price);
  store_be32(p + 40, m.time_in_force);
  store_alpha(p + 44, m.firm);
  store_char(p + 48, m.display);
  store_be64(p + 49, m.order_ref);
  store_char(p + 57, m.capacity);
  store_char(p + 58, m.intermarket_sweep);
  store_be32(p + 59, m.min_quantity);
  store_char(p + 63, m.cross_type);
  store_char(p + 64, m.order_state);
  store_char(p + 65, m.bbo_weight);
}

inline void decode(const uint8_t* p, Replaced& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.replacement_token = load_alpha<14>(p + 9);
  m.side = load_char(p + 23);
  m.shares = load_be32(p + 24);
  m.stock = load_alpha<8>(p + 28);
  m.price = load_be32(p + 36);
  m.time_in_force = load_be32(p + 40);
  m.firm = load_alpha<4>(p + 44);
  m.display = load_char(p + 48);
  m.order_ref = load_be64(p + 49);
  m.capacity = load_char(p + 57);
  m.intermarket_sweep = load_char(p + 58);
  m.min_quantity = load_be32(p + 59);
  m.cross_type = load_char(p + 63);
  m.order_state = load_char(p + 64);
  m.previous_token = load_alpha<14>(p + 65);
  m.bbo_weight = load_char(p + 79);
}
inline void encode(const Replaced& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.replacement_token);
  store_char(p + 23, m.side);
  store_be32(p + 24, m.shares);
  store_alpha(p + 28, m.stock);
  store_be32(p + 36, m.price);
  store_be32(p + 40, m.time_in_force);
  store_alpha(p + 44, m.firm);
  store_char(p + 48, m.display);
  store_be64(p + 49, m.order_ref);
  store_char(p + 57, m.capacity);
  store_char(p + 58, m.intermarket_sweep);
  store_be32(p + 59, m.min_quantity);
  store_char(p + 63, m.cross_type);
  store_char(p + 64, m.order_state);
  store_alpha(p + 65, m.previous_token);
  store_char(p + 79, m.bbo_weight);
}

inline void decode(const uint8_t* p, Canceled& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.decrement_shares = load_be32(p + 23);
  m.reason = load_char(p + 27);
}
inline void encode(const Canceled& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.decrement_shares);
  store_char(p + 27, m.reason);
}

inline void decode(const uint8_t* p, AiqCanceled& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.decrement_shares = load_be32(p + 23);
  m.reason = load_char(p + 27);
  m.quantity_prevented = load_be32(p + 28);
  m.execution_price = load_be32(p + 32);
  m.liquidity_flag = load_char(p + 36);
}
inline void encode(const AiqCanceled& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.decrement_shares);
  store_char(p + 27, m.reason);
  store_be32(p + 28, m.quantity_prevented);
  store_be32(p + 32, m.execution_price);
  store_char(p + 36, m.liquidity_flag);
}

inline void decode(const uint8_t* p, Executed& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.executed_shares = load_be32(p + 23);
  m.execution_price = load_be32(p + 27);
  m.liquidity_flag = load_char(p + 31);
  m.match = load_be64(p + 32);
}
inline void encode(const Executed& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.executed_shares);
  store_be32(p + 27, m.execution_price);
  store_char(p + 31, m.liquidity_flag);
  store_be64(p + 32, m.match);
}

inline void decode(const uint8_t* p, BrokenTrade& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.match = load_be64(p + 23);
  m.reason = load_char(p + 31);
}
inline void encode(const BrokenTrade& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be64(p + 23, m.match);
  store_char(p + 31, m.reason);
}

inline void decode(const uint8_t* p, ExecutedWithReferencePrice& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.executed_shares = load_be32(p + 23);
  m.execution_price = load_be32(p + 27);
  m.liquidity_flag = load_char(p + 31);
  m.match = load_be64(p + 32);
  m.reference_price = load_be32(p + 40);
  m.reference_price_type = load_char(p + 44);
}
inline void encode(const ExecutedWithReferencePrice& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.executed_shares);
  store_be32(p + 27, m.execution_price);
  store_char(p + 31, m.liquidity_flag);
  store_be64(p + 32, m.match);
  store_be32(p + 40, m.reference_price);
  store_char(p + 44, m.reference_price_type);
}

inline void decode(const uint8_t* p, TradeCorrection& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.executed_shares = load_be32(p + 23);
  m.execution_price = load_be32(p + 27);
  m.liquidity_flag = load_char(p + 31);
  m.match = load_be64(p + 32);
  m.reason = load_char(p + 40);
}
inline void encode(const TradeCorrection& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.executed_shares);
  store_be32(p + 27, m.execution_price);
  store_char(p + 31, m.liquidity_flag);
  store_be64(p + 32, m.match);
  store_char(p + 40, m.reason);
}

inline void decode(const uint8_t* p, Rejected& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.reason = load_char(p + 23);
}
inline void encode(const Rejected& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_char(p + 23, m.reason);
}

inline void decode(const uint8_t* p, CancelPending& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
}
inline void encode(const CancelPending& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
}

inline void decode(const uint8_t* p, CancelReject& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
}
inline void encode(const CancelReject& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
}

inline void decode(const uint8_t* p, PriorityUpdate& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.price = load_be32(p + 23);
  m.display = load_char(p + 27);
  m.order_ref = load_be64(p + 28);
}
inline void encode(const PriorityUpdate& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_be32(p + 23, m.price);
  store_char(p + 27, m.display);
  store_be64(p + 28, m.order_ref);
}

inline void decode(const uint8_t* p, OrderModified& m) noexcept {
  m.timestamp = load_be64(p + 1);
  m.token = load_alpha<14>(p + 9);
  m.side = load_char(p + 23);
  m.shares = load_be32(p + 24);
}
inline void encode(const OrderModified& m, uint8_t* p) noexcept {
  store_char(p, m.kType);
  store_be64(p + 1, m.timestamp);
  store_alpha(p + 9, m.token);
  store_char(p + 23, m.side);
  store_be32(p + 24, m.shares);
}

// Encodes into a buffer of `capacity` bytes: the message length, or 0 (nothing written) if it does not fit.
template <class Msg>
inline size_t encode_checked(const Msg& m, uint8_t* out, size_t capacity) noexcept {
  if (capacity < Msg::kLength) return 0;
  encode(m, out);
  return Msg::kLength;
}

// Space-padded alpha field from a C string (cut at the field's width).
template <size_t N>
inline std::array<char, N> make_alpha(const char* s) noexcept {
  std::array<char, N> a;
  a.fill(' ');
  for (size_t i = 0; i < N && s[i] != '\0'; ++i) a[i] = s[i];
  return a;
}
inline Token make_token(const char* s) noexcept { return make_alpha<14>(s); }
inline Stock make_stock(const char* s) noexcept { return make_alpha<8>(s); }
inline Firm make_firm(const char* s) noexcept { return make_alpha<4>(s); }

// ---- Dispatch: framed message -> handler.on(const Msg&) ----

enum class DecodeStatus : uint8_t {
  kOk,
  kUnknownType,  // type byte not defined for this direction: skipped by its framed length
  kBadLength,    // known type, framed length differs from the spec's: malformed, skipped
  kEmpty,        // zero-length message
};

// What dispatch did with one message; enough to report a bad one without looking at it again.
struct DecodeResult {
  DecodeStatus status = DecodeStatus::kOk;
  uint8_t type = 0;      // the type byte (0 when empty)
  size_t length = 0;     // framed length
  size_t expected = 0;   // spec length for the type, 0 when unknown
};

// "OUCH outbound 'A' (Accepted): 65 bytes, OUCH 4.2 says 66" and the like, for the caller's log; writes
// at most `capacity` bytes (NUL-terminated) and returns `out`. No allocation.
const char* describe(const DecodeResult& r, Direction d, char* out, size_t capacity) noexcept;

// Per-session counters a receiver keeps; every message ends in exactly one of them.
struct DecodeCounters {
  uint64_t ok = 0;
  uint64_t unknown_type = 0;
  uint64_t bad_length = 0;
  uint64_t empty = 0;
  DecodeResult last_error;  // most recent message that was not kOk

  void record(const DecodeResult& r) noexcept {
    switch (r.status) {
      case DecodeStatus::kOk: ++ok; return;
      case DecodeStatus::kUnknownType: ++unknown_type; break;
      case DecodeStatus::kBadLength: ++bad_length; break;
      case DecodeStatus::kEmpty: ++empty; break;
    }
    last_error = r;
  }
};

// A handler may derive from one of these to ignore the messages it does not need.
struct IgnoreInbound {
  void on(const EnterOrder&) noexcept {}
  void on(const ReplaceOrder&) noexcept {}
  void on(const CancelOrder&) noexcept {}
  void on(const ModifyOrder&) noexcept {}
  void on(const TradeNow&) noexcept {}
};
struct IgnoreOutbound {
  void on(const SystemEvent&) noexcept {}
  void on(const Accepted&) noexcept {}
  void on(const Replaced&) noexcept {}
  void on(const Canceled&) noexcept {}
  void on(const AiqCanceled&) noexcept {}
  void on(const Executed&) noexcept {}
  void on(const BrokenTrade&) noexcept {}
  void on(const ExecutedWithReferencePrice&) noexcept {}
  void on(const TradeCorrection&) noexcept {}
  void on(const Rejected&) noexcept {}
  void on(const CancelPending&) noexcept {}
  void on(const CancelReject&) noexcept {}
  void on(const PriorityUpdate&) noexcept {}
  void on(const OrderModified&) noexcept {}
};

namespace detail {
template <class Msg, class Handler>
inline DecodeResult decode_and_call(const uint8_t* p, size_t len, Handler& handler) {
  if (len != Msg::kLength) [[unlikely]]
    return DecodeResult{DecodeStatus::kBadLength, p[0], len, Msg::kLength};
  Msg m;
  decode(p, m);
  handler.on(m);
  return DecodeResult{DecodeStatus::kOk, p[0], len, Msg::kLength};
}
inline DecodeResult unknown(const uint8_t* p, size_t len) noexcept {
  return DecodeResult{DecodeStatus::kUnknownType, p[0], len, 0};
}
}  // namespace detail

// p holds len bytes, one whole message as framed (MoldUDP64 block, SoupBinTCP Unsequenced Data).
// Nothing at or past p + len is read.
template <class Handler>
inline DecodeResult dispatch_inbound(const uint8_t* p, size_t len, Handler& handler) {
  using detail::decode_and_call;
  if (len == 0) [[unlikely]]
    return DecodeResult{DecodeStatus::kEmpty, 0, 0, 0};
  switch (p[0]) {
    case 'O': return decode_and_call<EnterOrder>(p, len, handler);
    case 'X': return decode_and_call<CancelOrder>(p, len, handler);
    case 'U': return decode_and_call<ReplaceOrder>(p, len, handler);
    case 'M': return decode_and_call<ModifyOrder>(p, len, handler);
    case 'N': return decode_and_call<TradeNow>(p, len, handler);
    default: return detail::unknown(p, len);
  }
}

// As dispatch_inbound, for messages from the exchange (MoldUDP64 block, SoupBinTCP Sequenced Data).
template <class Handler>
inline DecodeResult dispatch_outbound(const uint8_t* p, size_t len, Handler& handler) {
  using detail::decode_and_call;
  if (len == 0) [[unlikely]]
    return DecodeResult{DecodeStatus::kEmpty, 0, 0, 0};
  switch (p[0]) {
    case 'A': return decode_and_call<Accepted>(p, len, handler);
    case 'E': return decode_and_call<Executed>(p, len, handler);
    case 'C': return decode_and_call<Canceled>(p, len, handler);
    case 'U': return decode_and_call<Replaced>(p, len, handler);
    case 'J': return decode_and_call<Rejected>(p, len, handler);
    case 'S': return decode_and_call<SystemEvent>(p, len, handler);
    case 'D': return decode_and_call<AiqCanceled>(p, len, handler);
    case 'B': return decode_and_call<BrokenTrade>(p, len, handler);
    case 'G': return decode_and_call<ExecutedWithReferencePrice>(p, len, handler);
    case 'F': return decode_and_call<TradeCorrection>(p, len, handler);
    case 'P': return decode_and_call<CancelPending>(p, len, handler);
    case 'I': return decode_and_call<CancelReject>(p, len, handler);
    case 'T': return decode_and_call<PriorityUpdate>(p, len, handler);
    case 'M': return decode_and_call<OrderModified>(p, len, handler);
    default: return detail::unknown(p, len);
  }
}

}  // namespace pmm::ouch
