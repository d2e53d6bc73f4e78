// Proof 3 (docs/journal.md, "Proof"): mutations of a data directory (journal segments and snapshots),
// each classified as the format says it must be. Run it under AddressSanitizer and UBSan too
// (build-crash-asan): any bytes must give a report, never a crash.
//
// A base directory is written by the real code: DataDirectory (initialised marker), JournalWriter
// (32 KiB segments, group commits every 20..60 records, an unsynced tail after the last sync, then a
// crash: abandon()), and three snapshots (two in early segments, one at the durable watermark). One
// mutation is applied to a copy, and the expected outcome is derived from the mutation and from an
// independent walk of the pristine files (journal_test_util.hpp), never from the reader:
//
//   bit flip in a record's CRC-covered bytes   CRC mismatch (or bad record header when the type or
//                                              length becomes impossible) at that record: Failed in a
//                                              segment with a successor or when a sync marker the
//                                              reader can still find covers it, else TornTail
//   bit flip in bytes no CRC covers            Clean, every record intact (record alignment padding,
//                                              page-end slack, page 0 after the header, after an end
//                                              record)
//   garbage after the last record              TornTail (bad header / CRC mismatch / unwritten gap at
//                                              the next record slot); repair keeps every record
//   truncated or extended segment              Failed: bad segment header
//   zeroed page                                page 0: bad segment header; else an unwritten gap
//                                              (Failed/TornTail as above), a missing segment end, or,
//                                              when it was the last written page of the last segment,
//                                              Clean with the records before it (nothing on disk can
//                                              tell, see "Limits" in docs/journal.md)
//   deleted segment                            first: Clean from the next one; middle: Failed, missing
//                                              segment; last: Clean, shorter
//   duplicated segment (another valid name)    Failed: bad segment header, missing segment, sequence
//                                              gap or missing segment end, by where the name sorts
//   damaged/deleted snapshot                   the next older valid one is used
//   stray .tmp/.corrupt files                  ignored
//
// And recovery (recover_state with a state that checks every record it is given) must then be:
// Failed when the journal is Failed, when a snapshot is beyond the journal's end or when the journal
// starts after every valid snapshot (with no file changed); otherwise Success, with the newest valid
// usable snapshot, the journal's last record, and every replayed record intact.
//
// CI: 1000 mutations. Full: PMM_PROOF_FULL=1 (10 000) or PMM_PROOF_MUTATIONS=<n>; PMM_PROOF_SEED=<n>.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "persistence/data_directory.hpp"
#include "persistence/file_ops.hpp"
#include "persistence/journal_format.hpp"
#include "persistence/journal_reader.hpp"
#include "persistence/journal_writer.hpp"
#include "persistence/recovery.hpp"
#include "persistence/snapshot_directory.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "tests/persistence/proof_state.hpp"
#include "tests/persistence/proof_util.hpp"

namespace {

namespace ps = pmm::persistence;
namespace pf = pmm::persistence::proof;
namespace jt = journal_test;
namespace j = pmm::persistence::journal;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using Status = ps::JournalStatus;
using Kind = ps::JournalDamageKind;

constexpr uint64_t kSegmentBytes = 32 * 1024;
constexpr uint16_t kMaxPayload = 600;
constexpr uint64_t kPage = 4096;

class ScratchDir {
 public:
  ScratchDir() {
    const std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    std::string tmpl = base + "/pmm-mutation-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    path_ = buf.data();
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Segment {
  std::string name;     // file name in journal/
  uint64_t first = 0;   // first sequence
  uint64_t last = 0;    // last user record
  bool ended = false;
  uint64_t end = 0;     // one past the last record
  uint32_t salt = 0;
  jt::RawSegment raw;   // the independent walk
};

struct Base {
  std::string root;
  uint64_t seed = 0, records = 0, watermark = 0;
  std::vector<Segment> segments;
  std::vector<uint64_t> snapshots;  // sequences, ascending
};

void build_base(const std::string& root, uint64_t seed, Base& b) {
  std::mt19937_64 rng(seed);
  b.root = root;
  b.seed = seed;
  ps::PosixFileOps ops;
  ps::DataDirectoryStart start;
  std::string error;
  auto dd = ps::DataDirectory::open(ops, root, start, error);
  ASSERT_TRUE(dd) << error;
  ps::JournalWriterOptions o;
  o.directory = root + "/journal";
  o.segment_bytes = kSegmentBytes;
  auto w = ps::JournalWriter::open(o, error);
  ASSERT_TRUE(w) << error;
  b.records = 1200 + rng() % 800;
  const uint64_t tail = 30 + rng() % 120;
  uint64_t next_sync = 20 + rng() % 40;
  pf::ProofRecord r;
  for (uint64_t s = 1; s <= b.records; ++s) {
    pf::proof_record(seed, s, kMaxPayload, r);
    ASSERT_EQ(w->append(r.type, r.payload, r.length), s);
    if (s + tail <= b.records && s == next_sync) {
      ASSERT_TRUE(w->sync());
      next_sync = s + 20 + rng() % 40;
    }
  }
  b.watermark = w->durable_sequence();
  w->abandon();  // the crash: the tail after the last sync has no sync marker

  for (const std::string& path : jt::segment_files(o.directory)) {
    Segment seg;
    seg.name = fs::path(path).filename().string();
    seg.raw = jt::walk_segment(path);
    seg.first = seg.raw.first_sequence;
    seg.salt = seg.raw.salt;
    seg.last = seg.first - 1;
    for (const auto& rec : seg.raw.records)
      if (rec.type >= j::kFirstUserType) seg.last = rec.sequence;
    ASSERT_FALSE(seg.raw.records.empty());
    seg.ended = seg.raw.records.back().type == j::kSegmentEnd;
    seg.end = seg.raw.records.back().offset + seg.raw.records.back().bytes;
    b.segments.push_back(std::move(seg));
  }
  ASSERT_GE(b.segments.size(), 4u);
  ASSERT_EQ(b.segments.back().last, b.records);
  if (b.watermark < b.segments.back().first) return;  // the caller tries another seed

  // Snapshots: one in the second segment, one in the third, one at the watermark.
  b.snapshots = {b.segments[1].first + rng() % (b.segments[1].last - b.segments[1].first + 1),
                 b.segments[2].first + rng() % (b.segments[2].last - b.segments[2].first + 1), b.watermark};
  for (uint64_t s : b.snapshots) {
    auto sw = dd->snapshots().begin(s, 1000 + s, error);
    ASSERT_TRUE(sw) << error;
    pf::ProofState st(seed, kMaxPayload);
    st.set_at(s);
    ASSERT_EQ(st.write_snapshot(*sw), "");
    Bytes filler(1500);
    for (auto& x : filler) x = static_cast<uint8_t>(rng());
    ASSERT_TRUE(sw->add_block(8, filler.data(), filler.size()));
    ASSERT_TRUE(sw->commit()) << sw->error();
  }
}

// ---- an independent model of what the reader may know (docs/journal-format.md, "Reading") ----

struct Header {
  uint32_t crc;
  uint16_t type, length;
  uint64_t sequence;
};
Header header_at(const Bytes& b, uint64_t at) {
  return Header{static_cast<uint32_t>(jt::le(&b[at], 4)), static_cast<uint16_t>(jt::le(&b[at + 4], 2)),
                static_cast<uint16_t>(jt::le(&b[at + 6], 2)), jt::le(&b[at + 8], 8)};
}
// "Bad type or length": a type the journal does not define, or a record that would leave its page (a
// sync marker must also hold its u64).
bool plausible(const Header& h, uint64_t at) {
  const bool type_ok = h.type >= j::kFirstUserType || h.type == j::kPadding || h.type == j::kSyncMarker ||
                       h.type == j::kSegmentEnd;
  if (!type_ok) return false;
  if (16 + uint64_t{h.length} > kPage - at % kPage) return false;
  return !(h.type == j::kSyncMarker && h.length < 8);
}
bool crc_ok(const Bytes& b, uint64_t at, const Header& h, uint32_t salt) {
  return ps::crc32c(&b[at + 4], 12 + size_t{h.length}, salt) == h.crc;
}
uint64_t next_slot(uint64_t at) { return kPage - at % kPage < 16 ? at + (kPage - at % kPage) : at; }
uint64_t nonzero_end(const Bytes& b, uint64_t from) {
  uint64_t e = b.size();
  while (e > from && b[e - 1] == 0) --e;
  return e;
}
// Sync markers the reader finds after damage: it resumes at `from` and moves to the next page at every
// record that fails (the documented resynchronisation).
uint64_t markers_after(const Bytes& b, uint32_t salt, uint64_t from, uint64_t until) {
  uint64_t best = 0;
  uint64_t p = from;
  while (p < until) {
    p = next_slot(p);
    if (p + 16 > b.size()) break;
    const Header h = header_at(b, p);
    if (!plausible(h, p) || !crc_ok(b, p, h, salt)) {
      p = p - p % kPage + kPage;
      continue;
    }
    if (h.type == j::kSyncMarker) best = std::max(best, jt::le(&b[p + 16], 8));
    p += j::record_bytes(h.length);
  }
  return best;
}

struct Expect {
  Status status = Status::Clean;
  Kind kind = Kind::None;
  std::string file;        // journal file name of the damage ("" for Clean)
  int64_t offset = -1;     // -1: not asserted
  uint64_t first = 1, last = 0;  // Clean/TornTail: the records kept
};

// Damage at `offset` of segment `i` (bytes `b` as mutated), where the next user record would be `s`.
Expect damage(const Base& base, size_t i, Kind kind, uint64_t offset, uint64_t s, uint64_t resume, const Bytes& b) {
  Expect e;
  e.kind = kind;
  e.file = base.segments[i].name;
  e.offset = static_cast<int64_t>(offset);
  e.last = s - 1;
  if (i + 1 != base.segments.size()) {
    e.status = Status::Failed;
    return e;
  }
  uint64_t wm = 0;
  for (size_t k = 0; k < base.segments.size(); ++k)
    for (const auto& rec : base.segments[k].raw.records)
      if (rec.type == j::kSyncMarker && (k < i || rec.offset < offset)) wm = std::max(wm, jt::le(rec.payload.data(), 8));
  wm = std::max(wm, markers_after(b, base.segments[i].salt, resume, nonzero_end(b, offset)));
  e.status = wm >= s ? Status::Failed : Status::TornTail;
  return e;
}

Expect clean(uint64_t first, uint64_t last) {
  Expect e;
  e.first = first;
  e.last = last;
  return e;
}

// The next user sequence at a record: its own for a user record, the carried one + 1 for the journal's.
uint64_t sequence_at(const jt::RawRecord& r) { return r.type >= j::kFirstUserType ? r.sequence : r.sequence + 1; }
uint64_t last_user_before(const Segment& seg, uint64_t offset) {
  uint64_t last = seg.first - 1;
  for (const auto& r : seg.raw.records)
    if (r.type >= j::kFirstUserType && r.offset < offset) last = r.sequence;
  return last;
}

struct Mutation {
  std::string name;
  Expect expect;
  std::vector<std::pair<uint64_t, bool>> snapshots;  // sequence, valid (after the mutation)
};

std::string journal_path(const std::string& root, const std::string& name) { return root + "/journal/" + name; }

Mutation mutate(const Base& base, const std::string& root, std::mt19937_64& rng) {
  Mutation m;
  for (uint64_t s : base.snapshots) m.snapshots.emplace_back(s, true);
  m.expect = clean(1, base.records);
  const size_t nseg = base.segments.size();
  const size_t last_index = nseg - 1;
  const size_t i = rng() % nseg;
  const Segment& seg = base.segments[i];
  const std::string path = journal_path(root, seg.name);
  switch (rng() % 11) {
    case 0:
    case 1: {  // a bit flip in CRC-covered bytes of a record (incl. padding, markers, end records)
      m.name = "bit flip in a record";
      const jt::RawRecord& r = seg.raw.records[rng() % seg.raw.records.size()];
      Bytes b = jt::read_file(path);
      const uint64_t at = r.offset + rng() % (16 + r.length);
      b[at] = static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
      jt::write_file(path, b);
      const Header h = header_at(b, r.offset);
      const bool ok = plausible(h, r.offset);
      const uint64_t resume = ok ? r.offset + j::record_bytes(h.length) : r.offset - r.offset % kPage + kPage;
      m.expect = damage(base, i, ok ? Kind::CrcMismatch : Kind::BadRecordHeader, r.offset, sequence_at(r), resume, b);
      return m;
    }
    case 2: {  // a bit flip in bytes no CRC covers
      m.name = "bit flip outside every CRC";
      std::vector<uint64_t> spots;
      for (uint64_t k = 64; k < kPage; k += 97) spots.push_back(k);  // page 0 after the header
      for (const auto& r : seg.raw.records) {
        for (uint64_t k = r.offset + 16 + r.length; k < r.offset + r.bytes; ++k) spots.push_back(k);  // alignment
        const uint64_t end = r.offset + r.bytes;
        if (end % kPage != 0 && kPage - end % kPage < 16)
          for (uint64_t k = end; k % kPage != 0; ++k) spots.push_back(k);  // page-end slack
      }
      if (seg.ended && seg.end < kSegmentBytes) spots.push_back(seg.end + rng() % (kSegmentBytes - seg.end));  // after the end record
      Bytes b = jt::read_file(path);
      const uint64_t at = spots[rng() % spots.size()];
      b[at] = static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
      jt::write_file(path, b);
      return m;
    }
    case 3: {  // garbage after the last record of the last segment
      m.name = "garbage tail";
      const Segment& ls = base.segments[last_index];
      const std::string lp = journal_path(root, ls.name);
      Bytes b = jt::read_file(lp);
      const uint64_t from = ls.end + rng() % std::min<uint64_t>(3 * kPage, kSegmentBytes - ls.end);
      const uint64_t n = 1 + rng() % 200;
      for (uint64_t k = from; k < std::min<uint64_t>(b.size(), from + n); ++k) b[k] = static_cast<uint8_t>(rng() | 1);
      jt::write_file(lp, b);
      const uint64_t slot = next_slot(ls.end);
      if (nonzero_end(b, slot) == slot) return m;  // only the slack before the next slot: nothing to see
      Kind kind = Kind::BadRecordHeader;
      uint64_t resume = slot - slot % kPage + kPage;
      if (slot + 16 <= b.size()) {
        const Header h = header_at(b, slot);
        if (std::all_of(b.begin() + static_cast<long>(slot), b.begin() + static_cast<long>(slot + 16),
                        [](uint8_t x) { return x == 0; })) {
          kind = Kind::UnwrittenGap;
        } else if (plausible(h, slot)) {
          kind = Kind::CrcMismatch;
          resume = slot + j::record_bytes(h.length);
        }
      }
      m.expect = damage(base, last_index, kind, slot, base.records + 1, resume, b);
      return m;
    }
    case 4: {  // truncated or extended segment
      Bytes b = jt::read_file(path);
      if (rng() % 2 == 0) {
        m.name = "truncated segment";
        b.resize(rng() % 3 == 0 ? rng() % kPage : rng() % b.size());
      } else {
        m.name = "extended segment";
        const uint64_t n = 1 + rng() % 5000;
        for (uint64_t k = 0; k < n; ++k) b.push_back(static_cast<uint8_t>(rng()));
      }
      jt::write_file(path, b);
      m.expect.status = Status::Failed;
      m.expect.kind = Kind::BadSegmentHeader;
      m.expect.file = seg.name;
      m.expect.offset = 0;
      return m;
    }
    case 5: {  // a zeroed page
      m.name = "zeroed page";
      const Bytes pristine = jt::read_file(path);
      const uint64_t pages = (nonzero_end(pristine, 0) + kPage - 1) / kPage;
      const uint64_t p = rng() % pages;
      Bytes b = pristine;
      std::fill(b.begin() + static_cast<long>(p * kPage), b.begin() + static_cast<long>((p + 1) * kPage), 0);
      jt::write_file(path, b);
      if (p == 0) {
        m.expect.status = Status::Failed;
        m.expect.kind = Kind::BadSegmentHeader;
        m.expect.file = seg.name;
        m.expect.offset = 0;
        return m;
      }
      const uint64_t at = p * kPage;
      const uint64_t before = last_user_before(seg, at);
      if (nonzero_end(b, at) == at) {  // nothing after it in this segment
        if (i != last_index) {
          m.expect.status = Status::Failed;
          m.expect.kind = Kind::MissingSegmentEnd;
          m.expect.file = seg.name;
          m.expect.offset = static_cast<int64_t>(at);
        } else {
          m.expect = clean(1, before);
        }
        return m;
      }
      m.expect = damage(base, i, Kind::UnwrittenGap, at, before + 1, at + kPage, b);
      return m;
    }
    case 6: {  // a deleted segment
      fs::remove(path);
      if (i == 0) {
        m.name = "first segment deleted";
        m.expect = clean(base.segments[1].first, base.records);
      } else if (i == last_index) {
        m.name = "last segment deleted";
        m.expect = clean(1, base.segments[i - 1].last);
      } else {
        m.name = "middle segment deleted";
        m.expect.status = Status::Failed;
        m.expect.kind = Kind::MissingSegment;
        m.expect.file = base.segments[i + 1].name;
      }
      return m;
    }
    case 7: {  // a segment duplicated under another valid segment name
      m.name = "duplicated segment";
      uint64_t name = 0;
      bool taken = true;
      while (taken) {
        name = rng() % (base.records + 200);
        taken = false;
        for (const auto& s : base.segments) taken = taken || s.first == name;
      }
      fs::copy_file(path, journal_path(root, j::segment_file_name(name)));
      m.expect.status = Status::Failed;
      if (name < base.segments[0].first) {
        m.expect.kind = Kind::BadSegmentHeader;
        m.expect.file = j::segment_file_name(name);
        return m;
      }
      size_t k = 0;
      while (k + 1 < nseg && base.segments[k + 1].first < name) ++k;
      if (k == last_index) {  // sorts after the last segment, which has no end record
        m.expect.kind = Kind::MissingSegmentEnd;
        m.expect.file = base.segments[k].name;
        m.expect.offset = static_cast<int64_t>(next_slot(base.segments[k].end));
      } else {
        m.expect.kind = name > base.segments[k].last + 1 ? Kind::MissingSegment : Kind::SequenceGap;
        m.expect.file = j::segment_file_name(name);
      }
      return m;
    }
    case 8:
    case 9: {  // a damaged snapshot, the newest half the time
      const size_t k = rng() % 2 == 0 ? base.snapshots.size() - 1 : rng() % base.snapshots.size();
      const std::string sp = root + "/snapshots/" + ps::SnapshotDirectory::file_name(base.snapshots[k]);
      Bytes b = jt::read_file(sp);
      switch (rng() % 5) {
        case 0: {
          m.name = "snapshot bit flip";
          const uint64_t at = rng() % b.size();
          b[at] = static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
          break;
        }
        case 1:
          m.name = "snapshot truncated";
          b.resize(rng() % b.size());
          break;
        case 2:
          m.name = "snapshot extended";
          b.push_back(static_cast<uint8_t>(rng()));
          break;
        case 3: {
          m.name = "snapshot bytes zeroed";
          uint64_t at = rng() % b.size();
          while (b[at] == 0) at = (at + 1) % b.size();
          std::fill(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(std::min<uint64_t>(b.size(), at + 1 + rng() % 512)), 0);
          break;
        }
        default:
          m.name = "snapshot deleted";
          fs::remove(sp);
          m.snapshots.erase(m.snapshots.begin() + static_cast<long>(k));
          return m;
      }
      jt::write_file(sp, b);
      m.snapshots[k].second = false;
      return m;
    }
    default: {  // stray files recovery must ignore
      m.name = "stray files";
      Bytes junk(1 + rng() % 9000);
      for (auto& x : junk) x = static_cast<uint8_t>(rng());
      jt::write_file(journal_path(root, j::segment_file_name(base.records + 1) + ".tmp"), junk);
      jt::write_file(path + ".corrupt", junk);
      jt::write_file(root + "/snapshots/" + ps::SnapshotDirectory::file_name(base.records + 5) + ".tmp", junk);
      return m;
    }
  }
}

// What recover_state() must do, from the journal's expectation and the snapshots left.
struct RecoveryExpect {
  ps::RecoveryStatus status = ps::RecoveryStatus::Failed;
  bool snapshot_used = false;
  uint64_t snapshot = 0;
};
RecoveryExpect expect_recovery(const Mutation& m) {
  RecoveryExpect r;
  if (m.expect.status == Status::Failed) return r;
  for (const auto& [s, valid] : m.snapshots)
    if (s > m.expect.last) return r;  // records the snapshot had as durable are missing
  for (const auto& [s, valid] : m.snapshots)
    if (valid && s + 1 >= m.expect.first) {
      r.snapshot_used = true;
      r.snapshot = s;  // ascending: the last one wins
    }
  if (!r.snapshot_used && m.expect.first != 1) return r;
  r.status = ps::RecoveryStatus::Success;
  return r;
}

std::map<std::string, Bytes> journal_files(const std::string& root) {
  std::map<std::string, Bytes> out;
  for (const auto& e : fs::directory_iterator(root + "/journal")) out[e.path().filename().string()] = jt::read_file(e.path().string());
  return out;
}

TEST(JournalMutation, EveryMutationIsClassifiedAsTheFormatSays) {
  const uint64_t mutations = pf::proof_size("PMM_PROOF_MUTATIONS", 1000, 10000);
  const uint64_t seed = pf::proof_seed(777);
  ScratchDir scratch;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Base> bases(3);
  // Bases whose last segment holds durable records (and so a snapshot at the watermark).
  for (uint64_t k = 0, attempt = 0; k < bases.size(); ++attempt) {
    ASSERT_LT(attempt, 50u);
    const std::string dir = scratch.path() + "/base-" + std::to_string(attempt);
    Base b;
    build_base(dir, seed * 100 + attempt, b);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    if (b.snapshots.empty()) continue;
    bases[k++] = std::move(b);
  }

  std::mt19937_64 rng(seed);
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_kind;  // name -> (count, misclassified)
  std::map<std::string, uint64_t> outcomes;                       // "journal status / recovery status"
  uint64_t misclassified = 0, durable_cut = 0;
  ps::PosixFileOps ops;
  for (uint64_t n = 0; n < mutations; ++n) {
    const Base& base = bases[rng() % bases.size()];
    const std::string root = scratch.path() + "/m";
    std::error_code ec;
    fs::remove_all(root, ec);
    fs::copy(base.root, root, fs::copy_options::recursive);
    const Mutation m = mutate(base, root, rng);
    const Expect& e = m.expect;
    std::string why;
    auto check = [&why](bool ok, const std::string& what) {
      if (!ok && why.empty()) why = what;
    };

    const ps::JournalReport r = ps::verify_journal(root + "/journal");
    check(r.status == e.status, std::string("journal status ") + ps::to_string(r.status) + ", expected " +
                                    ps::to_string(e.status));
    check(r.damage.kind == e.kind, std::string("damage kind ") + ps::to_string(r.damage.kind) + ", expected " +
                                       ps::to_string(e.kind));
    if (!e.file.empty()) check(fs::path(r.damage.file).filename().string() == e.file, "damage names " + r.damage.file + ", expected " + e.file);
    if (e.offset >= 0) check(r.damage.offset == static_cast<uint64_t>(e.offset), "damage offset " + std::to_string(r.damage.offset) + ", expected " + std::to_string(e.offset));
    if (e.status != Status::Failed) {
      check(r.first_sequence == e.first && r.last_sequence == e.last,
            "records " + std::to_string(r.first_sequence) + ".." + std::to_string(r.last_sequence) + ", expected " +
                std::to_string(e.first) + ".." + std::to_string(e.last));
    } else {
      check(!r.damage.detail.empty(), "Failed without a description");
    }
    // Whatever the status, every record delivered is one that was written, in order.
    const pf::RecordCheck c = pf::check_proof_records(root + "/journal", base.seed, kMaxPayload, e.first - 1);
    check(c.wrong == 0, "a delivered record is not the one written: " + c.first_problem);

    const RecoveryExpect re = expect_recovery(m);
    const auto before = journal_files(root);
    ps::PersistenceConfig config;
    config.data_directory = root;
    config.journal_segment_bytes = kSegmentBytes;
    pf::ProofState state(base.seed, kMaxPayload);
    const ps::RecoveryResult rr = ps::recover_state(config, ops, state, nullptr);
    check(rr.status == re.status, std::string("recovery ") + ps::to_string(rr.status) + " (" + rr.reason +
                                      "), expected " + ps::to_string(re.status));
    if (rr.status == ps::RecoveryStatus::Success && re.status == ps::RecoveryStatus::Success) {
      check(rr.snapshot_used == re.snapshot_used && rr.snapshot_sequence == re.snapshot,
            "recovered from snapshot " + std::to_string(rr.snapshot_sequence) + ", expected " + std::to_string(re.snapshot));
      check(rr.recovered_sequence == e.last && state.sequence() == e.last,
            "state at " + std::to_string(state.sequence()) + ", expected " + std::to_string(e.last));
      check(state.wrong() == 0, "replayed a wrong record: " + state.first_problem());
      check(rr.state_digest == pf::proof_digest(e.last), "state digest differs from records 1.." + std::to_string(e.last));
      check(rr.tail_repaired == (e.status == Status::TornTail), "torn tail repaired: " + std::to_string(rr.tail_repaired));
      check(ps::verify_journal(root + "/journal").status == Status::Clean, "journal not Clean after recovery");
    } else if (rr.status == ps::RecoveryStatus::Failed) {
      check(journal_files(root) == before, "a Failed recovery changed journal files");
      if (e.status == Status::Failed)
        check(rr.reason.find(r.damage.detail) != std::string::npos, "the reason does not carry the damage: " + rr.reason);
    }

    // A torn tail that cuts records which were durable: the only covering sync marker was lost with the
    // damage (or sits in the damaged page after an unreadable header). Recovery still refuses when a
    // snapshot vouches for those records.
    if (e.status == Status::TornTail && e.last < base.watermark) ++durable_cut;
    auto& k = per_kind[m.name];
    ++k.first;
    ++outcomes[std::string(ps::to_string(e.status)) + " / " + ps::to_string(re.status)];
    if (!why.empty()) {
      ++k.second;
      if (misclassified++ < 10)
        ADD_FAILURE() << "mutation " << n << " (" << m.name << ", base seed " << base.seed << "): " << why
                      << "\n  journal: " << r.summary() << "\n  recovery: " << rr.summary();
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mutation proof: %llu mutations, %llu misclassified, %llu torn tails below the durable watermark "
              "(undetectable by the journal alone), %.1f s, seed %llu\n",
              static_cast<unsigned long long>(mutations), static_cast<unsigned long long>(misclassified),
              static_cast<unsigned long long>(durable_cut), seconds, static_cast<unsigned long long>(seed));
  for (const auto& [name, k] : per_kind)
    std::printf("  %-28s %6llu  misclassified %llu\n", name.c_str(), static_cast<unsigned long long>(k.first),
                static_cast<unsigned long long>(k.second));
  for (const auto& [name, count] : outcomes)
    std::printf("  journal/recovery %-22s %6llu\n", name.c_str(), static_cast<unsigned long long>(count));
  EXPECT_EQ(misclassified, 0u);
}

}  // namespace
