// Pauses of the trading stage in the closed loop (trading_loop.hpp): a feed gap (kFeedStale) pulls
// every quote and nothing is entered or replaced until the feed is whole again, even when a replace
// was in flight as the gap opened; a halt (kTradingState 'H') pulls the halted symbol's quotes only,
// until it trades again; the end of session unwinds, also in the deterministic mode after the feed's
// last message.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/trading/trading_loop.hpp"

namespace pmm::trading_test {
namespace {

const Day& day() {
  static const Day d = make_day(11, 200000, 40, 20000);
  return d;
}

constexpr const char* kStrategy = R"({"quote_size": 100, "max_inventory": 1000, "min_requote_interval_us": 1000})";

// Watches what the stage sends: which symbol each Enter and Replace is for, and the cancels.
struct OrderWatch {
  explicit OrderWatch(TradingLoop& loop) : loop_(loop) {
    loop.on_stage_packet = [this](const StagePacket& p) { on_packet(p); };
  }
  std::vector<uint64_t> orders_by_symbol() const { return by_symbol_; }
  uint64_t orders() const { return orders_; }  // Enter + Replace
  uint64_t cancels() const { return cancels_; }
  uint64_t replaces() const { return replaces_; }

 private:
  void on_packet(const StagePacket& p) {
    if (p.request || p.retransmission) return;
    if (by_symbol_.empty()) by_symbol_.assign(loop_.symbols().size(), 0);
    int sym = -1;
    switch (p.ouch[0]) {
      case 'O': {
        ouch::EnterOrder m;
        ouch::decode(p.ouch, m);
        for (size_t s = 0; s < loop_.symbols().size(); ++s)
          if (itch::make_symbol(loop_.symbols()[s].c_str()) == m.stock) sym = static_cast<int>(s);
        owner_[std::string(m.token.data(), m.token.size())] = sym;
        break;
      }
      case 'U': {
        ouch::ReplaceOrder m;
        ouch::decode(p.ouch, m);
        sym = owner_.at(std::string(m.existing_token.data(), m.existing_token.size()));
        owner_[std::string(m.replacement_token.data(), m.replacement_token.size())] = sym;
        ++replaces_;
        break;
      }
      default:
        ++cancels_;
        return;
    }
    ASSERT_GE(sym, 0);
    ++orders_;
    ++by_symbol_[static_cast<size_t>(sym)];
  }

  TradingLoop& loop_;
  std::map<std::string, int> owner_;
  std::vector<uint64_t> by_symbol_;
  uint64_t orders_ = 0, cancels_ = 0, replaces_ = 0;
};

std::unique_ptr<TradingLoop> make_loop(const LoopOptions& options = {}) {
  const std::vector<std::string> symbols = most_active_symbols(day(), 4);
  return std::make_unique<TradingLoop>(day(), trading_config(symbols, kStrategy, loose_limits(symbols)), options);
}

size_t open_in(const TradingLoop& loop, size_t symbol) {
  size_t n = 0;
  for (const TradingLoop::OpenOrder& o : loop.engine_open_orders()) n += o.locate == loop.locate_of(symbol);
  return n;
}

TEST(TradingPauses, FeedStalePullsQuotesUntilTheFeedIsWhole) {
  auto loop = make_loop();
  OrderWatch watch(*loop);
  loop->run_to(day().size() / 2);
  const size_t open = loop->engine_open_orders().size();
  ASSERT_GT(open, 0u);
  const uint64_t cancels_before = watch.cancels();

  loop->inject(pipe::TopKind::kFeedStale);
  EXPECT_EQ(watch.cancels() - cancels_before, open);
  EXPECT_TRUE(loop->engine_open_orders().empty());
  const uint64_t orders_at_gap = watch.orders();
  loop->run_to(loop->index() + 3000);  // tops keep coming (the books may be wrong): nothing is quoted
  EXPECT_EQ(watch.orders(), orders_at_gap);
  EXPECT_TRUE(loop->engine_open_orders().empty());
  EXPECT_GT(loop->stage().risk().counters().of(risk::RiskReason::kNoReferencePrice) +
                loop->stage().strategy().counters(0).by_reason[static_cast<size_t>(strategy::Reason::kStale)].get(),
            0u);

  loop->inject(pipe::TopKind::kFeedWhole);
  loop->run_to(loop->index() + 3000);
  EXPECT_GT(watch.orders(), orders_at_gap) << "quoting resumes once the feed is whole";
  EXPECT_EQ(loop->stage_open_orders(), loop->engine_open_orders());
}

// Responses take two feed messages: a replace is still in flight when the gap opens, so it cannot be
// cancelled then; it must be cancelled once its Replaced arrives.
TEST(TradingPauses, FeedStaleWhileAReplaceIsInFlightStillPullsIt) {
  LoopOptions o;
  o.to_stage = LinkDelay{2, 1, 2};
  auto loop = make_loop(o);
  OrderWatch watch(*loop);
  loop->run_to(day().size() / 2);
  const uint64_t replaces = watch.replaces();
  while (watch.replaces() == replaces && loop->step()) {
  }
  ASSERT_GT(watch.replaces(), replaces);
  ASSERT_FALSE(loop->links_empty()) << "the Replaced should still be on its way";

  loop->inject(pipe::TopKind::kFeedStale);
  const uint64_t orders_at_gap = watch.orders();
  loop->run_to(loop->index() + 50);
  EXPECT_EQ(watch.orders(), orders_at_gap);
  EXPECT_TRUE(loop->engine_open_orders().empty()) << loop->engine_open_orders().size() << " of ours still rest";
  EXPECT_EQ(loop->stage_open_orders(), loop->engine_open_orders());
}

TEST(TradingPauses, HaltPullsThatSymbolOnly) {
  auto loop = make_loop();
  OrderWatch watch(*loop);
  loop->run_to(day().size() / 2);
  size_t halted = loop->symbols().size();
  for (size_t s = 0; s < loop->symbols().size() && halted == loop->symbols().size(); ++s)
    if (open_in(*loop, s) != 0) halted = s;
  ASSERT_LT(halted, loop->symbols().size()) << "no symbol has quotes to pull";
  const uint8_t slot = static_cast<uint8_t>(halted + 1);

  loop->inject(pipe::TopKind::kTradingState, slot, 'H');
  EXPECT_EQ(open_in(*loop, halted), 0u);
  const std::vector<uint64_t> at_halt = watch.orders_by_symbol();
  loop->run_to(loop->index() + 5000);
  const std::vector<uint64_t> during = watch.orders_by_symbol();
  EXPECT_EQ(during[halted], at_halt[halted]) << "orders for a halted symbol";
  EXPECT_EQ(open_in(*loop, halted), 0u);
  uint64_t others = 0;
  for (size_t s = 0; s < during.size(); ++s)
    if (s != halted) others += during[s] - at_halt[s];
  EXPECT_GT(others, 0u) << "the other symbols keep quoting";

  loop->inject(pipe::TopKind::kTradingState, slot, 'T');
  loop->run_to(loop->index() + 5000);
  EXPECT_GT(watch.orders_by_symbol()[halted], during[halted]) << "quoting resumes when it trades again";
}

TEST(TradingPauses, EndOfSessionUnwinds) {
  auto loop = make_loop();
  OrderWatch watch(*loop);
  loop->run_to(day().size() / 2);
  ASSERT_GT(loop->engine_open_orders().size(), 0u);
  EXPECT_FALSE(loop->stage().end_of_session());
  loop->inject(pipe::TopKind::kEndOfSession);
  EXPECT_TRUE(loop->stage().end_of_session());
  EXPECT_EQ(loop->stage().figures().unwinding.get(), 1u);
  EXPECT_TRUE(loop->stage().unwound());
  EXPECT_TRUE(loop->engine_open_orders().empty());
  const uint64_t orders = watch.orders();
  loop->run_to(loop->index() + 3000);
  EXPECT_EQ(watch.orders(), orders) << "nothing is quoted after the end of session";
  EXPECT_TRUE(loop->engine_open_orders().empty());
  EXPECT_EQ(loop->stage_positions(), loop->engine_positions());
}

// Deterministic mode: responses wait for the feed to reach their time + latency. After the last
// message no top comes any more; the end of session must still let the unwind's answers through.
TEST(TradingPauses, EndOfSessionUnwindsInDeterministicModeAfterTheLastMessage) {
  LoopOptions o;
  o.latency_ns = 1'000'000'000;
  auto loop = make_loop(o);
  loop->run_all();
  loop->finish_feed();
  ASSERT_GT(loop->stage_open_orders().size(), 0u);
  loop->inject(pipe::TopKind::kEndOfSession);
  loop->flush_links();
  EXPECT_TRUE(loop->engine_open_orders().empty());
  EXPECT_TRUE(loop->stage().unwound());
  EXPECT_EQ(loop->stage_open_orders(), loop->engine_open_orders());
  EXPECT_EQ(loop->stage_positions(), loop->engine_positions());
}

}  // namespace
}  // namespace pmm::trading_test
