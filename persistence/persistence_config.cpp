#include "persistence/persistence_config.hpp"

#include <rapidjson/document.h>

#include <string_view>

#include "core/config_section.hpp"
#include "persistence/journal_format.hpp"

namespace pmm::persistence {

using rapidjson::Value;

std::string parse_persistence_config(const Value& v, PersistenceConfig& c) {
  std::string error;
  config::Section k(v, "persistence", error);
  if (!error.empty()) return error;  // not an object
  k.boolean("enabled", c.enabled);
  k.file_path("dataDirectory", c.data_directory);
  k.uint("journalSyncIntervalMs", c.journal_sync_interval_ms, 1, 60000);
  k.uint("snapshotIntervalMin", c.snapshot_interval_min, 1, 1440);
  k.uint("keepSnapshots", c.keep_snapshots, 1, 1000);
  k.uint("compactionThreshold", c.compaction_threshold, 1, uint64_t{1} << 50);
  uint64_t segment = c.journal_segment_bytes;
  k.uint("journalSegmentBytes", segment, 64 * 1024, uint64_t{1} << 30, ", a multiple of 4096");
  if (error.empty() && segment % journal::kPageBytes != 0)
    k.fail(k.name("journalSegmentBytes"), "an integer from 65536 to 1073741824, a multiple of 4096");
  c.journal_segment_bytes = segment;
  uint32_t ring = c.journal_ring_size;
  k.uint("journalRingSize", ring, 64, 1u << 24, ", a power of two");
  if (error.empty() && (ring & (ring - 1)) != 0)
    k.fail(k.name("journalRingSize"), "an integer from 64 to 16777216, a power of two");
  c.journal_ring_size = ring;
  k.boolean("journalMarketData", c.journal_market_data);
  k.uint("snapshotBufferBytes", c.snapshot_buffer_bytes, uint64_t{1} << 20, uint64_t{1} << 36);
  if (const Value* cpu = k.child("journalCpu")) {
    if (cpu->IsString() && std::string_view(cpu->GetString(), cpu->GetStringLength()) == "auto")
      c.journal_cpu = PersistenceConfig::kJournalCpuAuto;
    else if (cpu->IsInt() && cpu->GetInt() >= -1 && cpu->GetInt() <= 4095)
      c.journal_cpu = cpu->GetInt();
    else
      k.fail(k.name("journalCpu"), "\"auto\", -1 (unpinned) or a CPU number from 0 to 4095");
  }
  k.finish();
  return error;
}

std::string parse_persistence_config(const std::string& json, PersistenceConfig& c) {
  rapidjson::Document doc;
  if (std::string e = config::parse_json(json, doc, "persistence"); !e.empty()) return e;
  return parse_persistence_config(static_cast<const Value&>(doc), c);
}

}  // namespace pmm::persistence
