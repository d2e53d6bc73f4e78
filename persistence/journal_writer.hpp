// JournalWriter: appends records to memory-mapped, preallocated journal segments and makes them durable
// by group commit (docs/journal-format.md, docs/journal.md). One writer per journal directory, used by
// one thread (the journal core); durable_sequence(), failed() and error() may be read from any thread.
//
// append() writes into the mapping (no syscall); sync() makes every appended record durable, publishes
// the durable watermark, then appends a sync marker so a reader can recover the watermark from disk.
// On any write/sync/rollover error the writer fail-stops: failed() becomes true with the error text,
// the watermark never advances again, nothing is retried, later appends return 0.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <string>

#include "persistence/journal_entry.hpp"
#include "persistence/journal_format.hpp"

namespace pmm::persistence {

// The system calls behind durability and rollover, as function pointers so a test can inject
// errors (tests/persistence). Production code never sets JournalWriterOptions::syscalls: TEST ONLY.
// Every function returns 0 or an errno value.
struct JournalSyscalls {
  int (*preallocate)(int fd, uint64_t bytes);  // posix_fallocate / F_PREALLOCATE + ftruncate
  int (*sync_range)(void* addr, size_t bytes);  // msync(MS_SYNC); addr OS-page aligned
  int (*sync_file)(int fd);                     // fdatasync (F_FULLFSYNC on macOS)
  int (*sync_dir)(const char* dir);             // fsync of the directory
};
const JournalSyscalls& real_journal_syscalls() noexcept;

struct JournalWriterOptions {
  std::string directory;                   // the journal directory (<dataDirectory>/journal); created if missing
  uint64_t segment_bytes = 64ull << 20;    // new segments; a multiple of 4096, >= kMinSegmentBytes
  uint64_t first_sequence = 1;             // of an empty journal
  const JournalSyscalls* syscalls = nullptr;  // TEST ONLY: nullptr = real_journal_syscalls()
};

class JournalWriter {
 public:
  // Opens the journal in options.directory: continues after its last record (in the last segment if it
  // has room, else in a new one), or starts a new journal at options.first_sequence. The journal must
  // verify Clean or be empty: a torn tail must be repaired first (repair_journal), damage before the
  // watermark refuses. Syncs what is already there, so durable_sequence() == last_sequence() on
  // return. Returns nullptr and sets error (naming the file) on failure.
  static std::unique_ptr<JournalWriter> open(const JournalWriterOptions& options, std::string& error);

  ~JournalWriter();  // close(); errors are left in error()
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends one record of a caller type (>= kFirstUserType) with length <= kMaxPayload bytes; returns its
  // sequence number, or 0 once the writer has failed. No syscall unless the segment is full (rollover).
  uint64_t append(uint16_t type, const void* payload, uint16_t length) noexcept {
    assert(journal::is_user_type(type) && length <= journal::kMaxPayload);
    const uint32_t size = journal::record_bytes(length);
    if (failed_local_ || size > journal::page_room(pos_) || pos_ + size > fast_limit_)
      return append_slow(type, payload, length);
    journal::encode_record(base_ + pos_, type, last_sequence_ + 1, payload, length, salt_);
    pos_ += size;
    return ++last_sequence_;
  }

  // The journal core's drain: appends entries[0..n) in order, the same records as n append() calls
  // (the first gets last_sequence() + 1), encoding each one (header, CRC32C, payload) straight from its
  // ring slot in one pass. Page and segment bounds are checked once per run of entries that certainly
  // fit, not per record. Returns how many were appended: n, or fewer once the writer has failed.
  size_t append_entries(const JournalEntry* entries, size_t n) noexcept;

  // Group commit: makes every record appended so far durable (msync of the dirty range: whole pages
  // first, the partly written tail page last), publishes durable_sequence(), then appends a sync marker
  // (made durable by the next sync). Returns false (and fail-stops) on error. Cheap when nothing is dirty.
  bool sync() noexcept;

  // sync(), then sync() again so the last marker is durable too, then unmaps. Idempotent.
  bool close() noexcept;

  // TEST ONLY: drops the mapping without any sync, as a crash would (the kernel still writes the pages
  // back later; tests then damage the file to simulate what a power loss leaves).
  void abandon() noexcept;

  uint64_t last_sequence() const noexcept { return last_sequence_; }
  // Highest sequence known durable (any thread).
  uint64_t durable_sequence() const noexcept { return durable_.load(std::memory_order_acquire); }
  const std::atomic<uint64_t>& durable_watermark() const noexcept { return durable_; }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  // What failed: operation, errno text, file and offset. Read only after failed() returned true.
  const std::string& error() const noexcept { return error_; }

  const std::string& segment_path() const noexcept { return path_; }  // the segment being written
  uint64_t segment_offset() const noexcept { return pos_; }           // where the next record goes
  uint64_t syncs() const noexcept { return syncs_; }  // flushes that wrote something (incl. rollovers)
  uint64_t segments_created() const noexcept { return segments_created_; }

 private:
  explicit JournalWriter(const JournalWriterOptions& options);
  uint64_t append_slow(uint16_t type, const void* payload, uint16_t length) noexcept;
  // Places a record of `size` bytes: pads the page if needed, rolls over when the segment cannot hold it
  // and the end record. Returns the offset, or UINT64_MAX after a failure.
  uint64_t place(uint32_t size) noexcept;
  bool write_internal(uint16_t type, const void* payload, uint16_t length) noexcept;
  bool flush_segment() noexcept;
  bool rollover() noexcept;
  bool create_segment(uint64_t first_sequence) noexcept;
  bool map_segment(int fd, const std::string& path, uint64_t bytes) noexcept;
  void prefault_for_writing() noexcept;
  void unmap_segment() noexcept;
  void fail(const char* what, int err, uint64_t offset) noexcept;
  void append_marker_if_due() noexcept;

  std::string directory_;
  uint64_t new_segment_bytes_;
  const JournalSyscalls* sys_;

  // The current segment.
  std::string path_;
  int fd_ = -1;
  uint8_t* base_ = nullptr;
  uint64_t segment_bytes_ = 0;
  uint32_t salt_ = 0;
  uint64_t pos_ = 0;          // next record offset
  uint64_t fast_limit_ = 0;   // records ending at or before this always leave room for the end record
  uint64_t synced_pos_ = 0;   // bytes [0, synced_pos_) are durable

  uint64_t last_sequence_ = 0;
  uint64_t marker_sequence_ = 0;  // durable_through of the last sync marker written
  uint64_t syncs_ = 0;
  uint64_t segments_created_ = 0;
  bool failed_local_ = false;     // the writer thread's copy of failed_ (no atomic load in append)
  bool crc_instruction_ = false;  // append_entries may use the SSE4.2 crc32 instruction
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> durable_{0};
  std::string error_;
};

}  // namespace pmm::persistence
