// Run-time changes to the pre-trade risk: fixed-size commands the management core pushes on an SPSC
// ring, and the record each one leaves once the hot-path owner has applied (or refused) it, for the
// journal. Both are trivially copyable, fixed layout. docs/risk.md, "Control ring".
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "risk/risk_limits.hpp"

namespace pmm::risk {

enum class RiskControlKind : uint8_t {
  kSetGlobalLimit = 0,  // limit = value; a per-symbol limit id changes the default and every symbol
                        // without an override of it
  kSetSymbolLimit,      // symbol's limit = value, and marks it overridden (per-symbol ids only)
  kKillSwitch,          // value 1: engage (every order rejected), 0: release
  kResetRateBucket,     // the order-rate bucket refills to order_burst tokens now
  kSetPosition,         // symbol's position = value (shares, signed): a reconciliation result
};

// One command. `request_id` is the management plane's, echoed in the event so an API call can find
// its outcome.
struct RiskControl {
  uint64_t request_id = 0;
  int64_t value = 0;
  RiskControlKind kind = RiskControlKind::kKillSwitch;
  RiskLimitId limit = RiskLimitId::kMaxPosition;  // kSet*Limit only
  uint16_t symbol = 0;                            // kSetSymbolLimit, kSetPosition only
  uint32_t reserved = 0;
};
static_assert(sizeof(RiskControl) == 24 && std::is_trivially_copyable_v<RiskControl>);

enum class RiskControlStatus : uint8_t {
  kApplied = 0,
  kBadSymbol,      // symbol index not configured
  kBadLimit,       // not a limit id, or a global-only limit sent as kSetSymbolLimit
  kOutOfRange,     // value outside limit_range (or the position bound, or kill switch not 0/1)
  kBadKind,        // not a RiskControlKind
};

// What happened to one command: the record the journal keeps.
struct RiskControlEvent {
  uint64_t request_id = 0;
  uint64_t applied_ns = 0;  // the hot-path time passed to apply_pending_controls
  int64_t old_value = 0;    // before (kill switch 0/1; reset: tokens before, in whole orders)
  int64_t new_value = 0;    // after (== old_value when not applied)
  RiskControlKind kind = RiskControlKind::kKillSwitch;
  RiskLimitId limit = RiskLimitId::kMaxPosition;
  uint16_t symbol = 0;
  RiskControlStatus status = RiskControlStatus::kApplied;
  uint8_t reserved[3] = {};
};
static_assert(sizeof(RiskControlEvent) == 40 && std::is_trivially_copyable_v<RiskControlEvent>);

constexpr std::string_view to_string(RiskControlKind k) noexcept {
  switch (k) {
    case RiskControlKind::kSetGlobalLimit: return "set_global_limit";
    case RiskControlKind::kSetSymbolLimit: return "set_symbol_limit";
    case RiskControlKind::kKillSwitch: return "kill_switch";
    case RiskControlKind::kResetRateBucket: return "reset_rate_bucket";
    case RiskControlKind::kSetPosition: return "set_position";
  }
  return "unknown";
}

constexpr std::string_view to_string(RiskControlStatus s) noexcept {
  switch (s) {
    case RiskControlStatus::kApplied: return "applied";
    case RiskControlStatus::kBadSymbol: return "bad_symbol";
    case RiskControlStatus::kBadLimit: return "bad_limit";
    case RiskControlStatus::kOutOfRange: return "out_of_range";
    case RiskControlStatus::kBadKind: return "bad_kind";
  }
  return "unknown";
}

// Builders for the management plane.
inline RiskControl kill_switch_control(bool engage, uint64_t request_id = 0) noexcept {
  return {.request_id = request_id, .value = engage ? 1 : 0, .kind = RiskControlKind::kKillSwitch};
}
inline RiskControl global_limit_control(RiskLimitId id, int64_t value, uint64_t request_id = 0) noexcept {
  return {.request_id = request_id, .value = value, .kind = RiskControlKind::kSetGlobalLimit, .limit = id};
}
inline RiskControl symbol_limit_control(uint16_t symbol, RiskLimitId id, int64_t value, uint64_t request_id = 0) noexcept {
  return {.request_id = request_id, .value = value, .kind = RiskControlKind::kSetSymbolLimit, .limit = id,
          .symbol = symbol};
}
inline RiskControl reset_rate_bucket_control(uint64_t request_id = 0) noexcept {
  return {.request_id = request_id, .kind = RiskControlKind::kResetRateBucket};
}
inline RiskControl set_position_control(uint16_t symbol, int64_t position, uint64_t request_id = 0) noexcept {
  return {.request_id = request_id, .value = position, .kind = RiskControlKind::kSetPosition, .symbol = symbol};
}

}  // namespace pmm::risk
