// SnapshotDirectory on the real file system: names, fallback to an older snapshot when newer ones are
// damaged (with the reason), retention of exactly the newest N valid ones, temp files ignored and
// removed.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "persistence/snapshot_directory.hpp"
#include "tests/persistence/temp_dir.hpp"

namespace {

namespace ps = pmm::persistence;
using ps::testing::TempDir;
using Bytes = std::vector<uint8_t>;

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A snapshot at `seq` whose single block says which sequence it is.
void write(ps::SnapshotDirectory& dir, uint64_t seq) {
  std::string error;
  auto w = dir.begin(seq, 1000 + seq, error);
  ASSERT_TRUE(w) << error;
  const Bytes tag = {static_cast<uint8_t>(seq), 0xEE};
  ASSERT_TRUE(w->add_block(9, Bytes(300, 1).data(), 300));
  ASSERT_TRUE(w->add_block(7, tag.data(), tag.size()));
  ASSERT_TRUE(w->commit()) << w->error();
}

std::vector<uint64_t> sequences(const ps::SnapshotDirectory& dir) {
  std::vector<ps::SnapshotFileEntry> files;
  std::string error;
  EXPECT_TRUE(dir.list(files, error)) << error;
  std::vector<uint64_t> out;
  for (const auto& f : files) out.push_back(f.sequence);
  return out;
}

TEST(SnapshotDirectory, FileNames) {
  EXPECT_EQ(ps::SnapshotDirectory::file_name(42), "00000000000000000042.snapshot");
  EXPECT_EQ(ps::SnapshotDirectory::file_name(UINT64_MAX), "18446744073709551615.snapshot");
  uint64_t seq = 0;
  EXPECT_TRUE(ps::SnapshotDirectory::parse_file_name("00000000000000000042.snapshot", seq));
  EXPECT_EQ(seq, 42u);
  EXPECT_TRUE(ps::SnapshotDirectory::parse_file_name("18446744073709551615.snapshot", seq));
  EXPECT_EQ(seq, UINT64_MAX);
  for (const char* bad : {"18446744073709551616.snapshot", "0000000000000000042.snapshot",
                          "000000000000000000042.snapshot", "0000000000000000004x.snapshot",
                          "00000000000000000042.snapshot.tmp", "00000000000000000042.snap",
                          "00000000000000000042.snapshotx", ".snapshot", ""}) {
    EXPECT_FALSE(ps::SnapshotDirectory::parse_file_name(bad, seq)) << bad;
  }
}

TEST(SnapshotDirectory, NewestValidWithFallbackAndReasons) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::SnapshotDirectory dir(fs, tmp.path());
  EXPECT_FALSE(dir.open_newest_valid().reader);  // empty directory: nothing to load, nothing skipped
  for (uint64_t s : {10, 20, 30}) write(dir, s);

  ps::SnapshotLoadResult r = dir.open_newest_valid();
  ASSERT_TRUE(r.reader);
  EXPECT_EQ(r.reader->info().sequence, 30u);
  EXPECT_TRUE(r.skipped.empty());

  // One byte of 30's second block: fall back to 20, saying why 30 was skipped.
  Bytes b30 = read_file(dir.path_of(30));
  const size_t block1 = 48 + 12 + 300;
  b30[block1 + 12] ^= 0x40;
  write_file(dir.path_of(30), b30);
  r = dir.open_newest_valid();
  ASSERT_TRUE(r.reader);
  EXPECT_EQ(r.reader->info().sequence, 20u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].path, dir.path_of(30));
  EXPECT_EQ(r.skipped[0].offset, block1);
  EXPECT_NE(r.skipped[0].what.find("block 1 (type 7, 2 bytes) CRC mismatch"), std::string::npos)
      << r.skipped[0].to_string();
  // The reader yields 20's blocks.
  ps::SnapshotBlockView v;
  ASSERT_TRUE(r.reader->next(v));
  ASSERT_TRUE(r.reader->next(v));
  ASSERT_EQ(v.size, 2u);
  EXPECT_EQ(v.data[0], 20);
  EXPECT_FALSE(r.reader->next(v));
  EXPECT_TRUE(r.reader->complete());

  // 20 truncated too: fall back to 10.
  Bytes b20 = read_file(dir.path_of(20));
  b20.resize(b20.size() - 5);
  write_file(dir.path_of(20), b20);
  r = dir.open_newest_valid();
  ASSERT_TRUE(r.reader);
  EXPECT_EQ(r.reader->info().sequence, 10u);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[1].path, dir.path_of(20));
  EXPECT_NE(r.skipped[1].what.find("truncated"), std::string::npos) << r.skipped[1].to_string();

  // All damaged: no reader, three reasons.
  write_file(dir.path_of(10), Bytes(10, 0));
  r = dir.open_newest_valid();
  EXPECT_FALSE(r.reader);
  EXPECT_EQ(r.skipped.size(), 3u);
  EXPECT_TRUE(r.error.empty());
}

// A valid file under another sequence's name is damaged: recovery must not replay the journal from
// the wrong place.
TEST(SnapshotDirectory, HeaderSequenceMustMatchTheName) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::SnapshotDirectory dir(fs, tmp.path());
  write(dir, 10);
  write_file(dir.path_of(40), read_file(dir.path_of(10)));
  const ps::SnapshotLoadResult r = dir.open_newest_valid();
  ASSERT_TRUE(r.reader);
  EXPECT_EQ(r.reader->info().sequence, 10u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].what.find("header says sequence 10 but the file name says 40"), std::string::npos);
}

TEST(SnapshotDirectory, RetentionKeepsExactlyTheNewestNValid) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::SnapshotDirectory dir(fs, tmp.path());
  std::vector<uint64_t> expect;
  for (uint64_t s = 1; s <= 8; ++s) {
    write(dir, s * 100);
    const ps::SnapshotPruneResult p = dir.prune(3);
    EXPECT_TRUE(p.errors.empty());
    expect.push_back(s * 100);
    if (expect.size() > 3) expect.erase(expect.begin());
    EXPECT_EQ(sequences(dir), expect);
  }
  // A damaged newest file is not counted (and is kept for inspection): 3 valid ones stay behind it.
  write(dir, 900);
  write_file(dir.path_of(900), Bytes(100, 0));
  write(dir, 850);
  const ps::SnapshotPruneResult p = dir.prune(3);
  EXPECT_EQ(p.deleted, std::vector<std::string>{dir.path_of(600)});
  EXPECT_EQ(sequences(dir), (std::vector<uint64_t>{700, 800, 850, 900}));
  EXPECT_EQ(dir.prune(1).deleted.size(), 2u);
  EXPECT_EQ(sequences(dir), (std::vector<uint64_t>{850, 900}));
}

TEST(SnapshotDirectory, TempFilesAreIgnoredAndRemoved) {
  TempDir tmp;
  ps::PosixFileOps fs;
  ps::SnapshotDirectory dir(fs, tmp.path());
  write(dir, 10);
  // What a crash mid-write leaves: a temp file, possibly a complete one with a higher sequence.
  write_file(dir.path_of(20) + ".tmp", read_file(dir.path_of(10)));
  write_file(tmp.path() + "/notes.txt", {'x'});
  EXPECT_EQ(sequences(dir), std::vector<uint64_t>{10});
  const ps::SnapshotLoadResult r = dir.open_newest_valid();
  ASSERT_TRUE(r.reader);
  EXPECT_EQ(r.reader->info().sequence, 10u);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(dir.prune(1).deleted.size(), 0u);
  std::vector<std::string> errors;
  EXPECT_EQ(dir.remove_temp_files(errors), std::vector<std::string>{dir.path_of(20) + ".tmp"});
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(read_file(dir.path_of(20) + ".tmp").empty());
  EXPECT_EQ(read_file(tmp.path() + "/notes.txt"), Bytes{'x'});  // not ours: left alone
}

}  // namespace
