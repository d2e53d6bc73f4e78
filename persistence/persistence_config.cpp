#include "persistence/persistence_config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstring>
#include <set>

#include "persistence/journal_format.hpp"

namespace pmm::persistence {

namespace {

using rapidjson::Value;

// Reads the keys of the "persistence" object; the first error wins; unknown keys are errors.
class Keys {
 public:
  Keys(const Value& v, std::string& error) : v_(v), error_(error) {}

  const Value* find(const char* key) {
    known_.insert(key);
    const auto it = v_.FindMember(key);
    return it == v_.MemberEnd() ? nullptr : &it->value;
  }
  template <class T>
  void uint(const char* key, T& out, uint64_t min, uint64_t max, const char* extra = "") {
    const Value* v = find(key);
    if (v == nullptr) return;
    if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max) {
      fail(key, "an integer from " + std::to_string(min) + " to " + std::to_string(max) + extra);
      return;
    }
    out = static_cast<T>(v->GetUint64());
  }
  void boolean(const char* key, bool& out) {
    const Value* v = find(key);
    if (v == nullptr) return;
    if (!v->IsBool()) return fail(key, "true or false");
    out = v->GetBool();
  }
  void path(const char* key, std::string& out) {
    const Value* v = find(key);
    if (v == nullptr) return;
    if (!v->IsString() || v->GetStringLength() == 0 || std::strlen(v->GetString()) != v->GetStringLength())
      return fail(key, "a non-empty path string");
    out = v->GetString();
  }
  void fail(const char* key, const std::string& expected) {
    if (error_.empty()) error_ = std::string("persistence.") + key + ": expected " + expected;
  }
  void finish() {
    if (!error_.empty()) return;
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      if (known_.count(it->name.GetString()) == 0) {
        error_ = std::string("persistence.") + it->name.GetString() + ": unknown key";
        return;
      }
    }
  }

 private:
  const Value& v_;
  std::string& error_;
  std::set<std::string> known_;
};

}  // namespace

std::string parse_persistence_config(const Value& v, PersistenceConfig& c) {
  if (!v.IsObject()) return "persistence: expected an object";
  std::string error;
  Keys k(v, error);
  k.boolean("enabled", c.enabled);
  k.path("dataDirectory", c.data_directory);
  k.uint("journalSyncIntervalMs", c.journal_sync_interval_ms, 1, 60000);
  k.uint("snapshotIntervalMin", c.snapshot_interval_min, 1, 1440);
  k.uint("keepSnapshots", c.keep_snapshots, 1, 1000);
  k.uint("compactionThreshold", c.compaction_threshold, 1, uint64_t{1} << 50);
  uint64_t segment = c.journal_segment_bytes;
  k.uint("journalSegmentBytes", segment, 64 * 1024, uint64_t{1} << 30, ", a multiple of 4096");
  if (error.empty() && segment % journal::kPageBytes != 0)
    k.fail("journalSegmentBytes", "an integer from 65536 to 1073741824, a multiple of 4096");
  c.journal_segment_bytes = segment;
  uint32_t ring = c.journal_ring_size;
  k.uint("journalRingSize", ring, 64, 1u << 24, ", a power of two");
  if (error.empty() && (ring & (ring - 1)) != 0)
    k.fail("journalRingSize", "an integer from 64 to 16777216, a power of two");
  c.journal_ring_size = ring;
  k.finish();
  return error;
}

std::string parse_persistence_config(const std::string& json, PersistenceConfig& c) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(json.c_str());
  if (doc.HasParseError())
    return "persistence: JSON error at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
           rapidjson::GetParseError_En(doc.GetParseError());
  return parse_persistence_config(static_cast<const Value&>(doc), c);
}

}  // namespace pmm::persistence
