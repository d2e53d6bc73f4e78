// The "risk" configuration object: a complete example (the one in docs/risk.md) reads into the
// expected limits with overrides resolved; every error names its dotted key and the expected form.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "risk/risk_limits.hpp"

namespace {

using namespace pmm::risk;

const std::vector<std::string> kSymbols{"AAPL", "MSFT", "NVDA"};

// Kept identical to the example in docs/risk.md.
const char* const kExample = R"({
  "max_position": 20000,
  "max_order_shares": 5000,
  "max_order_notional": 250000,
  "max_open_orders_per_symbol": 8,
  "price_collar_bps": 50,
  "max_total_position": 60000,
  "max_open_orders": 32,
  "max_orders_per_second": 200,
  "order_burst": 20,
  "kill_switch": false,
  "control_ring_size": 64,
  "symbols": {
    "NVDA": { "max_position": 5000, "price_collar_bps": 100 }
  }
})";

std::string parse(const std::string& json, RiskLimits& out) { return parse_risk_limits_json(json, kSymbols, out); }

// The example with one top-level key replaced (value as JSON text) or removed (value empty).
std::string with(const std::string& key, const std::string& value) {
  std::string j = kExample;
  const size_t at = j.find("\"" + key + "\"");
  EXPECT_NE(at, std::string::npos) << key;
  const size_t colon = j.find(':', at);
  size_t end = j.find_first_of(",\n", colon);
  if (j.find_first_not_of(' ', colon + 1) == j.find('{', colon)) end = j.find("\n  }", colon) + 4;  // an object
  if (value.empty()) j.erase(at, end + 1 - at);
  else j.replace(at, end - at, "\"" + key + "\": " + value);
  return j;
}

TEST(RiskLimitsConfig, ExampleReads) {
  RiskLimits l;
  ASSERT_EQ(parse(kExample, l), "");
  EXPECT_EQ(l.symbols, kSymbols);
  EXPECT_EQ(l.defaults.max_position, 20000);
  EXPECT_EQ(l.defaults.max_order_shares, 5000u);
  EXPECT_EQ(l.defaults.max_order_notional, 250000);
  EXPECT_EQ(l.defaults.max_open_orders_per_symbol, 8u);
  EXPECT_EQ(l.defaults.price_collar_bps, 50u);
  EXPECT_EQ(l.max_total_position, 60000);
  EXPECT_EQ(l.max_open_orders, 32u);
  EXPECT_EQ(l.max_orders_per_second, 200u);
  EXPECT_EQ(l.order_burst, 20u);
  EXPECT_FALSE(l.kill_switch);
  EXPECT_EQ(l.control_ring_size, 64u);
  ASSERT_EQ(l.per_symbol.size(), 3u);
  EXPECT_EQ(l.per_symbol[0].max_position, 20000);
  EXPECT_EQ(l.per_symbol[2].max_position, 5000);
  EXPECT_EQ(l.per_symbol[2].price_collar_bps, 100u);
  EXPECT_EQ(l.per_symbol[2].max_order_shares, 5000u);
  EXPECT_EQ(l.overridden[0], 0u);
  EXPECT_EQ(l.overridden[2], (1u << 0) | (1u << 4));
}

TEST(RiskLimitsConfig, DocumentedExampleIsTheTestedOne) {
  const char* dir = std::getenv("PMM_DOCS_DIR");
  if (dir == nullptr) GTEST_SKIP() << "PMM_DOCS_DIR not set";
  std::ifstream f(std::string(dir) + "/risk.md");
  ASSERT_TRUE(f.good());
  std::stringstream text;
  text << f.rdbuf();
  const std::string doc = text.str();
  const size_t start = doc.find("\"risk\": {");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("\n}\n", start);
  ASSERT_NE(end, std::string::npos);
  // Both without their indentation: the document's example is the object after "risk": .
  std::string documented = doc.substr(start + 8, end + 2 - (start + 8));
  EXPECT_EQ(documented, kExample);
  RiskLimits l;
  EXPECT_EQ(parse(documented, l), "");
}

TEST(RiskLimitsConfig, OptionalKeysKeepDefaults) {
  RiskLimits l;
  ASSERT_EQ(parse(with("symbols", ""), l), "") << with("symbols", "");
  EXPECT_EQ(l.overridden[2], 0u);
  RiskLimits m;
  std::string j = with("kill_switch", "true");
  ASSERT_EQ(parse(j, m), "");
  EXPECT_TRUE(m.kill_switch);
}

TEST(RiskLimitsConfig, EveryLimitIsRequired) {
  for (const char* key : {"max_position", "max_order_shares", "max_order_notional", "max_open_orders_per_symbol",
                          "price_collar_bps", "max_total_position", "max_open_orders", "max_orders_per_second",
                          "order_burst"}) {
    RiskLimits l;
    const std::string e = parse(with(key, ""), l);
    EXPECT_EQ(e.rfind(std::string("risk.") + key + ": expected an integer from ", 0), 0u) << e;
    EXPECT_NE(e.find("(required)"), std::string::npos) << e;
  }
}

TEST(RiskLimitsConfig, RangesAndTypes) {
  struct Case {
    std::string key, value, error;
  };
  const Case cases[] = {
      {"max_position", "-1", "risk.max_position: expected an integer from 0 to 1099511627776"},
      {"max_position", "1099511627777", "risk.max_position: expected an integer from 0 to 1099511627776"},
      {"max_position", "\"20000\"", "risk.max_position: expected an integer from 0 to 1099511627776"},
      {"max_position", "2.5", "risk.max_position: expected an integer from 0 to 1099511627776"},
      {"max_order_shares", "4294967296", "risk.max_order_shares: expected an integer from 0 to 4294967295"},
      {"max_order_notional", "100000000000001",
       "risk.max_order_notional: expected an integer from 0 to 100000000000000"},
      {"price_collar_bps", "10001", "risk.price_collar_bps: expected an integer from 0 to 10000"},
      {"max_orders_per_second", "0", "risk.max_orders_per_second: expected an integer from 1 to 1000000"},
      {"order_burst", "1000001", "risk.order_burst: expected an integer from 1 to 1000000"},
      {"max_open_orders", "1048577", "risk.max_open_orders: expected an integer from 0 to 1048576"},
      {"kill_switch", "1", "risk.kill_switch: expected true or false"},
      {"control_ring_size", "100", "risk.control_ring_size: expected a power of two from 1 to 65536, got 100"},
      {"control_ring_size", "0", "risk.control_ring_size: expected an integer from 1 to 65536"},
      {"symbols", "[]", "risk.symbols: expected an object of per-symbol overrides"},
  };
  for (const Case& c : cases) {
    RiskLimits l;
    const std::string e = parse(with(c.key, c.value), l);
    EXPECT_EQ(e.rfind(c.error, 0), 0u) << c.key << "=" << c.value << ": got \"" << e << "\"";
  }
}

TEST(RiskLimitsConfig, UnknownKeysAndSymbols) {
  RiskLimits l;
  EXPECT_EQ(parse(with("order_burst", "20, \"max_posiiton\": 5"), l), "risk.max_posiiton: unknown key");
  EXPECT_EQ(parse(with("symbols", R"({"TSLA": {"max_position": 1}})"), l),
            "risk.symbols.TSLA: unknown symbol; expected one of AAPL, MSFT, NVDA");
  EXPECT_EQ(parse(with("symbols", R"({"MSFT": {"max_open_orders": 1}})"), l),
            "risk.symbols.MSFT.max_open_orders: unknown key");  // global-only limits are not per symbol
  EXPECT_EQ(parse(with("symbols", R"({"MSFT": {"price_collar_bps": 10001}})"), l),
            "risk.symbols.MSFT.price_collar_bps: expected an integer from 0 to 10000");
  EXPECT_EQ(parse(with("symbols", R"({"MSFT": 5})"), l), "risk.symbols.MSFT: expected an object");
}

TEST(RiskLimitsConfig, NotAnObjectAndBadJson) {
  RiskLimits l;
  EXPECT_EQ(parse("[1]", l).rfind("risk: expected an object", 0), 0u);
  EXPECT_EQ(parse("{ \"max_position\": }", l).rfind("risk: JSON error at byte ", 0), 0u);
}

TEST(RiskLimitsConfig, SymbolTableIsBoundedAtConfiguration) {
  std::vector<std::string> many;
  for (size_t i = 0; i <= kMaxRiskSymbols; ++i) many.push_back("S" + std::to_string(i));
  RiskLimits l;
  EXPECT_EQ(parse_risk_limits_json(kExample, many, l), "risk: 65 symbols configured; expected at most 64");
  many.pop_back();
  std::string j = with("symbols", "");
  EXPECT_EQ(parse_risk_limits_json(j, many, l), "");
  EXPECT_EQ(l.per_symbol.size(), kMaxRiskSymbols);
  EXPECT_EQ(parse_risk_limits_json(j, {"AAPL", "AAPL"}, l), "symbols: \"AAPL\" appears twice");
  EXPECT_EQ(parse_risk_limits_json(j, {"TOOLONGNAME"}, l),
            "symbols: expected 1 to 8 characters per symbol, got \"TOOLONGNAME\"");
}

TEST(RiskLimitsConfig, FailedParseLeavesTheOutputAlone) {
  RiskLimits l;
  l.max_open_orders = 77;
  EXPECT_NE(parse(with("order_burst", "0"), l), "");
  EXPECT_EQ(l.max_open_orders, 77u);
}

}  // namespace
