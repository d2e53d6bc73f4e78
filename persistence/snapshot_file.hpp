// One snapshot file: the appliance's full state at an exact journal sequence, as a list of typed
// opaque blocks (callers serialise books, orders, positions, risk state; this file only stores
// u16 type + bytes). docs/snapshot-format.md has the byte layout; every multi-byte field is
// big-endian.
//
//   header (48 B)  magic "PMM-SNAP", version, block count, sequence, creation time, total length, CRC
//   block  (12 B + payload)  length, type, CRC32C of the block header and payload
//   ...
//   footer (32 B)  magic "PMM-SEND", sequence, total length, CRC of the block CRCs, CRC
//
// The header's total length must equal the file size, so a truncation anywhere is caught before any
// block is read; every byte is under exactly one CRC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/file_ops.hpp"

namespace pmm::persistence {

struct SnapshotFormat {
  static constexpr size_t kHeaderBytes = 48;
  static constexpr size_t kBlockHeaderBytes = 12;
  static constexpr size_t kFooterBytes = 32;
  static constexpr uint16_t kVersion = 1;
  // Largest block payload: the reader holds one block in memory. Larger state is split by the caller
  // into several blocks (e.g. one per book).
  static constexpr size_t kMaxBlockBytes = 256u << 20;
};

struct SnapshotInfo {
  uint64_t sequence = 0;         // the journal sequence the state is at
  uint64_t created_unix_ns = 0;  // wall clock when the writer started
  uint32_t block_count = 0;
  uint64_t total_length = 0;     // file size in bytes
};

// Why a file is not a valid snapshot: which file, the byte offset of the failed check, what failed.
struct SnapshotDamage {
  std::string path;
  uint64_t offset = 0;
  std::string what;

  std::string to_string() const;  // "<path>: <what> at offset <offset>"
};

struct SnapshotBlockView {
  uint32_t index = 0;    // 0-based position in the file
  uint16_t type = 0;
  uint64_t offset = 0;   // file offset of the block header
  const uint8_t* data = nullptr;  // valid until the next call to next()
  size_t size = 0;
};

// Reads a snapshot block by block. Each block's CRC is checked before it is returned and the footer
// after the last one, so a caller that stops at the first damage never applies a bad block; a caller
// that must not apply anything from a damaged file runs verify_snapshot() first (SnapshotDirectory
// does). Reads only within the file's size and allocates at most one buffer of the largest block.
class SnapshotReader {
 public:
  // Opens the file and checks the header and the file size. nullptr (and `damage`) if either fails.
  static std::unique_ptr<SnapshotReader> open(FileOps& ops, const std::string& path,
                                              SnapshotDamage& damage);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const SnapshotInfo& info() const noexcept { return info_; }
  const std::string& path() const noexcept { return path_; }

  // The next block. false at the end of the file, or at the first damage: then failed() is true and
  // damage() says what. After the last block, false with complete() true: the footer checked out.
  bool next(SnapshotBlockView& block);
  bool complete() const noexcept { return complete_; }
  bool failed() const noexcept { return failed_; }
  const SnapshotDamage& damage() const noexcept { return damage_; }

 private:
  friend bool verify_snapshot_file(FileOps&, const std::string&, SnapshotInfo&, SnapshotDamage&);
  SnapshotReader(FileOps& ops, std::string path, int fd);
  bool fail(uint64_t offset, std::string what);
  bool read_exact(void* p, size_t n, uint64_t at);  // at: offset for the error message
  bool check_footer();
  bool next_block(SnapshotBlockView& block, bool keep_payload);

  FileOps& ops_;
  std::string path_;
  int fd_;
  SnapshotInfo info_;
  uint32_t header_crc_ = 0;
  uint32_t block_seed_ = 0;     // CRC32C of the header's sequence and creation time
  uint32_t block_crcs_crc_ = 0; // running CRC over the block CRCs, checked against the footer
  uint32_t next_index_ = 0;
  uint64_t offset_ = 0;         // file offset of the next unread byte
  bool complete_ = false;
  bool failed_ = false;
  SnapshotDamage damage_;
  std::vector<uint8_t> buffer_;
};

// Checks every byte of a snapshot without keeping any block (a bounded 64 KiB buffer): true and
// `info` when valid, else false and `damage`.
bool verify_snapshot_file(FileOps& ops, const std::string& path, SnapshotInfo& info,
                          SnapshotDamage& damage);

// Writes a snapshot to `<final_path>.tmp` through a bounded buffer and makes it `<final_path>` on
// commit(): header and footer, fsync, rename, fsync of the directory. Until commit() returns true the
// final path is untouched; destroying an uncommitted writer removes the temp file. Slow work for the
// journal core or a helper thread, never the hot path.
class SnapshotWriter {
 public:
  static constexpr size_t kBufferBytes = 64u << 10;

  static std::unique_ptr<SnapshotWriter> create(FileOps& ops, std::string final_path, uint64_t sequence,
                                                uint64_t created_unix_ns, std::string& error);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends a block (n <= SnapshotFormat::kMaxBlockBytes, else false). Payloads up to the buffer
  // size are copied into it; larger ones are written straight from `data`. No allocation.
  bool add_block(uint16_t type, const uint8_t* data, size_t n);
  // Makes the file durable under its final name. false (and error()) on any failure; a failed
  // directory fsync leaves the complete file in place without a durability guarantee.
  bool commit();

  const std::string& error() const noexcept { return error_; }
  const std::string& final_path() const noexcept { return final_path_; }
  const std::string& temp_path() const noexcept { return temp_path_; }
  uint32_t block_count() const noexcept { return block_count_; }

 private:
  SnapshotWriter(FileOps& ops, std::string final_path, int fd, uint64_t sequence, uint64_t created_unix_ns);
  bool put(const void* p, size_t n);  // through the buffer
  bool flush();
  bool fail(const char* step, const std::string& on, int err);

  FileOps& ops_;
  std::string final_path_;
  std::string temp_path_;
  int fd_;
  uint64_t sequence_;
  uint64_t created_unix_ns_;
  uint32_t block_seed_;
  uint32_t block_crcs_crc_ = 0;
  uint32_t block_count_ = 0;
  uint64_t length_ = 0;  // bytes appended so far (including the placeholder header)
  bool failed_ = false;
  bool renamed_ = false;
  bool committed_ = false;
  std::string error_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t used_ = 0;
};

}  // namespace pmm::persistence
