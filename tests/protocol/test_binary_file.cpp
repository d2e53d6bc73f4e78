// BinaryFILE (shared/specs/binaryfile.txt): each message is "2 byte big-endian payload length | Payload";
// "A message of length zero is used to indicate the end of the session"; a file without it is
// incomplete. Files are written by hand here (length prefix byte by byte), read with BinaryFileReader,
// and BinaryFileWriter's output is compared with the same hand-built bytes.
#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/binary_file.hpp"

namespace {

using Bytes = std::vector<uint8_t>;
using pmm::BinaryFileReader;
using pmm::BinaryFileResult;
using pmm::BinaryFileWriter;

constexpr size_t kSmallestBuffer = 65538;  // one 65535-byte message plus its length field, rounded up

// Test-local BinaryFILE writer: length prefix written by hand, most significant byte first.
struct FileImage {
  Bytes bytes;
  std::vector<uint64_t> offsets;  // byte offset of each message's length field
  std::vector<Bytes> messages;

  void add(const Bytes& msg) {
    offsets.push_back(bytes.size());
    messages.push_back(msg);
    bytes.push_back(static_cast<uint8_t>(msg.size() >> 8));
    bytes.push_back(static_cast<uint8_t>(msg.size() & 0xFF));
    bytes.insert(bytes.end(), msg.begin(), msg.end());
  }
  void end_of_session() {
    bytes.push_back(0);
    bytes.push_back(0);
  }
};

// Content depends on the message index and the position, so a message read from the wrong place or a
// buffer seam that drops/duplicates a byte never matches.
Bytes message_body(size_t index, size_t len) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(index * 31 + i * 7 + (i >> 8));
  return b;
}

// A file in the gtest temp dir named after the running test, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name() + suffix;
    for (char& c : name)
      if (c == '/') c = '_';  // parameterized tests are named "Suite/Test/param"
    path_ = ::testing::TempDir() + "pmm_" + name + ".bin";
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void write(const Bytes& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path_;
  }
  Bytes read() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  std::string path_;
};

struct ReadBack {
  BinaryFileResult result;
  std::vector<Bytes> messages;
  std::vector<uint64_t> offsets;
};

ReadBack read_all(const std::string& path, size_t buffer_bytes = BinaryFileReader::kDefaultBuffer) {
  ReadBack r;
  std::string error;
  auto reader = BinaryFileReader::open(path, error, buffer_bytes);
  EXPECT_NE(reader, nullptr) << error;
  if (!reader) return r;
  r.result = reader->for_each([&](const uint8_t* msg, uint16_t len, uint64_t offset) {
    r.messages.emplace_back(msg, msg + len);
    r.offsets.push_back(offset);
    return true;
  });
  return r;
}

// True when `error` says "offset <n>" with nothing but a non-digit after n.
bool names_offset(const std::string& error, uint64_t n) {
  const std::string needle = "offset " + std::to_string(n);
  for (size_t at = error.find(needle); at != std::string::npos; at = error.find(needle, at + 1)) {
    const size_t after = at + needle.size();
    if (after == error.size() || !std::isdigit(static_cast<unsigned char>(error[after]))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

TEST(BinaryFileReader, RoundTripWithEndOfSession) {
  FileImage img;
  size_t i = 0;
  for (const size_t len : {1, 2, 12, 36, 50, 255, 256, 257, 1000, 65535, 3})
    img.add(message_body(i++, len));
  img.end_of_session();
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_TRUE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, img.messages.size());
  EXPECT_EQ(r.result.bytes, img.bytes.size());  // every byte, the end marker included
  EXPECT_EQ(r.messages, img.messages);
  EXPECT_EQ(r.offsets, img.offsets);
}

TEST(BinaryFileReader, ZeroLengthMessageEndsTheSession) {
  FileImage img;
  img.add(message_body(0, 20));
  img.add(message_body(1, 30));
  img.end_of_session();
  const uint64_t end_of_session_end = img.bytes.size();
  FileImage after;  // would be messages 3 and 4 if the reader went on
  after.add(message_body(2, 40));
  after.add(message_body(3, 5));
  img.bytes.insert(img.bytes.end(), after.bytes.begin(), after.bytes.end());
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_TRUE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 2u);
  EXPECT_EQ(r.result.bytes, end_of_session_end);
  EXPECT_EQ(r.messages, img.messages);
}

TEST(BinaryFileReader, FileWithoutEndMarkerIsIncompleteNotAnError) {
  FileImage img;
  for (size_t i = 0; i < 5; ++i) img.add(message_body(i, 10 + i));
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_FALSE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 5u);
  EXPECT_EQ(r.result.bytes, img.bytes.size());
  EXPECT_EQ(r.messages, img.messages);
}

TEST(BinaryFileReader, EmptyFile) {
  TempFile f;
  f.write({});
  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_FALSE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 0u);
  EXPECT_EQ(r.result.bytes, 0u);
}

TEST(BinaryFileReader, OnlyEndMarker) {
  TempFile f;
  f.write({0, 0});
  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_TRUE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 0u);
  EXPECT_EQ(r.result.bytes, 2u);
}

TEST(BinaryFileReader, TruncatedLengthFieldNamesItsOffset) {
  FileImage img;
  img.add(message_body(0, 10));
  img.add(message_body(1, 7));
  const uint64_t offset = img.bytes.size();  // 12 + 9 = 21
  ASSERT_EQ(offset, 21u);
  img.bytes.push_back(0x00);  // first byte of a length field, then EOF
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_TRUE(names_offset(r.result.error, offset)) << r.result.error;
  EXPECT_NE(r.result.error.find(f.path()), std::string::npos) << r.result.error;
  EXPECT_FALSE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 2u);  // everything before the damage is delivered
  EXPECT_EQ(r.messages, img.messages);
}

TEST(BinaryFileReader, TruncatedBodyNamesTheOffsetOfItsLengthField) {
  FileImage img;
  img.add(message_body(0, 36));
  const uint64_t offset = img.bytes.size();  // 38
  ASSERT_EQ(offset, 38u);
  img.bytes.push_back(0x01);
  img.bytes.push_back(0x00);  // says 256 bytes
  const Bytes partial = message_body(1, 100);
  img.bytes.insert(img.bytes.end(), partial.begin(), partial.end());
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_TRUE(names_offset(r.result.error, offset)) << r.result.error;
  EXPECT_FALSE(names_offset(r.result.error, offset + 2)) << "offset of the body, not of the length field";
  EXPECT_FALSE(r.result.end_of_session);
  EXPECT_EQ(r.result.messages, 1u);
}

TEST(BinaryFileReader, TruncationFarIntoTheFileNamesTheAbsoluteOffset) {
  // Past several refills of the smallest buffer: the offset must be the file's, not the buffer's.
  FileImage img;
  for (size_t i = 0; i < 12; ++i) img.add(message_body(i, 40000 + i));
  const uint64_t offset = img.bytes.size();
  ASSERT_GT(offset, 4 * kSmallestBuffer);
  img.bytes.push_back(0xFF);
  img.bytes.push_back(0xFF);
  img.bytes.push_back(0x41);  // 1 of 65535 bytes
  TempFile f;
  f.write(img.bytes);

  const ReadBack r = read_all(f.path(), kSmallestBuffer);
  EXPECT_TRUE(names_offset(r.result.error, offset)) << r.result.error;
  EXPECT_EQ(r.result.messages, 12u);
  EXPECT_EQ(r.messages, img.messages);
}

TEST(BinaryFileReader, StopsWhenCallbackReturnsFalse) {
  FileImage img;
  for (size_t i = 0; i < 10; ++i) img.add(message_body(i, 8));
  img.end_of_session();
  TempFile f;
  f.write(img.bytes);

  std::string error;
  auto reader = BinaryFileReader::open(f.path(), error);
  ASSERT_NE(reader, nullptr) << error;
  size_t calls = 0;
  const BinaryFileResult r = reader->for_each([&](const uint8_t*, uint16_t, uint64_t) { return ++calls < 3; });
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(r.messages, 3u);
  EXPECT_EQ(r.bytes, 3u * 10u);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.end_of_session);
}

TEST(BinaryFileReader, MissingFileIsAClearError) {
  const std::string path = ::testing::TempDir() + "pmm_no_such_dir/no_such_file.bin";
  std::string error;
  auto reader = BinaryFileReader::open(path, error);
  EXPECT_EQ(reader, nullptr);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(ENOENT)), std::string::npos) << error;
}

TEST(BinaryFileReader, DirectoryIsAReadErrorWithOffset) {
  std::string error;
  auto reader = BinaryFileReader::open(::testing::TempDir(), error);
  ASSERT_NE(reader, nullptr) << error;  // open(2) accepts a directory; read(2) fails with EISDIR
  const BinaryFileResult r = reader->for_each([](const uint8_t*, uint16_t, uint64_t) { return true; });
  EXPECT_NE(r.error.find("read failed"), std::string::npos) << r.error;
  EXPECT_TRUE(names_offset(r.error, 0)) << r.error;
  EXPECT_EQ(r.messages, 0u);
}

// ---------------------------------------------------------------------------------------------
// Messages straddling the reader's buffer: many messages of varied sizes, including runs of 65535-byte
// ones, read through buffers from the smallest allowed size up.

class BinaryFileBufferSeams : public ::testing::TestWithParam<size_t> {};

TEST_P(BinaryFileBufferSeams, EveryMessageIntactWithItsOffset) {
  std::mt19937 rng(20240601);
  FileImage img;
  size_t index = 0;
  auto add = [&](size_t len) { img.add(message_body(index++, len)); };
  for (int i = 0; i < 3; ++i) add(65535);  // back to back: one per buffer fill at the smallest size
  for (int i = 0; i < 400; ++i) {
    switch (rng() % 6) {
      case 0: add(65535); break;
      case 1: add(65534); break;
      case 2: add(1 + rng() % 64); break;
      case 3: add(1 + rng() % 2000); break;
      default: add(1 + rng() % 65535); break;
    }
  }
  add(1);
  img.end_of_session();
  TempFile f;
  f.write(img.bytes);

  std::string error;
  auto reader = BinaryFileReader::open(f.path(), error, GetParam());
  ASSERT_NE(reader, nullptr) << error;
  size_t n = 0;
  size_t mismatches = 0;
  const BinaryFileResult r = reader->for_each_fast([&](const uint8_t* msg, uint16_t len, uint64_t offset) {
    if (n >= img.messages.size()) {
      ++mismatches;
      return false;
    }
    const Bytes& want = img.messages[n];
    const bool same = len == want.size() && std::memcmp(msg, want.data(), len) == 0 && offset == img.offsets[n];
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << "message " << n << ": len " << len << " offset " << offset << ", want len " << want.size()
                    << " offset " << img.offsets[n];
    ++n;
    return true;
  });
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(n, img.messages.size());
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.end_of_session);
  EXPECT_EQ(r.messages, img.messages.size());
  EXPECT_EQ(r.bytes, img.bytes.size());
}

INSTANTIATE_TEST_SUITE_P(BufferSizes, BinaryFileBufferSeams,
                         ::testing::Values(kSmallestBuffer, kSmallestBuffer + 1, 100003,
                                           BinaryFileReader::kDefaultBuffer),
                         [](const ::testing::TestParamInfo<size_t>& p) { return "buffer_" + std::to_string(p.param); });

// ---------------------------------------------------------------------------------------------

TEST(BinaryFileWriter, WritesTheSpecLayoutAndReadsBack) {
  FileImage img;
  size_t i = 0;
  for (const size_t len : {1, 36, 256, 65535, 2}) img.add(message_body(i++, len));
  img.end_of_session();

  TempFile f;
  std::string error;
  {
    auto w = BinaryFileWriter::open(f.path(), error);
    ASSERT_NE(w, nullptr) << error;
    for (const Bytes& m : img.messages) ASSERT_TRUE(w->write(m.data(), static_cast<uint16_t>(m.size())));
    ASSERT_TRUE(w->write_end_of_session());
    ASSERT_TRUE(w->close(error)) << error;
  }
  EXPECT_EQ(f.read(), img.bytes);

  const ReadBack r = read_all(f.path());
  EXPECT_EQ(r.result.error, "");
  EXPECT_TRUE(r.result.end_of_session);
  EXPECT_EQ(r.messages, img.messages);
  EXPECT_EQ(r.offsets, img.offsets);
}

TEST(BinaryFileWriter, WithoutEndOfSessionTheFileIsIncomplete) {
  TempFile f;
  std::string error;
  const Bytes m = message_body(0, 12);
  {
    auto w = BinaryFileWriter::open(f.path(), error);
    ASSERT_NE(w, nullptr) << error;
    ASSERT_TRUE(w->write(m.data(), 12));
  }  // destructor closes
  FileImage img;
  img.add(m);
  EXPECT_EQ(f.read(), img.bytes);
  const ReadBack r = read_all(f.path());
  EXPECT_FALSE(r.result.end_of_session);
  EXPECT_EQ(r.result.error, "");
  EXPECT_EQ(r.result.messages, 1u);
}

TEST(BinaryFileWriter, OpenFailureNamesThePath) {
  const std::string path = ::testing::TempDir() + "pmm_no_such_dir/out.bin";
  std::string error;
  EXPECT_EQ(BinaryFileWriter::open(path, error), nullptr);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(ENOENT)), std::string::npos) << error;
}

}  // namespace
