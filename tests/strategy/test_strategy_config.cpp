// StrategyConfig: defaults, every key lands in its field, per-symbol overrides touch only their
// symbol, and every kind of bad input gives an error naming the dotted key and the expected form.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "core/strategy/strategy_config.hpp"

namespace pmm::strategy {
namespace {

const std::vector<std::string> kSymbols{"AAPL", "MSFT"};

std::string parse(const std::string& json, StrategyConfig& c, const std::vector<std::string>& symbols = kSymbols) {
  return parse_strategy_json(json, symbols, c);
}
std::string error_of(const std::string& json, const std::vector<std::string>& symbols = kSymbols) {
  StrategyConfig c;
  return parse(json, c, symbols);
}

TEST(StrategyConfig, EmptyObjectGivesTheDocumentedDefaultsForEverySymbol) {
  StrategyConfig c;
  ASSERT_EQ(parse("{}", c), "");
  ASSERT_EQ(c.symbols.size(), 2u);
  EXPECT_EQ(c.symbols[0].symbol, "AAPL");
  EXPECT_EQ(c.symbols[1].symbol, "MSFT");
  for (const SymbolConfig& s : c.symbols) {
    const StrategyParams& p = s.params;
    EXPECT_EQ(p.gamma, 0.01);
    EXPECT_EQ(p.k, 100.0);
    EXPECT_EQ(p.horizon_ms, 60000u);
    EXPECT_EQ(p.sigma_initial, 0.01);
    EXPECT_EQ(p.sigma_floor, 0.001);
    EXPECT_EQ(p.volatility_half_life_ms, 60000u);
    EXPECT_EQ(p.tick, 100u);
    EXPECT_EQ(p.sub_dollar_tick, 1u);
    EXPECT_EQ(p.min_spread_ticks, 1u);
    EXPECT_TRUE(p.post_only);
    EXPECT_EQ(p.requote_threshold_ticks, 1u);
    EXPECT_EQ(p.min_requote_interval_us, 1000u);
    EXPECT_EQ(p.quote_size, 100u);
    EXPECT_EQ(p.max_inventory, 1000u);
  }
}

TEST(StrategyConfig, EveryKeyLandsInItsField) {
  StrategyConfig c;
  ASSERT_EQ(parse(R"({"gamma": 0.5, "k": 7.5, "horizon_ms": 1234, "sigma_initial": 0.3, "sigma_floor": 0.2,
      "volatility_half_life_ms": 99, "tick": 50, "sub_dollar_tick": 5, "min_spread_ticks": 3, "post_only": false,
      "requote_threshold_ticks": 4, "min_requote_interval_us": 777, "quote_size": 300, "max_inventory": 9000,})",
                  c),
            "");
  const StrategyParams& p = c.symbols[1].params;
  EXPECT_EQ(p.gamma, 0.5);
  EXPECT_EQ(p.k, 7.5);
  EXPECT_EQ(p.horizon_ms, 1234u);
  EXPECT_EQ(p.sigma_initial, 0.3);
  EXPECT_EQ(p.sigma_floor, 0.2);
  EXPECT_EQ(p.volatility_half_life_ms, 99u);
  EXPECT_EQ(p.tick, 50u);
  EXPECT_EQ(p.sub_dollar_tick, 5u);
  EXPECT_EQ(p.min_spread_ticks, 3u);
  EXPECT_FALSE(p.post_only);
  EXPECT_EQ(p.requote_threshold_ticks, 4u);
  EXPECT_EQ(p.min_requote_interval_us, 777u);
  EXPECT_EQ(p.quote_size, 300u);
  EXPECT_EQ(p.max_inventory, 9000u);
  EXPECT_EQ(c.defaults.max_inventory, 9000u);
}

TEST(StrategyConfig, OverridesApplyToTheirSymbolOnly) {
  StrategyConfig c;
  ASSERT_EQ(parse(R"({"gamma": 0.02, // comments are allowed
      "symbols": {"MSFT": {"gamma": 0.2, "quote_size": 10}}})", c), "");
  EXPECT_EQ(c.symbols[0].params.gamma, 0.02);
  EXPECT_EQ(c.symbols[0].params.quote_size, 100u);
  EXPECT_EQ(c.symbols[1].params.gamma, 0.2);
  EXPECT_EQ(c.symbols[1].params.quote_size, 10u);
  EXPECT_EQ(c.symbols[1].params.k, 100.0);  // not overridden: the default
}

TEST(StrategyConfig, FromARapidjsonValueUnderAnyPath) {
  rapidjson::Document doc;
  doc.Parse(R"({"strategy": {"gamma": -1}})");
  StrategyConfig c;
  EXPECT_EQ(parse_strategy_config(doc["strategy"], kSymbols, c),
            "strategy.gamma: expected a number > 0 (from 1e-09 to 1000, per dollar)");
  EXPECT_EQ(parse_strategy_config(doc["strategy"], kSymbols, c, "quote.strategy").rfind("quote.strategy.gamma:", 0), 0u);
}

TEST(StrategyConfig, ErrorsNameTheDottedKeyAndTheExpectedForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"gamma": 0})", "strategy.gamma: expected a number > 0 (from 1e-09 to 1000, per dollar)"},
      {R"({"gamma": "0.1"})", "strategy.gamma: expected a number > 0 (from 1e-09 to 1000, per dollar)"},
      {R"({"gamma": 1001})", "strategy.gamma: expected a number > 0 (from 1e-09 to 1000, per dollar)"},
      {R"({"k": 0})", "strategy.k: expected a number > 0 (from 1e-06 to 1000000, per dollar)"},
      {R"({"horizon_ms": 0})", "strategy.horizon_ms: expected an integer from 1 to 3600000"},
      {R"({"horizon_ms": 1.5})", "strategy.horizon_ms: expected an integer from 1 to 3600000"},
      {R"({"sigma_floor": -0.1})", "strategy.sigma_floor: expected a number from 0 to 100 (dollars per sqrt(second))"},
      {R"({"sigma_initial": 101})", "strategy.sigma_initial: expected a number from 0 to 100 (dollars per sqrt(second))"},
      {R"({"sigma_initial": 0.01, "sigma_floor": 0.02})", "strategy.sigma_initial: expected a number from sigma_floor (0.020000) to 100"},
      {R"({"volatility_half_life_ms": 3600001})", "strategy.volatility_half_life_ms: expected an integer from 1 to 3600000"},
      {R"({"tick": 0})", "strategy.tick: expected an integer from 1 to 1000000"},
      {R"({"sub_dollar_tick": 3})", "strategy.sub_dollar_tick: expected a divisor of 10000 (1.0000 dollar in Price(4))"},
      {R"({"min_spread_ticks": 0})", "strategy.min_spread_ticks: expected an integer from 1 to 10000"},
      {R"({"post_only": 1})", "strategy.post_only: expected true or false"},
      {R"({"requote_threshold_ticks": -1})", "strategy.requote_threshold_ticks: expected an integer from 0 to 10000"},
      {R"({"min_requote_interval_us": 60000001})", "strategy.min_requote_interval_us: expected an integer from 0 to 60000000"},
      {R"({"quote_size": 0})", "strategy.quote_size: expected an integer from 1 to 10000000"},
      {R"({"max_inventory": 1000000001})", "strategy.max_inventory: expected an integer from 1 to 1000000000"},
      {R"({"gama": 0.1})", "strategy.gama: unknown key"},
      {R"([])", "strategy: expected an object"},
      {R"({"symbols": []})", "strategy.symbols: expected an object of {\"SYMBOL\": {overrides}}"},
      {R"({"symbols": {"NVDA": {}}})", "strategy.symbols.NVDA: expected one of the configured symbols (AAPL, MSFT)"},
      {R"({"symbols": {"MSFT": 3}})", "strategy.symbols.MSFT: expected an object"},
      {R"({"symbols": {"MSFT": {"tick": -5}}})", "strategy.symbols.MSFT.tick: expected an integer from 1 to 1000000"},
      {R"({"symbols": {"MSFT": {"symbols": {}}}})", "strategy.symbols.MSFT.symbols: unknown key"},
      {R"({"symbols": {"MSFT": {"sigma_floor": 0.5}}})",
       "strategy.symbols.MSFT.sigma_initial: expected a number from sigma_floor (0.500000) to 100"},
      // 2 / 1e-9 * ln(1 + 1e-3) = 1999000.666...
      {R"({"gamma": 1e-9, "k": 1e-6})",
       "strategy.k: expected (2/gamma) ln(1 + gamma/k) of at most 10000 dollars, got 1999000.666167 (k too small for this gamma)"},
  };
  for (const auto& [json, want] : cases) EXPECT_EQ(error_of(json), want) << json;
  EXPECT_EQ(error_of(R"({"gamma": 1e-4, "k": 1e-6})").rfind("strategy.k: expected (2/gamma) ln(1 + gamma/k) of at most", 0), 0u);
  EXPECT_EQ(error_of(R"({"gamma": 0.1,})").size(), 0u);  // trailing comma allowed
  EXPECT_EQ(error_of(R"({"gamma": })").rfind("strategy: JSON error at byte 10: ", 0), 0u);
}

TEST(StrategyConfig, SymbolListIsChecked) {
  EXPECT_EQ(error_of("{}", {"AAPL", "AAPL"}), "symbols: \"AAPL\" is listed twice");
  EXPECT_EQ(error_of("{}", {"TOOLONGSYM"}), "symbols: expected 1 to 8 characters per symbol, got \"TOOLONGSYM\"");
  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) many.push_back("S" + std::to_string(i));
  EXPECT_EQ(error_of("{}", many), "symbols: expected at most 64 quoted symbols");
  many.pop_back();
  EXPECT_EQ(error_of("{}", many), "");
}

TEST(StrategyConfig, AFailedParseLeavesTheOutputAlone) {
  StrategyConfig c;
  ASSERT_EQ(parse(R"({"gamma": 0.3})", c), "");
  EXPECT_NE(parse(R"({"gamma": 0.4, "symbols": {"X": {}}})", c), "");
  EXPECT_EQ(c.symbols[0].params.gamma, 0.3);
}

}  // namespace
}  // namespace pmm::strategy
