#include "perf/feed_packetizer.hpp"

#include <cassert>
#include <stdexcept>

#include "core/binary_file.hpp"
#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "perf/pcap_file.hpp"

namespace pmm::gen {

std::string validate(const PacketizerConfig& c) {
  const size_t smallest = mold::kHeaderSize + mold::kBlockHeaderSize + itch::kMaxMessageLength;
  if (c.max_payload < smallest || c.max_payload > 65535 - net::kIpv4HeaderSize - net::kUdpHeaderSize)
    return "max_payload must be " + std::to_string(smallest) + ".." +
           std::to_string(65535 - net::kIpv4HeaderSize - net::kUdpHeaderSize) + " bytes, got " +
           std::to_string(c.max_payload);
  if (c.max_messages < 1 || c.max_messages > mold::kEndOfSessionCount - 1)
    return "max_messages must be 1..65534, got " + std::to_string(c.max_messages);
  if (c.first_sequence == 0) return "first_sequence must be at least 1";
  return "";
}

static const PacketizerConfig& checked(const PacketizerConfig& c) {
  const std::string error = validate(c);
  if (!error.empty()) throw std::invalid_argument("PacketizerConfig: " + error);
  return c;
}

FeedPacketizer::FeedPacketizer(const PacketizerConfig& config)
    : cfg_(checked(config)),
      buffers_{std::make_unique<uint8_t[]>(cfg_.max_payload), std::make_unique<uint8_t[]>(cfg_.max_payload)},
      builder_(buffers_[0].get(), cfg_.max_payload, cfg_.session, cfg_.first_sequence) {}

void FeedPacketizer::complete() noexcept {
  ready_ = filling_;
  ready_first_ = builder_.next_sequence() - builder_.count();
  ready_count_ = builder_.count();
  ready_len_ = builder_.finish();
  filling_ ^= 1;
  builder_ = mold::PacketBuilder(buffers_[filling_].get(), cfg_.max_payload, cfg_.session, builder_.next_sequence());
}

bool FeedPacketizer::add(const uint8_t* msg, uint16_t len) noexcept {
  assert(len <= max_message_length());
  bool completed = false;
  if (!builder_.add(msg, len)) {
    // Full by size: the open packet holds at least one message, since any message fits an empty one.
    complete();
    completed = true;
    const bool added = builder_.add(msg, len);
    assert(added);
    (void)added;
  }
  if (builder_.count() == cfg_.max_messages) {
    // Cannot follow a size completion: with max_messages == 1 no packet is ever left open.
    assert(!completed);
    complete();
    completed = true;
  }
  return completed;
}

bool FeedPacketizer::flush() noexcept {
  if (builder_.count() == 0) return false;
  complete();
  return true;
}

net::FrameAddress default_feed_address() {
  net::FrameAddress a;
  a.src_ip = 0x0A000001;  // 10.0.0.1
  a.dst_ip = 0xEF010101;  // 239.1.1.1
  a.src_port = 26401;
  a.dst_port = 26400;
  a.dst_mac = net::multicast_mac(a.dst_ip);
  a.src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  return a;
}

namespace {

// Frames packets into the capture; remembers the first write error for the caller.
class FrameSink {
 public:
  FrameSink(PcapWriter& writer, const net::FrameAddress& address, size_t max_payload)
      : writer_(writer), address_(address), frame_(std::make_unique<uint8_t[]>(max_payload + net::kUdpFrameOverhead)),
        cap_(max_payload + net::kUdpFrameOverhead) {}

  bool send(std::span<const uint8_t> payload, uint64_t itch_ts) {
    const size_t n = net::build_udp_frame(frame_.get(), cap_, address_, payload.data(), payload.size(), ip_id_++);
    assert(n != 0);
    return writer_.write(frame_.get(), n, kCaptureDayEpochNs + itch_ts);
  }

 private:
  PcapWriter& writer_;
  net::FrameAddress address_;
  std::unique_ptr<uint8_t[]> frame_;
  size_t cap_;
  uint16_t ip_id_ = 0;
};

}  // namespace

size_t write_day_pcap(const DayConfig& day, const PacketizerConfig& packets, const net::FrameAddress& address,
                      const std::string& path, std::string& error, DayWriteStats* stats) {
  if (std::string e = validate(day); !e.empty()) {
    error = "DayConfig: " + e;
    return 0;
  }
  if (std::string e = validate(packets); !e.empty()) {
    error = "PacketizerConfig: " + e;
    return 0;
  }
  ItchDayGenerator generator(day);
  FeedPacketizer packetizer(packets);
  auto writer = PcapWriter::open(path, error);
  if (!writer) return 0;
  FrameSink sink(*writer, address, packets.max_payload);

  uint8_t msg[itch::kMaxMessageLength];
  uint64_t sequence = packets.first_sequence;  // of the message in hand
  uint64_t open_packet_ts = 0;                 // ITCH time of the open packet's first message
  uint64_t previous_ts = 0;
  bool ok = true;
  for (size_t len; ok && (len = generator.next(msg)) != 0; ++sequence) {
    const uint64_t ts = load_be48(msg + 5);
    if (packets.flush_gap_ns != 0 && packetizer.pending_count() > 0 && ts - open_packet_ts >= packets.flush_gap_ns &&
        packetizer.flush())
      ok = sink.send(packetizer.packet(), previous_ts);
    if (packetizer.pending_count() == 0) open_packet_ts = ts;
    if (packetizer.add(msg, static_cast<uint16_t>(len))) {
      // The completed packet ends with this message, or (when it did not fit) with the one before.
      const bool ends_here = packetizer.packet_first_sequence() + packetizer.packet_count() - 1 == sequence;
      ok = ok && sink.send(packetizer.packet(), ends_here ? ts : previous_ts);
      if (!ends_here) open_packet_ts = ts;
    }
    previous_ts = ts;
  }
  if (ok && packetizer.flush()) ok = sink.send(packetizer.packet(), previous_ts);
  if (ok) {
    uint8_t eos[mold::kHeaderSize];
    const size_t n = mold::encode_end_of_session(eos, packets.session, packetizer.next_sequence());
    ok = sink.send({eos, n}, previous_ts);
  }
  const uint64_t frames = writer->frames();
  if (!writer->close(error) || !ok) {
    if (error.empty()) error = path + ": write failed";
    return 0;
  }
  if (stats != nullptr) *stats = DayWriteStats{generator.produced(), frames, generator.peak_live_orders(),
                                               generator.live_orders()};
  return frames;
}

uint64_t write_day_binaryfile(const DayConfig& day, const std::string& path, std::string& error,
                              DayWriteStats* stats) {
  if (std::string e = validate(day); !e.empty()) {
    error = "DayConfig: " + e;
    return 0;
  }
  ItchDayGenerator generator(day);
  auto writer = BinaryFileWriter::open(path, error);
  if (!writer) return 0;
  uint8_t msg[itch::kMaxMessageLength];
  bool ok = true;
  for (size_t len; ok && (len = generator.next(msg)) != 0;) ok = writer->write(msg, static_cast<uint16_t>(len));
  ok = ok && writer->write_end_of_session();
  if (!writer->close(error) || !ok) {
    if (error.empty()) error = path + ": write failed";
    return 0;
  }
  if (stats != nullptr)
    *stats = DayWriteStats{generator.produced(), 0, generator.peak_live_orders(), generator.live_orders()};
  return generator.produced();
}

}  // namespace pmm::gen
