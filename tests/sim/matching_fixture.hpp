// Helpers for the matching engine tests: ITCH messages built field by field and fed to the engine
// (and to a plain BookBuilder, to check the feed books stay exactly the stream's), client requests
// with short names, and draining the responses.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "perf/sim/matching_engine.hpp"

namespace pmm::sim::test {

inline book::BookCapacity small_books() {
  book::BookCapacity c;
  c.max_orders = 4096;
  c.max_levels = 4096;
  c.max_locates = 64;
  c.level_index_entries = 1u << 14;
  return c;
}

inline MatchingConfig small_config() {
  MatchingConfig c;
  c.book = small_books();
  c.max_accounts = 8;
  c.max_open_orders = 1024;
  c.max_day_tokens = 1u << 16;
  c.max_positions = 256;
  c.max_queued_responses = 1u << 16;
  return c;
}

// Feeds hand-built ITCH messages to the engine and to a reference BookBuilder.
class Feed {
 public:
  explicit Feed(MatchingEngine& engine) : engine_(engine), plain_(small_books()) {}

  uint64_t now = 1000;

  void stock(uint16_t locate, const char* symbol, char state = 'T') {
    itch::StockDirectory r;
    r.h.locate = locate;
    r.stock = itch::make_symbol(symbol);
    r.round_lot_size = 100;
    send(r);
    symbols_[locate] = r.stock;
    if (state != ' ') trading(locate, state);
  }
  void trading(uint16_t locate, char state) {
    itch::StockTradingAction h;
    h.h.locate = locate;
    h.stock = symbols_[locate];
    h.trading_state = state;
    send(h);
  }
  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
    itch::AddOrder a;
    a.h.locate = locate;
    a.ref = ref;
    a.side = side;
    a.shares = shares;
    a.stock = symbols_[locate];
    a.price = price;
    send(a);
  }
  void execute(uint64_t ref, uint32_t shares) {
    itch::OrderExecuted e;
    e.ref = ref;
    e.shares = shares;
    e.match = ++match_;
    send(e);
  }
  void execute_at(uint64_t ref, uint32_t shares, uint32_t price) {
    itch::OrderExecutedWithPrice c;
    c.ref = ref;
    c.shares = shares;
    c.match = ++match_;
    c.printable = 'Y';
    c.price = price;
    send(c);
  }
  void cancel(uint64_t ref, uint32_t shares) {
    itch::OrderCancel x;
    x.ref = ref;
    x.shares = shares;
    send(x);
  }
  void remove(uint64_t ref) {
    itch::OrderDelete d;
    d.ref = ref;
    send(d);
  }
  void replace(uint64_t old_ref, uint64_t new_ref, uint32_t shares, uint32_t price) {
    itch::OrderReplace u;
    u.old_ref = old_ref;
    u.new_ref = new_ref;
    u.shares = shares;
    u.price = price;
    send(u);
  }
  void trade(uint16_t locate, char side, uint32_t shares, uint32_t price) {
    itch::Trade p;
    p.h.locate = locate;
    p.side = side;
    p.shares = shares;
    p.stock = symbols_[locate];
    p.price = price;
    p.match = ++match_;
    send(p);
  }

  // The engine's feed books are exactly what the stream alone builds.
  void expect_books_follow_stream() const {
    EXPECT_EQ(engine_.feed().books().digest(), plain_.books().digest());
    EXPECT_EQ(engine_.feed().books().live_orders(), plain_.books().live_orders());
    EXPECT_EQ(engine_.feed().books().check_invariants(), "");
  }

  template <class Msg>
  void send(const Msg& m) {
    uint8_t buf[itch::kMaxMessageLength];
    itch::encode(m, buf);
    engine_.on_feed_message(buf, Msg::kLength, now);
    plain_.on_message(buf, Msg::kLength);
  }

 private:
  MatchingEngine& engine_;
  BookBuilder plain_;
  std::map<uint16_t, itch::Symbol> symbols_;
  uint64_t match_ = 0;
};

inline const Account kAcct = make_account("ACC1");
inline const Account kOther = make_account("ACC2");

inline EnterRequest order(const char* token, char side, uint32_t shares, uint32_t price, const char* stock = "AAA",
                          uint32_t tif = 99999, const Account& account = kAcct) {
  EnterRequest r;
  r.account = account;
  r.token = make_token(token);
  r.side = side;
  r.shares = shares;
  r.stock = itch::make_symbol(stock);
  r.price = price;
  r.time_in_force = tif;
  r.display = 'Y';
  return r;
}

inline std::vector<Response> drain(MatchingEngine& e, uint64_t now = UINT64_MAX) {
  std::vector<Response> out;
  Response buf[64];
  for (size_t n; (n = e.poll(now, buf, 64)) > 0;) out.insert(out.end(), buf, buf + n);
  return out;
}

inline std::string str(const Token& t) { return std::string(t.data(), t.size()); }

// One execution as the tests spell it: token, shares, price, liquidity.
struct Fill {
  std::string token;
  uint32_t shares;
  uint32_t price;
  char liquidity;
  bool operator==(const Fill&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const Fill& f) {
  return os << "{" << f.token << " " << f.shares << " @ " << f.price << " " << f.liquidity << "}";
}

inline std::vector<Fill> fills(const std::vector<Response>& rs) {
  std::vector<Fill> out;
  for (const Response& r : rs) {
    if (r.type != ResponseType::kExecuted) continue;
    std::string t = str(r.token);
    t.erase(t.find_last_not_of(' ') + 1);
    out.push_back(Fill{t, r.executed_shares, r.execution_price, r.liquidity});
  }
  return out;
}

inline std::vector<char> types(const std::vector<Response>& rs) {
  std::vector<char> out;
  for (const Response& r : rs) out.push_back(static_cast<char>(r.type));
  return out;
}

}  // namespace pmm::sim::test
