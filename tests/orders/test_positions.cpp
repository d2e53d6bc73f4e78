// PositionBook: expected numbers are worked out by hand in the comments (prices in Price(4), money
// in 1/10000 dollars: 100 shares at 10.0000 cost 100 x 100000 = 10,000,000 units = $1000).
#include <gtest/gtest.h>

#include "core/orders/positions.hpp"

namespace pmm::orders {
namespace {

constexpr uint32_t kSym = 1;

TEST(Positions, AverageCostRealizedUnrealizedAndCrossingZero) {
  PositionBook book(4, FeeSchedule{});
  book.apply_fill(kSym, Side::kBuy, 100000, 100, 0);  // buy 100 @ 10.0000
  book.apply_fill(kSym, Side::kBuy, 120000, 100, 0);  // buy 100 @ 12.0000
  // basis = 100*100000 + 100*120000 = 22,000,000; average = 22,000,000 / 200 = 110000 ($11)
  EXPECT_EQ(book.position(kSym).shares, 200);
  EXPECT_TRUE(book.position(kSym).cost_basis == 22000000);
  EXPECT_EQ(book.average_cost(kSym), 110000u);

  book.apply_fill(kSym, Side::kSell, 130000, 50, 0);  // sell 50 @ 13.0000
  // released = 22,000,000 * 50/200 = 5,500,000; realized = 50*130000 - 5,500,000 = 1,000,000 ($100)
  EXPECT_EQ(book.position(kSym).shares, 150);
  EXPECT_TRUE(book.position(kSym).realized == 1000000);
  EXPECT_TRUE(book.position(kSym).cost_basis == 16500000);
  // unrealized at 11.5000: 150*115000 - 16,500,000 = 750,000 ($75)
  EXPECT_TRUE(book.unrealized(kSym, 115000) == 750000);

  book.apply_fill(kSym, Side::kSell, 140000, 200, 0);  // sell 200 @ 14.0000: close 150, open short 50
  // close: 150*140000 - 16,500,000 = 4,500,000 -> realized 5,500,000; open: basis -50*140000 = -7,000,000
  EXPECT_EQ(book.position(kSym).shares, -50);
  EXPECT_TRUE(book.position(kSym).realized == 5500000);
  EXPECT_TRUE(book.position(kSym).cost_basis == -7000000);
  EXPECT_EQ(book.average_cost(kSym), 140000u);
  // unrealized at 13.0000: -50*130000 + 7,000,000 = 500,000 ($50, the short gained)
  EXPECT_TRUE(book.unrealized(kSym, 130000) == 500000);

  book.apply_fill(kSym, Side::kBuy, 150000, 50, 0);  // cover 50 @ 15.0000
  // realized += -(50*150000) + 7,000,000 = -500,000 -> 5,000,000
  EXPECT_EQ(book.position(kSym).shares, 0);
  EXPECT_TRUE(book.position(kSym).realized == 5000000);
  EXPECT_TRUE(book.position(kSym).cost_basis == 0);
  // flat: realized is the cash flow: -1000 -1200 +650 +2800 -750 = $500 = 5,000,000 units
  EXPECT_EQ(book.position(kSym).bought, 250u);  // 100 + 100 + 50
  EXPECT_EQ(book.position(kSym).sold, 250u);    // 50 + 200
  EXPECT_EQ(book.average_cost(kSym), 0u);
}

TEST(Positions, ShortToLongCrossing) {
  PositionBook book(2, FeeSchedule{});
  book.apply_fill(0, Side::kSell, 50000, 30, 0);  // short 30 @ 5.0000: basis -1,500,000
  book.apply_fill(0, Side::kBuy, 40000, 50, 0);   // buy 50 @ 4.0000: close 30, open long 20
  // close: -(30*40000) + 1,500,000 = 300,000; open: basis 20*40000 = 800,000
  EXPECT_EQ(book.position(0).shares, 20);
  EXPECT_TRUE(book.position(0).realized == 300000);
  EXPECT_TRUE(book.position(0).cost_basis == 800000);
}

TEST(Positions, PartialCloseTruncatesTowardZeroAndFlatIsExact) {
  PositionBook book(2, FeeSchedule{});
  // Long: buy 1 @ 1.0000 and 2 @ 1.0001: basis 10000 + 20002 = 30002.
  book.apply_fill(0, Side::kBuy, 10000, 1, 0);
  book.apply_fill(0, Side::kBuy, 10001, 2, 0);
  book.apply_fill(0, Side::kSell, 10000, 1, 0);
  // released = 30002/3 = 10000.67 -> 10000; realized = 10000 - 10000 = 0; basis 20002
  EXPECT_TRUE(book.position(0).realized == 0);
  EXPECT_TRUE(book.position(0).cost_basis == 20002);
  book.apply_fill(0, Side::kSell, 10000, 2, 0);
  // last shares release all 20002: realized += 20000 - 20002 = -2 (cash: -10000-20002+10000+20000)
  EXPECT_TRUE(book.position(0).realized == -2);
  // Short mirror: released = -30002/3 = -10000.67 -> -10000 (toward zero); flat realized = +2.
  book.apply_fill(1, Side::kSell, 10000, 1, 0);
  book.apply_fill(1, Side::kSell, 10001, 2, 0);
  book.apply_fill(1, Side::kBuy, 10000, 1, 0);
  EXPECT_TRUE(book.position(1).realized == 0);
  EXPECT_TRUE(book.position(1).cost_basis == -20002);
  book.apply_fill(1, Side::kBuy, 10000, 2, 0);
  EXPECT_TRUE(book.position(1).realized == 2);
  EXPECT_TRUE(book.total_realized() == 0);
}

TEST(Positions, FeesMakerRebateTakerCharge) {
  // maker -20 ($0.0020 rebate per share), taker 30 ($0.0030 per share)
  PositionBook book(2, FeeSchedule{-20, 30});
  EXPECT_TRUE(book.fee_for(100, Liquidity::kMaker) == -2000);
  EXPECT_TRUE(book.fee_for(50, Liquidity::kTaker) == 1500);
  book.apply_fill(0, Side::kBuy, 100000, 100, book.fee_for(100, Liquidity::kMaker));
  book.apply_fill(1, Side::kSell, 100000, 50, book.fee_for(50, Liquidity::kTaker));
  EXPECT_TRUE(book.position(0).fees == -2000);
  EXPECT_TRUE(book.position(1).fees == 1500);
  EXPECT_TRUE(book.total_fees() == -500);  // net $0.05 rebate
  EXPECT_TRUE(book.position(0).realized == 0);  // fees are kept apart from realized
}

TEST(Positions, BrokenTradeReversal) {
  PositionBook book(1, FeeSchedule{-20, 30});
  book.apply_fill(0, Side::kBuy, 100000, 100, -2000);  // 100 @ 10, maker
  book.apply_fill(0, Side::kBuy, 120000, 100, -2000);  // 100 @ 12, maker
  book.reverse_fill(0, Side::kBuy, 100000, 100, -2000);  // the first one is broken
  // reversal = sell 100 @ 10.0000 on basis 22,000,000 / 200 shares: released 11,000,000,
  // realized = 10,000,000 - 11,000,000 = -1,000,000; basis 11,000,000; fee refunded -> -2000
  EXPECT_EQ(book.position(0).shares, 100);
  EXPECT_TRUE(book.position(0).realized == -1000000);
  EXPECT_TRUE(book.position(0).cost_basis == 11000000);
  EXPECT_TRUE(book.position(0).fees == -2000);
  EXPECT_EQ(book.position(0).bought, 100u);
  // realized + unrealized at 12.0000 = -1,000,000 + (100*120000 - 11,000,000) = 0, as if only the
  // 100 @ 12 had ever traded (the split between realized and unrealized differs: see the docs).
  EXPECT_TRUE(book.position(0).realized + book.unrealized(0, 120000) == 0);
}

TEST(Positions, TotalsAcrossSymbols) {
  PositionBook book(3, FeeSchedule{0, 10});
  book.apply_fill(0, Side::kBuy, 20000, 10, book.fee_for(10, Liquidity::kTaker));   // fee 100
  book.apply_fill(2, Side::kSell, 30000, 20, book.fee_for(20, Liquidity::kTaker));  // fee 200
  const Price marks[3] = {21000, 0, 29000};
  // unrealized: 10*21000 - 200,000 = 10,000; -20*29000 + 600,000 = 20,000; total 30,000
  EXPECT_TRUE(book.total_unrealized(marks, 3) == 30000);
  EXPECT_TRUE(book.total_fees() == 300);
  EXPECT_TRUE(book.total_realized() == 0);
}

TEST(Positions, LargeNotionalsDoNotOverflow) {
  // 2^31 shares at 429,496.7295 (2^32-1) each: 9.2e18 units, past int64 but exact in __int128.
  PositionBook book(1, FeeSchedule{});
  const uint32_t big = 1u << 31;
  book.apply_fill(0, Side::kBuy, UINT32_MAX, big, 0);
  book.apply_fill(0, Side::kBuy, UINT32_MAX, big, 0);
  const Money expect = Money{UINT32_MAX} * (Money{big} * 2);
  EXPECT_TRUE(book.position(0).cost_basis == expect);
  book.apply_fill(0, Side::kSell, 1, big, 0);
  book.apply_fill(0, Side::kSell, 1, big, 0);
  EXPECT_TRUE(book.position(0).realized == Money{big} * 2 - expect);
}

}  // namespace
}  // namespace pmm::orders
