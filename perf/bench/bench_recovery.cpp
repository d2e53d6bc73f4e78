// Start-up recovery of a journal of 1 M 64-byte records (48-byte payloads, ~64 MiB in 64 MiB segments),
// applied into a small state (a running hash and a count): the target is < 100 ms.
//   BM_RecoverState        recover_state() end to end: verification of every segment, then the replay
//                          through apply() (two passes over the mapped segments, CRC32C on both),
//                          data-directory opening and the log lines.
//   BM_RecoverFromSnapshot the same with a snapshot at 500 000: restore + 500 000 records replayed
//                          (verification still reads everything).
//   BM_ReplayOnly          replay_journal() with apply alone (one pass), for comparison.
// The journal is written once (untimed) to $PMM_BENCH_DIR (default /tmp) and removed at the end; the
// files stay in the page cache, so this measures CPU, not the disk.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "persistence/journal_format.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/recovery.hpp"
#include "persistence/state_snapshots.hpp"

namespace {

namespace ps = pmm::persistence;
namespace j = ps::journal;

constexpr uint64_t kRecords = 1'000'000;
constexpr uint16_t kPayload = 48;

// A running hash of every payload's first 8 bytes and sequence, and a count.
class RunningHashState final : public ps::RecoverableState {
 public:
  void reset() override { hash_ = count_ = 0; }
  void apply(const ps::JournalRecordView& r) override {
    hash_ = (hash_ ^ (j::load_le<uint64_t>(r.payload) + r.sequence)) * 0x100000001b3ull;
    ++count_;
  }
  std::string write_snapshot(ps::SnapshotWriter& out) const override {
    uint8_t b[16];
    j::store_le<uint64_t>(b, hash_);
    j::store_le<uint64_t>(b + 8, count_);
    return out.add_block(1, b, sizeof b) ? "" : out.error();
  }
  std::string restore_snapshot(ps::SnapshotReader& in) override {
    ps::SnapshotBlockView b;
    if (!in.next(b) || b.size != 16) return "expected one 16-byte block";
    hash_ = j::load_le<uint64_t>(b.data);
    count_ = j::load_le<uint64_t>(b.data + 8);
    return "";
  }
  uint64_t digest() const override { return hash_ ^ count_; }
  uint64_t count() const { return count_; }

 private:
  uint64_t hash_ = 0;
  uint64_t count_ = 0;
};

class BenchData {
 public:
  BenchData() {
    const char* base = std::getenv("PMM_BENCH_DIR");
    const std::string root = std::string(base != nullptr ? base : "/tmp") + "/pmm-bench-recovery-" +
                             std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
    plain_.data_directory = root + "/plain";
    with_snapshot_.data_directory = root + "/snap";
    root_ = root;
    build(plain_, 0);
    build(with_snapshot_, kRecords / 2);
  }
  ~BenchData() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const ps::PersistenceConfig& plain() const { return plain_; }
  const ps::PersistenceConfig& with_snapshot() const { return with_snapshot_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  void build(const ps::PersistenceConfig& config, uint64_t snapshot_at) {
    ps::PosixFileOps ops;
    RunningHashState state;
    ps::RecoveryResult r = ps::recover_state(config, ops, state, nullptr);
    ps::JournalWriterOptions o;
    o.directory = config.journal_directory();
    o.segment_bytes = 64ull << 20;
    auto w = ps::JournalWriter::open(o, error_);
    if (!w || !r.directory) {
      error_ += r.reason;
      return;
    }
    uint8_t p[kPayload] = {};
    for (uint64_t i = 1; i <= kRecords; ++i) {
      j::store_le<uint64_t>(p, i * 0x9E3779B97F4A7C15ull);
      const uint64_t seq = w->append(16, p, kPayload);
      state.apply(ps::JournalRecordView{seq, 16, kPayload, p, nullptr, 0});
      if (i == snapshot_at) {
        w->sync();
        if (!ps::take_snapshot(state, i, r.directory->snapshots(), 5, nullptr).ok) error_ = "snapshot failed";
      }
    }
    if (!w->close()) error_ = w->error();
  }

  std::string root_;
  ps::PersistenceConfig plain_, with_snapshot_;
  std::string error_;
};

const BenchData& data() {
  static const BenchData d;
  return d;
}

void recover(benchmark::State& st, const ps::PersistenceConfig& config, uint64_t expect_replayed) {
  if (!data().ok()) {
    st.SkipWithError(data().error().c_str());
    return;
  }
  ps::PosixFileOps ops;
  RunningHashState state;
  for (auto _ : st) {
    ps::RecoveryResult r = ps::recover_state(config, ops, state, nullptr);
    if (r.status != ps::RecoveryStatus::Success || r.records_replayed != expect_replayed) {
      st.SkipWithError(("recovery: " + r.summary()).c_str());
      return;
    }
    benchmark::DoNotOptimize(state.digest());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kRecords));
}

void BM_RecoverState(benchmark::State& st) { recover(st, data().plain(), kRecords); }
BENCHMARK(BM_RecoverState)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RecoverFromSnapshot(benchmark::State& st) { recover(st, data().with_snapshot(), kRecords / 2); }
BENCHMARK(BM_RecoverFromSnapshot)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReplayOnly(benchmark::State& st) {
  if (!data().ok()) {
    st.SkipWithError(data().error().c_str());
    return;
  }
  RunningHashState state;
  for (auto _ : st) {
    state.reset();
    const ps::JournalReplayResult r =
        ps::replay_journal(data().plain().journal_directory(), {}, [&state](const ps::JournalRecordView& v) {
          state.apply(v);
          return true;
        });
    if (!r.error.empty() || state.count() != kRecords) {
      st.SkipWithError(("replay: " + r.error).c_str());
      return;
    }
    benchmark::DoNotOptimize(state.digest());
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kRecords));
}
BENCHMARK(BM_ReplayOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
