// BookBuilder: MoldUDP64 packets and ITCH messages built by hand at the spec's byte offsets
// (shared/specs/moldudp64.txt, shared/specs/itch50.txt), never with core's encoders, fed through
// on_packet / on_message; checks sequencing, malformed input accounting, per-type counts, change
// reporting and the directory / trading-state tables.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/book_builder.hpp"

namespace {

using pmm::BookBuilder;
using pmm::PacketOutcome;
using pmm::book::BookCapacity;
using pmm::book::LevelView;
using pmm::book::Side;
using pmm::book::TopOfBook;
using Bytes = std::vector<uint8_t>;
using Kind = pmm::mold::Verdict::Kind;

void put_be(Bytes& b, size_t off, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b.at(off + i) = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}
void put_alpha(Bytes& b, size_t off, const char* s, size_t n) {  // right-padded with spaces
  for (size_t i = 0; i < n; ++i) b.at(off + i) = static_cast<uint8_t>(*s ? *s++ : ' ');
}

// Common fields: type @0, locate @1 (2), tracking @3 (2), timestamp @5 (6).
Bytes message(char type, size_t len, uint16_t locate) {
  Bytes m(len, 0);
  m.at(0) = static_cast<uint8_t>(type);
  put_be(m, 1, locate, 2);
  put_be(m, 3, 0, 2);
  put_be(m, 5, 34'200'000'000'000ull, 6);  // 09:30
  return m;
}

// 1.3.1 Add Order: ref @11 (8), side @19, shares @20 (4), stock @24 (8), price @32 (4); 36 bytes.
Bytes add_order(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
  Bytes m = message('A', 36, locate);
  put_be(m, 11, ref, 8);
  m.at(19) = static_cast<uint8_t>(side);
  put_be(m, 20, shares, 4);
  put_alpha(m, 24, "TEST", 8);
  put_be(m, 32, price, 4);
  return m;
}
// 1.3.2 Add Order with MPID: as A plus attribution @36 (4); 40 bytes.
Bytes add_order_mpid(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
  Bytes m = message('F', 40, locate);
  put_be(m, 11, ref, 8);
  m.at(19) = static_cast<uint8_t>(side);
  put_be(m, 20, shares, 4);
  put_alpha(m, 24, "TEST", 8);
  put_be(m, 32, price, 4);
  put_alpha(m, 36, "MPID", 4);
  return m;
}
// 1.4.1 Order Executed: ref @11 (8), shares @19 (4), match @23 (8); 31 bytes.
Bytes executed(uint16_t locate, uint64_t ref, uint32_t shares) {
  Bytes m = message('E', 31, locate);
  put_be(m, 11, ref, 8);
  put_be(m, 19, shares, 4);
  put_be(m, 23, 777, 8);
  return m;
}
// 1.4.2 Order Executed With Price: E's fields, printable @31, price @32 (4); 36 bytes.
Bytes executed_with_price(uint16_t locate, uint64_t ref, uint32_t shares, uint32_t price) {
  Bytes m = message('C', 36, locate);
  put_be(m, 11, ref, 8);
  put_be(m, 19, shares, 4);
  put_be(m, 23, 778, 8);
  m.at(31) = 'Y';
  put_be(m, 32, price, 4);
  return m;
}
// 1.4.3 Order Cancel: ref @11 (8), cancelled shares @19 (4); 23 bytes.
Bytes cancel(uint16_t locate, uint64_t ref, uint32_t shares) {
  Bytes m = message('X', 23, locate);
  put_be(m, 11, ref, 8);
  put_be(m, 19, shares, 4);
  return m;
}
// 1.4.4 Order Delete: ref @11 (8); 19 bytes.
Bytes order_delete(uint16_t locate, uint64_t ref) {
  Bytes m = message('D', 19, locate);
  put_be(m, 11, ref, 8);
  return m;
}
// 1.4.5 Order Replace: original ref @11 (8), new ref @19 (8), shares @27 (4), price @31 (4); 35 bytes.
Bytes replace(uint16_t locate, uint64_t old_ref, uint64_t new_ref, uint32_t shares, uint32_t price) {
  Bytes m = message('U', 35, locate);
  put_be(m, 11, old_ref, 8);
  put_be(m, 19, new_ref, 8);
  put_be(m, 27, shares, 4);
  put_be(m, 31, price, 4);
  return m;
}
// 1.2.1 Stock Directory: stock @11 (8), then market category @19 ... inverse @38; 39 bytes.
Bytes directory(uint16_t locate, const char* stock) {
  Bytes m = message('R', 39, locate);
  put_alpha(m, 11, stock, 8);
  m.at(19) = 'Q';                // market category
  m.at(20) = 'N';                // financial status
  put_be(m, 21, 100, 4);         // round lot size
  m.at(25) = 'N';                // round lots only
  return m;
}
// 1.2.2 Stock Trading Action: stock @11 (8), trading state @19, reserved @20, reason @21 (4); 25 bytes.
Bytes trading_action(uint16_t locate, const char* stock, char state) {
  Bytes m = message('H', 25, locate);
  put_alpha(m, 11, stock, 8);
  m.at(19) = static_cast<uint8_t>(state);
  m.at(20) = ' ';
  put_alpha(m, 21, "", 4);
  return m;
}

// MoldUDP64 downstream packet: session @0 (10), sequence @10 (8), count @18 (2), then blocks of
// length (2) + data. count defaults to the number of blocks.
Bytes packet(const char* session, uint64_t sequence, const std::vector<Bytes>& msgs, int count = -1) {
  Bytes p(20, 0);
  put_alpha(p, 0, session, 10);
  put_be(p, 10, sequence, 8);
  put_be(p, 18, count < 0 ? msgs.size() : static_cast<size_t>(count), 2);
  for (const Bytes& m : msgs) {
    const size_t at = p.size();
    p.resize(at + 2 + m.size());
    put_be(p, at, m.size(), 2);
    if (!m.empty()) std::memcpy(p.data() + at + 2, m.data(), m.size());
  }
  return p;
}

uint64_t count_of(const BookBuilder& b, char type) { return b.stats().by_type[static_cast<uint8_t>(type)]; }

PacketOutcome feed(BookBuilder& b, const Bytes& p) { return b.on_packet(p.data(), p.size()); }
pmm::itch::DispatchResult feed_message(BookBuilder& b, const Bytes& m) { return b.on_message(m.data(), m.size()); }

BookCapacity small_capacity() {
  BookCapacity c;
  c.max_orders = 256;
  c.max_levels = 256;
  c.max_locates = 16;
  c.level_index_entries = 1024;
  return c;
}

std::vector<uint16_t> changed(const BookBuilder& b) {
  return {b.changed_locates().begin(), b.changed_locates().end()};
}

std::vector<LevelView> levels(const BookBuilder& b, uint16_t locate, Side side) {
  std::vector<LevelView> out(64);
  out.resize(b.books().depth(locate, side, out.data(), out.size()));
  return out;
}

TEST(BookBuilderPacket, AppliesEveryOrderMessageTypeInOrder) {
  BookBuilder b(small_capacity());
  // Each step depends on the one before: in any other order some would hit an unknown reference.
  const Bytes p = packet("SESSION001", 1,
                         {add_order(5, 1, 'B', 100, 5000),                // bid 100 @ 5000
                          add_order(5, 2, 'S', 50, 5010),                 // ask 50 @ 5010
                          add_order_mpid(5, 3, 'B', 30, 5001),            // bid 30 @ 5001 (best)
                          executed(5, 1, 40),                             // 5000: 60 left
                          cancel(5, 2, 10),                               // 5010: 40 left
                          executed_with_price(5, 3, 30, 4999),            // 5001 gone (C price ignored)
                          replace(5, 1, 4, 70, 5002),                     // ref 1 -> ref 4, 70 @ 5002
                          add_order(5, 5, 'S', 10, 5008)});               // ask 10 @ 5008 (best)
  const PacketOutcome out = feed(b, p);
  EXPECT_EQ(out.error, pmm::mold::ParseError::kNone);
  EXPECT_EQ(out.verdict.kind, Kind::kDeliver);
  EXPECT_EQ(out.verdict.skip, 0u);
  EXPECT_EQ(out.verdict.gap.count, 0u);
  EXPECT_EQ(out.applied, 8u);
  EXPECT_EQ(b.books().top(5), (TopOfBook{{5002, 70, 1}, {5008, 10, 1}}));
  EXPECT_EQ(levels(b, 5, Side::kBid), (std::vector<LevelView>{{5002, 70, 1}}));
  EXPECT_EQ(levels(b, 5, Side::kAsk), (std::vector<LevelView>{{5008, 10, 1}, {5010, 40, 1}}));
  const auto& s = b.books().stats();
  EXPECT_EQ(s.adds, 4u);
  EXPECT_EQ(s.executes, 2u);  // E and C
  EXPECT_EQ(s.cancels, 1u);
  EXPECT_EQ(s.replaces, 1u);
  EXPECT_EQ(s.unknown_order, 0u);
  EXPECT_EQ(b.stats().messages, 8u);
  EXPECT_EQ(b.stats().packets, 1u);
  EXPECT_EQ(count_of(b, 'A'), 3u);
  EXPECT_EQ(count_of(b, 'F'), 1u);
  EXPECT_EQ(count_of(b, 'E'), 1u);
  EXPECT_EQ(count_of(b, 'X'), 1u);
  EXPECT_EQ(count_of(b, 'C'), 1u);
  EXPECT_EQ(count_of(b, 'U'), 1u);
  EXPECT_EQ(count_of(b, 'D'), 0u);
  EXPECT_EQ(b.sequence().next_expected(), 9u);
  EXPECT_EQ(changed(b), (std::vector<uint16_t>{5}));
  EXPECT_EQ(b.books().check_invariants(), "");

  const PacketOutcome out2 = feed(b, packet("SESSION001", 9, {order_delete(5, 5)}));
  EXPECT_EQ(out2.applied, 1u);
  EXPECT_EQ(b.books().top(5).ask, (LevelView{5010, 40, 1}));
  EXPECT_EQ(count_of(b, 'D'), 1u);
  EXPECT_EQ(b.books().stats().deletes, 1u);
}

TEST(BookBuilderPacket, DuplicatePacketIsIgnored) {
  BookBuilder b(small_capacity());
  const Bytes p = packet("S1", 1, {add_order(1, 1, 'B', 100, 5000), add_order(1, 2, 'B', 100, 5000)});
  ASSERT_EQ(feed(b, p).applied, 2u);
  const uint64_t digest = b.books().digest();
  const PacketOutcome again = feed(b, p);
  EXPECT_EQ(again.error, pmm::mold::ParseError::kNone);
  EXPECT_EQ(again.verdict.kind, Kind::kDuplicate);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(b.books().digest(), digest);
  EXPECT_EQ(b.books().stats().duplicate_order, 0u);  // never reached the books
  EXPECT_EQ(b.stats().messages, 2u);
  EXPECT_EQ(b.sequence().stats().duplicate_packets, 1u);
  EXPECT_EQ(b.sequence().next_expected(), 3u);
}

TEST(BookBuilderPacket, OverlappingPacketAppliesOnlyTheNewMessages) {
  BookBuilder b(small_capacity());
  ASSERT_EQ(feed(b, packet("S1", 1, {add_order(1, 1, 'B', 100, 5000)})).applied, 1u);
  const PacketOutcome out =
      feed(b, packet("S1", 1, {add_order(1, 1, 'B', 100, 5000), add_order(1, 2, 'S', 10, 5005)}));
  EXPECT_EQ(out.verdict.kind, Kind::kDeliver);
  EXPECT_EQ(out.verdict.skip, 1u);
  EXPECT_EQ(out.applied, 1u);
  EXPECT_EQ(b.books().top(1), (TopOfBook{{5000, 100, 1}, {5005, 10, 1}}));
  EXPECT_EQ(b.books().stats().duplicate_order, 0u);
  EXPECT_EQ(count_of(b, 'A'), 2u);
  EXPECT_EQ(b.sequence().next_expected(), 3u);
}

TEST(BookBuilderPacket, GapIsRecordedAndLaterMessagesApplied) {
  BookBuilder b(small_capacity());
  feed(b, packet("S1", 1, {add_order(1, 1, 'B', 100, 5000), add_order(1, 2, 'B', 100, 4999)}));
  // Messages 3 and 4 never arrive.
  const PacketOutcome out = feed(b, packet("S1", 5, {order_delete(1, 1)}));
  EXPECT_EQ(out.verdict.kind, Kind::kDeliver);
  EXPECT_EQ(out.verdict.gap.first, 3u);
  EXPECT_EQ(out.verdict.gap.count, 2u);
  EXPECT_EQ(out.applied, 1u);
  EXPECT_EQ(b.books().top(1).bid, (LevelView{4999, 100, 1}));
  EXPECT_EQ(b.sequence().stats().gaps, 1u);
  EXPECT_EQ(b.sequence().stats().gap_messages, 2u);
  EXPECT_EQ(b.sequence().next_expected(), 6u);
}

TEST(BookBuilderPacket, HeartbeatEndOfSessionFirstSequenceAndWrongSession) {
  BookBuilder b(small_capacity(), 100);  // joining a session at message 100
  PacketOutcome out = feed(b, packet("S1", 100, {add_order(2, 1, 'S', 5, 700)}));
  EXPECT_EQ(out.verdict.kind, Kind::kDeliver);
  EXPECT_EQ(out.applied, 1u);
  out = feed(b, packet("S1", 101, {}));  // heartbeat: count 0, next expected sequence
  EXPECT_EQ(out.verdict.kind, Kind::kNoMessages);
  EXPECT_EQ(out.verdict.gap.count, 0u);
  EXPECT_EQ(out.applied, 0u);
  out = feed(b, packet("S2", 101, {add_order(2, 2, 'S', 5, 699)}));
  EXPECT_EQ(out.verdict.kind, Kind::kWrongSession);
  EXPECT_EQ(out.applied, 0u);
  EXPECT_EQ(b.books().top(2).ask, (LevelView{700, 5, 1}));
  out = feed(b, packet("S1", 103, {}, 0xFFFF));  // end of session, 2 messages beyond ours
  EXPECT_EQ(out.verdict.kind, Kind::kNoMessages);
  EXPECT_EQ(out.verdict.gap.first, 101u);
  EXPECT_EQ(out.verdict.gap.count, 2u);
  EXPECT_TRUE(b.sequence().ended());
  EXPECT_EQ(b.stats().messages, 1u);
}

TEST(BookBuilderPacket, MalformedPacketIsCountedAndDroppedWhole) {
  BookBuilder b(small_capacity());
  const Bytes good = add_order(1, 1, 'B', 100, 5000);
  const uint64_t empty_digest = b.books().digest();

  // The second block claims 36 bytes but the packet ends 10 bytes into it. The first block is
  // well formed, and must not be applied either.
  Bytes truncated = packet("S1", 1, {good, add_order(1, 2, 'B', 1, 4000)});
  truncated.resize(truncated.size() - 26);
  EXPECT_EQ(feed(b, truncated).error, pmm::mold::ParseError::kTruncatedBlock);

  Bytes trailing = packet("S1", 1, {good});
  trailing.push_back(0);
  EXPECT_EQ(feed(b, trailing).error, pmm::mold::ParseError::kTrailingBytes);

  Bytes count_too_high = packet("S1", 1, {good}, 2);  // says 2 messages, holds 1
  EXPECT_EQ(feed(b, count_too_high).error, pmm::mold::ParseError::kTruncatedBlock);

  const Bytes header_only = packet("S1", 1, {good});
  EXPECT_EQ(b.on_packet(header_only.data(), 19).error, pmm::mold::ParseError::kShortHeader);

  EXPECT_EQ(b.stats().malformed_packets, 4u);
  EXPECT_EQ(b.stats().packets, 0u);
  EXPECT_EQ(b.stats().messages, 0u);
  EXPECT_EQ(count_of(b, 'A'), 0u);
  EXPECT_EQ(b.books().live_orders(), 0u);
  EXPECT_EQ(b.books().digest(), empty_digest);
  EXPECT_EQ(b.sequence().stats().packets, 0u);  // the tracker never saw them
  EXPECT_EQ(b.sequence().next_expected(), 1u);
  EXPECT_TRUE(b.changed_locates().empty());

  // The same sequence numbers arriving intact afterwards are delivered normally.
  EXPECT_EQ(feed(b, packet("S1", 1, {good})).applied, 1u);
  EXPECT_EQ(b.books().top(1).bid, (LevelView{5000, 100, 1}));
}

TEST(BookBuilderMessage, UnknownTypeBadLengthAndEmptyAreCountedAndSkipped) {
  BookBuilder b(small_capacity());
  const Bytes unknown = {'Z', 0, 1, 0, 0};  // no such type in ITCH 5.0
  Bytes short_add = add_order(1, 1, 'B', 100, 5000);
  short_add.pop_back();  // 35 bytes
  Bytes long_delete = order_delete(1, 7);
  long_delete.push_back(0);  // 20 bytes
  const PacketOutcome out = feed(b, packet("S1", 1,
                                           {unknown, short_add, add_order(1, 7, 'B', 100, 5000), Bytes{},
                                            long_delete, order_delete(1, 9)}));
  EXPECT_EQ(out.error, pmm::mold::ParseError::kNone);
  EXPECT_EQ(b.stats().unknown_type, 1u);
  EXPECT_EQ(b.stats().bad_length, 2u);
  EXPECT_EQ(b.stats().empty_messages, 1u);
  EXPECT_EQ(b.stats().messages, 2u);  // the good A and the D for ref 9
  EXPECT_EQ(count_of(b, 'Z'), 1u);
  EXPECT_EQ(count_of(b, 'A'), 1u);  // a malformed A is not an A
  EXPECT_EQ(count_of(b, 'D'), 1u);
  EXPECT_EQ(b.books().stats().adds, 1u);
  EXPECT_EQ(b.books().stats().deletes, 0u);
  EXPECT_EQ(b.books().stats().unknown_order, 1u);  // D for ref 9
  EXPECT_EQ(b.books().top(1).bid, (LevelView{5000, 100, 1}));  // the long D for ref 7 was skipped
  EXPECT_EQ(b.sequence().next_expected(), 7u);  // all 6 messages consumed their sequence numbers

  EXPECT_EQ(feed_message(b, unknown), pmm::itch::DispatchResult::kUnknownType);
  EXPECT_EQ(feed_message(b, short_add), pmm::itch::DispatchResult::kBadLength);
  EXPECT_EQ(b.on_message(nullptr, 0), pmm::itch::DispatchResult::kEmpty);
  EXPECT_EQ(feed_message(b, order_delete(1, 7)), pmm::itch::DispatchResult::kOk);
  EXPECT_EQ(b.stats().unknown_type, 2u);
  EXPECT_EQ(b.stats().bad_length, 3u);
  EXPECT_EQ(b.stats().empty_messages, 2u);
  EXPECT_EQ(b.books().live_orders(), 0u);
}

TEST(BookBuilderMessage, OutOfRangeLocateReachesTheBooksCounter) {
  BookBuilder b(small_capacity());  // locates 0..15
  EXPECT_EQ(feed_message(b, add_order(16, 1, 'B', 100, 5000)), pmm::itch::DispatchResult::kOk);
  EXPECT_EQ(b.books().stats().locate_out_of_range, 1u);
  EXPECT_EQ(b.books().live_orders(), 0u);
  EXPECT_TRUE(b.changed_locates().empty());
}

TEST(BookBuilderChanges, EachChangedLocateListedOnceUntilCleared) {
  BookBuilder b(small_capacity());
  feed_message(b, add_order(1, 1, 'B', 100, 5000));
  feed_message(b, add_order(2, 2, 'S', 100, 6000));
  feed_message(b, add_order(1, 3, 'B', 100, 5001));  // locate 1 again
  feed_message(b, add_order(1, 4, 'S', 100, 5005));
  EXPECT_EQ(changed(b), (std::vector<uint16_t>{1, 2}));
  b.clear_changes();
  EXPECT_TRUE(b.changed_locates().empty());

  feed_message(b, add_order(2, 5, 'S', 100, 6001));  // behind the best ask: top unchanged
  feed_message(b, executed(1, 99, 1));                // unknown reference
  feed_message(b, add_order(3, 1, 'B', 1, 1));        // duplicate reference: dropped
  feed_message(b, directory(4, "AAPL"));              // not an order message
  EXPECT_TRUE(b.changed_locates().empty());

  feed_message(b, executed(2, 5, 50));  // level 6001 changes, the top does not
  EXPECT_TRUE(b.changed_locates().empty());
  feed_message(b, cancel(2, 2, 1));     // best ask shares 100 -> 99
  feed_message(b, order_delete(1, 3));  // best bid 5001 gone
  feed_message(b, cancel(2, 2, 1));
  EXPECT_EQ(changed(b), (std::vector<uint16_t>{2, 1}));
  b.clear_changes();
  feed_message(b, replace(1, 1, 6, 100, 5000));  // same level contents after the replace
  EXPECT_TRUE(b.changed_locates().empty());
  feed_message(b, replace(1, 6, 7, 100, 5003));
  EXPECT_EQ(changed(b), (std::vector<uint16_t>{1}));
}

TEST(BookBuilderReference, DirectoryAndTradingAction) {
  BookBuilder b(small_capacity());
  const pmm::itch::Symbol blank = pmm::itch::make_symbol("");
  EXPECT_EQ(b.symbol(7), blank);
  EXPECT_EQ(b.trading_state(7), ' ');
  EXPECT_EQ(b.find_locate("AAPL"), -1);

  feed_message(b, directory(7, "AAPL"));
  feed_message(b, directory(3, "ZVZZT"));
  feed_message(b, directory(16, "MSFT"));  // beyond max_locates: ignored
  const pmm::itch::Symbol aapl = {'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '};
  EXPECT_EQ(b.symbol(7), aapl);
  EXPECT_EQ(b.find_locate("AAPL"), 7);
  EXPECT_EQ(b.find_locate("ZVZZT"), 3);
  EXPECT_EQ(b.find_locate("MSFT"), -1);
  EXPECT_EQ(b.find_locate("AAP"), -1);
  EXPECT_EQ(b.find_locate("TOOLONGSYM"), -1);
  EXPECT_EQ(b.symbol(16), blank);

  feed_message(b, trading_action(7, "AAPL", 'H'));
  EXPECT_EQ(b.trading_state(7), 'H');
  EXPECT_EQ(b.trading_state(3), ' ');
  feed_message(b, trading_action(7, "AAPL", 'T'));
  EXPECT_EQ(b.trading_state(7), 'T');
  feed_message(b, trading_action(16, "MSFT", 'H'));
  EXPECT_EQ(b.trading_state(16), ' ');
  EXPECT_EQ(count_of(b, 'R'), 3u);
  EXPECT_EQ(count_of(b, 'H'), 3u);
  EXPECT_EQ(b.stats().messages, 6u);
  EXPECT_TRUE(b.changed_locates().empty());
}

}  // namespace
