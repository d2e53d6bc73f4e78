// The "persistence" section of the configuration (the keys of the crash-recovery guide, plus the
// journal's own; docs/journal.md lists them). The parse checks every value and refuses unknown keys;
// an error names the dotted key and the form it expects.
#pragma once

#include <rapidjson/fwd.h>

#include <cstdint>
#include <string>

namespace pmm::persistence {

struct PersistenceConfig {
  bool enabled = true;
  std::string data_directory = "data";        // dataDirectory: journal/ and snapshots live under it
  uint32_t journal_sync_interval_ms = 100;    // journalSyncIntervalMs: group commit period, 1..60000
  uint32_t snapshot_interval_min = 15;        // snapshotIntervalMin: 1..1440
  uint32_t keep_snapshots = 5;                // keepSnapshots: 1..1000
  uint64_t compaction_threshold = 1000000;    // compactionThreshold: journal bytes before compaction, >= 1
  uint64_t journal_segment_bytes = 64ull << 20;  // journalSegmentBytes: a multiple of 4096, 64 KiB..1 GiB
  uint32_t journal_ring_size = 65536;         // journalRingSize: records per pipeline core's ring, a power of two
  bool journal_market_data = true;            // journalMarketData: the quoted symbols' book messages too
  // snapshotBufferBytes: the memory a snapshot is serialised into on the journal thread before the
  // snapshot file thread writes it (allocated at start), 1 MiB..64 GiB; a larger state fails the snapshot.
  uint64_t snapshot_buffer_bytes = 64ull << 20;
  // journalCpu: the journal thread's CPU: "auto" (kJournalCpuAuto, the default: the appliance picks one
  // on the data plane's NUMA node that no pipeline core uses), -1 (unpinned) or a CPU number. Checked
  // against the machine and pipeline.cores by the appliance (dpdk-app/journal_cpu.hpp).
  static constexpr int kJournalCpuAuto = -2;
  int journal_cpu = kJournalCpuAuto;

  // <dataDirectory>/journal
  std::string journal_directory() const { return data_directory + "/journal"; }
};

// Reads the "persistence" object `v` over the defaults in `out`. Returns "" or an error such as
// "persistence.journalSyncIntervalMs: expected an integer from 1 to 60000".
std::string parse_persistence_config(const rapidjson::Value& v, PersistenceConfig& out);

// The same, from JSON text holding the object itself ({"enabled": true, ...}); comments allowed.
std::string parse_persistence_config(const std::string& json, PersistenceConfig& out);

}  // namespace pmm::persistence
