// The quoting strategy's configuration: the "strategy" object of the appliance's JSON, defaults for
// every symbol plus per-symbol overrides under "symbols". Every value is checked; an error names the
// dotted key and the form it expects. docs/strategy.md lists every key, unit, default and range.
#pragma once

#include <rapidjson/fwd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pmm::strategy {

inline constexpr size_t kMaxSymbols = 64;  // the strategy's symbol table (and its state file) bound

struct StrategyParams {
  // Avellaneda–Stoikov model. Units: dollars, seconds, shares (docs/strategy.md).
  double gamma = 0.01;             // risk aversion, per dollar (inventory counted in shares)
  double k = 100.0;                // order-arrival intensity decay: lambda(delta) = A exp(-k delta), per dollar
  uint32_t horizon_ms = 60000;     // T - t: a fixed rolling horizon
  double sigma_initial = 0.01;     // volatility before the first mid change, dollars per sqrt(second)
  double sigma_floor = 0.001;      // the estimate never goes below this, dollars per sqrt(second)
  uint32_t volatility_half_life_ms = 60000;

  // Prices (Price(4) units: 1.0000 dollar == 10000).
  uint32_t tick = 100;             // at and above $1
  uint32_t sub_dollar_tick = 1;    // below $1
  uint32_t min_spread_ticks = 1;   // our ask - our bid, at least, in ticks at the reservation price
  bool post_only = true;           // never bid at/above the best ask, nor offer at/below the best bid

  // Requoting.
  uint32_t requote_threshold_ticks = 1;    // requote when a side's target moves by more than this
  uint32_t min_requote_interval_us = 1000; // per symbol, between two quote messages

  // Size.
  uint32_t quote_size = 100;       // shares per side
  uint32_t max_inventory = 1000;   // |inventory| limit, shares: sizes shrink so a fill cannot pass it
};

struct SymbolConfig {
  std::string symbol;
  StrategyParams params;  // the defaults with this symbol's overrides applied
};

struct StrategyConfig {
  StrategyParams defaults;
  std::vector<SymbolConfig> symbols;  // one per quoted symbol, in the order given
};

// Reads a "strategy" object (path names it in errors, e.g. "strategy") for the given symbols, over
// out.defaults (the struct's defaults for a fresh StrategyConfig): its keys set the defaults of every
// symbol; "symbols": {"AAPL": {...}} overrides keys for one of them. Returns "" (out replaced) or an
// error such as "strategy.gamma: expected a number > 0 (...)" (out untouched).
std::string parse_strategy_config(const rapidjson::Value& strategy, const std::vector<std::string>& symbols,
                                  StrategyConfig& out, const std::string& path = "strategy");
// The same from JSON text of the object alone (comments and trailing commas allowed).
std::string parse_strategy_json(const std::string& json, const std::vector<std::string>& symbols,
                                StrategyConfig& out);
// Cross-field and range checks of one parameter set; path prefixes the key names. Returns "" or an error.
std::string validate(const StrategyParams& p, const std::string& path);

}  // namespace pmm::strategy
