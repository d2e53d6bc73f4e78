// Proof 2 (docs/journal.md, "Proof"): simulated power loss. The real JournalWriter writes a journal
// (random record sizes, random group commits, 32 KiB segments so rollovers are frequent). At every
// durability barrier the test records two file sets:
//   base  what is on stable storage at the barrier: after sync(), every file as written, except the
//         current segment from the offset where sync() began (the sync marker appended after the msync
//         is not durable); after a rollover, the new segment's header page only;
//   final what the process had written when the next barrier began (the pages a power loss may or may
//         not have written, in any subset and order).
// A crash image starts from `base` and takes, for each 4 KiB page that differs in `final`: the old
// page, the new page, a prefix of the new page (a write-back caught mid-way), or a mix of old and new
// (or prefix) 512-byte sectors (a torn page). Rollover windows are modelled step by step: before the
// old segment's flush finishes the new segment does not exist (its `.tmp` may, torn); after the flush,
// the new name may be missing, present as a torn `.tmp`, or present with its synced header page.
//
// Asserted for every image, after recover_state() (verify; repair a torn tail; replay into a state that
// checks every record):
//   - status Success (no wrong status);
//   - every record up to the barrier's durable watermark is present (0 synced records lost);
//   - every record the journal delivers is contiguous and exactly what was written with that sequence
//     (0 corrupt records accepted).
//
// CI: 1000 images. Full: PMM_PROOF_FULL=1 (10 000) or PMM_PROOF_IMAGES=<n>; PMM_PROOF_SEED=<n>.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "persistence/journal_format.hpp"
#include "persistence/journal_writer.hpp"
#include "tests/persistence/journal_test_util.hpp"
#include "tests/persistence/proof_state.hpp"
#include "tests/persistence/proof_util.hpp"

namespace {

namespace ps = pmm::persistence;
namespace pf = pmm::persistence::proof;
namespace jt = journal_test;
namespace fs = std::filesystem;

constexpr uint64_t kSegmentBytes = 32 * 1024;
constexpr uint16_t kMaxPayload = 1500;  // mostly short records, some that force page padding
constexpr size_t kPage = 4096;
constexpr size_t kSector = 512;

using FileSet = std::map<std::string, std::vector<uint8_t>>;  // file name -> bytes

FileSet read_dir(const std::string& dir) {
  FileSet out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = jt::read_file(e.path().string());
  return out;
}

void write_dir(const std::string& dir, const FileSet& files) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  for (const auto& [name, bytes] : files) jt::write_file(dir + "/" + name, bytes);
}

// A directory on tmpfs when there is one: the images are synthetic, the disk adds nothing but time.
class ScratchDir {
 public:
  ScratchDir() {
    const std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    std::string tmpl = base + "/pmm-power-loss-XXXXXX";
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

enum class WindowKind {
  Appends,     // appends after a barrier, up to the next sync() or the rollover's flush of the old segment
  RolloverGap, // the old segment is flushed and ended; the new one is being created and renamed
};

struct Window {
  WindowKind kind;
  FileSet base, final;
  uint64_t watermark;   // durable_sequence() at the barrier that produced `base`
  std::string new_name; // RolloverGap: the new segment's name; Appends ended by a rollover: likewise
  std::vector<uint8_t> new_header_file;  // that segment as created (header page, zeros)
};

struct Scenario {
  uint64_t seed;
  uint64_t records;
  std::vector<Window> windows;
};

// Writes one journal with the real writer and records every window between durability barriers.
void build_scenario(const std::string& dir, uint64_t seed, Scenario& s) {
  std::mt19937_64 rng(seed);
  s.seed = seed;
  s.records = 800 + rng() % 1600;
  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = kSegmentBytes;
  std::string error;
  auto w = ps::JournalWriter::open(o, error);
  ASSERT_TRUE(w) << error;
  FileSet durable = read_dir(dir);  // a new journal: the first segment's header, synced at creation
  uint64_t watermark = 0;
  const uint64_t sync_every = 1 + rng() % 200;
  // After a rollover: the old segment is complete and flushed; the new one was created under .tmp
  // (header synced), renamed, the directory synced: only its header page is durable (the marker and
  // records after it are not). Before the rename became durable, the new name may be missing.
  auto rolled_over = [&] {
    FileSet now = read_dir(dir);
    const std::string new_name = fs::path(w->segment_path()).filename().string();
    std::vector<uint8_t> new_file = now.at(new_name);
    std::fill(new_file.begin() + kPage, new_file.end(), 0);
    now.erase(new_name);
    if (!s.windows.empty() && s.windows.back().new_name == new_name) s.windows.back().new_header_file = new_file;
    s.windows.push_back(Window{WindowKind::RolloverGap, now, now, w->durable_sequence(), new_name, new_file});
    durable = now;
    durable[new_name] = new_file;
  };
  pf::ProofRecord r;
  for (uint64_t seq = 1; seq <= s.records; ++seq) {
    if (rng() % sync_every == 0) {
      Window win{WindowKind::Appends, durable, read_dir(dir), watermark, "", {}};
      const std::string path = fs::path(w->segment_path()).filename().string();
      const uint64_t offset = w->segment_offset();
      const uint64_t segments = w->segments_created();
      ASSERT_TRUE(w->sync()) << w->error();
      s.windows.push_back(std::move(win));
      if (w->segments_created() != segments) {
        // The sync marker did not fit: sync() rolled over after its flush (end record, flush, new segment).
        rolled_over();
      } else {
        durable = read_dir(dir);
        std::fill(durable.at(path).begin() + static_cast<long>(offset), durable.at(path).end(), 0);  // the marker
      }
      watermark = w->durable_sequence();
      ASSERT_EQ(watermark, seq - 1);
    }
    const uint64_t segments = w->segments_created();
    pf::proof_record(seed, seq, kMaxPayload, r);
    ASSERT_EQ(w->append(r.type, r.payload, r.length), seq) << w->error();
    if (w->segments_created() != segments) {
      // The append rolled over: the old segment got its end record and was flushed (the window up to
      // here ends there), then the new one was created.
      FileSet now = read_dir(dir);
      now.erase(fs::path(w->segment_path()).filename().string());
      s.windows.push_back(Window{WindowKind::Appends, durable, now, watermark,
                                 fs::path(w->segment_path()).filename().string(), {}});
      rolled_over();
      watermark = w->durable_sequence();
      ASSERT_EQ(watermark, seq - 1);  // the old segment's last record, durable once it was flushed
    }
  }
  s.windows.push_back(Window{WindowKind::Appends, durable, read_dir(dir), watermark, "", {}});
  w->abandon();
}

// One 4 KiB page of a crash image, from the old and the new contents.
void tear_page(std::mt19937_64& rng, const uint8_t* old_page, const uint8_t* new_page, uint8_t* out) {
  switch (rng() % 5) {
    case 0: std::copy(old_page, old_page + kPage, out); return;  // never written back
    case 1: std::copy(new_page, new_page + kPage, out); return;  // written back whole
    case 2: {  // an earlier version written back: the new bytes up to some point (appends are in order)
      const size_t cut = rng() % kPage;
      std::copy(new_page, new_page + cut, out);
      std::copy(old_page + cut, old_page + kPage, out + cut);
      return;
    }
    default: {  // a torn page: each 512-byte sector old, new, or from an earlier version
      const size_t cut = rng() % kPage;
      const bool earlier = rng() % 2 == 0;
      for (size_t s = 0; s < kPage; s += kSector) {
        const uint64_t pick = rng() % 2;
        for (size_t i = s; i < s + kSector; ++i)
          out[i] = pick == 0 ? old_page[i] : (earlier && i >= cut ? old_page[i] : new_page[i]);
      }
      return;
    }
  }
}

FileSet crash_image(std::mt19937_64& rng, const Window& w) {
  FileSet img = w.base;
  for (const auto& [name, now] : w.final) {
    auto it = img.find(name);
    if (it == img.end()) {  // a file created after the barrier and not yet durable: may exist or not
      if (rng() % 2 == 0) img[name] = now;
      continue;
    }
    std::vector<uint8_t>& bytes = it->second;
    EXPECT_EQ(bytes.size(), now.size()) << name << ": segments keep their preallocated size";
    std::vector<uint8_t> page(kPage);
    for (size_t p = 0; p + kPage <= bytes.size(); p += kPage) {
      if (std::equal(bytes.begin() + static_cast<long>(p), bytes.begin() + static_cast<long>(p + kPage),
                     now.begin() + static_cast<long>(p)))
        continue;
      tear_page(rng, bytes.data() + p, now.data() + p, page.data());
      std::copy(page.begin(), page.end(), bytes.begin() + static_cast<long>(p));
    }
  }
  if (!w.new_name.empty()) {
    const uint64_t pick = rng() % 3;
    if (pick == 1 || (pick == 2 && w.kind == WindowKind::Appends)) {
      // The new segment under its temporary name, cut anywhere and torn: readers ignore *.tmp.
      std::vector<uint8_t> tmp = w.new_header_file;
      tmp.resize(rng() % (tmp.size() + 1));
      for (size_t s = 0; s < std::min<size_t>(tmp.size(), kPage); s += kSector)
        if (rng() % 2 == 0) std::fill(tmp.begin() + static_cast<long>(s),
                                      tmp.begin() + static_cast<long>(std::min(tmp.size(), s + kSector)), 0);
      img[w.new_name + ".tmp"] = tmp;
    } else if (pick == 2) {
      // RolloverGap: renamed after its header was synced, the rename made durable or not.
      img[w.new_name] = w.new_header_file;
    }
  }
  return img;
}

TEST(JournalPowerLoss, CrashImagesKeepEverySyncedRecordAndAcceptNoCorruptOne) {
  const uint64_t images = pf::proof_size("PMM_PROOF_IMAGES", 1000, 10000);
  const uint64_t seed = pf::proof_seed(4242);
  ScratchDir scratch;
  const auto t0 = std::chrono::steady_clock::now();

  std::vector<Scenario> scenarios(8);
  size_t windows = 0;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const std::string dir = scratch.path() + "/build-" + std::to_string(i);
    build_scenario(dir, seed * 1000 + i, scenarios[i]);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    windows += scenarios[i].windows.size();
  }

  std::mt19937_64 rng(seed);
  const std::string image_root = scratch.path() + "/image";  // a data directory
  const std::string image_dir = image_root + "/journal";
  uint64_t wrong_status = 0, synced_lost = 0, corrupt_accepted = 0, repaired = 0;
  uint64_t gap_images = 0, records_checked = 0;
  for (uint64_t n = 0; n < images; ++n) {
    const Scenario& sc = scenarios[rng() % scenarios.size()];
    const Window& w = sc.windows[rng() % sc.windows.size()];
    gap_images += w.kind == WindowKind::RolloverGap ? 1 : 0;
    std::error_code ec;
    fs::remove_all(image_root, ec);
    write_dir(image_dir, crash_image(rng, w));
    const pf::StateRecovery rec = pf::recover_proof_state(image_root, sc.seed, kMaxPayload, kSegmentBytes);
    const std::string where = "image " + std::to_string(n) + " (scenario seed " + std::to_string(sc.seed) +
                              ", watermark " + std::to_string(w.watermark) + ")";
    if (rec.result.status != ps::RecoveryStatus::Success) {
      if (wrong_status++ < 5) ADD_FAILURE() << where << ": " << rec.result.summary();
      continue;
    }
    repaired += rec.result.tail_repaired ? 1 : 0;
    // Independently of recovery's own replay: the journal it left, record by record.
    const pf::RecordCheck c = pf::check_proof_records(image_dir, sc.seed, kMaxPayload, 0);
    records_checked += c.records;
    if (c.wrong != 0 || !c.error.empty() || rec.wrong != 0 || rec.sequence != c.last ||
        rec.result.recovered_sequence != c.last) {
      if (corrupt_accepted++ < 5)
        ADD_FAILURE() << where << ": " << c.first_problem << c.error << rec.first_problem << " (state at "
                      << rec.sequence << ", journal ends at " << c.last << ")";
    }
    if (c.last < w.watermark) {
      if (synced_lost++ < 5) ADD_FAILURE() << where << ": journal ends at " << c.last;
    }
    if (c.records != c.last) ADD_FAILURE() << where << ": not contiguous from 1";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "power-loss proof: %llu crash images from %zu windows of %zu journals (%llu rollover-gap images), %llu torn "
      "tails repaired, %llu records checked; synced records lost: %llu images, corrupt records accepted: %llu "
      "images, wrong statuses: %llu; %.1f s, seed %llu\n",
      static_cast<unsigned long long>(images), windows, scenarios.size(),
      static_cast<unsigned long long>(gap_images), static_cast<unsigned long long>(repaired),
      static_cast<unsigned long long>(records_checked), static_cast<unsigned long long>(synced_lost),
      static_cast<unsigned long long>(corrupt_accepted), static_cast<unsigned long long>(wrong_status), seconds,
      static_cast<unsigned long long>(seed));
  EXPECT_EQ(wrong_status, 0u);
  EXPECT_EQ(synced_lost, 0u);
  EXPECT_EQ(corrupt_accepted, 0u);
  EXPECT_GT(repaired, images / 10) << "the images should tear many tails";
}

}  // namespace
