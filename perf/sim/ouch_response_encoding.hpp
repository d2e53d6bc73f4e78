// The matching engine's answers as OUCH 4.2 outbound messages: what perf/sim/order_gateway.cpp sends
// on its UDP session and in-process gateways (perf/bench/bench_tick_to_trade.cpp) frame themselves.
// Fields the engine does not keep are answered with fixed values: capacity P (principal: a market
// maker's own account), intermarket sweep N, minimum quantity 0, cross type N (continuous trading),
// BBO weight ' ' (unspecified).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/ouch42.hpp"
#include "perf/sim/matching_engine.hpp"

namespace pmm::sim {

// Encodes `r` into `out` (at least ouch::kMaxMessageLength bytes). Returns the message's length.
inline size_t encode_response(const Response& r, uint8_t* out) noexcept {
  switch (r.type) {
    case ResponseType::kAccepted:
    case ResponseType::kReplaced: {
      // Accepted and Replaced share their layout but for the tokens.
      const auto fill = [&](auto& a) {
        a.timestamp = r.timestamp;
        a.side = r.side;
        a.shares = r.shares;
        a.stock = r.stock;
        a.price = r.price;
        a.time_in_force = r.time_in_force;
        a.firm = r.account;
        a.display = r.display;
        a.order_ref = r.order_ref;
        a.capacity = 'P';
        a.intermarket_sweep = 'N';
        a.min_quantity = 0;
        a.cross_type = 'N';
        a.order_state = r.order_state;
        a.bbo_weight = ' ';
      };
      if (r.type == ResponseType::kAccepted) {
        ouch::Accepted a;
        fill(a);
        a.token = r.token;
        ouch::encode(a, out);
        return ouch::Accepted::kLength;
      }
      ouch::Replaced a;
      fill(a);
      a.replacement_token = r.token;
      a.previous_token = r.previous_token;
      ouch::encode(a, out);
      return ouch::Replaced::kLength;
    }
    case ResponseType::kCanceled: {
      ouch::Canceled m;
      m.timestamp = r.timestamp;
      m.token = r.token;
      m.decrement_shares = r.decrement_shares;
      m.reason = r.reason;
      ouch::encode(m, out);
      return ouch::Canceled::kLength;
    }
    case ResponseType::kExecuted: {
      ouch::Executed m;
      m.timestamp = r.timestamp;
      m.token = r.token;
      m.executed_shares = r.executed_shares;
      m.execution_price = r.execution_price;
      m.liquidity_flag = r.liquidity;
      m.match = r.match_number;
      ouch::encode(m, out);
      return ouch::Executed::kLength;
    }
    case ResponseType::kRejected: {
      ouch::Rejected m;
      m.timestamp = r.timestamp;
      m.token = r.token;
      m.reason = r.reason;
      ouch::encode(m, out);
      return ouch::Rejected::kLength;
    }
    case ResponseType::kCancelReject: {
      ouch::CancelReject m;
      m.timestamp = r.timestamp;
      m.token = r.token;
      ouch::encode(m, out);
      return ouch::CancelReject::kLength;
    }
  }
  return 0;
}

}  // namespace pmm::sim
