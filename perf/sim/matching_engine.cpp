#include "perf/sim/matching_engine.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <map>

#include "core/itch_dispatch.hpp"

namespace pmm::sim {

namespace {

template <size_t N>
std::array<char, N> padded(std::string_view text) noexcept {
  std::array<char, N> a;
  a.fill(' ');
  std::memcpy(a.data(), text.data(), std::min(N, text.size()));
  return a;
}

uint64_t pack_symbol(const itch::Symbol& s) noexcept {
  uint64_t v = 0;
  std::memcpy(&v, s.data(), sizeof(v));
  return v;
}

uint32_t pack_account(const Account& a) noexcept {
  uint32_t v = 0;
  std::memcpy(&v, a.data(), sizeof(v));
  return v;
}

uint64_t level_key(uint16_t locate, uint8_t side, book::Price price) noexcept {
  return (uint64_t{locate} << 33) | (uint64_t{side} << 32) | price;
}

uint64_t position_key(uint16_t account, uint16_t locate) noexcept { return (uint64_t{account} << 16) | locate; }

// Does a price on `side` (0 bid, 1 ask) cross `limit` from the other side?
bool crosses(uint8_t side, book::Price price, book::Price limit) noexcept {
  return side == 0 ? price >= limit : price <= limit;
}

// Client priority: a better price first, then the earlier arrival.
bool ahead(uint8_t side, book::Price a_price, uint64_t a_priority, book::Price b_price, uint64_t b_priority) noexcept {
  if (a_price != b_price) return side == 0 ? a_price > b_price : a_price < b_price;
  return a_priority < b_priority;
}

// Prices from $1.00 trade in whole cents; below, in 1/100 cents (Reg NMS sub-penny rule).
bool on_tick(book::Price price) noexcept { return price < 10000 || price % 100 == 0; }

uint64_t threshold_of(double rate) noexcept {
  return rate <= 0.0 ? 0 : rate >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(rate, 64));
}

// Fault decision streams (each has its own counter, so enabling one does not shift another).
constexpr uint64_t kRejectStream = 0x52454a454354ull;
constexpr uint64_t kDelayStream = 0x44454c4159ull;
constexpr uint64_t kDropStream = 0x44524f50ull;

}  // namespace

Token make_token(std::string_view text) noexcept { return padded<14>(text); }
Account make_account(std::string_view text) noexcept { return padded<4>(text); }

uint64_t MatchingEngine::TokenHash::operator()(const TokenKey& k) const noexcept {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, k.token.data(), 8);
  std::memcpy(&b, k.token.data() + 8, 6);
  return mix64(a ^ mix64(b ^ (uint64_t{k.account} << 48)));
}

std::string validate(const MatchingConfig& c) {
  if (std::string e = book::validate(c.book); !e.empty()) return "matching." + e;
  auto range = [](const char* key, uint64_t v, uint64_t lo, uint64_t hi) -> std::string {
    if (v >= lo && v <= hi) return "";
    return std::string("matching.") + key + ": expected an integer in " + std::to_string(lo) + " .. " +
           std::to_string(hi) + ", got " + std::to_string(v);
  };
  for (const std::string& e : {range("max_accounts", c.max_accounts, 1, 65535),
                               range("max_open_orders", c.max_open_orders, 1, 1u << 22),
                               range("max_day_tokens", c.max_day_tokens, 1, 1u << 24),
                               range("max_positions", c.max_positions, 1, 1u << 22),
                               range("max_queued_responses", c.max_queued_responses, 1, 1u << 22),
                               range("max_sweep_levels", c.max_sweep_levels, 1, 1u << 16),
                               range("max_order_shares", c.max_order_shares, 1, 999999999),
                               range("delay_ms", c.delay_ms, 0, 3600000)})
    if (!e.empty()) return e;
  auto fee = [](const char* key, int64_t v) -> std::string {
    if (v >= -1000000 && v <= 1000000) return "";
    return std::string("matching.") + key + ": expected 1/10000 dollars per share in -1000000 .. 1000000";
  };
  if (std::string e = fee("fee_remove_per_share", c.fee_remove_per_share); !e.empty()) return e;
  if (std::string e = fee("fee_add_per_share", c.fee_add_per_share); !e.empty()) return e;
  for (auto [key, rate] : {std::pair{"reject_rate", c.reject_rate}, std::pair{"delay_rate", c.delay_rate},
                           std::pair{"drop_rate", c.drop_rate}})
    if (!(rate >= 0.0 && rate <= 1.0)) return std::string("matching.") + key + ": expected a fraction 0..1";
  if (c.reject_reason < '!' || c.reject_reason > '~')
    return "matching.reject_reason: expected one printable OUCH reason character";
  return "";
}

// Routes the feed's order messages to the mirror and the client-side rules, after the BookBuilder
// has applied them.
class MatchingEngine::FeedHandler : public itch::IgnoreAll {
 public:
  FeedHandler(MatchingEngine& e, uint64_t now) : e_(e), now_(now) {}
  using itch::IgnoreAll::on;

  void on(const itch::StockDirectory& m) noexcept {
    if (m.h.locate >= e_.config_.book.max_locates) return;
    if (uint16_t* l = e_.symbols_.find(pack_symbol(m.stock))) *l = m.h.locate;
    else if (e_.symbols_.insert(pack_symbol(m.stock), m.h.locate) == nullptr) ++e_.stats_.mirror_errors;
  }
  void on(const itch::StockTradingAction& m) noexcept {
    if (m.h.locate < e_.config_.book.max_locates && m.trading_state == 'T') e_.cross_resting(m.h.locate, now_);
  }
  void on(const itch::AddOrder& m) noexcept { add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const itch::AddOrderMpid& m) noexcept { add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const itch::OrderExecuted& m) noexcept {
    if (const uint32_t* n = e_.feed_refs_.find(m.ref)) {
      const FeedOrder& o = e_.feed_orders_[*n];
      e_.trade_through(o.locate, o.side, o.price, m.shares, now_);
    }
    e_.feed_reduce(m.ref, m.shares);
  }
  void on(const itch::OrderExecutedWithPrice& m) noexcept {
    if (const uint32_t* n = e_.feed_refs_.find(m.ref)) {
      const FeedOrder& o = e_.feed_orders_[*n];
      e_.trade_through(o.locate, o.side, m.price, m.shares, now_);
    }
    e_.feed_reduce(m.ref, m.shares);
  }
  void on(const itch::OrderCancel& m) noexcept { e_.feed_reduce(m.ref, m.shares); }
  void on(const itch::OrderDelete& m) noexcept { e_.feed_reduce(m.ref, UINT32_MAX); }
  void on(const itch::OrderReplace& m) noexcept {
    const uint32_t* n = e_.feed_refs_.find(m.old_ref);
    if (n == nullptr) return;
    const uint32_t node = *n;
    const uint16_t locate = e_.feed_orders_[node].locate;
    const uint8_t side = e_.feed_orders_[node].side;
    if (!live(m.old_ref) || m.old_ref == m.new_ref) e_.feed_remove(node);
    if (live(m.new_ref) && e_.feed_refs_.find(m.new_ref) == nullptr)
      e_.feed_add(m.new_ref, locate, side, m.shares, m.price);
    e_.cross_resting(locate, now_);
  }
  void on(const itch::Trade& m) noexcept {
    if (m.h.locate >= e_.config_.book.max_locates || (m.side != 'B' && m.side != 'S')) return;
    e_.trade_through(m.h.locate, m.side == 'B' ? 0 : 1, m.price, m.shares, now_);
  }

 private:
  bool live(uint64_t ref) const noexcept {
    uint16_t locate = 0;
    char side = ' ';
    return e_.feed_->books().order_side(ref, locate, side);
  }
  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, book::Price price) noexcept {
    // The builder dropped duplicates, zero shares, bad sides and capacity overruns: follow it.
    if (!live(ref) || e_.feed_refs_.find(ref) != nullptr) return;
    e_.feed_add(ref, locate, side == 'B' ? 0 : 1, shares, price);
    e_.cross_resting(locate, now_);
  }

  MatchingEngine& e_;
  uint64_t now_;
};

MatchingEngine::MatchingEngine(const MatchingConfig& config)
    : config_(config),
      feed_(std::make_unique<BookBuilder>(config.book)),
      feed_orders_(config.book.max_orders),
      feed_refs_(config.book.max_orders),
      levels_(config.book.max_levels),
      symbols_(config.book.max_locates),
      sweep_levels_(config.max_sweep_levels),
      orders_(size_t{config.max_open_orders} + 1),  // + 1: an IOC order needs a slot while it trades
      book_heads_(size_t{config.book.max_locates} * 2, kNone),
      tokens_(config.max_day_tokens),
      account_index_(config.max_accounts),
      positions_(config.max_positions),
      queue_(config.max_queued_responses) {
  assert(validate(config).empty());
  for (uint32_t i = 0; i < feed_orders_.size(); ++i) feed_orders_[i].next = i + 1 < feed_orders_.size() ? i + 1 : kNone;
  feed_free_ = 0;
  for (uint32_t i = 0; i < orders_.size(); ++i) orders_[i].next = i + 1 < orders_.size() ? i + 1 : kNone;
  order_free_ = 0;
  accounts_.reserve(config.max_accounts);
  reject_threshold_ = threshold_of(config.reject_rate);
  delay_threshold_ = threshold_of(config.delay_rate);
  drop_threshold_ = threshold_of(config.drop_rate);
}

MatchingEngine::~MatchingEngine() = default;

// ---------------------------------------------------------------------------------------------
// Feed

void MatchingEngine::on_feed_message(const uint8_t* p, size_t len, uint64_t now_ns) noexcept {
  ++stats_.feed_messages;
  feed_->on_message(p, len);  // the feed's books follow the stream alone
  FeedHandler handler(*this, now_ns);
  itch::dispatch(p, len, handler);
}

void MatchingEngine::feed_add(uint64_t ref, uint16_t locate, uint8_t side, uint32_t shares, book::Price price) noexcept {
  if (feed_free_ == kNone) {
    ++stats_.mirror_errors;
    return;
  }
  const uint64_t key = level_key(locate, side, price);
  LevelQueue* q = levels_.find(key);
  if (q == nullptr) q = levels_.insert(key, LevelQueue{});
  if (q == nullptr || feed_refs_.insert(ref, feed_free_) == nullptr) {
    if (q != nullptr && q->head == kNone) levels_.erase(key);
    ++stats_.mirror_errors;
    return;
  }
  const uint32_t node = feed_free_;
  FeedOrder& o = feed_orders_[node];
  feed_free_ = o.next;
  o = FeedOrder{ref, price, shares, 0, locate, side, q->tail, kNone};
  if (q->tail != kNone) feed_orders_[q->tail].next = node;
  else q->head = node;
  q->tail = node;
}

void MatchingEngine::feed_reduce(uint64_t ref, uint32_t shares) noexcept {
  const uint32_t* n = feed_refs_.find(ref);
  if (n == nullptr) return;
  uint16_t locate = 0;
  char side = ' ';
  FeedOrder& o = feed_orders_[*n];
  if (!feed_->books().order_side(ref, locate, side)) feed_remove(*n);
  else o.shares -= std::min(shares, o.shares);
}

void MatchingEngine::feed_remove(uint32_t node) noexcept {
  FeedOrder& o = feed_orders_[node];
  const uint64_t key = level_key(o.locate, o.side, o.price);
  LevelQueue* q = levels_.find(key);
  assert(q != nullptr);
  if (o.prev != kNone) feed_orders_[o.prev].next = o.next;
  else q->head = o.next;
  if (o.next != kNone) feed_orders_[o.next].prev = o.prev;
  else q->tail = o.prev;
  if (q->head == kNone) levels_.erase(key);
  feed_refs_.erase(o.ref);
  o.next = feed_free_;
  feed_free_ = node;
}

uint32_t MatchingEngine::consumed(uint64_t feed_ref) const noexcept {
  const uint32_t* n = feed_refs_.find(feed_ref);
  return n == nullptr ? 0 : feed_orders_[*n].consumed;
}

template <class Take>
void MatchingEngine::sweep(uint16_t locate, uint8_t side, book::Price limit, Take&& take) noexcept {
  const book::Side book_side = side == 0 ? book::Side::kBid : book::Side::kAsk;
  const size_t max = sweep_levels_.size();
  // Most sweeps end within a few levels: read a few, and more only when they all cross.
  size_t want = std::min<size_t>(8, max);
  size_t n = 0, crossing = 0;
  for (;;) {
    n = feed_->books().depth(locate, book_side, sweep_levels_.data(), want);
    crossing = 0;
    while (crossing < n && crosses(side, sweep_levels_[crossing].price, limit)) ++crossing;
    if (crossing < n || n < want || want == max) break;
    want = std::min(want * 4, max);
  }
  for (size_t i = 0; i < crossing; ++i) {
    const book::Price price = sweep_levels_[i].price;
    const LevelQueue* q = levels_.find(level_key(locate, side, price));
    if (q == nullptr) continue;  // only when the mirror lost orders (mirror_errors)
    for (uint32_t node = q->head; node != kNone; node = feed_orders_[node].next) {
      FeedOrder& o = feed_orders_[node];
      if (o.shares <= o.consumed) continue;
      if (!take(o, price, o.shares - o.consumed)) return;
    }
  }
  if (crossing == max) ++stats_.sweep_level_limit;  // there may be more crossing levels beyond
}

// ---------------------------------------------------------------------------------------------
// Client orders

bool MatchingEngine::trading(uint16_t locate) const noexcept { return feed_->trading_state(locate) == 'T'; }

bool MatchingEngine::find_account(const Account& account, uint16_t& index) const noexcept {
  const uint16_t* i = account_index_.find(pack_account(account));
  if (i == nullptr) return false;
  index = *i;
  return true;
}

MatchingEngine::Position* MatchingEngine::position(uint16_t account, uint16_t locate, bool create) noexcept {
  const uint64_t key = position_key(account, locate);
  if (Position* p = positions_.find(key)) return p;
  return create ? positions_.insert(key, Position{}) : nullptr;
}

void MatchingEngine::book_insert(uint32_t slot) noexcept {
  ClientOrder& o = orders_[slot];
  uint32_t& head = book_heads_[size_t{o.locate} * 2 + o.side];
  uint32_t prev = kNone, next = head;
  while (next != kNone && !ahead(o.side, o.price, o.priority, orders_[next].price, orders_[next].priority)) {
    prev = next;
    next = orders_[next].next;
  }
  o.prev = prev;
  o.next = next;
  if (prev != kNone) orders_[prev].next = slot;
  else head = slot;
  if (next != kNone) orders_[next].prev = slot;
  o.resting = true;
  ++open_orders_;
}

void MatchingEngine::book_remove(uint32_t slot) noexcept {
  ClientOrder& o = orders_[slot];
  assert(o.resting);
  if (o.prev != kNone) orders_[o.prev].next = o.next;
  else book_heads_[size_t{o.locate} * 2 + o.side] = o.next;
  if (o.next != kNone) orders_[o.next].prev = o.prev;
  o.prev = o.next = kNone;
  o.resting = false;
  --open_orders_;
}

void MatchingEngine::order_close(uint32_t slot) noexcept {
  ClientOrder& o = orders_[slot];
  if (o.resting) book_remove(slot);
  uint32_t* t = tokens_.find(TokenKey{o.account, o.token});
  assert(t != nullptr && *t == slot);
  *t = kDead;
  o.used = false;
  o.next = order_free_;
  order_free_ = slot;
}

void MatchingEngine::fill(uint32_t slot, uint32_t shares, book::Price price, char liquidity, uint64_t now) noexcept {
  ClientOrder& o = orders_[slot];
  assert(shares > 0 && shares <= o.open);
  o.open -= shares;
  o.executed += shares;
  Position* p = position(o.account, o.locate, false);
  assert(p != nullptr);  // created when the order was entered
  const int64_t notional = int64_t{shares} * int64_t{price};
  const int64_t fee =
      int64_t{shares} * (liquidity == ouch_code::kLiquidityRemoved ? config_.fee_remove_per_share : config_.fee_add_per_share);
  if (o.side == 0) {
    p->shares += shares;
    p->cash -= notional;
    p->bought += shares;
  } else {
    p->shares -= shares;
    p->cash += notional;
    p->sold += shares;
  }
  p->cash -= fee;
  p->fees += fee;
  ++stats_.executions;
  Response r;
  r.type = ResponseType::kExecuted;
  r.timestamp = now;
  r.account = accounts_[o.account];
  r.token = o.token;
  r.executed_shares = shares;
  r.execution_price = price;
  r.liquidity = liquidity;
  r.match_number = next_match_++;
  emit(r);
}

void MatchingEngine::take_liquidity(uint32_t slot, uint64_t now) noexcept {
  ClientOrder& o = orders_[slot];
  if (!trading(o.locate)) return;
  sweep(o.locate, static_cast<uint8_t>(1 - o.side), o.price, [&](FeedOrder& f, book::Price price, uint32_t available) {
    const uint32_t take = std::min(available, o.open);
    f.consumed += take;
    ++stats_.taker_executions;
    fill(slot, take, price, ouch_code::kLiquidityRemoved, now);
    return o.open > 0;
  });
}

void MatchingEngine::cross_resting(uint16_t locate, uint64_t now) noexcept {
  if (!trading(locate)) return;
  const book::TopOfBook top = feed_->books().top(locate);
  for (uint8_t side = 0; side < 2; ++side) {
    const uint8_t other = static_cast<uint8_t>(1 - side);
    const book::LevelView& best = side == 0 ? top.ask : top.bid;
    for (;;) {
      const uint32_t slot = book_heads_[size_t{locate} * 2 + side];
      if (slot == kNone || best.shares == 0 || !crosses(other, best.price, orders_[slot].price)) break;
      ClientOrder& o = orders_[slot];
      sweep(locate, other, o.price, [&](FeedOrder& f, book::Price, uint32_t available) {
        const uint32_t take = std::min(available, o.open);
        f.consumed += take;
        ++stats_.maker_cross_executions;
        fill(slot, take, o.price, ouch_code::kLiquidityAdded, now);
        return o.open > 0;
      });
      if (o.open > 0) break;  // no displayed shares left crossing the best resting order
      order_close(slot);
    }
  }
}

void MatchingEngine::trade_through(uint16_t locate, uint8_t side, book::Price price, uint32_t shares,
                                   uint64_t now) noexcept {
  if (!trading(locate)) return;
  uint32_t slot = book_heads_[size_t{locate} * 2 + side];
  while (slot != kNone && shares > 0) {
    ClientOrder& o = orders_[slot];
    const bool better = side == 0 ? o.price > price : o.price < price;
    if (!better) break;
    const uint32_t take = std::min(shares, o.open);
    shares -= take;
    ++stats_.maker_through_executions;
    fill(slot, take, o.price, ouch_code::kLiquidityAdded, now);
    const uint32_t next = o.next;
    if (o.open == 0) order_close(slot);
    slot = next;
  }
}

void MatchingEngine::reject(const Account& account, const Token& token, char why, uint64_t& counter,
                            uint64_t now) noexcept {
  ++counter;
  Response r;
  r.type = ResponseType::kRejected;
  r.timestamp = now;
  r.account = account;
  r.token = token;
  r.reason = why;
  emit(r);
}

Response MatchingEngine::order_response(ResponseType type, const ClientOrder& o, uint64_t now) const noexcept {
  Response r;
  r.type = type;
  r.timestamp = now;
  r.account = accounts_[o.account];
  r.token = o.token;
  r.side = o.side_code;
  r.shares = o.open;
  r.stock = feed_->symbol(o.locate);
  r.locate = o.locate;
  r.price = o.price;
  r.time_in_force = o.time_in_force;
  r.display = o.display;
  r.order_ref = o.ref;
  r.order_state = 'L';
  return r;
}

void MatchingEngine::enter(const EnterRequest& q, uint64_t now) noexcept {
  ++stats_.enters;
  uint16_t account = 0;
  if (!find_account(q.account, account)) {
    if (accounts_.size() == config_.max_accounts)
      return reject(q.account, q.token, ouch_code::kFirm, stats_.rejected_account_limit, now);
    account = static_cast<uint16_t>(accounts_.size());
    account_index_.insert(pack_account(q.account), account);
    accounts_.push_back(q.account);  // reserved: no allocation
  }
  const TokenKey key{account, q.token};
  if (tokens_.find(key) != nullptr)
    return reject(q.account, q.token, ouch_code::kOther, stats_.rejected_duplicate_token, now);
  uint32_t* token = tokens_.insert(key, kDead);  // spent from here on, whatever the answer
  if (token == nullptr) return reject(q.account, q.token, ouch_code::kOther, stats_.rejected_token_limit, now);

  const bool buy = q.side == 'B';
  if (!buy && q.side != 'S' && q.side != 'T' && q.side != 'E')
    return reject(q.account, q.token, ouch_code::kOther, stats_.rejected_side, now);
  if (q.shares == 0 || q.shares > config_.max_order_shares)
    return reject(q.account, q.token, ouch_code::kInvalidShares, stats_.rejected_shares, now);
  if (q.price == 0 || !on_tick(q.price))
    return reject(q.account, q.token, ouch_code::kInvalidPrice, stats_.rejected_price, now);
  if (q.display != 'Y' && q.display != 'A' && q.display != 'N')
    return reject(q.account, q.token, ouch_code::kInvalidDisplay, stats_.rejected_display, now);
  const uint16_t* locate = symbols_.find(pack_symbol(q.stock));
  if (locate == nullptr) return reject(q.account, q.token, ouch_code::kInvalidStock, stats_.rejected_unknown_stock, now);
  if (!trading(*locate)) return reject(q.account, q.token, ouch_code::kHalted, stats_.rejected_halted, now);
  if (fault(kRejectStream, reject_draws_, reject_threshold_, config_.reject_rate >= 1.0))
    return reject(q.account, q.token, config_.reject_reason, stats_.rejected_fault, now);
  const bool ioc = q.time_in_force == kImmediateOrCancel;
  if (!ioc && open_orders_ == config_.max_open_orders)
    return reject(q.account, q.token, ouch_code::kOther, stats_.rejected_open_order_limit, now);
  if (position(account, *locate, true) == nullptr)
    return reject(q.account, q.token, ouch_code::kOther, stats_.rejected_position_limit, now);

  // Resting orders hold at most max_open_orders slots, so one is always free for this order.
  const uint32_t slot = order_free_;
  assert(slot != kNone);
  ClientOrder& o = orders_[slot];
  order_free_ = o.next;
  o = ClientOrder{};
  o.token = q.token;
  o.account = account;
  o.locate = *locate;
  o.side = buy ? 0 : 1;
  o.side_code = q.side;
  o.display = q.display;
  o.used = true;
  o.price = q.price;
  o.open = q.shares;
  o.time_in_force = q.time_in_force;
  o.ref = next_order_ref_++;
  o.priority = next_priority_++;
  *token = slot;
  ++stats_.accepted;
  emit(order_response(ResponseType::kAccepted, o, now));
  take_liquidity(slot, now);
  if (o.open == 0) return order_close(slot);
  if (ioc) {
    Response r;
    r.type = ResponseType::kCanceled;
    r.timestamp = now;
    r.account = q.account;
    r.token = q.token;
    r.decrement_shares = o.open;
    r.reason = ouch_code::kImmediateOrCancel;
    ++stats_.canceled;
    emit(r);
    return order_close(slot);
  }
  book_insert(slot);
}

void MatchingEngine::replace(const ReplaceRequest& q, uint64_t now) noexcept {
  ++stats_.replaces;
  uint16_t account = 0;
  if (!find_account(q.account, account))
    return reject(q.account, q.replacement_token, ouch_code::kOther, stats_.rejected_unknown_token, now);
  const TokenKey key{account, q.replacement_token};
  if (tokens_.find(key) != nullptr)
    return reject(q.account, q.replacement_token, ouch_code::kOther, stats_.rejected_duplicate_token, now);
  uint32_t* token = tokens_.insert(key, kDead);
  if (token == nullptr) return reject(q.account, q.replacement_token, ouch_code::kOther, stats_.rejected_token_limit, now);
  uint32_t* existing = tokens_.find(TokenKey{account, q.existing_token});
  if (existing == nullptr || *existing == kDead)
    return reject(q.account, q.replacement_token, ouch_code::kOther, stats_.rejected_unknown_token, now);
  const uint32_t slot = *existing;
  ClientOrder& o = orders_[slot];
  if (q.shares == 0 || q.shares > config_.max_order_shares)
    return reject(q.account, q.replacement_token, ouch_code::kInvalidShares, stats_.rejected_shares, now);
  if (q.price == 0 || !on_tick(q.price))
    return reject(q.account, q.replacement_token, ouch_code::kInvalidPrice, stats_.rejected_price, now);
  if (!trading(o.locate)) return reject(q.account, q.replacement_token, ouch_code::kHalted, stats_.rejected_halted, now);

  // Same price and no more shares: the order keeps its place. Otherwise it goes to the back.
  const bool keeps_priority = q.price == o.price && q.shares <= o.open;
  *existing = kDead;
  *token = slot;
  const Token previous = o.token;
  o.token = q.replacement_token;
  o.ref = next_order_ref_++;
  o.executed = 0;
  o.open = q.shares;
  if (!keeps_priority) {
    book_remove(slot);
    o.price = q.price;
    o.priority = next_priority_++;
  }
  ++stats_.replaced;
  Response r = order_response(ResponseType::kReplaced, o, now);
  r.previous_token = previous;
  emit(r);
  if (keeps_priority) return;
  take_liquidity(slot, now);
  if (o.open == 0) return order_close(slot);
  book_insert(slot);
}

void MatchingEngine::cancel(const CancelRequest& q, uint64_t now) noexcept {
  ++stats_.cancels;
  uint16_t account = 0;
  const uint32_t* slot = nullptr;
  if (find_account(q.account, account)) slot = tokens_.find(TokenKey{account, q.token});
  if (slot == nullptr || *slot == kDead || q.shares >= orders_[*slot].open) {
    ++stats_.cancel_rejects;
    Response r;
    r.type = ResponseType::kCancelReject;
    r.timestamp = now;
    r.account = q.account;
    r.token = q.token;
    return emit(r);
  }
  const uint32_t s = *slot;
  ClientOrder& o = orders_[s];
  Response r;
  r.type = ResponseType::kCanceled;
  r.timestamp = now;
  r.account = q.account;
  r.token = q.token;
  r.decrement_shares = o.open - q.shares;
  r.reason = ouch_code::kUserCanceled;
  o.open = q.shares;  // a smaller order keeps its place
  ++stats_.canceled;
  emit(r);
  if (o.open == 0) order_close(s);
}

// ---------------------------------------------------------------------------------------------
// Responses

bool MatchingEngine::fault(uint64_t stream, uint64_t& counter, uint64_t threshold, bool always) noexcept {
  if (threshold == 0) return false;
  const uint64_t draw = mix64(config_.seed ^ mix64(stream ^ mix64(counter++)));
  return always || draw < threshold;
}

void MatchingEngine::emit(const Response& r) noexcept {
  ++stats_.responses;
  if (fault(kDropStream, drop_draws_, drop_threshold_, config_.drop_rate >= 1.0)) {
    ++stats_.responses_dropped;
    return;
  }
  uint64_t release = r.timestamp;
  if (fault(kDelayStream, delay_draws_, delay_threshold_, config_.delay_rate >= 1.0)) {
    ++stats_.responses_delayed;
    release += uint64_t{config_.delay_ms} * 1000000;
  }
  // Responses leave in the order produced, like a sequenced session: a held one holds the rest.
  release = std::max(release, last_release_ns_);
  if (queue_size_ == queue_.size()) {
    ++stats_.responses_overflow;
    return;
  }
  queue_[(queue_head_ + queue_size_) % queue_.size()] = Queued{r, release};
  ++queue_size_;
  last_release_ns_ = release;
}

size_t MatchingEngine::poll(uint64_t now_ns, Response* out, size_t max) noexcept {
  size_t n = 0;
  while (n < max && queue_size_ > 0 && queue_[queue_head_].release_ns <= now_ns) {
    out[n++] = queue_[queue_head_].response;
    queue_head_ = (queue_head_ + 1) % queue_.size();
    --queue_size_;
  }
  stats_.responses_released += n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Queries

std::vector<Account> MatchingEngine::accounts() const { return accounts_; }

std::vector<PositionView> MatchingEngine::positions(const Account& account) const {
  std::vector<PositionView> out;
  uint16_t index = 0;
  if (!find_account(account, index)) return out;
  positions_.for_each([&](uint64_t key, const Position& p) {
    if ((key >> 16) != index) return;
    const auto locate = static_cast<uint16_t>(key & 0xffff);
    out.push_back(PositionView{account, locate, feed_->symbol(locate), p.shares, p.cash, p.fees, p.bought, p.sold});
  });
  std::sort(out.begin(), out.end(), [](const PositionView& a, const PositionView& b) { return a.locate < b.locate; });
  return out;
}

std::vector<OpenOrderView> MatchingEngine::open_orders(const Account& account) const {
  std::vector<OpenOrderView> out;
  uint16_t index = 0;
  if (!find_account(account, index)) return out;
  for (const ClientOrder& o : orders_) {
    if (!o.used || o.account != index) continue;
    out.push_back(OpenOrderView{account, o.token, o.ref, o.locate, feed_->symbol(o.locate), o.side_code, o.price,
                                o.open, o.executed, o.time_in_force, o.display});
  }
  std::sort(out.begin(), out.end(), [](const OpenOrderView& a, const OpenOrderView& b) { return a.order_ref < b.order_ref; });
  return out;
}

std::string MatchingEngine::check_invariants() const {
  const book::OrderBooks& books = feed_->books();
  // Feed mirror: the same live orders as the books, level by level.
  if (feed_refs_.size() != books.live_orders())
    return "mirror holds " + std::to_string(feed_refs_.size()) + " feed orders, the books " +
           std::to_string(books.live_orders());
  std::string error;
  std::map<uint64_t, uint64_t> level_shares;
  levels_.for_each([&](uint64_t key, const LevelQueue& q) {
    if (!error.empty()) return;
    uint32_t prev = kNone;
    for (uint32_t n = q.head; n != kNone; prev = n, n = feed_orders_[n].next) {
      const FeedOrder& o = feed_orders_[n];
      uint16_t locate = 0;
      char side = ' ';
      if (o.prev != prev) error = "feed order " + std::to_string(o.ref) + ": broken level list";
      else if (level_key(o.locate, o.side, o.price) != key) error = "feed order " + std::to_string(o.ref) + ": wrong level";
      else if (!books.order_side(o.ref, locate, side) || locate != o.locate || (side == 'B') != (o.side == 0))
        error = "feed order " + std::to_string(o.ref) + " is not live in the books as mirrored";
      level_shares[key] += o.shares;
    }
    if (error.empty() && q.tail != prev) error = "level list tail is stale";
  });
  if (!error.empty()) return error;
  std::vector<book::LevelView> depth(books.capacity().max_levels);
  for (const auto& [key, shares] : level_shares) {
    const auto locate = static_cast<uint16_t>(key >> 33);
    const auto side = static_cast<uint8_t>((key >> 32) & 1);
    const auto price = static_cast<book::Price>(key & 0xffffffff);
    const size_t n = books.depth(locate, side == 0 ? book::Side::kBid : book::Side::kAsk, depth.data(), depth.size());
    const auto it = std::find_if(depth.begin(), depth.begin() + static_cast<std::ptrdiff_t>(n),
                                 [&](const book::LevelView& l) { return l.price == price; });
    if (it == depth.begin() + static_cast<std::ptrdiff_t>(n) || it->shares != shares)
      return "locate " + std::to_string(locate) + " level " + std::to_string(price) + ": mirror shares differ";
  }
  // Client books: sorted, linked both ways, counted, tokens pointing back.
  uint32_t resting = 0;
  for (size_t h = 0; h < book_heads_.size(); ++h) {
    const auto side = static_cast<uint8_t>(h & 1);
    uint32_t prev = kNone;
    for (uint32_t s = book_heads_[h]; s != kNone; prev = s, s = orders_[s].next) {
      const ClientOrder& o = orders_[s];
      ++resting;
      if (!o.used || !o.resting || o.open == 0 || o.prev != prev || size_t{o.locate} * 2 + o.side != h)
        return "client order " + std::to_string(o.ref) + ": bad book entry";
      if (prev != kNone && !ahead(side, orders_[prev].price, orders_[prev].priority, o.price, o.priority))
        return "client order " + std::to_string(o.ref) + ": out of priority order";
      const uint32_t* t = tokens_.find(TokenKey{o.account, o.token});
      if (t == nullptr || *t != s) return "client order " + std::to_string(o.ref) + ": token does not point to it";
    }
  }
  uint32_t used = 0;
  for (const ClientOrder& o : orders_) used += o.used ? 1 : 0;
  if (resting != open_orders_ || used != open_orders_) return "open order count differs from the books";
  // A resting order never crosses displayed shares it could still take, while its stock trades.
  if (stats_.sweep_level_limit != 0) return "";
  for (size_t h = 0; h < book_heads_.size(); ++h) {
    const uint32_t s = book_heads_[h];
    if (s == kNone || !trading(orders_[s].locate)) continue;
    const ClientOrder& o = orders_[s];
    const auto other = static_cast<uint8_t>(1 - o.side);
    const size_t n = books.depth(o.locate, other == 0 ? book::Side::kBid : book::Side::kAsk, depth.data(), depth.size());
    for (size_t i = 0; i < n && crosses(other, depth[i].price, o.price); ++i) {
      const LevelQueue* q = levels_.find(level_key(o.locate, other, depth[i].price));
      for (uint32_t f = q == nullptr ? kNone : q->head; f != kNone; f = feed_orders_[f].next)
        if (feed_orders_[f].shares > feed_orders_[f].consumed)
          return "client order " + std::to_string(o.ref) + " crosses feed order " + std::to_string(feed_orders_[f].ref);
    }
  }
  return "";
}

}  // namespace pmm::sim
