// OUCH 4.2 wire layout: every message type's bytes are laid out field by field from the offset tables of
// shared/specs/ouch42.txt (copied below, one table per message), then decoded, re-encoded and
// dispatched through core. Expected bytes never come from core's encoders.
//
// The same tables drive a property test: random values for every field, laid out at the table's
// offsets, must decode to those values and re-encode to the same bytes. Bad input: every wrong length
// of every type, every unknown type byte, in exact-size heap buffers so ASan sees any read past the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "core/ouch42.hpp"

namespace {

namespace ouch = pmm::ouch;
using ouch::Direction;

enum class Kind { kAlpha, kUint };  // Alpha: bytes as they are; Integer/Price(4)/Timestamp: big-endian
struct FieldSpec {
  const char* name;
  size_t offset;
  size_t width;
  Kind kind;
};
constexpr Kind A = Kind::kAlpha;
constexpr Kind U = Kind::kUint;

// One field's value, as the test writes it and as it reads it back from a decoded struct.
struct Value {
  std::string alpha;  // Kind::kAlpha
  uint64_t uint = 0;  // Kind::kUint
  bool operator==(const Value&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Value& v) {
  return os << "{alpha '" << v.alpha << "', uint " << v.uint << "}";
}

template <size_t N>
Value a(const std::array<char, N>& s) {
  return Value{std::string(s.data(), N), 0};
}
Value a(char c) { return Value{std::string(1, c), 0}; }
Value u(uint64_t v) { return Value{"", v}; }

// Exactly `n` bytes on the heap, so ASan flags any read past the framed length.
std::unique_ptr<uint8_t[]> exact_copy(const uint8_t* p, size_t n) {
  std::unique_ptr<uint8_t[]> out(new uint8_t[n]);
  if (n != 0) std::memcpy(out.get(), p, n);
  return out;
}

// Records every handler call; keeps the decoded fields of the last message.
struct Recorder {
  std::vector<char> calls;
  template <class M>
  void on(const M& m) {
    calls.push_back(M::kType);
    last_type = &typeid(M);
    last.assign(reinterpret_cast<const uint8_t*>(&m), reinterpret_cast<const uint8_t*>(&m) + sizeof m);
  }
  const std::type_info* last_type = nullptr;
  std::vector<uint8_t> last;  // the struct's object bytes; read back as the type named by last_type
};

ouch::DecodeResult dispatch(Direction d, const uint8_t* p, size_t len, Recorder& r) {
  return d == Direction::kInbound ? ouch::dispatch_inbound(p, len, r) : ouch::dispatch_outbound(p, len, r);
}

// One message type: its spec table, how to read the fields back from our struct, and our decoder,
// encoder and dispatcher for it.
struct TypeCase {
  Direction direction;
  char type;
  size_t spec_length;  // "total length" of the spec's table
  const char* name;    // spec's name
  std::vector<FieldSpec> fields;
  std::function<std::vector<Value>(const uint8_t*)> decode_values;  // our decode, fields in table order
  std::function<void(const uint8_t*, uint8_t*)> reencode;           // our encode(decode(bytes))
  std::function<std::vector<Value>(const Recorder&)> recorded_values;
  size_t length = 0;                                                // our Msg::kLength
};

template <class Msg>
TypeCase make_case(size_t spec_length, const char* name, std::vector<FieldSpec> fields,
                   std::vector<Value> (*values)(const Msg&)) {
  TypeCase c;
  c.direction = Msg::kDirection;
  c.type = Msg::kType;
  c.spec_length = spec_length;
  c.name = name;
  c.fields = std::move(fields);
  c.decode_values = [values](const uint8_t* p) {
    Msg m;
    ouch::decode(p, m);
    return values(m);
  };
  c.reencode = [](const uint8_t* p, uint8_t* out) {
    Msg m;
    ouch::decode(p, m);
    ouch::encode(m, out);
  };
  c.recorded_values = [values](const Recorder& r) {
    if (r.last_type == nullptr || *r.last_type != typeid(Msg)) {
      ADD_FAILURE() << "handler got another message type than " << Msg::kType;
      return std::vector<Value>{};
    }
    static_assert(std::is_trivially_copyable_v<Msg>);
    Msg m;
    std::memcpy(&m, r.last.data(), sizeof m);
    return values(m);
  };
  c.length = Msg::kLength;
  return c;
}

// The spec's tables (shared/specs/ouch42.txt, FIELD TABLES), Message Type at offset 0 left out.
std::vector<TypeCase> all_cases() {
  std::vector<TypeCase> cs;
  // ---- INBOUND ----
  cs.push_back(make_case<ouch::EnterOrder>(49, "Enter Order",
      {{"Order Token", 1, 14, A}, {"Buy/Sell Indicator", 15, 1, A}, {"Shares", 16, 4, U}, {"Stock", 20, 8, A},
       {"Price", 28, 4, U}, {"Time In Force", 32, 4, U}, {"Firm", 36, 4, A}, {"Display", 40, 1, A},
       {"Capacity", 41, 1, A}, {"Intermarket Sweep Eligibility", 42, 1, A}, {"Minimum Quantity", 43, 4, U},
       {"Cross Type", 47, 1, A}, {"Customer Type", 48, 1, A}},
      +[](const ouch::EnterOrder& m) {
        return std::vector<Value>{a(m.token), a(m.side), u(m.shares), a(m.stock), u(m.price),
                                  u(m.time_in_force), a(m.firm), a(m.display), a(m.capacity),
                                  a(m.intermarket_sweep), u(m.min_quantity), a(m.cross_type), a(m.customer_type)};
      }));
  cs.push_back(make_case<ouch::ReplaceOrder>(47, "Replace Order",
      {{"Existing Order Token", 1, 14, A}, {"Replacement Order Token", 15, 14, A}, {"Shares", 29, 4, U},
       {"Price", 33, 4, U}, {"Time In Force", 37, 4, U}, {"Display", 41, 1, A},
       {"Intermarket Sweep Eligibility", 42, 1, A}, {"Minimum Quantity", 43, 4, U}},
      +[](const ouch::ReplaceOrder& m) {
        return std::vector<Value>{a(m.existing_token), a(m.replacement_token), u(m.shares), u(m.price),
                                  u(m.time_in_force), a(m.display), a(m.intermarket_sweep), u(m.min_quantity)};
      }));
  cs.push_back(make_case<ouch::CancelOrder>(19, "Cancel Order", {{"Order Token", 1, 14, A}, {"Shares", 15, 4, U}},
      +[](const ouch::CancelOrder& m) { return std::vector<Value>{a(m.token), u(m.shares)}; }));
  cs.push_back(make_case<ouch::ModifyOrder>(20, "Modify Order",
      {{"Order Token", 1, 14, A}, {"Buy/Sell Indicator", 15, 1, A}, {"Shares", 16, 4, U}},
      +[](const ouch::ModifyOrder& m) { return std::vector<Value>{a(m.token), a(m.side), u(m.shares)}; }));
  cs.push_back(make_case<ouch::TradeNow>(15, "Trade Now", {{"Order Token", 1, 14, A}},
      +[](const ouch::TradeNow& m) { return std::vector<Value>{a(m.token)}; }));
  // ---- OUTBOUND ----
  cs.push_back(make_case<ouch::SystemEvent>(10, "System Event", {{"Timestamp", 1, 8, U}, {"Event Code", 9, 1, A}},
      +[](const ouch::SystemEvent& m) { return std::vector<Value>{u(m.timestamp), a(m.event_code)}; }));
  cs.push_back(make_case<ouch::Accepted>(66, "Accepted",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Buy/Sell Indicator", 23, 1, A}, {"Shares", 24, 4, U},
       {"Stock", 28, 8, A}, {"Price", 36, 4, U}, {"Time In Force", 40, 4, U}, {"Firm", 44, 4, A},
       {"Display", 48, 1, A}, {"Order Reference Number", 49, 8, U}, {"Capacity", 57, 1, A},
       {"Intermarket Sweep Eligibility", 58, 1, A}, {"Minimum Quantity", 59, 4, U}, {"Cross Type", 63, 1, A},
       {"Order State", 64, 1, A}, {"BBO Weight Indicator", 65, 1, A}},
      +[](const ouch::Accepted& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), a(m.side), u(m.shares), a(m.stock), u(m.price),
                                  u(m.time_in_force), a(m.firm), a(m.display), u(m.order_ref), a(m.capacity),
                                  a(m.intermarket_sweep), u(m.min_quantity), a(m.cross_type), a(m.order_state),
                                  a(m.bbo_weight)};
      }));
  cs.push_back(make_case<ouch::Replaced>(80, "Replaced",
      {{"Timestamp", 1, 8, U}, {"Replacement Order Token", 9, 14, A}, {"Buy/Sell Indicator", 23, 1, A},
       {"Shares", 24, 4, U}, {"Stock", 28, 8, A}, {"Price", 36, 4, U}, {"Time In Force", 40, 4, U},
       {"Firm", 44, 4, A}, {"Display", 48, 1, A}, {"Order Reference Number", 49, 8, U}, {"Capacity", 57, 1, A},
       {"Intermarket Sweep Eligibility", 58, 1, A}, {"Minimum Quantity", 59, 4, U}, {"Cross Type", 63, 1, A},
       {"Order State", 64, 1, A}, {"Previous Order Token", 65, 14, A}, {"BBO Weight Indicator", 79, 1, A}},
      +[](const ouch::Replaced& m) {
        return std::vector<Value>{u(m.timestamp), a(m.replacement_token), a(m.side), u(m.shares), a(m.stock),
                                  u(m.price), u(m.time_in_force), a(m.firm), a(m.display), u(m.order_ref),
                                  a(m.capacity), a(m.intermarket_sweep), u(m.min_quantity), a(m.cross_type),
                                  a(m.order_state), a(m.previous_token), a(m.bbo_weight)};
      }));
  cs.push_back(make_case<ouch::Canceled>(28, "Canceled",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Decrement Shares", 23, 4, U}, {"Reason", 27, 1, A}},
      +[](const ouch::Canceled& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), u(m.decrement_shares), a(m.reason)};
      }));
  cs.push_back(make_case<ouch::AiqCanceled>(37, "AIQ Canceled",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Decrement Shares", 23, 4, U}, {"Reason", 27, 1, A},
       {"Quantity Prevented from Trading", 28, 4, U}, {"Execution Price", 32, 4, U}, {"Liquidity Flag", 36, 1, A}},
      +[](const ouch::AiqCanceled& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), u(m.decrement_shares), a(m.reason),
                                  u(m.quantity_prevented), u(m.execution_price), a(m.liquidity_flag)};
      }));
  cs.push_back(make_case<ouch::Executed>(40, "Executed",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Executed Shares", 23, 4, U},
       {"Execution Price", 27, 4, U}, {"Liquidity Flag", 31, 1, A}, {"Match Number", 32, 8, U}},
      +[](const ouch::Executed& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), u(m.executed_shares), u(m.execution_price),
                                  a(m.liquidity_flag), u(m.match)};
      }));
  cs.push_back(make_case<ouch::BrokenTrade>(32, "Broken Trade",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Match Number", 23, 8, U}, {"Reason", 31, 1, A}},
      +[](const ouch::BrokenTrade& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), u(m.match), a(m.reason)};
      }));
  cs.push_back(make_case<ouch::ExecutedWithReferencePrice>(45, "Executed with Reference Price",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Executed Shares", 23, 4, U},
       {"Execution Price", 27, 4, U}, {"Liquidity Flag", 31, 1, A}, {"Match Number", 32, 8, U},
       {"Reference Price", 40, 4, U}, {"Reference Price Type", 44, 1, A}},
      +[](const ouch::ExecutedWithReferencePrice& m) {
        return std::vector<Value>{u(m.timestamp),      a(m.token), u(m.executed_shares),   u(m.execution_price),
                                  a(m.liquidity_flag), u(m.match), u(m.reference_price), a(m.reference_price_type)};
      }));
  cs.push_back(make_case<ouch::TradeCorrection>(41, "Trade Correction",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Executed Shares", 23, 4, U},
       {"Execution Price", 27, 4, U}, {"Liquidity Flag", 31, 1, A}, {"Match Number", 32, 8, U}, {"Reason", 40, 1, A}},
      +[](const ouch::TradeCorrection& m) {
        return std::vector<Value>{u(m.timestamp),      a(m.token), u(m.executed_shares), u(m.execution_price),
                                  a(m.liquidity_flag), u(m.match), a(m.reason)};
      }));
  cs.push_back(make_case<ouch::Rejected>(24, "Rejected",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Reason", 23, 1, A}},
      +[](const ouch::Rejected& m) { return std::vector<Value>{u(m.timestamp), a(m.token), a(m.reason)}; }));
  cs.push_back(make_case<ouch::CancelPending>(23, "Cancel Pending", {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}},
      +[](const ouch::CancelPending& m) { return std::vector<Value>{u(m.timestamp), a(m.token)}; }));
  cs.push_back(make_case<ouch::CancelReject>(23, "Cancel Reject", {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}},
      +[](const ouch::CancelReject& m) { return std::vector<Value>{u(m.timestamp), a(m.token)}; }));
  cs.push_back(make_case<ouch::PriorityUpdate>(36, "Order Priority Update",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Price", 23, 4, U}, {"Display", 27, 1, A},
       {"Order Reference Number", 28, 8, U}},
      +[](const ouch::PriorityUpdate& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), u(m.price), a(m.display), u(m.order_ref)};
      }));
  cs.push_back(make_case<ouch::OrderModified>(28, "Order Modified",
      {{"Timestamp", 1, 8, U}, {"Order Token", 9, 14, A}, {"Buy/Sell Indicator", 23, 1, A}, {"Shares", 24, 4, U}},
      +[](const ouch::OrderModified& m) {
        return std::vector<Value>{u(m.timestamp), a(m.token), a(m.side), u(m.shares)};
      }));
  return cs;
}

// The spec's MESSAGE TYPES section, the extras with a field table included (N, G, F); K has none.
constexpr char kSpecInbound[] = "OUXMN";
constexpr char kSpecOutbound[] = "SAUCDEBJPITMGF";

// Lays the values out at the table's offsets. Every byte must be written exactly once, so a table
// that leaves a hole, overlaps, or runs past the spec's total length fails.
std::vector<uint8_t> lay_out(const TypeCase& c, const std::vector<Value>& values) {
  std::vector<uint8_t> bytes(c.spec_length, 0);
  std::vector<int> writes(c.spec_length, 0);
  auto put = [&](size_t off, uint8_t b) {
    if (off >= bytes.size()) {
      ADD_FAILURE() << c.name << ": byte at offset " << off << " past the spec length " << bytes.size();
      return;
    }
    bytes[off] = b;
    ++writes[off];
  };
  put(0, static_cast<uint8_t>(c.type));
  for (size_t i = 0; i < c.fields.size(); ++i) {
    const FieldSpec& f = c.fields[i];
    if (f.kind == Kind::kAlpha) {
      EXPECT_EQ(values[i].alpha.size(), f.width) << f.name;
      for (size_t k = 0; k < f.width && k < values[i].alpha.size(); ++k)
        put(f.offset + k, static_cast<uint8_t>(values[i].alpha[k]));
    } else {
      for (size_t k = 0; k < f.width; ++k)
        put(f.offset + k, static_cast<uint8_t>(values[i].uint >> (8 * (f.width - 1 - k))));
    }
  }
  for (size_t i = 0; i < writes.size(); ++i)
    EXPECT_EQ(writes[i], 1) << c.name << ": byte " << i << " written " << writes[i] << " times";
  return bytes;
}

// Decode, re-encode and dispatch one message's bytes; `values` are what the table put there.
void expect_round_trip(const TypeCase& c, const std::vector<uint8_t>& bytes, const std::vector<Value>& values) {
  const size_t len = bytes.size();
  const auto wire = exact_copy(bytes.data(), len);
  EXPECT_EQ(c.decode_values(wire.get()), values) << "decode";

  // Two fills: a byte encode forgets to write shows up under one of them; guard bytes catch overruns.
  for (const uint8_t fill : {uint8_t{0x00}, uint8_t{0xFF}}) {
    std::vector<uint8_t> out(len + 8, fill);
    c.reencode(wire.get(), out.data());
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len)), bytes)
        << "encode(decode(bytes)), fill " << int{fill};
    for (size_t i = len; i < out.size(); ++i) EXPECT_EQ(out[i], fill) << "encode wrote past the end at " << i;
  }

  Recorder r;
  const ouch::DecodeResult res = dispatch(c.direction, wire.get(), len, r);
  EXPECT_EQ(res.status, ouch::DecodeStatus::kOk);
  EXPECT_EQ(res.type, static_cast<uint8_t>(c.type));
  EXPECT_EQ(res.length, len);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0], c.type);
  EXPECT_EQ(c.recorded_values(r), values) << "dispatch";
}

std::string context(const TypeCase& c) {
  return std::string(c.direction == Direction::kInbound ? "inbound '" : "outbound '") + c.type + "' " + c.name;
}

TEST(Ouch42Types, LengthTablesMatchTheSpecForEveryTypeByte) {
  const std::vector<TypeCase> cs = all_cases();
  for (unsigned t = 0; t < 256; ++t) {
    size_t in = 0, out = 0;
    for (const TypeCase& c : cs) {
      if (static_cast<uint8_t>(c.type) != t) continue;
      (c.direction == Direction::kInbound ? in : out) = c.spec_length;
    }
    const auto b = static_cast<uint8_t>(t);
    EXPECT_EQ(ouch::inbound_length(b), in) << "type byte " << t;
    EXPECT_EQ(ouch::outbound_length(b), out) << "type byte " << t;
    EXPECT_EQ(ouch::message_length(Direction::kInbound, b), in);
    EXPECT_EQ(ouch::message_length(Direction::kOutbound, b), out);
    EXPECT_EQ(ouch::message_name(Direction::kInbound, b) != nullptr, in != 0) << t;
    EXPECT_EQ(ouch::message_name(Direction::kOutbound, b) != nullptr, out != 0) << t;
  }
  EXPECT_EQ(std::string(ouch::kInboundTypes).size(), std::string(kSpecInbound).size());
  EXPECT_EQ(std::string(ouch::kOutboundTypes).size(), std::string(kSpecOutbound).size());
  for (const char* t = kSpecInbound; *t != '\0'; ++t)
    EXPECT_NE(std::string(ouch::kInboundTypes).find(*t), std::string::npos) << *t;
  for (const char* t = kSpecOutbound; *t != '\0'; ++t)
    EXPECT_NE(std::string(ouch::kOutboundTypes).find(*t), std::string::npos) << *t;
  size_t longest = 0;
  for (const TypeCase& c : cs) {
    SCOPED_TRACE(context(c));
    EXPECT_EQ(c.length, c.spec_length);
    EXPECT_STREQ(ouch::message_name(c.direction, static_cast<uint8_t>(c.type)), c.name);
    longest = std::max(longest, c.spec_length);
  }
  EXPECT_EQ(ouch::kMaxMessageLength, longest);
  EXPECT_EQ(cs.size(), 19u);  // 5 inbound + 14 outbound tables
}

// Distinct values per field: every integer byte differs from its neighbours' and alpha fields use a
// different letter run each, so a field read from a neighbour's offset or in the wrong byte order fails.
TEST(Ouch42Types, EveryTypeAtTheSpecsOffsets) {
  for (const TypeCase& c : all_cases()) {
    SCOPED_TRACE(context(c));
    std::vector<Value> values;
    uint8_t next_byte = 0x11;
    char next_char = 'A';
    for (const FieldSpec& f : c.fields) {
      if (f.kind == Kind::kAlpha) {
        std::string s;
        for (size_t k = 0; k < f.width; ++k) {
          s += next_char;
          next_char = next_char == 'Z' ? 'a' : next_char == 'z' ? '0' : next_char == '9' ? 'A' : char(next_char + 1);
        }
        values.push_back(Value{s, 0});
      } else {
        uint64_t v = 0;
        for (size_t k = 0; k < f.width; ++k) {
          v = v << 8 | next_byte;
          next_byte = static_cast<uint8_t>(next_byte + 0x13);
        }
        values.push_back(u(v));
      }
    }
    expect_round_trip(c, lay_out(c, values), values);
  }
}

// Property test: random field values of every type (any byte in alpha fields: the codec copies them
// as they are), with all-zero and all-one integers mixed in.
TEST(Ouch42Types, RandomFieldValuesRoundTrip) {
  std::mt19937_64 rng(20240421);
  const std::vector<TypeCase> cs = all_cases();
  for (int iter = 0; iter < 300; ++iter) {
    for (const TypeCase& c : cs) {
      std::vector<Value> values;
      for (const FieldSpec& f : c.fields) {
        if (f.kind == Kind::kAlpha) {
          std::string s(f.width, ' ');
          for (char& ch : s) ch = static_cast<char>(rng());
          values.push_back(Value{s, 0});
        } else {
          uint64_t v = rng();
          switch (rng() % 8) {
            case 0: v = 0; break;
            case 1: v = ~uint64_t{0}; break;
            default: break;
          }
          if (f.width < 8) v &= (uint64_t{1} << (8 * f.width)) - 1;
          values.push_back(u(v));
        }
      }
      SCOPED_TRACE(context(c) + ", iteration " + std::to_string(iter));
      expect_round_trip(c, lay_out(c, values), values);
      if (::testing::Test::HasFailure()) return;  // one failing case is enough to read
    }
  }
}

// Bytes another implementation wrote (a Python struct.pack script, checked against tshark's dissector):
// a literal cross-check that does not even go through the test's tables.
std::vector<uint8_t> from_hex(const char* hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  return out;
}

TEST(Ouch42Types, LiteralEnterOrderAndAccepted) {
  const std::vector<uint8_t> enter = from_hex(
      "4f544f4b454e30303030303030303142000000644141504c202020200016e3c40001869e4649524d59504e000000004e52");
  ouch::EnterOrder e;
  e.token = ouch::make_token("TOKEN000000001");
  e.side = 'B';
  e.shares = 100;
  e.stock = ouch::make_stock("AAPL");
  e.price = 1500100;  // 150.0100
  e.time_in_force = ouch::kTifMarketHours;
  e.firm = ouch::make_firm("FIRM");
  e.display = 'Y';
  e.capacity = 'P';
  e.intermarket_sweep = 'N';
  e.min_quantity = 0;
  e.cross_type = 'N';
  e.customer_type = 'R';
  std::vector<uint8_t> out(ouch::EnterOrder::kLength);
  ouch::encode(e, out.data());
  EXPECT_EQ(out, enter);

  const std::vector<uint8_t> accepted = from_hex(
      "4100001f1ad635bd15544f4b454e30303030303030303142000000644141504c202020200016e3c40001869e4649524d59000000"
      "000000004d504e000000004e4c20");
  ASSERT_EQ(accepted.size(), ouch::Accepted::kLength);
  ouch::Accepted m;
  ouch::decode(accepted.data(), m);
  EXPECT_EQ(m.timestamp, 34200123456789u);  // 9:30:00.123456789
  EXPECT_EQ(std::string(m.token.data(), 14), "TOKEN000000001");
  EXPECT_EQ(m.side, 'B');
  EXPECT_EQ(m.shares, 100u);
  EXPECT_EQ(std::string(m.stock.data(), 8), "AAPL    ");
  EXPECT_EQ(m.price, 1500100u);
  EXPECT_EQ(m.time_in_force, 99998u);
  EXPECT_EQ(std::string(m.firm.data(), 4), "FIRM");
  EXPECT_EQ(m.display, 'Y');
  EXPECT_EQ(m.order_ref, 77u);
  EXPECT_EQ(m.capacity, 'P');
  EXPECT_EQ(m.intermarket_sweep, 'N');
  EXPECT_EQ(m.min_quantity, 0u);
  EXPECT_EQ(m.cross_type, 'N');
  EXPECT_EQ(m.order_state, 'L');
  EXPECT_EQ(m.bbo_weight, ' ');
}

// Every length from 0 to one past the longest message, for every type, in an exact-size buffer:
// never a handler call, never a read past the end (ASan), and the result names type and both lengths.
TEST(Ouch42Dispatch, EveryWrongLengthOfEveryTypeIsMalformed) {
  for (const TypeCase& c : all_cases()) {
    SCOPED_TRACE(context(c));
    for (size_t len = 0; len <= ouch::kMaxMessageLength + 1; ++len) {
      if (len == c.spec_length) continue;
      std::vector<uint8_t> bytes(len, 0x41);
      if (len != 0) bytes[0] = static_cast<uint8_t>(c.type);
      const auto wire = exact_copy(bytes.data(), len);
      Recorder r;
      const ouch::DecodeResult res = dispatch(c.direction, wire.get(), len, r);
      EXPECT_TRUE(r.calls.empty()) << "length " << len;
      if (len == 0) {
        EXPECT_EQ(res.status, ouch::DecodeStatus::kEmpty);
        continue;
      }
      EXPECT_EQ(res.status, ouch::DecodeStatus::kBadLength) << "length " << len;
      EXPECT_EQ(res.type, static_cast<uint8_t>(c.type));
      EXPECT_EQ(res.length, len);
      EXPECT_EQ(res.expected, c.spec_length);
    }
  }
}

TEST(Ouch42Dispatch, EveryUnknownTypeByteIsReportedAndSkipped) {
  for (const Direction d : {Direction::kInbound, Direction::kOutbound}) {
    const std::string known = d == Direction::kInbound ? kSpecInbound : kSpecOutbound;
    for (unsigned t = 0; t < 256; ++t) {
      if (known.find(static_cast<char>(t)) != std::string::npos) continue;
      for (const size_t len : {size_t{1}, size_t{19}, size_t{49}, size_t{80}}) {
        std::vector<uint8_t> bytes(len, 0);
        bytes[0] = static_cast<uint8_t>(t);
        const auto wire = exact_copy(bytes.data(), len);
        Recorder r;
        const ouch::DecodeResult res = dispatch(d, wire.get(), len, r);
        EXPECT_EQ(res.status, ouch::DecodeStatus::kUnknownType) << "type byte " << t << " length " << len;
        EXPECT_EQ(res.type, t);
        EXPECT_EQ(res.length, len);
        EXPECT_EQ(res.expected, 0u);
        EXPECT_TRUE(r.calls.empty());
      }
    }
  }
}

// A message dispatched as the other direction: 'U' and 'M' exist both ways with other lengths (bad
// length), every other type is unknown there. Decides nothing by length alone.
TEST(Ouch42Dispatch, TheOtherDirectionDoesNotDecodeIt) {
  for (const TypeCase& c : all_cases()) {
    SCOPED_TRACE(context(c));
    std::vector<uint8_t> bytes(c.spec_length, ' ');  // a valid message of the type: all fields spaces
    bytes[0] = static_cast<uint8_t>(c.type);
    const auto wire = exact_copy(bytes.data(), bytes.size());
    const Direction other = c.direction == Direction::kInbound ? Direction::kOutbound : Direction::kInbound;
    Recorder r;
    const ouch::DecodeResult res = dispatch(other, wire.get(), bytes.size(), r);
    EXPECT_TRUE(r.calls.empty());
    const size_t other_len = ouch::message_length(other, static_cast<uint8_t>(c.type));
    if (c.type == 'U' || c.type == 'M') {
      EXPECT_NE(other_len, 0u);
      EXPECT_EQ(res.status, ouch::DecodeStatus::kBadLength);
      EXPECT_EQ(res.expected, other_len);
    } else {
      EXPECT_EQ(other_len, 0u);
      EXPECT_EQ(res.status, ouch::DecodeStatus::kUnknownType);
    }
  }
}

TEST(Ouch42Dispatch, DescribeNamesTypeLengthsAndDirection) {
  char buf[160];
  ouch::describe({ouch::DecodeStatus::kBadLength, 'A', 65, 66}, Direction::kOutbound, buf, sizeof buf);
  EXPECT_STREQ(buf, "OUCH outbound 'A' (Accepted): 65 bytes, OUCH 4.2 says 66; malformed, skipped");
  ouch::describe({ouch::DecodeStatus::kBadLength, 'U', 80, 47}, Direction::kInbound, buf, sizeof buf);
  EXPECT_STREQ(buf, "OUCH inbound 'U' (Replace Order): 80 bytes, OUCH 4.2 says 47; malformed, skipped");
  ouch::describe({ouch::DecodeStatus::kUnknownType, 0x07, 12, 0}, Direction::kInbound, buf, sizeof buf);
  EXPECT_STREQ(buf, "OUCH inbound: unknown message type 0x07 (12 bytes), skipped");
  ouch::describe({ouch::DecodeStatus::kUnknownType, 'K', 36, 0}, Direction::kOutbound, buf, sizeof buf);
  EXPECT_STREQ(buf, "OUCH outbound: unknown message type 'K' (36 bytes), skipped");
  ouch::describe({ouch::DecodeStatus::kEmpty, 0, 0, 0}, Direction::kOutbound, buf, sizeof buf);
  EXPECT_STREQ(buf, "OUCH outbound: empty message, skipped");
  // A short buffer is cut, never overrun.
  char small[8];
  std::memset(small, 'x', sizeof small);
  ouch::describe({ouch::DecodeStatus::kBadLength, 'A', 65, 66}, Direction::kOutbound, small, 5);
  EXPECT_STREQ(small, "OUCH");
  EXPECT_EQ(small[5], 'x');
}

TEST(Ouch42Dispatch, CountersTakeEveryResultAndKeepTheLastError) {
  ouch::DecodeCounters c;
  c.record({ouch::DecodeStatus::kOk, 'A', 66, 66});
  c.record({ouch::DecodeStatus::kBadLength, 'E', 39, 40});
  c.record({ouch::DecodeStatus::kUnknownType, 'K', 36, 0});
  c.record({ouch::DecodeStatus::kOk, 'E', 40, 40});
  c.record({ouch::DecodeStatus::kEmpty, 0, 0, 0});
  c.record({ouch::DecodeStatus::kBadLength, 'C', 27, 28});
  EXPECT_EQ(c.ok, 2u);
  EXPECT_EQ(c.bad_length, 2u);
  EXPECT_EQ(c.unknown_type, 1u);
  EXPECT_EQ(c.empty, 1u);
  EXPECT_EQ(c.last_error.type, 'C');
  EXPECT_EQ(c.last_error.length, 27u);
  EXPECT_EQ(c.last_error.expected, 28u);
}

TEST(Ouch42Encode, EncodeCheckedRefusesASmallBuffer) {
  ouch::CancelOrder m;
  m.token = ouch::make_token("T1");
  m.shares = 7;
  std::vector<uint8_t> buf(ouch::CancelOrder::kLength + 1, 0xEE);
  EXPECT_EQ(ouch::encode_checked(m, buf.data(), ouch::CancelOrder::kLength - 1), 0u);
  for (uint8_t b : buf) EXPECT_EQ(b, 0xEE) << "written although it did not fit";
  EXPECT_EQ(ouch::encode_checked(m, buf.data(), ouch::CancelOrder::kLength), 19u);
  EXPECT_EQ(buf[0], 'X');
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data() + 1), 14), "T1            ");
  EXPECT_EQ(buf[18], 7);
  EXPECT_EQ(buf[19], 0xEE);
}

TEST(Ouch42Encode, AlphaFieldsAreSpacePaddedAndCut) {
  EXPECT_EQ(std::string(ouch::make_token("").data(), 14), std::string(14, ' '));
  EXPECT_EQ(std::string(ouch::make_token("ABCDEFGHIJKLMNOPQ").data(), 14), "ABCDEFGHIJKLMN");
  EXPECT_EQ(std::string(ouch::make_stock("ZVZZT").data(), 8), "ZVZZT   ");
  EXPECT_EQ(std::string(ouch::make_firm("GS").data(), 4), "GS  ");
}

}  // namespace
