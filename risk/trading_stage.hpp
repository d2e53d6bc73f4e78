// The trading stage: the pipeline's quote stage when order entry is on. Per configured symbol it turns
// top-of-book changes into target quotes (QuotingStrategy), passes every order through the inline
// pre-trade checks (PreTradeRisk), keeps order state and positions (OrderTracker), and sends OUCH 4.2
// Enter/Replace/Cancel on the order session (SessionSender, MoldUDP64-framed UDP via the TX stage).
// Responses come back from the parse stage in session order (SessionReceiver re-requests what was
// lost) and update orders, positions, risk exposure and the strategy's inventory.
//
// Clock: decisions use exchange time (the ITCH timestamp of the triggering message), never the wall
// clock, so the same feed and the same responses give the same orders on every backend. With
// `response_latency_ns` > 0 (deterministic mode, for tests against the simulator) a response stamped
// at exchange time T is applied just before the first top of book at T + latency, so fills land at
// the same point of the feed whatever the real delays were.
//
// One core owns it: no lock, no allocation, no syscall after construction. The control thread reads
// published figures only. docs/trading.md.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/fnv1a.hpp"
#include "core/orders/order_session.hpp"
#include "core/orders/session_login.hpp"
#include "core/orders/order_tracker.hpp"
#include "core/ouch42.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/strategy/quoting_strategy.hpp"
#include "risk/pre_trade_risk.hpp"
#include "risk/risk_control_record.hpp"
#include "risk/trading_journal.hpp"

namespace pmm::risk {

struct TradingConfig {
  std::vector<std::string> symbols;  // quoted symbols: index i = pipeline symbol slot i + 1
  strategy::StrategyConfig strategy;
  RiskLimits risk;
  orders::OrderTrackerConfig orders;
  uint32_t epoch = 0;                     // token epoch (durable counter, one per start)
  std::string firm = "PMM1";              // OUCH Firm: our account at the exchange
  std::string session = "PMMORDERS";      // our outbound session name
  uint32_t history_messages = 65536;      // outbound messages kept for re-requests (power of two)
  uint64_t retry_ns = 20'000'000;         // re-request a hole in the gateway's stream after this long
  uint64_t heartbeat_ns = 100'000'000;    // heartbeat on our stream after this long without sending (0: none)
  uint64_t response_latency_ns = 0;       // deterministic mode (see above); 0: apply on arrival
  uint32_t held_responses = 65536;        // deterministic mode: responses waiting for their feed time
  uint32_t burst = 64;
  // Session login at start (docs/order-entry.md, "Login"): nothing is sent before the gateway said
  // where our stream ends and echoed what it has beyond our recovered state.
  bool login = true;
  uint64_t login_retry_ns = 50'000'000;   // ask again after this long without a complete answer
  uint16_t login_max_echo = 4096;         // echoes held until applied (and asked for per request)
};

// What the control thread reads (relaxed; signed values stored as their two's complement).
struct alignas(64) TradingFigures {
  pipe::RelaxedCounter live_quotes;      // working orders on our quoted sides
  pipe::RelaxedCounter open_orders;      // live orders in the tracker
  pipe::RelaxedCounter net_position;     // signed shares, summed over symbols
  pipe::RelaxedCounter gross_position;   // sum of |shares|
  pipe::RelaxedCounter realized;         // signed, 1/10000 $, after fees
  pipe::RelaxedCounter unrealized;       // signed, 1/10000 $, marked at mid
  pipe::RelaxedCounter fees;             // signed, 1/10000 $
  pipe::RelaxedCounter orders_sent;      // Enter + Replace + Cancel messages
  pipe::RelaxedCounter enters, replaces, cancels;
  pipe::RelaxedCounter fills;
  pipe::RelaxedCounter risk_rejects;     // requests the pre-trade checks refused
  pipe::RelaxedCounter request_errors;   // requests the tracker refused (table full, ...)
  pipe::RelaxedCounter responses;        // OUCH messages applied
  pipe::RelaxedCounter anomalies;        // responses not applied as they were (see OrderTracker)
  pipe::RelaxedCounter bad_messages;     // unknown type or wrong length
  pipe::RelaxedCounter session_gaps, session_requests, session_duplicates, retransmitted, heartbeats;
  pipe::RelaxedCounter late_responses;   // deterministic mode: arrived after their feed time
  pipe::RelaxedCounter held_full;        // deterministic mode: no room to hold (applied at once)
  pipe::RelaxedCounter order_ring_full;  // orders the TX ring refused (the gateway re-requests them)
  pipe::RelaxedCounter unwinding;        // 1 once quoting stopped (Ctrl-C or end of session)
  pipe::RelaxedCounter unwound;          // 1 once unwinding and no order is live
  pipe::RelaxedCounter top_events;
  pipe::RelaxedCounter end_of_session;
  pipe::RelaxedCounter order_stream_digest;  // FNV-1a over every OUCH message sent, in order
  pipe::RelaxedCounter journal_full;     // times the journal had no room: quoting stopped (docs/journal-records.md)
  pipe::RelaxedCounter journal_lost;     // inputs applied without a journal record (journal failed or full)
  pipe::RelaxedCounter journal_failed;   // 1 once the journal failed: quoting stopped
  pipe::RelaxedCounter restored_orders;  // live orders taken over from the recovered state at start
  pipe::RelaxedCounter login_state;      // 0 logging in, 1 catching up, 2 ready (quoting allowed), 3 refused
  pipe::RelaxedCounter login_requests;   // login requests sent
  pipe::RelaxedCounter login_retries;    // of which after a timeout
  pipe::RelaxedCounter login_echoes;     // our own requests the gateway echoed, taken as sent
  pipe::RelaxedCounter login_echo_errors;  // echoes that could not be applied (numbered all the same)
  pipe::RelaxedCounter login_dropped;    // gateway messages dropped while logging in (re-requested later)
};

class TradingStage final : public pipe::QuotingStage {
 public:
  // Throws std::invalid_argument when the configuration does not hold together (symbol lists differ).
  TradingStage(const TradingConfig& config, const pipe::QuoteWiring& wiring, orders::OrderEventSink& events);

  uint32_t run_once() noexcept override;

  uint64_t top_events() const noexcept override { return figures_.top_events.get(); }
  bool end_of_session() const noexcept override { return figures_.end_of_session.get() != 0; }
  const pipe::LatencyHistogram& latency() const noexcept override { return latency_; }
  void request_unwind() noexcept override { unwind_requested_.store(true, std::memory_order_relaxed); }
  bool unwound() const noexcept override { return figures_.unwound.get() != 0; }
  std::string status_text() const override;
  std::string summary_members() const override;

  const TradingFigures& figures() const noexcept { return figures_; }

  // ---- Write-ahead journal (docs/journal-records.md); set-up only, before the cores start ----
  // Every request the tracker accepted is written before its message is sent, every response before it
  // is applied. No room: no new orders (unwind; cancels wait for room); a failed journal: unwind, and
  // cancels go out unjournaled. `journal` must outlive the stage; null: no journal.
  void set_journal(TradingJournal* journal) noexcept { journal_ = journal; }
  // From the recovered state (a fresh stage only): the tracker's bytes (OrderTracker::snapshot()), our
  // session's next outbound sequence and the gateway's next expected one. Live orders are taken over as
  // the working order of their side (others are cancelled at the first step); risk exposure and
  // strategy inventory follow the positions. "" or what is wrong (nothing changed then).
  std::string restore(const uint8_t* tracker_bytes, size_t size, uint64_t next_outbound, uint64_t expected_inbound);
  // Read after the cores stopped (or from the owning core).
  const orders::OrderTracker& tracker() const noexcept { return tracker_; }
  const PreTradeRisk& risk() const noexcept { return risk_; }
  const strategy::QuotingStrategy& strategy() const noexcept { return strategy_; }
  // The management core's way in: run-time limit changes (single producer).
  PreTradeRisk& risk_controls() noexcept { return risk_; }

 private:
  static constexpr uint32_t kMaxBurstsPerStep = 16;
  static constexpr uint64_t kMaxRetransmitPerRequest = 1000;
  // While busy the figures are published at most this often (and on every idle step), never between a
  // decision and its TX: publishing costs about as much as the decision's order tracking.
  static constexpr uint64_t kPublishIntervalNs = 100'000;
  // OUCH messages sent but not yet in the order stream digest (hashed once they have left; see send_now).
  static constexpr uint32_t kDigestPending = 16;
  struct PendingDigest {
    uint16_t length = 0;
    uint8_t bytes[ouch::kMaxMessageLength] = {};
  };
  struct Working {  // our order on one side of one symbol
    orders::OrderToken token;
    orders::OrderToken fallback;  // the order before a replace still in flight
    bool active = false;
    bool has_fallback = false;
  };
  enum class LoginPhase : uint8_t { kLoggingIn = 0, kCatchingUp = 1, kReady = 2, kRefused = 3 };
  enum class EchoResult : uint8_t { kApplied, kWait, kError };
  struct Echoed {  // an echo taken by the login, waiting to be applied
    uint64_t sequence = 0;
    uint16_t length = 0;
    uint8_t block[orders::SessionSender::kMaxMessage] = {};  // [as-of][OUCH inbound]
  };
  class EchoHandler;
  struct Held {  // deterministic mode: a response waiting for its exchange time
    uint64_t due_ns = 0;
    uint64_t sequence = 0;  // in the gateway's session (journaled with the response)
    uint16_t length = 0;
    uint8_t message[pipe::kOrderMessageCapacity] = {};
  };
  class ResponseHandler;

  // Inputs.
  void on_top(const pipe::TopEvent& e) noexcept;
  void on_order_event(const pipe::OrderResponseEvent& e) noexcept;
  void apply_response(const uint8_t* msg, uint16_t len, uint64_t sequence) noexcept;
  void release_held(uint64_t exchange_ns) noexcept;
  // Session login.
  void login_step(uint64_t now_ns) noexcept;
  void on_echo(const pipe::OrderResponseEvent& e) noexcept;
  void on_login_answer(uint64_t gateway_expected) noexcept;
  void apply_echoes() noexcept;
  EchoResult apply_echo(const Echoed& x) noexcept;
  void take_over_live_orders() noexcept;
  void set_login_phase(LoginPhase p) noexcept;
  // Decisions.
  void evaluate(uint32_t sym) noexcept;
  void quote_side(uint32_t sym, orders::Side side, const strategy::SideQuote& target) noexcept;
  void cancel_side(uint32_t sym, orders::Side side) noexcept;
  const orders::OrderRecord* live_working(uint32_t sym, orders::Side side) noexcept;
  void start_unwind() noexcept;
  // Journal.
  bool journal_room(uint32_t records) noexcept;  // true without a journal; else counts and stops quoting
  bool journal_may_cancel(uint32_t records) noexcept;  // room, or the journal failed (cancels go anyway)
  void journal(const journal_records::TradingRecord& r) noexcept;
  void journal_cancel(const orders::OrderToken& token) noexcept;
  void journal_controls(uint32_t n) noexcept;  // control_events_[0, n), as applied
  void cancel_orphans() noexcept;
  // Effects.
  bool send_message(const uint8_t* ouch, uint16_t len) noexcept;
  void send_enter(uint32_t sym, orders::Side side, const orders::OrderToken& token, uint32_t price,
                  uint32_t shares) noexcept;
  void send_replace(const orders::OrderToken& old_token, const orders::OrderToken& new_token, uint32_t price,
                    uint32_t shares) noexcept;
  void send_cancel(const orders::OrderToken& token) noexcept;
  void push_tx(const uint8_t* packet, size_t len, uint64_t rx_tsc) noexcept;  // rx_tsc 0: not an order
  // With the TX stage on this core: what push_tx queued leaves now (then the deferred digest is taken).
  void send_now() noexcept;
  void digest_pending() noexcept;
  void after_tracker_change(uint32_t sym) noexcept;
  void publish() noexcept;

  TradingConfig cfg_;
  pipe::QuoteWiring wiring_;
  orders::OrderTracker tracker_;
  PreTradeRisk risk_;
  strategy::QuotingStrategy strategy_;
  orders::SessionSender sender_;
  orders::SessionReceiver receiver_;
  orders::SessionLogin login_;
  LoginPhase login_phase_ = LoginPhase::kReady;
  bool login_started_ = false;
  std::vector<Echoed> echoes_;  // ring of login_max_echo
  uint32_t echo_head_ = 0, echo_count_ = 0;
  uint64_t login_stuck_ns_ = 0;  // catching up: when the head echo gives up waiting for responses
  ouch::Firm firm_;
  std::vector<ouch::Stock> stocks_;
  std::vector<std::array<Working, 2>> working_;
  std::vector<Bbo> bbo_;
  std::vector<orders::Price> marks_;  // mids for unrealized PnL (0 until both sides seen)
  std::vector<Held> held_;            // ring
  uint32_t held_head_ = 0, held_count_ = 0;
  std::vector<pipe::TopEvent> tops_;
  std::vector<pipe::OrderResponseEvent> responses_;
  std::vector<orders::OrderToken> cancel_tokens_;
  std::array<RiskControlEvent, 8> control_events_{};
  uint64_t exchange_ns_ = 0;   // latest exchange time seen
  uint64_t trigger_tsc_ = 0;   // RX time of what we are reacting to (tick-to-trade)
  uint64_t now_ns_ = 0;        // monotonic time of this step (session timers only, never decisions)
  uint64_t last_sent_ns_ = 0;
  uint64_t release_bound_ = 0;  // release_held's running bound (raised by a nested call)
  bool releasing_ = false;
  bool feed_stale_ = false;
  bool unwinding_ = false;
  bool dirty_ = true;
  uint64_t published_ns_ = 0;  // now_ns_ of the last publish()
  bool tx_pending_ = false;    // push_tx queued something since the last send_now()
  uint64_t digest_ = kFnv1aOffset;
  std::array<PendingDigest, kDigestPending> digest_pending_{};
  uint32_t digest_pending_count_ = 0;
  std::atomic<bool> unwind_requested_{false};
  TradingFigures figures_;
  TradingJournal* journal_ = nullptr;
  bool cancel_orphans_ = false;  // restored live orders not taken over: cancel at the first step
  pipe::LatencyHistogram latency_;  // RX -> top seen by quoting
  // status_text's previous reading (control thread only).
  mutable std::chrono::steady_clock::time_point status_time_{};
  mutable uint64_t status_sent_ = 0;
};

}  // namespace pmm::risk
