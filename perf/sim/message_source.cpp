#include "perf/sim/message_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/binary_file.hpp"
#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "core/mold_sequence_tracker.hpp"
#include "core/moldudp64.hpp"
#include "core/udp_frame.hpp"
#include "perf/pcap_file.hpp"

namespace pmm::sim {

namespace {

constexpr size_t kLargestMessage = 65535;  // what a 2-byte length field can frame

class GeneratorSource final : public MessageSource {
 public:
  explicit GeneratorSource(const gen::DayConfig& day) : generator_(day) {}
  bool next(uint8_t* out, uint16_t& len) override {
    const size_t n = generator_.next(out);
    len = static_cast<uint16_t>(n);
    return n != 0;  // the generator never produces an empty message
  }
  uint64_t message_count() const noexcept override { return generator_.config().messages; }
  size_t max_message_length() const noexcept override { return itch::kMaxMessageLength; }
  const char* kind() const noexcept override { return "generator"; }

 private:
  gen::ItchDayGenerator generator_;
};

// Messages of a BinaryFILE up to its end-of-session marker (or the end of the file).
class BinaryFileSource final : public MessageSource {
 public:
  BinaryFileSource(std::unique_ptr<BinaryFileReader> reader, size_t max_len) : reader_(std::move(reader)), max_len_(max_len) {}

  bool next(uint8_t* out, uint16_t& len) override {
    if (done_) return false;
    bool got = false;
    const BinaryFileResult r = reader_->for_each_fast([&](const uint8_t* msg, uint16_t n, uint64_t offset) {
      if (n > max_len_) {
        error_ = "message at byte offset " + std::to_string(offset) + " is longer than when the file was scanned";
        return false;
      }
      std::memcpy(out, msg, n);
      len = n;
      got = error_.empty();
      return false;  // one message per call
    });
    if (got) return true;
    done_ = true;
    if (error_.empty()) error_ = r.error;
    return false;
  }
  uint64_t message_count() const noexcept override { return count_; }
  size_t max_message_length() const noexcept override { return max_len_; }
  const char* kind() const noexcept override { return "binaryfile"; }
  void set_scanned(uint64_t count, size_t max_len) {
    count_ = count;
    max_len_ = max_len;
  }

 private:
  std::unique_ptr<BinaryFileReader> reader_;
  size_t max_len_;
  uint64_t count_ = 0;
  bool done_ = false;
};

// The messages of a capture's MoldUDP64 packets in sequence order: each message once (duplicates and
// the overlapping head of a packet are skipped by a SequenceTracker), whatever the capture's session.
// Frames that are not IPv4/UDP to the port, malformed packets and gaps in the capture are counted.
class PcapSource final : public MessageSource {
 public:
  PcapSource(std::unique_ptr<gen::PcapReader> reader, uint16_t port, size_t max_len)
      : reader_(std::move(reader)), port_(port), max_len_(max_len) {}

  bool next(uint8_t* out, uint16_t& len) override {
    while (remaining_ == 0) {
      if (!next_packet()) return false;
    }
    const uint16_t n = load_be16(cursor_);
    if (n > max_len_) {
      error_ = "a message is longer than when the file was scanned";
      return false;
    }
    if (n != 0) std::memcpy(out, cursor_ + mold::kBlockHeaderSize, n);
    len = n;
    cursor_ += mold::kBlockHeaderSize + n;
    --remaining_;
    return true;
  }
  uint64_t message_count() const noexcept override { return count_; }
  size_t max_message_length() const noexcept override { return max_len_; }
  const char* kind() const noexcept override { return "pcap"; }
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    const mold::SequenceStats& q = tracker_.stats();
    return {{"frames", reader_->frames()},
            {"other_traffic", other_traffic_},
            {"frame_errors", frame_errors_},
            {"malformed_packets", malformed_packets_},
            {"packets", q.packets},
            {"gaps", q.gaps},
            {"gap_messages", q.gap_messages},
            {"duplicate_messages", q.duplicate_messages},
            {"wrong_session", q.wrong_session},
            {"cut_frames", reader_->cut_frames()}};
  }
  void set_scanned(uint64_t count, size_t max_len) {
    count_ = count;
    max_len_ = max_len;
  }

 private:
  // Moves to the next packet with new messages; false at the end of the capture or on a read error.
  bool next_packet() {
    const uint8_t* data;
    size_t len;
    uint64_t ts;
    for (;;) {
      if (!reader_->next(data, len, ts)) {
        error_ = reader_->error();
        return false;
      }
      net::UdpView udp;
      const net::FrameError e = net::parse_udp_frame(data, len, udp);
      if (e == net::FrameError::kNotIpv4 || e == net::FrameError::kNotUdp) {
        ++other_traffic_;
        continue;
      }
      if (e != net::FrameError::kNone) {
        ++frame_errors_;
        continue;
      }
      if (port_ != 0 && udp.addr.dst_port != port_) {
        ++other_traffic_;
        continue;
      }
      mold::DownstreamPacket packet;
      if (mold::parse_downstream(udp.payload, udp.len, packet) != mold::ParseError::kNone) {
        ++malformed_packets_;
        continue;
      }
      const mold::Verdict v = tracker_.on_packet(packet.header);
      if (v.kind != mold::Verdict::Kind::kDeliver) continue;
      cursor_ = packet.blocks;
      for (uint16_t i = 0; i < v.skip; ++i) cursor_ += mold::kBlockHeaderSize + load_be16(cursor_);
      remaining_ = static_cast<uint16_t>(packet.message_count() - v.skip);
      if (remaining_ != 0) return true;
    }
  }

  std::unique_ptr<gen::PcapReader> reader_;
  uint16_t port_;
  size_t max_len_;
  uint64_t count_ = 0;
  mold::SequenceTracker tracker_;
  const uint8_t* cursor_ = nullptr;  // next message block of the current packet
  uint16_t remaining_ = 0;           // its messages not yet returned
  uint64_t other_traffic_ = 0;
  uint64_t frame_errors_ = 0;
  uint64_t malformed_packets_ = 0;
};

bool is_capture_magic(const uint8_t m[4]) {
  const uint32_t le = uint32_t{m[0]} | uint32_t{m[1]} << 8 | uint32_t{m[2]} << 16 | uint32_t{m[3]} << 24;
  const uint32_t be = load_be32(m);
  for (uint32_t magic : {gen::kPcapMagicNanosecond, gen::kPcapMagicMicrosecond})
    if (le == magic || be == magic) return true;
  return le == gen::kPcapngMagic;
}

// Fresh sources over the file, count not yet known (nullptr and error on failure).
std::unique_ptr<PcapSource> open_pcap(const ReplayConfig& c, std::string& error) {
  auto reader = gen::PcapReader::open(c.path, error);
  return reader ? std::make_unique<PcapSource>(std::move(reader), c.udp_port, kLargestMessage) : nullptr;
}

std::unique_ptr<BinaryFileSource> open_binaryfile(const ReplayConfig& c, std::string& error) {
  auto reader = BinaryFileReader::open(c.path, error);
  return reader ? std::make_unique<BinaryFileSource>(std::move(reader), kLargestMessage) : nullptr;
}

// Reads the whole file once for its count and longest message, then reopens it for publishing.
template <class Open>
std::unique_ptr<MessageSource> scan_and_open(const ReplayConfig& c, Open open, std::string& error) {
  auto scan = open(c, error);
  if (!scan) return nullptr;
  auto buf = std::make_unique<uint8_t[]>(kLargestMessage);
  uint64_t count = 0;
  size_t longest = 0;
  for (uint16_t len = 0; scan->next(buf.get(), len);) {
    ++count;
    longest = std::max<size_t>(longest, len);
  }
  if (!scan->error().empty()) {
    error = scan->error();
    if (error.find(c.path) == std::string::npos) error = c.path + ": " + error;
    return nullptr;
  }
  auto source = open(c, error);
  if (!source) return nullptr;
  source->set_scanned(count, longest);
  return source;
}

}  // namespace

std::unique_ptr<MessageSource> make_generator_source(const gen::DayConfig& day) {
  return std::make_unique<GeneratorSource>(day);
}

std::unique_ptr<MessageSource> open_replay_source(const ReplayConfig& config, std::string& error) {
  std::FILE* f = std::fopen(config.path.c_str(), "rb");
  if (f == nullptr) {
    error = config.path + ": " + std::strerror(errno);
    return nullptr;
  }
  uint8_t magic[4] = {};
  const size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  if (got == sizeof magic && is_capture_magic(magic)) return scan_and_open(config, open_pcap, error);
  return scan_and_open(config, open_binaryfile, error);
}

}  // namespace pmm::sim
