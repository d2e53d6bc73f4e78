#include "persistence/journal_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "persistence/journal_reader.hpp"

namespace pmm::persistence {

namespace j = journal;

namespace {

// The largest record an entry makes (60-byte payload): k entries never take more than k times this.
constexpr uint32_t kMaxEntryRecordBytes = j::record_bytes(JournalEntry::kMaxPayload);

// Encodes entries[0..k) as consecutive records from `at` (zeros, within one page) with sequences from
// `sequence`; returns the bytes written.
uint64_t encode_entries_portable(uint8_t* at, const JournalEntry* entries, size_t k, uint64_t sequence,
                                 uint32_t salt) noexcept {
  uint64_t off = 0;
  for (size_t i = 0; i < k; ++i) {
    const JournalEntry& e = entries[i];
    assert(j::is_user_type(e.type) && e.length <= JournalEntry::kMaxPayload);
    j::encode_record(at + off, e.type, sequence + i, e.payload, e.length, salt);
    off += j::record_bytes(e.length);
  }
  return off;
}

#if defined(__x86_64__)
// The same bytes as encode_entries_portable, in one pass over each slot: every 8-byte payload word is
// loaded once, fed to the crc32 instruction and stored into the mapping; the partial last word is
// masked, which also writes the record's zero padding. No call per record (crc32c() is an indirect
// call), and the records' CRC chains are independent, so the CPU overlaps consecutive records.
__attribute__((target("sse4.2"))) uint64_t encode_entries_sse42(uint8_t* at, const JournalEntry* entries, size_t k,
                                                                uint64_t sequence, uint32_t salt) noexcept {
  uint64_t off = 0;
  for (size_t i = 0; i < k; ++i) {
    const JournalEntry& e = entries[i];
    assert(j::is_user_type(e.type) && e.length <= JournalEntry::kMaxPayload);
    const uint64_t seq = sequence + i;
    const uint32_t length = e.length;
    uint8_t* r = at + off;
    // Header bytes 4..16 (type, length, sequence) as one 8-byte and one 4-byte step.
    uint64_t crc = _mm_crc32_u64(uint64_t{~salt}, uint64_t{e.type} | uint64_t{length} << 16 | seq << 32);
    crc = _mm_crc32_u32(static_cast<uint32_t>(crc), static_cast<uint32_t>(seq >> 32));
    const uint32_t words = length / 8;
    for (uint32_t w = 0; w < words; ++w) {
      uint64_t v;
      std::memcpy(&v, e.payload + 8 * w, 8);
      crc = _mm_crc32_u64(crc, v);
      std::memcpy(r + j::kRecordHeaderBytes + 8 * w, &v, 8);
    }
    auto crc32 = static_cast<uint32_t>(crc);
    if (const uint32_t tail = length % 8; tail != 0) {
      const uint32_t o = 8 * words;
      uint64_t v;
      if (o + 8 <= JournalEntry::kMaxPayload) {
        std::memcpy(&v, e.payload + o, 8);
      } else {  // the slot's last 4 bytes (lengths 57..59)
        uint32_t v4;
        std::memcpy(&v4, e.payload + o, 4);
        v = v4;
      }
      v &= ~uint64_t{0} >> (64 - 8 * tail);  // the bytes after the payload are the record's zero padding
      uint64_t rest = v;
      if ((tail & 4) != 0) {
        crc32 = _mm_crc32_u32(crc32, static_cast<uint32_t>(rest));
        rest >>= 32;
      }
      if ((tail & 2) != 0) {
        crc32 = _mm_crc32_u16(crc32, static_cast<uint16_t>(rest));
        rest >>= 16;
      }
      if ((tail & 1) != 0) crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(rest));
      std::memcpy(r + j::kRecordHeaderBytes + o, &v, 8);
    }
    // crc, type, length as one store, then the sequence.
    const uint64_t head = uint64_t{~crc32} | uint64_t{e.type} << 32 | uint64_t{length} << 48;
    std::memcpy(r, &head, 8);
    std::memcpy(r + 8, &seq, 8);
    off += j::record_bytes(length);
  }
  return off;
}
#endif

uint64_t unix_ns() noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

JournalWriter::JournalWriter(const JournalWriterOptions& options)
    : directory_(options.directory),
      new_segment_bytes_(options.segment_bytes),
      sys_(options.syscalls != nullptr ? options.syscalls : &real_journal_syscalls()) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  crc_instruction_ = __builtin_cpu_supports("sse4.2");
#endif
}

JournalWriter::~JournalWriter() { close(); }

std::unique_ptr<JournalWriter> JournalWriter::open(const JournalWriterOptions& options, std::string& error) {
  if (options.directory.empty()) {
    error = "journal: no directory given";
    return nullptr;
  }
  if (options.segment_bytes % j::kPageBytes != 0 || options.segment_bytes < j::kMinSegmentBytes) {
    error = "journal: segment size " + std::to_string(options.segment_bytes) + " is not a multiple of 4096 >= " +
            std::to_string(j::kMinSegmentBytes);
    return nullptr;
  }
  if (options.first_sequence == 0) {
    error = "journal: the first sequence must be >= 1";
    return nullptr;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec) {
    error = "journal: cannot create " + options.directory + ": " + ec.message();
    return nullptr;
  }

  const JournalReport report = verify_journal(options.directory);
  if (report.status == JournalStatus::Failed) {
    error = "journal " + options.directory + " cannot be opened for writing: " + report.damage.detail;
    return nullptr;
  }
  if (report.status == JournalStatus::TornTail) {
    error = "journal " + options.directory + " has a torn tail (repair it first): " + report.damage.detail;
    return nullptr;
  }

  std::unique_ptr<JournalWriter> w(new JournalWriter(options));
  if (report.status == JournalStatus::Empty) {
    w->last_sequence_ = options.first_sequence - 1;
    w->marker_sequence_ = w->last_sequence_;
    w->create_segment(options.first_sequence);
  } else {
    const JournalSegmentReport& last = report.segments.back();
    w->last_sequence_ = report.last_sequence;
    w->marker_sequence_ = std::min(report.durable_watermark, report.last_sequence);
    if (last.ended) {
      w->create_segment(report.last_sequence + 1);
    } else {
      w->path_ = last.file;
      const int fd = ::open(last.file.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        w->fail("open", errno, 0);
      } else if (w->map_segment(fd, last.file, last.segment_bytes)) {
        w->salt_ = last.salt;
        w->pos_ = last.end_offset;
        w->synced_pos_ = j::kSegmentHeaderBytes;
        w->fast_limit_ = w->segment_bytes_ - j::kPageBytes;
        w->flush_segment();  // whatever a crashed process left in the page cache becomes durable now
        w->prefault_for_writing();
      }
    }
  }
  if (!w->failed_local_) {
    w->durable_.store(w->last_sequence_, std::memory_order_release);
    w->append_marker_if_due();
  }
  if (w->failed_local_) {
    error = w->failure_.error();
    return nullptr;
  }
  w->sync_thread_ = std::make_unique<JournalSyncThread>(*w->sys_, w->durable_, w->failure_);
  return w;
}

uint64_t JournalWriter::append_slow(uint16_t type, const void* payload, uint16_t length) noexcept {
  if (failed_local_ || closed_) return 0;
  const uint32_t size = j::record_bytes(length);
  const uint64_t off = place(size);
  if (off == UINT64_MAX) return 0;
  j::encode_record(base_ + off, type, last_sequence_ + 1, payload, length, salt_);
  pos_ = off + size;
  return ++last_sequence_;
}

size_t JournalWriter::append_entries(const JournalEntry* entries, size_t n) noexcept {
  size_t done = 0;
  while (done < n) {
    // A run of entries that certainly fits before the end of this page and fast_limit_ (zero once
    // failed or closed): one check for the run instead of one per record.
    const uint64_t limit = std::min<uint64_t>(pos_ + j::page_room(pos_), fast_limit_);
    const uint64_t fit = limit > pos_ ? (limit - pos_) / kMaxEntryRecordBytes : 0;
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n - done, fit));
    if (k == 0) {
      // The end of a page or segment (or a failure): one record the checked way, which pads the page
      // or rolls over.
      const JournalEntry& e = entries[done];
      assert(j::is_user_type(e.type) && e.length <= JournalEntry::kMaxPayload);
      if (append_slow(e.type, e.payload, e.length) == 0) break;
      ++done;
      continue;
    }
    if (crc_instruction_) {  // never set off x86-64
#if defined(__x86_64__)
      pos_ += encode_entries_sse42(base_ + pos_, entries + done, k, last_sequence_ + 1, salt_);
#endif
    } else {
      pos_ += encode_entries_portable(base_ + pos_, entries + done, k, last_sequence_ + 1, salt_);
    }
    last_sequence_ += k;
    done += k;
  }
  return done;
}

uint64_t JournalWriter::place(uint32_t size) noexcept {
  if (failed_local_ || closed_) return UINT64_MAX;
  // The record and, after it, the end record must fit in this segment.
  auto fits = [this, size](uint64_t at) {
    return j::next_record_offset(at + size) + j::kRecordHeaderBytes <= segment_bytes_;
  };
  uint64_t off = size > j::page_room(pos_) ? pos_ + j::page_room(pos_) : pos_;
  if (!fits(off)) {
    if (!rollover()) return UINT64_MAX;
    off = size > j::page_room(pos_) ? pos_ + j::page_room(pos_) : pos_;
    assert(fits(off));
  }
  if (off != pos_) {
    // The rest of the page becomes one padding record (zeros, already there); fewer than 16 bytes stay
    // zero and readers skip them by the page rule.
    const uint64_t room = off - pos_;
    if (room >= j::kRecordHeaderBytes) {
      uint8_t* r = base_ + pos_;
      const auto length = static_cast<uint16_t>(room - j::kRecordHeaderBytes);
      j::store_le<uint16_t>(r + 4, j::kPadding);
      j::store_le<uint16_t>(r + 6, length);
      j::store_le<uint64_t>(r + 8, last_sequence_);
      j::store_le<uint32_t>(r, j::record_crc(r, length, salt_));
    }
    pos_ = off;
  }
  return off;
}

bool JournalWriter::write_internal(uint16_t type, const void* payload, uint16_t length) noexcept {
  const uint32_t size = j::record_bytes(length);
  const uint64_t off = place(size);
  if (off == UINT64_MAX) return false;
  j::encode_record(base_ + off, type, last_sequence_, payload, length, salt_);
  pos_ = off + size;
  return true;
}

void JournalWriter::append_marker_if_due() noexcept {
  if (failed_local_ || closed_) return;
  // The watermark, published by whoever synced (the sync thread, or this thread at open and rollover).
  // Records appended since then lie before the marker: its sequence is the last of them, its
  // durable_through may be lower (journal-format.md).
  const uint64_t durable = durable_.load(std::memory_order_acquire);
  if (durable <= marker_sequence_) return;
  uint8_t payload[j::kSyncMarkerPayload];
  j::store_le<uint64_t>(payload, durable);
  j::store_le<uint64_t>(payload + 8, unix_ns());
  // max: writing this marker may roll over, and the rollover writes a newer one in the next segment.
  if (write_internal(j::kSyncMarker, payload, sizeof payload)) marker_sequence_ = std::max(marker_sequence_, durable);
}

bool JournalWriter::flush_segment() noexcept {
  if (failed_local_) return false;
  if (pos_ <= synced_pos_) return true;
  const char* what = "";
  uint64_t offset = 0;
  if (const int err = sync_journal_range(*sys_, JournalSyncRange{base_, segment_bytes_, fd_, &path_, synced_pos_, pos_},
                                         what, offset);
      err != 0) {
    fail(what, err, offset);
    return false;
  }
  synced_pos_ = pos_;
  return true;
}

bool JournalWriter::begin_sync() noexcept {
  poll();
  if (failed_local_) return false;
  if (closed_ || pos_ <= synced_pos_) return true;  // nothing new: nothing to hand over
  sync_thread_->submit(JournalSyncRange{base_, segment_bytes_, fd_, &path_, synced_pos_, pos_}, last_sequence_);
  synced_pos_ = pos_;
  return true;
}

void JournalWriter::poll() noexcept {
  if (!failed_local_ && failure_.failed()) {
    failed_local_ = true;
    fast_limit_ = 0;
  }
  append_marker_if_due();
}

bool JournalWriter::sync() noexcept {
  if (failed_local_) return false;
  if (closed_) return true;
  if (!begin_sync()) return false;
  sync_thread_->wait_idle();
  poll();
  return !failed_local_;
}

bool JournalWriter::settle() noexcept {
  if (sync_thread_) sync_thread_->wait_idle();
  if (!failed_local_ && failure_.failed()) {
    failed_local_ = true;
    fast_limit_ = 0;
  }
  return !failed_local_;
}

bool JournalWriter::rollover() noexcept {
  // The sync thread must be done with this segment before it is unmapped (a range handed over refers
  // to the mapping), and everything handed over must be durable before the segment is sealed.
  if (!settle()) return false;
  // Close this segment: its end record, then everything durable, before the next segment exists. A
  // reader may then treat any damage in a segment that has a successor as real corruption.
  const uint64_t end = j::next_record_offset(pos_);
  assert(end + j::kRecordHeaderBytes <= segment_bytes_);
  j::encode_record(base_ + end, j::kSegmentEnd, last_sequence_, nullptr, 0, salt_);
  pos_ = end + j::kRecordHeaderBytes;
  if (!flush_segment()) return false;
  ++syncs_;
  if (last_sequence_ > durable_.load(std::memory_order_relaxed))
    durable_.store(last_sequence_, std::memory_order_release);
  unmap_segment();
  if (!create_segment(last_sequence_ + 1)) return false;
  append_marker_if_due();  // first record of the new segment: "durable through" the old one's end
  return !failed_local_;
}

bool JournalWriter::map_segment(int fd, const std::string& path, uint64_t bytes) noexcept {
  path_ = path;
  fd_ = fd;
  int flags = MAP_SHARED;
#if defined(MAP_POPULATE)
  flags |= MAP_POPULATE;
#endif
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, fd, 0);
  if (p == MAP_FAILED) {
    fail("mmap", errno, 0);
    return false;
  }
  base_ = static_cast<uint8_t*>(p);
  segment_bytes_ = bytes;
  return true;
}

void JournalWriter::prefault_for_writing() noexcept {
  // Rewrites one byte of every page with its own value, so appends do not take a page fault per page:
  // MAP_POPULATE alone maps shared file pages read-only until the first write (the kernel's dirty
  // tracking). Called after the segment's last fdatasync: a sync cleans the pages and write-protects
  // them again (so does the kernel's own writeback, 30 s after a page is dirtied, by default).
  for (uint64_t off = 0; off < segment_bytes_; off += j::kPageBytes) {
    volatile uint8_t* q = base_ + off;
    *q = *q;
  }
}

bool JournalWriter::create_segment(uint64_t first_sequence) noexcept {
  const std::string path = directory_ + "/" + j::segment_file_name(first_sequence);
  const std::string tmp = path + ".tmp";
  path_ = tmp;
  // Built under a temporary name and renamed once its header is durable, so a *.journal file always
  // has a good header; a crash mid-way leaves only a *.tmp file, which readers ignore.
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail("create", errno, 0);
    return false;
  }
  if (const int err = sys_->preallocate(fd, new_segment_bytes_); err != 0) {
    ::close(fd);
    fail("preallocate", err, 0);
    return false;
  }
  if (!map_segment(fd, tmp, new_segment_bytes_)) {
    ::close(fd);
    fd_ = -1;
    return false;
  }
  std::random_device rd;
  uint32_t salt = 0;
  while (salt == 0) salt = static_cast<uint32_t>(rd());
  j::SegmentHeader h;
  h.segment_bytes = new_segment_bytes_;
  h.first_sequence = first_sequence;
  h.salt = salt;
  h.created_unix_ns = unix_ns();
  j::encode_segment_header(h, base_);
  if (const int err = sys_->sync_range(base_, std::min(os_page_bytes(), segment_bytes_)); err != 0) {
    fail("msync", err, 0);
    return false;
  }
  if (const int err = sys_->sync_file(fd); err != 0) {  // size and allocation
    fail("fdatasync", err, 0);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail("rename", errno, 0);
    return false;
  }
  path_ = path;
  if (const int err = sys_->sync_dir(directory_.c_str()); err != 0) {
    fail("fsync of the directory", err, 0);
    return false;
  }
  prefault_for_writing();
  salt_ = salt;
  pos_ = j::kSegmentHeaderBytes;
  synced_pos_ = j::kSegmentHeaderBytes;
  fast_limit_ = segment_bytes_ - j::kPageBytes;
  ++segments_created_;
  return true;
}

void JournalWriter::unmap_segment() noexcept {
  if (base_ != nullptr) ::munmap(base_, segment_bytes_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  fd_ = -1;
  fast_limit_ = 0;
}

bool JournalWriter::close() noexcept {
  if (closed_) return !failed_local_;
  const bool ok = sync() && sync();  // the second makes the last sync marker durable too
  stop_sync_thread(false);  // joins: nothing refers to the mapping any more, even after a failure
  unmap_segment();
  closed_ = true;
  return ok;
}

void JournalWriter::abandon() noexcept {
  stop_sync_thread(true);
  unmap_segment();
  closed_ = true;
}

void JournalWriter::stop_sync_thread(bool discard) noexcept {
  if (!sync_thread_) return;
  if (discard) sync_thread_->discard();
  sync_thread_->wait_idle();
  syncs_ += sync_thread_->syncs();
  sync_thread_.reset();  // joins
}

void JournalWriter::fail(const char* what, int err, uint64_t offset) noexcept {
  failure_.fail(describe_journal_error(what, path_, offset, err));  // the first failure's text wins
  failed_local_ = true;
  fast_limit_ = 0;
}

}  // namespace pmm::persistence
