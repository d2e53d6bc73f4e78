// NASDAQ TotalView-ITCH 5.0 messages: one plain struct per message type, with inline decode (from the
// big-endian wire bytes, no copy of the buffer) and encode at the spec's offsets (shared/specs/itch50.txt).
// Prices are 4-decimal fixed point integers (Price(4)); the MWCB levels are Price(8).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/byte_order.hpp"

namespace pmm::itch {

using Symbol = std::array<char, 8>;  // right-padded with spaces, as on the wire
using Mpid = std::array<char, 4>;

// Wire length of each message type, 0 for a type ITCH 5.0 does not define.
constexpr size_t message_length(uint8_t type) noexcept {
  switch (type) {
    case 'S': return 12;
    case 'R': return 39;
    case 'H': return 25;
    case 'Y': return 20;
    case 'L': return 26;
    case 'V': return 35;
    case 'W': return 12;
    case 'K': return 28;
    case 'J': return 35;
    case 'h': return 21;
    case 'A': return 36;
    case 'F': return 40;
    case 'E': return 31;
    case 'C': return 36;
    case 'X': return 23;
    case 'D': return 19;
    case 'U': return 35;
    case 'P': return 44;
    case 'Q': return 40;
    case 'B': return 19;
    case 'I': return 50;
    case 'N': return 20;
    case 'O': return 48;
    default: return 0;
  }
}

inline constexpr char kAllTypes[] = "SRHYLVWKJhAFECXDUPQBINO";
inline constexpr size_t kMaxMessageLength = 50;

// Fields at offsets 1..10, common to every message.
struct Header {
  uint16_t locate = 0;
  uint16_t tracking = 0;
  uint64_t timestamp = 0;  // nanoseconds since midnight, 48 bits on the wire
};

namespace detail {
inline Header load_header(const uint8_t* p) noexcept {
  return Header{load_be16(p + 1), load_be16(p + 3), load_be48(p + 5)};
}
inline void store_header(uint8_t* p, char type, const Header& h) noexcept {
  p[0] = static_cast<uint8_t>(type);
  store_be16(p + 1, h.locate);
  store_be16(p + 3, h.tracking);
  store_be48(p + 5, h.timestamp);
}
}  // namespace detail

// Declares the struct's wire type and length next to its fields.
#define PMM_ITCH_MESSAGE(TYPE_CHAR)                          \
  static constexpr char kType = TYPE_CHAR;                   \
  static constexpr size_t kLength = message_length(TYPE_CHAR); \
  Header h

struct SystemEvent {
  PMM_ITCH_MESSAGE('S');
  char event_code = ' ';
};

struct StockDirectory {
  PMM_ITCH_MESSAGE('R');
  Symbol stock{};
  char market_category = ' ';
  char financial_status = ' ';
  uint32_t round_lot_size = 0;
  char round_lots_only = ' ';
  char issue_classification = ' ';
  std::array<char, 2> issue_subtype{};
  char authenticity = ' ';
  char short_sale_threshold = ' ';
  char ipo_flag = ' ';
  char luld_tier = ' ';
  char etp_flag = ' ';
  uint32_t etp_leverage = 0;
  char inverse = ' ';
};

struct StockTradingAction {
  PMM_ITCH_MESSAGE('H');
  Symbol stock{};
  char trading_state = ' ';  // H halted, P paused, Q quotation only, T trading
  char reserved = ' ';
  std::array<char, 4> reason{};
};

struct RegShoRestriction {
  PMM_ITCH_MESSAGE('Y');
  Symbol stock{};
  char action = ' ';
};

struct MarketParticipantPosition {
  PMM_ITCH_MESSAGE('L');
  Mpid mpid{};
  Symbol stock{};
  char primary_market_maker = ' ';
  char market_maker_mode = ' ';
  char participant_state = ' ';
};

struct MwcbDeclineLevel {
  PMM_ITCH_MESSAGE('V');
  uint64_t level1 = 0;  // Price(8)
  uint64_t level2 = 0;
  uint64_t level3 = 0;
};

struct MwcbStatus {
  PMM_ITCH_MESSAGE('W');
  char breached_level = ' ';
};

struct IpoQuotingPeriod {
  PMM_ITCH_MESSAGE('K');
  Symbol stock{};
  uint32_t release_time = 0;  // seconds since midnight
  char release_qualifier = ' ';
  uint32_t ipo_price = 0;
};

struct LuldAuctionCollar {
  PMM_ITCH_MESSAGE('J');
  Symbol stock{};
  uint32_t reference_price = 0;
  uint32_t upper_price = 0;
  uint32_t lower_price = 0;
  uint32_t extension = 0;
};

struct OperationalHalt {
  PMM_ITCH_MESSAGE('h');
  Symbol stock{};
  char market_code = ' ';
  char action = ' ';
};

struct AddOrder {
  PMM_ITCH_MESSAGE('A');
  uint64_t ref = 0;
  char side = ' ';  // 'B' or 'S'
  uint32_t shares = 0;
  Symbol stock{};
  uint32_t price = 0;
};

struct AddOrderMpid {
  PMM_ITCH_MESSAGE('F');
  uint64_t ref = 0;
  char side = ' ';
  uint32_t shares = 0;
  Symbol stock{};
  uint32_t price = 0;
  Mpid attribution{};
};

struct OrderExecuted {
  PMM_ITCH_MESSAGE('E');
  uint64_t ref = 0;
  uint32_t shares = 0;
  uint64_t match = 0;
};

struct OrderExecutedWithPrice {
  PMM_ITCH_MESSAGE('C');
  uint64_t ref = 0;
  uint32_t shares = 0;
  uint64_t match = 0;
  char printable = ' ';
  uint32_t price = 0;
};

struct OrderCancel {
  PMM_ITCH_MESSAGE('X');
  uint64_t ref = 0;
  uint32_t shares = 0;
};

struct OrderDelete {
  PMM_ITCH_MESSAGE('D');
  uint64_t ref = 0;
};

struct OrderReplace {
  PMM_ITCH_MESSAGE('U');
  uint64_t old_ref = 0;
  uint64_t new_ref = 0;
  uint32_t shares = 0;
  uint32_t price = 0;
};

struct Trade {
  PMM_ITCH_MESSAGE('P');
  uint64_t ref = 0;
  char side = ' ';
  uint32_t shares = 0;
  Symbol stock{};
  uint32_t price = 0;
  uint64_t match = 0;
};

struct CrossTrade {
  PMM_ITCH_MESSAGE('Q');
  uint64_t shares = 0;
  Symbol stock{};
  uint32_t price = 0;
  uint64_t match = 0;
  char cross_type = ' ';
};

struct BrokenTrade {
  PMM_ITCH_MESSAGE('B');
  uint64_t match = 0;
};

struct Noii {
  PMM_ITCH_MESSAGE('I');
  uint64_t paired_shares = 0;
  uint64_t imbalance_shares = 0;
  char imbalance_direction = ' ';
  Symbol stock{};
  uint32_t far_price = 0;
  uint32_t near_price = 0;
  uint32_t reference_price = 0;
  char cross_type = ' ';
  char price_variation = ' ';
};

struct RetailInterest {
  PMM_ITCH_MESSAGE('N');
  Symbol stock{};
  char interest_flag = ' ';
};

struct DirectListingPriceDiscovery {
  PMM_ITCH_MESSAGE('O');
  Symbol stock{};
  char open_eligibility = ' ';
  uint32_t min_price = 0;
  uint32_t max_price = 0;
  uint32_t near_price = 0;
  uint64_t near_time = 0;
  uint32_t lower_collar = 0;
  uint32_t upper_collar = 0;
};

#undef PMM_ITCH_MESSAGE

// decode(p, m): p points at the message type byte and holds at least T::kLength bytes.
// encode(m, p): writes exactly T::kLength bytes.
// Each pair lists the spec's offsets once; keep decode and encode side by side.
using namespace detail;

inline void decode(const uint8_t* p, SystemEvent& m) noexcept {
  m.h = load_header(p);
  m.event_code = load_char(p + 11);
}
inline void encode(const SystemEvent& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_char(p + 11, m.event_code);
}

inline void decode(const uint8_t* p, StockDirectory& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.market_category = load_char(p + 19);
  m.financial_status = load_char(p + 20);
  m.round_lot_size = load_be32(p + 21);
  m.round_lots_only = load_char(p + 25);
  m.issue_classification = load_char(p + 26);
  m.issue_subtype = load_alpha<2>(p + 27);
  m.authenticity = load_char(p + 29);
  m.short_sale_threshold = load_char(p + 30);
  m.ipo_flag = load_char(p + 31);
  m.luld_tier = load_char(p + 32);
  m.etp_flag = load_char(p + 33);
  m.etp_leverage = load_be32(p + 34);
  m.inverse = load_char(p + 38);
}
inline void encode(const StockDirectory& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.market_category);
  store_char(p + 20, m.financial_status);
  store_be32(p + 21, m.round_lot_size);
  store_char(p + 25, m.round_lots_only);
  store_char(p + 26, m.issue_classification);
  store_alpha(p + 27, m.issue_subtype);
  store_char(p + 29, m.authenticity);
  store_char(p + 30, m.short_sale_threshold);
  store_char(p + 31, m.ipo_flag);
  store_char(p + 32, m.luld_tier);
  store_char(p + 33, m.etp_flag);
  store_be32(p + 34, m.etp_leverage);
  store_char(p + 38, m.inverse);
}

inline void decode(const uint8_t* p, StockTradingAction& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.trading_state = load_char(p + 19);
  m.reserved = load_char(p + 20);
  m.reason = load_alpha<4>(p + 21);
}
inline void encode(const StockTradingAction& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.trading_state);
  store_char(p + 20, m.reserved);
  store_alpha(p + 21, m.reason);
}

inline void decode(const uint8_t* p, RegShoRestriction& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.action = load_char(p + 19);
}
inline void encode(const RegShoRestriction& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.action);
}

inline void decode(const uint8_t* p, MarketParticipantPosition& m) noexcept {
  m.h = load_header(p);
  m.mpid = load_alpha<4>(p + 11);
  m.stock = load_alpha<8>(p + 15);
  m.primary_market_maker = load_char(p + 23);
  m.market_maker_mode = load_char(p + 24);
  m.participant_state = load_char(p + 25);
}
inline void encode(const MarketParticipantPosition& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.mpid);
  store_alpha(p + 15, m.stock);
  store_char(p + 23, m.primary_market_maker);
  store_char(p + 24, m.market_maker_mode);
  store_char(p + 25, m.participant_state);
}

inline void decode(const uint8_t* p, MwcbDeclineLevel& m) noexcept {
  m.h = load_header(p);
  m.level1 = load_be64(p + 11);
  m.level2 = load_be64(p + 19);
  m.level3 = load_be64(p + 27);
}
inline void encode(const MwcbDeclineLevel& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.level1);
  store_be64(p + 19, m.level2);
  store_be64(p + 27, m.level3);
}

inline void decode(const uint8_t* p, MwcbStatus& m) noexcept {
  m.h = load_header(p);
  m.breached_level = load_char(p + 11);
}
inline void encode(const MwcbStatus& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_char(p + 11, m.breached_level);
}

inline void decode(const uint8_t* p, IpoQuotingPeriod& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.release_time = load_be32(p + 19);
  m.release_qualifier = load_char(p + 23);
  m.ipo_price = load_be32(p + 24);
}
inline void encode(const IpoQuotingPeriod& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_be32(p + 19, m.release_time);
  store_char(p + 23, m.release_qualifier);
  store_be32(p + 24, m.ipo_price);
}

inline void decode(const uint8_t* p, LuldAuctionCollar& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.reference_price = load_be32(p + 19);
  m.upper_price = load_be32(p + 23);
  m.lower_price = load_be32(p + 27);
  m.extension = load_be32(p + 31);
}
inline void encode(const LuldAuctionCollar& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_be32(p + 19, m.reference_price);
  store_be32(p + 23, m.upper_price);
  store_be32(p + 27, m.lower_price);
  store_be32(p + 31, m.extension);
}

inline void decode(const uint8_t* p, OperationalHalt& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.market_code = load_char(p + 19);
  m.action = load_char(p + 20);
}
inline void encode(const OperationalHalt& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.market_code);
  store_char(p + 20, m.action);
}

inline void decode(const uint8_t* p, AddOrder& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.side = load_char(p + 19);
  m.shares = load_be32(p + 20);
  m.stock = load_alpha<8>(p + 24);
  m.price = load_be32(p + 32);
}
inline void encode(const AddOrder& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_char(p + 19, m.side);
  store_be32(p + 20, m.shares);
  store_alpha(p + 24, m.stock);
  store_be32(p + 32, m.price);
}

inline void decode(const uint8_t* p, AddOrderMpid& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.side = load_char(p + 19);
  m.shares = load_be32(p + 20);
  m.stock = load_alpha<8>(p + 24);
  m.price = load_be32(p + 32);
  m.attribution = load_alpha<4>(p + 36);
}
inline void encode(const AddOrderMpid& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_char(p + 19, m.side);
  store_be32(p + 20, m.shares);
  store_alpha(p + 24, m.stock);
  store_be32(p + 32, m.price);
  store_alpha(p + 36, m.attribution);
}

inline void decode(const uint8_t* p, OrderExecuted& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.shares = load_be32(p + 19);
  m.match = load_be64(p + 23);
}
inline void encode(const OrderExecuted& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_be32(p + 19, m.shares);
  store_be64(p + 23, m.match);
}

inline void decode(const uint8_t* p, OrderExecutedWithPrice& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.shares = load_be32(p + 19);
  m.match = load_be64(p + 23);
  m.printable = load_char(p + 31);
  m.price = load_be32(p + 32);
}
inline void encode(const OrderExecutedWithPrice& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_be32(p + 19, m.shares);
  store_be64(p + 23, m.match);
  store_char(p + 31, m.printable);
  store_be32(p + 32, m.price);
}

inline void decode(const uint8_t* p, OrderCancel& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.shares = load_be32(p + 19);
}
inline void encode(const OrderCancel& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_be32(p + 19, m.shares);
}

inline void decode(const uint8_t* p, OrderDelete& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
}
inline void encode(const OrderDelete& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
}

inline void decode(const uint8_t* p, OrderReplace& m) noexcept {
  m.h = load_header(p);
  m.old_ref = load_be64(p + 11);
  m.new_ref = load_be64(p + 19);
  m.shares = load_be32(p + 27);
  m.price = load_be32(p + 31);
}
inline void encode(const OrderReplace& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.old_ref);
  store_be64(p + 19, m.new_ref);
  store_be32(p + 27, m.shares);
  store_be32(p + 31, m.price);
}

inline void decode(const uint8_t* p, Trade& m) noexcept {
  m.h = load_header(p);
  m.ref = load_be64(p + 11);
  m.side = load_char(p + 19);
  m.shares = load_be32(p + 20);
  m.stock = load_alpha<8>(p + 24);
  m.price = load_be32(p + 32);
  m.match = load_be64(p + 36);
}
inline void encode(const Trade& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.ref);
  store_char(p + 19, m.side);
  store_be32(p + 20, m.shares);
  store_alpha(p + 24, m.stock);
  store_be32(p + 32, m.price);
  store_be64(p + 36, m.match);
}

inline void decode(const uint8_t* p, CrossTrade& m) noexcept {
  m.h = load_header(p);
  m.shares = load_be64(p + 11);
  m.stock = load_alpha<8>(p + 19);
  m.price = load_be32(p + 27);
  m.match = load_be64(p + 31);
  m.cross_type = load_char(p + 39);
}
inline void encode(const CrossTrade& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.shares);
  store_alpha(p + 19, m.stock);
  store_be32(p + 27, m.price);
  store_be64(p + 31, m.match);
  store_char(p + 39, m.cross_type);
}

inline void decode(const uint8_t* p, BrokenTrade& m) noexcept {
  m.h = load_header(p);
  m.match = load_be64(p + 11);
}
inline void encode(const BrokenTrade& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.match);
}

inline void decode(const uint8_t* p, Noii& m) noexcept {
  m.h = load_header(p);
  m.paired_shares = load_be64(p + 11);
  m.imbalance_shares = load_be64(p + 19);
  m.imbalance_direction = load_char(p + 27);
  m.stock = load_alpha<8>(p + 28);
  m.far_price = load_be32(p + 36);
  m.near_price = load_be32(p + 40);
  m.reference_price = load_be32(p + 44);
  m.cross_type = load_char(p + 48);
  m.price_variation = load_char(p + 49);
}
inline void encode(const Noii& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_be64(p + 11, m.paired_shares);
  store_be64(p + 19, m.imbalance_shares);
  store_char(p + 27, m.imbalance_direction);
  store_alpha(p + 28, m.stock);
  store_be32(p + 36, m.far_price);
  store_be32(p + 40, m.near_price);
  store_be32(p + 44, m.reference_price);
  store_char(p + 48, m.cross_type);
  store_char(p + 49, m.price_variation);
}

inline void decode(const uint8_t* p, RetailInterest& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.interest_flag = load_char(p + 19);
}
inline void encode(const RetailInterest& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.interest_flag);
}

inline void decode(const uint8_t* p, DirectListingPriceDiscovery& m) noexcept {
  m.h = load_header(p);
  m.stock = load_alpha<8>(p + 11);
  m.open_eligibility = load_char(p + 19);
  m.min_price = load_be32(p + 20);
  m.max_price = load_be32(p + 24);
  m.near_price = load_be32(p + 28);
  m.near_time = load_be64(p + 32);
  m.lower_collar = load_be32(p + 40);
  m.upper_collar = load_be32(p + 44);
}
inline void encode(const DirectListingPriceDiscovery& m, uint8_t* p) noexcept {
  store_header(p, m.kType, m.h);
  store_alpha(p + 11, m.stock);
  store_char(p + 19, m.open_eligibility);
  store_be32(p + 20, m.min_price);
  store_be32(p + 24, m.max_price);
  store_be32(p + 28, m.near_price);
  store_be64(p + 32, m.near_time);
  store_be32(p + 40, m.lower_collar);
  store_be32(p + 44, m.upper_collar);
}

// Turns "AAPL" into a space-padded Symbol.
inline Symbol make_symbol(const char* s) noexcept {
  Symbol sym;
  sym.fill(' ');
  for (size_t i = 0; i < sym.size() && s[i] != '\0'; ++i) sym[i] = s[i];
  return sym;
}

}  // namespace pmm::itch
