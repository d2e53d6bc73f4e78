// The exchange simulator's order-entry side: client orders (plain structs here; the OUCH 4.2 codec
// is glued on by the caller) are validated and matched against the simulator's own feed, and the
// answers come out as plain responses, in order, through a bounded queue released by poll().
//
// The engine is fed every ITCH message the simulator publishes, in order: a BookBuilder keeps the
// feed's L3 books exactly as the stream says, and a mirror of the feed's orders in time priority per
// price level carries a ledger of the displayed shares clients already took, so the same displayed
// shares are never sold to clients twice. Client orders never reach the feed.
// Rules, reject codes, positions and fault options: docs/exchange-simulator.md, "Matching engine".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/order_book.hpp"
#include "perf/sim/fixed_hash_map.hpp"

namespace pmm::sim {

using Token = std::array<char, 14>;   // OUCH order token, right-padded with spaces
using Account = std::array<char, 4>;  // OUCH Firm: whose tokens, orders and positions

Token make_token(std::string_view text) noexcept;      // space padded, cut to 14
Account make_account(std::string_view text) noexcept;  // space padded, cut to 4

inline constexpr uint32_t kImmediateOrCancel = 0;  // time in force; any other value rests for the day

struct EnterRequest {
  Account account{};
  Token token{};
  char side = 'B';  // 'B' buy; 'S' sell, 'T' sell short, 'E' sell short exempt (all sell)
  uint32_t shares = 0;
  itch::Symbol stock{};
  book::Price price = 0;  // Price(4)
  uint32_t time_in_force = 99999;
  char display = 'Y';  // 'Y', 'A' or 'N'
};

struct ReplaceRequest {
  Account account{};
  Token existing_token{};
  Token replacement_token{};
  uint32_t shares = 0;  // the replacement's open shares
  book::Price price = 0;
};

struct CancelRequest {
  Account account{};
  Token token{};
  uint32_t shares = 0;  // the order's intended open shares after the cancel: 0 cancels it
};

enum class ResponseType : char {
  kAccepted = 'A',
  kReplaced = 'U',
  kCanceled = 'C',
  kExecuted = 'E',
  kRejected = 'J',
  kCancelReject = 'I',
};

// OUCH 4.2 reason codes and liquidity flags the engine uses (shared/specs/ouch42.txt, "CODE VALUES").
namespace ouch_code {
inline constexpr char kHalted = 'H';          // Rejected
inline constexpr char kInvalidStock = 'S';    // Rejected
inline constexpr char kInvalidShares = 'Z';   // Rejected: 0 or above max_order_shares
inline constexpr char kInvalidPrice = 'X';    // Rejected: 0 or off the tick
inline constexpr char kInvalidDisplay = 'D';  // Rejected
inline constexpr char kFirm = 'L';            // Rejected: a new account beyond max_accounts
inline constexpr char kOther = 'O';           // Rejected: duplicate/unknown token, bad side, a limit
inline constexpr char kUserCanceled = 'U';    // Canceled
inline constexpr char kImmediateOrCancel = 'I';  // Canceled: the unfilled rest of an IOC order
inline constexpr char kLiquidityAdded = 'A';     // Executed: a resting order filled
inline constexpr char kLiquidityRemoved = 'R';   // Executed: an incoming order filled
}  // namespace ouch_code

// One answer. Which fields are meaningful depends on the type:
//  Accepted / Replaced: token (Replaced: the replacement), previous_token (Replaced), side, shares
//    (open shares), stock, locate, price, time_in_force, display, order_ref, order_state ('L').
//  Canceled: token, decrement_shares, reason.    Executed: token, executed_shares,
//  execution_price, liquidity, match_number.     Rejected: token, reason.    Cancel Reject: token.
struct Response {
  ResponseType type = ResponseType::kRejected;
  uint64_t timestamp = 0;  // the `now` of the input that caused it
  Account account{};
  Token token{};
  Token previous_token{};
  char side = ' ';
  uint32_t shares = 0;
  itch::Symbol stock{};
  uint16_t locate = 0;
  book::Price price = 0;
  uint32_t time_in_force = 0;
  char display = ' ';
  uint64_t order_ref = 0;
  char order_state = ' ';
  uint32_t decrement_shares = 0;
  char reason = ' ';
  uint32_t executed_shares = 0;
  book::Price execution_price = 0;
  char liquidity = ' ';
  uint64_t match_number = 0;
  bool operator==(const Response&) const = default;
};

struct MatchingConfig {
  book::BookCapacity book;                // the feed's books (and the feed-order mirror, same bounds)
  uint32_t max_accounts = 64;
  uint32_t max_open_orders = 65536;       // resting client orders, all accounts together
  uint32_t max_day_tokens = 1u << 20;     // tokens spent in the day, all accounts together
  uint32_t max_positions = 65536;         // (account, stock) pairs with a position
  uint32_t max_queued_responses = 65536;  // responses waiting for poll()
  uint32_t max_sweep_levels = 256;        // price levels one order or one feed event may fill through
  uint32_t max_order_shares = 1000000;
  int64_t fee_remove_per_share = 0;       // 1/10000 dollars per share filled as the taker (< 0: rebate)
  int64_t fee_add_per_share = 0;          // 1/10000 dollars per share filled resting (< 0: rebate)
  // Fault injection, deterministic in the seed: each decision is a hash of (seed, decision, counter).
  uint64_t seed = 1;
  double reject_rate = 0.0;  // fraction of otherwise valid Enter requests rejected with reject_reason
  char reject_reason = ouch_code::kOther;
  double delay_rate = 0.0;   // fraction of responses held back delay_ms (those after it wait too)
  uint32_t delay_ms = 0;
  double drop_rate = 0.0;    // fraction of responses never delivered
};

// "" when usable, else the dotted key and the expected form ("matching.max_accounts: ...").
std::string validate(const MatchingConfig& config);

struct MatchingStats {
  uint64_t feed_messages = 0;
  uint64_t enters = 0, replaces = 0, cancels = 0;  // requests received
  uint64_t accepted = 0, replaced = 0, canceled = 0, cancel_rejects = 0;
  uint64_t executions = 0;          // Executed responses produced (before faults)
  uint64_t taker_executions = 0;    // of which liquidity removed
  uint64_t maker_cross_executions = 0;    // resting order hit by a feed order crossing it
  uint64_t maker_through_executions = 0;  // resting order filled by a feed trade through its price
  // Rejected, by cause:
  uint64_t rejected_unknown_stock = 0, rejected_shares = 0, rejected_price = 0, rejected_side = 0,
           rejected_display = 0, rejected_duplicate_token = 0, rejected_unknown_token = 0, rejected_halted = 0,
           rejected_fault = 0, rejected_account_limit = 0, rejected_open_order_limit = 0,
           rejected_token_limit = 0, rejected_position_limit = 0;
  uint64_t sweep_level_limit = 0;   // a sweep stopped at max_sweep_levels
  uint64_t mirror_errors = 0;       // feed orders the mirror could not follow (capacity)
  // Responses:
  uint64_t responses = 0;           // produced
  uint64_t responses_dropped = 0;   // by drop_rate
  uint64_t responses_delayed = 0;   // chosen by delay_rate
  uint64_t responses_overflow = 0;  // lost: the queue held max_queued_responses
  uint64_t responses_released = 0;  // handed out by poll()
};

struct PositionView {
  Account account{};
  uint16_t locate = 0;
  itch::Symbol stock{};
  int64_t shares = 0;  // signed: bought - sold
  int64_t cash = 0;    // 1/10000 dollars: sells - buys - fees
  int64_t fees = 0;    // 1/10000 dollars paid (negative: rebates received)
  uint64_t bought = 0, sold = 0;  // shares
  bool operator==(const PositionView&) const = default;
};

struct OpenOrderView {
  Account account{};
  Token token{};
  uint64_t order_ref = 0;
  uint16_t locate = 0;
  itch::Symbol stock{};
  char side = ' ';
  book::Price price = 0;
  uint32_t open_shares = 0;
  uint32_t executed_shares = 0;
  uint32_t time_in_force = 0;
  char display = ' ';
  bool operator==(const OpenOrderView&) const = default;
};

class MatchingEngine {
 public:
  explicit MatchingEngine(const MatchingConfig& config);  // config must validate
  ~MatchingEngine();
  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  // One published ITCH message (as framed by MoldUDP64), in feed order. Malformed ones are counted
  // by the BookBuilder and change nothing else.
  void on_feed_message(const uint8_t* p, size_t len, uint64_t now_ns) noexcept;

  // Client requests. now_ns: the caller's clock in nanoseconds (responses carry it; delays count on it).
  void enter(const EnterRequest& request, uint64_t now_ns) noexcept;
  void replace(const ReplaceRequest& request, uint64_t now_ns) noexcept;
  void cancel(const CancelRequest& request, uint64_t now_ns) noexcept;

  // Copies up to max responses due at now_ns (in the order produced) into out; returns how many.
  size_t poll(uint64_t now_ns, Response* out, size_t max) noexcept;
  size_t queued() const noexcept { return queue_size_; }

  // Authoritative state, for reconciliation. Off the hot path (they allocate).
  std::vector<Account> accounts() const;
  std::vector<PositionView> positions(const Account& account) const;    // by locate
  std::vector<OpenOrderView> open_orders(const Account& account) const;  // by order_ref

  const BookBuilder& feed() const noexcept { return *feed_; }
  const MatchingStats& stats() const noexcept { return stats_; }
  // Shares of a live feed order clients have taken (0 when none or not live).
  uint32_t consumed(uint64_t feed_ref) const noexcept;
  // Every internal structure against the others and the feed books; "" or the first breach.
  std::string check_invariants() const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kDead = UINT32_MAX - 1;  // token table: the token's order is closed

  // A live feed order, in its price level's time-priority list.
  struct FeedOrder {
    uint64_t ref = 0;
    book::Price price = 0;
    uint32_t shares = 0;    // left on the feed
    uint32_t consumed = 0;  // displayed shares clients took from it
    uint16_t locate = 0;
    uint8_t side = 0;       // 0 bid, 1 ask
    uint32_t prev = kNone, next = kNone;  // next: a free slot's link too
  };
  struct LevelQueue {
    uint32_t head = kNone, tail = kNone;
  };
  struct ClientOrder {
    Token token{};
    uint16_t account = 0;
    uint16_t locate = 0;
    uint8_t side = 0;  // 0 buy, 1 sell
    char side_code = ' ';
    char display = ' ';
    bool used = false;
    bool resting = false;  // in its book's list (not while an incoming order trades)
    book::Price price = 0;
    uint32_t open = 0;
    uint32_t executed = 0;
    uint32_t time_in_force = 0;
    uint64_t ref = 0;
    uint64_t priority = 0;  // arrival (or priority-losing replace) order
    uint32_t prev = kNone, next = kNone;
  };
  struct TokenKey {
    uint16_t account = 0;
    Token token{};
    bool operator==(const TokenKey&) const = default;
  };
  struct TokenHash {
    uint64_t operator()(const TokenKey& k) const noexcept;
  };
  struct Position {
    int64_t shares = 0, cash = 0, fees = 0;
    uint64_t bought = 0, sold = 0;
  };
  class FeedHandler;
  friend class FeedHandler;

  // Feed mirror (follows the BookBuilder: each change is applied after the builder's, and only
  // when the builder took it).
  void feed_add(uint64_t ref, uint16_t locate, uint8_t side, uint32_t shares, book::Price price) noexcept;
  void feed_reduce(uint64_t ref, uint32_t shares) noexcept;
  void feed_remove(uint32_t node) noexcept;
  // Feed orders of `side` at prices crossing `limit` (bid >= limit / ask <= limit), best price first
  // and in time priority within a price: calls take(order, price, available) with each one's shares
  // not yet consumed while take() returns true. Reads at most max_sweep_levels levels (counted in
  // sweep_level_limit when all of them crossed).
  template <class Take>
  void sweep(uint16_t locate, uint8_t side, book::Price limit, Take&& take) noexcept;

  // Client side.
  bool trading(uint16_t locate) const noexcept;
  bool find_account(const Account& account, uint16_t& index) const noexcept;
  Position* position(uint16_t account, uint16_t locate, bool create) noexcept;
  void book_insert(uint32_t slot) noexcept;
  void book_remove(uint32_t slot) noexcept;
  void order_close(uint32_t slot) noexcept;  // out of the book, token dead, slot freed
  void fill(uint32_t slot, uint32_t shares, book::Price price, char liquidity, uint64_t now) noexcept;
  void take_liquidity(uint32_t slot, uint64_t now) noexcept;  // an incoming order against the feed
  void cross_resting(uint16_t locate, uint64_t now) noexcept;  // feed orders crossing resting ones
  void trade_through(uint16_t locate, uint8_t side, book::Price price, uint32_t shares, uint64_t now) noexcept;
  void reject(const Account& account, const Token& token, char why, uint64_t& counter, uint64_t now) noexcept;
  Response order_response(ResponseType type, const ClientOrder& o, uint64_t now) const noexcept;

  // Responses.
  void emit(const Response& r) noexcept;
  bool fault(uint64_t stream, uint64_t& counter, uint64_t threshold, bool always) noexcept;

  MatchingConfig config_;
  MatchingStats stats_;
  std::unique_ptr<BookBuilder> feed_;

  std::vector<FeedOrder> feed_orders_;
  uint32_t feed_free_ = kNone;
  FixedHashMap<uint64_t, uint32_t> feed_refs_;
  FixedHashMap<uint64_t, LevelQueue> levels_;   // (locate, side, price) -> time-priority list
  FixedHashMap<uint64_t, uint16_t> symbols_;    // packed symbol -> locate, from R messages
  std::vector<book::LevelView> sweep_levels_;   // max_sweep_levels

  std::vector<ClientOrder> orders_;
  uint32_t order_free_ = kNone;
  uint32_t open_orders_ = 0;
  std::vector<uint32_t> book_heads_;  // per (locate, side): best client order, or kNone
  FixedHashMap<TokenKey, uint32_t, TokenHash> tokens_;  // -> open order slot, or kDead
  FixedHashMap<uint32_t, uint16_t> account_index_;       // packed account -> index
  std::vector<Account> accounts_;
  FixedHashMap<uint64_t, Position> positions_;          // (account index, locate)
  uint64_t next_order_ref_ = 1;
  uint64_t next_match_ = 1;
  uint64_t next_priority_ = 1;

  struct Queued {
    Response response;
    uint64_t release_ns = 0;
  };
  std::vector<Queued> queue_;  // ring of max_queued_responses
  size_t queue_head_ = 0, queue_size_ = 0;
  uint64_t last_release_ns_ = 0;
  uint64_t reject_threshold_ = 0, delay_threshold_ = 0, drop_threshold_ = 0;
  uint64_t reject_draws_ = 0, delay_draws_ = 0, drop_draws_ = 0;
};

}  // namespace pmm::sim
