#include "persistence/journal_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "persistence/journal_format.hpp"

namespace pmm::persistence {

namespace j = journal;

const char* to_string(JournalStatus s) noexcept {
  switch (s) {
    case JournalStatus::Empty: return "Empty";
    case JournalStatus::Clean: return "Clean";
    case JournalStatus::TornTail: return "TornTail";
    case JournalStatus::Failed: return "Failed";
  }
  return "?";
}

const char* to_string(JournalDamageKind k) noexcept {
  switch (k) {
    case JournalDamageKind::None: return "none";
    case JournalDamageKind::CrcMismatch: return "CRC mismatch";
    case JournalDamageKind::BadRecordHeader: return "bad record header";
    case JournalDamageKind::UnwrittenGap: return "unwritten gap";
    case JournalDamageKind::SequenceGap: return "sequence gap";
    case JournalDamageKind::MissingSegment: return "missing segment";
    case JournalDamageKind::MissingSegmentEnd: return "missing segment end";
    case JournalDamageKind::BadSegmentHeader: return "bad segment header";
    case JournalDamageKind::ReadError: return "read error";
  }
  return "?";
}

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

// A read-only view of a whole file; never more than its size.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error_ = std::string("open: ") + std::strerror(errno);
      return;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      error_ = std::string("fstat: ") + std::strerror(errno);
    } else if (st.st_size > 0) {
      size_ = static_cast<size_t>(st.st_size);
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        error_ = std::string("mmap: ") + std::strerror(errno);
        size_ = 0;
      } else {
        data_ = static_cast<const uint8_t*>(p);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  const std::string& error() const noexcept { return error_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string error_;
};

// Offset one past the last non-zero byte in [from, to), or `from` if all are zero.
uint64_t last_nonzero_end(const uint8_t* data, uint64_t from, uint64_t to) {
  uint64_t end = to;
  while (end > from && (end % 8) != 0) {
    if (data[end - 1] != 0) return end;
    --end;
  }
  while (end >= from + 8) {
    uint64_t word;
    std::memcpy(&word, data + end - 8, 8);
    if (word != 0) break;
    end -= 8;
  }
  while (end > from && data[end - 1] == 0) --end;
  return end;
}

struct Header {
  uint16_t type;
  uint16_t length;
  uint64_t sequence;
  uint32_t crc;
};

Header read_header(const uint8_t* r) {
  return Header{j::load_le<uint16_t>(r + 4), j::load_le<uint16_t>(r + 6), j::load_le<uint64_t>(r + 8),
                j::load_le<uint32_t>(r)};
}

// The header at `pos` could be a record: a valid type and a length that stays in the page.
bool plausible(const Header& h, uint64_t pos) {
  if (h.type == j::kInvalid || (!j::is_user_type(h.type) && !j::is_known_internal_type(h.type))) return false;
  if (uint64_t{h.length} + j::kRecordHeaderBytes > j::page_room(pos)) return false;
  if (h.type == j::kSyncMarker && h.length < 8) return false;
  return true;
}

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

// What scanning one segment found, before the journal-wide classification.
struct SegmentScan {
  JournalSegmentReport report;
  bool header_ok = false;
  bool broke = false;             // the record chain stopped at damage (report.damage)
  uint64_t beyond_watermark = 0;  // highest sync marker inside the damaged region
};

class Scanner {
 public:
  Scanner(const JournalReplayOptions& options, const JournalRecordCallback* callback)
      : options_(options), callback_(callback) {}

  bool stopped() const { return stopped_; }
  uint64_t delivered() const { return delivered_; }
  void stop_delivering() { deliver_ = false; }

  SegmentScan scan(const std::string& path, uint64_t name_sequence) {
    SegmentScan s;
    JournalSegmentReport& rep = s.report;
    rep.file = path;
    rep.first_sequence = name_sequence;
    rep.last_sequence = name_sequence - 1;
    MappedFile f(path);
    if (!f.error().empty()) {
      set_damage(rep, JournalDamageKind::ReadError, 0, path + ": " + f.error());
      return s;
    }
    const uint8_t* data = f.data();
    const uint64_t size = f.size();
    rep.segment_bytes = size;
    if (size < j::kSegmentHeaderBytes) {
      set_damage(rep, JournalDamageKind::BadSegmentHeader, 0,
                 "bad segment header in " + path + ": file is " + std::to_string(size) +
                     " bytes, shorter than the header page");
      return s;
    }
    j::SegmentHeader h;
    if (std::string e = j::decode_segment_header(data, h); !e.empty()) {
      set_damage(rep, JournalDamageKind::BadSegmentHeader, 0, "bad segment header in " + path + ": " + e);
      return s;
    }
    if (h.first_sequence != name_sequence) {
      set_damage(rep, JournalDamageKind::BadSegmentHeader, 0,
                 "bad segment header in " + path + ": the name says first sequence " +
                     std::to_string(name_sequence) + ", the header " + std::to_string(h.first_sequence));
      return s;
    }
    if (h.segment_bytes != size || size % j::kPageBytes != 0 || size < j::kMinSegmentBytes) {
      set_damage(rep, JournalDamageKind::BadSegmentHeader, 0,
                 "bad segment header in " + path + ": the header says " + std::to_string(h.segment_bytes) +
                     " bytes, the file has " + std::to_string(size));
      return s;
    }
    s.header_ok = true;
    rep.salt = h.salt;

    uint64_t next = h.first_sequence;  // the next user record's sequence
    uint64_t pos = j::kSegmentHeaderBytes;
    bool zero_stop = false;
    bool damaged = false;
    Header bad{};
    for (;;) {
      pos = j::next_record_offset(pos);
      if (pos + j::kRecordHeaderBytes > size) break;
      const uint8_t* r = data + pos;
      const Header hd = read_header(r);
      if (all_zero(r, j::kRecordHeaderBytes)) {
        zero_stop = true;
        break;
      }
      if (!plausible(hd, pos)) {
        damaged = true;
        bad = hd;
        set_damage(rep, JournalDamageKind::BadRecordHeader, pos,
                   "bad record header in " + path + " at offset " + std::to_string(pos) + " (type " +
                       std::to_string(hd.type) + ", length " + std::to_string(hd.length) +
                       ", expected sequence " + std::to_string(next) + ")");
        break;
      }
      const uint32_t computed = j::record_crc(r, hd.length, h.salt);
      if (computed != hd.crc) {
        damaged = true;
        bad = hd;
        set_damage(rep, JournalDamageKind::CrcMismatch, pos,
                   "CRC mismatch in " + path + " at offset " + std::to_string(pos) + " (expected sequence " +
                       std::to_string(next) + "): expected " + hex32(computed) + ", found " + hex32(hd.crc));
        rep.damage.expected_crc = computed;
        rep.damage.found_crc = hd.crc;
        break;
      }
      const bool user = j::is_user_type(hd.type);
      const uint64_t want = user ? next : next - 1;
      uint64_t marker = 0;
      if (hd.type == j::kSyncMarker) marker = j::load_le<uint64_t>(r + j::kRecordHeaderBytes);
      // A sync marker's durable_through is at most its own sequence (the last record before it): the
      // writer appends it once the sync returned, maybe after more records (journal-format.md).
      if (hd.sequence != want || (hd.type == j::kSyncMarker && marker > hd.sequence)) {
        damaged = true;
        bad = hd;
        set_damage(rep, JournalDamageKind::SequenceGap, pos,
                   "sequence gap in " + path + " at offset " + std::to_string(pos) + ": expected sequence " +
                       std::to_string(want) + ", found " + std::to_string(hd.sequence));
        rep.damage.expected_sequence = want;
        rep.damage.found_sequence = hd.sequence;
        break;
      }
      deliver(hd, r, path, pos);
      const uint64_t record_end = pos + j::record_bytes(hd.length);
      if (user) {
        ++next;
        ++rep.records;
        rep.last_sequence = hd.sequence;
      } else if (hd.type == j::kSyncMarker) {
        rep.watermark = std::max(rep.watermark, marker);
      } else if (hd.type == j::kSegmentEnd) {
        rep.ended = true;
        pos = record_end;
        break;
      }
      pos = record_end;
    }
    rep.end_offset = std::min(pos, size);
    if (damaged && rep.damage.kind != JournalDamageKind::SequenceGap) rep.damage.expected_sequence = next;
    if (rep.ended) return s;

    // What lies after the valid records: zeros (a clean end), or a damaged region up to the last
    // non-zero byte, in which we look for records with a valid CRC (to count them, and for sync markers
    // that prove the damage is before the watermark).
    const uint64_t from = rep.end_offset;
    const uint64_t nz_end = last_nonzero_end(data, from, size);
    if (nz_end == from) return s;  // zeros to the end: a clean end (a damaged header is never all zero)
    if (!damaged && zero_stop) {
      set_damage(rep, JournalDamageKind::UnwrittenGap, from,
                 "unwritten gap in " + path + " at offset " + std::to_string(from) + " (expected sequence " +
                     std::to_string(next) + "): zero bytes, then data up to offset " + std::to_string(nz_end));
      rep.damage.expected_sequence = next;
    } else if (!damaged) {
      // The chain ran to the end of the file without an end record and without damage: a segment can
      // only be filled that far with its end record, so treat it as a bad record header.
      set_damage(rep, JournalDamageKind::BadRecordHeader, from,
                 "bad record header in " + path + " at offset " + std::to_string(from));
      rep.damage.expected_sequence = next;
    }
    s.broke = true;
    rep.damage.bytes = nz_end - from;

    uint64_t p = from;
    if (damaged && plausible(bad, from)) p = from + j::record_bytes(bad.length);  // skip the bad record
    else p = from - from % j::kPageBytes + j::kPageBytes;
    while (p < nz_end) {
      p = j::next_record_offset(p);
      if (p + j::kRecordHeaderBytes > size) break;
      const uint8_t* r = data + p;
      const Header hd = read_header(r);
      if (!plausible(hd, p) || j::record_crc(r, hd.length, h.salt) != hd.crc) {
        // Every 8-byte position, not just the next page: a sync marker later in a page whose earlier
        // bytes are damaged still proves how far the journal was durable (damage only found by such a
        // marker is "before the watermark": Failed, never repaired away). Only on damage, so the cost
        // of a CRC per 8 bytes does not matter.
        p += 8;
        continue;
      }
      if (j::is_user_type(hd.type)) ++rep.damage.records_beyond;
      if (hd.type == j::kSyncMarker)
        s.beyond_watermark = std::max(s.beyond_watermark, j::load_le<uint64_t>(r + j::kRecordHeaderBytes));
      p += j::record_bytes(hd.length);
    }
    return s;
  }

 private:
  static void set_damage(JournalSegmentReport& rep, JournalDamageKind kind, uint64_t offset, std::string detail) {
    rep.damage.kind = kind;
    rep.damage.file = rep.file;
    rep.damage.offset = offset;
    rep.damage.detail = std::move(detail);
  }

  void deliver(const Header& hd, const uint8_t* r, const std::string& path, uint64_t pos) {
    if (!deliver_ || callback_ == nullptr || !*callback_) return;
    if (j::is_user_type(hd.type)) {
      if (hd.sequence <= options_.after_sequence) return;
    } else if (!options_.include_internal) {
      return;
    }
    const JournalRecordView v{hd.sequence, hd.type, hd.length, r + j::kRecordHeaderBytes, &path, pos};
    ++delivered_;
    if (!(*callback_)(v)) {
      stopped_ = true;
      deliver_ = false;
    }
  }

  const JournalReplayOptions& options_;
  const JournalRecordCallback* callback_;
  bool deliver_ = true;
  bool stopped_ = false;
  uint64_t delivered_ = 0;
};

JournalReplayResult scan_journal(const std::string& directory, const JournalReplayOptions& options,
                                 const JournalRecordCallback* callback) {
  JournalReplayResult out;
  JournalReport& report = out.report;
  report.directory = directory;

  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return out;  // Empty: nothing was ever written
    report.status = JournalStatus::Failed;
    report.damage.kind = JournalDamageKind::ReadError;
    report.damage.file = directory;
    report.damage.detail = "cannot list " + directory + ": " + ec.message();
    return out;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    uint64_t first = 0;
    if (j::parse_segment_file_name(name, first)) files.emplace_back(first, it->path().string());
  }
  if (ec) {
    report.status = JournalStatus::Failed;
    report.damage.kind = JournalDamageKind::ReadError;
    report.damage.file = directory;
    report.damage.detail = "cannot list " + directory + ": " + ec.message();
    return out;
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return out;

  Scanner scanner(options, callback);
  report.status = JournalStatus::Clean;
  report.first_sequence = files.front().first;
  report.last_sequence = report.first_sequence - 1;
  bool decided = false;  // a damage already decided the status
  auto decide = [&](JournalStatus status, const JournalDamage& d) {
    report.status = status;
    report.damage = d;
    decided = true;
    scanner.stop_delivering();
  };

  for (size_t i = 0; i < files.size(); ++i) {
    const bool last = i + 1 == files.size();
    if (!decided && i > 0) {
      // Chaining: the previous segment ended with its end record at sequence L; this one starts at L + 1.
      const JournalSegmentReport& prev = report.segments.back();
      const uint64_t want = prev.last_sequence + 1;
      if (files[i].first != want) {
        JournalDamage d;
        d.kind = files[i].first > want ? JournalDamageKind::MissingSegment : JournalDamageKind::SequenceGap;
        d.file = files[i].second;
        d.expected_sequence = want;
        d.found_sequence = files[i].first;
        d.detail = files[i].first > want
                       ? "missing segment: " + prev.file + " ends at sequence " +
                             std::to_string(prev.last_sequence) + ", the next file " + files[i].second +
                             " starts at " + std::to_string(files[i].first) + " (sequences " +
                             std::to_string(want) + ".." + std::to_string(files[i].first - 1) + " are missing)"
                       : "sequence gap: " + files[i].second + " starts at " + std::to_string(files[i].first) +
                             " but " + prev.file + " already reaches " + std::to_string(prev.last_sequence);
        decide(JournalStatus::Failed, d);
      }
    }
    SegmentScan s = scanner.scan(files[i].second, files[i].first);
    report.durable_watermark = std::max({report.durable_watermark, s.report.watermark, s.beyond_watermark});
    if (!decided) {
      report.records += s.report.records;
      if (s.header_ok) report.last_sequence = s.report.last_sequence;
    }
    JournalSegmentReport& rep = s.report;
    if (!decided) {
      const JournalDamageKind k = rep.damage.kind;
      if (k == JournalDamageKind::ReadError || k == JournalDamageKind::BadSegmentHeader ||
          k == JournalDamageKind::SequenceGap) {
        decide(JournalStatus::Failed, rep.damage);
      } else if (s.broke) {
        if (!last) {
          rep.damage.detail += "; a later segment exists, so this one was complete and synced";
          decide(JournalStatus::Failed, rep.damage);
        } else if (report.durable_watermark >= rep.damage.expected_sequence) {
          rep.damage.detail += "; before the durable watermark " + std::to_string(report.durable_watermark);
          decide(JournalStatus::Failed, rep.damage);
        } else {
          rep.damage.detail += "; after the durable watermark " + std::to_string(report.durable_watermark) +
                               " (torn tail, " + std::to_string(rep.damage.bytes) + " bytes)";
          decide(JournalStatus::TornTail, rep.damage);
        }
      } else if (!last && !rep.ended) {
        JournalDamage d;
        d.kind = JournalDamageKind::MissingSegmentEnd;
        d.file = rep.file;
        d.offset = rep.end_offset;
        d.expected_sequence = rep.last_sequence + 1;
        d.detail = "missing segment end in " + rep.file + " at offset " + std::to_string(rep.end_offset) +
                   " (after sequence " + std::to_string(rep.last_sequence) + "): a later segment exists";
        rep.damage = d;
        decide(JournalStatus::Failed, d);
      }
    }
    report.segments.push_back(std::move(rep));
  }
  out.delivered = scanner.delivered();
  out.stopped = scanner.stopped();
  return out;
}

}  // namespace

std::string JournalReport::summary() const {
  std::string s = "journal " + directory + ": " + to_string(status);
  if (status == JournalStatus::Empty) return s + " (no segments)";
  s += ", sequences " + std::to_string(first_sequence) + ".." + std::to_string(last_sequence) +
       ", durable through " + std::to_string(durable_watermark) + ", " + std::to_string(segments.size()) +
       " segment(s)";
  if (damage.kind != JournalDamageKind::None) s += ": " + damage.detail;
  return s;
}

JournalReport verify_journal(const std::string& directory) {
  return scan_journal(directory, JournalReplayOptions{}, nullptr).report;
}

JournalReplayResult replay_journal(const std::string& directory, const JournalReplayOptions& options,
                                   const JournalRecordCallback& callback) {
  JournalReplayResult r = scan_journal(directory, options, &callback);
  if (r.report.status == JournalStatus::Failed) {
    r.error = "Journal replay failed: " + r.report.damage.detail;
  } else if (r.report.status != JournalStatus::Empty && r.report.first_sequence > options.after_sequence + 1) {
    r.error = "Journal replay failed: " + directory + " starts at sequence " +
              std::to_string(r.report.first_sequence) + " but records from " +
              std::to_string(options.after_sequence + 1) + " on are needed";
  }
  return r;
}

}  // namespace pmm::persistence
