// JournalWriter: appends records to memory-mapped, preallocated journal segments and makes them durable
// by group commit (docs/journal-format.md, docs/journal.md). One writer per journal directory, used by
// one thread (the journal core); durable_sequence(), failed() and error() may be read from any thread.
//
// append() writes into the mapping (no syscall). The group commit runs on the writer's own sync thread
// (journal_sync_thread.hpp): begin_sync() hands it the range appended since the last hand-over and
// returns at once; the sync thread msyncs it and then publishes the durable watermark; poll() appends
// the sync marker for it, so a reader can recover the watermark from disk. sync() is the same, waiting.
// On any write/sync/rollover error the writer fail-stops: failed() becomes true with the error text,
// the watermark never advances again, nothing is retried, later appends return 0.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <string>

#include "persistence/fail_stop_latch.hpp"
#include "persistence/journal_entry.hpp"
#include "persistence/journal_format.hpp"
#include "persistence/journal_sync_thread.hpp"
#include "persistence/journal_syscalls.hpp"

namespace pmm::persistence {

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

  // Group commit without waiting (the journal core's): hands every record appended since the last
  // hand-over to the sync thread, which msyncs the range (whole pages first, the partly written tail
  // page last) and then raises durable_sequence() to the last of them. No syscall here (a futex wake at
  // most). Returns false once failed. Nothing new appended: nothing handed over.
  bool begin_sync() noexcept;

  // Journal core, every pass: adopts a failure of the sync thread (later appends return 0) and, when
  // the watermark rose since the last sync marker, appends a marker "durable through W" (made durable
  // by the next sync). No syscall unless the marker fills the segment (rollover).
  void poll() noexcept;

  // Group commit, waiting: begin_sync(), wait until the sync thread is done, poll(). Every record
  // appended so far is durable when it returns true. Returns false (and fail-stops) on error. Cheap
  // when nothing is dirty.
  bool sync() noexcept;

  // sync(), then sync() again so the last marker is durable too, stops the sync thread, unmaps.
  // Idempotent.
  bool close() noexcept;

  // TEST ONLY: drops the mapping without any sync, as a crash would (the kernel still writes the pages
  // back later; tests then damage the file to simulate what a power loss leaves). A range already
  // being synced finishes first; one only handed over is dropped.
  void abandon() noexcept;

  uint64_t last_sequence() const noexcept { return last_sequence_; }
  // Highest sequence known durable (any thread).
  uint64_t durable_sequence() const noexcept { return durable_.load(std::memory_order_acquire); }
  const std::atomic<uint64_t>& durable_watermark() const noexcept { return durable_; }
  bool failed() const noexcept { return failure_.failed(); }
  // What failed: operation, errno text, file and offset. Read only after failed() returned true.
  const std::string& error() const noexcept { return failure_.error(); }

  const std::string& segment_path() const noexcept { return path_; }  // the segment being written
  uint64_t segment_offset() const noexcept { return pos_; }           // where the next record goes
  // Flushes that wrote something (incl. rollovers). Exact once the sync thread is idle (after sync()).
  uint64_t syncs() const noexcept { return syncs_ + (sync_thread_ ? sync_thread_->syncs() : 0); }
  uint64_t segments_created() const noexcept { return segments_created_; }
  // Set-up only (e.g. to pin it next to the journal core); null once closed.
  JournalSyncThread* sync_thread() noexcept { return sync_thread_.get(); }

 private:
  explicit JournalWriter(const JournalWriterOptions& options);
  uint64_t append_slow(uint16_t type, const void* payload, uint16_t length) noexcept;
  // Places a record of `size` bytes: pads the page if needed, rolls over when the segment cannot hold it
  // and the end record. Returns the offset, or UINT64_MAX after a failure.
  uint64_t place(uint32_t size) noexcept;
  bool write_internal(uint16_t type, const void* payload, uint16_t length) noexcept;
  bool flush_segment() noexcept;  // inline, on this thread: only while the sync thread is idle
  bool settle() noexcept;         // waits for the sync thread, adopts its failure; false if failed
  void stop_sync_thread(bool discard) noexcept;  // its count moves to syncs_
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
  uint64_t synced_pos_ = 0;   // bytes [0, synced_pos_) are durable, or handed to the sync thread

  uint64_t last_sequence_ = 0;
  uint64_t marker_sequence_ = 0;  // durable_through of the last sync marker written
  uint64_t syncs_ = 0;            // inline flushes (open, rollover), and the sync thread's once stopped
  uint64_t segments_created_ = 0;
  bool failed_local_ = false;     // the writer thread's copy of failure_ (no atomic load in append)
  bool crc_instruction_ = false;  // append_entries may use the SSE4.2 crc32 instruction
  bool closed_ = false;
  FailStopLatch failure_;         // shared with the sync thread
  std::atomic<uint64_t> durable_{0};
  std::unique_ptr<JournalSyncThread> sync_thread_;  // started by open(), stopped before any unmap
};

}  // namespace pmm::persistence
