// The matching engine's rules on small hand-built ITCH books: validation and reject codes, an
// incoming order taking displayed liquidity level by level (and the consumed-shares ledger), resting
// orders filled by feed orders crossing them and by feed trades through their price, priority among
// client orders, cancel/replace, positions and cash, halts, fault options and bounds. Every expected
// fill is written out here from the rules in docs/exchange-simulator.md.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "perf/itch_day_generator.hpp"
#include "tests/sim/matching_fixture.hpp"

namespace pmm::sim::test {
namespace {

constexpr uint32_t k10 = 100000;  // $10.0000

struct Engine {
  MatchingEngine engine;
  Feed feed{engine};
  explicit Engine(const MatchingConfig& c = small_config()) : engine(c) { feed.stock(1, "AAA"); }
  std::vector<Response> enter(const EnterRequest& r) {
    engine.enter(r, feed.now);
    return drain(engine);
  }
  std::vector<Response> replace(const char* old_token, const char* new_token, uint32_t shares, uint32_t price,
                                const Account& a = kAcct) {
    engine.replace(ReplaceRequest{a, make_token(old_token), make_token(new_token), shares, price}, feed.now);
    return drain(engine);
  }
  std::vector<Response> cancel(const char* token, uint32_t shares = 0, const Account& a = kAcct) {
    engine.cancel(CancelRequest{a, make_token(token), shares}, feed.now);
    return drain(engine);
  }
  void expect_rejected(const EnterRequest& r, char reason) {
    const auto rs = enter(r);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].type, ResponseType::kRejected);
    EXPECT_EQ(rs[0].reason, reason) << str(r.token);
    EXPECT_EQ(rs[0].token, r.token);
  }
};

TEST(MatchingValidation, RejectsWithOuchReasonCodes) {
  Engine t;
  t.expect_rejected(order("T1", 'B', 100, k10, "ZZZ"), 'S');           // unknown stock
  t.expect_rejected(order("T2", 'B', 0, k10), 'Z');                    // zero shares
  t.expect_rejected(order("T3", 'B', 1000001, k10), 'Z');              // above max_order_shares
  t.expect_rejected(order("T4", 'B', 100, 0), 'X');                    // price 0
  t.expect_rejected(order("T5", 'B', 100, k10 + 1), 'X');              // off the cent tick above $1
  t.expect_rejected(order("T6", 'Q', 100, k10), 'O');                  // bad side
  EnterRequest bad_display = order("T7", 'B', 100, k10);
  bad_display.display = 'Z';
  t.expect_rejected(bad_display, 'D');
  const auto ok = t.enter(order("T8", 'B', 100, 9999));                // sub-dollar: 1/100 cent tick
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].type, ResponseType::kAccepted);
  t.expect_rejected(order("T8", 'B', 100, 9999), 'O');                 // duplicate token
  t.expect_rejected(order("T1", 'B', 100, 9999), 'O');                 // a rejected token is spent too
  const auto other = t.enter(order("T8", 'B', 100, 9999, "AAA", 99999, kOther));  // tokens are per account
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].type, ResponseType::kAccepted);
  EXPECT_EQ(t.engine.stats().rejected_duplicate_token, 2u);
  EXPECT_EQ(t.engine.stats().rejected_unknown_stock, 1u);
  EXPECT_EQ(t.engine.stats().rejected_shares, 2u);
  EXPECT_EQ(t.engine.stats().rejected_price, 2u);
}

TEST(MatchingValidation, UnknownTokensOnCancelAndReplace) {
  Engine t;
  auto rs = t.cancel("NOPE");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].type, ResponseType::kCancelReject);
  rs = t.replace("NOPE", "NEW", 100, k10);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].type, ResponseType::kRejected);
  EXPECT_EQ(rs[0].reason, 'O');
  EXPECT_EQ(str(rs[0].token), str(make_token("NEW")));
  // An order that is gone (filled) cannot be canceled or replaced.
  t.feed.add(1, 1, 'S', 100, k10);
  rs = t.enter(order("B1", 'B', 100, k10));
  EXPECT_EQ(types(rs), (std::vector<char>{'A', 'E'}));
  EXPECT_EQ(types(t.cancel("B1")), std::vector<char>{'I'});
  EXPECT_EQ(types(t.replace("B1", "B2", 50, k10)), std::vector<char>{'J'});
  // A cancel leaving as many shares as are open cancels nothing.
  t.enter(order("R1", 'B', 100, k10 - 100));
  EXPECT_EQ(types(t.cancel("R1", 100)), std::vector<char>{'I'});
  EXPECT_EQ(t.engine.stats().cancel_rejects, 3u);
}

TEST(MatchingValidation, HaltedStock) {
  Engine t;
  t.feed.stock(2, "BBB", ' ');  // no trading action yet: not trading
  t.expect_rejected(order("B0", 'B', 100, k10, "BBB"), 'H');
  t.feed.trading(2, 'T');
  EXPECT_EQ(types(t.enter(order("B1", 'B', 100, k10, "BBB"))), std::vector<char>{'A'});
  t.feed.trading(2, 'H');
  t.expect_rejected(order("B2", 'B', 100, k10, "BBB"), 'H');
  EXPECT_EQ(types(t.replace("B1", "B3", 100, k10 + 100)), std::vector<char>{'J'});
  // A feed sell crossing the resting buy while halted does not fill it...
  t.feed.add(2, 7, 'S', 60, k10 - 100);
  EXPECT_TRUE(drain(t.engine).empty());
  t.feed.trading(2, 'Q');
  EXPECT_TRUE(drain(t.engine).empty());
  // ... trading again, the cross fills it at its own price.
  t.feed.trading(2, 'T');
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B1", 60, k10, 'A'}}));
  t.feed.trading(2, 'H');
  EXPECT_EQ(types(t.cancel("B1")), std::vector<char>{'C'});  // canceling is allowed while halted
  t.feed.expect_books_follow_stream();
}

TEST(MatchingTaker, SweepsDisplayedAsksLevelByLevelInTimePriority) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10);
  t.feed.add(1, 12, 'S', 50, k10);
  t.feed.add(1, 13, 'S', 200, k10 + 100);
  t.feed.add(1, 14, 'S', 100, k10 + 300);
  t.feed.add(1, 15, 'B', 100, k10 - 100);
  auto rs = t.enter(order("B1", 'B', 300, k10 + 100));
  EXPECT_EQ(types(rs), (std::vector<char>{'A', 'E', 'E', 'E'}));
  EXPECT_EQ(rs[0].order_ref, 1u);
  EXPECT_EQ(rs[0].shares, 300u);
  EXPECT_EQ(fills(rs), (std::vector<Fill>{{"B1", 100, k10, 'R'}, {"B1", 50, k10, 'R'}, {"B1", 150, k10 + 100, 'R'}}));
  EXPECT_EQ(rs[1].match_number, 1u);
  EXPECT_EQ(rs[3].match_number, 3u);
  EXPECT_EQ(t.engine.consumed(11), 100u);
  EXPECT_EQ(t.engine.consumed(12), 50u);
  EXPECT_EQ(t.engine.consumed(13), 150u);
  EXPECT_EQ(t.engine.consumed(14), 0u);
  // The same displayed shares are not sold twice: only 50 remain at 10.01, the rest rests.
  rs = t.enter(order("B2", 'B', 100, k10 + 100));
  EXPECT_EQ(fills(rs), (std::vector<Fill>{{"B2", 50, k10 + 100, 'R'}}));
  auto open = t.engine.open_orders(kAcct);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(str(open[0].token), str(make_token("B2")));
  EXPECT_EQ(open[0].open_shares, 50u);
  EXPECT_EQ(open[0].executed_shares, 50u);
  // A sell below the best bid takes the bid.
  rs = t.enter(order("S1", 'S', 30, k10 - 200));
  EXPECT_EQ(fills(rs), (std::vector<Fill>{{"S1", 30, k10 - 100, 'R'}}));
  t.feed.expect_books_follow_stream();
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingTaker, ImmediateOrCancelRemainderIsCanceled) {
  Engine t;
  t.feed.add(1, 11, 'S', 40, k10);
  const auto rs = t.enter(order("I1", 'B', 100, k10, "AAA", kImmediateOrCancel));
  EXPECT_EQ(types(rs), (std::vector<char>{'A', 'E', 'C'}));
  EXPECT_EQ(rs[2].decrement_shares, 60u);
  EXPECT_EQ(rs[2].reason, 'I');
  EXPECT_TRUE(t.engine.open_orders(kAcct).empty());
  const auto none = t.enter(order("I2", 'B', 100, k10 - 100, "AAA", kImmediateOrCancel));
  EXPECT_EQ(types(none), (std::vector<char>{'A', 'C'}));
}

TEST(MatchingTaker, ConsumedLedgerFollowsTheFeedOrder) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10);
  t.feed.add(1, 12, 'S', 100, k10);
  EXPECT_EQ(fills(t.enter(order("B1", 'B', 60, k10, "AAA", 0))), (std::vector<Fill>{{"B1", 60, k10, 'R'}}));
  // The feed executes 50 of order 11: 50 left on the feed, of which we took 60 already: none left for us.
  t.feed.execute(11, 50);
  EXPECT_EQ(t.engine.consumed(11), 60u);
  EXPECT_EQ(fills(t.enter(order("B2", 'B', 150, k10, "AAA", 0))), (std::vector<Fill>{{"B2", 100, k10, 'R'}}));
  EXPECT_EQ(t.engine.consumed(12), 100u);
  // Order 11 leaves the feed: its ledger entry goes with it.
  t.feed.remove(11);
  EXPECT_EQ(t.engine.consumed(11), 0u);
  // A replaced feed order is a new order: its shares are displayed afresh.
  t.feed.replace(12, 13, 80, k10);
  EXPECT_EQ(t.engine.consumed(13), 0u);
  EXPECT_EQ(fills(t.enter(order("B3", 'B', 100, k10, "AAA", 0))), (std::vector<Fill>{{"B3", 80, k10, 'R'}}));
  t.feed.expect_books_follow_stream();
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingResting, FeedOrderCrossingARestingOrderFillsItAtItsPrice) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10 + 500);
  EXPECT_EQ(types(t.enter(order("B1", 'B', 100, k10))), std::vector<char>{'A'});
  t.feed.add(1, 12, 'S', 60, k10 - 100);  // a sell below our bid
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B1", 60, k10, 'A'}}));
  EXPECT_EQ(t.engine.consumed(12), 60u);
  t.feed.add(1, 13, 'S', 10, k10 + 100);  // above our bid: nothing
  EXPECT_TRUE(drain(t.engine).empty());
  t.feed.replace(13, 14, 100, k10);  // replaced down to our price: crosses
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B1", 40, k10, 'A'}}));
  EXPECT_EQ(t.engine.consumed(14), 40u);
  EXPECT_TRUE(t.engine.open_orders(kAcct).empty());
  // Resting sells, the mirror image: a feed bid at or above our ask.
  EXPECT_EQ(types(t.enter(order("S1", 'S', 50, k10 + 200))), std::vector<char>{'A'});
  t.feed.add(1, 15, 'B', 80, k10 + 200);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"S1", 50, k10 + 200, 'A'}}));
  EXPECT_EQ(t.engine.stats().maker_cross_executions, 3u);
  t.feed.expect_books_follow_stream();
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingResting, FeedTradesThroughTheClientPrice) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10 + 300);
  t.feed.add(1, 12, 'B', 100, k10);
  t.enter(order("S1", 'S', 100, k10 + 200));  // resting sell below the feed's ask
  t.enter(order("S2", 'S', 100, k10 + 300));  // resting sell at the feed's ask
  t.enter(order("B1", 'B', 100, k10 + 100));  // resting buy above the feed's bid
  // A buyer paid 10.03 for 30 shares: our 10.02 sell was better and fills; the one at 10.03 does not.
  t.feed.execute(11, 30);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"S1", 30, k10 + 200, 'A'}}));
  // An execution with a price: the price printed counts (10.04), and the first sell in priority takes
  // all 10 shares.
  t.feed.execute_at(11, 10, k10 + 400);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"S1", 10, k10 + 200, 'A'}}));
  // A hidden sell traded at 10.04: both resting sells are better priced and share 100 shares in
  // price-time priority.
  t.feed.trade(1, 'S', 100, k10 + 400);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"S1", 60, k10 + 200, 'A'}, {"S2", 40, k10 + 300, 'A'}}));
  // A seller hit the feed's bid at 10.00: our 10.01 buy fills.
  t.feed.execute(12, 70);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B1", 70, k10 + 100, 'A'}}));
  // A hidden buy traded at 9.99: our buy at 10.01 fills; the trade's side is the resting side.
  t.feed.trade(1, 'B', 5, k10 - 100);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B1", 5, k10 + 100, 'A'}}));
  EXPECT_EQ(t.engine.stats().maker_through_executions, 6u);
  t.feed.expect_books_follow_stream();
}

TEST(MatchingResting, PriceTimePriorityAmongClients) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10 + 500);
  t.enter(order("A", 'B', 100, k10));
  t.enter(order("B", 'B', 100, k10 + 100, "AAA", 99999, kOther));
  t.enter(order("C", 'B', 100, k10, "AAA", 99999, kOther));
  t.enter(order("D", 'B', 100, k10));
  t.feed.add(1, 12, 'S', 250, k10 - 500);
  EXPECT_EQ(fills(drain(t.engine)),
            (std::vector<Fill>{{"B", 100, k10 + 100, 'A'}, {"A", 100, k10, 'A'}, {"C", 50, k10, 'A'}}));
  EXPECT_EQ(t.engine.consumed(12), 250u);
  // A partial cancel keeps C's place ahead of D.
  t.cancel("C", 20, kOther);
  t.feed.add(1, 13, 'S', 30, k10);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"C", 20, k10, 'A'}, {"D", 10, k10, 'A'}}));
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingResting, ReplaceKeepsOrLosesPriority) {
  Engine t;
  t.feed.add(1, 11, 'S', 100, k10 + 500);
  t.enter(order("A1", 'B', 100, k10));
  t.enter(order("B1", 'B', 100, k10));
  t.enter(order("C1", 'B', 100, k10));
  // Smaller, same price: keeps its place. Larger: to the back. New price, back at that price.
  auto rs = t.replace("A1", "A2", 50, k10);
  ASSERT_EQ(types(rs), std::vector<char>{'U'});
  EXPECT_EQ(str(rs[0].previous_token), str(make_token("A1")));
  EXPECT_EQ(rs[0].shares, 50u);
  EXPECT_EQ(rs[0].order_ref, 4u);  // every replacement gets a new order reference number
  t.replace("B1", "B2", 150, k10);
  t.feed.add(1, 12, 'S', 120, k10);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"A2", 50, k10, 'A'}, {"C1", 70, k10, 'A'}}));
  t.replace("C1", "C2", 30, k10 - 100);  // lower price, behind B2 now
  t.feed.add(1, 13, 'S', 200, k10 - 100);
  EXPECT_EQ(fills(drain(t.engine)), (std::vector<Fill>{{"B2", 150, k10, 'A'}, {"C2", 30, k10 - 100, 'A'}}));
  // A replace to a marketable price takes liquidity as an incoming order, after the Replaced.
  t.enter(order("D1", 'B', 100, k10 - 300));
  rs = t.replace("D1", "D2", 100, k10 - 100);
  EXPECT_EQ(types(rs), (std::vector<char>{'U', 'E'}));
  EXPECT_EQ(fills(rs), (std::vector<Fill>{{"D2", 20, k10 - 100, 'R'}}));
  EXPECT_EQ(t.engine.open_orders(kAcct).at(0).open_shares, 80u);
  // The old token is dead after a replace, and the new one cannot be entered again.
  EXPECT_EQ(types(t.cancel("D1")), std::vector<char>{'I'});
  EXPECT_EQ(types(t.enter(order("D2", 'B', 1, k10))), std::vector<char>{'J'});
  EXPECT_EQ(types(t.cancel("D2")), std::vector<char>{'C'});
  EXPECT_TRUE(t.engine.open_orders(kAcct).empty());
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingPositions, SharesCashAndFees) {
  MatchingConfig c = small_config();
  c.fee_remove_per_share = 30;   // $0.0030 a share taken
  c.fee_add_per_share = -20;     // $0.0020 a share rebated when resting
  Engine t(c);
  t.feed.stock(2, "BBB");
  t.feed.add(1, 11, 'S', 100, k10);
  t.enter(order("B1", 'B', 100, k10));          // taker: +100 at 10.00
  t.enter(order("S1", 'S', 40, k10 + 500));     // rests
  t.feed.add(1, 12, 'B', 40, k10 + 600);        // crosses it: -40 at 10.05, maker
  t.feed.add(2, 13, 'B', 10, 5000);
  t.enter(order("S2", 'S', 10, 5000, "BBB"));   // short 10 of BBB at 0.50, taker
  t.enter(order("S3", 'S', 5, k10 + 900));      // left open
  const auto pos = t.engine.positions(kAcct);
  ASSERT_EQ(pos.size(), 2u);
  EXPECT_EQ(pos[0].locate, 1u);
  EXPECT_EQ(pos[0].stock, itch::make_symbol("AAA"));
  EXPECT_EQ(pos[0].shares, 60);
  EXPECT_EQ(pos[0].bought, 100u);
  EXPECT_EQ(pos[0].sold, 40u);
  EXPECT_EQ(pos[0].fees, 100 * 30 - 40 * 20);
  EXPECT_EQ(pos[0].cash, -100 * 100000 + 40 * 100500 - (100 * 30 - 40 * 20));
  EXPECT_EQ(pos[1].shares, -10);
  EXPECT_EQ(pos[1].cash, 10 * 5000 - 10 * 30);
  const auto open = t.engine.open_orders(kAcct);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(str(open[0].token), str(make_token("S3")));
  EXPECT_EQ(open[0].side, 'S');
  EXPECT_EQ(open[0].price, k10 + 900);
  EXPECT_EQ(t.engine.accounts(), std::vector<Account>{kAcct});
  EXPECT_TRUE(t.engine.positions(kOther).empty());
}

TEST(MatchingFaults, RejectDropAndDelayFractions) {
  MatchingConfig c = small_config();
  c.reject_rate = 0.25;
  c.drop_rate = 0.1;
  c.seed = 7;
  Engine t(c);
  constexpr int kOrders = 4000;
  for (int i = 0; i < kOrders; ++i) {
    t.engine.enter(order(("T" + std::to_string(i)).c_str(), 'B', 1, k10 - 100 * static_cast<uint32_t>(i % 50 + 1),
                         "AAA", kImmediateOrCancel),
                   t.feed.now);
    drain(t.engine);
  }
  const MatchingStats& s = t.engine.stats();
  // Binomial: within 4 standard deviations.
  EXPECT_NEAR(static_cast<double>(s.rejected_fault), 0.25 * kOrders, 4 * std::sqrt(kOrders * 0.25 * 0.75));
  // Accepted IOC orders answer twice (Accepted, Canceled), rejected ones once.
  EXPECT_EQ(s.responses, 2 * s.accepted + s.rejected_fault);
  EXPECT_NEAR(static_cast<double>(s.responses_dropped), 0.1 * static_cast<double>(s.responses),
              4 * std::sqrt(static_cast<double>(s.responses) * 0.1 * 0.9));
  EXPECT_EQ(s.responses_released + s.responses_dropped, s.responses);
}

TEST(MatchingFaults, DelayedResponsesLeaveInOrder) {
  MatchingConfig c = small_config();
  c.delay_rate = 0.5;
  c.delay_ms = 5;
  Engine t(c);
  std::vector<std::string> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back(str(make_token("T" + std::to_string(i))));
    t.engine.enter(order(("T" + std::to_string(i)).c_str(), 'B', 1, k10), t.feed.now + uint64_t(i) * 100000);
  }
  const MatchingStats& s = t.engine.stats();
  EXPECT_GT(s.responses_delayed, 60u);
  EXPECT_LT(s.responses_delayed, 140u);
  // Nothing is released before its time; everything by the last one's time plus the delay.
  std::vector<std::string> got;
  for (uint64_t now = t.feed.now; now <= t.feed.now + 200 * 100000 + 5000000; now += 50000) {
    for (const Response& r : drain(t.engine, now)) {
      EXPECT_LE(r.timestamp, now);
      got.push_back(str(r.token));
    }
  }
  EXPECT_EQ(got, sent);
  // All delayed: the first answer comes out exactly delay_ms later.
  c.delay_rate = 1.0;
  Engine u(c);
  u.engine.enter(order("X", 'B', 1, k10), 1000000);
  EXPECT_TRUE(drain(u.engine, 1000000 + 4999999).empty());
  EXPECT_EQ(drain(u.engine, 1000000 + 5000000).size(), 1u);
}

TEST(MatchingFaults, SameSeedSameStreamOtherSeedOther) {
  auto run = [](uint64_t seed) {
    MatchingConfig c = small_config();
    c.reject_rate = 0.3;
    c.drop_rate = 0.2;
    c.delay_rate = 0.3;
    c.delay_ms = 1;
    c.seed = seed;
    Engine t(c);
    std::vector<Response> all;
    for (int i = 0; i < 500; ++i) {
      t.feed.now += 100000;
      t.feed.add(1, uint64_t(100 + i), i % 2 ? 'S' : 'B', 100, k10 + (i % 2 ? 100 : -100) * uint32_t(i % 5 + 1));
      t.engine.enter(order(("T" + std::to_string(i)).c_str(), i % 3 ? 'B' : 'S', 50, k10 + 100 * uint32_t(i % 7) - 300),
                     t.feed.now);
      const auto rs = drain(t.engine, t.feed.now);
      all.insert(all.end(), rs.begin(), rs.end());
    }
    const auto rest = drain(t.engine);
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  };
  const auto a = run(11);
  EXPECT_GT(a.size(), 500u);
  EXPECT_EQ(a, run(11));
  EXPECT_NE(a, run(12));
}

TEST(MatchingBounds, LimitsAreCountedNeverGrown) {
  MatchingConfig c = small_config();
  c.max_accounts = 2;
  c.max_open_orders = 2;
  c.max_queued_responses = 4;
  c.max_positions = 2;
  c.max_day_tokens = 8;
  Engine t(c);
  t.feed.stock(2, "BBB");
  t.feed.stock(3, "CCC");
  EXPECT_EQ(types(t.enter(order("A1", 'B', 1, k10))), std::vector<char>{'A'});
  EXPECT_EQ(types(t.enter(order("A2", 'B', 1, k10))), std::vector<char>{'A'});
  const auto full = t.enter(order("A3", 'B', 1, k10));
  ASSERT_EQ(types(full), std::vector<char>{'J'});
  EXPECT_EQ(full[0].reason, 'O');
  EXPECT_EQ(t.engine.stats().rejected_open_order_limit, 1u);
  // An IOC order still trades (it never rests).
  EXPECT_EQ(types(t.enter(order("A4", 'B', 1, k10, "AAA", 0))), (std::vector<char>{'A', 'C'}));
  // Accounts.
  EXPECT_EQ(types(t.enter(order("X1", 'B', 1, k10, "AAA", 0, kOther))), (std::vector<char>{'A', 'C'}));
  const auto third = t.enter(order("Y1", 'B', 1, k10, "AAA", 0, make_account("ACC3")));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].reason, 'L');
  EXPECT_EQ(t.engine.stats().rejected_account_limit, 1u);
  // Positions: two (account, stock) pairs.
  EXPECT_EQ(types(t.enter(order("A5", 'B', 1, k10, "BBB", 0))), std::vector<char>{'J'});
  EXPECT_EQ(t.engine.stats().rejected_position_limit, 1u);
  // Day tokens: 6 spent so far (A1..A5, X1; none for the refused account): two more fit.
  t.enter(order("A6", 'B', 1, k10, "AAA", 0));
  t.enter(order("A7", 'B', 1, k10, "AAA", 0));
  EXPECT_EQ(types(t.enter(order("A8", 'B', 1, k10, "AAA", 0))), std::vector<char>{'J'});
  EXPECT_EQ(t.engine.stats().rejected_token_limit, 1u);
  // Queued responses: 4 at most.
  for (int i = 0; i < 3; ++i) t.engine.cancel(CancelRequest{kAcct, make_token("none"), 0}, t.feed.now);
  t.engine.enter(order("A9", 'B', 1, k10, "AAA", 0), t.feed.now);
  t.engine.cancel(CancelRequest{kAcct, make_token("none"), 0}, t.feed.now);
  EXPECT_EQ(t.engine.queued(), 4u);
  EXPECT_EQ(t.engine.stats().responses_overflow, 1u);
  EXPECT_EQ(drain(t.engine).size(), 4u);
  EXPECT_EQ(t.engine.check_invariants(), "");
}

TEST(MatchingBounds, ConfigErrorsNameTheKey) {
  MatchingConfig c = small_config();
  EXPECT_EQ(validate(c), "");
  c.max_accounts = 0;
  EXPECT_NE(validate(c).find("matching.max_accounts"), std::string::npos);
  c = small_config();
  c.drop_rate = 1.5;
  EXPECT_NE(validate(c).find("matching.drop_rate"), std::string::npos);
  c = small_config();
  c.book.max_locates = 0;
  EXPECT_NE(validate(c).find("matching.book.max_locates"), std::string::npos);
}

// A generated day (all message types, halts, replaces, executions with price, hidden trades) with
// client orders sprinkled in: the feed books stay the stream's, the mirror and client books stay
// consistent, and all three ways of trading happen.
TEST(MatchingGeneratedDay, BooksStayTheStreamsAndEveryRuleTrades) {
  gen::DayConfig day;
  day.seed = 5;
  day.messages = 150000;
  day.symbols = 20;
  day.target_live_orders = 4000;
  gen::ItchDayGenerator generator(day);
  MatchingConfig c = small_config();
  c.max_open_orders = 4096;
  MatchingEngine engine(c);
  BookBuilder plain(c.book);
  std::mt19937_64 rng(9);
  uint8_t msg[itch::kMaxMessageLength];
  uint64_t now = 0;
  int token = 0;
  for (size_t len; (len = generator.next(msg)) > 0;) {
    now += 1000;
    engine.on_feed_message(msg, len, now);
    plain.on_message(msg, len);
    if (generator.produced() % 40 != 0) continue;
    const auto locate = static_cast<uint16_t>(1 + rng() % day.symbols);
    const book::TopOfBook top = engine.feed().books().top(locate);
    if (top.bid.shares == 0 || top.ask.shares == 0) continue;
    const bool buy = rng() % 2 == 0;
    // Marketable, at the touch, or a few cents away (to rest and be crossed or traded through).
    const int64_t offset = static_cast<int64_t>(rng() % 7) * 100 - 200;
    int64_t price = static_cast<int64_t>(buy ? top.bid.price : top.ask.price) + (buy ? offset : -offset);
    price = price >= 10000 ? price / 100 * 100 : price;
    if (price <= 0) continue;
    EnterRequest q = order(("G" + std::to_string(token++)).c_str(), buy ? 'B' : 'S',
                           static_cast<uint32_t>(100 + rng() % 400), static_cast<uint32_t>(price));
    q.stock = engine.feed().symbol(locate);
    engine.enter(q, now);
    if (rng() % 4 == 0) engine.cancel(CancelRequest{kAcct, make_token("G" + std::to_string(rng() % token)), 0}, now);
    drain(engine);
  }
  EXPECT_EQ(engine.feed().books().digest(), plain.books().digest());
  EXPECT_EQ(engine.feed().stats().bad_length, 0u);
  EXPECT_EQ(engine.check_invariants(), "");
  const MatchingStats& s = engine.stats();
  EXPECT_EQ(s.mirror_errors, 0u);
  EXPECT_GT(s.accepted, 1000u);
  EXPECT_GT(s.taker_executions, 100u);
  EXPECT_GT(s.maker_cross_executions, 100u);
  EXPECT_GT(s.maker_through_executions, 100u);
  EXPECT_EQ(s.responses, s.responses_released);
}

TEST(FixedHashMap, AgreesWithUnorderedMap) {
  FixedHashMap<uint64_t, uint64_t> map(500);
  std::unordered_map<uint64_t, uint64_t> ref;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t k = rng() % 1000;  // collisions and clusters on purpose
    switch (rng() % 3) {
      case 0: {
        const bool room = ref.size() < 500;
        if (map.find(k) != nullptr) break;
        uint64_t* v = map.insert(k, i);
        ASSERT_EQ(v != nullptr, room);
        if (room) ref[k] = uint64_t(i);
        break;
      }
      case 1:
        ASSERT_EQ(map.erase(k), ref.erase(k) == 1);
        break;
      default: {
        const uint64_t* v = map.find(k);
        const auto it = ref.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end());
        if (v) {
          ASSERT_EQ(*v, it->second);
        }
      }
    }
    ASSERT_EQ(map.size(), ref.size());
  }
}

}  // namespace
}  // namespace pmm::sim::test
