// Positions and PnL per symbol, all integer fixed point (docs/order-manager.md, "Positions").
//
// Units: shares are signed (long > 0); prices are Price(4); money is Money (__int128) in 1/10000
// dollars, so price x shares is exact. Per symbol the book keeps the signed share count, the cost
// basis (signed sum of price x shares of the open position: > 0 long, < 0 short), realized PnL and
// fees paid. Average cost = |basis| / |shares|. Unrealized PnL at a mark m = shares x m - basis.
//
// Closing q of |s| shares releases basis x q / |s| (truncated toward zero; the remainder stays in
// the basis and is released with the last share), so realized - basis always equals the cash flow
// exactly, and a flat position's realized PnL is exactly its cash flow. A fill that crosses zero is
// split into a close of |s| shares and an open of the rest.
#pragma once

#include <cstdint>
#include <vector>

#include "core/orders/order_events.hpp"

namespace pmm::orders {

struct FeeSchedule {
  // Fee per share in 1/10000 dollars (30 = $0.0030); negative = a rebate. One rate for both: set both.
  int64_t maker_per_share = 0;
  int64_t taker_per_share = 0;
};

struct Position {
  int64_t shares = 0;       // signed
  Money cost_basis = 0;     // signed, 1/10000 $
  Money realized = 0;       // 1/10000 $, before fees
  Money fees = 0;           // 1/10000 $ paid (negative: net rebate)
  uint64_t bought = 0;      // shares bought (broken trades subtract)
  uint64_t sold = 0;
  bool operator==(const Position&) const = default;
};

class PositionBook {
 public:
  // Preallocates max_symbols positions.
  PositionBook(uint32_t max_symbols, const FeeSchedule& fees);

  uint32_t max_symbols() const noexcept { return static_cast<uint32_t>(positions_.size()); }
  const FeeSchedule& fees() const noexcept { return fees_; }

  // Fee charged for a fill of `shares` at this liquidity (1/10000 $).
  Money fee_for(uint32_t shares, Liquidity liq) const noexcept;

  // Applies a fill and charges `fee`. Precondition (asserted): symbol < max_symbols.
  void apply_fill(uint32_t symbol, Side side, Price price, uint32_t shares, Money fee) noexcept;
  // Reverses a fill (broken trade): the opposite trade at the same price, and the fee refunded.
  void reverse_fill(uint32_t symbol, Side side, Price price, uint32_t shares, Money fee) noexcept;

  const Position& position(uint32_t symbol) const noexcept { return positions_[symbol]; }
  Money unrealized(uint32_t symbol, Price mark) const noexcept;
  // Average cost of the open position in Price(4), truncated; 0 when flat.
  Price average_cost(uint32_t symbol) const noexcept;

  // Totals over all symbols. marks[i] is symbol i's mid; a size below max_symbols marks the rest
  // at 0 (only allowed for flat symbols: asserted).
  Money total_realized() const noexcept;
  Money total_fees() const noexcept;
  Money total_unrealized(const Price* marks, uint32_t count) const noexcept;

  // Snapshot/restore support.
  void restore(uint32_t symbol, const Position& p) noexcept { positions_[symbol] = p; }

 private:
  void trade(Position& p, int64_t signed_shares, Price price) noexcept;

  FeeSchedule fees_;
  std::vector<Position> positions_;
};

}  // namespace pmm::orders
