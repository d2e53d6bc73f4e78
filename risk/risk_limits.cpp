#include "risk/risk_limits.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

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

// The config reader's key discipline (core/pipeline/pipeline_config.cpp's Section, which is private to
// that file): every key read is remembered so unknown keys are reported; errors name the dotted key.
class RiskSection {
 public:
  RiskSection(const Value& v, std::string path, std::string& error) : v_(v), path_(std::move(path)), error_(error) {
    if (!v.IsObject()) fail(path_, "an object");
  }

  // An integer limit; `required` means absence is an error too.
  bool limit(RiskLimitId id, int64_t& out, bool required) {
    const std::string key(limit_key(id));
    const LimitRange r = limit_range(id);
    const std::string form = "an integer from " + std::to_string(r.min) + " to " + std::to_string(r.max);
    const Value* v = find(key);
    if (!v) {
      if (required) fail(name(key), form + " (required)");
      return false;
    }
    if (!v->IsInt64() || v->GetInt64() < r.min || v->GetInt64() > r.max) {
      fail(name(key), form);
      return false;
    }
    out = v->GetInt64();
    return true;
  }
  void uint(const std::string& key, uint32_t& out, uint32_t min, uint32_t max) {
    const Value* v = find(key);
    if (!v) return;
    if (!v->IsUint() || v->GetUint() < min || v->GetUint() > max)
      return fail(name(key), "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    out = v->GetUint();
  }
  void boolean(const std::string& key, bool& out) {
    const Value* v = find(key);
    if (!v) return;
    if (!v->IsBool()) return fail(name(key), "true or false");
    out = v->GetBool();
  }
  const Value* child(const std::string& key) { return find(key); }

  // Call last: any key not read above is unknown.
  void finish() {
    if (!error_.empty() || !v_.IsObject()) return;
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it)
      if (!seen_.count(it->name.GetString())) {
        error_ = name(it->name.GetString()) + ": unknown key";
        return;
      }
  }
  std::string name(const std::string& key) const { return path_ + "." + key; }
  void fail(const std::string& key, const std::string& expected) {
    if (error_.empty()) error_ = key + ": expected " + expected;
  }

 private:
  const Value* find(const std::string& key) {
    seen_.insert(key);
    if (!v_.IsObject()) return nullptr;
    const auto it = v_.FindMember(key.c_str());
    return it == v_.MemberEnd() ? nullptr : &it->value;
  }

  const Value& v_;
  std::string path_;
  std::string& error_;
  std::set<std::string> seen_;
};

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
  RiskSection top(risk, "risk", error);
  for (RiskLimitId id : kAllLimits) {
    int64_t v = 0;
    if (!top.limit(id, v, true)) continue;
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
        RiskSection o(it->value, "risk.symbols." + name, error);
        for (size_t i = 0; i < kPerSymbolLimitCount; ++i) {
          const RiskLimitId id = kAllLimits[i];
          int64_t v = 0;
          if (!o.limit(id, v, false)) continue;
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
  doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(json.c_str());
  if (doc.HasParseError())
    return "risk: JSON error at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
           rapidjson::GetParseError_En(doc.GetParseError());
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
