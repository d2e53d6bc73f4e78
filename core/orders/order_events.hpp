// The order tracker's vocabulary: states, the responses it is fed, the anomalies it counts and the
// fixed-size event record it emits for every transition and fill (docs/order-manager.md).
// These structs are the API the OUCH glue fills in; nothing here depends on the OUCH codec.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/orders/order_token.hpp"

namespace pmm::orders {

using Price = uint32_t;  // Price(4): 4 implied decimals, 1.0000 == 10000
__extension__ typedef __int128 Money;  // 1/10000 dollar units (Price(4) x shares is exact in these)

enum class Side : uint8_t { kBuy = 0, kSell = 1 };  // OUCH 'B' -> kBuy; 'S', 'T', 'E' -> kSell

enum class Liquidity : uint8_t { kMaker = 0, kTaker = 1 };  // from the Liquidity Flag, by the glue

enum class OrderState : uint8_t {
  kFree = 0,        // slot never used (never seen in events)
  kPendingNew,      // Enter Order sent, no Accepted yet
  kAccepted,        // live, nothing executed (in this incarnation: a Replaced starts a new one)
  kPartiallyFilled, // live, some executed
  kPendingCancel,   // Cancel Order sent (the order may not even be accepted yet)
  kPendingReplace,  // Replace Order sent with a new token, no Replaced yet
  kFilled,          // terminal
  kCanceled,        // terminal
  kRejected,        // terminal
};
inline constexpr uint8_t kStateCount = 9;
const char* to_string(OrderState s) noexcept;
inline bool is_terminal(OrderState s) noexcept {
  return s == OrderState::kFilled || s == OrderState::kCanceled || s == OrderState::kRejected;
}
inline bool is_live(OrderState s) noexcept { return s != OrderState::kFree && !is_terminal(s); }

// Responses the tracker cannot apply as they are; each is counted by kind (TrackerCounters) and
// reported in an event. None of them corrupts state; the table in docs/order-manager.md says what
// each one does.
enum class Anomaly : uint8_t {
  kNone = 0,
  kUnknownToken,   // not one of ours, or its slot was reused since (not applied)
  kStaleToken,     // the token an order had before its last Replaced
  kTerminalOrder,  // the order is already filled, canceled or rejected
  kDuplicate,      // Accepted/Replaced again, an execution with a match number already applied, a break twice
  kUnexpected,     // a response the order's state does not allow (e.g. Cancel Reject with no cancel sent)
  kOutOfOrder,     // a response that should have come after another one that has not (e.g. Executed before Accepted)
  kOverfill,       // an execution for more shares than the order has open (the whole fill still counts)
  kOverDecrement,  // a Canceled decrementing more shares than the order has open
  kUnknownFill,    // a Broken Trade for a (token, match number) not in the fill history
};
inline constexpr uint8_t kAnomalyCount = 10;
const char* to_string(Anomaly a) noexcept;

// Errors on our own requests (submit, cancel, replace): returned to the caller and counted.
enum class RequestError : uint8_t {
  kNone = 0,
  kTableFull,        // every one of max_open_orders slots holds a live order
  kTokensExhausted,  // the epoch's counter space is used up: restart for a new epoch
  kBadSymbol,        // symbol >= max_symbols
  kBadShares,        // 0 or above max_order_shares
  kBadPrice,         // 0
  kUnknownToken,     // cancel/replace for a token that is not a current token of ours
  kNotCancelable,    // state is not pending-new, accepted or partially filled
  kNotReplaceable,   // state is not accepted or partially filled
};
inline constexpr uint8_t kRequestErrorCount = 9;
const char* to_string(RequestError e) noexcept;

// ---- Responses (exchange -> us), one struct per OUCH outbound message the tracker uses ----

struct AcceptedResponse {  // OUCH 'A'
  OrderToken token;
  uint32_t shares = 0;
  Price price = 0;
};
struct ReplacedResponse {  // OUCH 'U'
  OrderToken new_token;
  OrderToken previous_token;
  uint32_t shares = 0;  // the new order's open shares, as the exchange reports them
  Price price = 0;
};
struct CanceledResponse {  // OUCH 'C' (and 'D', AIQ Canceled)
  OrderToken token;
  uint32_t decrement = 0;
  char reason = ' ';
};
struct ExecutedResponse {  // OUCH 'E' (and 'G')
  OrderToken token;
  uint32_t shares = 0;
  Price price = 0;
  Liquidity liquidity = Liquidity::kMaker;
  uint64_t match_number = 0;
};
struct BrokenTradeResponse {  // OUCH 'B'
  OrderToken token;
  uint64_t match_number = 0;
  char reason = ' ';
};
struct RejectedResponse {  // OUCH 'J'
  OrderToken token;
  char reason = ' ';
};
struct TokenResponse {  // OUCH 'P' Cancel Pending and 'I' Cancel Reject: a token only
  OrderToken token;
};

// ---- Events (us -> journal) ----

enum class EventKind : uint8_t {
  kSubmitted = 0,     // Enter Order requested: token, symbol, side, price, shares
  kCancelRequested,   // Cancel Order requested
  kReplaceRequested,  // Replace Order requested: token (old), other_token (new), price, shares (new)
  kAccepted,
  kReplaced,          // token (new), other_token (previous), price, shares (new open)
  kReplaceRejected,   // Rejected on the replacement token: the old order stays as it was
  kCanceled,          // shares = decrement (the order may stay live after a partial decrement)
  kRejected,
  kCancelPending,
  kCancelRejected,
  kFill,              // an execution applied to the position: price, shares, match_number
  kBreak,             // a broken trade reversed in the position: price, shares, match_number
  kAnomaly,           // a response not applied (or applied with a caveat): anomaly says which
};
inline constexpr uint8_t kEventKindCount = 13;
const char* to_string(EventKind k) noexcept;

// One record per transition or fill: fixed size, trivially copyable, for the journal ring.
struct OrderEvent {
  uint64_t sequence = 0;      // 1, 2, 3, ... per tracker (restored trackers continue theirs)
  uint64_t match_number = 0;  // kFill, kBreak, and anomalies of executions and breaks
  OrderToken token;           // the order's token (for a response: the token it carried)
  OrderToken other_token;     // replace: the other token of the pair; else spaces
  Price price = 0;
  uint32_t shares = 0;
  uint32_t open_shares = 0;   // the order's open shares after the event
  uint16_t symbol = 0;
  EventKind kind = EventKind::kSubmitted;
  OrderState state = OrderState::kFree;  // the order's state after the event (kFree: unknown order)
  Side side = Side::kBuy;
  Anomaly anomaly = Anomaly::kNone;      // kAnomaly, or a fill applied with a caveat (kOverfill, ...)
  char reason = ' ';                     // the exchange's reason code, or the Liquidity ('M'/'T') of a fill
  uint8_t reserved = 0;
};
static_assert(sizeof(OrderEvent) <= 64);
static_assert(std::is_trivially_copyable_v<OrderEvent>);

// Where events go (the journal ring later). Called synchronously on the tracker's thread; must not
// block. The tracker never drops an event itself: a sink that cannot keep one counts it.
class OrderEventSink {
 public:
  virtual ~OrderEventSink() = default;
  virtual void on_event(const OrderEvent& e) noexcept = 0;
};

// Discards the events: the appliance journals the tracker's inputs (docs/journal-records.md), from
// which these events follow, so it needs no copy of them.
class NullEventSink final : public OrderEventSink {
 public:
  void on_event(const OrderEvent&) noexcept override {}
};

}  // namespace pmm::orders
