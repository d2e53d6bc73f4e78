// Journal reader and verifier: scans every segment of a journal directory in order, checks every byte
// it reads (bounds, header, record CRCs, sequence continuity, segment chaining), recovers the durable
// watermark from the sync markers, and classifies what it found (docs/journal-format.md, "Reading"):
//
//   Empty     no segment files
//   Clean     every segment chains, the last one ends in zeros (or its end record)
//   TornTail  the last segment's valid records are followed by damaged bytes, all AFTER the durable
//             watermark: what a power loss leaves; repair_journal() cuts it off
//   Failed    damage BEFORE the watermark (CRC mismatch, bad record header, unwritten gap), a sequence
//             gap, a missing middle segment, a bad segment header, a damaged non-last segment, or a
//             file that cannot be read: real corruption, recovery must not guess
//
// The scan maps files read-only and never reads outside a file; any bytes give a report, never a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pmm::persistence {

enum class JournalStatus : uint8_t { Empty, Clean, TornTail, Failed };
const char* to_string(JournalStatus s) noexcept;

enum class JournalDamageKind : uint8_t {
  None,
  CrcMismatch,       // a record whose header looks right fails its CRC (expected vs found)
  BadRecordHeader,   // unknown/invalid type or a length that leaves the page, where a record should be
  UnwrittenGap,      // zero bytes where a record should be, but non-zero bytes further on
  SequenceGap,       // a record with a valid CRC but not the next sequence number (or segments overlap)
  MissingSegment,    // a segment ended at sequence L, the next file starts after L + 1
  MissingSegmentEnd, // a segment that is not the last ends without its end record
  BadSegmentHeader,  // magic, version, header CRC, file name vs first sequence, file size
  ReadError,         // the file could not be opened or mapped
};
const char* to_string(JournalDamageKind k) noexcept;

struct JournalDamage {
  JournalDamageKind kind = JournalDamageKind::None;
  std::string file;
  uint64_t offset = 0;   // byte offset in `file` where the valid records stop
  uint64_t bytes = 0;    // the damaged region [offset, offset + bytes): up to the last non-zero byte
  uint32_t expected_crc = 0, found_crc = 0;            // CrcMismatch
  uint64_t expected_sequence = 0, found_sequence = 0;  // SequenceGap, MissingSegment, and where it broke
  uint64_t records_beyond = 0;  // records with a valid CRC inside the damaged region (lost with it)
  std::string detail;           // one line: what, where
};

struct JournalSegmentReport {
  std::string file;
  uint64_t first_sequence = 0;  // from the header (from the name if the header is bad)
  uint64_t last_sequence = 0;   // of the last valid user record; first_sequence - 1 if none
  uint64_t records = 0;         // valid user records
  uint64_t end_offset = 0;      // where the valid records end (the writer continues here)
  uint64_t watermark = 0;       // highest sync marker found in the segment (0: none)
  uint64_t segment_bytes = 0;
  uint32_t salt = 0;
  bool ended = false;           // ends with its end record (complete)
  JournalDamage damage;         // kind None when the segment is clean
};

struct JournalReport {
  JournalStatus status = JournalStatus::Empty;
  std::string directory;
  std::vector<JournalSegmentReport> segments;
  uint64_t first_sequence = 0;      // of the first segment
  uint64_t last_sequence = 0;       // last valid user record before any damage (first_sequence - 1 if none)
  uint64_t durable_watermark = 0;   // the highest sync marker anywhere (a lower bound of what was durable)
  uint64_t records = 0;             // valid user records before any damage
  JournalDamage damage;             // what decided TornTail or Failed
  // One line for logs: "journal <dir>: Clean, sequences 1..N, durable through W, K segments", or the
  // damage ("CRC mismatch in <file> at offset X: expected 0x.., found 0x.., ...").
  std::string summary() const;
};

// A record as the scan delivers it. `payload` points into the mapping: valid during the callback only.
struct JournalRecordView {
  uint64_t sequence;
  uint16_t type;
  uint16_t length;
  const uint8_t* payload;
  const std::string* file;
  uint64_t offset;
};

// Return false to stop the scan (the report then covers what was scanned).
using JournalRecordCallback = std::function<bool(const JournalRecordView&)>;

// Scans and classifies; no callback.
JournalReport verify_journal(const std::string& directory);

struct JournalReplayOptions {
  uint64_t after_sequence = 0;    // deliver user records with sequence > this
  bool include_internal = false;  // also deliver padding, sync markers and end records (dump)
};

struct JournalReplayResult {
  JournalReport report;
  uint64_t delivered = 0;
  bool stopped = false;  // the callback returned false
  // "" or "Journal replay failed: ..." when the journal is Failed, or when it does not reach back to
  // after_sequence + 1 (its first record is later). A TornTail journal replays its valid records and
  // leaves error empty: the caller repairs before it opens the writer.
  std::string error;
};

// Delivers the valid records in sequence order while scanning. Records are delivered before later
// segments are checked: on an error the caller must discard what it applied.
JournalReplayResult replay_journal(const std::string& directory, const JournalReplayOptions& options,
                                   const JournalRecordCallback& callback);

}  // namespace pmm::persistence
