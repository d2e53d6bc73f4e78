// Routes one framed ITCH 5.0 message to a handler's on_<type>(const Msg&) by its type byte, after
// checking the length the framing gave against the spec's length for that type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/itch.hpp"

namespace pmm::itch {

enum class DispatchResult : uint8_t {
  kOk,
  kUnknownType,  // type not in ITCH 5.0: skipped by its framed length
  kBadLength,    // known type, framed length differs from the spec's: malformed, skipped
  kEmpty,        // zero-length message (BinaryFILE uses it for end of session)
};

// A handler may derive from this to ignore the message types it does not need.
struct IgnoreAll {
  void on(const SystemEvent&) noexcept {}
  void on(const StockDirectory&) noexcept {}
  void on(const StockTradingAction&) noexcept {}
  void on(const RegShoRestriction&) noexcept {}
  void on(const MarketParticipantPosition&) noexcept {}
  void on(const MwcbDeclineLevel&) noexcept {}
  void on(const MwcbStatus&) noexcept {}
  void on(const IpoQuotingPeriod&) noexcept {}
  void on(const LuldAuctionCollar&) noexcept {}
  void on(const OperationalHalt&) noexcept {}
  void on(const AddOrder&) noexcept {}
  void on(const AddOrderMpid&) noexcept {}
  void on(const OrderExecuted&) noexcept {}
  void on(const OrderExecutedWithPrice&) noexcept {}
  void on(const OrderCancel&) noexcept {}
  void on(const OrderDelete&) noexcept {}
  void on(const OrderReplace&) noexcept {}
  void on(const Trade&) noexcept {}
  void on(const CrossTrade&) noexcept {}
  void on(const BrokenTrade&) noexcept {}
  void on(const Noii&) noexcept {}
  void on(const RetailInterest&) noexcept {}
  void on(const DirectListingPriceDiscovery&) noexcept {}
};

namespace detail {
template <class Msg, class Handler>
inline DispatchResult decode_and_call(const uint8_t* p, size_t len, Handler& handler) {
  if (len != Msg::kLength) [[unlikely]]
    return DispatchResult::kBadLength;
  Msg m;
  decode(p, m);
  handler.on(m);
  return DispatchResult::kOk;
}
}  // namespace detail

// p holds len bytes, the whole message as framed by MoldUDP64 or BinaryFILE.
template <class Handler>
inline DispatchResult dispatch(const uint8_t* p, size_t len, Handler& handler) {
  using detail::decode_and_call;
  if (len == 0) [[unlikely]]
    return DispatchResult::kEmpty;
  switch (p[0]) {
    // The order messages come first: they are ~97 % of a day.
    case 'A': return decode_and_call<AddOrder>(p, len, handler);
    case 'D': return decode_and_call<OrderDelete>(p, len, handler);
    case 'U': return decode_and_call<OrderReplace>(p, len, handler);
    case 'E': return decode_and_call<OrderExecuted>(p, len, handler);
    case 'X': return decode_and_call<OrderCancel>(p, len, handler);
    case 'F': return decode_and_call<AddOrderMpid>(p, len, handler);
    case 'C': return decode_and_call<OrderExecutedWithPrice>(p, len, handler);
    case 'P': return decode_and_call<Trade>(p, len, handler);
    case 'S': return decode_and_call<SystemEvent>(p, len, handler);
    case 'R': return decode_and_call<StockDirectory>(p, len, handler);
    case 'H': return decode_and_call<StockTradingAction>(p, len, handler);
    case 'Y': return decode_and_call<RegShoRestriction>(p, len, handler);
    case 'L': return decode_and_call<MarketParticipantPosition>(p, len, handler);
    case 'V': return decode_and_call<MwcbDeclineLevel>(p, len, handler);
    case 'W': return decode_and_call<MwcbStatus>(p, len, handler);
    case 'K': return decode_and_call<IpoQuotingPeriod>(p, len, handler);
    case 'J': return decode_and_call<LuldAuctionCollar>(p, len, handler);
    case 'h': return decode_and_call<OperationalHalt>(p, len, handler);
    case 'Q': return decode_and_call<CrossTrade>(p, len, handler);
    case 'B': return decode_and_call<BrokenTrade>(p, len, handler);
    case 'I': return decode_and_call<Noii>(p, len, handler);
    case 'N': return decode_and_call<RetailInterest>(p, len, handler);
    case 'O': return decode_and_call<DirectListingPriceDiscovery>(p, len, handler);
    default: return DispatchResult::kUnknownType;
  }
}

}  // namespace pmm::itch
