// The journal record of one risk control as the trading core applied (or refused) it: the
// RiskControlEvent apply_pending_controls returned, big-endian (docs/journal-records.md, type 27). The
// shadow state replays applied ones on its own PreTradeRisk, so snapshots and digests carry the limits
// and the kill switch in force; refused ones are kept for the audit trail and change nothing.
#pragma once

#include <cstdint>

#include "core/byte_order.hpp"
#include "risk/risk_control.hpp"

namespace pmm::risk::journal_records {

inline constexpr uint16_t kRiskControl = 27;
// request id u64, applied ns u64, old value i64, new value i64, kind u8, limit u8, symbol u16, status u8
inline constexpr uint16_t kRiskControlBytes = 8 + 8 + 8 + 8 + 1 + 1 + 2 + 1;  // 37

inline uint16_t encode_risk_control(const RiskControlEvent& e, uint8_t* out) noexcept {
  store_be64(out, e.request_id);
  store_be64(out + 8, e.applied_ns);
  store_be64(out + 16, static_cast<uint64_t>(e.old_value));
  store_be64(out + 24, static_cast<uint64_t>(e.new_value));
  out[32] = static_cast<uint8_t>(e.kind);
  out[33] = static_cast<uint8_t>(e.limit);
  store_be16(out + 34, e.symbol);
  out[36] = static_cast<uint8_t>(e.status);
  return kRiskControlBytes;
}

// False when the length is not kRiskControlBytes, the status is not one we know, or an applied control
// names an unknown kind or limit (a refused one keeps whatever the command carried).
inline bool decode_risk_control(const uint8_t* p, uint16_t length, RiskControlEvent& e) noexcept {
  if (length != kRiskControlBytes) return false;
  if (p[36] > static_cast<uint8_t>(RiskControlStatus::kBadKind)) return false;
  if (p[36] == static_cast<uint8_t>(RiskControlStatus::kApplied) &&
      (p[32] > static_cast<uint8_t>(RiskControlKind::kSetPosition) || p[33] >= kRiskLimitCount))
    return false;
  e = RiskControlEvent{};
  e.request_id = load_be64(p);
  e.applied_ns = load_be64(p + 8);
  e.old_value = static_cast<int64_t>(load_be64(p + 16));
  e.new_value = static_cast<int64_t>(load_be64(p + 24));
  e.kind = static_cast<RiskControlKind>(p[32]);
  e.limit = static_cast<RiskLimitId>(p[33]);
  e.symbol = load_be16(p + 34);
  e.status = static_cast<RiskControlStatus>(p[36]);
  return true;
}

}  // namespace pmm::risk::journal_records
