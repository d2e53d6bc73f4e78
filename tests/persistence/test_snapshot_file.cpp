// Snapshot files: random block lists round-trip against the input; the layout of
// docs/snapshot-format.md; property: every single-byte change and every truncation of a small
// snapshot is detected, and the reader never hands out a block that differs from what was written;
// garbage never crashes the reader; ENOSPC/EIO and crashes at every call of a write never leave a
// damaged `.snapshot` (tests/persistence/memory_file_ops.hpp models the power loss).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "persistence/crc32c.hpp"
#include "persistence/snapshot_directory.hpp"
#include "persistence/snapshot_file.hpp"
#include "tests/persistence/memory_file_ops.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace {

namespace ps = pmm::persistence;
using ps::testing::MemoryFileOps;
using ps::testing::TempDir;
using Bytes = std::vector<uint8_t>;

struct Block {
  uint16_t type;
  Bytes bytes;
  bool operator==(const Block&) const = default;
};

std::vector<Block> random_blocks(std::mt19937_64& rng, size_t count, size_t max_size) {
  std::vector<Block> out(count);
  for (Block& b : out) {
    b.type = static_cast<uint16_t>(rng());
    b.bytes.resize(rng() % (max_size + 1));
    for (auto& x : b.bytes) x = static_cast<uint8_t>(rng());
  }
  return out;
}

bool write_snapshot(ps::FileOps& fs, const std::string& path, uint64_t seq, uint64_t created,
                    const std::vector<Block>& blocks, std::string& error) {
  auto w = ps::SnapshotWriter::create(fs, path, seq, created, error);
  if (!w) return false;
  for (const Block& b : blocks) {
    if (!w->add_block(b.type, b.bytes.data(), b.bytes.size())) break;
  }
  if (!w->commit()) {
    error = w->error();
    return false;
  }
  return true;
}

// Reads every block the reader hands out; `complete` says whether it reached a valid footer.
std::vector<Block> read_all(ps::FileOps& fs, const std::string& path, bool& complete, ps::SnapshotDamage& damage,
                            ps::SnapshotInfo* info = nullptr) {
  std::vector<Block> out;
  complete = false;
  auto r = ps::SnapshotReader::open(fs, path, damage);
  if (!r) return out;
  if (info != nullptr) *info = r->info();
  ps::SnapshotBlockView v;
  while (r->next(v)) {
    EXPECT_EQ(v.index, out.size());
    out.push_back({v.type, Bytes(v.data, v.data + v.size)});
  }
  complete = r->complete();
  EXPECT_NE(r->complete(), r->failed());
  if (r->failed()) damage = r->damage();
  return out;
}

TEST(SnapshotFile, RandomBlockListsRoundTrip) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100; ++i) {
    // Up to 3 * the writer's buffer, so blocks cross the buffer and skip it.
    const auto blocks = random_blocks(rng, rng() % 20, i % 10 == 0 ? 3 * ps::SnapshotWriter::kBufferBytes : 300);
    const uint64_t seq = rng();
    const uint64_t created = rng();
    std::string error;
    ASSERT_TRUE(write_snapshot(fs, "/s/x.snapshot", seq, created, blocks, error)) << error;
    bool complete = false;
    ps::SnapshotDamage damage;
    ps::SnapshotInfo info;
    EXPECT_EQ(read_all(fs, "/s/x.snapshot", complete, damage, &info), blocks);
    EXPECT_TRUE(complete) << damage.to_string();
    EXPECT_EQ(info.sequence, seq);
    EXPECT_EQ(info.created_unix_ns, created);
    EXPECT_EQ(info.block_count, blocks.size());
    EXPECT_EQ(info.total_length, fs.contents("/s/x.snapshot").size());
    ps::SnapshotInfo vinfo;
    EXPECT_TRUE(ps::verify_snapshot_file(fs, "/s/x.snapshot", vinfo, damage)) << damage.to_string();
    EXPECT_EQ(vinfo.sequence, seq);
    EXPECT_FALSE(fs.exists("/s/x.snapshot.tmp"));
  }
}

TEST(SnapshotFile, RealFileSystemRoundTripWithALargeBlock) {
  TempDir dir;
  ps::PosixFileOps fs;
  std::mt19937_64 rng(12);
  std::vector<Block> blocks = random_blocks(rng, 5, 1000);
  blocks.push_back({7, Bytes(5u << 20, 0xA5)});  // 5 MiB: written straight, read into one buffer
  blocks.push_back({8, {}});
  const std::string path = dir.path() + "/00000000000000000005.snapshot";
  std::string error;
  ASSERT_TRUE(write_snapshot(fs, path, 5, 1, blocks, error)) << error;
  bool complete = false;
  ps::SnapshotDamage damage;
  EXPECT_EQ(read_all(fs, path, complete, damage), blocks);
  EXPECT_TRUE(complete) << damage.to_string();
}

// The layout of docs/snapshot-format.md, assembled here field by field.
TEST(SnapshotFile, LayoutMatchesTheDocs) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  std::string error;
  ASSERT_TRUE(write_snapshot(fs, "/s/a.snapshot", 0x1122334455667788ull, 0x0102030405060708ull,
                             {{0xBEEF, {'x', 'y'}}}, error))
      << error;
  auto be = [](Bytes& out, uint64_t v, int bytes) {
    for (int s = 8 * (bytes - 1); s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
  };
  const uint64_t total = 48 + 12 + 2 + 32;
  Bytes h = {'P', 'M', 'M', '-', 'S', 'N', 'A', 'P'};
  be(h, 1, 2);  // version
  be(h, 0, 2);
  be(h, 1, 4);  // block count
  be(h, 0x1122334455667788ull, 8);
  be(h, 0x0102030405060708ull, 8);
  be(h, total, 8);
  be(h, 0, 4);
  const uint32_t header_crc = ps::crc32c(h.data(), h.size());
  be(h, header_crc, 4);
  const uint32_t seed = ps::crc32c(h.data() + 16, 16);
  Bytes b;
  be(b, 2, 4);
  be(b, 0xBEEF, 2);
  be(b, 0, 2);
  b.push_back('x');
  b.push_back('y');
  Bytes crc_input(b.begin(), b.begin() + 8);
  crc_input.push_back('x');
  crc_input.push_back('y');
  const uint32_t block_crc = ps::crc32c(crc_input.data(), crc_input.size(), seed);
  b.insert(b.begin() + 8, {static_cast<uint8_t>(block_crc >> 24), static_cast<uint8_t>(block_crc >> 16),
                           static_cast<uint8_t>(block_crc >> 8), static_cast<uint8_t>(block_crc)});
  Bytes f = {'P', 'M', 'M', '-', 'S', 'E', 'N', 'D'};
  be(f, 0x1122334455667788ull, 8);
  be(f, total, 8);
  be(f, ps::crc32c(b.data() + 8, 4, seed), 4);
  be(f, ps::crc32c(f.data(), f.size(), header_crc), 4);
  Bytes expect = h;
  expect.insert(expect.end(), b.begin(), b.end());
  expect.insert(expect.end(), f.begin(), f.end());
  EXPECT_EQ(fs.contents("/s/a.snapshot"), expect);
}

// Property, exhaustive on a small file: all 255 non-zero xors at every offset, every truncation
// length and an appended byte are detected by verify and by the reader, with an offset inside the
// file; and the blocks the reader handed out before stopping are exactly the written ones.
TEST(SnapshotFile, EverySingleByteCorruptionAndTruncationIsDetected) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  const std::vector<Block> blocks = {{1, {}}, {2, {1, 2, 3, 4, 5}}, {0xFFFF, Bytes(17, 0x5A)}};
  std::string error;
  ASSERT_TRUE(write_snapshot(fs, "/s/a.snapshot", 42, 1000, blocks, error)) << error;
  const Bytes good = fs.contents("/s/a.snapshot");
  ASSERT_EQ(good.size(), 48u + 3 * 12 + 22 + 32);
  size_t failures = 0;
  std::string example;
  size_t cases = 0;
  auto check = [&](const Bytes& bad, const std::string& how) {
    ++cases;
    fs.put("/s/a.snapshot", bad);
    ps::SnapshotInfo info;
    ps::SnapshotDamage vd;
    const bool verified = ps::verify_snapshot_file(fs, "/s/a.snapshot", info, vd);
    bool complete = false;
    ps::SnapshotDamage rd;
    const std::vector<Block> got = read_all(fs, "/s/a.snapshot", complete, rd);
    const bool prefix = got.size() <= blocks.size() && std::equal(got.begin(), got.end(), blocks.begin());
    const bool ok = !verified && !complete && prefix && vd.offset <= bad.size() && rd.offset <= bad.size() &&
                    !vd.what.empty() && vd.path == "/s/a.snapshot";
    if (!ok && failures++ == 0) example = how + ": " + vd.to_string();
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
  EXPECT_EQ(cases, good.size() * 255 + good.size() + 1);
  EXPECT_EQ(failures, 0u) << example;
}

TEST(SnapshotFile, DamageReportsNameBlockOffsetAndCrcs) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  const std::vector<Block> blocks = {{1, Bytes(10, 1)}, {2, Bytes(10, 2)}, {3, Bytes(10, 3)}, {4, Bytes(10, 4)}};
  std::string error;
  ASSERT_TRUE(write_snapshot(fs, "/s/a.snapshot", 42, 1000, blocks, error)) << error;
  Bytes bad = fs.contents("/s/a.snapshot");
  const size_t block3 = 48 + 3 * 22;
  bad[block3 + 12 + 4] ^= 0x01;  // a payload byte of block 3
  fs.put("/s/a.snapshot", bad);
  ps::SnapshotInfo info;
  ps::SnapshotDamage d;
  ASSERT_FALSE(ps::verify_snapshot_file(fs, "/s/a.snapshot", info, d));
  EXPECT_EQ(d.offset, block3);
  EXPECT_NE(d.what.find("block 3 (type 4, 10 bytes) CRC mismatch: expected 0x"), std::string::npos) << d.what;
  EXPECT_NE(d.what.find(" found 0x"), std::string::npos) << d.what;
  EXPECT_EQ(d.to_string(), "/s/a.snapshot: " + d.what + " at offset " + std::to_string(block3));
  // The reader stops before block 3: blocks 0..2 come out intact, block 3 never does.
  bool complete = false;
  ps::SnapshotDamage rd;
  const std::vector<Block> got = read_all(fs, "/s/a.snapshot", complete, rd);
  EXPECT_EQ(got, std::vector<Block>(blocks.begin(), blocks.begin() + 3));
  EXPECT_FALSE(complete);

  bad = fs.contents("/s/a.snapshot");
  bad.resize(bad.size() - 1);
  fs.put("/s/a.snapshot", bad);
  ASSERT_FALSE(ps::verify_snapshot_file(fs, "/s/a.snapshot", info, d));
  EXPECT_NE(d.what.find("truncated"), std::string::npos) << d.what;
}

// Random bytes, and random bytes behind a valid header: never a crash, never "valid".
TEST(SnapshotFile, GarbageIsRejectedWithoutCrashing) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  std::string error;
  ASSERT_TRUE(write_snapshot(fs, "/s/a.snapshot", 1, 1, {{1, Bytes(100, 1)}}, error)) << error;
  const Bytes good = fs.contents("/s/a.snapshot");
  std::mt19937_64 rng(13);
  for (int i = 0; i < 3000; ++i) {
    Bytes bad(rng() % 400);
    for (auto& b : bad) b = static_cast<uint8_t>(rng());
    if (i % 2 == 0 && bad.size() >= 48) std::copy_n(good.begin(), 48, bad.begin());
    fs.put("/s/a.snapshot", bad);
    ps::SnapshotInfo info;
    ps::SnapshotDamage d;
    EXPECT_FALSE(ps::verify_snapshot_file(fs, "/s/a.snapshot", info, d));
    EXPECT_LE(d.offset, bad.size());
  }
}

TEST(SnapshotFile, OversizedBlockIsRefused) {
  MemoryFileOps fs;
  ASSERT_EQ(fs.make_dir("/s"), 0);
  std::string error;
  auto w = ps::SnapshotWriter::create(fs, "/s/a.snapshot", 1, 1, error);
  ASSERT_TRUE(w);
  const uint8_t byte = 0;
  // The size check comes before the data is touched, so one byte stands in for 256 MiB + 1.
  EXPECT_FALSE(w->add_block(1, &byte, ps::SnapshotFormat::kMaxBlockBytes + 1));
  EXPECT_NE(w->error().find("block limit"), std::string::npos) << w->error();
  EXPECT_FALSE(w->commit());
  w.reset();
  EXPECT_FALSE(fs.exists("/s/a.snapshot"));
  EXPECT_FALSE(fs.exists("/s/a.snapshot.tmp"));
}

// The calls a snapshot write makes (create .. commit), measured on a dry run.
uint64_t calls_of_a_write(const std::vector<Block>& blocks) {
  MemoryFileOps fs;
  EXPECT_EQ(fs.make_dir("/s"), 0);
  const uint64_t before = fs.calls();
  std::string error;
  EXPECT_TRUE(write_snapshot(fs, "/s/00000000000000000020.snapshot", 20, 2, blocks, error));
  EXPECT_EQ(fs.log.back(), "sync_dir /s");
  return fs.calls() - before;
}

// ENOSPC/EIO at each call of a write: reported with errno and path; the snapshot is absent or (a
// failed directory fsync) complete, never damaged; no temp file is left; the older snapshot is intact.
TEST(SnapshotFile, ErrorAtEveryCallOfAWriteLeavesNoDamagedSnapshot) {
  std::mt19937_64 rng(14);
  const std::vector<Block> blocks = random_blocks(rng, 6, 2 * ps::SnapshotWriter::kBufferBytes);
  const uint64_t n = calls_of_a_write(blocks);
  for (const int err : {ENOSPC, EIO}) {
    for (uint64_t k = 0; k < n; ++k) {
      SCOPED_TRACE(std::string(std::strerror(err)) + " at call " + std::to_string(k));
      MemoryFileOps fs;
      ASSERT_EQ(fs.make_dir("/s"), 0);
      ps::SnapshotDirectory dir(fs, "/s");
      std::string error;
      ASSERT_TRUE(write_snapshot(fs, dir.path_of(10), 10, 1, {{1, {1}}}, error));
      fs.fail_call(fs.calls() + k, err);
      EXPECT_FALSE(write_snapshot(fs, dir.path_of(20), 20, 2, blocks, error));
      EXPECT_NE(error.find(std::strerror(err)), std::string::npos) << error;
      EXPECT_NE(error.find("/s/"), std::string::npos) << error;
      EXPECT_FALSE(fs.exists(dir.path_of(20) + ".tmp"));
      const ps::SnapshotLoadResult r = dir.open_newest_valid();
      ASSERT_TRUE(r.reader);
      EXPECT_TRUE(r.skipped.empty()) << r.skipped[0].to_string();
      const bool last_call = k == n - 1;  // the directory fsync: the file is complete but not durable
      EXPECT_EQ(r.reader->info().sequence, last_call ? 20u : 10u);
    }
  }
}

// A crash before call k of a write, for every k, under each power-loss outcome: the newest valid
// snapshot is the old one or the complete new one, no `.snapshot` file is damaged, and a committed
// write survives every outcome.
TEST(SnapshotFile, CrashAtEveryCallOfAWriteLeavesOldOrNewComplete) {
  std::mt19937_64 rng(15);
  const std::vector<Block> blocks = random_blocks(rng, 6, 2 * ps::SnapshotWriter::kBufferBytes);
  const uint64_t n = calls_of_a_write(blocks);
  const bool outcomes[4][2] = {{true, true}, {false, false}, {true, false}, {false, true}};
  for (const auto& o : outcomes) {
    for (uint64_t k = 0; k <= n; ++k) {
      SCOPED_TRACE("crash at call " + std::to_string(k) + ", keep entries " + std::to_string(o[0]) +
                   ", keep data " + std::to_string(o[1]));
      MemoryFileOps fs;
      ASSERT_EQ(fs.make_dir("/s"), 0);
      ps::SnapshotDirectory dir(fs, "/s");
      std::string error;
      ASSERT_TRUE(write_snapshot(fs, dir.path_of(10), 10, 1, {{1, {1}}}, error));
      fs.crash_at_call(fs.calls() + k);
      const bool ok = write_snapshot(fs, dir.path_of(20), 20, 2, blocks, error);
      EXPECT_EQ(ok, k == n);
      fs.power_loss(o[0], o[1]);
      const ps::SnapshotLoadResult r = dir.open_newest_valid();
      ASSERT_TRUE(r.reader);
      EXPECT_TRUE(r.skipped.empty()) << r.skipped[0].to_string();
      const uint64_t seq = r.reader->info().sequence;
      EXPECT_TRUE(seq == 10 || seq == 20);
      if (ok) {
        EXPECT_EQ(seq, 20u);
      }
      if (seq == 20) {
        bool complete = false;
        ps::SnapshotDamage d;
        EXPECT_EQ(read_all(fs, dir.path_of(20), complete, d), blocks);
      }
    }
  }
}

}  // namespace
