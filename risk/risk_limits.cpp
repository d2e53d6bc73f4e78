#include "risk/risk_limits.hpp"

#include "core/config_section.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cassert>
#include <set>

namespace pmm::risk {

int64_t SymbolLimits::get(RiskLimitId id) const noexcept {
  switch (id) {
    case RiskLimitId::kMaxPosition: return max_position;
    case RiskLimitId::kMaxOrderShares: return max_order_shares;
    case RiskLimitId::kMaxOrderNotional: return max_order_notional;
    case RiskLimitId::kMaxOpenOrdersPerSymbol: return max_open_orders_per_symbol;
    case RiskLimitId::kPriceCollarBps: return price_collar_bps;
    default: assert(!"not a per-symbol limit"); return 0;
  }
}

void SymbolLimits::set(RiskLimitId id, int64_t value) noexcept {
  const LimitRange r = limit_range(id);
  assert(value >= r.min && value <= r.max);
  (void)r;
  switch (id) {
    case RiskLimitId::kMaxPosition: max_position = value; break;
    case RiskLimitId::kMaxOrderShares: max_order_shares = static_cast<uint32_t>(value); break;
    case RiskLimitId::kMaxOrderNotional: max_order_notional = value; break;
    case RiskLimitId::kMaxOpenOrdersPerSymbol: max_open_orders_per_symbol = static_cast<uint32_t>(value); break;
    case RiskLimitId::kPriceCollarBps: price_collar_bps = static_cast<uint32_t>(value); break;
    default: assert(!"not a per-symbol limit");
  }
}

int64_t RiskLimits::get_global(RiskLimitId id) const noexcept {
  switch (id) {
    case RiskLimitId::kMaxTotalPosition: return max_total_position;
    case RiskLimitId::kMaxOpenOrders: return max_open_orders;
    case RiskLimitId::kMaxOrdersPerSecond: return max_orders_per_second;
    case RiskLimitId::kOrderBurst: return order_burst;
    default: return defaults.get(id);
  }
}

RiskLimits uniform_limits(std::vector<std::string> symbols, const SymbolLimits& defaults, int64_t max_total_position,
                          uint32_t max_open_orders, uint32_t max_orders_per_second, uint32_t order_burst) {
  RiskLimits l;
  l.defaults = defaults;
  l.per_symbol.assign(symbols.size(), defaults);
  l.overridden.assign(symbols.size(), 0);
  l.symbols = std::move(symbols);
  l.max_total_position = max_total_position;
  l.max_open_orders = max_open_orders;
  l.max_orders_per_second = max_orders_per_second;
  l.order_burst = order_burst;
  return l;
}

namespace {

using rapidjson::Value;

using config::Presence;
using config::Section;

// An integer limit in its range (limit_range); a default limit is required, an override is not.
bool read_limit(Section& s, RiskLimitId id, int64_t& out, Presence presence) {
  const LimitRange r = limit_range(id);
  return s.integer(limit_key(id), out, r.min, r.max, presence);
}

constexpr RiskLimitId kAllLimits[kRiskLimitCount] = {
    RiskLimitId::kMaxPosition,       RiskLimitId::kMaxOrderShares, RiskLimitId::kMaxOrderNotional,
    RiskLimitId::kMaxOpenOrdersPerSymbol, RiskLimitId::kPriceCollarBps, RiskLimitId::kMaxTotalPosition,
    RiskLimitId::kMaxOpenOrders,     RiskLimitId::kMaxOrdersPerSecond, RiskLimitId::kOrderBurst};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none configured)" : out;
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

std::string parse_risk_limits(const Value& risk, const std::vector<std::string>& symbols, RiskLimits& out) {
  // Names first: the override table is keyed by them and sized by them.
  if (symbols.size() > kMaxRiskSymbols)
    return "risk: " + std::to_string(symbols.size()) + " symbols configured; expected at most " +
           std::to_string(kMaxRiskSymbols);
  RiskLimits l;
  l.symbols = symbols;
  std::string error;
  Section top(risk, "risk", error);
  for (RiskLimitId id : kAllLimits) {
    int64_t v = 0;
    if (!read_limit(top, id, v, Presence::kRequired)) continue;
    if (is_per_symbol(id)) l.defaults.set(id, v);
    else if (id == RiskLimitId::kMaxTotalPosition) l.max_total_position = v;
    else if (id == RiskLimitId::kMaxOpenOrders) l.max_open_orders = static_cast<uint32_t>(v);
    else if (id == RiskLimitId::kMaxOrdersPerSecond) l.max_orders_per_second = static_cast<uint32_t>(v);
    else l.order_burst = static_cast<uint32_t>(v);
  }
  top.boolean("kill_switch", l.kill_switch);
  top.uint("control_ring_size", l.control_ring_size, 1, 1u << 16);
  l.per_symbol.assign(symbols.size(), l.defaults);
  l.overridden.assign(symbols.size(), 0);
  if (const Value* s = top.child("symbols")) {
    if (!s->IsObject()) {
      top.fail("risk.symbols", "an object of per-symbol overrides, e.g. {\"AAPL\": {\"max_position\": 1000}}");
    } else {
      for (auto it = s->MemberBegin(); it != s->MemberEnd() && error.empty(); ++it) {
        const std::string name = it->name.GetString();
        const auto at = std::find(symbols.begin(), symbols.end(), name);
        if (at == symbols.end()) {
          error = "risk.symbols." + name + ": unknown symbol; expected one of " + joined(symbols);
          break;
        }
        const auto index = static_cast<size_t>(at - symbols.begin());
        Section o(it->value, "risk.symbols." + name, error);
        for (size_t i = 0; i < kPerSymbolLimitCount; ++i) {
          const RiskLimitId id = kAllLimits[i];
          int64_t v = 0;
          if (!read_limit(o, id, v, Presence::kOptional)) continue;
          l.per_symbol[index].set(id, v);
          l.overridden[index] = static_cast<uint8_t>(l.overridden[index] | (1u << i));
        }
        o.finish();
      }
    }
  }
  top.finish();
  if (!error.empty()) return error;
  if (std::string e = validate(l); !e.empty()) return e;
  out = std::move(l);
  return "";
}

std::string parse_risk_limits_json(const std::string& json, const std::vector<std::string>& symbols, RiskLimits& out) {
  rapidjson::Document doc;
  if (std::string e = config::parse_json(json, doc, "risk"); !e.empty()) return e;
  return parse_risk_limits(doc, symbols, out);
}

std::string validate(const RiskLimits& l) {
  if (l.symbols.size() > kMaxRiskSymbols)
    return "risk: " + std::to_string(l.symbols.size()) + " symbols; expected at most " + std::to_string(kMaxRiskSymbols);
  std::set<std::string> seen;
  for (const std::string& s : l.symbols) {
    if (s.empty() || s.size() > kSymbolNameBytes)
      return "symbols: expected 1 to 8 characters per symbol, got \"" + s + "\"";
    if (!seen.insert(s).second) return "symbols: \"" + s + "\" appears twice";
  }
  if (l.per_symbol.size() != l.symbols.size() || l.overridden.size() != l.symbols.size())
    return "risk: per-symbol tables do not match the symbol list";
  auto in_range = [](RiskLimitId id, int64_t v) {
    const LimitRange r = limit_range(id);
    return v >= r.min && v <= r.max;
  };
  auto bad = [](const std::string& key, RiskLimitId id) {
    const LimitRange r = limit_range(id);
    return key + ": expected an integer from " + std::to_string(r.min) + " to " + std::to_string(r.max);
  };
  for (RiskLimitId id : kAllLimits) {
    if (!in_range(id, l.get_global(id))) return bad("risk." + std::string(limit_key(id)), id);
    if (!is_per_symbol(id)) continue;
    for (size_t i = 0; i < l.symbols.size(); ++i)
      if (!in_range(id, l.per_symbol[i].get(id)))
        return bad("risk.symbols." + l.symbols[i] + "." + std::string(limit_key(id)), id);
  }
  if (!is_power_of_two(l.control_ring_size) || l.control_ring_size > (1u << 16))
    return "risk.control_ring_size: expected a power of two from 1 to 65536, got " + std::to_string(l.control_ring_size);
  return "";
}

}  // namespace pmm::risk
