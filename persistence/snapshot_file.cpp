#include "persistence/snapshot_file.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "core/byte_order.hpp"
#include "persistence/crc32c.hpp"

namespace pmm::persistence {
namespace {

constexpr char kHeaderMagic[8] = {'P', 'M', 'M', '-', 'S', 'N', 'A', 'P'};
constexpr char kFooterMagic[8] = {'P', 'M', 'M', '-', 'S', 'E', 'N', 'D'};
constexpr size_t kVerifyChunk = 64u << 10;

// Header field offsets.
constexpr size_t kHVersion = 8, kHReserved16 = 10, kHBlockCount = 12, kHSequence = 16, kHCreated = 24,
                 kHTotal = 32, kHReserved32 = 40, kHCrc = 44;
// Footer field offsets.
constexpr size_t kFSequence = 8, kFTotal = 16, kFBlockCrcs = 24, kFCrc = 28;

static_assert(kHCrc + 4 == SnapshotFormat::kHeaderBytes);
static_assert(kFCrc + 4 == SnapshotFormat::kFooterBytes);

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

// Block CRCs are seeded with the CRC of the header's sequence and creation time, so a block copied
// from another snapshot fails its check even when its bytes are intact.
uint32_t block_seed_of(const uint8_t* header) { return crc32c(header + kHSequence, 16); }

// The footer's "CRC of the block CRCs" folds in each block's CRC as 4 big-endian bytes.
uint32_t fold_block_crc(uint32_t running, uint32_t block_crc) {
  uint8_t b[4];
  store_be32(b, block_crc);
  return crc32c(b, sizeof b, running);
}

}  // namespace

std::string SnapshotDamage::to_string() const {
  return path + ": " + what + " at offset " + std::to_string(offset);
}

// ---- reader ----

SnapshotReader::SnapshotReader(FileOps& ops, std::string path, int fd)
    : ops_(ops), path_(std::move(path)), fd_(fd) {}

SnapshotReader::~SnapshotReader() {
  if (fd_ >= 0) ops_.close(fd_);
}

bool SnapshotReader::fail(uint64_t offset, std::string what) {
  failed_ = true;
  damage_ = SnapshotDamage{path_, offset, std::move(what)};
  return false;
}

bool SnapshotReader::read_exact(void* p, size_t n, uint64_t at) {
  size_t got = 0;
  if (const int err = ops_.read(fd_, p, n, got); err != 0) {
    return fail(at, std::string("read failed: ") + std::strerror(err));
  }
  if (got != n) return fail(at + got, "unexpected end of file (the file shrank while being read)");
  return true;
}

std::unique_ptr<SnapshotReader> SnapshotReader::open(FileOps& ops, const std::string& path,
                                                     SnapshotDamage& damage) {
  constexpr size_t kMinSize = SnapshotFormat::kHeaderBytes + SnapshotFormat::kFooterBytes;
  int fd = -1;
  if (const int err = ops.open_read(path, fd); err != 0) {
    damage = SnapshotDamage{path, 0, std::string("cannot open: ") + std::strerror(err)};
    return nullptr;
  }
  std::unique_ptr<SnapshotReader> r(new SnapshotReader(ops, path, fd));
  auto bad = [&](uint64_t offset, std::string what) {
    r->fail(offset, std::move(what));
    damage = r->damage_;
    return nullptr;
  };
  uint64_t size = 0;
  if (const int err = ops.file_size(fd, size); err != 0) {
    return bad(0, std::string("cannot stat: ") + std::strerror(err));
  }
  if (size < kMinSize) {
    return bad(size, "truncated: the file is " + std::to_string(size) +
                         " bytes, less than a header and a footer (" + std::to_string(kMinSize) + ")");
  }
  uint8_t h[SnapshotFormat::kHeaderBytes];
  if (!r->read_exact(h, sizeof h, 0)) {
    damage = r->damage_;
    return nullptr;
  }
  if (std::memcmp(h, kHeaderMagic, sizeof kHeaderMagic) != 0) {
    return bad(0, "bad header magic (not a snapshot)");
  }
  const uint32_t stored = load_be32(h + kHCrc);
  const uint32_t computed = crc32c(h, kHCrc);
  if (stored != computed) {
    return bad(kHCrc, "header CRC mismatch: expected " + hex32(computed) + " found " + hex32(stored));
  }
  const uint16_t version = load_be16(h + kHVersion);
  if (version != SnapshotFormat::kVersion) {
    return bad(kHVersion, "unsupported snapshot version " + std::to_string(version) + " (this build reads " +
                              std::to_string(SnapshotFormat::kVersion) + ")");
  }
  if (load_be16(h + kHReserved16) != 0) return bad(kHReserved16, "header reserved field is not zero");
  if (load_be32(h + kHReserved32) != 0) return bad(kHReserved32, "header reserved field is not zero");
  SnapshotInfo& info = r->info_;
  info.block_count = load_be32(h + kHBlockCount);
  info.sequence = load_be64(h + kHSequence);
  info.created_unix_ns = load_be64(h + kHCreated);
  info.total_length = load_be64(h + kHTotal);
  if (info.total_length != size) {
    return bad(std::min(size, info.total_length),
               "the header says the file is " + std::to_string(info.total_length) + " bytes but it is " +
                   std::to_string(size) + (size < info.total_length ? " (truncated)" : " (extended)"));
  }
  if (uint64_t{info.block_count} * SnapshotFormat::kBlockHeaderBytes > size - kMinSize) {
    return bad(kHBlockCount, std::to_string(info.block_count) + " blocks cannot fit in " +
                                 std::to_string(size) + " bytes");
  }
  r->header_crc_ = stored;
  r->block_seed_ = block_seed_of(h);
  r->block_crcs_crc_ = r->block_seed_;
  r->offset_ = SnapshotFormat::kHeaderBytes;
  return r;
}

bool SnapshotReader::next(SnapshotBlockView& block) { return next_block(block, true); }

bool SnapshotReader::next_block(SnapshotBlockView& block, bool keep_payload) {
  if (complete_ || failed_) return false;
  const uint64_t body_end = info_.total_length - SnapshotFormat::kFooterBytes;
  if (next_index_ == info_.block_count) {
    if (offset_ != body_end) {
      return fail(offset_, std::to_string(body_end - offset_) +
                               " bytes between the last block and the footer (block count " +
                               std::to_string(info_.block_count) + " too small?)");
    }
    if (check_footer()) complete_ = true;
    return false;
  }
  const std::string name = "block " + std::to_string(next_index_);
  if (body_end - offset_ < SnapshotFormat::kBlockHeaderBytes) {
    return fail(offset_, name + ": its header does not fit before the footer (" +
                             std::to_string(body_end - offset_) + " bytes left)");
  }
  const uint64_t at = offset_;
  uint8_t bh[SnapshotFormat::kBlockHeaderBytes];
  if (!read_exact(bh, sizeof bh, at)) return false;
  const uint32_t length = load_be32(bh);
  const uint16_t type = load_be16(bh + 4);
  const uint32_t stored = load_be32(bh + 8);
  const uint64_t room = body_end - at - SnapshotFormat::kBlockHeaderBytes;
  if (length > room) {
    return fail(at, name + ": length field says " + std::to_string(length) + " bytes but " +
                        std::to_string(room) + " remain before the footer");
  }
  if (length > SnapshotFormat::kMaxBlockBytes) {
    return fail(at, name + ": length " + std::to_string(length) + " exceeds the " +
                        std::to_string(SnapshotFormat::kMaxBlockBytes) + "-byte block limit");
  }
  uint32_t crc = crc32c(bh, 8, block_seed_);
  const uint64_t payload_at = at + SnapshotFormat::kBlockHeaderBytes;
  if (keep_payload) {
    if (buffer_.size() < length) buffer_.resize(length);  // grows to the largest block, never shrinks
    if (!read_exact(buffer_.data(), length, payload_at)) return false;
    crc = crc32c(buffer_.data(), length, crc);
  } else {
    if (buffer_.size() < kVerifyChunk) buffer_.resize(kVerifyChunk);
    for (size_t done = 0; done < length;) {
      const size_t n = std::min<size_t>(kVerifyChunk, length - done);
      if (!read_exact(buffer_.data(), n, payload_at + done)) return false;
      crc = crc32c(buffer_.data(), n, crc);
      done += n;
    }
  }
  if (crc != stored) {
    return fail(at, name + " (type " + std::to_string(type) + ", " + std::to_string(length) +
                        " bytes) CRC mismatch: expected " + hex32(crc) + " found " + hex32(stored));
  }
  if (load_be16(bh + 6) != 0) return fail(at + 6, name + ": reserved field is not zero");
  block_crcs_crc_ = fold_block_crc(block_crcs_crc_, stored);
  block.index = next_index_;
  block.type = type;
  block.offset = at;
  block.data = keep_payload ? buffer_.data() : nullptr;
  block.size = length;
  offset_ = payload_at + length;
  ++next_index_;
  return true;
}

bool SnapshotReader::check_footer() {
  const uint64_t at = offset_;
  uint8_t f[SnapshotFormat::kFooterBytes];
  if (!read_exact(f, sizeof f, at)) return false;
  if (std::memcmp(f, kFooterMagic, sizeof kFooterMagic) != 0) return fail(at, "bad footer magic");
  const uint32_t stored = load_be32(f + kFCrc);
  const uint32_t computed = crc32c(f, kFCrc, header_crc_);
  if (stored != computed) {
    return fail(at + kFCrc, "footer CRC mismatch: expected " + hex32(computed) + " found " + hex32(stored));
  }
  if (load_be64(f + kFSequence) != info_.sequence) {
    return fail(at + kFSequence, "footer sequence " + std::to_string(load_be64(f + kFSequence)) +
                                     " differs from the header's " + std::to_string(info_.sequence));
  }
  if (load_be64(f + kFTotal) != info_.total_length) {
    return fail(at + kFTotal, "footer total length " + std::to_string(load_be64(f + kFTotal)) +
                                  " differs from the header's " + std::to_string(info_.total_length));
  }
  if (load_be32(f + kFBlockCrcs) != block_crcs_crc_) {
    return fail(at + kFBlockCrcs, "CRC of the block CRCs mismatch: expected " + hex32(block_crcs_crc_) +
                                      " found " + hex32(load_be32(f + kFBlockCrcs)));
  }
  return true;
}

bool verify_snapshot_file(FileOps& ops, const std::string& path, SnapshotInfo& info,
                          SnapshotDamage& damage) {
  std::unique_ptr<SnapshotReader> r = SnapshotReader::open(ops, path, damage);
  if (!r) return false;
  SnapshotBlockView b;
  while (r->next_block(b, false)) {
  }
  if (!r->complete()) {
    damage = r->damage();
    return false;
  }
  info = r->info();
  return true;
}

// ---- writer ----

SnapshotWriter::SnapshotWriter(FileOps& ops, std::string final_path, int fd, uint64_t sequence,
                               uint64_t created_unix_ns)
    : ops_(ops),
      final_path_(std::move(final_path)),
      temp_path_(final_path_ + ".tmp"),
      fd_(fd),
      sequence_(sequence),
      created_unix_ns_(created_unix_ns),
      buf_(new uint8_t[kBufferBytes]) {
  uint8_t h[SnapshotFormat::kHeaderBytes] = {};
  store_be64(h + kHSequence, sequence_);
  store_be64(h + kHCreated, created_unix_ns_);
  block_seed_ = block_seed_of(h);
  block_crcs_crc_ = block_seed_;
}

std::unique_ptr<SnapshotWriter> SnapshotWriter::create(FileOps& ops, std::string final_path,
                                                       uint64_t sequence, uint64_t created_unix_ns,
                                                       std::string& error) {
  const std::string temp = final_path + ".tmp";
  int fd = -1;
  if (const int err = ops.open_write(temp, fd); err != 0) {
    error = describe_errno("create", temp, err);
    return nullptr;
  }
  std::unique_ptr<SnapshotWriter> w(
      new SnapshotWriter(ops, std::move(final_path), fd, sequence, created_unix_ns));
  // The header is written last (it holds the block count and length); until then, zeros, which no
  // reader accepts.
  const uint8_t placeholder[SnapshotFormat::kHeaderBytes] = {};
  if (!w->put(placeholder, sizeof placeholder)) {
    error = w->error_;
    return nullptr;  // the destructor removes the temp file
  }
  return w;
}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ >= 0) ops_.close(fd_);
  if (!renamed_) ops_.unlink(temp_path_);
}

bool SnapshotWriter::fail(const char* step, const std::string& on, int err) {
  failed_ = true;
  error_ = describe_errno(step, on, err) + " (snapshot " + final_path_ + " not written)";
  return false;
}

bool SnapshotWriter::flush() {
  if (used_ == 0) return true;
  if (const int err = ops_.write_all(fd_, buf_.get(), used_); err != 0) return fail("write", temp_path_, err);
  used_ = 0;
  return true;
}

bool SnapshotWriter::put(const void* p, size_t n) {
  if (n > kBufferBytes - used_ && !flush()) return false;
  if (n > kBufferBytes) {  // larger than the whole buffer: straight from the caller's memory
    if (const int err = ops_.write_all(fd_, p, n); err != 0) return fail("write", temp_path_, err);
  } else {
    std::memcpy(buf_.get() + used_, p, n);
    used_ += n;
  }
  length_ += n;
  return true;
}

bool SnapshotWriter::add_block(uint16_t type, const uint8_t* data, size_t n) {
  assert(!committed_ && !renamed_);
  assert(data != nullptr || n == 0);
  if (failed_) return false;
  if (n > SnapshotFormat::kMaxBlockBytes) {
    failed_ = true;
    error_ = final_path_ + ": block " + std::to_string(block_count_) + " of " + std::to_string(n) +
             " bytes exceeds the " + std::to_string(SnapshotFormat::kMaxBlockBytes) + "-byte block limit";
    return false;
  }
  assert(block_count_ < UINT32_MAX);
  uint8_t bh[SnapshotFormat::kBlockHeaderBytes];
  store_be32(bh, static_cast<uint32_t>(n));
  store_be16(bh + 4, type);
  store_be16(bh + 6, 0);
  uint32_t crc = crc32c(bh, 8, block_seed_);
  crc = crc32c(data, n, crc);
  store_be32(bh + 8, crc);
  if (!put(bh, sizeof bh) || !put(data, n)) return false;
  block_crcs_crc_ = fold_block_crc(block_crcs_crc_, crc);
  ++block_count_;
  return true;
}

bool SnapshotWriter::commit() {
  assert(!committed_ && !renamed_);
  if (failed_) return false;
  const uint64_t total = length_ + SnapshotFormat::kFooterBytes;

  uint8_t h[SnapshotFormat::kHeaderBytes] = {};
  std::memcpy(h, kHeaderMagic, sizeof kHeaderMagic);
  store_be16(h + kHVersion, SnapshotFormat::kVersion);
  store_be32(h + kHBlockCount, block_count_);
  store_be64(h + kHSequence, sequence_);
  store_be64(h + kHCreated, created_unix_ns_);
  store_be64(h + kHTotal, total);
  const uint32_t header_crc = crc32c(h, kHCrc);
  store_be32(h + kHCrc, header_crc);

  uint8_t f[SnapshotFormat::kFooterBytes] = {};
  std::memcpy(f, kFooterMagic, sizeof kFooterMagic);
  store_be64(f + kFSequence, sequence_);
  store_be64(f + kFTotal, total);
  store_be32(f + kFBlockCrcs, block_crcs_crc_);
  store_be32(f + kFCrc, crc32c(f, kFCrc, header_crc));

  if (!put(f, sizeof f) || !flush()) return false;
  assert(length_ == total);
  if (const int err = ops_.write_at(fd_, 0, h, sizeof h); err != 0) return fail("write", temp_path_, err);
  // After a failed fsync the kernel may have dropped the dirty pages: the file is abandoned.
  if (const int err = ops_.sync(fd_); err != 0) return fail("fsync", temp_path_, err);
  const int fd = fd_;
  fd_ = -1;
  if (const int err = ops_.close(fd); err != 0) return fail("close", temp_path_, err);
  if (const int err = ops_.rename(temp_path_, final_path_); err != 0) {
    return fail("rename", temp_path_ + " -> " + final_path_, err);
  }
  renamed_ = true;
  const std::string dir = parent_dir(final_path_);
  if (const int err = ops_.sync_dir(dir); err != 0) {
    failed_ = true;
    error_ = describe_errno("fsync directory", dir, err) + " (snapshot " + final_path_ +
             " is complete but may not survive a power loss)";
    return false;
  }
  committed_ = true;
  return true;
}

}  // namespace pmm::persistence
