// libFuzzer target: arbitrary bytes through MoldUDP64 -> ITCH 5.0 -> L3 books.
//
// The input is a sequence of records (2-byte big-endian length, then the bytes; a short last record
// takes what is left). Each record is copied into a buffer of exactly its size, so AddressSanitizer
// sees any read past it, and then:
//   - parsed by mold::parse_downstream and checked against a reference parser written from the spec;
//     a packet that parses is rebuilt with PacketBuilder / encode_heartbeat / encode_end_of_session
//     and must come out byte for byte the same;
//   - parsed by mold::parse_request (accepted iff 20 bytes; encode_request must give the bytes back);
//   - dispatched as one ITCH message: the result must match the spec's length table, and a decoded
//     message re-encoded must equal the wire bytes;
//   - fed to BookBuilder::on_packet and BookBuilder::on_message (one builder per input, with a tiny
//     capacity so every limit is reached), after which the books must pass check_invariants(), the
//     public views (top, depth) must agree, every locate whose top changed must be reported in
//     changed_locates(), symbol lookups must agree, and the feed counters must add up.
// Any breach prints what failed and where (record index, byte offset) and aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/moldudp64.hpp"
#include "core/order_book.hpp"

namespace {

using pmm::mold::ParseError;

// Small enough that a few kilobytes of input exhaust every limit.
constexpr pmm::book::BookCapacity kCapacity{
    .max_orders = 64, .max_levels = 32, .max_locates = 16, .level_index_entries = 64};
constexpr size_t kDepth = 64;  // > max_levels: depth() can return every level of a side

struct Where {
  size_t record = 0;
  size_t offset = 0;  // of the record's length field in the input
};

[[noreturn]] void fail(const Where& at, const std::string& what) {
  std::fprintf(stderr, "fuzz_feed: record %zu (input offset %zu): %s\n", at.record, at.offset, what.c_str());
  std::abort();
}

// Message lengths from shared/specs/itch50.txt section 4, kept apart from itch::message_length so
// the two can disagree.
size_t spec_length(uint8_t type) {
  static constexpr struct { char type; uint8_t length; } kTable[] = {
      {'S', 12}, {'R', 39}, {'H', 25}, {'Y', 20}, {'L', 26}, {'V', 35}, {'W', 12}, {'K', 28},
      {'J', 35}, {'h', 21}, {'A', 36}, {'F', 40}, {'E', 31}, {'C', 36}, {'X', 23}, {'D', 19},
      {'U', 35}, {'P', 44}, {'Q', 40}, {'B', 19}, {'I', 50}, {'N', 20}, {'O', 48}};
  for (const auto& e : kTable)
    if (static_cast<uint8_t>(e.type) == type) return e.length;
  return 0;
}

uint64_t be(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// moldudp64.txt: 10-byte session, 8-byte sequence, 2-byte count (0 heartbeat, 0xFFFF end of
// session, neither carrying blocks), then `count` blocks of a 2-byte length and that many bytes.
ParseError reference_parse(const uint8_t* p, size_t len) {
  if (len < 20) return ParseError::kShortHeader;
  const uint64_t sequence = be(p + 10, 8);
  const uint64_t count = be(p + 18, 2);
  const uint64_t blocks = count == 0xFFFF ? 0 : count;
  if (blocks > 0 && sequence + blocks < sequence) return ParseError::kSequenceOverflow;
  uint64_t rest = len - 20;
  const uint8_t* q = p + 20;
  for (uint64_t i = 0; i < blocks; ++i) {
    if (rest < 2) return ParseError::kTruncatedBlock;
    const uint64_t block = be(q, 2);
    if (rest - 2 < block) return ParseError::kTruncatedBlock;
    q += 2 + block;
    rest -= 2 + block;
  }
  return rest == 0 ? ParseError::kNone : ParseError::kTrailingBytes;
}

void check_packet_codec(const uint8_t* p, size_t len, const Where& at) {
  pmm::mold::DownstreamPacket pkt;
  const ParseError got = pmm::mold::parse_downstream(p, len, pkt);
  const ParseError want = reference_parse(p, len);
  if (got != want)
    fail(at, std::string("parse_downstream says '") + pmm::mold::to_string(got) + "', the spec says '" +
                 pmm::mold::to_string(want) + "'");
  if (got != ParseError::kNone) return;

  // Walk the blocks the way consumers do: they must tile blocks_len exactly.
  size_t walked = 0;
  uint16_t seen = 0;
  bool sequence_ok = true;
  pkt.for_each_message([&](uint64_t seq, const uint8_t* msg, uint16_t msg_len) {
    sequence_ok &= seq == pkt.header.sequence + seen;
    sequence_ok &= msg == pkt.blocks + walked + 2;
    walked += 2 + size_t{msg_len};
    ++seen;
  });
  if (!sequence_ok || walked != pkt.blocks_len || seen != pkt.message_count())
    fail(at, "for_each_message does not walk the blocks parse_downstream accepted");

  // Rebuild the packet from what was parsed.
  std::unique_ptr<uint8_t[]> rebuilt(new uint8_t[len]);
  size_t rebuilt_len = 0;
  if (pkt.is_heartbeat()) {
    rebuilt_len = pmm::mold::encode_heartbeat(rebuilt.get(), pkt.header.session, pkt.header.sequence);
  } else if (pkt.is_end_of_session()) {
    rebuilt_len = pmm::mold::encode_end_of_session(rebuilt.get(), pkt.header.session, pkt.header.sequence);
  } else {
    pmm::mold::PacketBuilder b(rebuilt.get(), len, pkt.header.session, pkt.header.sequence);
    bool added = true;
    pkt.for_each_message([&](uint64_t, const uint8_t* msg, uint16_t msg_len) { added &= b.add(msg, msg_len); });
    // PacketBuilder stops at 65534 messages (65535 means end of session); only such a packet may fail.
    if (!added) {
      if (pkt.header.count < 0xFFFE) fail(at, "PacketBuilder refused a message of a packet that parsed");
      return;
    }
    rebuilt_len = b.finish();
  }
  if (rebuilt_len != len || std::memcmp(rebuilt.get(), p, len) != 0)
    fail(at, "rebuilding a parsed packet does not give its bytes back");
}

void check_request_codec(const uint8_t* p, size_t len, const Where& at) {
  pmm::mold::Request r;
  const bool ok = pmm::mold::parse_request(p, len, r);
  if (ok != (len == 20)) fail(at, "parse_request must accept exactly 20 bytes, len " + std::to_string(len));
  if (!ok) return;
  uint8_t out[20];
  if (pmm::mold::encode_request(out, r) != 20 || std::memcmp(out, p, 20) != 0)
    fail(at, "encode_request(parse_request(bytes)) != bytes");
}

// Re-encodes whatever dispatch decoded and compares with the wire bytes.
struct ItchRoundTrip {
  const uint8_t* wire = nullptr;
  size_t len = 0;
  int calls = 0;
  bool same = false;

  template <class Msg>
  void on(const Msg& m) noexcept {
    ++calls;
    uint8_t out[Msg::kLength];
    pmm::itch::encode(m, out);
    same = len == Msg::kLength && wire[0] == static_cast<uint8_t>(Msg::kType) &&
           std::memcmp(out, wire, Msg::kLength) == 0;
  }
};

void check_message_codec(const uint8_t* p, size_t len, const Where& at) {
  ItchRoundTrip rt{p, len};
  const pmm::itch::DispatchResult got = pmm::itch::dispatch(p, len, rt);
  using R = pmm::itch::DispatchResult;
  const R want = len == 0                   ? R::kEmpty
                 : spec_length(p[0]) == 0   ? R::kUnknownType
                 : spec_length(p[0]) != len ? R::kBadLength
                                            : R::kOk;
  if (got != want)
    fail(at, "dispatch result " + std::to_string(static_cast<int>(got)) + ", spec says " +
                 std::to_string(static_cast<int>(want)) + " (type byte " +
                 std::to_string(len ? p[0] : 0) + ", len " + std::to_string(len) + ")");
  if (rt.calls != (want == R::kOk ? 1 : 0)) fail(at, "dispatch called the handler " + std::to_string(rt.calls) + " times");
  if (want == R::kOk && !rt.same)
    fail(at, std::string("encode(decode(msg)) != msg for type '") + static_cast<char>(p[0]) + "'");
}

// The book's public views must agree with each other and with the change list.
void check_books(const pmm::BookBuilder& builder, const pmm::book::TopOfBook* last_seen, const Where& at) {
  const pmm::book::OrderBooks& books = builder.books();
  const std::string breach = books.check_invariants();
  if (!breach.empty()) fail(at, "check_invariants: " + breach);
  if (books.live_orders() > kCapacity.max_orders) fail(at, "more live orders than max_orders");
  if (books.live_levels() > kCapacity.max_levels) fail(at, "more live levels than max_levels");

  bool listed[kCapacity.max_locates] = {};
  for (const uint16_t loc : builder.changed_locates()) {
    if (loc >= kCapacity.max_locates) fail(at, "changed_locates lists locate " + std::to_string(loc));
    if (listed[loc]) fail(at, "changed_locates lists locate " + std::to_string(loc) + " twice");
    listed[loc] = true;
  }

  pmm::book::LevelView levels[kDepth];
  for (uint16_t loc = 0; loc < kCapacity.max_locates; ++loc) {
    const pmm::book::TopOfBook top = books.top(loc);
    if (!(top == last_seen[loc]) && !listed[loc])
      fail(at, "top of locate " + std::to_string(loc) + " changed but is not in changed_locates");
    for (const auto side : {pmm::book::Side::kBid, pmm::book::Side::kAsk}) {
      const size_t n = books.depth(loc, side, levels, kDepth);
      const pmm::book::LevelView& best = side == pmm::book::Side::kBid ? top.bid : top.ask;
      if (n == 0 ? best.shares != 0 : !(levels[0] == best))
        fail(at, "top() and depth() disagree on locate " + std::to_string(loc));
      for (size_t i = 0; i < n; ++i) {
        if (levels[i].shares == 0 || levels[i].orders == 0) fail(at, "depth() returned an empty level");
        if (levels[i].orders > levels[i].shares) fail(at, "level with more orders than shares");
        if (i > 0 && (side == pmm::book::Side::kBid ? levels[i].price >= levels[i - 1].price
                                                    : levels[i].price <= levels[i - 1].price))
          fail(at, "depth() levels not ordered best first on locate " + std::to_string(loc));
      }
    }
  }
}

// Directory lookups: out-of-range locates read as blank, a stored symbol is found again at the first
// locate holding it, and a book is only ever damaged by a capacity limit.
void check_directory(const pmm::BookBuilder& builder, const Where& at) {
  const pmm::itch::Symbol blank = pmm::itch::make_symbol("");
  const pmm::book::BookStats& stats = builder.books().stats();
  const bool limit_hit = stats.order_capacity_exceeded + stats.level_capacity_exceeded > 0;
  for (uint32_t loc = 0; loc <= kCapacity.max_locates; ++loc) {
    const auto locate = static_cast<uint16_t>(loc);
    const pmm::itch::Symbol& sym = builder.symbol(locate);
    if (loc == kCapacity.max_locates) {
      if (sym != blank || builder.trading_state(locate) != ' ' || builder.books().damaged(locate))
        fail(at, "locate past max_locates does not read as blank");
      break;
    }
    if (builder.books().damaged(locate) && !limit_hit) fail(at, "book damaged without a capacity limit hit");
    // find_locate takes a C-like name: a symbol with a NUL byte in it cannot be looked up.
    if (std::memchr(sym.data(), '\0', sym.size()) != nullptr) continue;
    const int32_t found = builder.find_locate(std::string_view(sym.data(), sym.size()));
    if (found < 0 || static_cast<uint32_t>(found) > loc || builder.symbol(static_cast<uint16_t>(found)) != sym)
      fail(at, "find_locate(symbol(" + std::to_string(loc) + ")) returned " + std::to_string(found));
  }
}

void check_counters(const pmm::BookBuilder& builder, uint64_t packets_fed, uint64_t messages_fed, const Where& at) {
  const pmm::FeedStats& s = builder.stats();
  if (s.packets + s.malformed_packets != packets_fed)
    fail(at, "packets + malformed_packets != packets fed");
  if (s.messages + s.unknown_type + s.bad_length + s.empty_messages != messages_fed)
    fail(at, "message counters do not add up to the messages dispatched");
  uint64_t by_type = 0;
  for (const uint64_t n : s.by_type) by_type += n;
  if (by_type != s.messages + s.unknown_type) fail(at, "by_type does not add up to messages + unknown_type");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pmm::BookBuilder builder(kCapacity);
  pmm::book::TopOfBook last_seen[kCapacity.max_locates] = {};
  uint64_t packets_fed = 0;
  uint64_t messages_fed = 0;
  Where at;
  for (size_t off = 0; off < size; ++at.record) {
    at.offset = off;
    size_t len = size - off >= 2 ? ((size_t{data[off]} << 8) | data[off + 1]) : 0;
    off += size - off >= 2 ? 2 : size - off;
    if (len > size - off) len = size - off;
    // Exactly len bytes on the heap: ASan flags a read one past the record.
    std::unique_ptr<uint8_t[]> rec(new uint8_t[len]);
    if (len) std::memcpy(rec.get(), data + off, len);
    off += len;

    check_packet_codec(rec.get(), len, at);
    check_request_codec(rec.get(), len, at);
    check_message_codec(rec.get(), len, at);

    const pmm::PacketOutcome outcome = builder.on_packet(rec.get(), len);
    ++packets_fed;
    messages_fed += outcome.applied;
    builder.on_message(rec.get(), len);
    ++messages_fed;

    check_books(builder, last_seen, at);
    check_directory(builder, at);
    check_counters(builder, packets_fed, messages_fed, at);
    // Let changes pile up over a few records before the consumer looks, as a slow consumer would.
    if (at.record % 3 == 2) {
      builder.clear_changes();
      if (!builder.changed_locates().empty()) fail(at, "clear_changes left locates listed");
      for (uint16_t loc = 0; loc < kCapacity.max_locates; ++loc) last_seen[loc] = builder.books().top(loc);
    }
  }
  (void)builder.books().digest();
  return 0;
}
