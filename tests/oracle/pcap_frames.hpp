// Minimal classic-pcap file writer and reader (raw Ethernet frames), so the tshark oracle test can
// write its own traffic and read back any capture, ours or perf/'s generator's, without libpcap.
// The frames themselves are built and taken apart by core/udp_frame.hpp, the code under test.
// The reader takes both timestamp resolutions and both byte orders; anything else (pcapng, another
// link type, a truncated record) is an error naming the file, frame and what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace pmm::oracle {

class PcapFrameWriter {
 public:
  PcapFrameWriter() = default;
  PcapFrameWriter(const PcapFrameWriter&) = delete;
  PcapFrameWriter& operator=(const PcapFrameWriter&) = delete;
  ~PcapFrameWriter() { close(); }

  // Nanosecond-resolution pcap, link type Ethernet.
  bool open(const std::string& path, std::string& error) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
      error = "cannot create " + path;
      return false;
    }
    uint8_t h[24];
    put_le32(h, 0xa1b23c4du);  // nanosecond magic
    put_le16(h + 4, 2);        // version 2.4
    put_le16(h + 6, 4);
    put_le32(h + 8, 0);        // thiszone
    put_le32(h + 12, 0);       // sigfigs
    put_le32(h + 16, 65535);   // snaplen
    put_le32(h + 20, 1);       // LINKTYPE_ETHERNET
    return put(h, sizeof h, error);
  }

  bool write(const uint8_t* frame, size_t len, uint64_t time_ns, std::string& error) {
    uint8_t rec[16];
    put_le32(rec, static_cast<uint32_t>(time_ns / 1'000'000'000u));
    put_le32(rec + 4, static_cast<uint32_t>(time_ns % 1'000'000'000u));
    put_le32(rec + 8, static_cast<uint32_t>(len));
    put_le32(rec + 12, static_cast<uint32_t>(len));
    return put(rec, sizeof rec, error) && put(frame, len, error);
  }

  bool close() {
    if (file_ == nullptr) return true;
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    return ok;
  }

 private:
  static void put_le16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
  }
  static void put_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
  bool put(const uint8_t* p, size_t n, std::string& error) {
    if (std::fwrite(p, 1, n, file_) != n) {
      error = "short write to the pcap file";
      return false;
    }
    return true;
  }

  std::FILE* file_ = nullptr;
};

struct CapturedFrame {
  size_t number = 0;  // 1-based, as tshark's frame.number
  std::vector<uint8_t> bytes;
};

inline bool read_pcap_frames(const std::string& path, std::vector<CapturedFrame>& frames, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot open " + path;
    return false;
  }
  std::vector<uint8_t> data;
  uint8_t chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) data.insert(data.end(), chunk, chunk + n);
  std::fclose(f);

  if (data.size() < 24) {
    error = path + ": shorter than a pcap file header";
    return false;
  }
  auto le32 = [](const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  };
  const uint32_t magic = le32(data.data());
  bool swapped;
  if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du) {
    swapped = false;
  } else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u) {
    swapped = true;
  } else {
    error = path + ": not a classic pcap file (pcapng is not read here)";
    return false;
  }
  auto u32 = [&](const uint8_t* p) { return swapped ? __builtin_bswap32(le32(p)) : le32(p); };
  if (u32(data.data() + 20) != 1) {
    error = path + ": link type " + std::to_string(u32(data.data() + 20)) + ", only Ethernet (1) is read";
    return false;
  }
  frames.clear();
  size_t off = 24;
  while (off < data.size()) {
    const std::string where = path + " frame " + std::to_string(frames.size() + 1);
    if (data.size() - off < 16) {
      error = where + ": truncated record header";
      return false;
    }
    const size_t caplen = u32(data.data() + off + 8);
    const size_t wirelen = u32(data.data() + off + 12);
    off += 16;
    if (data.size() - off < caplen) {
      error = where + ": record runs past the end of the file";
      return false;
    }
    if (caplen != wirelen) {
      error = where + ": captured " + std::to_string(caplen) + " of " + std::to_string(wirelen) + " bytes";
      return false;
    }
    CapturedFrame fr;
    fr.number = frames.size() + 1;
    fr.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(off),
                    data.begin() + static_cast<std::ptrdiff_t>(off + caplen));
    off += caplen;
    frames.push_back(std::move(fr));
  }
  return true;
}

}  // namespace pmm::oracle
