#include "core/orders/positions.hpp"

#include <cassert>

namespace pmm::orders {

PositionBook::PositionBook(uint32_t max_symbols, const FeeSchedule& fees)
    : fees_(fees), positions_(max_symbols) {}

Money PositionBook::fee_for(uint32_t shares, Liquidity liq) const noexcept {
  const int64_t rate = liq == Liquidity::kMaker ? fees_.maker_per_share : fees_.taker_per_share;
  return Money{shares} * rate;
}

void PositionBook::trade(Position& p, int64_t q, Price price) noexcept {
  // q: signed shares of this trade (> 0 buy). Splits into a close (toward zero) and an open.
  const Money px = price;
  if (p.shares != 0 && ((p.shares > 0) != (q > 0))) {
    const int64_t held = p.shares > 0 ? p.shares : -p.shares;
    const int64_t traded = q > 0 ? q : -q;
    const int64_t closed = traded < held ? traded : held;
    const Money released = closed == held ? p.cost_basis : p.cost_basis * closed / held;
    const int64_t sign = p.shares > 0 ? 1 : -1;
    p.realized += Money{sign} * closed * px - released;
    p.cost_basis -= released;
    p.shares -= sign * closed;
    q += sign * closed;  // what is left opens on the other side
  }
  p.cost_basis += Money{q} * px;
  p.shares += q;
}

void PositionBook::apply_fill(uint32_t symbol, Side side, Price price, uint32_t shares, Money fee) noexcept {
  assert(symbol < positions_.size());
  Position& p = positions_[symbol];
  trade(p, side == Side::kBuy ? int64_t{shares} : -int64_t{shares}, price);
  if (side == Side::kBuy) p.bought += shares;
  else p.sold += shares;
  p.fees += fee;
}

void PositionBook::reverse_fill(uint32_t symbol, Side side, Price price, uint32_t shares, Money fee) noexcept {
  assert(symbol < positions_.size());
  Position& p = positions_[symbol];
  trade(p, side == Side::kBuy ? -int64_t{shares} : int64_t{shares}, price);
  if (side == Side::kBuy) p.bought -= shares;
  else p.sold -= shares;
  p.fees -= fee;
}

Money PositionBook::unrealized(uint32_t symbol, Price mark) const noexcept {
  const Position& p = positions_[symbol];
  return Money{p.shares} * mark - p.cost_basis;
}

Price PositionBook::average_cost(uint32_t symbol) const noexcept {
  const Position& p = positions_[symbol];
  if (p.shares == 0) return 0;
  const Money basis = p.cost_basis < 0 ? -p.cost_basis : p.cost_basis;
  const int64_t held = p.shares > 0 ? p.shares : -p.shares;
  return static_cast<Price>(basis / held);
}

Money PositionBook::total_realized() const noexcept {
  Money t = 0;
  for (const Position& p : positions_) t += p.realized;
  return t;
}

Money PositionBook::total_fees() const noexcept {
  Money t = 0;
  for (const Position& p : positions_) t += p.fees;
  return t;
}

Money PositionBook::total_unrealized(const Price* marks, uint32_t count) const noexcept {
  Money t = 0;
  for (uint32_t i = 0; i < positions_.size(); ++i) {
    const Price m = i < count ? marks[i] : 0;
    assert((i < count || positions_[i].shares == 0) && "an open position needs a mark");
    t += unrealized(i, m);
  }
  return t;
}

}  // namespace pmm::orders
