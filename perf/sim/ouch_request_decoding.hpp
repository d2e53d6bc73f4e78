// OUCH 4.2 inbound orders as the matching engine's requests: what perf/sim/order_gateway.cpp,
// in-process gateways (perf/bench/bench_tick_to_trade.cpp) and the test loop hand to MatchingEngine.
// Replace and Cancel carry no firm: the session's account (the firm of its first Enter) is passed in.
#pragma once

#include "core/ouch42.hpp"
#include "perf/sim/matching_engine.hpp"

namespace pmm::sim {

inline EnterRequest enter_request(const ouch::EnterOrder& m) noexcept {
  EnterRequest r;
  r.account = m.firm;
  r.token = m.token;
  r.side = m.side;
  r.shares = m.shares;
  r.stock = m.stock;
  r.price = m.price;
  r.time_in_force = m.time_in_force;
  r.display = m.display;
  return r;
}

inline ReplaceRequest replace_request(const ouch::ReplaceOrder& m, const Account& account) noexcept {
  ReplaceRequest r;
  r.account = account;
  r.existing_token = m.existing_token;
  r.replacement_token = m.replacement_token;
  r.shares = m.shares;
  r.price = m.price;
  return r;
}

inline CancelRequest cancel_request(const ouch::CancelOrder& m, const Account& account) noexcept {
  CancelRequest r;
  r.account = account;
  r.token = m.token;
  r.shares = m.shares;
  return r;
}

}  // namespace pmm::sim
