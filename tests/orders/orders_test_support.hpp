// Shared by the order tests: an event sink that keeps everything, and response builders.
#pragma once

#include <vector>

#include "core/orders/order_tracker.hpp"

namespace pmm::orders::test {

struct RecordingSink final : OrderEventSink {
  std::vector<OrderEvent> events;
  void on_event(const OrderEvent& e) noexcept override { events.push_back(e); }
  const OrderEvent& last() const { return events.back(); }
};

inline AcceptedResponse accepted(const OrderToken& t, uint32_t shares, Price price) { return {t, shares, price}; }
inline ReplacedResponse replaced(const OrderToken& nt, const OrderToken& pt, uint32_t shares, Price price) {
  return {nt, pt, shares, price};
}
inline CanceledResponse canceled(const OrderToken& t, uint32_t dec, char reason = 'U') { return {t, dec, reason}; }
inline ExecutedResponse executed(const OrderToken& t, uint32_t shares, Price price, uint64_t match,
                                 Liquidity liq = Liquidity::kMaker) {
  return {t, shares, price, liq, match};
}
inline BrokenTradeResponse broken(const OrderToken& t, uint64_t match) { return {t, match, 'E'}; }
inline RejectedResponse rejected(const OrderToken& t, char reason = 'O') { return {t, reason}; }
inline TokenResponse token_only(const OrderToken& t) { return {t}; }

}  // namespace pmm::orders::test
