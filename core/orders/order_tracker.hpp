// OrderTracker: our orders on one OUCH session, from request to terminal state, with the positions,
// PnL and open-order views they imply (docs/order-manager.md has the state table).
//
// - Orders live in a preallocated table of max_open_orders slots; the token carries the slot
//   (order_token.hpp), so finding an order is one decode and one compare, O(1). A slot is freed
//   when its order becomes terminal and reused oldest-freed first, so a terminal order is still
//   recognized (and late responses to it classified) until its slot is taken again.
// - Every request, response and fill is one explicit transition and produces one OrderEvent for
//   the sink. A response that does not fit the order's state is counted by Anomaly kind and never
//   corrupts state. Executions are applied to positions whenever the order can be identified,
//   even when the state says it should not have happened: the exchange's fills are the truth.
// - No allocation, lock or system call after construction (snapshot() allocates: not hot path).
// - Single-threaded: one thread calls everything; counters are plain integers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/orders/fill_history.hpp"
#include "core/orders/order_events.hpp"
#include "core/orders/order_token.hpp"
#include "core/orders/positions.hpp"

namespace pmm::orders {

struct OrderTrackerConfig {
  uint32_t max_open_orders = 4096;     // table slots: live orders at once; 1 .. kSlotLimit
  uint32_t max_symbols = 8192;         // symbol indexes 0 .. max_symbols-1; 1 .. 65536
  uint32_t fill_history = 65536;       // fills remembered for breaks and duplicates; >= 1
  uint32_t max_order_shares = 1000000; // per order; 1 .. 2^31
  FeeSchedule fees;                    // each |rate| <= 1,000,000 (= $100 per share)
};

// "" when valid, else an error naming the key (orders.max_open_orders, ...) and the expected form.
std::string validate(const OrderTrackerConfig& c);

struct OrderRecord {
  OrderToken token;           // current token
  OrderToken pending_token;   // the replacement token while a replace is outstanding
  OrderToken previous_token;  // the token before the last Replaced
  Price price = 0;
  Price pending_price = 0;
  uint32_t shares = 0;          // size as entered, accepted or replaced
  uint32_t open = 0;            // open (leaves) shares; before Accepted: the shares requested
  uint32_t executed = 0;        // executed since Accepted/Replaced (this incarnation)
  uint32_t pending_shares = 0;  // requested size of the replacement
  uint16_t symbol = 0;
  Side side = Side::kBuy;
  OrderState state = OrderState::kFree;
  bool acked = false;         // the exchange has accepted it (or acted on it as if it had)
  bool has_pending = false;   // pending_token is meaningful (kept after a pending replace ends terminal)
  bool has_previous = false;  // previous_token is meaningful
  bool operator==(const OrderRecord&) const = default;
};

// Per symbol: what risk checks need about resting and in-flight orders.
struct OpenView {
  uint64_t buy_shares = 0;   // open shares of live buy orders (pending replace: max(old open, new size))
  uint64_t sell_shares = 0;
  uint32_t orders = 0;       // live orders
  bool operator==(const OpenView&) const = default;
};

struct OrderTrackerCounters {
  uint64_t events[kEventKindCount] = {};            // by EventKind (kAnomaly: responses not applied)
  uint64_t anomalies[kAnomalyCount] = {};           // by Anomaly (applied-with-caveat ones included)
  uint64_t request_errors[kRequestErrorCount] = {};  // by RequestError
  bool operator==(const OrderTrackerCounters&) const = default;
};

struct SubmitResult {
  RequestError error = RequestError::kNone;
  OrderToken token;  // the new order's token (replace: the replacement token); valid when kNone
};

struct CancelAllResult {
  uint32_t requested = 0;  // cancels written to the caller's buffer: send each as an OUCH Cancel Order
  uint32_t waiting = 0;    // live orders not canceled now: already pending cancel, or pending replace
};

class OrderTracker {
 public:
  // Asserts validate(config) == "" (the caller validates first and reports). Allocates everything.
  OrderTracker(const OrderTrackerConfig& config, uint32_t epoch, OrderEventSink& sink);

  OrderTracker(const OrderTracker&) = delete;
  OrderTracker& operator=(const OrderTracker&) = delete;

  // ---- Requests: on kNone the caller sends the OUCH message with the returned token ----
  SubmitResult submit(uint32_t symbol, Side side, Price price, uint32_t shares) noexcept;
  SubmitResult request_replace(const OrderToken& token, Price price, uint32_t shares) noexcept;
  RequestError request_cancel(const OrderToken& token) noexcept;

  // Replay (journal recovery, docs/journal-records.md): the same transitions as submit() and
  // request_replace(), with the token the live tracker issued instead of a new one (this tracker's
  // TokenIssuer is not used). submit_as: the token must be ours and name a free slot; request_replace_as:
  // `new_token` must be ours and name the order's slot. kUnknownToken otherwise (nothing changed).
  // A tracker fed through these must not call submit()/request_replace() itself.
  SubmitResult submit_as(const OrderToken& token, uint32_t symbol, Side side, Price price, uint32_t shares) noexcept;
  SubmitResult request_replace_as(const OrderToken& token, const OrderToken& new_token, Price price,
                                  uint32_t shares) noexcept;

  // Cancel every live order that can be canceled now; writes their tokens to out (room for
  // max_open_orders is always enough). Call again as responses arrive until all_acknowledged().
  CancelAllResult cancel_all(OrderToken* out, size_t capacity) noexcept;
  bool all_acknowledged() const noexcept { return live_orders_ == 0; }  // no order is live

  // ---- Responses ----
  void on_accepted(const AcceptedResponse& r) noexcept;
  void on_replaced(const ReplacedResponse& r) noexcept;
  void on_canceled(const CanceledResponse& r) noexcept;
  void on_executed(const ExecutedResponse& r) noexcept;
  void on_broken_trade(const BrokenTradeResponse& r) noexcept;
  void on_rejected(const RejectedResponse& r) noexcept;
  void on_cancel_pending(const TokenResponse& r) noexcept;
  void on_cancel_reject(const TokenResponse& r) noexcept;

  // ---- Queries ----
  const OrderTrackerConfig& config() const noexcept { return config_; }
  // The order whose current token this is (live or terminal and not yet reused), else null.
  const OrderRecord* find(const OrderToken& token) const noexcept;
  const OrderRecord& slot(uint32_t i) const noexcept { return slots_[i]; }
  const OpenView& open_view(uint32_t symbol) const noexcept { return views_[symbol]; }
  uint32_t live_orders() const noexcept { return live_orders_; }
  const PositionBook& positions() const noexcept { return positions_; }
  const FillHistory& fills() const noexcept { return fills_; }
  const OrderTrackerCounters& counters() const noexcept { return counters_; }
  const TokenIssuer& tokens() const noexcept { return tokens_; }
  uint64_t last_event_sequence() const noexcept { return sequence_; }

  // Tests and tools: continue this epoch's token counter from `counter` (<= kCounterLimit), e.g. to
  // reach exhaustion without issuing two billion tokens.
  void skip_tokens_to(uint64_t counter) noexcept { tokens_.set_next_counter(counter); }

  // ---- Snapshot / restore (order_snapshot.cpp; format in docs/order-manager.md) ----
  // Live orders, positions, the fill history and the event sequence; versioned bytes.
  std::vector<uint8_t> snapshot() const;
  // Into a tracker that has issued nothing yet. "" on success; otherwise an error naming the
  // offset and field, and the tracker is left as it was constructed (nothing half-restored).
  std::string restore(const uint8_t* data, size_t size);

 private:
  enum class Match : uint8_t { kNone, kCurrent, kPending, kPrevious };
  Match resolve(const OrderToken& token, uint32_t& slot) const noexcept;

  void unview(const OrderRecord& o) noexcept;
  void view(const OrderRecord& o) noexcept;
  void finish(uint32_t slot, OrderRecord& o, OrderState terminal) noexcept;
  static OrderState resting_state(const OrderRecord& o) noexcept;

  OrderEvent event(EventKind kind, const OrderRecord& o) noexcept;
  void emit(OrderEvent& e, Anomaly a = Anomaly::kNone) noexcept;
  // As emit, for an anomaly already counted where it was found (a response can find two).
  void emit_counted(OrderEvent& e, Anomaly a) noexcept;
  // A response not applied: counted, reported with the token it carried.
  void reject_response(Anomaly a, const OrderToken& token, const OrderRecord* o, uint64_t match = 0) noexcept;
  // The order a response's token names (m: as which token), or nullptr once the response is
  // rejected: an unknown token, a replaced order's old token, an order already done.
  OrderRecord* order_for_response(const OrderToken& token, uint32_t& slot, Match& m) noexcept;
  // As order_for_response, for Cancel Pending / Cancel Reject: the order must have a cancel outstanding.
  OrderRecord* order_canceling(const OrderToken& token) noexcept;
  RequestError request_error(RequestError e) noexcept;
  RequestError check_submit(uint32_t symbol, Price price, uint32_t shares) noexcept;  // counted when not kNone
  void enter_at_head(const OrderToken& token, uint32_t symbol, Side side, Price price, uint32_t shares) noexcept;
  SubmitResult replace_with(const OrderToken& token, const OrderToken* given, Price price, uint32_t shares) noexcept;
  void clear_tables() noexcept;

  OrderTrackerConfig config_;
  OrderEventSink& sink_;
  TokenIssuer tokens_;
  std::vector<OrderRecord> slots_;
  std::vector<uint32_t> free_;  // FIFO ring of free slot indexes
  uint32_t free_head_ = 0;
  uint32_t free_count_ = 0;
  std::vector<OpenView> views_;
  uint32_t live_orders_ = 0;
  PositionBook positions_;
  FillHistory fills_;
  OrderTrackerCounters counters_;
  uint64_t sequence_ = 0;
};

}  // namespace pmm::orders
