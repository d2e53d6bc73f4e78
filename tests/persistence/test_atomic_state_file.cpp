// AtomicStateFile: round trips against the input, the byte layout of docs/snapshot-format.md, every
// single-byte corruption and truncation detected, and crash safety: a crash before any call of a
// save, under each of four power-loss outcomes (tests/persistence/memory_file_ops.hpp), leaves the
// old or the new complete version; ENOSPC/EIO at each call keeps the old one and says so.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "persistence/atomic_state_file.hpp"
#include "persistence/crc32c.hpp"
#include "tests/persistence/memory_file_ops.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace {

namespace ps = pmm::persistence;
using ps::testing::MemoryFileOps;
using ps::testing::TempDir;
using Bytes = std::vector<uint8_t>;

Bytes random_bytes(std::mt19937_64& rng, size_t n) {
  Bytes v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

bool save(ps::AtomicStateFile& f, uint32_t version, const Bytes& b, std::string& error) {
  return f.save(version, b.data(), b.size(), error);
}

struct PowerLoss {
  bool keep_entries;
  bool keep_data;
  const char* name;
};
constexpr PowerLoss kOutcomes[] = {
    {true, true, "process crash: everything written is kept"},
    {false, false, "power loss: only what was synced survives"},
    {true, false, "power loss: renames kept, unsynced data lost"},
    {false, true, "power loss: unsynced data kept, unsynced renames lost"},
};

const Bytes kOld = {'o', 'l', 'd', ' ', 'r', 'i', 's', 'k', 0, 1, 2};
const Bytes kNew = {'n', 'e', 'w', ' ', 's', 't', 'a', 't', 'e', ' ', 'p', 'a', 'y', 'l', 'o', 'a', 'd'};

TEST(AtomicStateFile, RoundTripsRandomPayloads) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    const size_t n = i < 100 ? static_cast<size_t>(i) : rng() % 70000;
    const Bytes payload = random_bytes(rng, n);
    const auto version = static_cast<uint32_t>(rng());
    std::string error;
    ASSERT_TRUE(save(f, version, payload, error)) << error;
    const ps::StateLoadResult r = f.load();
    ASSERT_EQ(r.status, ps::StateLoadStatus::Loaded) << r.what;
    EXPECT_EQ(r.payload_version, version);
    EXPECT_EQ(r.payload, payload);
  }
  EXPECT_FALSE(fs.exists("/d/risk.state.tmp"));
}

TEST(AtomicStateFile, RealFileSystemRoundTripMode0600AndNoTempLeft) {
  TempDir dir;
  ps::PosixFileOps fs;
  ps::AtomicStateFile f(fs, dir.path() + "/strategy.state");
  EXPECT_EQ(f.load().status, ps::StateLoadStatus::Missing);
  std::string error;
  ASSERT_TRUE(save(f, 3, kOld, error)) << error;
  ASSERT_TRUE(save(f, 4, kNew, error)) << error;
  const ps::StateLoadResult r = f.load();
  ASSERT_TRUE(r.loaded()) << r.what;
  EXPECT_EQ(r.payload, kNew);
  EXPECT_EQ(r.payload_version, 4u);
  struct stat st {};
  ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::stat(f.temp_path().c_str(), &st), 0);
  ASSERT_TRUE(f.remove(error)) << error;
  EXPECT_EQ(f.load().status, ps::StateLoadStatus::Missing);
  EXPECT_TRUE(f.remove(error));  // removing a missing file is fine
}

// The layout written down in docs/snapshot-format.md, built here byte by byte.
TEST(AtomicStateFile, LayoutMatchesTheDocs) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::string error;
  ASSERT_TRUE(f.save(0x01020304u, reinterpret_cast<const uint8_t*>("abc"), 3, error)) << error;
  Bytes expect = {'P', 'M', 'M', 'S', 'T', 'A', 'T', 'E', 0, 1, 0, 0, 1, 2, 3, 4, 0, 0, 0, 3, 'a', 'b', 'c'};
  const uint32_t crc = ps::crc32c(expect.data(), expect.size(), ps::crc32c("risk.state", 10));
  for (int s = 24; s >= 0; s -= 8) expect.push_back(static_cast<uint8_t>(crc >> s));
  EXPECT_EQ(fs.contents("/d/risk.state"), expect);
}

TEST(AtomicStateFile, MissingIsNotCorrupt) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  const ps::StateLoadResult r = ps::AtomicStateFile(fs, "/d/risk.state").load();
  EXPECT_EQ(r.status, ps::StateLoadStatus::Missing);
  EXPECT_NE(r.what.find("/d/risk.state"), std::string::npos);
}

TEST(AtomicStateFile, ReadErrorIsReported) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::string error;
  ASSERT_TRUE(save(f, 1, kOld, error));
  fs.fail_call(fs.calls() + 2, EIO);  // open_read, file_size, read
  const ps::StateLoadResult r = f.load();
  EXPECT_EQ(r.status, ps::StateLoadStatus::ReadFailed);
  EXPECT_NE(r.what.find(std::strerror(EIO)), std::string::npos) << r.what;
  EXPECT_TRUE(r.payload.empty());
}

// Property: every single-byte change (all 255 non-zero xors at every offset), every truncation and an
// extension is reported as corrupt, with the path and an offset inside the file.
TEST(AtomicStateFile, EverySingleByteCorruptionAndTruncationIsDetected) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::string error;
  ASSERT_TRUE(save(f, 9, kOld, error));
  const Bytes good = fs.contents(f.path());
  size_t undetected = 0;
  std::string example;
  auto check = [&](const Bytes& bad, const std::string& how) {
    fs.put(f.path(), bad);
    const ps::StateLoadResult r = f.load();
    const bool ok = r.status == ps::StateLoadStatus::Corrupt && r.offset <= bad.size() &&
                    r.what.find(f.path()) != std::string::npos && r.payload.empty();
    if (!ok && undetected++ == 0) example = how + ": " + ps::to_string(r.status) + " " + r.what;
  };
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned x = 1; x < 256; ++x) {
      Bytes bad = good;
      bad[i] = static_cast<uint8_t>(bad[i] ^ x);
      check(bad, "byte " + std::to_string(i) + " ^ " + std::to_string(x));
    }
  }
  for (size_t len = 0; len < good.size(); ++len) {
    check(Bytes(good.begin(), good.begin() + static_cast<long>(len)), "truncated to " + std::to_string(len));
  }
  Bytes longer = good;
  longer.push_back(0);
  check(longer, "one byte appended");
  EXPECT_EQ(undetected, 0u) << example;
}

TEST(AtomicStateFile, CorruptReportNamesWhatAndWhere) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::string error;
  ASSERT_TRUE(save(f, 9, kOld, error));
  Bytes bad = fs.contents(f.path());
  bad[25] ^= 0x10;  // a payload byte
  fs.put(f.path(), bad);
  ps::StateLoadResult r = f.load();
  EXPECT_EQ(r.status, ps::StateLoadStatus::Corrupt);
  EXPECT_EQ(r.offset, 20 + kOld.size());  // the CRC field
  EXPECT_NE(r.what.find("CRC mismatch"), std::string::npos) << r.what;
  bad = fs.contents(f.path());
  bad.resize(10);
  fs.put(f.path(), bad);
  r = f.load();
  EXPECT_EQ(r.status, ps::StateLoadStatus::Corrupt);
  EXPECT_NE(r.what.find("truncated"), std::string::npos) << r.what;
}

// The CRC is seeded with the file name: a state file copied over another one is not accepted.
TEST(AtomicStateFile, AFileCopiedUnderAnotherNameIsCorrupt) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile risk(fs, "/d/risk.state");
  ps::AtomicStateFile strategy(fs, "/d/strategy.state");
  std::string error;
  ASSERT_TRUE(save(risk, 1, kOld, error));
  fs.put(strategy.path(), fs.contents(risk.path()));
  EXPECT_EQ(strategy.load().status, ps::StateLoadStatus::Corrupt);
}

TEST(AtomicStateFile, OversizedPayloadIsRefusedAndOversizedFileIsCorrupt) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile small(fs, "/d/risk.state", 16);
  std::string error;
  EXPECT_FALSE(save(small, 1, Bytes(17, 1), error));
  EXPECT_NE(error.find("limit"), std::string::npos) << error;
  EXPECT_FALSE(fs.exists("/d/risk.state"));
  ps::AtomicStateFile big(fs, "/d/risk.state");
  ASSERT_TRUE(save(big, 1, Bytes(17, 1), error));
  EXPECT_EQ(small.load().status, ps::StateLoadStatus::Corrupt);
}

// The calls one save makes, and where its rename is among them.
struct SaveShape {
  uint64_t calls = 0;
  uint64_t rename_at = 0;
};
SaveShape measure_save() {
  MemoryFileOps fs;
  EXPECT_EQ(fs.make_dir("/d"), 0);
  ps::AtomicStateFile f(fs, "/d/risk.state");
  std::string error;
  EXPECT_TRUE(save(f, 1, kOld, error));
  const size_t first = fs.log.size();
  const uint64_t before = fs.calls();
  EXPECT_TRUE(save(f, 2, kNew, error));
  SaveShape s;
  s.calls = fs.calls() - before;
  for (size_t i = first; i < fs.log.size(); ++i) {
    if (fs.log[i].rfind("rename ", 0) == 0) s.rename_at = i - first;
  }
  EXPECT_GT(s.rename_at, 0u);
  EXPECT_EQ(s.rename_at + 2, s.calls);  // rename, then the directory fsync, last
  EXPECT_EQ(fs.log.back(), "sync_dir /d");
  return s;
}

// Crash before call k of a save, for every k, under each power-loss outcome: the reader sees the old
// or the new complete version; the old one while the rename has not happened; the new one if save()
// returned true. And the next save after restart works.
TEST(AtomicStateFile, CrashAtEveryCallLeavesOldOrNewComplete) {
  const SaveShape shape = measure_save();
  for (const PowerLoss& outcome : kOutcomes) {
    for (uint64_t k = 0; k <= shape.calls; ++k) {
      SCOPED_TRACE(std::string(outcome.name) + ", crash at call " + std::to_string(k));
      MemoryFileOps fs;
      ASSERT_EQ(fs.make_dir("/d"), 0);
      ps::AtomicStateFile f(fs, "/d/risk.state");
      std::string error;
      ASSERT_TRUE(save(f, 1, kOld, error));
      fs.crash_at_call(fs.calls() + k);
      const bool ok = save(f, 2, kNew, error);
      EXPECT_EQ(ok, k == shape.calls);
      fs.power_loss(outcome.keep_entries, outcome.keep_data);
      const ps::StateLoadResult r = f.load();
      ASSERT_EQ(r.status, ps::StateLoadStatus::Loaded) << r.what;
      EXPECT_TRUE(r.payload == kOld || r.payload == kNew);
      if (k <= shape.rename_at) {
        EXPECT_EQ(r.payload, kOld);
      }
      if (ok) {
        EXPECT_EQ(r.payload, kNew);
      }
      EXPECT_EQ(r.payload_version, r.payload == kOld ? 1u : 2u);
      // Restart: a leftover temp file does not get in the way.
      const Bytes next = {'n', 'e', 'x', 't'};
      ASSERT_TRUE(save(f, 3, next, error)) << error;
      fs.power_loss(false, false);
      EXPECT_EQ(f.load().payload, next);
    }
  }
}

// Same with no previous version: missing or new, never corrupt.
TEST(AtomicStateFile, CrashDuringTheFirstSaveLeavesMissingOrNew) {
  const SaveShape shape = measure_save();
  for (const PowerLoss& outcome : kOutcomes) {
    for (uint64_t k = 0; k <= shape.calls; ++k) {
      SCOPED_TRACE(std::string(outcome.name) + ", crash at call " + std::to_string(k));
      MemoryFileOps fs;
      ASSERT_EQ(fs.make_dir("/d"), 0);
      ps::AtomicStateFile f(fs, "/d/risk.state");
      std::string error;
      fs.crash_at_call(fs.calls() + k);
      const bool ok = save(f, 2, kNew, error);
      fs.power_loss(outcome.keep_entries, outcome.keep_data);
      const ps::StateLoadResult r = f.load();
      if (ok) {
        EXPECT_EQ(r.status, ps::StateLoadStatus::Loaded);
      } else {
        EXPECT_TRUE(r.status == ps::StateLoadStatus::Missing || r.status == ps::StateLoadStatus::Loaded)
            << ps::to_string(r.status) << " " << r.what;
      }
      if (r.loaded()) {
        EXPECT_EQ(r.payload, kNew);
      }
    }
  }
}

// ENOSPC or EIO at call k of a save, for every k: save() reports the errno and the path; before the
// rename the old version is intact (also after a power loss) and the temp file is gone; a failed
// directory fsync leaves the new version in place and says it may not be durable.
TEST(AtomicStateFile, ErrorAtEveryCallKeepsTheOldVersionAndReportsIt) {
  const SaveShape shape = measure_save();
  for (const int err : {ENOSPC, EIO}) {
    for (uint64_t k = 0; k < shape.calls; ++k) {
      SCOPED_TRACE(std::string(std::strerror(err)) + " at call " + std::to_string(k));
      MemoryFileOps fs;
      ASSERT_EQ(fs.make_dir("/d"), 0);
      ps::AtomicStateFile f(fs, "/d/risk.state");
      std::string error;
      ASSERT_TRUE(save(f, 1, kOld, error));
      fs.fail_call(fs.calls() + k, err);
      error.clear();
      EXPECT_FALSE(save(f, 2, kNew, error));
      EXPECT_NE(error.find(std::strerror(err)), std::string::npos) << error;
      EXPECT_NE(error.find("/d/"), std::string::npos) << error;
      if (k <= shape.rename_at) {
        EXPECT_NE(error.find("unchanged"), std::string::npos) << error;
        EXPECT_FALSE(fs.exists(f.temp_path()));
        EXPECT_EQ(f.load().payload, kOld);
        fs.power_loss(false, false);
        EXPECT_EQ(f.load().payload, kOld);
      } else {
        EXPECT_NE(error.find("may not survive"), std::string::npos) << error;
        EXPECT_EQ(f.load().payload, kNew);
      }
      // The next save, with the fault gone, succeeds.
      ASSERT_TRUE(save(f, 3, kNew, error)) << error;
      fs.power_loss(false, false);
      EXPECT_EQ(f.load().payload_version, 3u);
    }
  }
}

}  // namespace
