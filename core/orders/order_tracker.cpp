#include "core/orders/order_tracker.hpp"

#include <algorithm>
#include <cassert>

namespace pmm::orders {

namespace {

constexpr int64_t kMaxFeeRate = 1000000;

OrderToken spaces() noexcept { return make_token(""); }

}  // namespace

const char* to_string(OrderState s) noexcept {
  switch (s) {
    case OrderState::kFree: return "free";
    case OrderState::kPendingNew: return "pending-new";
    case OrderState::kAccepted: return "accepted";
    case OrderState::kPartiallyFilled: return "partially-filled";
    case OrderState::kPendingCancel: return "pending-cancel";
    case OrderState::kPendingReplace: return "pending-replace";
    case OrderState::kFilled: return "filled";
    case OrderState::kCanceled: return "canceled";
    case OrderState::kRejected: return "rejected";
  }
  return "?";
}

const char* to_string(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::kNone: return "none";
    case Anomaly::kUnknownToken: return "unknown_token";
    case Anomaly::kStaleToken: return "stale_token";
    case Anomaly::kTerminalOrder: return "terminal_order";
    case Anomaly::kDuplicate: return "duplicate";
    case Anomaly::kUnexpected: return "unexpected";
    case Anomaly::kOutOfOrder: return "out_of_order";
    case Anomaly::kOverfill: return "overfill";
    case Anomaly::kOverDecrement: return "over_decrement";
    case Anomaly::kUnknownFill: return "unknown_fill";
  }
  return "?";
}

const char* to_string(RequestError e) noexcept {
  switch (e) {
    case RequestError::kNone: return "none";
    case RequestError::kTableFull: return "table_full";
    case RequestError::kTokensExhausted: return "tokens_exhausted";
    case RequestError::kBadSymbol: return "bad_symbol";
    case RequestError::kBadShares: return "bad_shares";
    case RequestError::kBadPrice: return "bad_price";
    case RequestError::kUnknownToken: return "unknown_token";
    case RequestError::kNotCancelable: return "not_cancelable";
    case RequestError::kNotReplaceable: return "not_replaceable";
  }
  return "?";
}

const char* to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::kSubmitted: return "submitted";
    case EventKind::kCancelRequested: return "cancel_requested";
    case EventKind::kReplaceRequested: return "replace_requested";
    case EventKind::kAccepted: return "accepted";
    case EventKind::kReplaced: return "replaced";
    case EventKind::kReplaceRejected: return "replace_rejected";
    case EventKind::kCanceled: return "canceled";
    case EventKind::kRejected: return "rejected";
    case EventKind::kCancelPending: return "cancel_pending";
    case EventKind::kCancelRejected: return "cancel_rejected";
    case EventKind::kFill: return "fill";
    case EventKind::kBreak: return "break";
    case EventKind::kAnomaly: return "anomaly";
  }
  return "?";
}

std::string validate(const OrderTrackerConfig& c) {
  if (c.max_open_orders < 1 || c.max_open_orders > kSlotLimit)
    return "orders.max_open_orders: expected an integer in 1.." + std::to_string(kSlotLimit) + ", got " +
           std::to_string(c.max_open_orders);
  if (c.max_symbols < 1 || c.max_symbols > 65536)
    return "orders.max_symbols: expected an integer in 1..65536, got " + std::to_string(c.max_symbols);
  if (c.fill_history < 1 || c.fill_history > (1u << 30))
    return "orders.fill_history: expected an integer in 1..2^30, got " + std::to_string(c.fill_history);
  if (c.max_order_shares < 1 || c.max_order_shares > (1u << 31))
    return "orders.max_order_shares: expected an integer in 1..2^31, got " + std::to_string(c.max_order_shares);
  if (c.fees.maker_per_share < -kMaxFeeRate || c.fees.maker_per_share > kMaxFeeRate)
    return "orders.fees.maker_per_share: expected 1/10000 dollars per share in -1000000..1000000, got " +
           std::to_string(c.fees.maker_per_share);
  if (c.fees.taker_per_share < -kMaxFeeRate || c.fees.taker_per_share > kMaxFeeRate)
    return "orders.fees.taker_per_share: expected 1/10000 dollars per share in -1000000..1000000, got " +
           std::to_string(c.fees.taker_per_share);
  return "";
}

OrderTracker::OrderTracker(const OrderTrackerConfig& config, uint32_t epoch, OrderEventSink& sink)
    : config_(config),
      sink_(sink),
      tokens_(epoch),
      slots_(config.max_open_orders),
      free_(config.max_open_orders),
      views_(config.max_symbols),
      positions_(config.max_symbols, config.fees),
      fills_(config.fill_history) {
  assert(validate(config).empty());
  clear_tables();
}

void OrderTracker::clear_tables() noexcept {
  std::fill(slots_.begin(), slots_.end(), OrderRecord{});
  for (uint32_t i = 0; i < free_.size(); ++i) free_[i] = i;
  free_head_ = 0;
  free_count_ = static_cast<uint32_t>(free_.size());
  std::fill(views_.begin(), views_.end(), OpenView{});
  live_orders_ = 0;
}

// ---- lookup, views, events ----

OrderTracker::Match OrderTracker::resolve(const OrderToken& token, uint32_t& slot) const noexcept {
  // The slot field is enough to find the order: current and pending tokens are ours (issued here, or
  // checked by submit_as, request_replace_as and restore), so comparing the whole token rejects any
  // other. A restored previous token is not checked there: it is here, on that rare path.
  uint32_t at = 0;
  if (!decode_token_slot(token, at) || at >= slots_.size()) return Match::kNone;
  const OrderRecord& o = slots_[at];
  if (o.state == OrderState::kFree) return Match::kNone;
  slot = at;
  if (o.token == token) return Match::kCurrent;
  if (o.has_pending && o.pending_token == token) return Match::kPending;
  if (TokenParts parts; o.has_previous && o.previous_token == token && decode_token(token, parts))
    return Match::kPrevious;
  return Match::kNone;  // the slot holds another order now
}

const OrderRecord* OrderTracker::find(const OrderToken& token) const noexcept {
  uint32_t s = 0;
  return resolve(token, s) == Match::kCurrent ? &slots_[s] : nullptr;
}

void OrderTracker::unview(const OrderRecord& o) noexcept {
  if (!is_live(o.state)) return;
  OpenView& v = views_[o.symbol];
  const uint32_t exposure = o.state == OrderState::kPendingReplace ? std::max(o.open, o.pending_shares) : o.open;
  uint64_t& side = o.side == Side::kBuy ? v.buy_shares : v.sell_shares;
  assert(side >= exposure && v.orders > 0 && live_orders_ > 0);
  side -= exposure;
  --v.orders;
  --live_orders_;
}

void OrderTracker::view(const OrderRecord& o) noexcept {
  if (!is_live(o.state)) return;
  OpenView& v = views_[o.symbol];
  const uint32_t exposure = o.state == OrderState::kPendingReplace ? std::max(o.open, o.pending_shares) : o.open;
  (o.side == Side::kBuy ? v.buy_shares : v.sell_shares) += exposure;
  ++v.orders;
  ++live_orders_;
}

OrderState OrderTracker::resting_state(const OrderRecord& o) noexcept {
  if (!o.acked) return OrderState::kPendingNew;
  return o.executed > 0 ? OrderState::kPartiallyFilled : OrderState::kAccepted;
}

// Precondition: o already unviewed. Makes it terminal and queues its slot for reuse (last).
void OrderTracker::finish(uint32_t slot, OrderRecord& o, OrderState terminal) noexcept {
  assert(is_terminal(terminal) && !is_terminal(o.state));
  o.state = terminal;
  assert(free_count_ < free_.size());
  uint32_t tail = free_head_ + free_count_;
  if (tail >= free_.size()) tail -= static_cast<uint32_t>(free_.size());
  free_[tail] = slot;
  ++free_count_;
}

OrderEvent OrderTracker::event(EventKind kind, const OrderRecord& o) noexcept {
  OrderEvent e;
  e.kind = kind;
  e.token = o.token;
  e.other_token = spaces();
  e.price = o.price;
  e.shares = o.shares;
  e.open_shares = o.open;
  e.symbol = o.symbol;
  e.state = o.state;
  e.side = o.side;
  return e;
}

void OrderTracker::emit(OrderEvent& e, Anomaly a) noexcept {
  if (a != Anomaly::kNone) ++counters_.anomalies[static_cast<uint8_t>(a)];
  emit_counted(e, a);
}

void OrderTracker::emit_counted(OrderEvent& e, Anomaly a) noexcept {
  e.sequence = ++sequence_;
  e.anomaly = a;
  ++counters_.events[static_cast<uint8_t>(e.kind)];
  sink_.on_event(e);
}

void OrderTracker::reject_response(Anomaly a, const OrderToken& token, const OrderRecord* o, uint64_t match) noexcept {
  OrderEvent e;
  if (o != nullptr) e = event(EventKind::kAnomaly, *o);
  e.kind = EventKind::kAnomaly;
  e.token = token;
  e.other_token = spaces();
  e.match_number = match;
  emit(e, a);
}

OrderRecord* OrderTracker::order_for_response(const OrderToken& token, uint32_t& slot, Match& m) noexcept {
  m = resolve(token, slot);
  OrderRecord* o = m == Match::kNone ? nullptr : &slots_[slot];
  Anomaly a = Anomaly::kNone;
  if (m == Match::kNone) a = Anomaly::kUnknownToken;
  else if (m == Match::kPrevious) a = Anomaly::kStaleToken;
  else if (is_terminal(o->state)) a = Anomaly::kTerminalOrder;
  if (a == Anomaly::kNone) return o;
  reject_response(a, token, o);
  return nullptr;
}

RequestError OrderTracker::request_error(RequestError e) noexcept {
  ++counters_.request_errors[static_cast<uint8_t>(e)];
  return e;
}

// ---- requests ----

SubmitResult OrderTracker::submit(uint32_t symbol, Side side, Price price, uint32_t shares) noexcept {
  SubmitResult r;
  r.error = check_submit(symbol, price, shares);
  if (r.error != RequestError::kNone) return r;
  if (!tokens_.next(free_[free_head_], r.token)) {
    r.error = request_error(RequestError::kTokensExhausted);
    return r;
  }
  enter_at_head(r.token, symbol, side, price, shares);
  return r;
}

SubmitResult OrderTracker::submit_as(const OrderToken& token, uint32_t symbol, Side side, Price price,
                                     uint32_t shares) noexcept {
  SubmitResult r;
  r.error = check_submit(symbol, price, shares);
  if (r.error != RequestError::kNone) return r;
  TokenParts parts;
  if (!decode_token(token, parts) || parts.slot >= slots_.size()) {
    r.error = request_error(RequestError::kUnknownToken);
    return r;
  }
  // The live tracker took the head of its free ring; this one usually has the same head. If not (after a
  // restore the ring is rebuilt in index order), move the slot to the head: replay only, O(free slots).
  const uint32_t n = static_cast<uint32_t>(free_.size());
  uint32_t at = n;
  for (uint32_t i = 0, p = free_head_; i < free_count_; ++i, p = p + 1 == n ? 0 : p + 1) {
    if (free_[p] == parts.slot) {
      at = p;
      break;
    }
  }
  if (at == n) {
    r.error = request_error(RequestError::kUnknownToken);
    return r;
  }
  std::swap(free_[at], free_[free_head_]);
  r.token = token;
  enter_at_head(token, symbol, side, price, shares);
  return r;
}

RequestError OrderTracker::check_submit(uint32_t symbol, Price price, uint32_t shares) noexcept {
  RequestError e = RequestError::kNone;
  if (symbol >= config_.max_symbols) e = RequestError::kBadSymbol;
  else if (shares == 0 || shares > config_.max_order_shares) e = RequestError::kBadShares;
  else if (price == 0) e = RequestError::kBadPrice;
  else if (free_count_ == 0) e = RequestError::kTableFull;
  if (e != RequestError::kNone) request_error(e);
  return e;
}

void OrderTracker::enter_at_head(const OrderToken& token, uint32_t symbol, Side side, Price price,
                                 uint32_t shares) noexcept {
  const uint32_t slot = free_[free_head_];
  free_head_ = free_head_ + 1 == free_.size() ? 0 : free_head_ + 1;
  --free_count_;
  OrderRecord& o = slots_[slot];
  o = OrderRecord{};
  o.token = token;
  o.pending_token = spaces();
  o.previous_token = spaces();
  o.price = price;
  o.shares = shares;
  o.open = shares;
  o.symbol = static_cast<uint16_t>(symbol);
  o.side = side;
  o.state = OrderState::kPendingNew;
  view(o);
  OrderEvent e = event(EventKind::kSubmitted, o);
  emit(e);
}

SubmitResult OrderTracker::request_replace(const OrderToken& token, Price price, uint32_t shares) noexcept {
  return replace_with(token, nullptr, price, shares);
}

SubmitResult OrderTracker::request_replace_as(const OrderToken& token, const OrderToken& new_token, Price price,
                                              uint32_t shares) noexcept {
  return replace_with(token, &new_token, price, shares);
}

SubmitResult OrderTracker::replace_with(const OrderToken& token, const OrderToken* given, Price price,
                                        uint32_t shares) noexcept {
  SubmitResult r;
  uint32_t slot = 0;
  if (resolve(token, slot) != Match::kCurrent) {
    r.error = request_error(RequestError::kUnknownToken);
    return r;
  }
  OrderRecord& o = slots_[slot];
  if (o.state != OrderState::kAccepted && o.state != OrderState::kPartiallyFilled) {
    r.error = request_error(RequestError::kNotReplaceable);
    return r;
  }
  if (shares == 0 || shares > config_.max_order_shares) {
    r.error = request_error(RequestError::kBadShares);
    return r;
  }
  if (price == 0) {
    r.error = request_error(RequestError::kBadPrice);
    return r;
  }
  if (given != nullptr) {
    TokenParts parts;
    if (!decode_token(*given, parts) || parts.slot != slot) {
      r.error = request_error(RequestError::kUnknownToken);
      return r;
    }
    r.token = *given;
  } else if (!tokens_.next(slot, r.token)) {
    r.error = request_error(RequestError::kTokensExhausted);
    return r;
  }
  unview(o);
  o.state = OrderState::kPendingReplace;
  o.pending_token = r.token;
  o.pending_price = price;
  o.pending_shares = shares;
  o.has_pending = true;
  view(o);
  OrderEvent e = event(EventKind::kReplaceRequested, o);
  e.other_token = r.token;
  e.price = price;
  e.shares = shares;
  emit(e);
  return r;
}

RequestError OrderTracker::request_cancel(const OrderToken& token) noexcept {
  uint32_t slot = 0;
  if (resolve(token, slot) != Match::kCurrent) return request_error(RequestError::kUnknownToken);
  OrderRecord& o = slots_[slot];
  if (o.state != OrderState::kPendingNew && o.state != OrderState::kAccepted &&
      o.state != OrderState::kPartiallyFilled)
    return request_error(RequestError::kNotCancelable);
  unview(o);
  o.state = OrderState::kPendingCancel;
  view(o);
  OrderEvent e = event(EventKind::kCancelRequested, o);
  emit(e);
  return RequestError::kNone;
}

CancelAllResult OrderTracker::cancel_all(OrderToken* out, size_t capacity) noexcept {
  CancelAllResult r;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const OrderRecord& o = slots_[i];
    if (!is_live(o.state)) continue;
    const bool cancelable = o.state == OrderState::kPendingNew || o.state == OrderState::kAccepted ||
                            o.state == OrderState::kPartiallyFilled;
    if (!cancelable || r.requested == capacity) {
      ++r.waiting;
      continue;
    }
    const OrderToken t = o.token;
    const RequestError err = request_cancel(t);
    assert(err == RequestError::kNone);
    (void)err;
    out[r.requested++] = t;
  }
  return r;
}

// ---- responses ----

void OrderTracker::on_accepted(const AcceptedResponse& r) noexcept {
  uint32_t slot = 0;
  Match m = Match::kNone;
  OrderRecord* o = order_for_response(r.token, slot, m);
  if (o == nullptr) return;
  if (m == Match::kPending) return reject_response(Anomaly::kUnexpected, r.token, o);
  if (o->acked) return reject_response(Anomaly::kDuplicate, r.token, o);
  // Pending new, or pending cancel sent before the Accepted: the exchange's values are the truth.
  unview(*o);
  o->acked = true;
  o->shares = r.shares;
  o->open = r.shares;
  o->price = r.price;
  if (o->state == OrderState::kPendingNew) o->state = OrderState::kAccepted;
  view(*o);
  OrderEvent e = event(EventKind::kAccepted, *o);
  emit(e);
}

void OrderTracker::on_replaced(const ReplacedResponse& r) noexcept {
  uint32_t slot = 0;
  Match m = Match::kNone;
  OrderRecord* o = order_for_response(r.new_token, slot, m);
  if (o == nullptr) return;
  if (m == Match::kCurrent) {
    // Already applied (the order carries the new token) unless it never was a replacement.
    const bool again = o->has_previous && o->previous_token == r.previous_token;
    return reject_response(again ? Anomaly::kDuplicate : Anomaly::kUnexpected, r.new_token, o);
  }
  // m == kPending: the order is pending replace with this replacement token.
  assert(o->state == OrderState::kPendingReplace);
  if (!(o->token == r.previous_token)) return reject_response(Anomaly::kUnexpected, r.new_token, o);
  unview(*o);
  o->previous_token = o->token;
  o->has_previous = true;
  o->token = o->pending_token;
  o->has_pending = false;
  o->pending_token = spaces();
  o->acked = true;
  o->price = r.price;
  o->shares = r.shares;
  o->open = r.shares;
  o->executed = 0;
  o->state = OrderState::kAccepted;
  view(*o);
  OrderEvent e = event(EventKind::kReplaced, *o);
  e.other_token = o->previous_token;
  emit(e);
}

void OrderTracker::on_canceled(const CanceledResponse& r) noexcept {
  uint32_t slot = 0;
  Match m = Match::kNone;
  OrderRecord* o = order_for_response(r.token, slot, m);
  if (o == nullptr) return;
  if (m == Match::kPending) return reject_response(Anomaly::kOutOfOrder, r.token, o);
  Anomaly a = Anomaly::kNone;
  unview(*o);
  if (!o->acked) {  // Canceled before Accepted: the order evidently reached the book
    a = Anomaly::kOutOfOrder;
    ++counters_.anomalies[static_cast<uint8_t>(a)];
    o->acked = true;
  }
  uint32_t dec = r.decrement;
  if (dec > o->open) {
    a = Anomaly::kOverDecrement;
    ++counters_.anomalies[static_cast<uint8_t>(a)];
    dec = o->open;
  }
  o->open -= dec;
  if (o->open == 0) {
    finish(slot, *o, OrderState::kCanceled);
  } else if (o->state == OrderState::kPendingNew) {
    o->state = resting_state(*o);
  }
  view(*o);
  OrderEvent e = event(EventKind::kCanceled, *o);
  e.shares = r.decrement;
  e.reason = r.reason;
  emit_counted(e, a);  // the anomalies are counted above (there can be two); the event names the last one
}

void OrderTracker::on_executed(const ExecutedResponse& r) noexcept {
  uint32_t slot = 0;
  const Match m = resolve(r.token, slot);
  OrderRecord* o = m == Match::kNone ? nullptr : &slots_[slot];
  if (m == Match::kNone) return reject_response(Anomaly::kUnknownToken, r.token, o, r.match_number);
  if (r.shares == 0) return reject_response(Anomaly::kUnexpected, r.token, o, r.match_number);
  if (fills_.find(r.match_number, r.token) != nullptr)
    return reject_response(Anomaly::kDuplicate, r.token, o, r.match_number);

  // The fill is real whatever our state says: it goes into the position and the history.
  const Money fee = positions_.fee_for(r.shares, r.liquidity);
  positions_.apply_fill(o->symbol, o->side, r.price, r.shares, fee);
  FillRecord f;
  f.token = r.token;
  f.match_number = r.match_number;
  f.fee = static_cast<int64_t>(fee);
  f.price = r.price;
  f.shares = r.shares;
  f.symbol = o->symbol;
  f.side = o->side;
  fills_.add(f);

  Anomaly a = Anomaly::kNone;
  bool applied = false;  // to the order: its anomalies are counted where found
  if (m == Match::kPrevious) {
    a = Anomaly::kStaleToken;
  } else if (m == Match::kPending) {
    a = is_terminal(o->state) ? Anomaly::kTerminalOrder : Anomaly::kOutOfOrder;
  } else if (is_terminal(o->state)) {
    a = Anomaly::kTerminalOrder;
  } else {
    applied = true;
    unview(*o);
    if (!o->acked) {
      a = Anomaly::kOutOfOrder;
      ++counters_.anomalies[static_cast<uint8_t>(a)];
      o->acked = true;
    }
    uint32_t q = r.shares;
    if (q > o->open) {
      a = Anomaly::kOverfill;
      ++counters_.anomalies[static_cast<uint8_t>(a)];
      q = o->open;
    }
    o->open -= q;
    o->executed += q;
    if (o->open == 0) {
      finish(slot, *o, OrderState::kFilled);
    } else if (o->state == OrderState::kPendingNew || o->state == OrderState::kAccepted) {
      o->state = OrderState::kPartiallyFilled;
    }
    view(*o);
  }
  OrderEvent e = event(EventKind::kFill, *o);
  e.token = r.token;
  e.price = r.price;
  e.shares = r.shares;
  e.match_number = r.match_number;
  e.reason = r.liquidity == Liquidity::kMaker ? 'M' : 'T';
  if (applied) return emit_counted(e, a);
  emit(e, a);
}

void OrderTracker::on_broken_trade(const BrokenTradeResponse& r) noexcept {
  uint32_t slot = 0;
  const Match m = resolve(r.token, slot);
  const OrderRecord* o = m == Match::kNone ? nullptr : &slots_[slot];
  FillRecord* f = fills_.find(r.match_number, r.token);
  if (f == nullptr) return reject_response(Anomaly::kUnknownFill, r.token, o, r.match_number);
  if (f->broken) return reject_response(Anomaly::kDuplicate, r.token, o, r.match_number);
  f->broken = true;
  positions_.reverse_fill(f->symbol, f->side, f->price, f->shares, f->fee);
  // The order's open shares stay as they are: the exchange does not put broken shares back.
  OrderEvent e;
  if (o != nullptr) e = event(EventKind::kBreak, *o);
  e.kind = EventKind::kBreak;
  e.token = r.token;
  e.other_token = spaces();
  e.price = f->price;
  e.shares = f->shares;
  e.symbol = f->symbol;
  e.side = f->side;
  e.match_number = r.match_number;
  e.reason = r.reason;
  emit(e);
}

void OrderTracker::on_rejected(const RejectedResponse& r) noexcept {
  uint32_t slot = 0;
  Match m = Match::kNone;
  OrderRecord* o = order_for_response(r.token, slot, m);
  if (o == nullptr) return;
  if (m == Match::kPending) {  // the replacement was refused: the old order stays as it is
    unview(*o);
    o->has_pending = false;
    o->pending_token = spaces();
    o->state = resting_state(*o);
    view(*o);
    OrderEvent e = event(EventKind::kReplaceRejected, *o);
    e.other_token = r.token;
    e.reason = r.reason;
    return emit(e);
  }
  const bool rejectable = o->state == OrderState::kPendingNew || (o->state == OrderState::kPendingCancel && !o->acked);
  if (!rejectable) return reject_response(Anomaly::kUnexpected, r.token, o);
  unview(*o);
  o->open = 0;
  finish(slot, *o, OrderState::kRejected);
  OrderEvent e = event(EventKind::kRejected, *o);
  e.reason = r.reason;
  emit(e);
}

OrderRecord* OrderTracker::order_canceling(const OrderToken& token) noexcept {
  uint32_t slot = 0;
  Match m = Match::kNone;
  OrderRecord* o = order_for_response(token, slot, m);
  if (o == nullptr) return nullptr;
  if (m == Match::kPending || o->state != OrderState::kPendingCancel) {
    reject_response(Anomaly::kUnexpected, token, o);
    return nullptr;
  }
  return o;
}

void OrderTracker::on_cancel_pending(const TokenResponse& r) noexcept {
  OrderRecord* o = order_canceling(r.token);
  if (o == nullptr) return;
  OrderEvent e = event(EventKind::kCancelPending, *o);  // no change: the cancel happens later
  emit(e);
}

void OrderTracker::on_cancel_reject(const TokenResponse& r) noexcept {
  OrderRecord* o = order_canceling(r.token);
  if (o == nullptr) return;
  unview(*o);
  o->state = resting_state(*o);
  view(*o);
  OrderEvent e = event(EventKind::kCancelRejected, *o);
  emit(e);
}

}  // namespace pmm::orders
