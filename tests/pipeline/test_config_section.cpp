// The configuration's object reader (core/config_section.hpp), on its own: each getter's accepted
// values and boundaries, the exact error forms, the first error winning, a value left untouched unless
// valid, unknown keys, required keys, and the JSON parse error. The callers' own tests
// (pipeline_config, strategy_config, risk_limits, journal_core) check the texts each section gives.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_section.hpp"

namespace {

using pmm::config::Presence;
using pmm::config::Section;

rapidjson::Document parsed(const std::string& json) {
  rapidjson::Document doc;
  const std::string e = pmm::config::parse_json(json, doc, "test");
  EXPECT_EQ(e, "") << json;
  return doc;
}

TEST(ConfigSection, UintBoundsAndForm) {
  const auto doc = parsed(R"({"lo": 2, "hi": 9, "below": 1, "above": 10, "neg": -1, "frac": 2.5, "text": "3"})");
  for (const char* key : {"lo", "hi"}) {
    std::string error;
    Section s(doc, "sec", error);
    uint16_t v = 0;
    EXPECT_TRUE(s.uint(key, v, 2, 9)) << key;
    EXPECT_EQ(v, key[0] == 'l' ? 2 : 9);
    EXPECT_EQ(error, "");
  }
  for (const char* key : {"below", "above", "neg", "frac", "text"}) {
    std::string error;
    Section s(doc, "sec", error);
    uint16_t v = 7;
    EXPECT_FALSE(s.uint(key, v, 2, 9, ", odd")) << key;
    EXPECT_EQ(v, 7) << "left untouched: " << key;
    EXPECT_EQ(error, std::string("sec.") + key + ": expected an integer from 2 to 9, odd");
  }
}

TEST(ConfigSection, UintDefaultRangeIsTheTypes) {
  const auto doc = parsed(R"({"a": 65535, "b": 65536})");
  std::string error;
  Section s(doc, "", error);
  uint16_t a = 0, b = 0;
  EXPECT_TRUE(s.uint("a", a));
  EXPECT_EQ(a, 65535);
  EXPECT_FALSE(s.uint("b", b));
  EXPECT_EQ(error, "b: expected an integer from 0 to 65535");  // the document's keys have no prefix
}

TEST(ConfigSection, IntegerRangeAndRequired) {
  const auto doc = parsed(R"({"cpu": -1, "big": 5000000000, "low": -2})");
  std::string error;
  Section s(doc, "core", error);
  int cpu = 0;
  int64_t big = 0;
  EXPECT_TRUE(s.integer("cpu", cpu, -1, 4095));
  EXPECT_EQ(cpu, -1);
  EXPECT_TRUE(s.integer("big", big, 0, int64_t{1} << 40));
  EXPECT_EQ(big, 5000000000);
  EXPECT_FALSE(s.integer("absent", cpu, 0, 1));  // optional: absence is no error
  EXPECT_EQ(error, "");
  EXPECT_FALSE(s.integer("missing", cpu, 0, 10, Presence::kRequired));
  EXPECT_EQ(error, "core.missing: expected an integer from 0 to 10 (required)");
  EXPECT_FALSE(s.integer("low", cpu, -1, 4095));
  EXPECT_EQ(error, "core.missing: expected an integer from 0 to 10 (required)") << "the first error wins";
  EXPECT_EQ(cpu, -1);
}

TEST(ConfigSection, NumberBooleanStrings) {
  const auto doc = parsed(R"({"x": 0.5, "n": 2, "bad": 1.5, "s": "v", "b": true, "nb": 0,
                              "list": ["a", "b"], "mixed": ["a", 1], "ns": 5})");
  std::string error;
  Section s(doc, "t", error);
  double x = 0, n = 0, bad = 9;
  EXPECT_TRUE(s.number("x", x, 0, 1, "a fraction"));
  EXPECT_EQ(x, 0.5);
  EXPECT_FALSE(s.number("n", n, 0, 1, "a fraction"));
  EXPECT_EQ(error, "t.n: expected a fraction");
  error.clear();
  EXPECT_FALSE(s.number("bad", bad, 0, 1, "a fraction"));
  EXPECT_EQ(bad, 9);
  error.clear();
  std::string str;
  EXPECT_TRUE(s.string("s", str));
  EXPECT_EQ(str, "v");
  EXPECT_FALSE(s.string("ns", str));
  EXPECT_EQ(error, "t.ns: expected a string");
  error.clear();
  bool b = false;
  EXPECT_TRUE(s.boolean("b", b));
  EXPECT_TRUE(b);
  EXPECT_FALSE(s.boolean("nb", b));
  EXPECT_EQ(error, "t.nb: expected true or false");
  error.clear();
  std::vector<std::string> list{"old"};
  EXPECT_TRUE(s.strings("list", list));
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(s.strings("mixed", list));
  EXPECT_EQ(error, "t.mixed: expected an array of strings");
  EXPECT_EQ(list, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigSection, FilePathIsNonEmptyWithoutNul) {
  const auto doc = parsed(R"({"ok": "data/dir", "empty": "", "nul": "a\u0000b", "num": 1})");
  for (const char* key : {"empty", "nul", "num"}) {
    std::string error;
    Section s(doc, "p", error);
    std::string out = "keep";
    EXPECT_FALSE(s.file_path(key, out)) << key;
    EXPECT_EQ(out, "keep");
    EXPECT_EQ(error, std::string("p.") + key + ": expected a non-empty path string");
  }
  std::string error;
  Section s(doc, "p", error);
  std::string out;
  EXPECT_TRUE(s.file_path("ok", out));
  EXPECT_EQ(out, "data/dir");
}

TEST(ConfigSection, UnknownKeysAfterEverythingRead) {
  const auto doc = parsed(R"({"a": 1, "child": {"z": 1}, "typo": 2})");
  std::string error;
  Section s(doc, "root", error);
  uint32_t a = 0;
  s.uint("a", a);
  const rapidjson::Value* child = s.child("child");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(s.child("none"), nullptr);
  s.finish();
  EXPECT_EQ(error, "root.typo: unknown key");

  std::string error2;
  Section all(doc, "root", error2);
  all.uint("a", a);
  all.child("child");
  all.child("typo");
  all.finish();
  EXPECT_EQ(error2, "");
}

TEST(ConfigSection, NotAnObject) {
  const auto doc = parsed(R"([1])");
  std::string error;
  Section top(doc, "", error);
  EXPECT_EQ(error, "the document: expected an object");
  std::string error2;
  Section named(doc, "risk", error2);
  uint32_t v = 5;
  EXPECT_FALSE(named.uint("v", v));
  named.finish();
  EXPECT_EQ(error2, "risk: expected an object");
  EXPECT_EQ(v, 5u);
}

TEST(ConfigSection, ParseErrorNamesTheByte) {
  rapidjson::Document doc;
  EXPECT_EQ(pmm::config::parse_json("{\"a\": 1,\n // c\n}", doc, "x"), "");  // comments, trailing comma
  EXPECT_EQ(pmm::config::parse_json("{\"a\": }", doc, "risk"), "risk: JSON error at byte 6: Invalid value.");
}

}  // namespace
