// Shared by the recovery tests: a data directory on the real file system (the journal reader maps real
// files), a live run that journals records and applies them to a KeyValueState as the appliance's shadow
// copy would (keeping the live digest at every sequence), captured log lines, and whole-directory
// fingerprints to prove that a Failed recovery changed nothing.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "persistence/journal_writer.hpp"
#include "persistence/recovery.hpp"
#include "persistence/state_snapshots.hpp"
#include "tests/persistence/key_value_state.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace recovery_test {

namespace ps = pmm::persistence;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
inline void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
inline void flip_byte(const std::string& path, uint64_t offset) {
  Bytes b = read_file(path);
  b.at(offset) ^= 0x40;
  write_file(path, b);
}

// Every regular file under `root` (relative path -> bytes): equal fingerprints = nothing changed.
inline std::map<std::string, Bytes> fingerprint(const std::string& root) {
  std::map<std::string, Bytes> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = read_file(e.path().string());
  }
  return out;
}

// Journal segment files, sorted.
inline std::vector<std::string> segments(const std::string& journal_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(journal_dir)) {
    uint64_t first = 0;
    if (ps::journal::parse_segment_file_name(e.path().filename().string(), first)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}
inline uint64_t first_sequence_of(const std::string& segment_path) {
  uint64_t first = 0;
  EXPECT_TRUE(ps::journal::parse_segment_file_name(fs::path(segment_path).filename().string(), first));
  return first;
}

// Record i's payload: a put of key i % 37 with an 8..57-byte value that names i (none of it zero).
inline Bytes payload_of(uint64_t i) {
  Bytes p(8 + 8 + i % 50);
  ps::journal::store_le<uint64_t>(p.data(), i % 37);
  for (size_t k = 8; k < p.size(); ++k) p[k] = static_cast<uint8_t>((i * 131 + k * 7) % 255 + 1);
  return p;
}

class RecoveryFixture : public ::testing::Test {
 protected:
  RecoveryFixture() {
    config.data_directory = tmp.path() + "/data";
    config.journal_segment_bytes = 16384;  // header page + 3 record pages: a few hundred records per segment
    logger = [this](ps::LogLevel level, const std::string& text) {
      log.push_back(std::string(ps::to_string(level)) + " " + text);
    };
  }

  std::string root() const { return config.data_directory; }
  std::string journal_dir() const { return config.data_directory + "/journal"; }
  std::string snapshot_dir() const { return config.data_directory + "/snapshots"; }

  // Runs recovery into `state`.
  ps::RecoveryResult recover(ps::testing::KeyValueState& state) {
    log.clear();
    return ps::recover_state(config, ops, state, logger);
  }

  bool logged(const std::string& part) const {
    for (const std::string& l : log)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  std::string log_text() const {
    std::string s;
    for (const std::string& l : log) s += l + "\n";
    return s;
  }

  // The appliance's start: recovery (must not fail), then the writer continues the journal.
  void start_live() {
    ps::testing::KeyValueState recovered;
    ps::RecoveryResult r = recover(recovered);
    ASSERT_NE(r.status, ps::RecoveryStatus::Failed) << log_text();
    directory = std::move(r.directory);
    recovered_from_snapshot += r.snapshot_used ? 1 : 0;
    tails_repaired += r.tail_repaired ? 1 : 0;
    live = recovered;
    if (digests.size() < r.recovered_sequence + 1) digests.resize(r.recovered_sequence + 1, 0);
    digests[r.recovered_sequence] = live.digest();
    ps::JournalWriterOptions o;
    o.directory = journal_dir();
    o.segment_bytes = config.journal_segment_bytes;
    o.first_sequence = r.next_sequence;
    std::string error;
    writer = ps::JournalWriter::open(o, error);
    ASSERT_TRUE(writer) << error;
  }

  // Journals one record and applies it to the live state, as the shadow copy does.
  uint64_t append(uint16_t type, const Bytes& p) {
    const uint64_t seq = writer->append(type, p.data(), static_cast<uint16_t>(p.size()));
    EXPECT_NE(seq, 0u) << writer->error();
    live.apply(ps::JournalRecordView{seq, type, static_cast<uint16_t>(p.size()), p.data(), nullptr, 0});
    if (digests.size() < seq + 1) digests.resize(seq + 1, 0);
    digests[seq] = live.digest();
    return seq;
  }
  void append_n(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) append(ps::testing::KeyValueState::kPut, payload_of(writer->last_sequence() + 1));
  }
  void sync() { ASSERT_TRUE(writer->sync()) << writer->error(); }

  // A snapshot of the live state at its (durable) sequence.
  ps::SnapshotTakeResult snapshot(size_t keep = 5) {
    EXPECT_EQ(writer->durable_sequence(), writer->last_sequence()) << "snapshots are taken at durable sequences";
    return ps::take_snapshot(live, writer->last_sequence(), directory->snapshots(), keep, logger);
  }

  void close_writer() {
    ASSERT_TRUE(writer->close()) << writer->error();
    writer.reset();
  }
  void crash_writer() {
    writer->abandon();
    writer.reset();
  }
  // A "stop": the writer and the data directory are gone, nothing else happens.
  void stop() {
    if (writer) close_writer();
    directory.reset();
  }

  pmm::persistence::testing::TempDir tmp;
  ps::PosixFileOps ops;
  ps::PersistenceConfig config;
  std::vector<std::string> log;
  ps::Logger logger;

  std::unique_ptr<ps::DataDirectory> directory;
  std::unique_ptr<ps::JournalWriter> writer;
  ps::testing::KeyValueState live;
  std::vector<uint64_t> digests;  // live digest at each sequence (index 0: the empty state)
  uint64_t recovered_from_snapshot = 0;  // start_live() recoveries that used a snapshot
  uint64_t tails_repaired = 0;           // ... that cut a torn tail
};

}  // namespace recovery_test
