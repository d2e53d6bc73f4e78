#include "dpdk-app/risk_state_file.hpp"

#include <algorithm>
#include <cstring>

#include "core/byte_order.hpp"

namespace pmm::app {

namespace {

int64_t global_of(const risk::RiskStateSnapshot& s, risk::RiskLimitId id) noexcept {
  switch (id) {
    case risk::RiskLimitId::kMaxTotalPosition: return s.max_total_position;
    case risk::RiskLimitId::kMaxOpenOrders: return s.max_open_orders;
    case risk::RiskLimitId::kMaxOrdersPerSecond: return s.max_orders_per_second;
    case risk::RiskLimitId::kOrderBurst: return s.order_burst;
    default: return s.defaults.get(id);
  }
}

}  // namespace

std::vector<uint8_t> encode_risk_state(const RiskStateFileContent& c) {
  std::vector<uint8_t> out(8 + sizeof c.state);
  store_be64(out.data(), c.sequence);
  std::memcpy(out.data() + 8, &c.state, sizeof c.state);
  return out;
}

std::string decode_risk_state(uint32_t payload_version, const std::vector<uint8_t>& payload, RiskStateFileContent& out) {
  if (payload_version != kRiskStatePayloadVersion)
    return "payload version " + std::to_string(payload_version) + ", expected " + std::to_string(kRiskStatePayloadVersion);
  if (payload.size() != 8 + sizeof out.state)
    return "payload of " + std::to_string(payload.size()) + " bytes, expected " + std::to_string(8 + sizeof out.state);
  out.sequence = load_be64(payload.data());
  std::memcpy(&out.state, payload.data() + 8, sizeof out.state);
  if (out.state.magic != risk::RiskStateSnapshot::kMagic) return "bad risk snapshot magic at offset 8";
  if (out.state.version != risk::RiskStateSnapshot::kVersion)
    return "risk snapshot version " + std::to_string(out.state.version) + ", expected " +
           std::to_string(risk::RiskStateSnapshot::kVersion);
  if (out.state.symbol_count > risk::kMaxRiskSymbols)
    return "risk snapshot of " + std::to_string(out.state.symbol_count) + " symbols, at most " +
           std::to_string(risk::kMaxRiskSymbols);
  return "";
}

std::vector<risk::RiskControl> controls_between(const risk::RiskStateSnapshot& from, const risk::RiskStateSnapshot& to) {
  std::vector<risk::RiskControl> out;
  for (size_t i = 0; i < risk::kRiskLimitCount; ++i) {
    const auto id = static_cast<risk::RiskLimitId>(i);
    if (global_of(from, id) != global_of(to, id)) out.push_back(risk::global_limit_control(id, global_of(to, id)));
  }
  const uint16_t n = std::min(from.symbol_count, to.symbol_count);
  for (uint16_t s = 0; s < n; ++s) {
    for (size_t i = 0; i < risk::kPerSymbolLimitCount; ++i) {
      const auto id = static_cast<risk::RiskLimitId>(i);
      const unsigned bit = 1u << i;
      const bool from_overridden = (from.symbols[s].overridden & bit) != 0;
      const bool to_overridden = (to.symbols[s].overridden & bit) != 0;
      // What the symbol has after the global controls above.
      const int64_t effective = from_overridden ? from.symbols[s].limits.get(id) : to.defaults.get(id);
      const int64_t wanted = to.symbols[s].limits.get(id);
      if (effective != wanted || (to_overridden && !from_overridden))
        out.push_back(risk::symbol_limit_control(s, id, wanted));
    }
  }
  if (from.kill_switch != to.kill_switch) out.push_back(risk::kill_switch_control(to.kill_switch != 0));
  return out;
}

}  // namespace pmm::app
