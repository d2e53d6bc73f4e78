// The simulator's position query (perf/sim/position_query.hpp) read with the management client
// (mgmt/exchange_position_client.hpp) over loopback UDP, against a gateway that took real orders and
// fills. The expected state is rebuilt here from the OUCH responses the test's client received (a plain
// model: Accepted opens, Replaced moves, Canceled and Executed reduce, Executed moves the position), so
// the answer is checked against what the session said, not against the code that wrote it; the
// engine's own positions()/open_orders() must agree with both. Paging (more open orders than one
// answer holds) and bad requests answered with a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <thread>

#include "core/byte_order.hpp"
#include "core/moldudp64.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "mgmt/exchange_position_client.hpp"
#include "perf/sim/order_gateway.hpp"
#include "perf/sim/position_query.hpp"
#include "tests/sim/sim_fixture.hpp"

namespace pmm::sim::test {
namespace {

using namespace std::chrono_literals;

book::BookCapacity day_books() {
  book::BookCapacity c;
  c.max_orders = 1u << 15;
  c.max_levels = 1u << 15;
  c.max_locates = 64;
  c.level_index_entries = 1u << 16;
  return c;
}

OrderGatewayConfig config() {
  OrderGatewayConfig c;
  c.listen = Endpoint{kLoopback, 0};
  c.session = mold::make_session("GWTEST");
  c.heartbeat_ms = 0;
  c.history_messages = 1024;
  c.retry_ms = 1;
  c.query_listen = Endpoint{kLoopback, 0};
  c.matching.book = day_books();
  c.matching.max_accounts = 4;
  c.matching.max_open_orders = 1024;
  c.matching.max_day_tokens = 1u << 12;
  c.matching.max_positions = 256;
  c.matching.max_queued_responses = 4096;
  return c;
}

std::string trim(const char* p, size_t n) {
  std::string s(p, n);
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

// The model: what the responses say our account holds.
struct ModelOrder {
  std::string symbol;
  char side = ' ';
  uint32_t price = 0;
  uint32_t open = 0;
};
struct ModelPosition {
  int64_t shares = 0;
  uint64_t bought = 0, sold = 0;
};

class PositionQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    day_ = reference_messages(small_day(20000));
    reference_ = std::make_unique<BookBuilder>(day_books());
    std::string error;
    gateway_ = OrderGateway::create(config(), error);
    ASSERT_TRUE(gateway_) << error;
    ASSERT_NE(gateway_->query_server(), nullptr);
    socket_ = UdpSocket::open(Endpoint{kLoopback, 0}, "test client", error);
    ASSERT_TRUE(socket_.valid()) << error;
  }

  void feed_to(size_t end) {
    for (; fed_ < end && fed_ < day_.size(); ++fed_) {
      gateway_->on_published(day_[fed_].data(), static_cast<uint16_t>(day_[fed_].size()));
      reference_->on_message(day_[fed_].data(), day_[fed_].size());
    }
  }

  template <class Msg>
  void send(const Msg& m) {
    uint8_t block[8 + Msg::kLength];
    store_be64(block, gateway_->exchange_time());
    ouch::encode(m, block + 8);
    uint8_t packet[256];
    const size_t n = sender_.send(block, sizeof block, packet, sizeof packet);
    ASSERT_EQ(socket_.send_to(packet, n, gateway_->local_endpoint()), 0);
    ++sent_;
  }

  // Turns the gateway until every request sent has its answers read and applied to the model.
  void settle() {
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < end) {
      gateway_->service(OrderGateway::real_now_ns());
      read_responses();
      if (gateway_->stats().orders == sent_ && gateway_->engine().queued() == 0) {
        gateway_->service(OrderGateway::real_now_ns());
        read_responses();
        return;
      }
      std::this_thread::sleep_for(100us);
    }
    ADD_FAILURE() << "the gateway did not take every request";
  }

  void read_responses() {
    uint8_t buf[2048];
    for (;;) {
      const Received r = socket_.receive(buf, sizeof buf, 0);
      if (r.kind != Received::Kind::kDatagram) return;
      mold::DownstreamPacket pkt;
      if (r.len <= mold::kHeaderSize || mold::parse_downstream(buf, r.len, pkt) != mold::ParseError::kNone) continue;
      pkt.for_each_message([&](uint64_t, const uint8_t* m, uint16_t n) { apply(m, n); });
    }
  }

  void apply(const uint8_t* m, uint16_t n) {
    switch (static_cast<char>(m[0])) {
      case 'A': {
        ouch::Accepted a;
        ASSERT_EQ(n, ouch::Accepted::kLength);
        ouch::decode(m, a);
        if (a.shares > 0)
          orders_[trim(a.token.data(), 14)] = {trim(a.stock.data(), 8), a.side, a.price, a.shares};
        return;
      }
      case 'U': {
        ouch::Replaced u;
        ASSERT_EQ(n, ouch::Replaced::kLength);
        ouch::decode(m, u);
        orders_.erase(trim(u.previous_token.data(), 14));
        if (u.shares > 0)
          orders_[trim(u.replacement_token.data(), 14)] = {trim(u.stock.data(), 8), u.side, u.price, u.shares};
        return;
      }
      case 'C': {
        ouch::Canceled c;
        ASSERT_EQ(n, ouch::Canceled::kLength);
        ouch::decode(m, c);
        reduce(trim(c.token.data(), 14), c.decrement_shares);
        return;
      }
      case 'E': {
        ouch::Executed e;
        ASSERT_EQ(n, ouch::Executed::kLength);
        ouch::decode(m, e);
        const std::string token = trim(e.token.data(), 14);
        auto it = orders_.find(token);
        if (it == orders_.end()) {  // an IOC order fills before (or instead of) resting: its side from our log
          ASSERT_TRUE(ioc_.count(token)) << token;
          it = orders_.emplace(token, ioc_[token]).first;
        }
        ModelPosition& p = positions_[it->second.symbol];
        if (it->second.side == 'B') {
          p.shares += e.executed_shares;
          p.bought += e.executed_shares;
        } else {
          p.shares -= e.executed_shares;
          p.sold += e.executed_shares;
        }
        reduce(token, e.executed_shares);
        return;
      }
      default:
        return;  // rejects and cancel rejects change nothing
    }
  }
  void reduce(const std::string& token, uint32_t shares) {
    auto it = orders_.find(token);
    if (it == orders_.end()) return;
    it->second.open -= std::min(it->second.open, shares);
    if (it->second.open == 0) orders_.erase(it);
  }

  // The client blocks on its socket; the gateway (single-threaded, like the simulator) answers meanwhile.
  template <class F>
  auto while_serving(F&& f) {
    auto result = std::async(std::launch::async, std::forward<F>(f));
    while (result.wait_for(200us) != std::future_status::ready) gateway_->service(OrderGateway::real_now_ns());
    return result.get();
  }

  std::string address() const { return to_string(gateway_->query_server()->local_endpoint()); }

  ouch::EnterOrder enter(const std::string& token, char side, uint32_t shares, const itch::Symbol& stock,
                         uint32_t price, uint32_t tif = ouch::kTifSystemHours) {
    ouch::EnterOrder m;
    m.token = ouch::make_token(token.c_str());
    m.side = side;
    m.shares = shares;
    m.stock = stock;
    m.price = price;
    m.time_in_force = tif;
    m.firm = ouch::make_firm("FRM1");
    m.display = 'Y';
    m.capacity = 'P';
    m.intermarket_sweep = 'N';
    m.cross_type = 'N';
    if (tif == ouch::kTifImmediateOrCancel) ioc_[token] = {trim(stock.data(), 8), side, price, shares};
    return m;
  }

  std::vector<Bytes> day_;
  std::unique_ptr<BookBuilder> reference_;
  std::unique_ptr<OrderGateway> gateway_;
  UdpSocket socket_;
  orders::SessionSender sender_{mold::make_session("CLIENT"), 256};
  uint64_t sent_ = 0;
  size_t fed_ = 0;
  std::map<std::string, ModelOrder> orders_;
  std::map<std::string, ModelOrder> ioc_;
  std::map<std::string, ModelPosition> positions_;
};

// Two-sided trading stocks of the reference books.
std::vector<std::pair<itch::Symbol, book::TopOfBook>> two_sided(const BookBuilder& b) {
  std::vector<std::pair<itch::Symbol, book::TopOfBook>> out;
  for (uint16_t l = 1; l < day_books().max_locates; ++l) {
    const book::TopOfBook t = b.books().top(l);
    if (b.trading_state(l) == 'T' && t.bid.shares > 0 && t.ask.shares > 0 && t.bid.price >= 20000)
      out.emplace_back(b.symbol(l), t);
  }
  return out;
}

TEST_F(PositionQueryTest, AnswerEqualsWhatTheSessionSaidAndTheEngine) {
  feed_to(4000);
  const auto markets = two_sided(*reference_);
  ASSERT_GE(markets.size(), 2u);
  // Fills on two stocks (IOC buys at the ask, sells at the bid), resting orders, a replace, cancels.
  for (size_t i = 0; i < 2; ++i) {
    const auto& [stock, top] = markets[i];
    send(enter("BUY" + std::to_string(i), 'B', static_cast<uint32_t>(std::min<uint64_t>(top.ask.shares, 300)), stock, top.ask.price,
               ouch::kTifImmediateOrCancel));
    send(enter("SEL" + std::to_string(i), 'S', static_cast<uint32_t>(std::min<uint64_t>(top.bid.shares, 100)), stock, top.bid.price,
               ouch::kTifImmediateOrCancel));
    send(enter("BID" + std::to_string(i), 'B', 200, stock, top.bid.price - 1000));
    send(enter("ASK" + std::to_string(i), 'S', 150, stock, top.ask.price + 1000));
  }
  settle();
  ouch::ReplaceOrder r;
  r.existing_token = ouch::make_token("BID0");
  r.replacement_token = ouch::make_token("BID0R");
  r.shares = 120;
  r.price = markets[0].second.bid.price - 1500;
  r.time_in_force = ouch::kTifSystemHours;
  r.display = 'Y';
  r.intermarket_sweep = 'N';
  send(r);
  ouch::CancelOrder c;
  c.token = ouch::make_token("ASK1");
  c.shares = 0;
  send(c);
  settle();
  feed_to(9000);  // the feed may trade through resting orders meanwhile: those fills come as Executed
  settle();

  ASSERT_FALSE(positions_.empty()) << "no fill: the test would not show positions";
  const mgmt::ExchangeAccountState s = while_serving([&] {
    mgmt::ExchangePositionClient client(address());
    mgmt::ExchangeAccountState st;
    EXPECT_TRUE(client.account_state("FRM1", st)) << client.error();
    return st;
  });
  read_responses();  // nothing new may have happened while asking
  EXPECT_EQ(s.account, "FRM1");
  EXPECT_EQ(s.exchange_time, gateway_->exchange_time());

  std::map<std::string, ModelPosition> got_positions;
  for (const mgmt::ExchangePosition& p : s.positions) got_positions[p.symbol] = {p.shares, p.bought, p.sold};
  ASSERT_EQ(got_positions.size(), positions_.size());
  for (const auto& [symbol, p] : positions_) {
    EXPECT_EQ(got_positions[symbol].shares, p.shares) << symbol;
    EXPECT_EQ(got_positions[symbol].bought, p.bought) << symbol;
    EXPECT_EQ(got_positions[symbol].sold, p.sold) << symbol;
  }
  std::map<std::string, ModelOrder> got_orders;
  for (const mgmt::ExchangeOpenOrder& o : s.open_orders) got_orders[o.token] = {o.symbol, o.side, o.price, o.remaining};
  ASSERT_EQ(got_orders.size(), orders_.size());
  for (const auto& [token, o] : orders_) {
    ASSERT_TRUE(got_orders.count(token)) << token;
    EXPECT_EQ(got_orders[token].symbol, o.symbol) << token;
    EXPECT_EQ(got_orders[token].side, o.side) << token;
    EXPECT_EQ(got_orders[token].price, o.price) << token;
    EXPECT_EQ(got_orders[token].open, o.open) << token;
  }
  EXPECT_TRUE(got_orders.count("BID0R"));
  EXPECT_FALSE(got_orders.count("ASK1"));

  // The engine's own state, field by field (cash and fees are not in the model).
  const Account account = make_account("FRM1");
  const std::vector<PositionView> ep = gateway_->engine().positions(account);
  ASSERT_EQ(ep.size(), s.positions.size());
  for (size_t i = 0; i < ep.size(); ++i) {
    EXPECT_EQ(trim(ep[i].stock.data(), 8), s.positions[i].symbol);
    EXPECT_EQ(ep[i].shares, s.positions[i].shares);
    EXPECT_EQ(ep[i].cash, s.positions[i].cash);
    EXPECT_EQ(ep[i].fees, s.positions[i].fees);
  }
  const std::vector<OpenOrderView> eo = gateway_->engine().open_orders(account);
  ASSERT_EQ(eo.size(), s.open_orders.size());
  for (size_t i = 0; i < eo.size(); ++i) {
    EXPECT_EQ(trim(eo[i].token.data(), 14), s.open_orders[i].token);
    EXPECT_EQ(eo[i].open_shares, s.open_orders[i].remaining);
  }

  // Another account: known to nobody, empty; the account list.
  const auto [other, accounts] = while_serving([&] {
    mgmt::ExchangePositionClient client(address());
    mgmt::ExchangeAccountState st;
    std::vector<std::string> list;
    EXPECT_TRUE(client.account_state("ZZZZ", st)) << client.error();
    EXPECT_TRUE(client.accounts(list)) << client.error();
    return std::make_pair(st, list);
  });
  EXPECT_TRUE(other.positions.empty());
  EXPECT_TRUE(other.open_orders.empty());
  EXPECT_EQ(accounts, std::vector<std::string>{"FRM1"});
}

TEST_F(PositionQueryTest, ManyOpenOrdersComeInPages) {
  feed_to(4000);
  const auto markets = two_sided(*reference_);
  ASSERT_FALSE(markets.empty());
  const size_t n = 2 * kMaxItemsPerAnswer + 17;
  for (size_t i = 0; i < n; ++i)
    send(enter("P" + std::to_string(i), 'B', static_cast<uint32_t>(100 + i), markets[0].first,
               markets[0].second.bid.price - 2000 - static_cast<uint32_t>(i % 50) * 100));
  settle();
  ASSERT_EQ(orders_.size(), n);
  const mgmt::ExchangeAccountState s = while_serving([&] {
    mgmt::ExchangePositionClient client(address());
    mgmt::ExchangeAccountState st;
    EXPECT_TRUE(client.account_state("FRM1", st)) << client.error();
    return st;
  });
  ASSERT_EQ(s.open_orders.size(), n);
  for (size_t i = 0; i < n; ++i) {  // by order_ref: arrival order
    EXPECT_EQ(s.open_orders[i].token, "P" + std::to_string(i));
    EXPECT_EQ(s.open_orders[i].remaining, orders_["P" + std::to_string(i)].open);
  }
  EXPECT_GE(gateway_->query_server()->stats().requests, 4u);  // 3 pages of orders, 1 of positions
}

TEST_F(PositionQueryTest, BadRequestsGetAClearError) {
  const auto ask = [&](const std::string& line) {
    return while_serving([&] {
      mgmt::ExchangePositionClient client(address());
      std::string answer;
      EXPECT_TRUE(client.request(line, answer)) << client.error();
      return answer;
    });
  };
  const auto has = [](const std::string& answer, const std::string& part) {
    return answer.rfind("{\"ok\": false", 0) == 0 && answer.find(part) != std::string::npos;
  };
  EXPECT_PRED2(has, ask("hello"), "unknown command 'hello'");
  EXPECT_PRED2(has, ask("positions"), "expected 'positions ACCOUNT [FROM]'");
  EXPECT_PRED2(has, ask("orders TOOLONG"), "longer than 4 characters");
  EXPECT_PRED2(has, ask("orders FRM1 x1"), "FROM 'x1' is not a non-negative integer");
  EXPECT_PRED2(has, ask("positions FRM1 5"), "FROM 5 is beyond the 0 positions");
  EXPECT_PRED2(has, ask("accounts now"), "takes no argument");
  EXPECT_PRED2(has, ask(std::string("orders \x01", 8)), "at offset 7 is not printable");
  EXPECT_PRED2(has, ask(std::string(300, 'a')), "longer than 256 bytes");
  EXPECT_PRED2(has, ask(""), "empty");
  EXPECT_EQ(gateway_->query_server()->stats().bad_requests, 9u);
  // A good one still works after all that, with a trailing newline as nc sends it.
  EXPECT_EQ(ask("accounts\n").rfind("{\"ok\": true", 0), 0u);

  // The client names a bad address and a silent server.
  mgmt::ExchangePositionClient bad("127.0.0.1");
  EXPECT_FALSE(bad.valid());
  EXPECT_NE(bad.error().find("expected IP:PORT"), std::string::npos) << bad.error();
  mgmt::ExchangePositionClient silent(address(), 20, 2);  // nobody turns the gateway: no answer
  std::string answer;
  EXPECT_FALSE(silent.request("accounts", answer));
  EXPECT_NE(silent.error().find("no answer within 20 ms (2 attempt(s))"), std::string::npos) << silent.error();
}

}  // namespace
}  // namespace pmm::sim::test
