#include "perf/pcap_file.hpp"

#include <pcap/pcap.h>

#include <cerrno>
#include <cstring>

namespace pmm::gen {

namespace {

void store_le16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

std::unique_ptr<PcapWriter> PcapWriter::open(const std::string& path, std::string& error, uint32_t snaplen) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  static constexpr size_t kBuffer = 1 << 20;
  std::setvbuf(f, nullptr, _IOFBF, kBuffer);
  // Classic pcap file header: magic, version 2.4, thiszone, sigfigs, snaplen, link type.
  uint8_t header[kPcapFileHeaderSize];
  store_le32(header, kPcapMagicNanosecond);
  store_le16(header + 4, 2);
  store_le16(header + 6, 4);
  store_le32(header + 8, 0);
  store_le32(header + 12, 0);
  store_le32(header + 16, snaplen);
  store_le32(header + 20, kLinkTypeEthernet);
  if (std::fwrite(header, 1, sizeof header, f) != sizeof header) {
    error = path + ": write failed: " + std::strerror(errno);
    std::fclose(f);
    return nullptr;
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(f, path, snaplen));
}

PcapWriter::~PcapWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

bool PcapWriter::write(const uint8_t* frame, size_t len, uint64_t ts_ns) {
  if (failed_) return false;
  const auto stored = static_cast<uint32_t>(len < snaplen_ ? len : snaplen_);
  uint8_t record[kPcapRecordHeaderSize];
  store_le32(record, static_cast<uint32_t>(ts_ns / 1'000'000'000));
  store_le32(record + 4, static_cast<uint32_t>(ts_ns % 1'000'000'000));
  store_le32(record + 8, stored);
  store_le32(record + 12, static_cast<uint32_t>(len));
  if (std::fwrite(record, 1, sizeof record, f_) != sizeof record || std::fwrite(frame, 1, stored, f_) != stored) {
    failed_ = true;
    write_errno_ = errno;
  } else {
    ++frames_;
  }
  return !failed_;
}

bool PcapWriter::close(std::string& error) {
  if (f_ == nullptr) return !failed_;
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (failed_ || rc != 0) {
    error = path_ + ": write failed: " + std::strerror(failed_ ? write_errno_ : errno);
    return false;
  }
  return true;
}

std::unique_ptr<PcapReader> PcapReader::open(const std::string& path, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  // Look at the magic ourselves first: a clear message for a non-capture file, and whether record
  // offsets can be reported (classic pcap).
  uint8_t magic_bytes[4];
  if (std::fread(magic_bytes, 1, 4, f) != 4) {
    error = path + ": shorter than a capture file header";
    std::fclose(f);
    return nullptr;
  }
  const uint32_t magic = load_le32(magic_bytes);
  const uint32_t swapped = __builtin_bswap32(magic);
  const bool classic = magic == kPcapMagicNanosecond || magic == kPcapMagicMicrosecond ||
                       swapped == kPcapMagicNanosecond || swapped == kPcapMagicMicrosecond;
  if (!classic && magic != kPcapngMagic) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", magic_bytes[0], magic_bytes[1], magic_bytes[2],
                  magic_bytes[3]);
    error = path + ": not a pcap or pcapng file (first bytes " + hex + ")";
    std::fclose(f);
    return nullptr;
  }
  std::rewind(f);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision: libpcap scales microsecond files up, so ts_ns is right for both.
  pcap_t* handle = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle == nullptr) {
    error = path + ": " + errbuf;
    std::fclose(f);
    return nullptr;
  }
  const int link = pcap_datalink(handle);
  if (link != DLT_EN10MB) {
    const char* name = pcap_datalink_val_to_name(link);
    error = path + ": link type " + std::to_string(link) + " (" + (name ? name : "?") +
            ") is not supported, only Ethernet";
    pcap_close(handle);  // closes f
    return nullptr;
  }
  return std::unique_ptr<PcapReader>(new PcapReader(handle, path, classic));
}

PcapReader::~PcapReader() { pcap_close(handle_); }

bool PcapReader::next(const uint8_t*& data, size_t& len, uint64_t& ts_ns) {
  pcap_pkthdr* header = nullptr;
  const u_char* bytes = nullptr;
  const int rc = pcap_next_ex(handle_, &header, &bytes);
  if (rc == 1) {
    data = bytes;
    len = header->caplen;
    ts_ns = static_cast<uint64_t>(header->ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(header->ts.tv_usec);
    if (header->caplen < header->len) ++cut_frames_;
    ++frames_;
    offset_ += kPcapRecordHeaderSize + header->caplen;
    return true;
  }
  if (rc == PCAP_ERROR_BREAK) return false;  // end of file
  error_ = path_ + ": frame " + std::to_string(frames_ + 1);
  if (classic_) error_ += " (record at byte offset " + std::to_string(offset_) + ")";
  error_ += ": ";
  error_ += pcap_geterr(handle_);
  return false;
}

}  // namespace pmm::gen
