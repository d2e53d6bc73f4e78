// A deterministic, realistic-looking NASDAQ TotalView-ITCH 5.0 trading day, for benchmarks, replay
// tests and demos. Same seed and config => the same bytes on every platform (own PRNG, integer
// arithmetic only).
//
// Shape of the day:
//  - start: S 'O', S 'S', R for every symbol (locates 1..symbols, alphabetical), H 'T' for every
//    symbol, Y and L for some, S 'Q';
//  - bulk, 04:00 to 20:00 with most traffic 09:30-16:00: ~44 % A (a few % of those F), ~43 % D,
//    ~7 % U, ~2 % E, ~1 % X, small amounts of C and P, I in the cross windows (09:25-09:30,
//    15:50-16:00), Q for the opening/closing cross of the active symbols, two halts with resumption;
//  - end: S 'M', S 'E', S 'C' (the last three messages, when the count allows).
//
// Order flow model, per symbol: a mid in ticks ($0.01). Tracked bids sit at or below the mid and
// tracked asks above it, in per-price FIFO lists, so executions can hit the touch in time priority;
// when a removal empties the touch, the mid steps one tick away from it (the price random walk is
// driven by the order flow, and the book never crosses through it). A few orders are placed far away
// (untracked), and a few lock or cross the book briefly (deleted a few messages later). Symbol
// activity is Zipf-like; cancels and replaces prefer young orders. Every D/U/E/X/C references a live
// order, order reference numbers increase by one from 1, timestamps never decrease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pmm::gen {

struct DayConfig {
  uint64_t seed = 1;
  uint64_t messages = 1'000'000;          // exactly this many messages are produced
  uint32_t symbols = 8000;                // 1 .. 65535 (locates 1..symbols)
  uint32_t target_live_orders = 1'000'000;  // live orders ramp up to this, then hover around it
};

// "" when the config is usable, else what is wrong.
std::string validate(const DayConfig& config);

class ItchDayGenerator {
 public:
  // Allocates everything the day needs up front. Throws std::invalid_argument when validate() fails.
  explicit ItchDayGenerator(const DayConfig& config);
  ~ItchDayGenerator();
  ItchDayGenerator(const ItchDayGenerator&) = delete;
  ItchDayGenerator& operator=(const ItchDayGenerator&) = delete;

  // Writes the next message into out (at least itch::kMaxMessageLength bytes) and returns its length;
  // 0 once the configured count has been produced.
  size_t next(uint8_t* out);

  uint64_t produced() const noexcept;
  // Symbol names without padding; index = locate - 1.
  const std::vector<std::string>& symbols() const noexcept;
  uint64_t live_orders() const noexcept;       // as of the messages produced so far
  uint64_t peak_live_orders() const noexcept;
  const DayConfig& config() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace pmm::gen
