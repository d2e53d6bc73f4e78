#include "risk/trading_stage.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "core/byte_order.hpp"
#include "core/fnv1a.hpp"

namespace pmm::risk {

namespace jr = journal_records;

namespace {

constexpr size_t kAsOfSize = 8;  // client -> gateway blocks: [as-of exchange time][OUCH message]

Side to_risk(orders::Side s) noexcept { return s == orders::Side::kBuy ? Side::kBuy : Side::kSell; }
size_t side_index(orders::Side s) noexcept { return s == orders::Side::kBuy ? 0 : 1; }

orders::OrderToken to_order_token(const ouch::Token& t) noexcept {
  orders::OrderToken o;
  std::memcpy(o.chars.data(), t.data(), o.chars.size());
  return o;
}
ouch::Token to_ouch_token(const orders::OrderToken& t) noexcept {
  ouch::Token o;
  std::memcpy(o.data(), t.chars.data(), o.size());
  return o;
}

// OUCH 4.2 Liquidity Flag: the flags that add liquidity are maker fills (docs/order-manager.md); any
// other flag, unknown ones included, pays the taker fee (the conservative side).
orders::Liquidity liquidity_of(char flag) noexcept {
  switch (flag) {
    case 'A': case 'J': case 'k': case '7': case '8': case 'e': case 'f': case 'j':
      return orders::Liquidity::kMaker;
    default:
      return orders::Liquidity::kTaker;
  }
}

int64_t clamp_money(orders::Money m) noexcept {
  if (m > INT64_MAX) return INT64_MAX;
  if (m < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(m);
}

}  // namespace

// Turns decoded OUCH outbound messages into OrderTracker responses; remembers which symbol moved.
// Each response is journaled (with the gateway's sequence it arrived with) just before it is applied.
class TradingStage::ResponseHandler : public ouch::IgnoreOutbound {
 public:
  ResponseHandler(TradingStage& stage, uint64_t sequence) : s_(stage), t_(stage.tracker_), sequence_(sequence) {}
  using ouch::IgnoreOutbound::on;

  void on(const ouch::Accepted& m) noexcept {
    note(m.token);
    const orders::AcceptedResponse r{to_order_token(m.token), m.shares, m.price};
    journal(jr::kAccepted, r.token, [&](jr::TradingRecord& x) { x.shares = r.shares; x.price = r.price; });
    t_.on_accepted(r);
  }
  void on(const ouch::Replaced& m) noexcept {
    note(m.previous_token);
    note(m.replacement_token);
    const orders::ReplacedResponse r{to_order_token(m.replacement_token), to_order_token(m.previous_token), m.shares,
                                     m.price};
    journal(jr::kReplaced, r.new_token, [&](jr::TradingRecord& x) {
      x.other_token = r.previous_token;
      x.shares = r.shares;
      x.price = r.price;
    });
    t_.on_replaced(r);
  }
  void on(const ouch::Canceled& m) noexcept { canceled(m.token, m.decrement_shares, m.reason); }
  void on(const ouch::AiqCanceled& m) noexcept { canceled(m.token, m.decrement_shares, m.reason); }
  void on(const ouch::Executed& m) noexcept {
    executed(m.token, m.executed_shares, m.execution_price, m.liquidity_flag, m.match);
  }
  void on(const ouch::ExecutedWithReferencePrice& m) noexcept {
    executed(m.token, m.executed_shares, m.execution_price, m.liquidity_flag, m.match);
  }
  void on(const ouch::BrokenTrade& m) noexcept {
    note(m.token);
    const orders::BrokenTradeResponse r{to_order_token(m.token), m.match, m.reason};
    journal(jr::kBrokenTrade, r.token, [&](jr::TradingRecord& x) { x.match = r.match_number; x.reason = r.reason; });
    t_.on_broken_trade(r);
  }
  void on(const ouch::Rejected& m) noexcept {
    note(m.token);
    const orders::RejectedResponse r{to_order_token(m.token), m.reason};
    journal(jr::kRejected, r.token, [&](jr::TradingRecord& x) { x.reason = r.reason; });
    t_.on_rejected(r);
  }
  void on(const ouch::CancelPending& m) noexcept {
    note(m.token);
    const orders::TokenResponse r{to_order_token(m.token)};
    journal(jr::kCancelPending, r.token, [](jr::TradingRecord&) {});
    t_.on_cancel_pending(r);
  }
  void on(const ouch::CancelReject& m) noexcept {
    note(m.token);
    const orders::TokenResponse r{to_order_token(m.token)};
    journal(jr::kCancelReject, r.token, [](jr::TradingRecord&) {});
    t_.on_cancel_reject(r);
  }

  int symbol = -1;  // of the order the message was about (before or after applying it)
  bool fill = false;

 private:
  void note(const ouch::Token& t) noexcept {
    if (symbol >= 0) return;
    if (const orders::OrderRecord* r = t_.find(to_order_token(t))) symbol = r->symbol;
  }
  template <typename Fill>
  void journal(jr::Type type, const orders::OrderToken& token, const Fill& fill_fields) noexcept {
    if (s_.journal_ == nullptr) return;
    jr::TradingRecord x;
    x.type = type;
    x.token = token;
    x.sequence = sequence_;
    fill_fields(x);
    s_.journal(x);
  }
  void canceled(const ouch::Token& token, uint32_t decrement, char reason) noexcept {
    note(token);
    const orders::CanceledResponse r{to_order_token(token), decrement, reason};
    journal(jr::kCanceled, r.token, [&](jr::TradingRecord& x) { x.shares = r.decrement; x.reason = r.reason; });
    t_.on_canceled(r);
  }
  void executed(const ouch::Token& token, uint32_t shares, uint32_t price, char flag, uint64_t match) noexcept {
    note(token);
    fill = true;
    const orders::ExecutedResponse r{to_order_token(token), shares, price, liquidity_of(flag), match};
    journal(jr::kExecuted, r.token, [&](jr::TradingRecord& x) {
      x.shares = r.shares;
      x.price = r.price;
      x.liquidity = r.liquidity;
      x.match = r.match_number;
    });
    t_.on_executed(r);
  }
  TradingStage& s_;
  orders::OrderTracker& t_;
  uint64_t sequence_;
};

TradingStage::TradingStage(const TradingConfig& config, const pipe::QuoteWiring& wiring,
                           orders::OrderEventSink& events)
    : cfg_(config),
      wiring_(wiring),
      tracker_(config.orders, config.epoch, events),
      risk_(config.risk),
      strategy_(config.strategy),
      sender_(mold::make_session(config.session.c_str()), config.history_messages),
      receiver_(config.retry_ns, 1000),
      login_(config.login_retry_ns, config.login_max_echo),
      login_phase_(config.login ? LoginPhase::kLoggingIn : LoginPhase::kReady),
      echoes_(config.login ? config.login_max_echo : 0),
      firm_(ouch::make_firm(config.firm.c_str())),
      working_(config.symbols.size()),
      bbo_(config.symbols.size()),
      marks_(config.symbols.size(), 0),
      held_(config.response_latency_ns != 0 ? config.held_responses : 0),
      tops_(config.burst),
      responses_(config.burst),
      cancel_tokens_(config.orders.max_open_orders) {
  const size_t n = config.symbols.size();
  if (n == 0) throw std::invalid_argument("trading: no symbols to quote (symbols is empty)");
  if (strategy_.symbol_count() != n || config.risk.symbols.size() != n || config.orders.max_symbols != n)
    throw std::invalid_argument("trading: strategy, risk and orders must be configured for the same symbols");
  for (size_t i = 0; i < n; ++i) {
    if (strategy_.symbol(static_cast<uint32_t>(i)) != config.symbols[i] || config.risk.symbols[i] != config.symbols[i])
      throw std::invalid_argument("trading: symbol " + std::to_string(i) + " differs between strategy and risk");
    stocks_.push_back(ouch::make_stock(config.symbols[i].c_str()));
  }
  if (config.firm.empty() || config.firm.size() > 4) throw std::invalid_argument("orders.firm: expected 1 to 4 characters");
  if (config.session.empty() || config.session.size() > 10)
    throw std::invalid_argument("orders.session: expected 1 to 10 characters");
  if (config.burst == 0) throw std::invalid_argument("trading: burst must be >= 1");
  figures_.login_state.set(static_cast<uint64_t>(login_phase_));
}

uint32_t TradingStage::run_once() noexcept {
  const uint64_t now_tsc = pipe::read_tsc();
  const uint64_t now_ns = wiring_.clock.to_ns(now_tsc);
  now_ns_ = now_ns;
  if (login_phase_ != LoginPhase::kReady) login_step(now_ns);
  // Risk controls, each journaled as applied or refused (docs/journal-records.md, type 27). Without room
  // for a full batch of records they wait on the control ring; a failed journal does not hold them up
  // (the kill switch must work).
  if (risk_.controls_pending() &&
      (journal_ == nullptr || journal_->failed() || journal_->has_room(static_cast<uint32_t>(control_events_.size())))) {
    if (const uint32_t n = risk_.apply_pending_controls(exchange_ns_, control_events_); n != 0) {
      dirty_ = true;
      journal_controls(n);
    }
  }
  if (cancel_orphans_ && login_phase_ == LoginPhase::kReady) cancel_orphans();

  // Responses first: a fill changes what the next quote should be.
  uint32_t done = 0;
  const uint32_t nr = wiring_.responses.pop_burst(responses_.data(), cfg_.burst);
  for (uint32_t i = 0; i < nr; ++i) {
    on_order_event(responses_[i]);
    send_now();  // a requote after a fill leaves before the next response is looked at
  }
  done += nr;
  // While logging in the gateway's messages are dropped (see on_order_event): nothing to ask for yet.
  if (mold::Request r; login_phase_ != LoginPhase::kLoggingIn && receiver_.poll(now_ns, r)) {
    uint8_t packet[mold::kHeaderSize];
    push_tx(packet, mold::encode_request(packet, r), 0);
    figures_.session_requests.set(receiver_.counters().requests);
  }

  // Like the book stage: drain full bursts (up to a bound) so a backlog does not wait a loop.
  for (uint32_t round = 0; round < kMaxBurstsPerStep; ++round) {
    const uint32_t nt = wiring_.tops.pop_burst(tops_.data(), cfg_.burst);
    for (uint32_t i = 0; i < nt; ++i) {
      on_top(tops_[i]);
      send_now();  // the orders this top caused leave before the next top is looked at
    }
    done += nt;
    if (nt < cfg_.burst) break;
  }

  if (unwind_requested_.load(std::memory_order_relaxed) && !unwinding_) start_unwind();
  if (unwinding_ && login_phase_ == LoginPhase::kReady && journal_may_cancel(tracker_.live_orders())) {
    trigger_tsc_ = 0;  // the unwind's cancels react to no packet: not tick-to-trade
    // Cancel whatever became cancelable since (a pending replace settled, a new order was accepted).
    const orders::CancelAllResult r = tracker_.cancel_all(cancel_tokens_.data(), cancel_tokens_.size());
    for (uint32_t i = 0; i < r.requested; ++i) {
      journal_cancel(cancel_tokens_[i]);
      send_cancel(cancel_tokens_[i]);
    }
    if (r.requested != 0) {
      for (uint32_t s = 0; s < working_.size(); ++s) after_tracker_change(s);
    }
    if (tracker_.all_acknowledged() && figures_.unwound.get() == 0) figures_.unwound.set(1);
  }
  // A heartbeat when we have been quiet: it carries our next sequence number, so the gateway notices a
  // lost last message (the final cancel of an unwind, say) and re-requests it.
  if (cfg_.heartbeat_ns != 0 && login_phase_ == LoginPhase::kReady && sender_.next_sequence() > 1 &&
      now_ns - last_sent_ns_ >= cfg_.heartbeat_ns) {
    uint8_t packet[mold::kHeaderSize];
    push_tx(packet, sender_.heartbeat(packet, sizeof packet), 0);
    last_sent_ns_ = now_ns;
    figures_.heartbeats.add();
  }
  send_now();
  digest_pending();
  // The figures: on every idle step (current whenever the stage is quiet), at most every
  // kPublishIntervalNs while busy, and always after the step's orders left.
  if (dirty_ && (done == 0 || now_ns - published_ns_ >= kPublishIntervalNs)) publish();
  return done;
}

// ---- Inputs ----

void TradingStage::on_top(const pipe::TopEvent& e) noexcept {
  if (e.kind == pipe::TopKind::kTop && e.symbol_slot == 0) {
    // Another symbol's top: counted only. Its time must not move our clock: it is stamped with its
    // batch's last message, so it depends on how packets were batched, and decisions must not.
    figures_.top_events.add();
    latency_.record(wiring_.clock.to_ns(pipe::read_tsc() - e.rx_tsc));
    return;
  }
  trigger_tsc_ = e.rx_tsc;
  if (e.exchange_ns > exchange_ns_) exchange_ns_ = e.exchange_ns;
  if (!held_.empty()) release_held(exchange_ns_);
  switch (e.kind) {
    case pipe::TopKind::kTop: {
      figures_.top_events.add();
      latency_.record(wiring_.clock.to_ns(pipe::read_tsc() - e.rx_tsc));
      assert(e.symbol_slot != 0);  // other symbols' tops returned above
      const uint32_t sym = e.symbol_slot - 1u;
      assert(sym < working_.size());
      strategy_.on_top(sym, strategy::TopOfBook{e.bid_price, e.bid_shares, e.ask_price, e.ask_shares}, e.exchange_ns);
      // No reference price while the feed is stale: the collar then rejects (and the strategy pulls).
      bbo_[sym] = feed_stale_ ? Bbo{} : Bbo{e.bid_shares != 0 ? e.bid_price : 0, e.ask_shares != 0 ? e.ask_price : 0};
      if (e.bid_shares != 0 && e.ask_shares != 0)
        marks_[sym] = static_cast<orders::Price>((uint64_t{e.bid_price} + e.ask_price) / 2);
      dirty_ = true;
      evaluate(sym);
      return;
    }
    case pipe::TopKind::kTradingState:
      if (e.symbol_slot == 0) return;
      strategy_.set_trading_state(e.symbol_slot - 1u, e.trading_state);
      evaluate(e.symbol_slot - 1u);
      return;
    case pipe::TopKind::kFeedStale:
      feed_stale_ = true;
      strategy_.set_feed_stale(true);
      for (uint32_t s = 0; s < working_.size(); ++s) {
        bbo_[s] = Bbo{};
        evaluate(s);
      }
      return;
    case pipe::TopKind::kFeedWhole:
      feed_stale_ = false;
      strategy_.set_feed_stale(false);
      return;  // quoting resumes with the next top of each symbol
    case pipe::TopKind::kEndOfSession:
      if (!held_.empty()) release_held(UINT64_MAX);
      figures_.end_of_session.set(1);
      start_unwind();  // the market is closed: nothing of ours should rest
      return;
  }
}

void TradingStage::on_order_event(const pipe::OrderResponseEvent& e) noexcept {
  switch (e.kind) {
    case pipe::OrderEventKind::kRequest: {
      // The gateway lost some of our messages: resend them with their original numbers. At most
      // kMaxRetransmitPerRequest per request (bounded work per step); the gateway asks again for more.
      if (std::memcmp(e.session, sender_.session().data(), sizeof e.session) != 0) {
        figures_.bad_messages.add();
        return;
      }
      uint8_t packet[pipe::kTxPayloadCapacity];
      const uint64_t end = std::min({e.sequence + std::min<uint64_t>(e.length, kMaxRetransmitPerRequest),
                                     sender_.next_sequence()});
      for (uint64_t s = e.sequence; s < end; ++s) {
        const size_t n = sender_.retransmit(s, packet, sizeof packet);
        if (n == 0) continue;
        push_tx(packet, n, 0);
        last_sent_ns_ = now_ns_;
        figures_.retransmitted.add();
      }
      return;
    }
    case pipe::OrderEventKind::kHeartbeat:
      // Under our own session: the login answer (the gateway's next expected sequence of ours).
      if (std::memcmp(e.session, sender_.session().data(), sizeof e.session) == 0) {
        on_login_answer(e.sequence);
        return;
      }
      receiver_.on_heartbeat(e.session, e.sequence, wiring_.clock.to_ns(e.rx_tsc));
      figures_.session_gaps.set(receiver_.counters().gaps);
      return;
    case pipe::OrderEventKind::kMessage:
      // Under our own session: the login's echo of a message of ours the gateway received.
      if (std::memcmp(e.session, sender_.session().data(), sizeof e.session) == 0) {
        on_echo(e);
        return;
      }
      // A response before our own stream is settled could be about an order we do not know yet: drop it
      // before the session counts it; it is re-requested once the login is done.
      if (login_phase_ == LoginPhase::kLoggingIn) {
        figures_.login_dropped.add();
        return;
      }
      // What this response makes us send (a requote after a fill) reacts to this packet, not to the
      // last top: tick-to-trade measures from here.
      trigger_tsc_ = e.rx_tsc;
      break;
  }
  if (journal_ != nullptr && !journal_->has_room(1) && !journal_->failed()) {
    // Not journaled, not applied: dropped before the session counts it, so the gateway resends it
    // (as after a loss) once there is room again.
    figures_.journal_full.add();
    start_unwind();
    return;
  }
  const orders::SessionReceiver::Verdict v = receiver_.on_message(e.session, e.sequence, wiring_.clock.to_ns(e.rx_tsc));
  figures_.session_gaps.set(receiver_.counters().gaps);
  figures_.session_duplicates.set(receiver_.counters().duplicates);
  if (v != orders::SessionReceiver::Verdict::kDeliver) return;
  if (held_.empty() || e.length < 9) {
    apply_response(e.message, e.length, e.sequence);
    return;
  }
  if (unwinding_) {
    // Quoting is over: nothing left to keep in step with the feed, and the unwind must not wait for
    // a top that may never come (after the end of session none does).
    release_held(UINT64_MAX);
    apply_response(e.message, e.length, e.sequence);
    return;
  }
  // Deterministic mode: every outbound OUCH message has its exchange timestamp at offset 1.
  const uint64_t due = load_be64(e.message + 1) + cfg_.response_latency_ns;
  if (due <= exchange_ns_) {
    figures_.late_responses.add();
    release_held(UINT64_MAX);  // keep the order of the session
    apply_response(e.message, e.length, e.sequence);
    return;
  }
  if (held_count_ == held_.size()) {
    figures_.held_full.add();
    release_held(UINT64_MAX);
    apply_response(e.message, e.length, e.sequence);
    return;
  }
  Held& h = held_[(held_head_ + held_count_) % held_.size()];
  h.due_ns = due;
  h.sequence = e.sequence;
  h.length = e.length;
  std::memcpy(h.message, e.message, e.length);
  ++held_count_;
}

void TradingStage::release_held(uint64_t exchange_ns) noexcept {
  // Applying a response can start an unwind, which releases everything: that nested call only raises
  // the bound of the loop already running, so no response is applied twice or out of session order.
  if (exchange_ns > release_bound_) release_bound_ = exchange_ns;
  if (releasing_) return;
  releasing_ = true;
  // Session order is due order: timestamps never go back.
  while (held_count_ != 0 && held_[held_head_].due_ns <= release_bound_) {
    const Held h = held_[held_head_];  // a copy: the slot is free once the head moves
    held_head_ = (held_head_ + 1) % static_cast<uint32_t>(held_.size());
    --held_count_;
    apply_response(h.message, h.length, h.sequence);
  }
  releasing_ = false;
  release_bound_ = 0;
}

void TradingStage::apply_response(const uint8_t* msg, uint16_t len, uint64_t sequence) noexcept {
  ResponseHandler h(*this, sequence);
  const ouch::DecodeResult r = ouch::dispatch_outbound(msg, len, h);
  if (r.status != ouch::DecodeStatus::kOk) {
    figures_.bad_messages.add();
    return;
  }
  figures_.responses.add();
  dirty_ = true;  // the tracker's counters moved (an anomaly names no symbol: nothing else says so)
  if (h.fill) figures_.fills.add();
  if (login_phase_ == LoginPhase::kCatchingUp) apply_echoes();  // an echo may have waited for this one
  if (h.symbol >= 0) {
    const uint32_t sym = static_cast<uint32_t>(h.symbol);
    after_tracker_change(sym);
    // An order of ours ended: the strategy must not believe its quote is still there.
    for (const orders::Side side : {orders::Side::kBuy, orders::Side::kSell}) {
      Working& w = working_[sym][side_index(side)];
      if (w.active && live_working(sym, side) == nullptr) strategy_.forget_live_quote(sym);
    }
    if (!unwinding_) evaluate(sym);
  }
}

// ---- Decisions ----

void TradingStage::evaluate(uint32_t sym) noexcept {
  if (unwinding_ || login_phase_ != LoginPhase::kReady) return;
  const strategy::Decision d = strategy_.evaluate(sym, exchange_ns_);
  switch (d.action) {
    case strategy::Action::kNone:
      // Paused with nothing live as far as the strategy knows: an order that could not be pulled
      // when the pause began (its replace was in flight) is pulled now that it has settled.
      if (d.reason == strategy::Reason::kStale || d.reason == strategy::Reason::kNotTrading ||
          d.reason == strategy::Reason::kNoBbo || d.reason == strategy::Reason::kCrossedBook ||
          d.reason == strategy::Reason::kNoSide) {
        cancel_side(sym, orders::Side::kBuy);
        cancel_side(sym, orders::Side::kSell);
      }
      return;
    case strategy::Action::kPull:
      cancel_side(sym, orders::Side::kBuy);
      cancel_side(sym, orders::Side::kSell);
      return;
    case strategy::Action::kRequote:
      quote_side(sym, orders::Side::kBuy, d.quote.bid);
      quote_side(sym, orders::Side::kSell, d.quote.ask);
      return;
  }
}

// The working order of a side if it is live; follows a replace that failed back to the old order.
// While a replace is in flight the tracker knows the order by its old token only (find() matches
// current tokens), so the old token is followed until the Replaced makes the new one current.
const orders::OrderRecord* TradingStage::live_working(uint32_t sym, orders::Side side) noexcept {
  Working& w = working_[sym][side_index(side)];
  if (!w.active) return nullptr;
  const orders::OrderRecord* r = tracker_.find(w.token);
  if (r != nullptr && orders::is_live(r->state)) {
    w.has_fallback = false;  // the replace went through
    return r;
  }
  if (w.has_fallback) {
    const orders::OrderRecord* old = tracker_.find(w.fallback);
    if (old != nullptr && orders::is_live(old->state)) {
      if (old->state == orders::OrderState::kPendingReplace) return old;  // still in flight
      w.token = w.fallback;  // the replace was refused: the old order stays
      w.has_fallback = false;
      return old;
    }
  }
  w.active = false;
  w.has_fallback = false;
  return nullptr;
}

void TradingStage::quote_side(uint32_t sym, orders::Side side, const strategy::SideQuote& target) noexcept {
  const orders::OrderRecord* live = live_working(sym, side);
  if (!target.present()) {
    if (live != nullptr) cancel_side(sym, side);
    return;
  }
  if (live != nullptr) {
    const bool same = live->price == target.price && live->shares == target.shares;
    if (same) return;
    if (live->state != orders::OrderState::kAccepted && live->state != orders::OrderState::kPartiallyFilled) {
      strategy_.forget_live_quote(sym);  // in flight: decide again once it settles
      return;
    }
  }
  if (live != nullptr) {
    // A replace takes the old order's place in the order counts (else, with one order per side at
    // max_open_orders_per_symbol, no quote could ever move). Its shares stay counted: fills of the old
    // order may be in flight, and the replacement rests with its full size whatever they were. The
    // tracker's view is synced back below.
    const orders::OpenView& v = tracker_.open_view(sym);
    assert(v.orders > 0);
    risk_.sync_exposure(static_cast<uint16_t>(sym), tracker_.positions().position(sym).shares, v.buy_shares,
                        v.sell_shares, v.orders - 1);
  }
  if (!journal_room(1)) {  // no room to journal the order: it must not exist
    strategy_.forget_live_quote(sym);
    if (live != nullptr) after_tracker_change(sym);
    return;
  }
  const OrderRequest req{static_cast<uint16_t>(sym), to_risk(side), target.shares, target.price};
  const RiskReason reason = risk_.check(req, bbo_[sym], exchange_ns_);
  if (reason != RiskReason::kAccepted) {
    figures_.risk_rejects.add();
    strategy_.forget_live_quote(sym);
    if (live != nullptr) after_tracker_change(sym);
    return;
  }
  Working& w = working_[sym][side_index(side)];
  if (live != nullptr) {
    const orders::OrderToken old_token = live->token;
    const orders::SubmitResult r = tracker_.request_replace(old_token, target.price, target.shares);
    if (r.error != orders::RequestError::kNone) {
      figures_.request_errors.add();
      strategy_.forget_live_quote(sym);
      after_tracker_change(sym);  // the risk exposure back to the tracker's
      return;
    }
    jr::TradingRecord x;
    x.type = jr::kReplaceRequest;
    x.token = old_token;
    x.other_token = r.token;
    x.price = target.price;
    x.shares = target.shares;
    x.sequence = sender_.next_sequence();
    x.as_of = exchange_ns_;
    journal(x);
    send_replace(old_token, r.token, target.price, target.shares);
    w.fallback = old_token;
    w.has_fallback = true;
    w.token = r.token;
  } else {
    const orders::SubmitResult r = tracker_.submit(sym, side, target.price, target.shares);
    if (r.error != orders::RequestError::kNone) {
      figures_.request_errors.add();
      strategy_.forget_live_quote(sym);
      return;
    }
    jr::TradingRecord x;
    x.type = jr::kOrderSubmit;
    x.token = r.token;
    x.symbol = static_cast<uint16_t>(sym);
    x.side = side;
    x.price = target.price;
    x.shares = target.shares;
    x.sequence = sender_.next_sequence();
    x.as_of = exchange_ns_;
    journal(x);
    send_enter(sym, side, r.token, target.price, target.shares);
    w.token = r.token;
    w.has_fallback = false;
  }
  w.active = true;
  after_tracker_change(sym);
}

void TradingStage::cancel_side(uint32_t sym, orders::Side side) noexcept {
  const orders::OrderRecord* live = live_working(sym, side);
  if (live == nullptr || live->state == orders::OrderState::kPendingCancel) return;
  if (live->state == orders::OrderState::kPendingReplace) {
    strategy_.forget_live_quote(sym);  // cancelled once the replace settles (the next evaluation)
    return;
  }
  if (!journal_may_cancel(1)) {  // the unwind cancels it once the journal has room
    strategy_.forget_live_quote(sym);
    return;
  }
  const orders::OrderToken token = live->token;
  if (tracker_.request_cancel(token) != orders::RequestError::kNone) {
    figures_.request_errors.add();
    strategy_.forget_live_quote(sym);
    return;
  }
  journal_cancel(token);
  send_cancel(token);
  after_tracker_change(sym);
}

void TradingStage::start_unwind() noexcept {
  if (unwinding_) return;
  unwinding_ = true;
  figures_.unwinding.set(1);
  dirty_ = true;
  if (!held_.empty()) release_held(UINT64_MAX);  // the cancels must see every order as it is
}

// ---- Journal ----

bool TradingStage::journal_room(uint32_t records) noexcept {
  if (journal_ == nullptr || journal_->has_room(records)) return true;
  if (journal_->failed()) {
    if (figures_.journal_failed.get() == 0) figures_.journal_failed.set(1);
  } else {
    figures_.journal_full.add();
  }
  start_unwind();  // the configured policy: no new orders once the journal cannot keep up
  return false;
}

bool TradingStage::journal_may_cancel(uint32_t records) noexcept {
  if (journal_ == nullptr || journal_->has_room(records)) return true;
  if (journal_->failed()) {  // nothing becomes durable any more: pulling our orders matters more
    if (figures_.journal_failed.get() == 0) figures_.journal_failed.set(1);
    start_unwind();
    return true;
  }
  figures_.journal_full.add();
  start_unwind();
  return false;  // wait for room (the journal core drains within microseconds)
}

void TradingStage::journal(const jr::TradingRecord& r) noexcept {
  if (journal_ == nullptr) return;
  uint8_t buf[jr::kMaxBytes];
  const uint16_t n = jr::encode(r, buf);
  assert(n == jr::length_of(r.type));
  if (!journal_->append(r.type, buf, n)) {
    figures_.journal_lost.add();
    if (journal_->failed() && figures_.journal_failed.get() == 0) figures_.journal_failed.set(1);
    start_unwind();
  }
}

void TradingStage::journal_controls(uint32_t n) noexcept {
  if (journal_ == nullptr) return;
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t buf[jr::kRiskControlBytes];
    const uint16_t len = jr::encode_risk_control(control_events_[i], buf);
    if (!journal_->append(jr::kRiskControl, buf, len)) figures_.journal_lost.add();  // failed journal only
  }
}

void TradingStage::journal_cancel(const orders::OrderToken& token) noexcept {
  jr::TradingRecord x;
  x.type = jr::kCancelRequest;
  x.token = token;
  x.sequence = sender_.next_sequence();
  x.as_of = exchange_ns_;
  journal(x);
}

void TradingStage::cancel_orphans() noexcept {
  if (!journal_may_cancel(tracker_.live_orders())) return;  // next step
  cancel_orphans_ = false;
  for (uint32_t i = 0; i < tracker_.config().max_open_orders; ++i) {
    const orders::OrderRecord& o = tracker_.slot(i);
    if (o.state != orders::OrderState::kPendingNew && o.state != orders::OrderState::kAccepted &&
        o.state != orders::OrderState::kPartiallyFilled)
      continue;
    const Working& w = working_[o.symbol][side_index(o.side)];
    if (w.active && (w.token == o.token || (w.has_fallback && w.fallback == o.token))) continue;
    const orders::OrderToken token = o.token;
    if (tracker_.request_cancel(token) != orders::RequestError::kNone) continue;
    journal_cancel(token);
    send_cancel(token);
    after_tracker_change(o.symbol);
  }
}

std::string TradingStage::restore(const uint8_t* tracker_bytes, size_t size, uint64_t next_outbound,
                                  uint64_t expected_inbound) {
  if (sender_.next_sequence() != 1 || receiver_.expected() != 1 || tracker_.tokens().issued() != 0 ||
      tracker_.last_event_sequence() != 0)
    return "trading: restore needs a stage that has not run";
  if (next_outbound == 0 || expected_inbound == 0)
    return "trading: restore: session sequences start at 1 (outbound " + std::to_string(next_outbound) +
           ", inbound " + std::to_string(expected_inbound) + ")";
  if (std::string e = tracker_.restore(tracker_bytes, size); !e.empty()) return "trading: restore: " + e;
  sender_.set_next_sequence(next_outbound);
  receiver_.set_expected(expected_inbound);
  uint64_t adopted = 0;
  for (uint32_t i = 0; i < tracker_.config().max_open_orders; ++i) {
    const orders::OrderRecord& o = tracker_.slot(i);
    if (!orders::is_live(o.state)) continue;
    if (o.symbol >= working_.size()) return "trading: restore: order slot " + std::to_string(i) + " names symbol " +
                                            std::to_string(o.symbol) + " beyond the configured symbols";
    Working& w = working_[o.symbol][side_index(o.side)];
    if (w.active || o.state == orders::OrderState::kPendingCancel) {
      cancel_orphans_ = true;  // a second order on this side: cancelled at the first step
      continue;
    }
    // Taken over as the side's working order; a replace in flight as quote_side leaves it.
    w.active = true;
    if (o.state == orders::OrderState::kPendingReplace) {
      w.token = o.pending_token;
      w.fallback = o.token;
      w.has_fallback = true;
    } else {
      w.token = o.token;
      w.has_fallback = false;
    }
    ++adopted;
  }
  figures_.restored_orders.set(adopted);
  for (uint32_t s = 0; s < working_.size(); ++s) after_tracker_change(s);
  publish();
  return "";
}

// ---- Session login (docs/order-entry.md, "Login") ----

// An echoed request of ours applied to the tracker as when it was sent: the same calls, the token it
// was sent with, journaled with the number it was sent under. Refused because a response it followed
// has not been applied yet (the order is still pending, its slot still taken): wait for it.
class TradingStage::EchoHandler : public ouch::IgnoreInbound {
 public:
  EchoHandler(TradingStage& s, uint64_t sequence, uint64_t as_of) : s_(s), sequence_(sequence), as_of_(as_of) {}
  using ouch::IgnoreInbound::on;

  void on(const ouch::EnterOrder& m) noexcept {
    uint32_t sym = 0;
    while (sym < s_.stocks_.size() && s_.stocks_[sym] != m.stock) ++sym;
    if (sym == s_.stocks_.size()) return;  // not a symbol we quote: kError
    const orders::Side side = m.side == 'B' ? orders::Side::kBuy : orders::Side::kSell;
    const orders::OrderToken token = to_order_token(m.token);
    const orders::SubmitResult r = s_.tracker_.submit_as(token, sym, side, m.price, m.shares);
    if (!settle(r.error, orders::RequestError::kUnknownToken, orders::RequestError::kTableFull)) return;
    jr::TradingRecord x;
    x.type = jr::kOrderSubmit;
    x.token = token;
    x.symbol = static_cast<uint16_t>(sym);
    x.side = side;
    x.price = m.price;
    x.shares = m.shares;
    done(x, sym);
  }
  void on(const ouch::ReplaceOrder& m) noexcept {
    const orders::OrderToken old_token = to_order_token(m.existing_token);
    const orders::OrderToken new_token = to_order_token(m.replacement_token);
    const orders::SubmitResult r = s_.tracker_.request_replace_as(old_token, new_token, m.price, m.shares);
    if (!settle(r.error, orders::RequestError::kUnknownToken, orders::RequestError::kNotReplaceable)) return;
    jr::TradingRecord x;
    x.type = jr::kReplaceRequest;
    x.token = old_token;
    x.other_token = new_token;
    x.price = m.price;
    x.shares = m.shares;
    done(x, s_.tracker_.find(old_token)->symbol);
  }
  void on(const ouch::CancelOrder& m) noexcept {
    const orders::OrderToken token = to_order_token(m.token);
    if (!settle(s_.tracker_.request_cancel(token), orders::RequestError::kUnknownToken,
                orders::RequestError::kNotCancelable))
      return;
    jr::TradingRecord x;
    x.type = jr::kCancelRequest;
    x.token = token;
    done(x, s_.tracker_.find(token)->symbol);
  }

  EchoResult result = EchoResult::kError;  // Modify Order, Trade Now, a symbol we do not quote

 private:
  // kNone: applied; one of the two "not yet" errors: wait; anything else: an error.
  bool settle(orders::RequestError e, orders::RequestError wait1, orders::RequestError wait2) noexcept {
    if (e == orders::RequestError::kNone) return true;
    result = e == wait1 || e == wait2 ? EchoResult::kWait : EchoResult::kError;
    return false;
  }
  void done(jr::TradingRecord& x, uint32_t sym) noexcept {
    x.sequence = sequence_;
    x.as_of = as_of_;
    s_.journal(x);
    s_.after_tracker_change(sym);
    result = EchoResult::kApplied;
  }
  TradingStage& s_;
  uint64_t sequence_;
  uint64_t as_of_;
};

void TradingStage::login_step(uint64_t now_ns) noexcept {
  if (!login_started_) {
    login_started_ = true;
    login_.start(sender_.session(), sender_.next_sequence(), now_ns);
    figures_.login_state.set(static_cast<uint64_t>(login_phase_));
  }
  if (login_phase_ == LoginPhase::kLoggingIn) {
    mold::Request r;
    if (login_.poll(now_ns, echoes_.size() - echo_count_, r)) {
      uint8_t packet[mold::kHeaderSize];
      push_tx(packet, mold::encode_request(packet, r), 0);
      figures_.login_requests.set(login_.counters().requests);
      figures_.login_retries.set(login_.counters().retries);
    }
    return;
  }
  if (login_phase_ != LoginPhase::kCatchingUp) return;
  apply_echoes();
  // The head echo waits for a response that does not come (every response is in, none is held for its
  // feed time, and it still cannot be applied): count it and go on, so that the numbering continues.
  if (echo_count_ != 0 && !receiver_.hole_open() && held_count_ == 0 && now_ns >= login_stuck_ns_) {
    const Echoed& x = echoes_[echo_head_];
    sender_.adopt(x.sequence, x.block, x.length);
    echo_head_ = (echo_head_ + 1) % static_cast<uint32_t>(echoes_.size());
    --echo_count_;
    figures_.login_echo_errors.add();
    login_stuck_ns_ = now_ns + cfg_.login_retry_ns;
    apply_echoes();
  }
}

void TradingStage::on_echo(const pipe::OrderResponseEvent& e) noexcept {
  if (login_.on_echo(e.sequence) != orders::SessionLogin::Echo::kTake) return;
  // login_.poll asked for at most the free room: the ring cannot be full here.
  assert(echo_count_ < echoes_.size());
  Echoed& x = echoes_[(echo_head_ + echo_count_) % echoes_.size()];
  x.sequence = e.sequence;
  x.length = static_cast<uint16_t>(std::min<size_t>(e.length, sizeof x.block));
  std::memcpy(x.block, e.message, x.length);
  ++echo_count_;
  apply_echoes();
}

void TradingStage::on_login_answer(uint64_t gateway_expected) noexcept {
  const orders::SessionLogin::State st = login_.on_answer(gateway_expected, now_ns_);
  if (login_phase_ != LoginPhase::kLoggingIn) return;
  if (st == orders::SessionLogin::State::kGatewayBehind) {
    set_login_phase(LoginPhase::kRefused);
  } else if (st == orders::SessionLogin::State::kDone) {
    set_login_phase(LoginPhase::kCatchingUp);
    login_stuck_ns_ = now_ns_ + cfg_.login_retry_ns;
    apply_echoes();
  }
}

void TradingStage::apply_echoes() noexcept {
  while (echo_count_ != 0) {
    const Echoed& x = echoes_[echo_head_];
    const EchoResult r = apply_echo(x);
    if (r == EchoResult::kWait) break;
    if (r == EchoResult::kError) figures_.login_echo_errors.add();
    sender_.adopt(x.sequence, x.block, x.length);  // applied or not, the gateway has this number
    echo_head_ = (echo_head_ + 1) % static_cast<uint32_t>(echoes_.size());
    --echo_count_;
    figures_.login_echoes.add();
    login_stuck_ns_ = now_ns_ + cfg_.login_retry_ns;
  }
  if (login_phase_ == LoginPhase::kCatchingUp && echo_count_ == 0) {
    assert(sender_.next_sequence() == login_.next());
    take_over_live_orders();
    set_login_phase(LoginPhase::kReady);
  }
}

TradingStage::EchoResult TradingStage::apply_echo(const Echoed& x) noexcept {
  if (x.length <= kAsOfSize) return EchoResult::kError;
  if (journal_ != nullptr && !journal_->has_room(1) && !journal_->failed()) return EchoResult::kWait;
  EchoHandler h(*this, x.sequence, load_be64(x.block));
  const ouch::DecodeResult d =
      ouch::dispatch_inbound(x.block + kAsOfSize, static_cast<uint16_t>(x.length - kAsOfSize), h);
  return d.status == ouch::DecodeStatus::kOk ? h.result : EchoResult::kError;
}

// Each live order becomes its side's working order (a replace in flight as quote_side leaves it); a
// second one on a side is cancelled (cancel_orphans).
void TradingStage::take_over_live_orders() noexcept {
  for (auto& sides : working_) sides = {};
  for (uint32_t i = 0; i < tracker_.config().max_open_orders; ++i) {
    const orders::OrderRecord& o = tracker_.slot(i);
    if (!orders::is_live(o.state) || o.symbol >= working_.size()) continue;
    Working& w = working_[o.symbol][side_index(o.side)];
    if (w.active || o.state == orders::OrderState::kPendingCancel) {
      cancel_orphans_ = true;
      continue;
    }
    w.active = true;
    if (o.state == orders::OrderState::kPendingReplace) {
      w.token = o.pending_token;
      w.fallback = o.token;
      w.has_fallback = true;
    } else {
      w.token = o.token;
      w.has_fallback = false;
    }
  }
  for (uint32_t s = 0; s < working_.size(); ++s) after_tracker_change(s);
}

void TradingStage::set_login_phase(LoginPhase p) noexcept {
  login_phase_ = p;
  figures_.login_state.set(static_cast<uint64_t>(p));
  dirty_ = true;
}

// ---- Effects ----

void TradingStage::after_tracker_change(uint32_t sym) noexcept {
  const orders::OpenView& v = tracker_.open_view(sym);
  risk_.sync_exposure(static_cast<uint16_t>(sym), tracker_.positions().position(sym).shares, v.buy_shares,
                      v.sell_shares, v.orders);
  strategy_.set_inventory(sym, tracker_.positions().position(sym).shares);
  dirty_ = true;
}

void TradingStage::send_enter(uint32_t sym, orders::Side side, const orders::OrderToken& token, uint32_t price,
                              uint32_t shares) noexcept {
  ouch::EnterOrder m;
  m.token = to_ouch_token(token);
  m.side = side == orders::Side::kBuy ? 'B' : 'S';
  m.shares = shares;
  m.stock = stocks_[sym];
  m.price = price;
  m.time_in_force = ouch::kTifMarketHours;  // a day quote; cancelled by us at the close
  m.firm = firm_;
  m.display = 'Y';
  m.capacity = 'P';  // principal: our own account
  m.intermarket_sweep = 'N';
  m.min_quantity = 0;
  m.cross_type = 'N';
  m.customer_type = 'N';
  uint8_t buf[ouch::EnterOrder::kLength];
  ouch::encode(m, buf);
  if (send_message(buf, sizeof buf)) figures_.enters.add();
}

void TradingStage::send_replace(const orders::OrderToken& old_token, const orders::OrderToken& new_token,
                                uint32_t price, uint32_t shares) noexcept {
  ouch::ReplaceOrder m;
  m.existing_token = to_ouch_token(old_token);
  m.replacement_token = to_ouch_token(new_token);
  m.shares = shares;
  m.price = price;
  m.time_in_force = ouch::kTifMarketHours;
  m.display = 'Y';
  m.intermarket_sweep = 'N';
  m.min_quantity = 0;
  uint8_t buf[ouch::ReplaceOrder::kLength];
  ouch::encode(m, buf);
  if (send_message(buf, sizeof buf)) figures_.replaces.add();
}

void TradingStage::send_cancel(const orders::OrderToken& token) noexcept {
  ouch::CancelOrder m;
  m.token = to_ouch_token(token);
  m.shares = 0;
  uint8_t buf[ouch::CancelOrder::kLength];
  ouch::encode(m, buf);
  if (send_message(buf, sizeof buf)) figures_.cancels.add();
}

bool TradingStage::send_message(const uint8_t* ouch_msg, uint16_t len) noexcept {
  assert(login_phase_ == LoginPhase::kReady);  // before the login a number could be used twice
  uint8_t block[kAsOfSize + ouch::kMaxMessageLength];
  assert(len <= ouch::kMaxMessageLength);
  store_be64(block, exchange_ns_);
  std::memcpy(block + kAsOfSize, ouch_msg, len);
  uint8_t packet[pipe::kTxPayloadCapacity];
  const size_t n = sender_.send(block, static_cast<uint16_t>(kAsOfSize + len), packet, sizeof packet);
  assert(n != 0);  // every OUCH inbound message fits one packet
  if (wiring_.tx == nullptr) {
    fnv1a(digest_, ouch_msg, len);
    figures_.order_stream_digest.set(digest_);
  } else {
    // Hashed after the message left (send_now): the digest is byte-serial, not the order's business.
    if (digest_pending_count_ == kDigestPending) digest_pending();
    PendingDigest& d = digest_pending_[digest_pending_count_++];
    d.length = len;
    std::memcpy(d.bytes, ouch_msg, len);
  }
  figures_.orders_sent.add();
  push_tx(packet, n, trigger_tsc_);
  last_sent_ns_ = now_ns_;  // our own re-requests do not count: only what carries our numbers
  return true;
}

void TradingStage::push_tx(const uint8_t* packet, size_t len, uint64_t rx_tsc) noexcept {
  pipe::TxEvent e;
  e.rx_tsc = rx_tsc;  // orders only: TX measures tick-to-trade on them
  e.destination = pipe::Destination::kOrderGateway;
  e.length = static_cast<uint16_t>(len);
  std::memcpy(e.payload, packet, len);
  // A full ring loses the datagram, not the message: it has its sequence number and the gateway
  // re-requests it.
  if (wiring_.orders.push_burst(&e, 1) != 1) figures_.order_ring_full.add();
  if (wiring_.tx != nullptr) tx_pending_ = true;
}

void TradingStage::send_now() noexcept {
  if (!tx_pending_) return;
  tx_pending_ = false;
  wiring_.tx->send_orders();
  digest_pending();
}

void TradingStage::digest_pending() noexcept {
  if (digest_pending_count_ == 0) return;
  for (uint32_t i = 0; i < digest_pending_count_; ++i)
    fnv1a(digest_, digest_pending_[i].bytes, digest_pending_[i].length);
  digest_pending_count_ = 0;
  figures_.order_stream_digest.set(digest_);
}

void TradingStage::publish() noexcept {
  dirty_ = false;
  published_ns_ = now_ns_;
  const orders::PositionBook& p = tracker_.positions();
  int64_t net = 0, gross = 0;
  uint64_t quotes = 0;
  for (uint32_t s = 0; s < working_.size(); ++s) {
    const int64_t q = p.position(s).shares;
    net += q;
    gross += q < 0 ? -q : q;
    for (const Working& w : working_[s]) quotes += w.active ? 1 : 0;
  }
  figures_.live_quotes.set(quotes);
  figures_.open_orders.set(tracker_.live_orders());
  figures_.net_position.set(static_cast<uint64_t>(net));
  figures_.gross_position.set(static_cast<uint64_t>(gross));
  figures_.realized.set(static_cast<uint64_t>(clamp_money(p.total_realized() - p.total_fees())));
  figures_.fees.set(static_cast<uint64_t>(clamp_money(p.total_fees())));
  figures_.unrealized.set(
      static_cast<uint64_t>(clamp_money(p.total_unrealized(marks_.data(), static_cast<uint32_t>(marks_.size())))));
  uint64_t anomalies = 0;
  for (size_t i = 1; i < orders::kAnomalyCount; ++i) anomalies += tracker_.counters().anomalies[i];
  figures_.anomalies.set(anomalies);
}

// ---- Control thread ----

namespace {
std::string money_text(int64_t v) {  // 1/10000 $ -> "-12.3456"
  char buf[48];
  const uint64_t a = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%04" PRIu64, v < 0 ? "-" : "", a / 10000, a % 10000);
  return buf;
}
int64_t signed_of(const pipe::RelaxedCounter& c) { return static_cast<int64_t>(c.get()); }
}  // namespace

// Until quoting may start: " LOGIN(requests N)" / " LOGIN catching up (echoes N)" / " LOGIN-REFUSED".
static std::string login_text(const TradingFigures& f) {
  char buf[96];
  switch (f.login_state.get()) {
    case 0:
      std::snprintf(buf, sizeof buf, " LOGIN(requests %" PRIu64 ", retries %" PRIu64 ")", f.login_requests.get(),
                    f.login_retries.get());
      return buf;
    case 1:
      std::snprintf(buf, sizeof buf, " LOGIN catching up (echoes %" PRIu64 ")", f.login_echoes.get());
      return buf;
    case 3: return " LOGIN-REFUSED (the gateway expects less than we recovered)";
    default: return f.login_echo_errors.get() != 0 ? " login-echo-errors" : "";
  }
}

std::string TradingStage::status_text() const {
  const TradingFigures& f = figures_;
  // Orders per second since the previous status line (the control thread is the only caller).
  const auto now = std::chrono::steady_clock::now();
  const uint64_t sent = f.orders_sent.get();
  const double secs = status_sent_ == 0 && status_time_ == std::chrono::steady_clock::time_point{}
                          ? 0.0
                          : std::chrono::duration<double>(now - status_time_).count();
  const double rate = secs > 0 ? static_cast<double>(sent - status_sent_) / secs : 0.0;
  status_time_ = now;
  status_sent_ = sent;
  char buf[400];
  std::snprintf(buf, sizeof buf,
                " | quotes %" PRIu64 " open %" PRIu64 " pos %" PRId64 " rPnL %s uPnL %s | sent %" PRIu64
                " (%.0f/s) fills %" PRIu64 " risk-rej %" PRIu64 "%s%s%s%s%s",
                f.live_quotes.get(), f.open_orders.get(), signed_of(f.net_position),
                money_text(signed_of(f.realized)).c_str(), money_text(signed_of(f.unrealized)).c_str(), sent, rate,
                f.fills.get(), f.risk_rejects.get(), f.unwinding.get() ? " UNWINDING" : "",
                f.session_gaps.get() ? " order-gaps" : "", f.journal_failed.get() ? " JOURNAL-FAILED" : "",
                f.journal_full.get() ? " journal-full" : "", login_text(f).c_str());
  return buf;
}

std::string TradingStage::summary_members() const {
  const TradingFigures& f = figures_;
  std::string j;
  char buf[256];
  const auto field = [&](const char* k, uint64_t v) {
    std::snprintf(buf, sizeof buf, "  \"%s\": %" PRIu64 ",\n", k, v);
    j += buf;
  };
  const auto sfield = [&](const char* k, int64_t v) {
    std::snprintf(buf, sizeof buf, "  \"%s\": %" PRId64 ",\n", k, v);
    j += buf;
  };
  std::snprintf(buf, sizeof buf, "  \"order_stream_digest\": \"0x%016" PRIx64 "\",\n", f.order_stream_digest.get());
  j += buf;
  field("orders_sent", f.orders_sent.get());
  field("enters", f.enters.get());
  field("replaces", f.replaces.get());
  field("cancels", f.cancels.get());
  field("fills", f.fills.get());
  field("responses", f.responses.get());
  field("risk_rejects", f.risk_rejects.get());
  field("request_errors", f.request_errors.get());
  field("anomalies", f.anomalies.get());
  field("bad_order_messages", f.bad_messages.get());
  field("order_session_gaps", f.session_gaps.get());
  field("order_session_requests", f.session_requests.get());
  field("retransmitted_orders", f.retransmitted.get());
  field("order_heartbeats", f.heartbeats.get());
  field("late_responses", f.late_responses.get());
  field("held_full", f.held_full.get());
  field("journal_full", f.journal_full.get());
  field("journal_lost", f.journal_lost.get());
  field("journal_failed", f.journal_failed.get());
  field("restored_orders", f.restored_orders.get());
  field("login_state", f.login_state.get());
  field("login_requests", f.login_requests.get());
  field("login_retries", f.login_retries.get());
  field("login_echoes", f.login_echoes.get());
  field("login_echo_errors", f.login_echo_errors.get());
  field("login_dropped", f.login_dropped.get());
  field("open_orders_at_exit", f.open_orders.get());
  sfield("net_position", signed_of(f.net_position));
  sfield("realized_pnl_e4", signed_of(f.realized));
  sfield("unrealized_pnl_e4", signed_of(f.unrealized));
  sfield("fees_e4", signed_of(f.fees));
  // Per symbol (read after the cores stopped: the tracker is quiet).
  j += "  \"positions\": {";
  for (uint32_t s = 0; s < cfg_.symbols.size(); ++s) {
    const orders::Position& p = tracker_.positions().position(s);
    std::snprintf(buf, sizeof buf, "%s\"%s\": {\"shares\": %" PRId64 ", \"bought\": %" PRIu64 ", \"sold\": %" PRIu64
                  ", \"realized_e4\": %" PRId64 ", \"fees_e4\": %" PRId64 "}",
                  s == 0 ? "" : ", ", cfg_.symbols[s].c_str(), p.shares, p.bought, p.sold, clamp_money(p.realized),
                  clamp_money(p.fees));
    j += buf;
  }
  j += "},\n";
  j += "  \"risk_rejects_by_reason\": {";
  bool first = true;
  for (size_t r = 1; r < kRiskReasonCount; ++r) {
    const uint64_t n = risk_.counters().decisions[r].get();
    if (n == 0) continue;
    std::snprintf(buf, sizeof buf, "%s\"%s\": %" PRIu64, first ? "" : ", ",
                  std::string(to_string(static_cast<RiskReason>(r))).c_str(), n);
    j += buf;
    first = false;
  }
  j += "},\n";
  return j;
}

}  // namespace pmm::risk
