// JournalWriter: a round trip against an in-memory reference (random types and sizes, many 64 KiB
// segments, random group commits), the page rule on every record, per-segment CRC seeding, restart
// (sequences continue, same segment or a new one), fail-stop on injected sync/allocation errors, and
// append_entries (the drain's zero-copy form) against append as its reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "persistence/journal_format.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_writer.hpp"
#include "tests/persistence/journal_test_util.hpp"

namespace {

namespace ps = pmm::persistence;
using journal_test::TempDir;

constexpr uint64_t kSmallSegment = 64 * 1024;

struct RefRecord {
  uint16_t type;
  std::vector<uint8_t> payload;
};

// Mostly small records (the hot path's), sometimes up to a whole page.
RefRecord random_record(std::mt19937_64& rng) {
  RefRecord r;
  r.type = static_cast<uint16_t>(16 + rng() % 1000);
  const uint64_t pick = rng() % 100;
  const size_t len = pick < 80 ? rng() % 61 : pick < 97 ? rng() % 600 : rng() % (ps::journal::kMaxPayload + 1);
  r.payload.resize(len);
  for (auto& b : r.payload) b = static_cast<uint8_t>(rng());
  return r;
}

std::unique_ptr<ps::JournalWriter> open_writer(const std::string& dir, uint64_t segment = kSmallSegment,
                                               const ps::JournalSyscalls* sys = nullptr) {
  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = segment;
  o.syscalls = sys;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  EXPECT_TRUE(w) << error;
  return w;
}

std::vector<RefRecord> replay_all(const std::string& dir, ps::JournalReport* report = nullptr) {
  std::vector<RefRecord> out;
  uint64_t expect = 1;
  const ps::JournalReplayResult r = ps::replay_journal(dir, {}, [&](const ps::JournalRecordView& v) {
    EXPECT_EQ(v.sequence, expect);
    ++expect;
    out.push_back(RefRecord{v.type, std::vector<uint8_t>(v.payload, v.payload + v.length)});
    return true;
  });
  EXPECT_EQ(r.error, "");
  if (report != nullptr) *report = r.report;
  return out;
}

void expect_equal(const std::vector<RefRecord>& got, const std::vector<RefRecord>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].type, want[i].type) << "sequence " << i + 1;
    ASSERT_EQ(got[i].payload, want[i].payload) << "sequence " << i + 1;
  }
}

TEST(JournalWriter, RoundTripManySegmentsAgainstReference) {
  TempDir tmp;
  std::mt19937_64 rng(20260412);
  std::vector<RefRecord> ref;
  {
    auto w = open_writer(tmp.journal());
    ASSERT_TRUE(w);
    for (int i = 0; i < 6000; ++i) {
      ref.push_back(random_record(rng));
      const RefRecord& r = ref.back();
      ASSERT_EQ(w->append(r.type, r.payload.data(), static_cast<uint16_t>(r.payload.size())), ref.size());
      if (rng() % 200 == 0) {
        ASSERT_TRUE(w->sync());
        EXPECT_EQ(w->durable_sequence(), ref.size());
      }
    }
    EXPECT_GE(w->segments_created(), 10u);
    ASSERT_TRUE(w->close());
    EXPECT_EQ(w->durable_sequence(), ref.size());
  }
  ps::JournalReport report;
  expect_equal(replay_all(tmp.journal(), &report), ref);
  EXPECT_EQ(report.status, ps::JournalStatus::Clean) << report.summary();
  EXPECT_EQ(report.last_sequence, ref.size());
  EXPECT_EQ(report.durable_watermark, ref.size());  // close() makes the last marker durable

  // The files as the format page describes them: names, sizes, chaining, the page rule.
  const auto files = journal_test::segment_files(tmp.journal());
  ASSERT_EQ(files.size(), report.segments.size());
  uint64_t next = 1;
  std::vector<uint32_t> salts;
  for (const std::string& f : files) {
    const journal_test::RawSegment s = journal_test::walk_segment(f);
    EXPECT_EQ(std::filesystem::file_size(f), kSmallSegment);
    EXPECT_EQ(std::filesystem::path(f).filename().string(), ps::journal::segment_file_name(next));
    EXPECT_EQ(s.first_sequence, next);
    salts.push_back(s.salt);
    for (const auto& r : s.records) {
      EXPECT_EQ(r.offset % 8, 0u);
      EXPECT_LE(r.offset % 4096 + r.bytes, 4096u) << f << " offset " << r.offset;  // never straddles a page
      if (r.type >= 16) {
        EXPECT_EQ(r.sequence, next);
        ++next;
      } else {
        EXPECT_EQ(r.sequence, next - 1);  // journal records carry the last user sequence
      }
    }
    if (f != files.back()) {
      ASSERT_FALSE(s.records.empty());
      EXPECT_EQ(s.records.back().type, ps::journal::kSegmentEnd);
    }
  }
  EXPECT_EQ(next, ref.size() + 1);
  std::sort(salts.begin(), salts.end());
  EXPECT_EQ(std::unique(salts.begin(), salts.end()), salts.end());  // 32-bit random salts: distinct here
}

TEST(JournalWriter, FullPageRecordsAndPadding) {
  TempDir tmp;
  std::vector<RefRecord> ref;
  {
    auto w = open_writer(tmp.journal());
    ASSERT_TRUE(w);
    // Lengths that leave every kind of page tail: exactly full pages, 8 bytes left, 16 left.
    const std::vector<size_t> lengths{ps::journal::kMaxPayload, 100, 4096 - 16 - 8 - 112, 0, 4096 - 16 - 16 - 16,
                                      ps::journal::kMaxPayload, 1, 7, 8, 9};
    for (int round = 0; round < 5; ++round)
      for (size_t len : lengths) {
        ref.push_back(RefRecord{static_cast<uint16_t>(16 + len % 7), std::vector<uint8_t>(len, 0xA5)});
        ASSERT_NE(w->append(ref.back().type, ref.back().payload.data(), static_cast<uint16_t>(len)), 0u);
      }
    ASSERT_TRUE(w->close());
  }
  expect_equal(replay_all(tmp.journal()), ref);
  for (const std::string& f : journal_test::segment_files(tmp.journal()))
    for (const auto& r : journal_test::walk_segment(f).records) EXPECT_LE(r.offset % 4096 + r.bytes, 4096u);
}

// A record is checked with its own segment's salt: identical bytes written by another segment (here
// another journal with the same records) fail the CRC even though they are intact.
TEST(JournalWriter, RecordCopiedFromAnotherSegmentFailsItsCrc) {
  TempDir a, b;
  for (const TempDir* t : {&a, &b}) {
    auto w = open_writer(t->journal());
    ASSERT_TRUE(w);
    for (uint32_t i = 0; i < 50; ++i) ASSERT_NE(w->append(20, &i, sizeof i), 0u);
    ASSERT_TRUE(w->close());
  }
  const std::string fa = journal_test::segment_files(a.journal()).at(0);
  const std::string fb = journal_test::segment_files(b.journal()).at(0);
  const auto sa = journal_test::walk_segment(fa);
  const auto sb = journal_test::walk_segment(fb);
  ASSERT_NE(sa.salt, sb.salt);
  const journal_test::RawRecord* ra = journal_test::find_user_record(sa, 10);
  const journal_test::RawRecord* rb = journal_test::find_user_record(sb, 10);
  ASSERT_TRUE(ra && rb);
  ASSERT_EQ(ra->offset, rb->offset);
  const std::vector<uint8_t> bytes_a = journal_test::read_file(fa);
  journal_test::patch_file(fb, rb->offset, bytes_a.data() + ra->offset, ra->bytes);  // only the CRC differs

  const ps::JournalReport r = ps::verify_journal(b.journal());
  EXPECT_EQ(r.status, ps::JournalStatus::Failed) << r.summary();  // before the watermark (50)
  EXPECT_EQ(r.damage.kind, ps::JournalDamageKind::CrcMismatch);
  EXPECT_EQ(r.damage.offset, rb->offset);
  EXPECT_EQ(r.damage.found_crc, ra->crc);
  EXPECT_EQ(r.damage.expected_crc, rb->crc);
  EXPECT_NE(r.damage.detail.find("CRC mismatch"), std::string::npos);
}

TEST(JournalWriter, RestartContinuesInTheSameSegment) {
  TempDir tmp;
  std::vector<RefRecord> ref;
  std::mt19937_64 rng(7);
  std::string first_segment;
  for (int run = 0; run < 3; ++run) {
    auto w = open_writer(tmp.journal(), 1 << 20);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->last_sequence(), ref.size());
    EXPECT_EQ(w->durable_sequence(), ref.size());
    if (run == 0) first_segment = w->segment_path();
    EXPECT_EQ(w->segment_path(), first_segment);  // room left: no new segment
    for (int i = 0; i < 100; ++i) {
      ref.push_back(random_record(rng));
      ASSERT_EQ(w->append(ref.back().type, ref.back().payload.data(),
                          static_cast<uint16_t>(ref.back().payload.size())),
                ref.size());
    }
    ASSERT_TRUE(w->close());
  }
  EXPECT_EQ(journal_test::segment_files(tmp.journal()).size(), 1u);
  expect_equal(replay_all(tmp.journal()), ref);
}

TEST(JournalWriter, RestartAfterAbandonSyncsWhatIsThere) {
  TempDir tmp;
  {
    auto w = open_writer(tmp.journal());
    ASSERT_TRUE(w);
    for (uint32_t i = 0; i < 30; ++i) ASSERT_NE(w->append(17, &i, sizeof i), 0u);
    w->abandon();  // a crash: no sync, no marker for 1..30
  }
  ps::JournalReport before = ps::verify_journal(tmp.journal());
  EXPECT_EQ(before.status, ps::JournalStatus::Clean);
  EXPECT_EQ(before.durable_watermark, 0u);
  auto w = open_writer(tmp.journal());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->last_sequence(), 30u);
  EXPECT_EQ(w->durable_sequence(), 30u);
  uint32_t v = 31;
  EXPECT_EQ(w->append(17, &v, sizeof v), 31u);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(ps::verify_journal(tmp.journal()).durable_watermark, 31u);
}

TEST(JournalWriter, RestartInAFullSegmentRollsOverToTheNextOne) {
  TempDir tmp;
  std::vector<uint8_t> p(ps::journal::kMaxPayload, 1);
  std::string first;
  {
    auto w = open_writer(tmp.journal());
    ASSERT_TRUE(w);
    first = w->segment_path();
    // A 64 KiB segment has 15 record pages; 14 page-sized records fill 14 of them, the last page keeps
    // room for the end record (and close()'s sync marker).
    for (int i = 0; i < 14; ++i) ASSERT_EQ(w->append(30, p.data(), static_cast<uint16_t>(p.size())), i + 1u);
    ASSERT_TRUE(w->close());
  }
  EXPECT_EQ(journal_test::segment_files(tmp.journal()).size(), 1u);
  auto w = open_writer(tmp.journal());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->last_sequence(), 14u);
  EXPECT_EQ(w->segment_path(), first);
  EXPECT_EQ(w->append(30, p.data(), static_cast<uint16_t>(p.size())), 15u);
  EXPECT_NE(w->segment_path(), first);
  EXPECT_EQ(std::filesystem::path(w->segment_path()).filename().string(), ps::journal::segment_file_name(15));
  ASSERT_TRUE(w->close());
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, ps::JournalStatus::Clean) << r.summary();
  EXPECT_EQ(r.last_sequence, 15u);
  ASSERT_EQ(r.segments.size(), 2u);
  EXPECT_TRUE(r.segments[0].ended);
}

// Error injection: the real calls, except that the chosen one fails from its Nth use on.
struct Injector {
  static inline int fail_sync_range_after = -1;  // -1: never
  static inline int fail_preallocate_after = -1;
  static inline int sync_range_calls = 0;
  static inline int preallocate_calls = 0;
  static void reset() { fail_sync_range_after = fail_preallocate_after = -1, sync_range_calls = preallocate_calls = 0; }
  static int preallocate(int fd, uint64_t bytes) {
    if (fail_preallocate_after >= 0 && preallocate_calls++ >= fail_preallocate_after) return ENOSPC;
    return ps::real_journal_syscalls().preallocate(fd, bytes);
  }
  static int sync_range(void* p, size_t n) {
    if (fail_sync_range_after >= 0 && sync_range_calls++ >= fail_sync_range_after) return EIO;
    return ps::real_journal_syscalls().sync_range(p, n);
  }
};
const ps::JournalSyscalls kInjected{Injector::preallocate, Injector::sync_range,
                                    ps::real_journal_syscalls().sync_file, ps::real_journal_syscalls().sync_dir};

TEST(JournalWriter, SyncErrorFailStops) {
  TempDir tmp;
  Injector::reset();
  auto w = open_writer(tmp.journal(), kSmallSegment, &kInjected);
  ASSERT_TRUE(w);
  uint32_t v = 0;
  for (; v < 20; ++v) ASSERT_NE(w->append(40, &v, sizeof v), 0u);
  ASSERT_TRUE(w->sync());
  EXPECT_EQ(w->durable_sequence(), 20u);
  for (; v < 40; ++v) ASSERT_NE(w->append(40, &v, sizeof v), 0u);
  Injector::fail_sync_range_after = 0;  // every msync from now on fails
  EXPECT_FALSE(w->sync());
  EXPECT_TRUE(w->failed());
  EXPECT_EQ(w->durable_sequence(), 20u);  // never advances again
  EXPECT_NE(w->error().find("msync"), std::string::npos) << w->error();
  EXPECT_NE(w->error().find("Input/output error"), std::string::npos) << w->error();
  EXPECT_NE(w->error().find(w->segment_path()), std::string::npos) << w->error();
  EXPECT_NE(w->error().find("at offset 4096"), std::string::npos) << w->error();
  const std::string first_error = w->error();
  Injector::fail_sync_range_after = -1;   // the device "recovers": nothing is retried anyway
  EXPECT_EQ(w->append(40, &v, sizeof v), 0u);
  EXPECT_FALSE(w->sync());
  EXPECT_EQ(w->durable_sequence(), 20u);
  EXPECT_EQ(w->error(), first_error);
  EXPECT_FALSE(w->close());
  Injector::reset();
}

TEST(JournalWriter, AllocationErrorAtRolloverFailStops) {
  TempDir tmp;
  Injector::reset();
  Injector::fail_preallocate_after = 1;  // the first segment is allocated, the second is not
  auto w = open_writer(tmp.journal(), kSmallSegment, &kInjected);
  ASSERT_TRUE(w);
  std::vector<uint8_t> p(1000, 3);
  uint64_t last = 0;
  uint64_t seq;
  while ((seq = w->append(50, p.data(), static_cast<uint16_t>(p.size()))) != 0) last = seq;
  EXPECT_TRUE(w->failed());
  EXPECT_NE(w->error().find("preallocate"), std::string::npos) << w->error();
  EXPECT_NE(w->error().find("No space left on device"), std::string::npos) << w->error();
  // The full segment was closed and synced before the next one was attempted.
  EXPECT_EQ(w->durable_sequence(), last);
  EXPECT_FALSE(w->sync());
  w.reset();
  Injector::reset();
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, ps::JournalStatus::Clean) << r.summary();  // the half-made segment is only a .tmp
  EXPECT_EQ(r.last_sequence, last);
  ASSERT_FALSE(r.segments.empty());
  EXPECT_TRUE(r.segments.back().ended);
  // A restart after the device recovers: the last segment is complete, so a new one starts at last + 1.
  auto again = open_writer(tmp.journal());
  ASSERT_TRUE(again);
  EXPECT_EQ(std::filesystem::path(again->segment_path()).filename().string(),
            ps::journal::segment_file_name(last + 1));
  EXPECT_EQ(again->append(50, p.data(), 10), last + 1);
  ASSERT_TRUE(again->close());
  EXPECT_EQ(ps::verify_journal(tmp.journal()).status, ps::JournalStatus::Clean);
}

// append_entries (the journal core's drain: records encoded straight from ring slots, bounds checked
// per run) against append one record at a time as the reference: random lengths 0..60 with garbage in
// the slot after the payload, random bursts, the same group commits, 64 KiB segments so that pages and
// rollovers fall everywhere in a burst. The two journals must hold records at the same offsets with the
// same fields, and be byte-identical outside page 0, the CRCs (salted per segment) and the sync
// markers' timestamps: padding and slack zero, nothing written after the last record.
TEST(JournalWriter, AppendEntriesWritesWhatAppendWrites) {
  TempDir ta, tb;
  std::mt19937_64 rng(20261202);
  std::vector<RefRecord> ref;
  {
    auto a = open_writer(ta.journal());
    auto b = open_writer(tb.journal());
    ASSERT_TRUE(a && b);
    std::vector<ps::JournalEntry> burst(70);
    while (b->segments_created() < 6) {
      const size_t n = 1 + rng() % burst.size();
      for (size_t i = 0; i < n; ++i) {
        ps::JournalEntry& e = burst[i];
        for (auto& x : e.payload) x = static_cast<uint8_t>(rng());  // garbage after `length` too
        e.type = static_cast<uint16_t>(16 + rng() % 1000);
        e.length = static_cast<uint16_t>(rng() % 4 == 0 ? 48 : rng() % (ps::JournalEntry::kMaxPayload + 1));
        ref.push_back(RefRecord{e.type, std::vector<uint8_t>(e.payload, e.payload + e.length)});
        ASSERT_EQ(a->append(e.type, e.payload, e.length), ref.size());
      }
      ASSERT_EQ(b->append_entries(burst.data(), n), n);
      ASSERT_EQ(b->last_sequence(), ref.size());
      ASSERT_EQ(b->segment_offset(), a->segment_offset()) << "sequence " << ref.size();
      if (rng() % 16 == 0) {
        ASSERT_TRUE(a->sync());
        ASSERT_TRUE(b->sync());
      }
    }
    ASSERT_TRUE(a->close());
    ASSERT_TRUE(b->close());
  }
  ps::JournalReport report;
  expect_equal(replay_all(tb.journal(), &report), ref);
  EXPECT_EQ(report.status, ps::JournalStatus::Clean) << report.summary();

  const std::vector<std::string> fa = journal_test::segment_files(ta.journal());
  const std::vector<std::string> fb = journal_test::segment_files(tb.journal());
  ASSERT_EQ(fa.size(), fb.size());
  for (size_t s = 0; s < fa.size(); ++s) {
    const journal_test::RawSegment wa = journal_test::walk_segment(fa[s]);
    const journal_test::RawSegment wb = journal_test::walk_segment(fb[s]);
    ASSERT_EQ(wa.records.size(), wb.records.size()) << fb[s];
    std::vector<uint8_t> ba = journal_test::read_file(fa[s]);
    std::vector<uint8_t> bb = journal_test::read_file(fb[s]);
    ASSERT_EQ(ba.size(), bb.size());
    std::fill(ba.begin(), ba.begin() + 4096, 0);
    std::fill(bb.begin(), bb.begin() + 4096, 0);
    for (size_t i = 0; i < wb.records.size(); ++i) {
      const journal_test::RawRecord& x = wa.records[i];
      const journal_test::RawRecord& y = wb.records[i];
      ASSERT_EQ(y.offset, x.offset) << fb[s] << " record " << i;
      ASSERT_EQ(y.type, x.type) << fb[s] << " offset " << y.offset;
      ASSERT_EQ(y.length, x.length) << fb[s] << " offset " << y.offset;
      ASSERT_EQ(y.sequence, x.sequence) << fb[s] << " offset " << y.offset;
      std::fill_n(ba.begin() + static_cast<std::ptrdiff_t>(x.offset), 4, 0);
      std::fill_n(bb.begin() + static_cast<std::ptrdiff_t>(y.offset), 4, 0);
      if (y.type == ps::journal::kSyncMarker) {  // durable_through is compared, the timestamp is not
        std::fill_n(ba.begin() + static_cast<std::ptrdiff_t>(x.offset + 24), 8, 0);
        std::fill_n(bb.begin() + static_cast<std::ptrdiff_t>(y.offset + 24), 8, 0);
      }
    }
    for (size_t off = 0; off < bb.size(); ++off)
      ASSERT_EQ(bb[off], ba[off]) << fb[s] << " offset " << off;
  }
}

TEST(JournalWriter, AppendEntriesStopsAtAFailure) {
  TempDir tmp;
  Injector::reset();
  Injector::fail_preallocate_after = 1;  // the first segment is allocated, the second is not
  auto w = open_writer(tmp.journal(), kSmallSegment, &kInjected);
  ASSERT_TRUE(w);
  std::vector<ps::JournalEntry> burst(32);
  for (auto& e : burst) {
    e.type = 77;
    e.length = 60;
    std::memset(e.payload, 0x5A, sizeof e.payload);
  }
  size_t appended = 0;
  size_t got;
  while ((got = w->append_entries(burst.data(), burst.size())) == burst.size()) appended += got;
  appended += got;
  EXPECT_TRUE(w->failed());
  EXPECT_NE(w->error().find("preallocate"), std::string::npos) << w->error();
  EXPECT_EQ(w->last_sequence(), appended) << "a short count is exactly what was appended";
  EXPECT_EQ(w->append_entries(burst.data(), burst.size()), 0u);
  w.reset();
  Injector::reset();
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, ps::JournalStatus::Clean) << r.summary();
  EXPECT_EQ(r.last_sequence, appended);
}

TEST(JournalWriter, OpenRejectsBadOptions) {
  TempDir tmp;
  ps::JournalWriterOptions o;
  o.directory = tmp.journal();
  o.segment_bytes = 10000;
  std::string error;
  EXPECT_FALSE(ps::JournalWriter::open(o, error));
  EXPECT_NE(error.find("segment size 10000"), std::string::npos) << error;
}

}  // namespace
