// A small file replaced as a whole (risk state, strategy state, the data directory's markers): a
// versioned header, the caller's payload and a CRC32C. save() writes `<path>.tmp`, fsyncs it, renames
// it over `<path>` and fsyncs the directory, so after a crash at any point `<path>` holds the old or
// the new complete version, never a mix. load() tells "missing" from "corrupt (what, where)" so the
// caller can start from configuration defaults with a warning. docs/snapshot-format.md.
//
// One writer per path (the appliance is a singleton); not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "persistence/file_ops.hpp"

namespace pmm::persistence {

enum class StateLoadStatus : uint8_t {
  Loaded,      // payload and payload_version are valid
  Missing,     // no file: a first start, or the state was never saved
  Corrupt,     // the file exists but fails a check: `what`, at byte `offset`
  ReadFailed,  // the file could not be read (EIO, EACCES, ...): `what`
};

const char* to_string(StateLoadStatus s) noexcept;

struct StateLoadResult {
  StateLoadStatus status = StateLoadStatus::Missing;
  uint32_t payload_version = 0;
  std::vector<uint8_t> payload;
  uint64_t offset = 0;  // Corrupt: the byte offset of the failed check
  std::string what;     // Corrupt/ReadFailed/Missing: a full sentence naming the path

  bool loaded() const noexcept { return status == StateLoadStatus::Loaded; }
};

class AtomicStateFile {
 public:
  // Layout (big-endian, the project's byte order): magic "PMMSTATE", u16 format version, u16 zero,
  // u32 payload version, u32 payload length, payload, u32 CRC32C of everything before it seeded with
  // the CRC32C of the file's name (so risk.state copied over strategy.state fails the check).
  static constexpr size_t kHeaderBytes = 20;
  static constexpr size_t kTrailerBytes = 4;
  static constexpr uint16_t kFormatVersion = 1;
  static constexpr size_t kDefaultMaxPayload = 16u << 20;

  // `ops` must outlive this object. Payloads longer than max_payload are refused by save() and reported
  // as corrupt by load() (which never allocates more than that).
  AtomicStateFile(FileOps& ops, std::string path, size_t max_payload = kDefaultMaxPayload);

  StateLoadResult load() const;

  // Replaces the file with this payload. On false, `error` names the step, the path and the errno; a
  // failure before the rename leaves the previous version untouched (and removes the temp file); a
  // failed directory fsync after the rename leaves the new version in place, not known to be durable.
  // Allocates nothing.
  bool save(uint32_t payload_version, const uint8_t* payload, size_t n, std::string& error);

  // Deletes the file and makes that durable. A missing file is not an error.
  bool remove(std::string& error);

  const std::string& path() const noexcept { return path_; }
  const std::string& temp_path() const noexcept { return temp_path_; }

 private:
  FileOps& ops_;
  std::string path_;
  std::string temp_path_;
  std::string dir_;
  uint32_t seed_;  // CRC32C of the file's base name
  size_t max_payload_;
};

}  // namespace pmm::persistence
