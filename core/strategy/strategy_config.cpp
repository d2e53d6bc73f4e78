#include "core/strategy/strategy_config.hpp"

#include "core/config_section.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>

namespace pmm::strategy {

namespace {

using config::Section;
using rapidjson::Value;

// Every per-symbol key: the same at the top of "strategy" (defaults) and under "symbols.<SYM>".
void read_params(Section& s, StrategyParams& p) {
  s.number("gamma", p.gamma, 1e-9, 1000, "a number > 0 (from 1e-09 to 1000, per dollar)");
  s.number("k", p.k, 1e-6, 1e6, "a number > 0 (from 1e-06 to 1000000, per dollar)");
  s.uint("horizon_ms", p.horizon_ms, 1, 3600000);
  s.number("sigma_initial", p.sigma_initial, 0, 100, "a number from 0 to 100 (dollars per sqrt(second))");
  s.number("sigma_floor", p.sigma_floor, 0, 100, "a number from 0 to 100 (dollars per sqrt(second))");
  s.uint("volatility_half_life_ms", p.volatility_half_life_ms, 1, 3600000);
  s.uint("tick", p.tick, 1, 1000000);
  s.uint("sub_dollar_tick", p.sub_dollar_tick, 1, 10000);
  s.uint("min_spread_ticks", p.min_spread_ticks, 1, 10000);
  s.boolean("post_only", p.post_only);
  s.uint("requote_threshold_ticks", p.requote_threshold_ticks, 0, 10000);
  s.uint("min_requote_interval_us", p.min_requote_interval_us, 0, 60000000);
  s.uint("quote_size", p.quote_size, 1, 10000000);
  s.uint("max_inventory", p.max_inventory, 1, 1000000000);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string validate(const StrategyParams& p, const std::string& path) {
  if (!(p.gamma >= 1e-9 && p.gamma <= 1000)) return path + ".gamma: expected a number > 0 (from 1e-09 to 1000, per dollar)";
  if (!(p.k >= 1e-6 && p.k <= 1e6)) return path + ".k: expected a number > 0 (from 1e-06 to 1000000, per dollar)";
  if (p.horizon_ms < 1 || p.horizon_ms > 3600000) return path + ".horizon_ms: expected an integer from 1 to 3600000";
  if (!(p.sigma_floor >= 0 && p.sigma_floor <= 100)) return path + ".sigma_floor: expected a number from 0 to 100";
  if (!(p.sigma_initial >= p.sigma_floor && p.sigma_initial <= 100))
    return path + ".sigma_initial: expected a number from sigma_floor (" + std::to_string(p.sigma_floor) + ") to 100";
  if (p.volatility_half_life_ms < 1 || p.volatility_half_life_ms > 3600000)
    return path + ".volatility_half_life_ms: expected an integer from 1 to 3600000";
  if (p.tick < 1 || p.tick > 1000000) return path + ".tick: expected an integer from 1 to 1000000";
  // The sub-dollar grid must meet $1 exactly, where the tick grid starts.
  if (p.sub_dollar_tick < 1 || 10000 % p.sub_dollar_tick != 0)
    return path + ".sub_dollar_tick: expected a divisor of 10000 (1.0000 dollar in Price(4))";
  if (p.min_spread_ticks < 1 || p.min_spread_ticks > 10000) return path + ".min_spread_ticks: expected an integer from 1 to 10000";
  if (p.requote_threshold_ticks > 10000) return path + ".requote_threshold_ticks: expected an integer from 0 to 10000";
  if (p.min_requote_interval_us > 60000000) return path + ".min_requote_interval_us: expected an integer from 0 to 60000000";
  if (p.quote_size < 1 || p.quote_size > 10000000) return path + ".quote_size: expected an integer from 1 to 10000000";
  if (p.max_inventory < 1 || p.max_inventory > 1000000000) return path + ".max_inventory: expected an integer from 1 to 1000000000";
  // The spread's constant part, (2/gamma) ln(1 + gamma/k) (about 2/k for a small gamma), in dollars.
  const double constant = 2.0 / p.gamma * std::log1p(p.gamma / p.k);
  if (!(constant <= 10000.0))
    return path + ".k: expected (2/gamma) ln(1 + gamma/k) of at most 10000 dollars, got " + std::to_string(constant) +
           " (k too small for this gamma)";
  return "";
}

std::string parse_strategy_config(const Value& strategy, const std::vector<std::string>& symbols, StrategyConfig& out,
                                  const std::string& path) {
  if (symbols.size() > kMaxSymbols) return "symbols: expected at most " + std::to_string(kMaxSymbols) + " quoted symbols";
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i].empty() || symbols[i].size() > 8)
      return "symbols: expected 1 to 8 characters per symbol, got \"" + symbols[i] + "\"";
    if (std::find(symbols.begin(), symbols.begin() + static_cast<std::ptrdiff_t>(i), symbols[i]) !=
        symbols.begin() + static_cast<std::ptrdiff_t>(i))
      return "symbols: \"" + symbols[i] + "\" is listed twice";
  }
  std::string error;
  StrategyConfig c;
  c.defaults = out.defaults;
  Section top(strategy, path, error);
  read_params(top, c.defaults);
  const Value* overrides = top.child("symbols");
  top.finish();
  if (!error.empty()) return error;
  if (std::string e = validate(c.defaults, path); !e.empty()) return e;

  for (const std::string& s : symbols) c.symbols.push_back({s, c.defaults});
  if (overrides) {
    const std::string opath = path + ".symbols";
    if (!overrides->IsObject()) return opath + ": expected an object of {\"SYMBOL\": {overrides}}";
    for (auto it = overrides->MemberBegin(); it != overrides->MemberEnd(); ++it) {
      const std::string sym = it->name.GetString();
      const auto found = std::find_if(c.symbols.begin(), c.symbols.end(), [&](const SymbolConfig& x) { return x.symbol == sym; });
      if (found == c.symbols.end())
        return opath + "." + sym + ": expected one of the configured symbols (" + joined(symbols) + ")";
      Section s(it->value, opath + "." + sym, error);
      read_params(s, found->params);
      s.finish();
      if (!error.empty()) return error;
      if (std::string e = validate(found->params, opath + "." + sym); !e.empty()) return e;
    }
  }
  out = std::move(c);
  return "";
}

std::string parse_strategy_json(const std::string& json, const std::vector<std::string>& symbols, StrategyConfig& out) {
  rapidjson::Document doc;
  if (std::string e = config::parse_json(json, doc, "strategy"); !e.empty()) return e;
  return parse_strategy_config(doc, symbols, out);
}

}  // namespace pmm::strategy
