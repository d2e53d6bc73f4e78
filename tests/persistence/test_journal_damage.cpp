// The reader's classifications and repair, from journals written by the real writer and then damaged
// on purpose (docs/journal-format.md, "Reading"). Where a record lies comes from journal_test_util's
// independent walk of the format; expected CRCs are computed here.
//
// A "power loss" is modelled as: records 1..S appended and synced (the sync marker for S follows them),
// records S+1..T appended and never synced (abandon()), then the unsynced pages damaged as a disk may
// leave them: a page never written, a 512-byte sector torn, a record half written, garbage.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "persistence/journal_format.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_repair.hpp"
#include "persistence/journal_writer.hpp"
#include "tests/persistence/journal_test_util.hpp"

namespace {

namespace ps = pmm::persistence;
namespace jt = journal_test;
using jt::TempDir;
using Kind = ps::JournalDamageKind;
using Status = ps::JournalStatus;

// Record i's payload: 40 bytes, none zero (so the last non-zero byte of a file is a record's end).
std::vector<uint8_t> payload_of(uint64_t i) {
  std::vector<uint8_t> p(40);
  for (size_t k = 0; k < p.size(); ++k) p[k] = static_cast<uint8_t>(((i * 131 + k * 7) % 255) + 1);
  return p;
}

// Writes 1..synced, syncs, writes synced+1..total, then drops the writer without syncing.
void build(const std::string& dir, uint64_t synced, uint64_t total, uint64_t segment_bytes = 1 << 20) {
  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = segment_bytes;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  ASSERT_TRUE(w) << error;
  for (uint64_t i = 1; i <= total; ++i) {
    const auto p = payload_of(i);
    ASSERT_EQ(w->append(100, p.data(), static_cast<uint16_t>(p.size())), i);
    if (i == synced) {
      ASSERT_TRUE(w->sync());
    }
  }
  w->abandon();
}

const jt::RawRecord& record(const jt::RawSegment& s, uint64_t sequence) {
  const jt::RawRecord* r = jt::find_user_record(s, sequence);
  EXPECT_NE(r, nullptr) << "sequence " << sequence;
  static const jt::RawRecord none{};
  return r != nullptr ? *r : none;
}

uint64_t marker_offset(const jt::RawSegment& s, uint64_t durable_through) {
  for (const auto& r : s.records)
    if (r.type == ps::journal::kSyncMarker && r.sequence == durable_through) return r.offset;
  ADD_FAILURE() << "no sync marker for " << durable_through;
  return 0;
}

uint64_t user_records_from(const jt::RawSegment& s, uint64_t offset) {
  uint64_t n = 0;
  for (const auto& r : s.records) n += r.type >= 16 && r.offset >= offset ? 1 : 0;
  return n;
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::vector<uint8_t> b = jt::read_file(path);
  b.at(offset) ^= 0x40;
  jt::write_file(path, b);
}

// Replays everything; checks that exactly 1..last arrive with their payloads.
void expect_replay_prefix(const std::string& dir, uint64_t last) {
  uint64_t next = 1;
  const auto r = ps::replay_journal(dir, {}, [&](const ps::JournalRecordView& v) {
    EXPECT_EQ(v.sequence, next);
    EXPECT_EQ(std::vector<uint8_t>(v.payload, v.payload + v.length), payload_of(v.sequence));
    ++next;
    return true;
  });
  EXPECT_EQ(next, last + 1) << r.report.summary();
}

class TornTail : public ::testing::Test {
 protected:
  void SetUp() override {
    build(tmp.journal(), 200, 400);
    file = jt::segment_files(tmp.journal()).at(0);
    original = jt::walk_segment(file);
    // Damage goes from record 300's page on: wholly after the page holding the marker for 200.
    ASSERT_GT(record(original, 300).offset / 4096 * 4096, marker_offset(original, 200));
  }
  void expect_torn(Kind kind, uint64_t offset, uint64_t last_sequence) {
    const ps::JournalReport r = ps::verify_journal(tmp.journal());
    EXPECT_EQ(r.status, Status::TornTail) << r.summary();
    EXPECT_EQ(r.damage.kind, kind) << r.summary();
    EXPECT_EQ(r.damage.file, file);
    EXPECT_EQ(r.damage.offset, offset);
    EXPECT_EQ(r.damage.bytes, jt::last_nonzero_end(file) - offset);
    EXPECT_EQ(r.last_sequence, last_sequence);
    EXPECT_EQ(r.durable_watermark, 200u);
    ASSERT_EQ(r.segments.size(), 1u);
    EXPECT_EQ(r.segments[0].end_offset, offset);
    expect_replay_prefix(tmp.journal(), last_sequence);
  }
  TempDir tmp;
  std::string file;
  jt::RawSegment original;
};

TEST_F(TornTail, NoDamageIsClean) {
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::Clean) << r.summary();
  EXPECT_EQ(r.last_sequence, 400u);
  EXPECT_EQ(r.durable_watermark, 200u);
  EXPECT_EQ(r.damage.kind, Kind::None);
}

TEST_F(TornTail, CrcMismatchInAPayload) {
  const jt::RawRecord& r300 = record(original, 300);
  flip_byte(file, r300.offset + 16 + 5);
  expect_torn(Kind::CrcMismatch, r300.offset, 299);
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  std::vector<uint8_t> b = jt::read_file(file);
  EXPECT_EQ(r.damage.found_crc, r300.crc);
  EXPECT_EQ(r.damage.expected_crc, ps::crc32c(b.data() + r300.offset + 4, 12 + 40, original.salt));
  EXPECT_EQ(r.damage.records_beyond, 100u);  // 301..400 are intact but follow the hole
  EXPECT_NE(r.summary().find("CRC mismatch"), std::string::npos);
}

TEST_F(TornTail, PageNeverWritten) {
  const uint64_t page = record(original, 300).offset / 4096 * 4096;
  jt::zero_file_range(file, page, 4096);
  // The chain stops at the page's first record: the last record before it is the last valid one.
  uint64_t last = 0;
  for (const auto& r : original.records)
    if (r.type >= 16 && r.offset < page) last = r.sequence;
  expect_torn(Kind::UnwrittenGap, page, last);
  EXPECT_EQ(ps::verify_journal(tmp.journal()).damage.records_beyond, user_records_from(original, page + 4096));
}

TEST_F(TornTail, SectorTornInsideARecord) {
  // Zero one 512-byte sector in the middle of record 320's page.
  const uint64_t sector = (record(original, 320).offset + 20) / 512 * 512;
  jt::zero_file_range(file, sector, 512);
  const jt::RawRecord* first_hit = nullptr;
  for (const auto& r : original.records)
    if (r.offset + r.bytes > sector && r.offset < sector + 512) {
      first_hit = &r;
      break;
    }
  ASSERT_NE(first_hit, nullptr);
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::TornTail) << r.summary();
  EXPECT_EQ(r.damage.offset, first_hit->offset);
  EXPECT_EQ(r.last_sequence, first_hit->sequence - 1);
  EXPECT_TRUE(r.damage.kind == Kind::CrcMismatch || r.damage.kind == Kind::UnwrittenGap) << r.summary();
}

TEST_F(TornTail, LengthBeyondThePage) {
  const jt::RawRecord& r350 = record(original, 350);
  const uint16_t bad_length = 4000;
  jt::patch_file(file, r350.offset + 6, &bad_length, 2);
  expect_torn(Kind::BadRecordHeader, r350.offset, 349);
  // The reader resynchronises at the next page and counts what it finds there.
  EXPECT_EQ(ps::verify_journal(tmp.journal()).damage.records_beyond,
            user_records_from(original, r350.offset / 4096 * 4096 + 4096));
}

TEST_F(TornTail, GarbageAfterTheLastRecord) {
  const jt::RawRecord& last = original.records.back();
  ASSERT_EQ(last.sequence, 400u);
  uint64_t at = last.offset + last.bytes;
  if (4096 - at % 4096 < 120) at = (at / 4096 + 1) * 4096;
  std::mt19937_64 rng(5);
  std::vector<uint8_t> junk(100);
  for (auto& b : junk) b = static_cast<uint8_t>(rng() | 1);
  jt::patch_file(file, at, junk.data(), junk.size());
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::TornTail) << r.summary();
  EXPECT_EQ(r.last_sequence, 400u);
  EXPECT_EQ(r.damage.bytes, 100u);
  EXPECT_TRUE(r.damage.kind == Kind::BadRecordHeader || r.damage.kind == Kind::CrcMismatch ||
              r.damage.kind == Kind::UnwrittenGap)
      << r.summary();
}

TEST_F(TornTail, RepairKeepsTheDamagedBytesAndEverythingUpToTheWatermark) {
  const jt::RawRecord& r300 = record(original, 300);
  flip_byte(file, r300.offset + 16);
  const std::vector<uint8_t> damaged_file = jt::read_file(file);
  const uint64_t end = jt::last_nonzero_end(file);

  // Dry run: reports, changes nothing.
  const ps::JournalRepairResult dry = ps::repair_journal(tmp.journal(), true);
  EXPECT_TRUE(dry.ok) << dry.error;
  EXPECT_FALSE(dry.changed);
  EXPECT_EQ(dry.segment, file);
  EXPECT_EQ(dry.offset, r300.offset);
  EXPECT_EQ(dry.bytes, end - r300.offset);
  EXPECT_EQ(dry.records_dropped, 100u);
  EXPECT_EQ(dry.corrupt_path, file + ".corrupt");
  EXPECT_EQ(jt::read_file(file), damaged_file);
  EXPECT_FALSE(std::filesystem::exists(file + ".corrupt"));

  const ps::JournalRepairResult rep = ps::repair_journal(tmp.journal(), false);
  ASSERT_TRUE(rep.ok) << rep.error;
  EXPECT_TRUE(rep.changed);
  EXPECT_EQ(rep.last_sequence_kept, 299u);
  EXPECT_EQ(jt::read_file(file + ".corrupt"),
            std::vector<uint8_t>(damaged_file.begin() + static_cast<long>(r300.offset),
                                 damaged_file.begin() + static_cast<long>(end)));
  std::vector<uint8_t> want = damaged_file;
  std::fill(want.begin() + static_cast<long>(r300.offset), want.begin() + static_cast<long>(end), 0);
  EXPECT_EQ(jt::read_file(file), want);  // zeros in place, same size (still preallocated)
  EXPECT_EQ(rep.after.status, Status::Clean);
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::Clean) << r.summary();
  EXPECT_EQ(r.last_sequence, 299u);
  EXPECT_EQ(r.durable_watermark, 200u);
  expect_replay_prefix(tmp.journal(), 299);

  // The writer continues after the repair; a second repair keeps the first .corrupt file.
  {
    ps::JournalWriterOptions o;
    o.directory = tmp.journal();
    o.segment_bytes = 1 << 20;
    std::string error;
    auto w = ps::JournalWriter::open(o, error);
    ASSERT_TRUE(w) << error;
    EXPECT_EQ(w->segment_path(), file);
    for (uint64_t i = 300; i <= 500; ++i) {
      const auto p = payload_of(i);
      ASSERT_EQ(w->append(100, p.data(), static_cast<uint16_t>(p.size())), i);
      if (i == 350) {
        ASSERT_TRUE(w->sync());
      }
    }
    w->abandon();
  }
  const jt::RawSegment rewritten = jt::walk_segment(file);
  const jt::RawRecord& r450 = record(rewritten, 450);
  flip_byte(file, r450.offset + 30);
  const ps::JournalRepairResult rep2 = ps::repair_journal(tmp.journal(), false);
  ASSERT_TRUE(rep2.ok) << rep2.error;
  EXPECT_EQ(rep2.corrupt_path, file + ".corrupt.1");
  EXPECT_TRUE(std::filesystem::exists(file + ".corrupt"));
  expect_replay_prefix(tmp.journal(), 449);
}

TEST_F(TornTail, WriterRefusesATornTail) {
  flip_byte(file, record(original, 300).offset + 16);
  ps::JournalWriterOptions o;
  o.directory = tmp.journal();
  std::string error;
  EXPECT_FALSE(ps::JournalWriter::open(o, error));
  EXPECT_NE(error.find("torn tail"), std::string::npos) << error;
}

// ---- damage before the watermark: Failed, and repair refuses ----

class BeforeWatermark : public ::testing::Test {
 protected:
  void SetUp() override {
    build(tmp.journal(), 300, 400);
    file = jt::segment_files(tmp.journal()).at(0);
    original = jt::walk_segment(file);
  }
  void expect_failed_and_unrepairable(Kind kind, uint64_t offset) {
    const ps::JournalReport r = ps::verify_journal(tmp.journal());
    EXPECT_EQ(r.status, Status::Failed) << r.summary();
    EXPECT_EQ(r.damage.kind, kind) << r.summary();
    EXPECT_EQ(r.damage.file, file);
    EXPECT_EQ(r.damage.offset, offset);
    const std::vector<uint8_t> before = jt::read_file(file);
    const ps::JournalRepairResult rep = ps::repair_journal(tmp.journal(), false);
    EXPECT_FALSE(rep.ok);
    EXPECT_FALSE(rep.changed);
    EXPECT_NE(rep.error.find("nothing changed"), std::string::npos) << rep.error;
    EXPECT_EQ(jt::read_file(file), before);
    EXPECT_FALSE(std::filesystem::exists(file + ".corrupt"));
    const auto replay = ps::replay_journal(tmp.journal(), {}, [](const ps::JournalRecordView&) { return true; });
    EXPECT_EQ(replay.error.rfind("Journal replay failed: ", 0), 0u) << replay.error;
  }
  TempDir tmp;
  std::string file;
  jt::RawSegment original;
};

TEST_F(BeforeWatermark, CrcMismatch) {
  const jt::RawRecord& r100 = record(original, 100);
  flip_byte(file, r100.offset + 16 + 39);
  expect_failed_and_unrepairable(Kind::CrcMismatch, r100.offset);
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  const std::vector<uint8_t> b = jt::read_file(file);
  EXPECT_EQ(r.damage.found_crc, r100.crc);
  EXPECT_EQ(r.damage.expected_crc, ps::crc32c(b.data() + r100.offset + 4, 12 + 40, original.salt));
  EXPECT_EQ(r.damage.expected_sequence, 100u);
  EXPECT_EQ(r.durable_watermark, 300u);
  char crc_text[16];
  std::snprintf(crc_text, sizeof crc_text, "0x%08x", r100.crc);
  EXPECT_NE(r.damage.detail.find(crc_text), std::string::npos) << r.damage.detail;
  EXPECT_NE(r.damage.detail.find("offset " + std::to_string(r100.offset)), std::string::npos);
}

TEST_F(BeforeWatermark, PageLost) {
  const uint64_t page = record(original, 100).offset / 4096 * 4096;
  jt::zero_file_range(file, page, 4096);
  expect_failed_and_unrepairable(Kind::UnwrittenGap, page);
}

TEST_F(BeforeWatermark, BadLength) {
  const jt::RawRecord& r150 = record(original, 150);
  const uint16_t bad_length = 4090;
  jt::patch_file(file, r150.offset + 6, &bad_length, 2);
  expect_failed_and_unrepairable(Kind::BadRecordHeader, r150.offset);
}

// A record with a valid CRC but the wrong sequence number: never a torn tail, whatever the watermark.
TEST_F(BeforeWatermark, SequenceGap) {
  const jt::RawRecord& r350 = record(original, 350);  // after the watermark (300)
  std::vector<uint8_t> b = jt::read_file(file);
  const auto p = payload_of(350);
  std::fill(b.begin() + static_cast<long>(r350.offset), b.begin() + static_cast<long>(r350.offset + r350.bytes), 0);
  ps::journal::encode_record(b.data() + r350.offset, 100, 351, p.data(), 40, original.salt);
  jt::write_file(file, b);
  expect_failed_and_unrepairable(Kind::SequenceGap, r350.offset);
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.damage.expected_sequence, 350u);
  EXPECT_EQ(r.damage.found_sequence, 351u);
}

// ---- several segments ----

class Segments : public ::testing::Test {
 protected:
  void SetUp() override {
    build(tmp.journal(), 3000, 3000, 64 * 1024);  // ~15 record pages * 73 records: 3+ segments
    files = jt::segment_files(tmp.journal());
    ASSERT_GE(files.size(), 3u);
  }
  ps::JournalReport expect_failed(Kind kind, const std::string& file) {
    const ps::JournalReport r = ps::verify_journal(tmp.journal());
    EXPECT_EQ(r.status, Status::Failed) << r.summary();
    EXPECT_EQ(r.damage.kind, kind) << r.summary();
    EXPECT_EQ(r.damage.file, file) << r.summary();
    const ps::JournalRepairResult rep = ps::repair_journal(tmp.journal(), false);
    EXPECT_FALSE(rep.ok);
    EXPECT_FALSE(rep.changed);
    return r;
  }
  TempDir tmp;
  std::vector<std::string> files;
};

TEST_F(Segments, CleanAcrossSegments) {
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::Clean) << r.summary();
  EXPECT_EQ(r.last_sequence, 3000u);
  EXPECT_EQ(r.segments.size(), files.size());
  expect_replay_prefix(tmp.journal(), 3000);
}

TEST_F(Segments, MissingMiddleSegment) {
  const jt::RawSegment first = jt::walk_segment(files[0]);
  const jt::RawSegment third = jt::walk_segment(files[2]);
  std::filesystem::remove(files[1]);
  const ps::JournalReport r = expect_failed(Kind::MissingSegment, files[2]);
  ASSERT_EQ(first.records.back().type, ps::journal::kSegmentEnd);
  EXPECT_EQ(r.damage.expected_sequence, first.records.back().sequence + 1);
  EXPECT_EQ(r.damage.found_sequence, third.first_sequence);
  EXPECT_EQ(r.last_sequence, first.records.back().sequence);
}

TEST_F(Segments, BadSegmentHeader) {
  flip_byte(files[1], 26);  // inside first_sequence: the header CRC no longer matches
  expect_failed(Kind::BadSegmentHeader, files[1]);
}

TEST_F(Segments, BadHeaderOfTheLastSegment) {
  flip_byte(files.back(), 1);  // the magic
  expect_failed(Kind::BadSegmentHeader, files.back());
}

TEST_F(Segments, NameDisagreesWithHeader) {
  const jt::RawSegment second = jt::walk_segment(files[1]);
  const std::string renamed =
      tmp.journal() + "/" + ps::journal::segment_file_name(second.first_sequence + 1);
  std::filesystem::rename(files[1], renamed);
  // Segment 1 ends at first_sequence - 1, the next file is named first_sequence + 1: a missing segment
  // is reported first, and the renamed file's header disagrees with its name.
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::Failed);
  EXPECT_EQ(r.damage.kind, Kind::MissingSegment);
  EXPECT_EQ(r.segments[1].damage.kind, Kind::BadSegmentHeader);
}

TEST_F(Segments, EmptyFileWithASegmentName) {
  jt::write_file(tmp.journal() + "/" + ps::journal::segment_file_name(99999999), {});
  const ps::JournalReport r = ps::verify_journal(tmp.journal());
  EXPECT_EQ(r.status, Status::Failed);
}

TEST_F(Segments, MissingSegmentEnd) {
  const jt::RawSegment first = jt::walk_segment(files[0]);
  ASSERT_EQ(first.records.back().type, ps::journal::kSegmentEnd);
  jt::zero_file_range(files[0], first.records.back().offset, 16);
  const ps::JournalReport r = expect_failed(Kind::MissingSegmentEnd, files[0]);
  EXPECT_EQ(r.damage.offset, first.records.back().offset);
}

// Damage in a segment that has a successor is never a torn tail: rollover synced it completely.
TEST_F(Segments, DamageInAnEarlierSegmentAfterItsLastMarker) {
  const jt::RawSegment first = jt::walk_segment(files[0]);
  const jt::RawRecord* last_user = nullptr;
  for (const auto& rec : first.records)
    if (rec.type >= 16) last_user = &rec;
  ASSERT_NE(last_user, nullptr);
  flip_byte(files[0], last_user->offset + 20);
  expect_failed(Kind::CrcMismatch, files[0]);
}

TEST(JournalReader, EmptyAndMissingDirectories) {
  TempDir tmp;
  EXPECT_EQ(ps::verify_journal(tmp.journal()).status, Status::Empty);  // does not exist
  std::filesystem::create_directories(tmp.journal());
  jt::write_file(tmp.journal() + "/notes.txt", {1, 2, 3});
  jt::write_file(tmp.journal() + "/" + ps::journal::segment_file_name(1) + ".tmp", {1, 2, 3});
  EXPECT_EQ(ps::verify_journal(tmp.journal()).status, Status::Empty);  // only segment names count
}

TEST(JournalReader, ReplayAfterASequenceAndCoverage) {
  TempDir tmp;
  build(tmp.journal(), 50, 100);
  uint64_t first = 0, count = 0;
  ps::JournalReplayOptions o;
  o.after_sequence = 60;
  auto r = ps::replay_journal(tmp.journal(), o, [&](const ps::JournalRecordView& v) {
    if (count++ == 0) first = v.sequence;
    return true;
  });
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(first, 61u);
  EXPECT_EQ(count, 40u);
  EXPECT_EQ(r.delivered, 40u);
  // The callback can stop the scan.
  count = 0;
  r = ps::replay_journal(tmp.journal(), {}, [&](const ps::JournalRecordView&) { return ++count < 5; });
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(count, 5u);
  // Internal records on request (a dump): the sync marker for 50 is among them.
  bool marker = false;
  o.after_sequence = 0;
  o.include_internal = true;
  ps::replay_journal(tmp.journal(), o, [&](const ps::JournalRecordView& v) {
    marker = marker || (v.type == ps::journal::kSyncMarker && v.sequence == 50);
    return true;
  });
  EXPECT_TRUE(marker);
}

TEST(JournalReader, ReplayNeedsTheJournalToReachBack) {
  TempDir tmp;
  ps::JournalWriterOptions o;
  o.directory = tmp.journal();
  o.first_sequence = 1000;  // as if older segments had been compacted away
  std::string error;
  {
    auto w = ps::JournalWriter::open(o, error);
    ASSERT_TRUE(w) << error;
    uint8_t x = 1;
    EXPECT_EQ(w->append(100, &x, 1), 1000u);
    ASSERT_TRUE(w->close());
  }
  ps::JournalReplayOptions ro;
  ro.after_sequence = 500;
  const auto r = ps::replay_journal(tmp.journal(), ro, [](const ps::JournalRecordView&) { return true; });
  EXPECT_NE(r.error.find("Journal replay failed"), std::string::npos);
  EXPECT_NE(r.error.find("starts at sequence 1000"), std::string::npos) << r.error;
  ro.after_sequence = 999;
  EXPECT_EQ(ps::replay_journal(tmp.journal(), ro, [](const ps::JournalRecordView&) { return true; }).error, "");
}

// Any bytes: a report, never a crash, never a record that was not written.
TEST(JournalReader, RandomDamageNeverCrashes) {
  TempDir tmp;
  build(tmp.journal(), 300, 600, 64 * 1024);
  const auto files = jt::segment_files(tmp.journal());
  std::vector<std::vector<uint8_t>> pristine;
  for (const auto& f : files) pristine.push_back(jt::read_file(f));
  std::mt19937_64 rng(99);
  for (int round = 0; round < 60; ++round) {
    for (size_t i = 0; i < files.size(); ++i) jt::write_file(files[i], pristine[i]);
    const size_t victim = rng() % files.size();
    std::vector<uint8_t> b = pristine[victim];
    switch (rng() % 4) {
      case 0:  // random bytes
        for (int k = 0; k < 20; ++k) b[rng() % b.size()] = static_cast<uint8_t>(rng());
        break;
      case 1:  // truncated
        b.resize(rng() % b.size());
        break;
      case 2:  // a random block of garbage
      {
        const size_t at = rng() % b.size();
        for (size_t k = at; k < std::min(b.size(), at + 700); ++k) b[k] = static_cast<uint8_t>(rng());
        break;
      }
      default:  // everything random
        for (auto& x : b) x = static_cast<uint8_t>(rng());
    }
    jt::write_file(files[victim], b);
    uint64_t next = 1;
    bool in_order = true;
    const auto r = ps::replay_journal(tmp.journal(), {}, [&](const ps::JournalRecordView& v) {
      in_order = in_order && v.sequence == next++ &&
                 std::vector<uint8_t>(v.payload, v.payload + v.length) == payload_of(v.sequence);
      return true;
    });
    EXPECT_TRUE(in_order) << "round " << round;
    EXPECT_LE(r.report.last_sequence, 600u);
    EXPECT_FALSE(r.report.summary().empty());
  }
}

}  // namespace
