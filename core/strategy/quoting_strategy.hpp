// The quoting strategy: for each configured symbol, turns top-of-book updates, our inventory, the
// feed's state and the ITCH trading state into a target quote (quote_model.hpp) and decides whether
// to send it now: requote when a side's target moved by more than the threshold, at most once per
// minimum interval; pull everything while the book is stale, the symbol is not trading, or the book
// is one-sided or crossed. Time is passed in (no clock reads). A fixed table indexed by symbol, set up
// at construction: nothing allocates after that. docs/strategy.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/pipeline/relaxed_counter.hpp"
#include "core/strategy/quote_model.hpp"
#include "core/strategy/strategy_config.hpp"
#include "core/strategy/strategy_state.hpp"
#include "core/strategy/volatility_estimator.hpp"

namespace pmm::strategy {

enum class Action : uint8_t {
  kNone,     // nothing to send
  kRequote,  // make Decision::quote the live quote (a side with 0 shares: none on that side)
  kPull,     // cancel every quote on this symbol
};

// Why an evaluation did not leave a fresh target live. kQuoting: it did (a requote was decided).
enum class Reason : uint8_t {
  kQuoting,
  kStale,           // the book has a feed gap open
  kNotTrading,      // trading state (ITCH H) is not T: halted, paused, quotation only, or none seen yet
  kNoBbo,           // no top seen yet, or a side of the book is empty
  kCrossedBook,     // best bid >= best ask
  kNoSide,          // the target has no side (inventory limits, prices out of range)
  kBelowThreshold,  // the live quote is within the threshold of the target: it stays
  kThrottled,       // the target moved, but the last message was under min_requote_interval ago
};
inline constexpr size_t kReasonCount = 8;
const char* to_string(Reason r) noexcept;

struct Decision {
  Action action = Action::kNone;
  Reason reason = Reason::kQuoting;
  Quote quote;  // kRequote: the new live quote; kNone: the target, if one was computed; kPull: empty
};

struct TopOfBook {
  uint32_t bid_price = 0;  // Price(4); 0: no bid
  uint32_t bid_shares = 0;
  uint32_t ask_price = 0;  // 0: no ask
  uint32_t ask_shares = 0;
};

struct alignas(64) SymbolCounters {
  pipe::RelaxedCounter tops;
  pipe::RelaxedCounter evaluations;
  pipe::RelaxedCounter requotes;
  pipe::RelaxedCounter pulls;
  pipe::RelaxedCounter time_backwards;  // observations older than the previous one (counted as dt 0)
  std::array<pipe::RelaxedCounter, kReasonCount> by_reason;  // evaluations, by Decision::reason
};

class QuotingStrategy {
 public:
  // config.symbols become indexes 0..n-1 in order. The config must have passed parse_strategy_config.
  explicit QuotingStrategy(const StrategyConfig& config);

  uint32_t symbol_count() const noexcept { return static_cast<uint32_t>(slots_.size()); }
  int index_of(std::string_view symbol) const noexcept;  // -1: not quoted (start-up use: linear)
  const std::string& symbol(uint32_t index) const noexcept { return slot(index).name; }
  const ModelParams& params(uint32_t index) const noexcept { return slot(index).params; }

  // Inputs. A top with both sides, not crossed, while the book is not stale, also feeds volatility.
  void on_top(uint32_t index, const TopOfBook& top, uint64_t now_ns) noexcept;
  void set_inventory(uint32_t index, int64_t shares) noexcept { slot(index).inventory = shares; }
  void set_book_stale(uint32_t index, bool stale) noexcept { slot(index).stale = stale; }
  void set_feed_stale(bool stale) noexcept {  // the whole feed: every symbol
    for (Slot& s : slots_) s.stale = stale;
  }
  void set_trading_state(uint32_t index, char itch_state) noexcept { slot(index).trading_state = itch_state; }

  // The decision for one symbol now. kRequote and kPull are taken as sent: the live quote becomes the
  // decision's quote and the throttle restarts. The caller must send them (or call forget_live_quote).
  Decision evaluate(uint32_t index, uint64_t now_ns) noexcept;
  // Our quotes on this symbol are gone (cancelled by the exchange, or a send failed): the next
  // evaluation quotes afresh.
  void forget_live_quote(uint32_t index) noexcept { slot(index).live = Quote{}; }

  // The mid's variance over the horizon the next quote uses (floor applied), Price(4)^2 * 2^8.
  uint64_t variance_q8(uint32_t index) const noexcept;
  const Quote& live_quote(uint32_t index) const noexcept { return slot(index).live; }
  const SymbolCounters& counters(uint32_t index) const noexcept { return slot(index).counters; }
  const VolatilityEstimator& volatility(uint32_t index) const noexcept { return slot(index).vol; }

  // The restart state (strategy_state.hpp). restore matches symbols by name: saved symbols no longer
  // configured are skipped, configured ones not saved start fresh. Returns "" or an error for a file
  // of another format (then nothing is restored). *restored: symbols restored.
  void save(StrategyState& out) const noexcept;
  std::string restore(const StrategyState& in, uint32_t* restored = nullptr);

 private:
  struct Slot {
    std::string name;
    ModelParams params;
    VolatilityEstimator vol;
    TopOfBook top;
    bool have_top = false;
    bool stale = false;
    char trading_state = ' ';  // none seen yet: not trading until an H message says T
    int64_t inventory = 0;
    Quote live;
    bool sent_any = false;     // last_message_ns is meaningful
    uint64_t last_message_ns = 0;
    SymbolCounters counters;
  };

  Slot& slot(uint32_t index) noexcept;
  const Slot& slot(uint32_t index) const noexcept;
  Decision pause(Slot& s, Reason reason, uint64_t now_ns) noexcept;

  std::vector<Slot> slots_;
};

}  // namespace pmm::strategy
