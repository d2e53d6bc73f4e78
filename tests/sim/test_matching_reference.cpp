// Property test: the matching engine against a plain reference model (std::vector and std::map,
// linear scans, the rules of docs/exchange-simulator.md written out directly) on random feeds and
// random client requests, valid and invalid. Both must produce the same responses, field for field,
// and the same positions and open orders; the engine's structures must stay consistent, and its feed
// books identical to the ones the stream alone builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "tests/sim/matching_fixture.hpp"

namespace pmm::sim::test {
namespace {

constexpr int64_t kFeeRemove = 25;
constexpr int64_t kFeeAdd = -15;
const char* const kStocks[] = {"", "AAA", "BBB", "CCC"};  // locates 1..3

class ReferenceModel {
 public:
  struct FeedOrder {
    uint64_t ref;
    uint16_t locate;
    int side;  // 0 bid, 1 ask
    uint32_t price;
    uint32_t shares;
    uint32_t consumed;
  };
  struct ClientOrder {
    Account account;
    Token token;
    uint16_t locate;
    int side;  // 0 buy, 1 sell
    char side_code;
    uint32_t price, open, executed, tif;
    char display;
    uint64_t ref, priority;
  };
  struct Pos {
    int64_t shares = 0, cash = 0, fees = 0;
    uint64_t bought = 0, sold = 0;
  };

  std::vector<FeedOrder> feed;          // live feed orders, in arrival order
  std::vector<ClientOrder> resting;     // resting client orders, any order
  std::map<uint16_t, char> state;       // trading state per locate
  std::set<std::pair<std::string, std::string>> spent;  // (account, token)
  std::map<std::pair<std::string, uint16_t>, Pos> positions;
  std::vector<Response> out;
  uint64_t next_ref = 1, next_match = 1, next_priority = 1;
  uint64_t now = 0;

  static std::string s(const Account& a) { return std::string(a.data(), a.size()); }
  static std::string s(const Token& t) { return std::string(t.data(), t.size()); }

  // --- feed ---
  FeedOrder* find_feed(uint64_t ref) {
    for (FeedOrder& f : feed)
      if (f.ref == ref) return &f;
    return nullptr;
  }
  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) {
    feed.push_back(FeedOrder{ref, locate, side == 'B' ? 0 : 1, price, shares, 0});
    cross_resting(locate);
  }
  void reduce(uint64_t ref, uint32_t shares) {
    for (size_t i = 0; i < feed.size(); ++i) {
      if (feed[i].ref != ref) continue;
      if (shares >= feed[i].shares) feed.erase(feed.begin() + static_cast<std::ptrdiff_t>(i));
      else feed[i].shares -= shares;
      return;
    }
  }
  void execute(uint64_t ref, uint32_t shares, const uint32_t* price) {
    const FeedOrder f = *find_feed(ref);
    trade_through(f.locate, f.side, price ? *price : f.price, shares);
    reduce(ref, shares);
  }
  void replace(uint64_t old_ref, uint64_t new_ref, uint32_t shares, uint32_t price) {
    const FeedOrder f = *find_feed(old_ref);
    reduce(old_ref, UINT32_MAX);
    feed.push_back(FeedOrder{new_ref, f.locate, f.side, price, shares, 0});
    cross_resting(f.locate);
  }
  void trading(uint16_t locate, char st) {
    state[locate] = st;
    if (st == 'T') cross_resting(locate);
  }
  bool is_trading(uint16_t locate) { return state[locate] == 'T'; }

  // Feed orders on `side` crossing `limit`: best price first, then arrival.
  std::vector<FeedOrder*> crossing(uint16_t locate, int side, uint32_t limit) {
    std::vector<FeedOrder*> v;
    for (FeedOrder& f : feed)
      if (f.locate == locate && f.side == side && (side == 0 ? f.price >= limit : f.price <= limit)) v.push_back(&f);
    std::stable_sort(v.begin(), v.end(), [&](const FeedOrder* a, const FeedOrder* b) {
      return side == 0 ? a->price > b->price : a->price < b->price;
    });
    return v;
  }
  // Resting client orders on `side`, in priority.
  std::vector<size_t> queue(uint16_t locate, int side) {
    std::vector<size_t> v;
    for (size_t i = 0; i < resting.size(); ++i)
      if (resting[i].locate == locate && resting[i].side == side) v.push_back(i);
    std::sort(v.begin(), v.end(), [&](size_t a, size_t b) {
      const ClientOrder &x = resting[a], &y = resting[b];
      if (x.price != y.price) return side == 0 ? x.price > y.price : x.price < y.price;
      return x.priority < y.priority;
    });
    return v;
  }

  void fill(ClientOrder& o, uint32_t shares, uint32_t price, char liquidity) {
    o.open -= shares;
    o.executed += shares;
    Pos& p = positions[{s(o.account), o.locate}];
    const int64_t notional = int64_t(shares) * price;
    const int64_t fee = int64_t(shares) * (liquidity == 'R' ? kFeeRemove : kFeeAdd);
    if (o.side == 0) {
      p.shares += shares;
      p.cash -= notional;
      p.bought += shares;
    } else {
      p.shares -= shares;
      p.cash += notional;
      p.sold += shares;
    }
    p.cash -= fee;
    p.fees += fee;
    Response r;
    r.type = ResponseType::kExecuted;
    r.timestamp = now;
    r.account = o.account;
    r.token = o.token;
    r.executed_shares = shares;
    r.execution_price = price;
    r.liquidity = liquidity;
    r.match_number = next_match++;
    out.push_back(r);
  }
  // Takes crossing displayed shares; at_level: the feed's price (taker) or the client's (resting).
  void take(ClientOrder& o, bool taker) {
    for (FeedOrder* f : crossing(o.locate, 1 - o.side, o.price)) {
      if (o.open == 0) break;
      const uint32_t available = f->shares > f->consumed ? f->shares - f->consumed : 0;
      const uint32_t n = std::min(available, o.open);
      if (n == 0) continue;
      f->consumed += n;
      fill(o, n, taker ? f->price : o.price, taker ? 'R' : 'A');
    }
  }
  void cross_resting(uint16_t locate) {
    if (!is_trading(locate)) return;
    for (int side = 0; side < 2; ++side) {
      for (;;) {
        const std::vector<size_t> q = queue(locate, side);
        if (q.empty()) break;
        ClientOrder& o = resting[q[0]];
        take(o, false);
        if (o.open > 0) break;
        resting.erase(resting.begin() + static_cast<std::ptrdiff_t>(q[0]));
      }
    }
  }
  void trade_through(uint16_t locate, int side, uint32_t price, uint32_t shares) {
    if (!is_trading(locate)) return;
    for (size_t i : queue(locate, side)) {
      ClientOrder& o = resting[i];
      if (shares == 0 || !(side == 0 ? o.price > price : o.price < price)) break;
      const uint32_t n = std::min(shares, o.open);
      shares -= n;
      fill(o, n, o.price, 'A');
    }
    resting.erase(std::remove_if(resting.begin(), resting.end(), [](const ClientOrder& o) { return o.open == 0; }),
                  resting.end());
  }

  // --- clients ---
  void reject(const Account& a, const Token& t, char why) {
    Response r;
    r.type = ResponseType::kRejected;
    r.timestamp = now;
    r.account = a;
    r.token = t;
    r.reason = why;
    out.push_back(r);
  }
  Response order_response(ResponseType type, const ClientOrder& o) {
    Response r;
    r.type = type;
    r.timestamp = now;
    r.account = o.account;
    r.token = o.token;
    r.side = o.side_code;
    r.shares = o.open;
    r.stock = itch::make_symbol(kStocks[o.locate]);
    r.locate = o.locate;
    r.price = o.price;
    r.time_in_force = o.tif;
    r.display = o.display;
    r.order_ref = o.ref;
    r.order_state = 'L';
    return r;
  }
  static bool tick_ok(uint32_t p) { return p != 0 && (p < 10000 || p % 100 == 0); }
  ClientOrder* find_resting(const Account& a, const Token& t) {
    for (ClientOrder& o : resting)
      if (o.account == a && o.token == t) return &o;
    return nullptr;
  }

  void enter(const EnterRequest& q) {
    const auto key = std::make_pair(s(q.account), s(q.token));
    if (spent.count(key)) return reject(q.account, q.token, 'O');
    spent.insert(key);
    if (q.side != 'B' && q.side != 'S' && q.side != 'T' && q.side != 'E') return reject(q.account, q.token, 'O');
    if (q.shares == 0 || q.shares > 1000000) return reject(q.account, q.token, 'Z');
    if (!tick_ok(q.price)) return reject(q.account, q.token, 'X');
    if (q.display != 'Y' && q.display != 'A' && q.display != 'N') return reject(q.account, q.token, 'D');
    uint16_t locate = 0;
    for (uint16_t l = 1; l <= 3; ++l)
      if (itch::make_symbol(kStocks[l]) == q.stock) locate = l;
    if (locate == 0) return reject(q.account, q.token, 'S');
    if (!is_trading(locate)) return reject(q.account, q.token, 'H');
    positions[{s(q.account), locate}];  // a position exists from the first accepted order
    ClientOrder o{q.account, q.token, locate, q.side == 'B' ? 0 : 1, q.side, q.price, q.shares, 0,
                  q.time_in_force, q.display, next_ref++, next_priority++};
    out.push_back(order_response(ResponseType::kAccepted, o));
    if (is_trading(locate)) take(o, true);
    if (o.open == 0) return;
    if (q.time_in_force == 0) {
      Response r;
      r.type = ResponseType::kCanceled;
      r.timestamp = now;
      r.account = q.account;
      r.token = q.token;
      r.decrement_shares = o.open;
      r.reason = 'I';
      out.push_back(r);
      return;
    }
    resting.push_back(o);
  }

  void replace(const ReplaceRequest& q, bool account_known) {
    if (!account_known) return reject(q.account, q.replacement_token, 'O');
    const auto key = std::make_pair(s(q.account), s(q.replacement_token));
    if (spent.count(key)) return reject(q.account, q.replacement_token, 'O');
    spent.insert(key);
    ClientOrder* o = find_resting(q.account, q.existing_token);
    if (o == nullptr) return reject(q.account, q.replacement_token, 'O');
    if (q.shares == 0 || q.shares > 1000000) return reject(q.account, q.replacement_token, 'Z');
    if (!tick_ok(q.price)) return reject(q.account, q.replacement_token, 'X');
    if (!is_trading(o->locate)) return reject(q.account, q.replacement_token, 'H');
    const bool keep = q.price == o->price && q.shares <= o->open;
    const Token previous = o->token;
    o->token = q.replacement_token;
    o->ref = next_ref++;
    o->executed = 0;
    o->open = q.shares;
    if (!keep) {
      o->price = q.price;
      o->priority = next_priority++;
    }
    Response r = order_response(ResponseType::kReplaced, *o);
    r.previous_token = previous;
    out.push_back(r);
    if (keep) return;
    take(*o, true);
    if (o->open == 0) resting.erase(resting.begin() + (o - resting.data()));
  }

  void cancel(const CancelRequest& q) {
    ClientOrder* o = find_resting(q.account, q.token);
    Response r;
    r.timestamp = now;
    r.account = q.account;
    r.token = q.token;
    if (o == nullptr || q.shares >= o->open) {
      r.type = ResponseType::kCancelReject;
      out.push_back(r);
      return;
    }
    r.type = ResponseType::kCanceled;
    r.decrement_shares = o->open - q.shares;
    r.reason = 'U';
    o->open = q.shares;
    out.push_back(r);
    if (o->open == 0) resting.erase(resting.begin() + (o - resting.data()));
  }
};

void run_random_day(uint64_t seed, int steps) {
  MatchingConfig c = small_config();
  c.fee_remove_per_share = kFeeRemove;
  c.fee_add_per_share = kFeeAdd;
  MatchingEngine engine(c);
  Feed feed(engine);
  ReferenceModel model;
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return rng() % n; };
  const Account accounts[] = {make_account("A1"), make_account("B2"), make_account("C3")};
  std::set<std::string> known_accounts;
  std::map<std::string, std::vector<Token>> used_tokens;
  uint64_t next_feed_ref = 1;
  int next_token = 0;

  for (uint16_t l = 1; l <= 3; ++l) {
    feed.stock(l, kStocks[l]);
    model.trading(l, 'T');
  }
  std::vector<Response> engine_out;
  auto price_near = [&](uint32_t mid) { return mid + 100 * static_cast<uint32_t>(pick(11)) - 500; };
  const uint32_t mids[] = {0, 100000, 5000, 250000};  // BBB below $1: sub-penny ticks

  for (int step = 0; step < steps; ++step) {
    feed.now += 1000;
    model.now = feed.now;
    const uint16_t locate = static_cast<uint16_t>(1 + pick(3));
    const uint32_t tick = locate == 2 ? 1 : 100;
    auto near = [&] { return locate == 2 ? mids[2] + static_cast<uint32_t>(pick(11)) - 5 : price_near(mids[locate]); };
    const uint64_t what = pick(100);
    std::vector<ReferenceModel::FeedOrder*> live;
    for (auto& f : model.feed) live.push_back(&f);
    if (what < 22 || live.empty()) {
      const char side = pick(2) ? 'B' : 'S';
      const auto shares = static_cast<uint32_t>(1 + pick(300));
      const uint32_t price = near();
      const uint64_t ref = next_feed_ref++;
      feed.add(locate, ref, side, shares, price);
      model.add(locate, ref, side, shares, price);
    } else if (what < 45) {
      ReferenceModel::FeedOrder f = *live[pick(live.size())];
      const uint64_t kind = pick(7);
      const auto shares = static_cast<uint32_t>(1 + pick(f.shares));  // up to all of it
      if (kind == 0) {
        feed.execute(f.ref, shares);
        model.execute(f.ref, shares, nullptr);
      } else if (kind == 1) {
        const auto delta = static_cast<uint32_t>(tick * pick(3));  // a price through the order's
        const uint32_t price = f.side == 0 ? f.price - delta : f.price + delta;
        feed.execute_at(f.ref, shares, price);
        model.execute(f.ref, shares, &price);
      } else if (kind == 2) {
        feed.cancel(f.ref, shares);
        model.reduce(f.ref, shares);
      } else if (kind == 3) {
        feed.remove(f.ref);
        model.reduce(f.ref, UINT32_MAX);
      } else if (kind <= 5) {
        const uint64_t ref = next_feed_ref++;
        const auto new_shares = static_cast<uint32_t>(1 + pick(300));
        const uint32_t price = f.locate == 2 ? mids[2] + static_cast<uint32_t>(pick(11)) - 5 : price_near(mids[f.locate]);
        feed.replace(f.ref, ref, new_shares, price);
        model.replace(f.ref, ref, new_shares, price);
      } else {
        const char side = pick(2) ? 'B' : 'S';
        const uint32_t price = near();
        feed.trade(locate, side, shares, price);
        model.trade_through(locate, side == 'B' ? 0 : 1, price, shares);
      }
    } else if (what < 47) {
      const char st = model.is_trading(locate) ? (pick(2) ? 'H' : 'Q') : 'T';
      feed.trading(locate, st);
      model.trading(locate, st);
    } else {
      const Account& a = accounts[pick(3)];
      const std::string akey = ReferenceModel::s(a);
      std::vector<Token>& tokens = used_tokens[akey];
      auto fresh_token = [&] {
        Token t = make_token("T" + std::to_string(next_token++));
        tokens.push_back(t);
        return t;
      };
      auto old_token = [&] { return tokens.empty() ? make_token("NONE") : tokens[pick(tokens.size())]; };
      const uint64_t op = pick(100);
      if (op < 60) {
        EnterRequest q;
        q.account = a;
        q.token = pick(40) == 0 ? old_token() : fresh_token();
        const char sides[] = {'B', 'S', 'T', 'E', 'B', 'S', 'x'};
        q.side = sides[pick(pick(30) == 0 ? 7 : 6)];
        q.shares = pick(50) == 0 ? 0 : static_cast<uint32_t>(1 + pick(400));
        q.stock = itch::make_symbol(pick(50) == 0 ? "ZZZ" : kStocks[locate]);
        q.price = near() + (pick(50) == 0 ? 1 : 0) + 2 * tick * static_cast<uint32_t>(pick(3));
        q.time_in_force = pick(5) == 0 ? kImmediateOrCancel : 99999;
        q.display = pick(60) == 0 ? 'Q' : 'Y';
        engine.enter(q, feed.now);
        model.enter(q);
        known_accounts.insert(akey);
      } else if (op < 80) {
        ReplaceRequest q;
        q.account = a;
        q.existing_token = old_token();
        q.replacement_token = pick(40) == 0 ? old_token() : fresh_token();
        q.shares = pick(50) == 0 ? 0 : static_cast<uint32_t>(1 + pick(400));
        q.price = near() + 2 * tick * static_cast<uint32_t>(pick(3));
        // The replaced order's stock may differ from `locate`: keep its tick.
        if (ReferenceModel::ClientOrder* o = model.find_resting(a, q.existing_token))
          q.price = o->locate == 2 ? mids[2] + static_cast<uint32_t>(pick(11)) - 5 : price_near(mids[o->locate]);
        engine.replace(q, feed.now);
        model.replace(q, known_accounts.count(akey) != 0);
      } else {
        CancelRequest q;
        q.account = a;
        q.token = old_token();
        q.shares = pick(2) ? 0 : static_cast<uint32_t>(pick(200));
        engine.cancel(q, feed.now);
        model.cancel(q);
      }
    }
    const auto rs = drain(engine);
    engine_out.insert(engine_out.end(), rs.begin(), rs.end());
    if (step % 250 == 0) {
      ASSERT_EQ(engine.check_invariants(), "") << "seed " << seed << " step " << step;
    }
  }

  ASSERT_EQ(engine.check_invariants(), "") << "seed " << seed;
  feed.expect_books_follow_stream();
  ASSERT_EQ(engine_out.size(), model.out.size()) << "seed " << seed;
  for (size_t i = 0; i < engine_out.size(); ++i)
    ASSERT_EQ(engine_out[i], model.out[i]) << "seed " << seed << " response " << i << " type "
                                           << static_cast<char>(engine_out[i].type) << " vs "
                                           << static_cast<char>(model.out[i].type);
  size_t executions = 0;
  for (const Response& r : engine_out) executions += r.type == ResponseType::kExecuted;
  EXPECT_GT(executions, 20u) << "seed " << seed << ": the day should trade";

  for (const Account& a : accounts) {
    const std::string akey = ReferenceModel::s(a);
    std::vector<PositionView> expected;
    for (const auto& [key, p] : model.positions)
      if (key.first == akey)
        expected.push_back(PositionView{a, key.second, itch::make_symbol(kStocks[key.second]), p.shares, p.cash, p.fees,
                                        p.bought, p.sold});
    EXPECT_EQ(engine.positions(a), expected) << "seed " << seed << " account " << akey;
    std::vector<OpenOrderView> open;
    for (const auto& o : model.resting)
      if (o.account == a)
        open.push_back(OpenOrderView{a, o.token, o.ref, o.locate, itch::make_symbol(kStocks[o.locate]), o.side_code,
                                     o.price, o.open, o.executed, o.tif, o.display});
    std::sort(open.begin(), open.end(), [](const auto& x, const auto& y) { return x.order_ref < y.order_ref; });
    EXPECT_EQ(engine.open_orders(a), open) << "seed " << seed << " account " << akey;
  }
}

TEST(MatchingReference, RandomDaysAgreeWithThePlainModel) {
  // PMM_MATCHING_SEEDS=N runs N seeds instead of 12 (a longer soak).
  const char* env = std::getenv("PMM_MATCHING_SEEDS");
  const int seeds = env ? std::atoi(env) : 12;
  for (int seed = 1; seed <= seeds; ++seed) {
    run_random_day(static_cast<uint64_t>(seed), 4000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace pmm::sim::test
