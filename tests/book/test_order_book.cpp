// Hand-computed scenarios for pmm::book::OrderBooks: each operation at and beyond each capacity,
// every BookStats counter, crossed and locked books, replace corner cases, level recycling, deep
// books, depth order and top-of-book change reporting. Expected values are worked out by hand in
// the comments; every scenario ends with check_invariants() == "".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "core/order_book.hpp"

namespace {

using pmm::book::BookCapacity;
using pmm::book::BookStats;
using pmm::book::LevelView;
using pmm::book::OrderBooks;
using pmm::book::Price;
using pmm::book::Side;
using pmm::book::TopOfBook;
using pmm::book::Touch;

BookCapacity capacity(uint32_t max_orders, uint32_t max_levels, uint32_t max_locates,
                      uint32_t level_index_entries) {
  BookCapacity c;
  c.max_orders = max_orders;
  c.max_levels = max_levels;
  c.max_locates = max_locates;
  c.level_index_entries = level_index_entries;
  return c;
}

// Roomy except where a test says otherwise.
BookCapacity roomy() { return capacity(1024, 1024, 16, 4096); }

std::vector<LevelView> levels(const OrderBooks& b, uint16_t locate, Side side) {
  std::vector<LevelView> out(1u << 16);
  out.resize(b.depth(locate, side, out.data(), out.size()));
  return out;
}

constexpr LevelView kEmpty{};

void expect_none(Touch t) {
  EXPECT_EQ(t.locate, Touch::kNone);
  EXPECT_FALSE(t.top_changed);
}

void expect_touch(Touch t, uint32_t locate, bool top_changed) {
  EXPECT_EQ(t.locate, locate);
  EXPECT_EQ(t.top_changed, top_changed);
}

// Only the fields a test names are non-zero.
void expect_stats(const BookStats& s, const BookStats& want) {
  EXPECT_EQ(s.adds, want.adds);
  EXPECT_EQ(s.executes, want.executes);
  EXPECT_EQ(s.cancels, want.cancels);
  EXPECT_EQ(s.deletes, want.deletes);
  EXPECT_EQ(s.replaces, want.replaces);
  EXPECT_EQ(s.unknown_order, want.unknown_order);
  EXPECT_EQ(s.duplicate_order, want.duplicate_order);
  EXPECT_EQ(s.bad_side, want.bad_side);
  EXPECT_EQ(s.zero_shares, want.zero_shares);
  EXPECT_EQ(s.over_execution, want.over_execution);
  EXPECT_EQ(s.locate_out_of_range, want.locate_out_of_range);
  EXPECT_EQ(s.order_capacity_exceeded, want.order_capacity_exceeded);
  EXPECT_EQ(s.level_capacity_exceeded, want.level_capacity_exceeded);
}

// Independent FNV-1a 64 of the documented digest stream: per level (locate, side, price, shares,
// orders), each as 8 little-endian bytes.
struct DigestLevel {
  uint64_t locate, side, price, shares, orders;
};
uint64_t fnv1a(const std::vector<DigestLevel>& levels) {
  uint64_t h = 14695981039346656037ull;
  for (const DigestLevel& l : levels) {
    for (uint64_t v : {l.locate, l.side, l.price, l.shares, l.orders}) {
      for (int i = 0; i < 8; ++i) {
        h ^= static_cast<uint8_t>(v >> (8 * i));
        h *= 1099511628211ull;
      }
    }
  }
  return h;
}

TEST(BookCapacityValidate, NamesTheBadField) {
  EXPECT_EQ(pmm::book::validate(BookCapacity{}), "");
  EXPECT_EQ(pmm::book::validate(capacity(4, 3, 1, 8)), "");
  EXPECT_NE(pmm::book::validate(capacity(0, 3, 1, 8)).find("max_orders"), std::string::npos);
  EXPECT_NE(pmm::book::validate(capacity(4, 0, 1, 8)).find("max_levels"), std::string::npos);
  EXPECT_NE(pmm::book::validate(capacity(4, 3, 0, 8)).find("max_locates"), std::string::npos);
  EXPECT_NE(pmm::book::validate(capacity(4, 3, 65537, 8)).find("max_locates"), std::string::npos);
  EXPECT_NE(pmm::book::validate(capacity(4, 3, 1, 7)).find("level_index_entries"), std::string::npos);
}

TEST(OrderBookAdd, FirstOrdersSetTopAndCounts) {
  OrderBooks b(roomy());
  expect_touch(b.add(3, 1, 'B', 100, 5000), 3, true);
  expect_touch(b.add(3, 2, 'S', 40, 5010), 3, true);
  EXPECT_EQ(b.top(3), (TopOfBook{{5000, 100, 1}, {5010, 40, 1}}));
  EXPECT_EQ(b.top(2), TopOfBook{});
  EXPECT_EQ(b.live_orders(), 2u);
  EXPECT_EQ(b.live_levels(), 2u);
  expect_stats(b.stats(), BookStats{.adds = 2});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, RejectsOutOfRangeLocateBadSideAndZeroShares) {
  OrderBooks b(capacity(4, 3, 4, 8));
  expect_none(b.add(4, 1, 'B', 100, 5000));      // locates 0..3 only
  expect_none(b.add(65535, 1, 'S', 100, 5000));
  expect_none(b.add(0, 1, 'X', 100, 5000));
  expect_none(b.add(0, 1, 'b', 100, 5000));      // lower case is not a side
  expect_none(b.add(0, 1, '\0', 100, 5000));
  expect_none(b.add(0, 1, 'B', 0, 5000));
  expect_stats(b.stats(), BookStats{.bad_side = 3, .zero_shares = 1, .locate_out_of_range = 2});
  EXPECT_EQ(b.live_orders(), 0u);
  EXPECT_EQ(b.live_levels(), 0u);
  for (uint16_t loc = 0; loc < 4; ++loc) EXPECT_FALSE(b.damaged(loc)) << loc;  // not capacity drops
  EXPECT_EQ(b.top(4), TopOfBook{});
  LevelView out[1];
  EXPECT_EQ(b.depth(4, Side::kBid, out, 1), 0u);
  EXPECT_FALSE(b.damaged(4));
  // Dropped adds leave nothing behind: ref 1 is still free. The last locate is in range.
  expect_touch(b.add(3, 1, 'B', 100, 5000), 3, true);
  EXPECT_EQ(b.stats().duplicate_order, 0u);
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, OrderCapacityDropsAndDamagesOnlyThatLocate) {
  OrderBooks b(capacity(4, 3, 4, 64));
  for (uint64_t ref = 1; ref <= 4; ++ref) b.add(0, ref, 'B', 10, 100);  // one level, 4 orders
  EXPECT_EQ(b.live_orders(), 4u);
  expect_none(b.add(1, 5, 'S', 10, 101));
  expect_stats(b.stats(), BookStats{.adds = 4, .order_capacity_exceeded = 1});
  EXPECT_TRUE(b.damaged(1));
  EXPECT_FALSE(b.damaged(0));
  EXPECT_EQ(b.top(1), TopOfBook{});
  expect_none(b.execute(5, 1));  // the dropped order does not exist
  EXPECT_EQ(b.stats().unknown_order, 1u);

  // A slot frees up; the same locate takes orders again but stays damaged (its book missed one).
  expect_touch(b.remove(2), 0, true);
  expect_touch(b.add(1, 5, 'S', 10, 101), 1, true);
  EXPECT_TRUE(b.damaged(1));
  EXPECT_EQ(b.top(0).bid, (LevelView{100, 30, 3}));
  EXPECT_EQ(b.top(1).ask, (LevelView{101, 10, 1}));
  EXPECT_EQ(b.live_orders(), 4u);
  expect_none(b.add(0, 6, 'B', 10, 100));  // full again, even at an existing level
  EXPECT_TRUE(b.damaged(0));
  EXPECT_EQ(b.stats().order_capacity_exceeded, 2u);
  EXPECT_EQ(b.check_invariants(), "");
}

// A duplicate is dropped whatever the capacity, so when the order table is full it is still a
// duplicate, and the book (which is still exact) is not marked damaged.
TEST(OrderBookAdd, DuplicateWhileFullIsADuplicateNotACapacityDrop) {
  OrderBooks b(capacity(2, 4, 2, 64));
  b.add(0, 1, 'B', 10, 100);
  b.add(0, 2, 'S', 10, 101);
  expect_none(b.add(1, 2, 'S', 10, 101));
  EXPECT_FALSE(b.damaged(1));
  expect_stats(b.stats(), BookStats{.adds = 2, .duplicate_order = 1});
  expect_none(b.add(1, 3, 'S', 10, 101));  // a new reference does not fit
  EXPECT_TRUE(b.damaged(1));
  expect_stats(b.stats(), BookStats{.adds = 2, .duplicate_order = 1, .order_capacity_exceeded = 1});
  EXPECT_EQ(b.check_invariants(), "");
}

// A replace frees its old order before adding the new one, so it works with the table full.
TEST(OrderBookReplace, WorksWithTheOrderTableFull) {
  OrderBooks b(capacity(2, 4, 1, 64));
  b.add(0, 1, 'B', 10, 100);
  b.add(0, 2, 'S', 10, 101);
  expect_touch(b.replace(1, 3, 20, 99), 0, true);
  EXPECT_EQ(b.top(0), (TopOfBook{{99, 20, 1}, {101, 10, 1}}));
  EXPECT_EQ(b.live_orders(), 2u);
  expect_stats(b.stats(), BookStats{.adds = 2, .replaces = 1});
  EXPECT_FALSE(b.damaged(0));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, DuplicateReferenceDroppedWithoutDamage) {
  OrderBooks b(roomy());
  b.add(0, 7, 'B', 10, 100);
  expect_none(b.add(1, 7, 'S', 20, 105));  // live anywhere means duplicate
  expect_none(b.add(0, 7, 'B', 10, 100));
  expect_stats(b.stats(), BookStats{.adds = 1, .duplicate_order = 2});
  EXPECT_FALSE(b.damaged(0));
  EXPECT_FALSE(b.damaged(1));
  EXPECT_EQ(b.top(0).bid, (LevelView{100, 10, 1}));
  EXPECT_EQ(b.top(1), TopOfBook{});
  // Once removed, the reference may be used again.
  b.remove(7);
  expect_touch(b.add(1, 7, 'S', 20, 105), 1, true);
  EXPECT_EQ(b.top(1).ask, (LevelView{105, 20, 1}));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, LevelPoolLimit) {
  OrderBooks b(capacity(16, 3, 2, 64));
  b.add(0, 1, 'B', 10, 100);
  b.add(0, 2, 'B', 10, 101);
  b.add(1, 3, 'S', 10, 105);
  EXPECT_EQ(b.live_levels(), 3u);
  expect_none(b.add(0, 4, 'B', 10, 102));  // needs a 4th level
  EXPECT_TRUE(b.damaged(0));
  EXPECT_FALSE(b.damaged(1));
  EXPECT_EQ(b.top(0).bid, (LevelView{101, 10, 1}));
  EXPECT_EQ(b.live_orders(), 3u);
  expect_none(b.cancel(4, 1));  // the dropped order is not live ...
  expect_touch(b.add(1, 4, 'S', 5, 105), 1, true);  // ... and its ref is free; existing level: fits
  EXPECT_EQ(b.top(1).ask, (LevelView{105, 15, 2}));
  expect_stats(b.stats(), BookStats{.adds = 4, .unknown_order = 1, .level_capacity_exceeded = 1});
  // Emptying a level returns it to the pool.
  b.remove(1);
  EXPECT_EQ(b.live_levels(), 2u);
  expect_touch(b.add(0, 5, 'B', 7, 102), 0, true);
  EXPECT_EQ(b.top(0).bid, (LevelView{102, 7, 1}));
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{102, 7, 1}, {101, 10, 1}}));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, LevelIndexOfEightEntriesHoldsEightLevels) {
  // 8 index slots shared by all book sides: locate 0's bids take all of them.
  OrderBooks b(capacity(64, 64, 2, 8));
  for (uint32_t i = 0; i < 8; ++i) expect_touch(b.add(0, 1 + i, 'B', 1, 100 + i), 0, true);
  EXPECT_EQ(b.live_levels(), 8u);
  EXPECT_FALSE(b.damaged(0));
  expect_none(b.add(0, 9, 'B', 1, 50));    // a 9th bid level has no slot
  EXPECT_TRUE(b.damaged(0));
  expect_none(b.add(0, 10, 'S', 1, 200));  // nor has the ask side
  expect_none(b.add(1, 11, 'B', 1, 100));  // nor another locate
  EXPECT_TRUE(b.damaged(1));
  EXPECT_EQ(b.stats().level_capacity_exceeded, 3u);
  expect_touch(b.add(0, 12, 'B', 1, 103), 0, false);  // existing level: no slot needed, not best
  EXPECT_EQ(b.live_orders(), 9u);
  // Removing a level frees its slot in the side's block.
  b.remove(1);  // level 100
  expect_touch(b.add(0, 9, 'B', 1, 50), 0, false);
  EXPECT_EQ(levels(b, 0, Side::kBid).back(), (LevelView{50, 1, 1}));
  EXPECT_EQ(levels(b, 0, Side::kBid).front(), (LevelView{107, 1, 1}));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookAdd, LevelIndexBlocksGrowAndAreReused) {
  // 24 slots. Bids of locate 0: levels 1..8 in an 8-slot block, the 9th moves them to a 16-slot
  // block (8 + 16 = 24 slots carved) and frees the 8-slot block, which the ask side then takes.
  OrderBooks b(capacity(64, 64, 2, 24));
  for (uint32_t i = 0; i < 9; ++i) ASSERT_NE(b.add(0, 1 + i, 'B', 1, 100 + i).locate, Touch::kNone) << i;
  for (uint32_t i = 0; i < 8; ++i) ASSERT_NE(b.add(0, 20 + i, 'S', 1, 200 + i).locate, Touch::kNone) << i;
  EXPECT_EQ(b.stats().level_capacity_exceeded, 0u);
  EXPECT_EQ(b.live_levels(), 17u);
  expect_none(b.add(0, 30, 'S', 1, 300));  // the asks would need a 16-slot block: none left
  expect_none(b.add(1, 31, 'B', 1, 300));  // and there is no 8-slot block for a new side
  for (uint32_t i = 0; i < 7; ++i) ASSERT_NE(b.add(0, 40 + i, 'B', 1, 50 + i).locate, Touch::kNone) << i;
  EXPECT_EQ(levels(b, 0, Side::kBid).size(), 16u);  // the 16-slot block is full now
  expect_none(b.add(0, 50, 'B', 1, 10));
  EXPECT_EQ(b.stats().level_capacity_exceeded, 3u);
  EXPECT_TRUE(b.damaged(0));
  EXPECT_TRUE(b.damaged(1));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReduce, PartialExactAndOverExecution) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 100, 5000);
  b.add(0, 2, 'B', 50, 5000);
  b.add(0, 3, 'B', 10, 4999);
  expect_touch(b.execute(1, 30), 0, true);  // 150 -> 120 at 5000
  EXPECT_EQ(b.top(0).bid, (LevelView{5000, 120, 2}));
  expect_touch(b.execute(1, 70), 0, true);  // exactly what is left: order 1 gone
  EXPECT_EQ(b.top(0).bid, (LevelView{5000, 50, 1}));
  EXPECT_EQ(b.live_orders(), 2u);
  expect_none(b.execute(1, 1));
  expect_touch(b.cancel(2, 20), 0, true);  // X: 50 -> 30
  EXPECT_EQ(b.top(0).bid, (LevelView{5000, 30, 1}));
  expect_touch(b.cancel(2, 31), 0, true);  // one more than left: removed, counted
  EXPECT_EQ(b.top(0).bid, (LevelView{4999, 10, 1}));
  EXPECT_EQ(b.live_levels(), 1u);
  expect_touch(b.execute(3, UINT32_MAX), 0, true);
  EXPECT_EQ(b.top(0), TopOfBook{});
  EXPECT_EQ(b.live_orders(), 0u);
  EXPECT_EQ(b.live_levels(), 0u);
  expect_none(b.cancel(3, 1));
  expect_stats(b.stats(), BookStats{.adds = 3, .executes = 3, .cancels = 2, .unknown_order = 2,
                                    .over_execution = 2});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReduce, ZeroShareExecutionChangesNothing) {
  OrderBooks b(roomy());
  b.add(2, 1, 'S', 100, 5000);
  expect_touch(b.execute(1, 0), 2, false);
  expect_touch(b.cancel(1, 0), 2, false);
  EXPECT_EQ(b.top(2).ask, (LevelView{5000, 100, 1}));
  EXPECT_EQ(b.live_orders(), 1u);
  EXPECT_EQ(b.stats().over_execution, 0u);
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReduce, DeleteRemovesWholeOrderAndIsNeverAnOverExecution) {
  OrderBooks b(roomy());
  b.add(1, 10, 'S', 100, 5000);
  b.add(1, 11, 'S', 25, 5000);
  expect_touch(b.remove(10), 1, true);
  EXPECT_EQ(b.top(1).ask, (LevelView{5000, 25, 1}));
  expect_none(b.remove(10));
  expect_touch(b.remove(11), 1, true);
  EXPECT_EQ(b.top(1), TopOfBook{});
  EXPECT_EQ(b.live_levels(), 0u);
  expect_stats(b.stats(), BookStats{.adds = 2, .deletes = 2, .unknown_order = 1});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, UnknownOldAndLiveNewReferenceChangeNothing) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 100, 5000);
  b.add(0, 2, 'S', 100, 5010);
  const uint64_t before = b.digest();
  expect_none(b.replace(99, 100, 10, 5000));
  expect_none(b.replace(1, 2, 10, 4000));  // 2 is live (on the other side, even)
  EXPECT_EQ(b.digest(), before);
  EXPECT_EQ(b.live_orders(), 2u);
  expect_stats(b.stats(), BookStats{.adds = 2, .unknown_order = 1, .duplicate_order = 1});
  EXPECT_FALSE(b.damaged(0));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, MovesOrderKeepingLocateAndSide) {
  OrderBooks b(roomy());
  b.add(5, 1, 'S', 100, 5010);
  b.add(5, 2, 'S', 30, 5020);
  expect_touch(b.replace(1, 3, 60, 5015), 5, true);  // best ask 5010 -> 5015
  EXPECT_EQ(levels(b, 5, Side::kAsk), (std::vector<LevelView>{{5015, 60, 1}, {5020, 30, 1}}));
  EXPECT_EQ(levels(b, 5, Side::kBid).size(), 0u);
  expect_none(b.execute(1, 1));      // old ref gone
  expect_touch(b.execute(3, 10), 5, true);  // new ref live
  EXPECT_EQ(b.top(5).ask, (LevelView{5015, 50, 1}));
  EXPECT_EQ(b.live_orders(), 2u);
  expect_stats(b.stats(), BookStats{.adds = 2, .executes = 1, .replaces = 1, .unknown_order = 1});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, SameReference) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 100, 5000);
  expect_touch(b.replace(1, 1, 40, 5001), 0, true);
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{5001, 40, 1}}));
  expect_touch(b.replace(1, 1, 40, 5001), 0, false);  // identical: the top is as before
  expect_touch(b.execute(1, 40), 0, true);
  EXPECT_EQ(b.top(0), TopOfBook{});
  expect_stats(b.stats(), BookStats{.adds = 1, .executes = 1, .replaces = 2});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, ZeroSharesRemovesOldOrder) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 100, 5000);
  b.add(0, 2, 'B', 100, 4990);
  expect_touch(b.replace(1, 3, 0, 5005), 0, true);  // best bid 5000 gone, 4990 is best
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{4990, 100, 1}}));
  expect_none(b.remove(3));  // the new ref was never added
  expect_none(b.remove(1));
  expect_touch(b.replace(2, 2, 0, 4990), 0, true);
  EXPECT_EQ(b.top(0), TopOfBook{});
  EXPECT_EQ(b.live_orders(), 0u);
  EXPECT_EQ(b.live_levels(), 0u);
  expect_stats(b.stats(), BookStats{.adds = 2, .replaces = 2, .unknown_order = 2, .zero_shares = 2});
  EXPECT_FALSE(b.damaged(0));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, IntoTheOtherSidesBestPriceLocksThenCrosses) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 100, 5000);
  b.add(0, 2, 'S', 70, 5005);
  expect_touch(b.replace(1, 3, 10, 5005), 0, true);  // bid joins the ask's price: a locked book
  EXPECT_EQ(b.top(0), (TopOfBook{{5005, 10, 1}, {5005, 70, 1}}));
  expect_touch(b.replace(3, 4, 10, 5010), 0, true);  // and through it: crossed
  EXPECT_EQ(b.top(0), (TopOfBook{{5010, 10, 1}, {5005, 70, 1}}));
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{5010, 10, 1}}));
  EXPECT_EQ(levels(b, 0, Side::kAsk), (std::vector<LevelView>{{5005, 70, 1}}));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, FreesOldLevelBeforeTakingNewOne) {
  // One level in the whole pool: a replace of its only order must still fit, at any price.
  OrderBooks b(capacity(4, 1, 1, 8));
  b.add(0, 1, 'B', 10, 100);
  expect_touch(b.replace(1, 2, 10, 100), 0, false);  // same level contents: top unchanged
  expect_touch(b.replace(2, 3, 10, 101), 0, true);
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{101, 10, 1}}));
  EXPECT_EQ(b.stats().level_capacity_exceeded, 0u);
  EXPECT_FALSE(b.damaged(0));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookReplace, LevelCapacityRemovesOldOrderAndDamages) {
  OrderBooks b(capacity(8, 2, 1, 64));
  b.add(0, 1, 'B', 10, 100);
  b.add(0, 2, 'B', 20, 100);
  b.add(0, 3, 'S', 5, 105);
  // Order 1 leaves level 100 (still holding order 2); its new price 99 needs a third level.
  expect_touch(b.replace(1, 4, 10, 99), 0, true);
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{100, 20, 1}}));
  EXPECT_TRUE(b.damaged(0));
  EXPECT_EQ(b.live_orders(), 2u);
  expect_none(b.remove(4));
  expect_none(b.remove(1));
  expect_stats(b.stats(), BookStats{.adds = 3, .replaces = 1, .unknown_order = 2,
                                    .level_capacity_exceeded = 1});
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookSides, CrossedAndLockedBooksAreKeptAsTheyAre) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 10, 101);
  b.add(0, 2, 'S', 20, 100);  // crossed: bid above ask
  b.add(1, 3, 'B', 30, 100);
  b.add(1, 4, 'S', 40, 100);  // locked
  EXPECT_EQ(b.top(0), (TopOfBook{{101, 10, 1}, {100, 20, 1}}));
  EXPECT_EQ(b.top(1), (TopOfBook{{100, 30, 1}, {100, 40, 1}}));
  EXPECT_EQ(b.live_levels(), 4u);
  // Each side is its own book: executing the bid leaves the ask at the same price alone.
  expect_touch(b.execute(3, 30), 1, true);
  EXPECT_EQ(b.top(1), (TopOfBook{{}, {100, 40, 1}}));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookLevels, EmptiedLevelIsRemovedAndRecreated) {
  OrderBooks b(roomy());
  b.add(0, 1, 'B', 10, 100);
  b.add(0, 2, 'B', 20, 100);
  b.add(0, 3, 'B', 30, 99);
  EXPECT_EQ(b.live_levels(), 2u);
  b.remove(1);
  b.execute(2, 20);
  EXPECT_EQ(b.live_levels(), 1u);
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{99, 30, 1}}));
  expect_touch(b.add(0, 4, 'B', 5, 100), 0, true);
  EXPECT_EQ(levels(b, 0, Side::kBid), (std::vector<LevelView>{{100, 5, 1}, {99, 30, 1}}));
  EXPECT_EQ(b.live_levels(), 2u);
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookDepth, BestFirstOnBothSidesIncludingExtremePrices) {
  OrderBooks b(roomy());
  const Price kMax = UINT32_MAX;
  uint64_t ref = 1;
  for (Price p : {Price{100}, Price{103}, Price{0}, Price{101}, kMax, Price{102}}) b.add(0, ref++, 'B', 1, p);
  for (Price p : {Price{110}, kMax, Price{107}, Price{109}, Price{0}, Price{108}}) b.add(0, ref++, 'S', 2, p);
  EXPECT_EQ(levels(b, 0, Side::kBid),
            (std::vector<LevelView>{{kMax, 1, 1}, {103, 1, 1}, {102, 1, 1}, {101, 1, 1}, {100, 1, 1}, {0, 1, 1}}));
  EXPECT_EQ(levels(b, 0, Side::kAsk),
            (std::vector<LevelView>{{0, 2, 1}, {107, 2, 1}, {108, 2, 1}, {109, 2, 1}, {110, 2, 1}, {kMax, 2, 1}}));
  EXPECT_EQ(b.top(0), (TopOfBook{{kMax, 1, 1}, {0, 2, 1}}));

  LevelView out[3] = {};
  EXPECT_EQ(b.depth(0, Side::kAsk, out, 2), 2u);
  EXPECT_EQ(out[0], (LevelView{0, 2, 1}));
  EXPECT_EQ(out[1], (LevelView{107, 2, 1}));
  EXPECT_EQ(out[2], kEmpty);  // not written past n
  EXPECT_EQ(b.depth(0, Side::kBid, out, 0), 0u);
  EXPECT_EQ(b.depth(1, Side::kBid, out, 3), 0u);  // empty book
  EXPECT_EQ(b.depth(16, Side::kBid, out, 3), 0u);  // out of range
  EXPECT_EQ(b.check_invariants(), "");
}

// 5000 distinct prices per side inserted in random order: each side's index moves through block
// classes 8, 16, ..., 8192. Then levels far from the top are deleted, in random order.
TEST(OrderBookDepth, DeepBooksInRandomOrderThenDeletesFarFromTop) {
  constexpr uint32_t kLevels = 5000;
  OrderBooks b(capacity(4 * kLevels, 4 * kLevels, 2, 1u << 16));
  std::mt19937_64 rng(20240611);
  std::vector<Price> prices(kLevels);
  std::iota(prices.begin(), prices.end(), Price{100000});
  std::map<Price, std::vector<uint64_t>> bid_orders, ask_orders;  // price -> refs
  std::map<uint64_t, uint32_t> shares_of;
  uint64_t ref = 1;
  std::shuffle(prices.begin(), prices.end(), rng);
  for (Price p : prices) {
    for (auto* side : {&bid_orders, &ask_orders}) {
      const char s = side == &bid_orders ? 'B' : 'S';
      const uint32_t sh = 1 + static_cast<uint32_t>(p % 97);
      ASSERT_NE(b.add(1, ref, s, sh, p).locate, Touch::kNone) << p;
      (*side)[p].push_back(ref);
      shares_of[ref++] = sh;
      if (p % 3 == 0) {  // every third level gets a second order
        ASSERT_NE(b.add(1, ref, s, 7, p).locate, Touch::kNone) << p;
        (*side)[p].push_back(ref);
        shares_of[ref++] = 7;
      }
    }
  }
  const auto expected = [&](const std::map<Price, std::vector<uint64_t>>& side, bool bids) {
    std::vector<LevelView> v;
    for (const auto& [p, refs] : side) {
      uint64_t total = 0;
      for (uint64_t r : refs) total += shares_of[r];
      v.push_back(LevelView{p, total, static_cast<uint32_t>(refs.size())});
    }
    if (bids) std::reverse(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(b.live_levels(), 2u * kLevels);
  EXPECT_EQ(levels(b, 1, Side::kBid), expected(bid_orders, true));
  EXPECT_EQ(levels(b, 1, Side::kAsk), expected(ask_orders, false));
  // 104999 and 100000 are not multiples of 3: one order each.
  EXPECT_EQ(b.top(1), (TopOfBook{{104999, 1 + 104999 % 97, 1}, {100000, 1 + 100000 % 97, 1}}));
  EXPECT_EQ(b.stats().level_capacity_exceeded, 0u);
  ASSERT_EQ(b.check_invariants(), "");

  // Delete the 1500 worst levels of each side and 1000 more from the middle, in random order.
  // Bid prices are listed; the ask deleted with each is its mirror image (as far from the ask top).
  std::vector<Price> doomed;
  for (uint32_t i = 0; i < 1500; ++i) doomed.push_back(100000 + i);
  for (uint32_t i = 0; i < 1000; ++i) doomed.push_back(102000 + 2 * i);
  std::shuffle(doomed.begin(), doomed.end(), rng);
  for (Price p : doomed) {
    const Price ask_p = 100000 + (kLevels - 1) - (p - 100000);
    for (const uint64_t r : bid_orders.at(p)) EXPECT_NE(b.remove(r).locate, Touch::kNone);
    for (const uint64_t r : ask_orders.at(ask_p)) EXPECT_NE(b.cancel(r, shares_of[r]).locate, Touch::kNone);
    bid_orders.erase(p);
    ask_orders.erase(ask_p);
  }
  EXPECT_EQ(b.live_levels(), 2u * (kLevels - 2500));
  EXPECT_EQ(levels(b, 1, Side::kBid), expected(bid_orders, true));
  EXPECT_EQ(levels(b, 1, Side::kAsk), expected(ask_orders, false));
  EXPECT_EQ(b.check_invariants(), "");
}

// Touch.top_changed is true exactly when the touched side's best (price, shares, orders) changes.
TEST(OrderBookTouch, TopChangedExactlyWhenBestLevelChanges) {
  OrderBooks b(roomy());
  expect_touch(b.add(4, 1, 'B', 10, 100), 4, true);   // (100,10,1)
  expect_touch(b.add(4, 2, 'B', 5, 99), 4, false);    // deeper
  expect_touch(b.add(4, 3, 'B', 5, 100), 4, true);    // (100,15,2)
  expect_touch(b.execute(2, 5), 4, false);            // level 99 gone, not the best
  expect_touch(b.execute(1, 0), 4, false);            // nothing leaves
  expect_touch(b.replace(3, 5, 5, 100), 4, false);    // out and back in: (100,15,2) again
  expect_touch(b.replace(5, 6, 6, 100), 4, true);     // (100,16,2)
  expect_touch(b.add(4, 7, 'S', 8, 103), 4, true);    // ask side's own top
  expect_touch(b.add(4, 8, 'S', 8, 104), 4, false);
  expect_touch(b.cancel(8, 8), 4, false);
  expect_touch(b.add(4, 9, 'B', 1, 98), 4, false);
  expect_touch(b.remove(1), 4, true);                 // (100,6,1)
  expect_touch(b.remove(6), 4, true);                 // best level gone: (98,1,1)
  EXPECT_EQ(b.top(4), (TopOfBook{{98, 1, 1}, {103, 8, 1}}));
  expect_touch(b.replace(9, 9, 1, 98), 4, false);
  expect_touch(b.remove(9), 4, true);                 // bid side empty
  EXPECT_EQ(b.top(4), (TopOfBook{{}, {103, 8, 1}}));
  // The same (price, shares, orders) reached by another route is no change.
  expect_touch(b.add(4, 10, 'S', 4, 103), 4, true);   // (103,12,2)
  expect_touch(b.execute(7, 4), 4, true);             // (103,8,2)
  expect_touch(b.replace(7, 11, 4, 103), 4, false);   // (103,8,2) again
  // A failed operation touches nothing.
  expect_none(b.add(4, 10, 'S', 1, 90));
  expect_none(b.execute(12345, 1));
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(OrderBookDigest, FnvOverLevelsBestFirst) {
  OrderBooks a(roomy());
  EXPECT_EQ(a.digest(), fnv1a({}));
  a.add(2, 1, 'S', 7, 105);
  a.add(1, 2, 'B', 3, 100);
  a.add(1, 3, 'B', 4, 101);
  a.add(1, 4, 'B', 5, 101);
  // Locates ascending, bids then asks, best first.
  EXPECT_EQ(a.digest(), fnv1a({{1, 0, 101, 9, 2}, {1, 0, 100, 3, 1}, {2, 1, 105, 7, 1}}));

  // The same levels reached in another order through other messages: equal digests.
  OrderBooks b(roomy());
  b.add(1, 10, 'B', 9, 101);
  b.add(1, 11, 'B', 3, 99);
  b.add(2, 12, 'S', 7, 105);
  b.add(1, 13, 'B', 1, 101);
  b.replace(11, 14, 3, 100);
  b.execute(10, 1);
  EXPECT_EQ(b.digest(), a.digest());
  b.execute(10, 1);
  EXPECT_NE(b.digest(), a.digest());
  EXPECT_EQ(a.check_invariants(), "");
  EXPECT_EQ(b.check_invariants(), "");
}

// A table with 8 slots (max_orders 4) under heavy churn of random 64-bit references: probe runs
// wrap around the end and deletions shift entries back. Every reference's liveness is checked
// against a std::set after each step.
TEST(OrderBookOrderTable, ChurnAtFullLoadKeepsEveryOrderFindable) {
  OrderBooks b(capacity(4, 8, 1, 64));
  std::mt19937_64 rng(7);
  std::vector<uint64_t> pool(24);
  for (uint64_t& r : pool) r = rng();
  pool[0] = 0;
  pool[1] = UINT64_MAX;
  std::set<uint64_t> live;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t ref = pool[rng() % pool.size()];
    if (live.count(ref) != 0) {
      ASSERT_EQ(b.remove(ref).locate, 0u) << step;
      live.erase(ref);
    } else if (live.size() < 4) {
      ASSERT_EQ(b.add(0, ref, 'B', 1, 100 + static_cast<Price>(ref % 8)).locate, 0u) << step;
      live.insert(ref);
    } else {
      ASSERT_EQ(b.add(0, ref, 'B', 1, 100).locate, Touch::kNone) << step;  // full
    }
    if (step % 16 == 0) {
      for (const uint64_t r : pool) {  // 0 shares: finds the order without changing it
        ASSERT_EQ(b.execute(r, 0).locate == 0, live.count(r) != 0) << "step " << step << " ref " << r;
      }
      ASSERT_EQ(b.check_invariants(), "") << step;
    }
  }
  EXPECT_EQ(b.live_orders(), live.size());
  EXPECT_EQ(b.check_invariants(), "");
}

}  // namespace
