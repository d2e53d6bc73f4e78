// Packs ITCH messages into MoldUDP64 downstream packets the way a publisher does (size and count
// limits), and writes whole generated days to BinaryFILE or to a pcap of Ethernet/IPv4/UDP frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/moldudp64.hpp"
#include "core/udp_frame.hpp"
#include "perf/itch_day_generator.hpp"

namespace pmm::gen {

struct PacketizerConfig {
  mold::SessionId session = mold::make_session("PMMSIM0001");
  uint64_t first_sequence = 1;
  size_t max_payload = 1400;     // UDP payload bytes: MoldUDP64 header + message blocks
  uint16_t max_messages = 64;    // 1 .. 65534
  // write_day_pcap only: close a packet before a message that comes this many nanoseconds (ITCH
  // timestamp) after the packet's first one, as a publisher does not hold data back. 0: only the
  // size and count limits close packets.
  uint64_t flush_gap_ns = 0;
};

// "" when usable, else what is wrong (max_payload must hold a header and the longest ITCH message).
std::string validate(const PacketizerConfig& config);

class FeedPacketizer {
 public:
  // Throws std::invalid_argument when validate() fails. Allocates its two packet buffers here only.
  explicit FeedPacketizer(const PacketizerConfig& config);

  // Appends a message (len <= max_message_length()). Returns true when a packet became complete:
  // either this message filled it to max_messages, or it did not fit and now starts the next one.
  // The completed packet stays readable through packet() until the next add() or flush().
  bool add(const uint8_t* msg, uint16_t len) noexcept;
  // Completes a partial packet; false when there was nothing to complete.
  bool flush() noexcept;

  std::span<const uint8_t> packet() const noexcept { return {buffers_[ready_].get(), ready_len_}; }
  uint64_t packet_first_sequence() const noexcept { return ready_first_; }
  uint16_t packet_count() const noexcept { return ready_count_; }

  // Sequence number the next added message will get; messages in the open packet.
  uint64_t next_sequence() const noexcept { return builder_.next_sequence(); }
  uint16_t pending_count() const noexcept { return builder_.count(); }
  size_t max_message_length() const noexcept { return cfg_.max_payload - mold::kHeaderSize - mold::kBlockHeaderSize; }
  const PacketizerConfig& config() const noexcept { return cfg_; }

 private:
  void complete() noexcept;

  PacketizerConfig cfg_;
  std::unique_ptr<uint8_t[]> buffers_[2];
  int filling_ = 0;  // buffer the builder writes into; the other one holds the completed packet
  int ready_ = 1;
  size_t ready_len_ = 0;
  uint64_t ready_first_ = 0;
  uint16_t ready_count_ = 0;
  mold::PacketBuilder builder_;
};

// The feed's addresses in generated captures: 10.0.0.1:26401 -> 239.1.1.1:26400 (only bytes in a
// file), multicast destination MAC, locally administered source MAC.
net::FrameAddress default_feed_address();

// Nanoseconds since the epoch of midnight (US Eastern, EST) on the day generated captures carry:
// 2024-01-02 00:00 EST. ITCH timestamps are added to it.
inline constexpr uint64_t kCaptureDayEpochNs = 1'704'171'600ull * 1'000'000'000ull;

// What a write_day_* call produced, for reports.
struct DayWriteStats {
  uint64_t messages = 0;
  uint64_t frames = 0;  // pcap only
  uint64_t peak_live_orders = 0;
  uint64_t live_orders_at_end = 0;
};

// Generates the day into a pcap of MoldUDP64 packets (frame timestamp = the ITCH timestamp of the
// packet's last message), followed by an end-of-session packet. Returns the frames written, or 0
// with error set.
size_t write_day_pcap(const DayConfig& day, const PacketizerConfig& packets, const net::FrameAddress& address,
                      const std::string& path, std::string& error, DayWriteStats* stats = nullptr);

// Generates the day into a BinaryFILE ending with the end-of-session marker. Returns the messages
// written, or 0 with error set.
uint64_t write_day_binaryfile(const DayConfig& day, const std::string& path, std::string& error,
                              DayWriteStats* stats = nullptr);

}  // namespace pmm::gen
