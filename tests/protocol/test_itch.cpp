// ITCH 5.0 wire layout: every message type is built byte by byte from the field tables of
// shared/specs/itch50.txt (section and page given per test), then decoded, re-encoded and
// dispatched through core. Expected bytes never come from core's encoders.
//
// Field values differ from each other within a message (and integer fields have distinct bytes), so a
// field read from a neighbour's offset or with the wrong byte order fails; the maxima the spec allows
// (48-bit timestamp, u32/u64 all ones, Price(4) 2000000000 = 200,000.0000) appear across the set.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"

namespace {

namespace itch = pmm::itch;

// Total wire length of each type, summed from its field table (offset + length of the last field).
// Sections and pages are the spec's (shared/specs/itch50.txt): a table's page is the "PAGE N" footer
// that follows it in the text, which agrees with the spec's table of contents.
struct SpecType {
  char type;
  size_t length;
  const char* where;
};
constexpr SpecType kSpecTypes[] = {
    {'S', 12, "1.1 System Event, PAGE 4"},
    {'R', 39, "1.2.1 Stock Directory, PAGES 5-8"},
    {'H', 25, "1.2.2 Stock Trading Action, PAGE 8"},
    {'Y', 20, "1.2.3 Reg SHO Restriction, PAGE 9"},
    {'L', 26, "1.2.4 Market Participant Position, PAGES 9-10"},
    {'V', 35, "1.2.5.1 MWCB Decline Level, PAGE 10"},
    {'W', 12, "1.2.5.2 MWCB Status, PAGE 11"},
    {'K', 28, "1.2.6 IPO Quoting Period Update, PAGE 11"},
    {'J', 35, "1.2.7 LULD Auction Collar, PAGE 12"},
    {'h', 21, "1.2.8 Operational Halt, PAGE 12"},
    {'A', 36, "1.3.1 Add Order, PAGE 13"},
    {'F', 40, "1.3.2 Add Order MPID, PAGE 13"},
    {'E', 31, "1.4.1 Order Executed, PAGE 14"},
    {'C', 36, "1.4.2 Order Executed With Price, PAGES 14-15"},
    {'X', 23, "1.4.3 Order Cancel, PAGE 15"},
    {'D', 19, "1.4.4 Order Delete, PAGE 15"},
    {'U', 35, "1.4.5 Order Replace, PAGE 16"},
    {'P', 44, "1.5.1 Trade (Non-Cross), PAGES 16-17"},
    {'Q', 40, "1.5.2 Cross Trade, PAGE 17"},
    {'B', 19, "1.5.3 Broken Trade, PAGE 18"},
    {'I', 50, "1.6 NOII, PAGES 18-19"},
    {'N', 20, "1.7 Retail Interest (RPII), PAGES 19-20"},
    {'O', 48, "1.8 DLCR Price Discovery, PAGE 20"},
};
constexpr size_t kSpecTypeCount = sizeof kSpecTypes / sizeof kSpecTypes[0];
static_assert(kSpecTypeCount == 23);

size_t spec_length(unsigned type_byte) {
  for (const SpecType& t : kSpecTypes)
    if (static_cast<unsigned char>(t.type) == type_byte) return t.length;
  return 0;
}

// One message laid out by hand at the spec's offsets. Every byte must be written exactly once, so a
// field table that leaves a hole, overlaps, or runs past the spec's total length fails the test.
class SpecMessage {
 public:
  SpecMessage(char type, size_t spec_total) : bytes_(spec_total, 0), writes_(spec_total, 0) {
    uint(0, 1, static_cast<uint8_t>(type));
  }

  // Big-endian unsigned integer of `width` bytes.
  void uint(size_t offset, size_t width, uint64_t value) {
    for (size_t i = 0; i < width; ++i)
      put(offset + i, static_cast<uint8_t>(value >> (8 * (width - 1 - i))));
  }
  // Alpha field: exactly the field's width, already space padded.
  void alpha(size_t offset, std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) put(offset + i, static_cast<uint8_t>(text[i]));
  }
  // Stock Locate 1..2, Tracking Number 3..4, Timestamp 5..10: identical in every table.
  void header(uint16_t locate, uint16_t tracking, uint64_t timestamp) {
    uint(1, 2, locate);
    uint(3, 2, tracking);
    uint(5, 6, timestamp);
  }

  bool each_byte_written_once() const {
    for (size_t i = 0; i < writes_.size(); ++i)
      if (writes_[i] != 1) {
        ADD_FAILURE() << "byte " << i << " written " << int{writes_[i]} << " times";
        return false;
      }
    return true;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  void put(size_t offset, uint8_t b) {
    if (offset >= bytes_.size()) {
      ADD_FAILURE() << "field byte at offset " << offset << " is past the spec length " << bytes_.size();
      return;
    }
    bytes_[offset] = b;
    ++writes_[offset];
  }
  std::vector<uint8_t> bytes_;
  std::vector<uint8_t> writes_;
};

template <size_t N>
std::string text(const std::array<char, N>& a) {
  return std::string(a.data(), N);
}

void expect_header(const itch::Header& h, uint16_t locate, uint16_t tracking, uint64_t timestamp) {
  EXPECT_EQ(h.locate, locate);
  EXPECT_EQ(h.tracking, tracking);
  EXPECT_EQ(h.timestamp, timestamp);
}

// Records every handler call; keeps a copy of the message when it is of type Expected.
template <class Expected>
struct Capture {
  std::vector<char> calls;
  std::optional<Expected> got;
  template <class M>
  void on(const M& m) {
    calls.push_back(M::kType);
    if constexpr (std::is_same_v<M, Expected>) got = m;
  }
};
using CallLog = Capture<itch::SystemEvent>;  // only `calls` is looked at

// Exactly `n` bytes on the heap, so ASan flags any read past the framed length.
std::unique_ptr<uint8_t[]> exact_copy(const uint8_t* p, size_t n) {
  std::unique_ptr<uint8_t[]> out(new uint8_t[n]);
  if (n != 0) std::memcpy(out.get(), p, n);
  return out;
}

// The four checks every message type gets: length table, decode, encode, dispatch.
template <class Msg, class CheckFields>
void expect_message(const SpecMessage& w, CheckFields check_fields) {
  ASSERT_TRUE(w.each_byte_written_once());
  const size_t len = w.size();
  EXPECT_EQ(spec_length(static_cast<uint8_t>(Msg::kType)), len) << "test table vs test bytes";
  EXPECT_EQ(itch::message_length(static_cast<uint8_t>(Msg::kType)), len);
  EXPECT_EQ(Msg::kLength, len);
  const auto wire = exact_copy(w.bytes().data(), len);

  {
    SCOPED_TRACE("decode");
    Msg m;
    itch::decode(wire.get(), m);
    check_fields(m);
  }

  {
    SCOPED_TRACE("encode(decode(bytes)) == bytes");
    Msg m;
    itch::decode(wire.get(), m);
    // Two fills: a byte encode forgets to write shows up under one of them; guard bytes catch overruns.
    for (const uint8_t fill : {uint8_t{0x00}, uint8_t{0xFF}}) {
      std::vector<uint8_t> out(len + 8, fill);
      itch::encode(m, out.data());
      EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len)), w.bytes())
          << "fill " << int{fill};
      for (size_t i = len; i < out.size(); ++i) EXPECT_EQ(out[i], fill) << "encode wrote past the end at " << i;
    }
  }

  {
    SCOPED_TRACE("dispatch");
    Capture<Msg> handler;
    EXPECT_EQ(itch::dispatch(wire.get(), len, handler), itch::DispatchResult::kOk);
    ASSERT_EQ(handler.calls.size(), 1u);
    EXPECT_EQ(handler.calls[0], Msg::kType);
    ASSERT_TRUE(handler.got.has_value());
    check_fields(*handler.got);
  }
}

// ---------------------------------------------------------------------------------------------
// One test per message type. Offsets and widths are copied from the spec table named above each.

TEST(ItchMessage, SystemEvent) {  // 1.1, PAGE 4
  SpecMessage w('S', 12);
  w.header(0, 0x0102, 0xFFFFFFFFFFFF);  // locate is always 0 for S; timestamp at its 48-bit max
  w.alpha(11, "O");
  expect_message<itch::SystemEvent>(w, [](const itch::SystemEvent& m) {
    expect_header(m.h, 0, 0x0102, 0xFFFFFFFFFFFF);
    EXPECT_EQ(m.event_code, 'O');
  });
}

TEST(ItchMessage, StockDirectory) {  // 1.2.1, PAGES 5-8
  SpecMessage w('R', 39);
  w.header(0xFFFF, 0xFFFE, 0x010203040506);
  w.alpha(11, "ZVZZT   ");
  w.alpha(19, "Q");                 // Market Category
  w.alpha(20, "D");                 // Financial Status Indicator
  w.uint(21, 4, 0x01020304);        // Round Lot Size
  w.alpha(25, "Y");                 // Round Lots Only
  w.alpha(26, "C");                 // Issue Classification
  w.alpha(27, "EM");                // Issue Sub-Type
  w.alpha(29, "P");                 // Authenticity
  w.alpha(30, "N");                 // Short Sale Threshold Indicator
  w.alpha(31, " ");                 // IPO Flag
  w.alpha(32, "2");                 // LULD Reference Price Tier
  w.alpha(33, "E");                 // ETP Flag (not a listed value: differs from its neighbours)
  w.uint(34, 4, 0xFFFFFFFF);        // ETP Leverage Factor
  w.alpha(38, "I");                 // Inverse Indicator (likewise)
  expect_message<itch::StockDirectory>(w, [](const itch::StockDirectory& m) {
    expect_header(m.h, 0xFFFF, 0xFFFE, 0x010203040506);
    EXPECT_EQ(text(m.stock), "ZVZZT   ");
    EXPECT_EQ(m.market_category, 'Q');
    EXPECT_EQ(m.financial_status, 'D');
    EXPECT_EQ(m.round_lot_size, 0x01020304u);
    EXPECT_EQ(m.round_lots_only, 'Y');
    EXPECT_EQ(m.issue_classification, 'C');
    EXPECT_EQ(text(m.issue_subtype), "EM");
    EXPECT_EQ(m.authenticity, 'P');
    EXPECT_EQ(m.short_sale_threshold, 'N');
    EXPECT_EQ(m.ipo_flag, ' ');
    EXPECT_EQ(m.luld_tier, '2');
    EXPECT_EQ(m.etp_flag, 'E');
    EXPECT_EQ(m.etp_leverage, 0xFFFFFFFFu);
    EXPECT_EQ(m.inverse, 'I');
  });
}

TEST(ItchMessage, StockTradingAction) {  // 1.2.2, PAGE 8
  SpecMessage w('H', 25);
  w.header(0x0A0B, 0x0C0D, 0x4E94914EFFFF);  // 23:59:59.999999999, the last nanosecond of the day
  w.alpha(11, "AAPL    ");
  w.alpha(19, "T");
  w.alpha(20, "r");
  w.alpha(21, "LUDP");
  expect_message<itch::StockTradingAction>(w, [](const itch::StockTradingAction& m) {
    expect_header(m.h, 0x0A0B, 0x0C0D, 0x4E94914EFFFF);
    EXPECT_EQ(text(m.stock), "AAPL    ");
    EXPECT_EQ(m.trading_state, 'T');
    EXPECT_EQ(m.reserved, 'r');
    EXPECT_EQ(text(m.reason), "LUDP");
  });
}

TEST(ItchMessage, RegShoRestriction) {  // 1.2.3, PAGE 9
  SpecMessage w('Y', 20);
  w.header(0x1111, 0x2222, 0x333344445555);
  w.alpha(11, "QQQ     ");
  w.alpha(19, "2");
  expect_message<itch::RegShoRestriction>(w, [](const itch::RegShoRestriction& m) {
    expect_header(m.h, 0x1111, 0x2222, 0x333344445555);
    EXPECT_EQ(text(m.stock), "QQQ     ");
    EXPECT_EQ(m.action, '2');
  });
}

TEST(ItchMessage, MarketParticipantPosition) {  // 1.2.4, PAGES 9-10
  SpecMessage w('L', 26);
  w.header(0x1357, 0x2468, 0x0000000000FF);
  w.alpha(11, "NSDQ");
  w.alpha(15, "MSFT    ");
  w.alpha(23, "Y");
  w.alpha(24, "P");
  w.alpha(25, "A");
  expect_message<itch::MarketParticipantPosition>(w, [](const itch::MarketParticipantPosition& m) {
    expect_header(m.h, 0x1357, 0x2468, 0x0000000000FF);
    EXPECT_EQ(text(m.mpid), "NSDQ");
    EXPECT_EQ(text(m.stock), "MSFT    ");
    EXPECT_EQ(m.primary_market_maker, 'Y');
    EXPECT_EQ(m.market_maker_mode, 'P');
    EXPECT_EQ(m.participant_state, 'A');
  });
}

TEST(ItchMessage, MwcbDeclineLevel) {  // 1.2.5.1, PAGE 10 (levels are Price(8))
  SpecMessage w('V', 35);
  w.header(0, 0x0001, 0x100000000000);
  w.uint(11, 8, 0x0102030405060708);
  w.uint(19, 8, 0xFFFFFFFFFFFFFFFF);
  w.uint(27, 8, 350012345678);  // 3500.12345678
  expect_message<itch::MwcbDeclineLevel>(w, [](const itch::MwcbDeclineLevel& m) {
    expect_header(m.h, 0, 0x0001, 0x100000000000);
    EXPECT_EQ(m.level1, 0x0102030405060708u);
    EXPECT_EQ(m.level2, 0xFFFFFFFFFFFFFFFFu);
    EXPECT_EQ(m.level3, 350012345678u);
  });
}

TEST(ItchMessage, MwcbStatus) {  // 1.2.5.2, PAGE 11
  SpecMessage w('W', 12);
  w.header(0, 0xABCD, 0x00000000000F);
  w.alpha(11, "3");
  expect_message<itch::MwcbStatus>(w, [](const itch::MwcbStatus& m) {
    expect_header(m.h, 0, 0xABCD, 0x00000000000F);
    EXPECT_EQ(m.breached_level, '3');
  });
}

TEST(ItchMessage, IpoQuotingPeriod) {  // 1.2.6, PAGE 11
  SpecMessage w('K', 28);
  w.header(0x0042, 0x0043, 0x0A1B2C3D4E5F);
  w.alpha(11, "NEWCO   ");
  w.uint(19, 4, 86399);       // release time: seconds since midnight
  w.alpha(23, "A");
  w.uint(24, 4, 2000000000);  // 200,000.0000, the spec's max Price(4)
  expect_message<itch::IpoQuotingPeriod>(w, [](const itch::IpoQuotingPeriod& m) {
    expect_header(m.h, 0x0042, 0x0043, 0x0A1B2C3D4E5F);
    EXPECT_EQ(text(m.stock), "NEWCO   ");
    EXPECT_EQ(m.release_time, 86399u);
    EXPECT_EQ(m.release_qualifier, 'A');
    EXPECT_EQ(m.ipo_price, 2000000000u);
  });
}

TEST(ItchMessage, LuldAuctionCollar) {  // 1.2.7, PAGE 12
  SpecMessage w('J', 35);
  w.header(0x7FFF, 0x8000, 0x0102030405FF);
  w.alpha(11, "SPY     ");
  w.uint(19, 4, 0x11223344);
  w.uint(23, 4, 2000000000);
  w.uint(27, 4, 0x00000001);
  w.uint(31, 4, 0xFFFFFFFF);
  expect_message<itch::LuldAuctionCollar>(w, [](const itch::LuldAuctionCollar& m) {
    expect_header(m.h, 0x7FFF, 0x8000, 0x0102030405FF);
    EXPECT_EQ(text(m.stock), "SPY     ");
    EXPECT_EQ(m.reference_price, 0x11223344u);
    EXPECT_EQ(m.upper_price, 2000000000u);
    EXPECT_EQ(m.lower_price, 1u);
    EXPECT_EQ(m.extension, 0xFFFFFFFFu);
  });
}

TEST(ItchMessage, OperationalHalt) {  // 1.2.8, PAGE 12
  SpecMessage w('h', 21);
  w.header(0x0101, 0x0202, 0x030303030303);
  w.alpha(11, "IBM     ");
  w.alpha(19, "Q");
  w.alpha(20, "H");
  expect_message<itch::OperationalHalt>(w, [](const itch::OperationalHalt& m) {
    expect_header(m.h, 0x0101, 0x0202, 0x030303030303);
    EXPECT_EQ(text(m.stock), "IBM     ");
    EXPECT_EQ(m.market_code, 'Q');
    EXPECT_EQ(m.action, 'H');
  });
}

TEST(ItchMessage, AddOrder) {  // 1.3.1, PAGE 13
  SpecMessage w('A', 36);
  w.header(0x1234, 0x5678, 0xFFFFFFFFFFFF);
  w.uint(11, 8, 0xFEDCBA9876543210);
  w.alpha(19, "B");
  w.uint(20, 4, 0xFFFFFFFF);
  w.alpha(24, "ZVZZT   ");
  w.uint(32, 4, 2000000000);
  expect_message<itch::AddOrder>(w, [](const itch::AddOrder& m) {
    expect_header(m.h, 0x1234, 0x5678, 0xFFFFFFFFFFFF);
    EXPECT_EQ(m.ref, 0xFEDCBA9876543210u);
    EXPECT_EQ(m.side, 'B');
    EXPECT_EQ(m.shares, 0xFFFFFFFFu);
    EXPECT_EQ(text(m.stock), "ZVZZT   ");
    EXPECT_EQ(m.price, 2000000000u);
  });
}

TEST(ItchMessage, AddOrderMpid) {  // 1.3.2, PAGE 13
  SpecMessage w('F', 40);
  w.header(0x9ABC, 0xDEF0, 0x0F0E0D0C0B0A);
  w.uint(11, 8, 0xFFFFFFFFFFFFFFFF);
  w.alpha(19, "S");
  w.uint(20, 4, 0x00010203);
  w.alpha(24, "GOOGL   ");
  w.uint(32, 4, 0x77359400);  // = 2000000000, as the spec writes it in hex
  w.alpha(36, "GSCO");
  expect_message<itch::AddOrderMpid>(w, [](const itch::AddOrderMpid& m) {
    expect_header(m.h, 0x9ABC, 0xDEF0, 0x0F0E0D0C0B0A);
    EXPECT_EQ(m.ref, 0xFFFFFFFFFFFFFFFFu);
    EXPECT_EQ(m.side, 'S');
    EXPECT_EQ(m.shares, 0x00010203u);
    EXPECT_EQ(text(m.stock), "GOOGL   ");
    EXPECT_EQ(m.price, 2000000000u);
    EXPECT_EQ(text(m.attribution), "GSCO");
  });
}

TEST(ItchMessage, OrderExecuted) {  // 1.4.1, PAGE 14
  SpecMessage w('E', 31);
  w.header(0x0203, 0x0405, 0x060708090A0B);
  w.uint(11, 8, 0x0102030405060708);
  w.uint(19, 4, 0xA1B2C3D4);
  w.uint(23, 8, 0xFFFFFFFFFFFFFFFF);
  expect_message<itch::OrderExecuted>(w, [](const itch::OrderExecuted& m) {
    expect_header(m.h, 0x0203, 0x0405, 0x060708090A0B);
    EXPECT_EQ(m.ref, 0x0102030405060708u);
    EXPECT_EQ(m.shares, 0xA1B2C3D4u);
    EXPECT_EQ(m.match, 0xFFFFFFFFFFFFFFFFu);
  });
}

TEST(ItchMessage, OrderExecutedWithPrice) {  // 1.4.2, PAGES 14-15
  SpecMessage w('C', 36);
  w.header(0xFFFF, 0x0000, 0x123456789ABC);
  w.uint(11, 8, 0x1112131415161718);
  w.uint(19, 4, 0x21222324);
  w.uint(23, 8, 0x3132333435363738);
  w.alpha(31, "N");
  w.uint(32, 4, 2000000000);
  expect_message<itch::OrderExecutedWithPrice>(w, [](const itch::OrderExecutedWithPrice& m) {
    expect_header(m.h, 0xFFFF, 0x0000, 0x123456789ABC);
    EXPECT_EQ(m.ref, 0x1112131415161718u);
    EXPECT_EQ(m.shares, 0x21222324u);
    EXPECT_EQ(m.match, 0x3132333435363738u);
    EXPECT_EQ(m.printable, 'N');
    EXPECT_EQ(m.price, 2000000000u);
  });
}

TEST(ItchMessage, OrderCancel) {  // 1.4.3, PAGE 15
  SpecMessage w('X', 23);
  w.header(0x00FF, 0xFF00, 0xFF00FF00FF00);
  w.uint(11, 8, 0x8877665544332211);
  w.uint(19, 4, 0x0000FFFF);
  expect_message<itch::OrderCancel>(w, [](const itch::OrderCancel& m) {
    expect_header(m.h, 0x00FF, 0xFF00, 0xFF00FF00FF00);
    EXPECT_EQ(m.ref, 0x8877665544332211u);
    EXPECT_EQ(m.shares, 0x0000FFFFu);
  });
}

TEST(ItchMessage, OrderDelete) {  // 1.4.4, PAGE 15
  SpecMessage w('D', 19);
  w.header(0x0F0F, 0xF0F0, 0x0000DEADBEEF);
  w.uint(11, 8, 0xCAFEBABEDEADBEEF);
  expect_message<itch::OrderDelete>(w, [](const itch::OrderDelete& m) {
    expect_header(m.h, 0x0F0F, 0xF0F0, 0x0000DEADBEEF);
    EXPECT_EQ(m.ref, 0xCAFEBABEDEADBEEFu);
  });
}

TEST(ItchMessage, OrderReplace) {  // 1.4.5, PAGE 16
  SpecMessage w('U', 35);
  w.header(0x4321, 0x8765, 0xFFFFFFFFFFFF);
  w.uint(11, 8, 0x0102030405060708);
  w.uint(19, 8, 0x090A0B0C0D0E0F10);
  w.uint(27, 4, 0xFFFFFFFF);
  w.uint(31, 4, 2000000000);
  expect_message<itch::OrderReplace>(w, [](const itch::OrderReplace& m) {
    expect_header(m.h, 0x4321, 0x8765, 0xFFFFFFFFFFFF);
    EXPECT_EQ(m.old_ref, 0x0102030405060708u);
    EXPECT_EQ(m.new_ref, 0x090A0B0C0D0E0F10u);
    EXPECT_EQ(m.shares, 0xFFFFFFFFu);
    EXPECT_EQ(m.price, 2000000000u);
  });
}

TEST(ItchMessage, Trade) {  // 1.5.1, PAGES 16-17
  // NASDAQ sends a zero Order Reference here; a non-zero one tests the offset.
  SpecMessage w('P', 44);
  w.header(0x5A5A, 0xA5A5, 0x0000000001FF);
  w.uint(11, 8, 0x0807060504030201);
  w.alpha(19, "B");
  w.uint(20, 4, 0x7FFFFFFF);
  w.alpha(24, "TSLA    ");
  w.uint(32, 4, 0x01020304);
  w.uint(36, 8, 0xFFFFFFFFFFFFFFFE);
  expect_message<itch::Trade>(w, [](const itch::Trade& m) {
    expect_header(m.h, 0x5A5A, 0xA5A5, 0x0000000001FF);
    EXPECT_EQ(m.ref, 0x0807060504030201u);
    EXPECT_EQ(m.side, 'B');
    EXPECT_EQ(m.shares, 0x7FFFFFFFu);
    EXPECT_EQ(text(m.stock), "TSLA    ");
    EXPECT_EQ(m.price, 0x01020304u);
    EXPECT_EQ(m.match, 0xFFFFFFFFFFFFFFFEu);
  });
}

TEST(ItchMessage, CrossTrade) {  // 1.5.2, PAGE 17 (Shares is 8 bytes here)
  SpecMessage w('Q', 40);
  w.header(0x0777, 0x0888, 0x000102030405);
  w.uint(11, 8, 0xFFFFFFFFFFFFFFFF);
  w.alpha(19, "NVDA    ");
  w.uint(27, 4, 2000000000);
  w.uint(31, 8, 0x1020304050607080);
  w.alpha(39, "C");
  expect_message<itch::CrossTrade>(w, [](const itch::CrossTrade& m) {
    expect_header(m.h, 0x0777, 0x0888, 0x000102030405);
    EXPECT_EQ(m.shares, 0xFFFFFFFFFFFFFFFFu);
    EXPECT_EQ(text(m.stock), "NVDA    ");
    EXPECT_EQ(m.price, 2000000000u);
    EXPECT_EQ(m.match, 0x1020304050607080u);
    EXPECT_EQ(m.cross_type, 'C');
  });
}

TEST(ItchMessage, BrokenTrade) {  // 1.5.3, PAGE 18
  SpecMessage w('B', 19);
  w.header(0x0909, 0x0A0A, 0xFFFFFFFFFFFF);
  w.uint(11, 8, 0x00000000000000FF);
  expect_message<itch::BrokenTrade>(w, [](const itch::BrokenTrade& m) {
    expect_header(m.h, 0x0909, 0x0A0A, 0xFFFFFFFFFFFF);
    EXPECT_EQ(m.match, 0xFFu);
  });
}

TEST(ItchMessage, Noii) {  // 1.6, PAGES 18-19
  SpecMessage w('I', 50);
  w.header(0x1001, 0x2002, 0x300330033003);
  w.uint(11, 8, 0x0102030405060708);  // Paired Shares
  w.uint(19, 8, 0xFFFFFFFFFFFFFFFF);  // Imbalance Shares
  w.alpha(27, "P");
  w.alpha(28, "AMZN    ");
  w.uint(36, 4, 2000000000);          // Far Price
  w.uint(40, 4, 0x01020304);          // Near Price
  w.uint(44, 4, 0x7FFFFFFF);          // Current Reference Price
  w.alpha(48, "A");
  w.alpha(49, "L");
  expect_message<itch::Noii>(w, [](const itch::Noii& m) {
    expect_header(m.h, 0x1001, 0x2002, 0x300330033003);
    EXPECT_EQ(m.paired_shares, 0x0102030405060708u);
    EXPECT_EQ(m.imbalance_shares, 0xFFFFFFFFFFFFFFFFu);
    EXPECT_EQ(m.imbalance_direction, 'P');
    EXPECT_EQ(text(m.stock), "AMZN    ");
    EXPECT_EQ(m.far_price, 2000000000u);
    EXPECT_EQ(m.near_price, 0x01020304u);
    EXPECT_EQ(m.reference_price, 0x7FFFFFFFu);
    EXPECT_EQ(m.cross_type, 'A');
    EXPECT_EQ(m.price_variation, 'L');
  });
}

TEST(ItchMessage, RetailInterest) {  // 1.7, PAGES 19-20
  SpecMessage w('N', 20);
  w.header(0xEEEE, 0x1DDD, 0x00000000AAAA);
  w.alpha(11, "META    ");
  w.alpha(19, "A");
  expect_message<itch::RetailInterest>(w, [](const itch::RetailInterest& m) {
    expect_header(m.h, 0xEEEE, 0x1DDD, 0x00000000AAAA);
    EXPECT_EQ(text(m.stock), "META    ");
    EXPECT_EQ(m.interest_flag, 'A');
  });
}

TEST(ItchMessage, DirectListingPriceDiscovery) {  // 1.8, PAGE 20
  SpecMessage w('O', 48);
  w.header(0x0C0C, 0x0D0D, 0xFFFFFFFFFFFF);
  w.alpha(11, "DLCR    ");
  w.alpha(19, "Y");
  w.uint(20, 4, 0x01010101);          // Minimum Allowable Price
  w.uint(24, 4, 2000000000);          // Maximum Allowable Price
  w.uint(28, 4, 0x02030405);          // Near Execution Price
  w.uint(32, 8, 0xFFEEDDCCBBAA9988);  // Near Execution Time
  w.uint(40, 4, 0x0A0B0C0D);          // Lower Price Range Collar
  w.uint(44, 4, 0xFFFFFFFF);          // Upper Price Range Collar
  expect_message<itch::DirectListingPriceDiscovery>(w, [](const itch::DirectListingPriceDiscovery& m) {
    expect_header(m.h, 0x0C0C, 0x0D0D, 0xFFFFFFFFFFFF);
    EXPECT_EQ(text(m.stock), "DLCR    ");
    EXPECT_EQ(m.open_eligibility, 'Y');
    EXPECT_EQ(m.min_price, 0x01010101u);
    EXPECT_EQ(m.max_price, 2000000000u);
    EXPECT_EQ(m.near_price, 0x02030405u);
    EXPECT_EQ(m.near_time, 0xFFEEDDCCBBAA9988u);
    EXPECT_EQ(m.lower_collar, 0x0A0B0C0Du);
    EXPECT_EQ(m.upper_collar, 0xFFFFFFFFu);
  });
}

// ---------------------------------------------------------------------------------------------
// The type table as a whole.

TEST(ItchTypes, MessageLengthIsNonZeroForExactlyTheSpecTypes) {
  size_t known = 0;
  for (unsigned b = 0; b < 256; ++b) {
    EXPECT_EQ(itch::message_length(static_cast<uint8_t>(b)), spec_length(b)) << "type byte " << b;
    if (itch::message_length(static_cast<uint8_t>(b)) > 0) ++known;
  }
  EXPECT_EQ(known, kSpecTypeCount);
}

TEST(ItchTypes, AllTypesListsEachSpecTypeOnce) {
  const std::string all = itch::kAllTypes;
  EXPECT_EQ(all.size(), kSpecTypeCount);
  std::set<char> listed(all.begin(), all.end());
  EXPECT_EQ(listed.size(), all.size()) << "duplicate in kAllTypes";
  std::set<char> spec;
  for (const SpecType& t : kSpecTypes) spec.insert(t.type);
  EXPECT_EQ(listed, spec);
}

TEST(ItchTypes, MaxMessageLengthIsTheLongestSpecType) {
  size_t longest = 0;
  for (const SpecType& t : kSpecTypes) longest = std::max(longest, t.length);
  EXPECT_EQ(longest, 50u);  // NOII
  EXPECT_EQ(itch::kMaxMessageLength, longest);
}

TEST(ItchTypes, MakeSymbolPadsWithSpacesAndTruncatesAtEight) {
  EXPECT_EQ(text(itch::make_symbol("AAPL")), "AAPL    ");
  EXPECT_EQ(text(itch::make_symbol("")), "        ");
  EXPECT_EQ(text(itch::make_symbol("ABCDEFGH")), "ABCDEFGH");
  EXPECT_EQ(text(itch::make_symbol("ABCDEFGHIJ")), "ABCDEFGH");
}

// ---------------------------------------------------------------------------------------------
// Dispatch edge cases. Buffers are exactly the framed length so an over-read is an ASan error.

TEST(ItchDispatch, UnknownTypeByteCallsNoHandler) {
  for (unsigned b = 0; b < 256; ++b) {
    if (spec_length(b) != 0) continue;
    for (const size_t len : {size_t{1}, size_t{12}, size_t{50}, size_t{51}}) {
      std::vector<uint8_t> bytes(len, 0x20);
      bytes[0] = static_cast<uint8_t>(b);
      const auto wire = exact_copy(bytes.data(), len);
      CallLog handler;
      EXPECT_EQ(itch::dispatch(wire.get(), len, handler), itch::DispatchResult::kUnknownType)
          << "type byte " << b << " len " << len;
      EXPECT_TRUE(handler.calls.empty()) << "type byte " << b;
    }
  }
}

TEST(ItchDispatch, NamedUnknownTypes) {
  for (const uint8_t b : {uint8_t{'Z'}, uint8_t{0x00}, uint8_t{0xFF}, uint8_t{'a'}, uint8_t{'T'}}) {
    const uint8_t bytes[12] = {b};
    CallLog handler;
    EXPECT_EQ(itch::dispatch(bytes, sizeof bytes, handler), itch::DispatchResult::kUnknownType) << int{b};
    EXPECT_TRUE(handler.calls.empty());
  }
}

TEST(ItchDispatch, KnownTypeWithWrongLengthCallsNoHandler) {
  for (const SpecType& t : kSpecTypes) {
    for (const size_t len : {size_t{1}, t.length - 1, t.length + 1, itch::kMaxMessageLength + 1}) {
      if (len == t.length) continue;
      std::vector<uint8_t> bytes(len, 0);
      bytes[0] = static_cast<uint8_t>(t.type);
      const auto wire = exact_copy(bytes.data(), len);
      CallLog handler;
      EXPECT_EQ(itch::dispatch(wire.get(), len, handler), itch::DispatchResult::kBadLength)
          << t.where << " len " << len;
      EXPECT_TRUE(handler.calls.empty()) << t.where << " len " << len;
    }
  }
}

TEST(ItchDispatch, EveryKnownTypeAtSpecLengthCallsItsHandlerOnce) {
  for (const SpecType& t : kSpecTypes) {
    std::vector<uint8_t> bytes(t.length, 0);
    bytes[0] = static_cast<uint8_t>(t.type);
    const auto wire = exact_copy(bytes.data(), t.length);
    CallLog handler;
    EXPECT_EQ(itch::dispatch(wire.get(), t.length, handler), itch::DispatchResult::kOk) << t.where;
    EXPECT_EQ(handler.calls, std::vector<char>{t.type}) << t.where;
  }
}

TEST(ItchDispatch, EmptyMessageIsReportedWithoutReadingTheBuffer) {
  const uint8_t add_type = 'A';  // would be an Add Order if dispatch looked at it
  CallLog handler;
  EXPECT_EQ(itch::dispatch(&add_type, 0, handler), itch::DispatchResult::kEmpty);
  EXPECT_EQ(itch::dispatch(nullptr, 0, handler), itch::DispatchResult::kEmpty);
  EXPECT_TRUE(handler.calls.empty());
}

// The documented pattern: derive from IgnoreAll, bring its overloads in, override what you need.
struct AddOrderCounter : itch::IgnoreAll {
  using IgnoreAll::on;
  int add_orders = 0;
  void on(const itch::AddOrder&) noexcept { ++add_orders; }
};

TEST(ItchDispatch, IgnoreAllHandlerSeesOnlyWhatItOverrides) {
  AddOrderCounter handler;
  for (const SpecType& t : kSpecTypes) {
    std::vector<uint8_t> bytes(t.length, 0);
    bytes[0] = static_cast<uint8_t>(t.type);
    EXPECT_EQ(itch::dispatch(bytes.data(), bytes.size(), handler), itch::DispatchResult::kOk) << t.where;
  }
  EXPECT_EQ(handler.add_orders, 1);
}

}  // namespace
