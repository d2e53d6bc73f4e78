// OrderTracker: every legal transition of the state table in docs/order-manager.md, every illegal
// request and every bad response kind, replace flows, broken trades, cancel-all and snapshot errors.
// Fees: maker -20 (a $0.0020 rebate per share), taker 30 ($0.0030 per share).
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "core/orders/order_tracker.hpp"
#include "tests/orders/orders_test_support.hpp"

namespace pmm::orders {
namespace {

using namespace pmm::orders::test;
using S = OrderState;

class TrackerTest : public ::testing::Test {
 protected:
  static OrderTrackerConfig config() {
    OrderTrackerConfig c;
    c.max_open_orders = 4;
    c.max_symbols = 4;
    c.fill_history = 8;
    c.max_order_shares = 10000;
    c.fees = FeeSchedule{-20, 30};
    return c;
  }
  TrackerTest() : t(config(), 7, sink) {}

  OrderToken submit(uint32_t sym, Side side, Price px, uint32_t shares) {
    const SubmitResult r = t.submit(sym, side, px, shares);
    EXPECT_EQ(r.error, RequestError::kNone);
    return r.token;
  }
  OrderToken live(uint32_t sym, Side side, Price px, uint32_t shares) {  // submitted and accepted
    const OrderToken tok = submit(sym, side, px, shares);
    t.on_accepted(accepted(tok, shares, px));
    return tok;
  }
  S state(const OrderToken& tok) const {
    const OrderRecord* o = t.find(tok);
    return o == nullptr ? S::kFree : o->state;
  }
  uint32_t open(const OrderToken& tok) const { return t.find(tok)->open; }
  uint64_t anomalies(Anomaly a) const { return t.counters().anomalies[static_cast<uint8_t>(a)]; }
  uint64_t total_anomalies() const {
    uint64_t n = 0;
    for (uint64_t v : t.counters().anomalies) n += v;
    return n;
  }
  uint64_t errors(RequestError e) const { return t.counters().request_errors[static_cast<uint8_t>(e)]; }
  const OpenView& view(uint32_t sym) const { return t.open_view(sym); }

  RecordingSink sink;
  OrderTracker t;
};

TEST(OrderTrackerConfig, ValidateNamesTheKey) {
  OrderTrackerConfig c;
  EXPECT_EQ(validate(c), "");
  c.max_open_orders = 0;
  EXPECT_NE(validate(c).find("orders.max_open_orders"), std::string::npos);
  c = {};
  c.max_open_orders = kSlotLimit + 1;
  EXPECT_NE(validate(c).find("orders.max_open_orders"), std::string::npos);
  c = {};
  c.max_symbols = 65537;
  EXPECT_NE(validate(c).find("orders.max_symbols"), std::string::npos);
  c = {};
  c.fill_history = 0;
  EXPECT_NE(validate(c).find("orders.fill_history"), std::string::npos);
  c = {};
  c.max_order_shares = 0;
  EXPECT_NE(validate(c).find("orders.max_order_shares"), std::string::npos);
  c = {};
  c.fees.taker_per_share = 1000001;
  EXPECT_NE(validate(c).find("orders.fees.taker_per_share"), std::string::npos);
  c = {};
  c.fees.maker_per_share = -1000001;
  EXPECT_NE(validate(c).find("orders.fees.maker_per_share"), std::string::npos);
}

TEST(OrderEventLayout, FixedSizeTrivial) {
  EXPECT_LE(sizeof(OrderEvent), 64u);
  EXPECT_TRUE(std::is_trivially_copyable_v<OrderEvent>);
}

TEST_F(TrackerTest, NewAcceptPartialFill) {
  const OrderToken tok = submit(1, Side::kBuy, 100000, 300);
  TokenParts p;
  ASSERT_TRUE(decode_token(tok, p));
  EXPECT_EQ(p.epoch, 7u);
  EXPECT_EQ(state(tok), S::kPendingNew);
  EXPECT_EQ(view(1), (OpenView{300, 0, 1}));  // a pending new order already counts
  EXPECT_EQ(sink.last().kind, EventKind::kSubmitted);

  t.on_accepted(accepted(tok, 300, 100000));
  EXPECT_EQ(state(tok), S::kAccepted);
  EXPECT_EQ(sink.last().kind, EventKind::kAccepted);

  t.on_executed(executed(tok, 100, 99900, 1));  // 100 @ 9.9900, maker
  EXPECT_EQ(state(tok), S::kPartiallyFilled);
  EXPECT_EQ(open(tok), 200u);
  EXPECT_EQ(view(1), (OpenView{200, 0, 1}));
  EXPECT_EQ(t.positions().position(1).shares, 100);
  EXPECT_TRUE(t.positions().position(1).cost_basis == 9990000);  // 100 * 99900
  EXPECT_TRUE(t.positions().position(1).fees == -2000);          // 100 * -20
  const OrderEvent& e = sink.last();
  EXPECT_EQ(e.kind, EventKind::kFill);
  EXPECT_EQ(e.shares, 100u);
  EXPECT_EQ(e.price, 99900u);
  EXPECT_EQ(e.open_shares, 200u);
  EXPECT_EQ(e.match_number, 1u);
  EXPECT_EQ(e.reason, 'M');
  EXPECT_EQ(e.state, S::kPartiallyFilled);

  t.on_executed(executed(tok, 150, 100000, 2, Liquidity::kTaker));
  EXPECT_EQ(state(tok), S::kPartiallyFilled);
  t.on_executed(executed(tok, 50, 100000, 3));
  EXPECT_EQ(state(tok), S::kFilled);
  EXPECT_EQ(view(1), (OpenView{0, 0, 0}));
  EXPECT_TRUE(t.all_acknowledged());
  EXPECT_EQ(t.positions().position(1).shares, 300);
  // fees: -2000 + 150*30 + 50*-20 = -2000 + 4500 - 1000 = 1500
  EXPECT_TRUE(t.positions().position(1).fees == 1500);
  EXPECT_EQ(total_anomalies(), 0u);
  // sequence numbers 1..n without gaps
  for (size_t i = 0; i < sink.events.size(); ++i) EXPECT_EQ(sink.events[i].sequence, i + 1);
}

TEST_F(TrackerTest, AcceptedValuesComeFromTheExchange) {
  const OrderToken tok = submit(0, Side::kSell, 50000, 100);
  t.on_accepted(accepted(tok, 80, 50100));
  EXPECT_EQ(open(tok), 80u);
  EXPECT_EQ(t.find(tok)->price, 50100u);
  EXPECT_EQ(view(0), (OpenView{0, 80, 1}));
}

TEST_F(TrackerTest, CancelFlow) {
  const OrderToken tok = live(2, Side::kSell, 100000, 100);
  EXPECT_EQ(t.request_cancel(tok), RequestError::kNone);
  EXPECT_EQ(state(tok), S::kPendingCancel);
  EXPECT_EQ(view(2), (OpenView{0, 100, 1}));  // still exposed until Canceled
  t.on_cancel_pending(token_only(tok));
  EXPECT_EQ(sink.last().kind, EventKind::kCancelPending);
  EXPECT_EQ(state(tok), S::kPendingCancel);
  t.on_executed(executed(tok, 30, 100000, 9));  // a fill racing the cancel
  EXPECT_EQ(state(tok), S::kPendingCancel);
  EXPECT_EQ(open(tok), 70u);
  t.on_canceled(canceled(tok, 70));
  EXPECT_EQ(state(tok), S::kCanceled);
  EXPECT_EQ(sink.last().kind, EventKind::kCanceled);
  EXPECT_EQ(sink.last().shares, 70u);
  EXPECT_EQ(view(2), (OpenView{0, 0, 0}));
  EXPECT_EQ(t.positions().position(2).shares, -30);
  EXPECT_EQ(total_anomalies(), 0u);
}

TEST_F(TrackerTest, PartialCancelKeepsTheOrderLive) {
  const OrderToken tok = live(0, Side::kBuy, 100000, 100);
  t.on_canceled(canceled(tok, 40, 'S'));  // unsolicited decrement (e.g. supervisory)
  EXPECT_EQ(state(tok), S::kAccepted);
  EXPECT_EQ(open(tok), 60u);
  EXPECT_EQ(view(0), (OpenView{60, 0, 1}));
  EXPECT_EQ(sink.last().reason, 'S');
  t.on_executed(executed(tok, 10, 100000, 1));
  t.on_canceled(canceled(tok, 5));
  EXPECT_EQ(state(tok), S::kPartiallyFilled);
  EXPECT_EQ(open(tok), 45u);
}

TEST_F(TrackerTest, CancelBeforeAccepted) {
  const OrderToken a = submit(0, Side::kBuy, 100000, 100);
  ASSERT_EQ(t.request_cancel(a), RequestError::kNone);
  EXPECT_EQ(state(a), S::kPendingCancel);
  t.on_accepted(accepted(a, 100, 100000));  // legal: the Accepted was already on its way
  EXPECT_EQ(state(a), S::kPendingCancel);
  EXPECT_TRUE(t.find(a)->acked);
  t.on_canceled(canceled(a, 100));
  EXPECT_EQ(state(a), S::kCanceled);

  const OrderToken b = submit(0, Side::kBuy, 100000, 100);
  ASSERT_EQ(t.request_cancel(b), RequestError::kNone);
  t.on_rejected(rejected(b, 'C'));  // the order itself was rejected: the cancel is moot
  EXPECT_EQ(state(b), S::kRejected);
  EXPECT_EQ(sink.last().reason, 'C');
  EXPECT_EQ(view(0), (OpenView{0, 0, 0}));
  EXPECT_EQ(total_anomalies(), 0u);
}

TEST_F(TrackerTest, CancelRejectReturnsToTheRestingState) {
  const OrderToken pn = submit(0, Side::kBuy, 100000, 100);
  const OrderToken ac = live(0, Side::kBuy, 100000, 100);
  const OrderToken pf = live(0, Side::kSell, 101000, 100);
  t.on_executed(executed(pf, 1, 101000, 1));
  for (const OrderToken& tok : {pn, ac, pf}) ASSERT_EQ(t.request_cancel(tok), RequestError::kNone);
  for (const OrderToken& tok : {pn, ac, pf}) t.on_cancel_reject(token_only(tok));
  EXPECT_EQ(state(pn), S::kPendingNew);
  EXPECT_EQ(state(ac), S::kAccepted);
  EXPECT_EQ(state(pf), S::kPartiallyFilled);
  EXPECT_EQ(sink.last().kind, EventKind::kCancelRejected);
  EXPECT_EQ(view(0), (OpenView{200, 99, 3}));
  EXPECT_EQ(total_anomalies(), 0u);
}

TEST_F(TrackerTest, Rejected) {
  const OrderToken tok = submit(3, Side::kSell, 100000, 100);
  t.on_rejected(rejected(tok, 'X'));
  EXPECT_EQ(state(tok), S::kRejected);
  EXPECT_EQ(view(3), (OpenView{0, 0, 0}));
  EXPECT_TRUE(t.all_acknowledged());
}

TEST_F(TrackerTest, ReplaceFlow) {
  const OrderToken old_tok = live(1, Side::kBuy, 100000, 100);
  t.on_executed(executed(old_tok, 20, 100000, 1));
  const SubmitResult r = t.request_replace(old_tok, 100100, 150);
  ASSERT_EQ(r.error, RequestError::kNone);
  TokenParts po, pn;
  ASSERT_TRUE(decode_token(old_tok, po));
  ASSERT_TRUE(decode_token(r.token, pn));
  EXPECT_EQ(po.slot, pn.slot);  // the order keeps its slot
  EXPECT_NE(po.counter, pn.counter);
  EXPECT_EQ(state(old_tok), S::kPendingReplace);
  EXPECT_EQ(sink.last().kind, EventKind::kReplaceRequested);
  EXPECT_EQ(sink.last().other_token, r.token);
  // exposure while the replace is in flight: max(80 open, 150 requested)
  EXPECT_EQ(view(1), (OpenView{150, 0, 1}));
  t.on_executed(executed(old_tok, 30, 100000, 2));  // the old order still trades
  EXPECT_EQ(open(old_tok), 50u);
  EXPECT_EQ(view(1), (OpenView{150, 0, 1}));

  t.on_replaced(replaced(r.token, old_tok, 150, 100100));
  EXPECT_EQ(t.find(old_tok), nullptr);
  EXPECT_EQ(state(r.token), S::kAccepted);
  EXPECT_EQ(open(r.token), 150u);
  EXPECT_EQ(t.find(r.token)->price, 100100u);
  EXPECT_EQ(sink.last().kind, EventKind::kReplaced);
  EXPECT_EQ(sink.last().other_token, old_tok);
  EXPECT_EQ(view(1), (OpenView{150, 0, 1}));
  EXPECT_EQ(total_anomalies(), 0u);

  // The new order behaves like any accepted order.
  t.on_executed(executed(r.token, 150, 100100, 3));
  EXPECT_EQ(state(r.token), S::kFilled);
  EXPECT_EQ(t.positions().position(1).shares, 200);
  // A response to the replaced token is stale; a second Replaced is a duplicate (terminal here).
  t.on_cancel_pending(token_only(old_tok));
  EXPECT_EQ(anomalies(Anomaly::kStaleToken), 1u);
}

TEST_F(TrackerTest, ReplaceDuplicateAndMismatch) {
  const OrderToken a = live(0, Side::kSell, 100000, 100);
  const SubmitResult r = t.request_replace(a, 99000, 100);
  const OrderToken other = live(0, Side::kSell, 100000, 10);
  t.on_replaced(replaced(r.token, other, 100, 99000));  // previous token is not this order's
  EXPECT_EQ(anomalies(Anomaly::kUnexpected), 1u);
  EXPECT_EQ(state(a), S::kPendingReplace);
  t.on_replaced(replaced(r.token, a, 100, 99000));
  EXPECT_EQ(state(r.token), S::kAccepted);
  t.on_replaced(replaced(r.token, a, 100, 99000));
  EXPECT_EQ(anomalies(Anomaly::kDuplicate), 1u);
  t.on_replaced(replaced(other, a, 100, 99000));  // `other` was never a replacement
  EXPECT_EQ(anomalies(Anomaly::kUnexpected), 2u);
  EXPECT_EQ(view(0), (OpenView{0, 110, 2}));
}

TEST_F(TrackerTest, ReplaceRejectedKeepsTheOldOrder) {
  const OrderToken a = live(0, Side::kBuy, 100000, 100);
  t.on_executed(executed(a, 10, 100000, 1));
  const SubmitResult r = t.request_replace(a, 101000, 500);
  t.on_rejected(rejected(r.token, 'X'));
  EXPECT_EQ(state(a), S::kPartiallyFilled);
  EXPECT_EQ(t.find(a)->price, 100000u);
  EXPECT_EQ(sink.last().kind, EventKind::kReplaceRejected);
  EXPECT_EQ(view(0), (OpenView{90, 0, 1}));
  // The refused token is forgotten: a later response to it is unknown.
  t.on_replaced(replaced(r.token, a, 500, 101000));
  EXPECT_EQ(anomalies(Anomaly::kUnknownToken), 1u);
  // And the order can be replaced again.
  EXPECT_EQ(t.request_replace(a, 101000, 500).error, RequestError::kNone);
}

TEST_F(TrackerTest, ReplaceEndedByTheExchange) {
  // Canceled (old token) while the replace is pending: the order is gone; the Replaced that may
  // follow is for a terminal order.
  const OrderToken a = live(0, Side::kBuy, 100000, 100);
  const SubmitResult r = t.request_replace(a, 100500, 100);
  t.on_canceled(canceled(a, 100));
  EXPECT_EQ(state(a), S::kCanceled);
  t.on_replaced(replaced(r.token, a, 100, 100500));
  EXPECT_EQ(anomalies(Anomaly::kTerminalOrder), 1u);
  EXPECT_EQ(view(0), (OpenView{0, 0, 0}));

  // Fully executed while pending replace: filled.
  const OrderToken b = live(1, Side::kSell, 100000, 100);
  const SubmitResult rb = t.request_replace(b, 100500, 100);
  t.on_executed(executed(b, 100, 100000, 5));
  EXPECT_EQ(state(b), S::kFilled);
  t.on_rejected(rejected(rb.token));
  EXPECT_EQ(anomalies(Anomaly::kTerminalOrder), 2u);
  EXPECT_EQ(view(1), (OpenView{0, 0, 0}));
}

TEST_F(TrackerTest, IllegalRequests) {
  EXPECT_EQ(t.submit(4, Side::kBuy, 100, 1).error, RequestError::kBadSymbol);
  EXPECT_EQ(t.submit(0, Side::kBuy, 100, 0).error, RequestError::kBadShares);
  EXPECT_EQ(t.submit(0, Side::kBuy, 100, 10001).error, RequestError::kBadShares);
  EXPECT_EQ(t.submit(0, Side::kBuy, 0, 1).error, RequestError::kBadPrice);
  EXPECT_EQ(t.request_cancel(make_token("nope")), RequestError::kUnknownToken);
  EXPECT_EQ(t.request_replace(make_token("nope"), 1, 1).error, RequestError::kUnknownToken);

  const OrderToken pn = submit(0, Side::kBuy, 100000, 10);
  EXPECT_EQ(t.request_replace(pn, 100000, 20).error, RequestError::kNotReplaceable);
  const OrderToken pc = live(0, Side::kBuy, 100000, 10);
  ASSERT_EQ(t.request_cancel(pc), RequestError::kNone);
  EXPECT_EQ(t.request_cancel(pc), RequestError::kNotCancelable);
  EXPECT_EQ(t.request_replace(pc, 100000, 20).error, RequestError::kNotReplaceable);
  const OrderToken pr = live(0, Side::kBuy, 100000, 10);
  const SubmitResult r = t.request_replace(pr, 100000, 20);
  EXPECT_EQ(t.request_cancel(pr), RequestError::kNotCancelable);
  EXPECT_EQ(t.request_replace(pr, 100000, 30).error, RequestError::kNotReplaceable);
  EXPECT_EQ(t.request_cancel(r.token), RequestError::kUnknownToken);  // not current until Replaced
  EXPECT_EQ(t.request_replace(pr, 0, 30).error, RequestError::kNotReplaceable);
  const OrderToken fi = live(1, Side::kBuy, 100000, 10);
  EXPECT_EQ(t.request_replace(fi, 0, 30).error, RequestError::kBadPrice);
  EXPECT_EQ(t.request_replace(fi, 1, 0).error, RequestError::kBadShares);
  t.on_executed(executed(fi, 10, 100000, 1));
  EXPECT_EQ(t.request_cancel(fi), RequestError::kNotCancelable);
  EXPECT_EQ(t.request_replace(fi, 100000, 30).error, RequestError::kNotReplaceable);

  EXPECT_EQ(errors(RequestError::kBadSymbol), 1u);
  EXPECT_EQ(errors(RequestError::kBadShares), 3u);
  EXPECT_EQ(errors(RequestError::kBadPrice), 2u);
  EXPECT_EQ(errors(RequestError::kUnknownToken), 3u);
  EXPECT_EQ(errors(RequestError::kNotCancelable), 3u);
  EXPECT_EQ(errors(RequestError::kNotReplaceable), 5u);
  // None of it changed an order.
  EXPECT_EQ(state(pn), S::kPendingNew);
  EXPECT_EQ(state(pc), S::kPendingCancel);
  EXPECT_EQ(state(pr), S::kPendingReplace);
}

TEST_F(TrackerTest, TableFullAndSlotReuse) {
  OrderToken tok[4];
  for (int i = 0; i < 4; ++i) tok[i] = submit(0, Side::kBuy, 100000, 1);
  const SubmitResult full = t.submit(0, Side::kBuy, 100000, 1);
  EXPECT_EQ(full.error, RequestError::kTableFull);
  EXPECT_EQ(errors(RequestError::kTableFull), 1u);
  EXPECT_EQ(t.live_orders(), 4u);

  t.on_rejected(rejected(tok[2]));  // slot 2 freed first
  t.on_rejected(rejected(tok[0]));  // then slot 0
  // A late response for a terminal order whose slot is not reused yet: terminal.
  t.on_accepted(accepted(tok[0], 1, 100000));
  EXPECT_EQ(anomalies(Anomaly::kTerminalOrder), 1u);
  const OrderToken n1 = submit(0, Side::kBuy, 100000, 1);
  TokenParts p;
  ASSERT_TRUE(decode_token(n1, p));
  EXPECT_EQ(p.slot, 2u);  // oldest freed first
  // tok[2]'s slot now belongs to n1: a response for tok[2] is unknown, and n1 is untouched.
  t.on_executed(executed(tok[2], 1, 100000, 77));
  EXPECT_EQ(anomalies(Anomaly::kUnknownToken), 1u);
  EXPECT_EQ(state(n1), S::kPendingNew);
  EXPECT_EQ(t.positions().position(0).shares, 0);
}

TEST_F(TrackerTest, TokenExhaustionIsAnError) {
  t.skip_tokens_to(kCounterLimit - 1);
  const OrderToken last = submit(0, Side::kBuy, 100000, 5);
  t.on_accepted(accepted(last, 5, 100000));
  EXPECT_EQ(t.submit(0, Side::kBuy, 100000, 5).error, RequestError::kTokensExhausted);
  EXPECT_EQ(t.request_replace(last, 100000, 6).error, RequestError::kTokensExhausted);
  EXPECT_EQ(errors(RequestError::kTokensExhausted), 2u);
  EXPECT_EQ(t.live_orders(), 1u);
  EXPECT_EQ(state(last), S::kAccepted);  // the failed replace left it alone
  EXPECT_EQ(t.request_cancel(last), RequestError::kNone);  // cancels need no new token
}

TEST_F(TrackerTest, UnknownAndForeignTokens) {
  const OrderToken a = live(0, Side::kBuy, 100000, 10);
  const OrderToken foreign[] = {make_token("HELLO"), make_token("00000000000000"),
                                encode_token({7, 999, 1}), encode_token({7, 0, 3000})};
  for (const OrderToken& f : foreign) {
    t.on_accepted(accepted(f, 1, 1));
    t.on_executed(executed(f, 1, 1, 1));
    t.on_canceled(canceled(f, 1));
    t.on_rejected(rejected(f));
    t.on_cancel_pending(token_only(f));
    t.on_cancel_reject(token_only(f));
    t.on_replaced(replaced(f, a, 1, 1));
  }
  EXPECT_EQ(anomalies(Anomaly::kUnknownToken), 4u * 7u);
  t.on_broken_trade(broken(foreign[0], 1));
  EXPECT_EQ(anomalies(Anomaly::kUnknownFill), 1u);
  EXPECT_EQ(total_anomalies(), 4u * 7u + 1u);
  EXPECT_EQ(sink.last().kind, EventKind::kAnomaly);
  EXPECT_EQ(sink.last().anomaly, Anomaly::kUnknownFill);
  EXPECT_EQ(state(a), S::kAccepted);
  EXPECT_EQ(t.positions().position(0), Position{});
  EXPECT_EQ(view(0), (OpenView{10, 0, 1}));
}

TEST_F(TrackerTest, BadResponsesForLiveOrders) {
  const OrderToken a = live(0, Side::kBuy, 100000, 100);
  t.on_accepted(accepted(a, 100, 100000));  // again
  EXPECT_EQ(anomalies(Anomaly::kDuplicate), 1u);
  t.on_cancel_pending(token_only(a));  // no cancel was sent
  t.on_cancel_reject(token_only(a));
  t.on_rejected(rejected(a));  // an accepted order cannot be rejected
  t.on_executed(executed(a, 0, 100000, 50));  // zero shares
  EXPECT_EQ(anomalies(Anomaly::kUnexpected), 4u);
  EXPECT_EQ(state(a), S::kAccepted);
  EXPECT_EQ(open(a), 100u);

  t.on_executed(executed(a, 10, 100000, 1));
  t.on_executed(executed(a, 10, 100000, 1));  // same match number: replayed, not applied again
  EXPECT_EQ(anomalies(Anomaly::kDuplicate), 2u);
  EXPECT_EQ(t.positions().position(0).shares, 10);
  EXPECT_EQ(open(a), 90u);

  t.on_executed(executed(a, 120, 100000, 2));  // 120 > 90 open: overfill; the whole fill counts
  EXPECT_EQ(anomalies(Anomaly::kOverfill), 1u);
  EXPECT_EQ(state(a), S::kFilled);
  EXPECT_EQ(t.positions().position(0).shares, 130);
  EXPECT_EQ(sink.last().kind, EventKind::kFill);
  EXPECT_EQ(sink.last().anomaly, Anomaly::kOverfill);
  EXPECT_EQ(view(0), (OpenView{0, 0, 0}));

  const OrderToken b = live(1, Side::kSell, 100000, 100);
  t.on_canceled(canceled(b, 150));  // decrement 150 > 100 open
  EXPECT_EQ(anomalies(Anomaly::kOverDecrement), 1u);
  EXPECT_EQ(state(b), S::kCanceled);
  EXPECT_EQ(view(1), (OpenView{0, 0, 0}));
}

TEST_F(TrackerTest, ResponsesForTerminalOrders) {
  const OrderToken a = live(0, Side::kBuy, 100000, 100);
  ASSERT_EQ(t.request_cancel(a), RequestError::kNone);
  t.on_canceled(canceled(a, 100));
  t.on_accepted(accepted(a, 100, 100000));
  t.on_canceled(canceled(a, 100));
  t.on_rejected(rejected(a));
  t.on_cancel_pending(token_only(a));
  t.on_cancel_reject(token_only(a));
  EXPECT_EQ(anomalies(Anomaly::kTerminalOrder), 5u);
  EXPECT_EQ(state(a), S::kCanceled);
  // A late execution after Canceled is still a real fill: applied, flagged.
  t.on_executed(executed(a, 40, 100000, 3));
  EXPECT_EQ(anomalies(Anomaly::kTerminalOrder), 6u);
  EXPECT_EQ(t.positions().position(0).shares, 40);
  EXPECT_EQ(sink.last().kind, EventKind::kFill);
  EXPECT_EQ(sink.last().anomaly, Anomaly::kTerminalOrder);
  EXPECT_EQ(state(a), S::kCanceled);
  EXPECT_EQ(view(0), (OpenView{0, 0, 0}));
}

TEST_F(TrackerTest, OutOfOrderResponses) {
  // Executed before Accepted: applied, the order treated as accepted.
  const OrderToken a = submit(0, Side::kBuy, 100000, 100);
  t.on_executed(executed(a, 30, 100000, 1));
  EXPECT_EQ(anomalies(Anomaly::kOutOfOrder), 1u);
  EXPECT_EQ(state(a), S::kPartiallyFilled);
  EXPECT_EQ(open(a), 70u);
  t.on_accepted(accepted(a, 100, 100000));  // now it is a duplicate
  EXPECT_EQ(anomalies(Anomaly::kDuplicate), 1u);
  EXPECT_EQ(open(a), 70u);

  // Canceled before Accepted.
  const OrderToken b = submit(0, Side::kSell, 100000, 100);
  t.on_canceled(canceled(b, 100));
  EXPECT_EQ(anomalies(Anomaly::kOutOfOrder), 2u);
  EXPECT_EQ(state(b), S::kCanceled);

  // Executed on the replacement token before the Replaced: position yes, order no.
  const OrderToken c = live(1, Side::kBuy, 100000, 100);
  const SubmitResult r = t.request_replace(c, 100000, 200);
  t.on_executed(executed(r.token, 50, 100000, 2));
  EXPECT_EQ(anomalies(Anomaly::kOutOfOrder), 3u);
  EXPECT_EQ(t.positions().position(1).shares, 50);
  EXPECT_EQ(open(c), 100u);
  // Canceled and Accepted on the replacement token before the Replaced: not applied.
  t.on_canceled(canceled(r.token, 10));
  EXPECT_EQ(anomalies(Anomaly::kOutOfOrder), 4u);
  t.on_accepted(accepted(r.token, 200, 100000));
  EXPECT_EQ(anomalies(Anomaly::kUnexpected), 1u);
  EXPECT_EQ(state(c), S::kPendingReplace);
  EXPECT_EQ(view(1), (OpenView{200, 0, 1}));
}

TEST_F(TrackerTest, BrokenTrades) {
  const OrderToken a = live(0, Side::kBuy, 100000, 200);
  t.on_executed(executed(a, 100, 100000, 11));                    // 100 @ 10, maker: fee -2000
  t.on_executed(executed(a, 100, 120000, 12, Liquidity::kTaker));  // 100 @ 12, taker: fee 3000
  EXPECT_EQ(state(a), S::kFilled);
  t.on_broken_trade(broken(a, 11));
  // reversal = sell 100 @ 10 against basis 22,000,000 / 200: realized = 10,000,000 - 11,000,000
  const Position& p = t.positions().position(0);
  EXPECT_EQ(p.shares, 100);
  EXPECT_TRUE(p.realized == -1000000);
  EXPECT_TRUE(p.cost_basis == 11000000);
  EXPECT_TRUE(p.fees == 3000);  // the maker rebate of the broken fill is given back
  EXPECT_EQ(sink.last().kind, EventKind::kBreak);
  EXPECT_EQ(sink.last().shares, 100u);
  EXPECT_EQ(sink.last().price, 100000u);
  EXPECT_EQ(sink.last().match_number, 11u);
  EXPECT_EQ(state(a), S::kFilled);  // the order is unchanged

  t.on_broken_trade(broken(a, 11));  // again
  EXPECT_EQ(anomalies(Anomaly::kDuplicate), 1u);
  t.on_broken_trade(broken(a, 13));  // no such fill
  const OrderToken b = live(1, Side::kBuy, 100000, 10);
  t.on_broken_trade(broken(b, 12));  // a real match number, but not b's
  EXPECT_EQ(anomalies(Anomaly::kUnknownFill), 2u);
  EXPECT_EQ(t.positions().position(0).shares, 100);

  // The history holds 8 fills: the 9th evicts the oldest, whose break is then unknown.
  for (uint64_t m = 100; m < 108; ++m) t.on_executed(executed(b, 1, 100000, m));
  EXPECT_EQ(state(b), S::kPartiallyFilled);
  EXPECT_EQ(t.fills().size(), 8u);
  t.on_broken_trade(broken(a, 12));
  EXPECT_EQ(anomalies(Anomaly::kUnknownFill), 3u);
  t.on_broken_trade(broken(b, 100));
  EXPECT_EQ(t.positions().position(1).shares, 7);
}

TEST_F(TrackerTest, SelfCrossSameMatchNumberTwoTokens) {
  // Both sides of a cross between two of our orders carry one match number.
  const OrderToken buy = live(0, Side::kBuy, 100000, 10);
  const OrderToken sell = live(0, Side::kSell, 100000, 10);
  t.on_executed(executed(buy, 10, 100000, 5));
  t.on_executed(executed(sell, 10, 100000, 5));
  EXPECT_EQ(total_anomalies(), 0u);
  EXPECT_EQ(t.positions().position(0).shares, 0);
  t.on_broken_trade(broken(sell, 5));
  EXPECT_EQ(t.positions().position(0).shares, 10);
}

TEST_F(TrackerTest, CancelAll) {
  const OrderToken pn = submit(0, Side::kBuy, 100000, 10);
  const OrderToken ac = live(0, Side::kBuy, 100000, 10);
  const OrderToken pc = live(1, Side::kSell, 100000, 10);
  ASSERT_EQ(t.request_cancel(pc), RequestError::kNone);
  const OrderToken pr = live(1, Side::kBuy, 100000, 10);
  const SubmitResult r = t.request_replace(pr, 100000, 20);
  EXPECT_FALSE(t.all_acknowledged());

  OrderToken out[4];
  CancelAllResult c = t.cancel_all(out, 4);
  EXPECT_EQ(c.requested, 2u);  // pn and ac
  EXPECT_EQ(c.waiting, 2u);    // pc (already pending) and pr (replace in flight)
  EXPECT_EQ(out[0], pn);
  EXPECT_EQ(out[1], ac);
  EXPECT_EQ(state(pn), S::kPendingCancel);
  EXPECT_EQ(state(ac), S::kPendingCancel);

  t.on_replaced(replaced(r.token, pr, 20, 100000));
  c = t.cancel_all(out, 4);  // again: now the replaced order can be canceled
  EXPECT_EQ(c.requested, 1u);
  EXPECT_EQ(out[0], r.token);
  EXPECT_EQ(c.waiting, 3u);

  t.on_accepted(accepted(pn, 10, 100000));
  for (const OrderToken& tok : {pn, ac, pc}) t.on_canceled(canceled(tok, 10));
  EXPECT_FALSE(t.all_acknowledged());
  t.on_canceled(canceled(r.token, 20));
  EXPECT_TRUE(t.all_acknowledged());
  c = t.cancel_all(out, 4);
  EXPECT_EQ(c.requested, 0u);
  EXPECT_EQ(c.waiting, 0u);
  EXPECT_EQ(total_anomalies(), 0u);

  // A too-small buffer: the rest wait for the next call.
  live(2, Side::kBuy, 100000, 10);
  live(2, Side::kBuy, 100000, 10);
  c = t.cancel_all(out, 1);
  EXPECT_EQ(c.requested, 1u);
  EXPECT_EQ(c.waiting, 1u);
}

TEST_F(TrackerTest, SnapshotErrorsNameTheOffset) {
  submit(0, Side::kBuy, 100000, 1);  // slot 0, so `a` lives in slot 1
  const OrderToken a = live(3, Side::kSell, 100000, 10);
  t.on_executed(executed(a, 4, 100000, 1));
  const std::vector<uint8_t> snap = t.snapshot();

  RecordingSink s2;
  {
    OrderTracker fresh(config(), 8, s2);
    EXPECT_EQ(fresh.restore(snap.data(), snap.size()), "");
    EXPECT_EQ(fresh.find(a)->open, 6u);
    // A restored tracker has a history: it cannot be restored into again.
    EXPECT_NE(fresh.restore(snap.data(), snap.size()).find("issued nothing"), std::string::npos);
  }
  auto restore_error = [&](std::vector<uint8_t> bytes, const OrderTrackerConfig& c = config()) {
    OrderTracker fresh(c, 8, s2);
    const std::string err = fresh.restore(bytes.data(), bytes.size());
    EXPECT_EQ(fresh.live_orders(), 0u) << "nothing half-restored";
    if (c.max_symbols > 3) {
      EXPECT_EQ(fresh.positions().position(3), Position{});
    }
    return err;
  };
  EXPECT_NE(restore_error({snap.begin(), snap.begin() + 10}).find("offset 0"), std::string::npos);
  std::vector<uint8_t> bad = snap;
  bad[0] ^= 1;
  EXPECT_NE(restore_error(bad).find("magic"), std::string::npos);
  bad = snap;
  bad[5] = 2;
  EXPECT_NE(restore_error(bad).find("version 2"), std::string::npos);
  bad = snap;
  bad.pop_back();
  EXPECT_NE(restore_error(bad).find("offset 32"), std::string::npos);
  // One position (76 bytes) after the header, then the order at offset 108: its state byte at +49.
  bad = snap;
  bad[108 + 49] = static_cast<uint8_t>(OrderState::kFilled);
  EXPECT_NE(restore_error(bad).find("offset 157: order state 6"), std::string::npos);
  // A smaller table than the slot the order lives in.
  OrderTrackerConfig small = config();
  TokenParts p;
  ASSERT_TRUE(decode_token(a, p));
  small.max_open_orders = p.slot;
  ASSERT_EQ(p.slot, 1u);
  EXPECT_NE(restore_error(snap, small).find("offset 183: order slot 1 >= orders.max_open_orders 1"), std::string::npos);
  small = config();
  small.max_symbols = 3;
  EXPECT_NE(restore_error(snap, small).find("offset 32: position symbol 3"), std::string::npos);
}

}  // namespace
}  // namespace pmm::orders

namespace pmm::orders {
namespace {

// FillHistory against a std::deque: small capacities make the index collide and wrap constantly,
// so backward-shift deletion is exercised on every eviction.
TEST(FillHistory, MatchesDequeReference) {
  std::mt19937_64 rng(11);
  for (uint32_t cap : {1u, 2u, 3u, 5u, 8u, 13u}) {
    FillHistory h(cap);
    std::deque<FillRecord> ref;
    const OrderToken toks[3] = {make_token("A"), make_token("B"), encode_token({1, 2, 3})};
    for (int i = 0; i < 20000; ++i) {
      const uint64_t match = rng() % 24;
      const OrderToken& tk = toks[rng() % 3];
      FillRecord* got = h.find(match, tk);
      const FillRecord* want = nullptr;
      for (const FillRecord& f : ref)
        if (f.match_number == match && f.token == tk) want = &f;
      ASSERT_EQ(got == nullptr, want == nullptr) << "cap " << cap << " step " << i;
      if (got != nullptr) {
        ASSERT_EQ(*got, *want);
        continue;
      }
      FillRecord f;
      f.token = tk;
      f.match_number = match;
      f.shares = static_cast<uint32_t>(i);
      h.add(f);
      if (ref.size() == cap) ref.pop_front();
      ref.push_back(f);
      ASSERT_EQ(h.size(), ref.size());
      for (uint32_t k = 0; k < ref.size(); ++k) ASSERT_EQ(h.at(k), ref[k]);
    }
  }
}

}  // namespace
}  // namespace pmm::orders
