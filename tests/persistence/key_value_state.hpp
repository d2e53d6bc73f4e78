// A small RecoverableState for the recovery tests and the recovery benchmark: a map of key -> value
// driven by two record types, plus counters, so a missing, repeated or reordered record changes the
// digest. Stands in for the trading state, which implements the same interface.
//
//   type 16 (kPut):   u64 key (LE), then the value bytes (any length, may be empty)
//   type 17 (kErase): u64 key (LE)
//   anything else, or a payload shorter than 8 bytes: counted in `ignored` (never a crash)
//
// Snapshot: block 1 = u64 applied, u64 last_sequence, u64 ignored, u64 entries (LE); then blocks of type
// 2, each a run of entries (u64 key, u16 length, bytes), at most kChunk bytes each.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "persistence/journal_format.hpp"
#include "persistence/recoverable_state.hpp"

namespace pmm::persistence::testing {

class KeyValueState final : public RecoverableState {
 public:
  static constexpr uint16_t kPut = 4096;  // a type no appliance record uses (docs/journal-records.md)
  static constexpr uint16_t kErase = 17;
  static constexpr uint16_t kCountersBlock = 1;
  static constexpr uint16_t kEntriesBlock = 2;
  static constexpr size_t kChunk = 4096;

  void reset() override {
    entries_.clear();
    applied_ = last_sequence_ = ignored_ = 0;
  }

  void apply(const JournalRecordView& r) override {
    ++applied_;
    last_sequence_ = r.sequence;
    if (r.length < 8 || (r.type != kPut && r.type != kErase)) {
      ++ignored_;
      return;
    }
    const uint64_t key = journal::load_le<uint64_t>(r.payload);
    if (r.type == kPut) {
      entries_[key].assign(r.payload + 8, r.payload + r.length);
    } else {
      entries_.erase(key);
    }
  }

  std::string write_snapshot(SnapshotWriter& out) const override {
    uint8_t counters[32];
    journal::store_le<uint64_t>(counters, applied_);
    journal::store_le<uint64_t>(counters + 8, last_sequence_);
    journal::store_le<uint64_t>(counters + 16, ignored_);
    journal::store_le<uint64_t>(counters + 24, entries_.size());
    if (!out.add_block(kCountersBlock, counters, sizeof counters)) return "counters block: " + out.error();
    std::vector<uint8_t> chunk;
    for (const auto& [key, value] : entries_) {
      const size_t n = 10 + value.size();
      if (!chunk.empty() && chunk.size() + n > kChunk) {
        if (!out.add_block(kEntriesBlock, chunk.data(), chunk.size())) return "entries block: " + out.error();
        chunk.clear();
      }
      const size_t at = chunk.size();
      chunk.resize(at + n);
      journal::store_le<uint64_t>(chunk.data() + at, key);
      journal::store_le<uint16_t>(chunk.data() + at + 8, static_cast<uint16_t>(value.size()));
      if (!value.empty()) std::memcpy(chunk.data() + at + 10, value.data(), value.size());
    }
    if (!chunk.empty() && !out.add_block(kEntriesBlock, chunk.data(), chunk.size())) {
      return "entries block: " + out.error();
    }
    return "";
  }

  std::string restore_snapshot(SnapshotReader& in) override {
    SnapshotBlockView b;
    if (!in.next(b)) return in.failed() ? in.damage().to_string() : "no counters block";
    if (b.type != kCountersBlock || b.size != 32) {
      return "block " + std::to_string(b.index) + " at offset " + std::to_string(b.offset) + ": type " +
             std::to_string(b.type) + ", " + std::to_string(b.size) + " bytes where the 32-byte counters block belongs";
    }
    applied_ = journal::load_le<uint64_t>(b.data);
    last_sequence_ = journal::load_le<uint64_t>(b.data + 8);
    ignored_ = journal::load_le<uint64_t>(b.data + 16);
    const uint64_t count = journal::load_le<uint64_t>(b.data + 24);
    while (in.next(b)) {
      if (b.type != kEntriesBlock) {
        return "block " + std::to_string(b.index) + " at offset " + std::to_string(b.offset) + ": unknown type " +
               std::to_string(b.type);
      }
      for (size_t at = 0; at < b.size;) {
        if (b.size - at < 10) return "block " + std::to_string(b.index) + ": truncated entry at byte " + std::to_string(at);
        const uint64_t key = journal::load_le<uint64_t>(b.data + at);
        const uint16_t n = journal::load_le<uint16_t>(b.data + at + 8);
        if (b.size - at - 10 < n) return "block " + std::to_string(b.index) + ": entry overruns the block at byte " + std::to_string(at);
        entries_[key].assign(b.data + at + 10, b.data + at + 10 + n);
        at += 10 + size_t{n};
      }
    }
    if (in.failed()) return in.damage().to_string();
    if (entries_.size() != count) {
      return "counters block says " + std::to_string(count) + " entries, the blocks hold " +
             std::to_string(entries_.size());
    }
    return "";
  }

  uint64_t digest() const override {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64-bit
    auto mix = [&h](const void* p, size_t n) {
      const auto* b = static_cast<const uint8_t*>(p);
      for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
    };
    mix(&applied_, 8);
    mix(&last_sequence_, 8);
    mix(&ignored_, 8);
    for (const auto& [key, value] : entries_) {
      const uint64_t n = value.size();
      mix(&key, 8);
      mix(&n, 8);
      mix(value.data(), value.size());
    }
    return h;
  }

  uint64_t applied() const { return applied_; }
  uint64_t last_sequence() const { return last_sequence_; }
  uint64_t ignored() const { return ignored_; }
  const std::map<uint64_t, std::vector<uint8_t>>& entries() const { return entries_; }

 private:
  std::map<uint64_t, std::vector<uint8_t>> entries_;
  uint64_t applied_ = 0;
  uint64_t last_sequence_ = 0;
  uint64_t ignored_ = 0;
};

}  // namespace pmm::persistence::testing
