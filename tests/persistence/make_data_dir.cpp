// Test fixture for test_pmmctl.py: builds a data directory the way the appliance would (recovery, then the
// journal writer), with records 1..RECORDS of KeyValueState puts whose payloads test_pmmctl.py recomputes
// (recovery_test::payload_of), synced through SYNCED (== RECORDS: a clean close; else a crash with
// SYNCED+1..RECORDS unsynced), and a snapshot at SNAPSHOT_AT (0: none; <= SYNCED).
//
// Usage: make_data_dir DIR RECORDS SYNCED SNAPSHOT_AT
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/persistence/recovery_fixture.hpp"

namespace {

namespace ps = pmm::persistence;

int fail(const std::string& what) {
  std::fprintf(stderr, "make_data_dir: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return fail("usage: make_data_dir DIR RECORDS SYNCED SNAPSHOT_AT");
  const uint64_t records = std::strtoull(argv[2], nullptr, 10);
  const uint64_t synced = std::strtoull(argv[3], nullptr, 10);
  const uint64_t snapshot_at = std::strtoull(argv[4], nullptr, 10);
  if (synced > records || snapshot_at > synced) return fail("need SNAPSHOT_AT <= SYNCED <= RECORDS");

  ps::PosixFileOps ops;
  ps::PersistenceConfig config;
  config.data_directory = argv[1];
  config.journal_segment_bytes = 16384;  // a few hundred records per segment
  ps::testing::KeyValueState state;
  ps::RecoveryResult r = ps::recover_state(config, ops, state, nullptr);
  if (r.status == ps::RecoveryStatus::Failed) return fail(r.reason);
  ps::JournalWriterOptions o;
  o.directory = config.journal_directory();
  o.segment_bytes = config.journal_segment_bytes;
  o.first_sequence = r.next_sequence;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  if (!w) return fail(error);
  for (uint64_t i = 1; i <= records; ++i) {
    const recovery_test::Bytes p = recovery_test::payload_of(i);
    const uint64_t seq = w->append(ps::testing::KeyValueState::kPut, p.data(), static_cast<uint16_t>(p.size()));
    if (seq != i) return fail("append returned " + std::to_string(seq) + ": " + w->error());
    state.apply(ps::JournalRecordView{seq, ps::testing::KeyValueState::kPut, static_cast<uint16_t>(p.size()),
                                      p.data(), nullptr, 0});
    if (i == synced || i == snapshot_at) {
      if (!w->sync()) return fail(w->error());
    }
    if (i == snapshot_at) {
      const ps::SnapshotTakeResult s = ps::take_snapshot(state, i, r.directory->snapshots(), 5, nullptr);
      if (!s.ok) return fail(s.error);
    }
  }
  if (synced == records) {
    if (!w->close()) return fail(w->error());
  } else {
    w->abandon();
  }
  std::printf("%s: records 1..%llu, synced through %llu, snapshot %llu, digest %llu\n", argv[1],
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(synced),
              static_cast<unsigned long long>(snapshot_at), static_cast<unsigned long long>(state.digest()));
  return 0;
}
