// Capture files for generated feeds and replay. Writing is our own code (classic pcap, nanosecond
// timestamps, Ethernet link type, little-endian on every host so the bytes are reproducible);
// reading goes through libpcap, which handles pcap in either byte order and resolution, and pcapng.
// Both stream: file size does not matter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

struct pcap;  // libpcap's handle (pcap_t), kept out of this header

namespace pmm::gen {

inline constexpr uint32_t kPcapMagicNanosecond = 0xA1B23C4D;
inline constexpr uint32_t kPcapMagicMicrosecond = 0xA1B2C3D4;
inline constexpr uint32_t kPcapngMagic = 0x0A0D0D0A;  // section header block type
inline constexpr uint32_t kLinkTypeEthernet = 1;
inline constexpr size_t kPcapFileHeaderSize = 24;
inline constexpr size_t kPcapRecordHeaderSize = 16;

class PcapWriter {
 public:
  static constexpr uint32_t kDefaultSnaplen = 262144;

  // Creates or truncates path and writes the file header; nullptr and error on failure.
  static std::unique_ptr<PcapWriter> open(const std::string& path, std::string& error,
                                          uint32_t snaplen = kDefaultSnaplen);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // One frame; ts_ns is nanoseconds since the Unix epoch. Frames longer than the snaplen are stored
  // cut to it (original length kept in the record). False once a write has failed.
  bool write(const uint8_t* frame, size_t len, uint64_t ts_ns);
  // Flushes and closes; false with the path and reason if any write failed.
  bool close(std::string& error);
  uint64_t frames() const noexcept { return frames_; }

 private:
  PcapWriter(std::FILE* f, std::string path, uint32_t snaplen) : f_(f), path_(std::move(path)), snaplen_(snaplen) {}
  std::FILE* f_;
  std::string path_;
  uint32_t snaplen_;
  uint64_t frames_ = 0;
  bool failed_ = false;
  int write_errno_ = 0;  // of the first failed write
};

class PcapReader {
 public:
  // Opens a pcap or pcapng file; nullptr and error when it cannot be opened, is not a capture file,
  // or its link type is not Ethernet.
  static std::unique_ptr<PcapReader> open(const std::string& path, std::string& error);
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // The next frame: data/len are valid until the next call; ts_ns is nanoseconds since the epoch.
  // False at the end of the file or on an error; error() tells which ("" at a clean end).
  bool next(const uint8_t*& data, size_t& len, uint64_t& ts_ns);
  const std::string& error() const noexcept { return error_; }
  uint64_t frames() const noexcept { return frames_; }
  // Frames stored shorter than they were on the wire (capture snaplen).
  uint64_t cut_frames() const noexcept { return cut_frames_; }

 private:
  PcapReader(pcap* handle, std::string path, bool classic) : handle_(handle), path_(std::move(path)), classic_(classic) {}
  pcap* handle_;
  std::string path_;
  bool classic_;                             // classic pcap: record offsets are known
  uint64_t offset_ = kPcapFileHeaderSize;    // classic pcap: byte offset of the next record
  uint64_t frames_ = 0;
  uint64_t cut_frames_ = 0;
  std::string error_;
};

}  // namespace pmm::gen
