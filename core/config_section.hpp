// Reading one JSON object of the configuration with checks: typed getters with ranges, the keys read
// remembered so that finish() reports any other key as unknown (a misspelt key must not silently leave
// a default in place), and the first error kept as "<dotted.key>: expected <form>". The pipeline,
// strategy, risk and persistence configurations all read their objects with it (docs/configuration.md).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pmm::config {

// Configuration files are written by hand: comments and trailing commas are allowed.
inline constexpr unsigned kParseFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;

// Parses `json` into `doc`. Returns "" or "<what>: JSON error at byte N: <reason>" (N 0-based).
inline std::string parse_json(const std::string& json, rapidjson::Document& doc, std::string_view what) {
  doc.Parse<kParseFlags>(json.c_str());
  if (!doc.HasParseError()) return "";
  return std::string(what) + ": JSON error at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
         rapidjson::GetParseError_En(doc.GetParseError());
}

enum class Presence : uint8_t { kOptional, kRequired };

// One object's keys. `path` is the object's dotted name ("" for the document itself); errors go to
// `error`, which keeps the first one (later calls neither overwrite it nor report more). A getter
// leaves `out` untouched unless the key is present and valid, and then returns true.
class Section {
 public:
  using Value = rapidjson::Value;

  Section(const Value& v, std::string path, std::string& error) : v_(v), path_(std::move(path)), error_(error) {
    if (!v.IsObject()) fail(path_.empty() ? "the document" : path_, "an object");
  }

  // An unsigned integer in [min, max]; `suffix` adds to the form in the error (", a power of two").
  template <class T>
  bool uint(std::string_view key, T& out, uint64_t min = 0, uint64_t max = std::numeric_limits<T>::max(),
            std::string_view suffix = "") {
    static_assert(std::is_unsigned_v<T>);
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max) {
      fail(name(key), "an integer from " + std::to_string(min) + " to " + std::to_string(max) + std::string(suffix));
      return false;
    }
    out = static_cast<T>(v->GetUint64());
    return true;
  }

  // A signed integer in [min, max]; a required key's absence is an error ending " (required)".
  template <class T>
  bool integer(std::string_view key, T& out, int64_t min, int64_t max, Presence presence = Presence::kOptional) {
    static_assert(std::is_signed_v<T> && std::is_integral_v<T>);
    const std::string form = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    const Value* v = find(key);
    if (!v) {
      if (presence == Presence::kRequired) fail(name(key), form + " (required)");
      return false;
    }
    if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max) {
      fail(name(key), form);
      return false;
    }
    out = static_cast<T>(v->GetInt64());
    return true;
  }

  // Any JSON number in [min, max]; `expected` is the whole form for the error (units belong in it).
  bool number(std::string_view key, double& out, double min, double max, std::string_view expected) {
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsNumber() || !(v->GetDouble() >= min && v->GetDouble() <= max)) {
      fail(name(key), std::string(expected));
      return false;
    }
    out = v->GetDouble();
    return true;
  }

  bool boolean(std::string_view key, bool& out) {
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsBool()) {
      fail(name(key), "true or false");
      return false;
    }
    out = v->GetBool();
    return true;
  }

  bool string(std::string_view key, std::string& out) {
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsString()) {
      fail(name(key), "a string");
      return false;
    }
    out = v->GetString();
    return true;
  }

  // A string usable as a file name: not empty, no NUL byte.
  bool file_path(std::string_view key, std::string& out) {
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsString() || v->GetStringLength() == 0 || std::strlen(v->GetString()) != v->GetStringLength()) {
      fail(name(key), "a non-empty path string");
      return false;
    }
    out = v->GetString();
    return true;
  }

  // An array of strings; replaces `out` as a whole.
  bool strings(std::string_view key, std::vector<std::string>& out) {
    const Value* v = find(key);
    if (!v) return false;
    if (!v->IsArray()) {
      fail(name(key), "an array of strings");
      return false;
    }
    std::vector<std::string> read;
    for (const Value& s : v->GetArray()) {
      if (!s.IsString()) {
        fail(name(key), "an array of strings");
        return false;
      }
      read.emplace_back(s.GetString());
    }
    out = std::move(read);
    return true;
  }

  // A key the caller reads itself (a nested object, an array of objects): marked known, nullptr when absent.
  const Value* child(std::string_view key) { return find(key); }

  // Call last: any key not read above is unknown.
  void finish() {
    if (!error_.empty() || !v_.IsObject()) return;
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      const std::string_view k = it->name.GetString();
      if (!seen_.count(k)) {
        error_ = name(k) + ": unknown key";
        return;
      }
    }
  }

  // The dotted name of one of this object's keys.
  std::string name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // Records "<dotted_key>: expected <expected>" unless an error is already recorded.
  void fail(const std::string& dotted_key, const std::string& expected) {
    if (error_.empty()) error_ = dotted_key + ": expected " + expected;
  }

 private:
  const Value* find(std::string_view key) {
    seen_.emplace(key);
    if (!v_.IsObject()) return nullptr;
    const Value wanted(rapidjson::StringRef(key.data(), key.size()));
    const auto it = v_.FindMember(wanted);
    return it == v_.MemberEnd() ? nullptr : &it->value;
  }

  const Value& v_;
  std::string path_;
  std::string& error_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace pmm::config
