// Order tokens (epoch + counter + slot in 14 base-36 characters) and the durable epoch file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "core/orders/epoch_file.hpp"
#include "core/orders/order_token.hpp"

namespace pmm::orders {
namespace {

TEST(OrderToken, KnownEncodings) {
  // 36^4 = 1,679,616 and 36^6 = 2,176,782,336: the field limits from the header.
  EXPECT_EQ(kMaxEpoch, 1679615u);
  EXPECT_EQ(kCounterLimit, 2176782336ull);
  EXPECT_EQ(encode_token({0, 0, 0}).view(), "00000000000000");
  // epoch 1 -> "0001"; counter 35 -> "00000Z"; slot 36 -> "0010".
  EXPECT_EQ(encode_token({1, 35, 36}).view(), "000100000Z0010");
  // 1,679,615 = ZZZZ; 2,176,782,335 = ZZZZZZ.
  EXPECT_EQ(encode_token({kMaxEpoch, kCounterLimit - 1, kSlotLimit - 1}).view(), "ZZZZZZZZZZZZZZ");
  // epoch 46656 = 36^3 -> "1000"; counter 1296 = 36^2 -> "000100".
  EXPECT_EQ(encode_token({46656, 1296, 10}).view(), "1000000100000A");
}

TEST(OrderToken, AlphanumericAndRoundTrips) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const TokenParts p{static_cast<uint32_t>(rng() % (kMaxEpoch + 1)), rng() % kCounterLimit,
                       static_cast<uint32_t>(rng() % kSlotLimit)};
    const OrderToken t = encode_token(p);
    for (char c : t.chars) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) << t.view();
    TokenParts back;
    ASSERT_TRUE(decode_token(t, back));
    ASSERT_EQ(back, p);
  }
}

TEST(OrderToken, ForeignTokensDoNotDecode) {
  TokenParts p;
  EXPECT_FALSE(decode_token(make_token("ABC"), p));               // space padding
  EXPECT_FALSE(decode_token(make_token("0001000000000a"), p));    // lower case
  EXPECT_FALSE(decode_token(make_token("0001-00000000A"), p));
  EXPECT_TRUE(decode_token(make_token("00010000000001"), p));
  EXPECT_EQ(p, (TokenParts{1, 0, 1}));
}

TEST(OrderToken, MakeTokenIsLeftJustifiedSpacePadded) {
  EXPECT_EQ(make_token("AB1").view(), "AB1           ");
  EXPECT_EQ(make_token("").view(), "              ");
  EXPECT_EQ(make_token("0123456789ABCDEFG").view(), "0123456789ABCD");  // cut at 14
}

TEST(TokenIssuer, DifferentEpochsNeverCollide) {
  // Same counters and same slots in several epochs: every token distinct, and each decodes to the
  // epoch that issued it (the epoch field alone separates them).
  std::set<std::string> seen;
  for (uint32_t epoch : {1u, 2u, 36u, 37u, 1296u, kMaxEpoch}) {
    TokenIssuer issuer(epoch);
    for (uint32_t i = 0; i < 2000; ++i) {
      OrderToken t;
      ASSERT_TRUE(issuer.next(i % 7, t));
      ASSERT_TRUE(seen.insert(std::string(t.view())).second) << t.view();
      TokenParts p;
      ASSERT_TRUE(decode_token(t, p));
      EXPECT_EQ(p.epoch, epoch);
      EXPECT_EQ(p.counter, i);
      EXPECT_EQ(p.slot, i % 7);
    }
  }
  EXPECT_EQ(seen.size(), 6u * 2000u);
}

TEST(TokenIssuer, ExhaustionIsAnErrorNotAWrap) {
  TokenIssuer issuer(5);
  issuer.set_next_counter(kCounterLimit - 2);
  OrderToken a, b, c;
  ASSERT_TRUE(issuer.next(0, a));
  ASSERT_TRUE(issuer.next(0, b));
  EXPECT_EQ(issuer.remaining(), 0u);
  c = make_token("untouched");
  EXPECT_FALSE(issuer.next(0, c));
  EXPECT_FALSE(issuer.next(0, c));
  EXPECT_EQ(c.view(), "untouched     ");
  EXPECT_EQ(a.view(), "0005ZZZZZY0000");
  EXPECT_EQ(b.view(), "0005ZZZZZZ0000");
}

TEST(TokenIssuer, IssuesWhatEncodeTokenEncodesAcrossEveryCarry) {
  // The issuer counts its digits up instead of encoding each counter: compare it with encode_token
  // (the reference) around every carry position (36^k - 1 -> 36^k), from a fresh issuer and after
  // set_next_counter.
  std::mt19937_64 rng(11);
  const uint32_t epoch = 1295;  // "00ZZ": epoch digits next to the counter's must not be touched by a carry
  TokenIssuer fresh(epoch);
  for (uint64_t c = 0; c < 3000; ++c) {
    const uint32_t slot = static_cast<uint32_t>(rng() % kSlotLimit);
    OrderToken t;
    ASSERT_TRUE(fresh.next(slot, t));
    ASSERT_EQ(t.view(), encode_token({epoch, c, slot}).view()) << c;
  }
  uint64_t power = 1;
  for (size_t k = 1; k <= kCounterDigits; ++k) {
    power *= 36;
    TokenIssuer issuer(epoch);
    const uint64_t from = power > 40 ? power - 40 : 0;
    issuer.set_next_counter(from);
    for (uint64_t c = from; c < power + 40 && c < kCounterLimit; ++c) {
      const uint32_t slot = static_cast<uint32_t>(rng() % kSlotLimit);
      OrderToken t;
      ASSERT_TRUE(issuer.next(slot, t));
      ASSERT_EQ(t.view(), encode_token({epoch, c, slot}).view()) << c;
    }
  }
}

TEST(OrderToken, SlotFieldAloneDecodes) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const TokenParts p{static_cast<uint32_t>(rng() % (kMaxEpoch + 1)), rng() % kCounterLimit,
                       static_cast<uint32_t>(rng() % kSlotLimit)};
    uint32_t slot = 0;
    ASSERT_TRUE(decode_token_slot(encode_token(p), slot));
    ASSERT_EQ(slot, p.slot);
  }
  uint32_t slot = 77;
  EXPECT_FALSE(decode_token_slot(make_token("ABC"), slot));              // padding in the slot field
  EXPECT_FALSE(decode_token_slot(make_token("000100000000a1"), slot));   // lower case in the slot field
  EXPECT_EQ(slot, 77u);
  EXPECT_TRUE(decode_token_slot(make_token("a-b-0000000010"), slot));   // the rest is not its business
  EXPECT_EQ(slot, 36u);
}

class EpochFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pmm-epoch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/epoch";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    rmdir(dir_.c_str());
  }
  std::string read() {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::string& s) { std::ofstream(path_) << s; }
  std::string dir_, path_;
};

TEST_F(EpochFileTest, StartsAtOneAndIncrementsDurably) {
  EpochResult r = advance_epoch_file(path_);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.epoch, 1u);
  EXPECT_EQ(read(), "1\n");
  for (uint32_t want = 2; want <= 5; ++want) {
    r = advance_epoch_file(path_);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.epoch, want);
  }
  EXPECT_EQ(read(), "5\n");
  struct stat st;
  EXPECT_NE(stat((path_ + ".tmp").c_str(), &st), 0);  // renamed away
}

TEST_F(EpochFileTest, MalformedFileIsAnErrorAndUntouched) {
  for (const std::string bad : {"", "\n", "12x\n", "-3\n", "12345678901\n", "7\n\n"}) {
    write(bad);
    const EpochResult r = advance_epoch_file(path_);
    EXPECT_NE(r.error.find("expected 1-10 decimal digits"), std::string::npos) << bad << ": " << r.error;
    EXPECT_NE(r.error.find(path_), std::string::npos);
    EXPECT_EQ(read(), bad);
  }
  write("41");  // no newline is accepted
  EXPECT_EQ(advance_epoch_file(path_).epoch, 42u);
}

TEST_F(EpochFileTest, LastEpochIsAnError) {
  write(std::to_string(kMaxEpoch - 1) + "\n");
  EXPECT_EQ(advance_epoch_file(path_).epoch, kMaxEpoch);
  const EpochResult r = advance_epoch_file(path_);
  EXPECT_EQ(r.epoch, 0u);
  EXPECT_NE(r.error.find("1679615"), std::string::npos) << r.error;
  EXPECT_EQ(read(), std::to_string(kMaxEpoch) + "\n");
}

TEST_F(EpochFileTest, UnwritableDirectoryNamesThePath) {
  const EpochResult r = advance_epoch_file("/nonexistent-dir-pmm/epoch");
  EXPECT_NE(r.error, "");
  EXPECT_NE(r.error.find("/nonexistent-dir-pmm/epoch"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace pmm::orders
