// A plain reference model of the order tracker for the property test: orders in a std::map keyed
// by an order id, tokens in a std::map<std::string, id>, fills in a std::deque searched linearly,
// positions in __int128 with the cash flow kept on the side, open views recomputed from scratch.
// It implements the state table of docs/order-manager.md directly, one branch per table row.
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <string>

#include "core/orders/order_tracker.hpp"

namespace pmm::orders::test {

__extension__ typedef __int128 Wide;

struct RefOrder {
  std::string token, pending, previous;
  bool has_pending = false, has_previous = false;
  uint32_t slot = 0;
  uint16_t symbol = 0;
  Side side = Side::kBuy;
  OrderState state = OrderState::kPendingNew;
  bool acked = false;
  uint32_t price = 0, pending_price = 0, shares = 0, open = 0, executed = 0, pending_shares = 0;
};

struct RefFill {
  std::string token;
  uint64_t match = 0;
  Wide fee = 0;
  uint32_t price = 0, shares = 0;
  uint16_t symbol = 0;
  Side side = Side::kBuy;
  bool broken = false;
};

struct RefPosition {
  Wide shares = 0, basis = 0, realized = 0, fees = 0, cash = 0;
  uint64_t bought = 0, sold = 0;
};

// What one call is expected to emit: nothing (a request error), or one event of this kind.
struct RefOutcome {
  bool emits = false;
  EventKind kind = EventKind::kAnomaly;
  Anomaly anomaly = Anomaly::kNone;
  RequestError error = RequestError::kNone;
};

class ReferenceTracker {
 public:
  ReferenceTracker(const OrderTrackerConfig& c, uint32_t epoch) : cfg_(c), epoch_(epoch) {
    for (uint32_t i = 0; i < c.max_open_orders; ++i) free_.push_back(i);
  }

  std::map<uint64_t, RefOrder> orders;      // occupants of slots (live or terminal, not yet reused)
  std::map<std::string, uint64_t> tokens;   // every token of every occupant
  std::deque<RefFill> fills;
  std::map<uint32_t, RefPosition> positions;
  OrderTrackerCounters counters;

  std::string next_token_text() const { return std::string(encode_token({epoch_, counter_, 0}).view()); }

  RefOutcome submit(uint32_t sym, Side side, Price px, uint32_t shares, std::string& token_out) {
    RequestError e = RequestError::kNone;
    if (sym >= cfg_.max_symbols) e = RequestError::kBadSymbol;
    else if (shares == 0 || shares > cfg_.max_order_shares) e = RequestError::kBadShares;
    else if (px == 0) e = RequestError::kBadPrice;
    else if (free_.empty()) e = RequestError::kTableFull;
    if (e != RequestError::kNone) return error(e);
    const uint32_t slot = free_.front();
    free_.pop_front();
    // The slot's previous occupant is forgotten now.
    for (auto it = orders.begin(); it != orders.end(); ++it) {
      if (it->second.slot != slot) continue;
      for (auto t = tokens.begin(); t != tokens.end();) t = t->second == it->first ? tokens.erase(t) : std::next(t);
      orders.erase(it);
      break;
    }
    RefOrder o;
    o.token = std::string(encode_token({epoch_, counter_++, slot}).view());
    o.slot = slot;
    o.symbol = static_cast<uint16_t>(sym);
    o.side = side;
    o.price = px;
    o.shares = o.open = shares;
    token_out = o.token;
    tokens[o.token] = next_id_;
    orders[next_id_++] = o;
    return emit(EventKind::kSubmitted);
  }

  RefOutcome replace(const std::string& tok, Price px, uint32_t shares, std::string& token_out) {
    RefOrder* o = current(tok);
    if (o == nullptr) return error(RequestError::kUnknownToken);
    if (o->state != OrderState::kAccepted && o->state != OrderState::kPartiallyFilled)
      return error(RequestError::kNotReplaceable);
    if (shares == 0 || shares > cfg_.max_order_shares) return error(RequestError::kBadShares);
    if (px == 0) return error(RequestError::kBadPrice);
    o->pending = std::string(encode_token({epoch_, counter_++, o->slot}).view());
    o->has_pending = true;
    o->pending_price = px;
    o->pending_shares = shares;
    o->state = OrderState::kPendingReplace;
    tokens[o->pending] = tokens[tok];
    token_out = o->pending;
    return emit(EventKind::kReplaceRequested);
  }

  RefOutcome cancel(const std::string& tok) {
    RefOrder* o = current(tok);
    if (o == nullptr) return error(RequestError::kUnknownToken);
    if (o->state != OrderState::kPendingNew && o->state != OrderState::kAccepted &&
        o->state != OrderState::kPartiallyFilled)
      return error(RequestError::kNotCancelable);
    o->state = OrderState::kPendingCancel;
    return emit(EventKind::kCancelRequested);
  }

  RefOutcome accepted(const std::string& tok, uint32_t shares, Price px) {
    auto [m, o] = classify(tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (m == 3) return anomaly(Anomaly::kStaleToken);
    if (m == 2) return anomaly(terminal(*o) ? Anomaly::kTerminalOrder : Anomaly::kUnexpected);
    if (terminal(*o)) return anomaly(Anomaly::kTerminalOrder);
    if (o->acked) return anomaly(Anomaly::kDuplicate);
    o->acked = true;
    o->shares = o->open = shares;
    o->price = px;
    if (o->state == OrderState::kPendingNew) o->state = OrderState::kAccepted;
    return emit(EventKind::kAccepted);
  }

  RefOutcome replaced(const std::string& new_tok, const std::string& prev_tok, uint32_t shares, Price px) {
    auto [m, o] = classify(new_tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (m == 3) return anomaly(Anomaly::kStaleToken);
    if (terminal(*o)) return anomaly(Anomaly::kTerminalOrder);
    if (m == 1) return anomaly(o->has_previous && o->previous == prev_tok ? Anomaly::kDuplicate : Anomaly::kUnexpected);
    if (o->token != prev_tok) return anomaly(Anomaly::kUnexpected);
    o->previous = o->token;
    o->has_previous = true;
    o->token = o->pending;
    o->has_pending = false;
    o->acked = true;
    o->price = px;
    o->shares = o->open = shares;
    o->executed = 0;
    o->state = OrderState::kAccepted;
    return emit(EventKind::kReplaced);
  }

  RefOutcome canceled(const std::string& tok, uint32_t dec) {
    auto [m, o] = classify(tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (m == 3) return anomaly(Anomaly::kStaleToken);
    if (terminal(*o)) return anomaly(Anomaly::kTerminalOrder);
    if (m == 2) return anomaly(Anomaly::kOutOfOrder);
    Anomaly a = Anomaly::kNone;
    if (!o->acked) {
      a = Anomaly::kOutOfOrder;
      count(a);
      o->acked = true;
    }
    if (dec > o->open) {
      a = Anomaly::kOverDecrement;
      count(a);
      dec = o->open;
    }
    o->open -= dec;
    if (o->open == 0) end(*o, OrderState::kCanceled);
    else if (o->state == OrderState::kPendingNew) o->state = resting(*o);
    return emit(EventKind::kCanceled, a, false);
  }

  RefOutcome executed(const std::string& tok, uint32_t shares, Price px, Liquidity liq, uint64_t match) {
    auto [m, o] = classify(tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (shares == 0) return anomaly(Anomaly::kUnexpected);
    if (find_fill(match, tok) != nullptr) return anomaly(Anomaly::kDuplicate);
    const Wide fee = Wide{shares} * (liq == Liquidity::kMaker ? cfg_.fees.maker_per_share : cfg_.fees.taker_per_share);
    RefPosition& p = positions[o->symbol];
    trade(p, o->side == Side::kBuy ? Wide{shares} : -Wide{shares}, px);
    (o->side == Side::kBuy ? p.bought : p.sold) += shares;
    p.fees += fee;
    if (fills.size() == cfg_.fill_history) fills.pop_front();
    fills.push_back(RefFill{tok, match, fee, px, shares, o->symbol, o->side, false});

    if (m == 3) return emit(EventKind::kFill, Anomaly::kStaleToken);
    if (m == 2) return emit(EventKind::kFill, terminal(*o) ? Anomaly::kTerminalOrder : Anomaly::kOutOfOrder);
    if (terminal(*o)) return emit(EventKind::kFill, Anomaly::kTerminalOrder);
    Anomaly a = Anomaly::kNone;
    if (!o->acked) {
      a = Anomaly::kOutOfOrder;
      count(a);
      o->acked = true;
    }
    uint32_t q = shares;
    if (q > o->open) {
      a = Anomaly::kOverfill;
      count(a);
      q = o->open;
    }
    o->open -= q;
    o->executed += q;
    if (o->open == 0) end(*o, OrderState::kFilled);
    else if (o->state == OrderState::kPendingNew || o->state == OrderState::kAccepted) o->state = OrderState::kPartiallyFilled;
    return emit(EventKind::kFill, a, false);
  }

  RefOutcome broken(const std::string& tok, uint64_t match) {
    RefFill* f = find_fill(match, tok);
    if (f == nullptr) return anomaly(Anomaly::kUnknownFill);
    if (f->broken) return anomaly(Anomaly::kDuplicate);
    f->broken = true;
    RefPosition& p = positions[f->symbol];
    trade(p, f->side == Side::kBuy ? -Wide{f->shares} : Wide{f->shares}, f->price);
    (f->side == Side::kBuy ? p.bought : p.sold) -= f->shares;
    p.fees -= f->fee;
    return emit(EventKind::kBreak);
  }

  RefOutcome rejected(const std::string& tok) {
    auto [m, o] = classify(tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (m == 3) return anomaly(Anomaly::kStaleToken);
    if (terminal(*o)) return anomaly(Anomaly::kTerminalOrder);
    if (m == 2) {
      tokens.erase(o->pending);
      o->has_pending = false;
      o->state = resting(*o);
      return emit(EventKind::kReplaceRejected);
    }
    if (!(o->state == OrderState::kPendingNew || (o->state == OrderState::kPendingCancel && !o->acked)))
      return anomaly(Anomaly::kUnexpected);
    o->open = 0;
    end(*o, OrderState::kRejected);
    return emit(EventKind::kRejected);
  }

  RefOutcome cancel_pending(const std::string& tok) { return pending_cancel_response(tok, false); }
  RefOutcome cancel_reject(const std::string& tok) { return pending_cancel_response(tok, true); }

  // Open views recomputed from the orders.
  OpenView view(uint32_t sym) const {
    OpenView v;
    for (const auto& [id, o] : orders) {
      if (o.symbol != sym || terminal(o)) continue;
      const uint32_t exposure = o.state == OrderState::kPendingReplace ? std::max(o.open, o.pending_shares) : o.open;
      (o.side == Side::kBuy ? v.buy_shares : v.sell_shares) += exposure;
      ++v.orders;
    }
    return v;
  }
  uint32_t live() const {
    uint32_t n = 0;
    for (const auto& [id, o] : orders) n += terminal(o) ? 0 : 1;
    return n;
  }
  RefOrder* current(const std::string& tok) {
    auto [m, o] = classify(tok);
    return m == 1 ? o : nullptr;
  }
  static bool terminal(const RefOrder& o) {
    return o.state == OrderState::kFilled || o.state == OrderState::kCanceled || o.state == OrderState::kRejected;
  }

 private:
  // 0 none, 1 current token, 2 pending replacement token, 3 previous token.
  std::pair<int, RefOrder*> classify(const std::string& tok) {
    auto it = tokens.find(tok);
    if (it == tokens.end()) return {0, nullptr};
    RefOrder& o = orders.at(it->second);
    if (o.token == tok) return {1, &o};
    if (o.has_pending && o.pending == tok) return {2, &o};
    if (o.has_previous && o.previous == tok) return {3, &o};
    return {0, nullptr};
  }
  RefFill* find_fill(uint64_t match, const std::string& tok) {
    for (RefFill& f : fills)
      if (f.match == match && f.token == tok) return &f;
    return nullptr;
  }
  static OrderState resting(const RefOrder& o) {
    if (!o.acked) return OrderState::kPendingNew;
    return o.executed > 0 ? OrderState::kPartiallyFilled : OrderState::kAccepted;
  }
  void end(RefOrder& o, OrderState s) {
    o.state = s;
    free_.push_back(o.slot);
  }
  static void trade(RefPosition& p, Wide q, Wide px) {
    p.cash -= q * px;
    if (p.shares != 0 && (p.shares > 0) != (q > 0)) {
      const Wide held = p.shares > 0 ? p.shares : -p.shares;
      const Wide traded = q > 0 ? q : -q;
      const Wide closed = std::min(held, traded);
      const Wide released = closed == held ? p.basis : p.basis * closed / held;
      const Wide sign = p.shares > 0 ? 1 : -1;
      p.realized += sign * closed * px - released;
      p.basis -= released;
      p.shares -= sign * closed;
      q += sign * closed;
    }
    p.basis += q * px;
    p.shares += q;
  }
  RefOutcome pending_cancel_response(const std::string& tok, bool reject) {
    auto [m, o] = classify(tok);
    if (m == 0) return anomaly(Anomaly::kUnknownToken);
    if (m == 3) return anomaly(Anomaly::kStaleToken);
    if (terminal(*o)) return anomaly(Anomaly::kTerminalOrder);
    if (m == 2 || o->state != OrderState::kPendingCancel) return anomaly(Anomaly::kUnexpected);
    if (!reject) return emit(EventKind::kCancelPending);
    o->state = resting(*o);
    return emit(EventKind::kCancelRejected);
  }
  void count(Anomaly a) { ++counters.anomalies[static_cast<uint8_t>(a)]; }
  RefOutcome error(RequestError e) {
    ++counters.request_errors[static_cast<uint8_t>(e)];
    RefOutcome r;
    r.error = e;
    return r;
  }
  RefOutcome anomaly(Anomaly a) { return emit(EventKind::kAnomaly, a); }
  RefOutcome emit(EventKind k, Anomaly a = Anomaly::kNone, bool count_anomaly = true) {
    ++counters.events[static_cast<uint8_t>(k)];
    if (count_anomaly && a != Anomaly::kNone) count(a);
    RefOutcome r;
    r.emits = true;
    r.kind = k;
    r.anomaly = a;
    return r;
  }

  OrderTrackerConfig cfg_;
  uint32_t epoch_;
  uint64_t counter_ = 0;
  uint64_t next_id_ = 0;
  std::deque<uint32_t> free_;
};

}  // namespace pmm::orders::test
