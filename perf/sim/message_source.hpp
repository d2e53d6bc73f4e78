// Where the simulated feed's messages come from: the seeded day generator, or a recorded day
// (BinaryFILE, or a pcap/pcapng of MoldUDP64 over UDP whose messages are taken out of their packets
// to be re-packetized in our own session). A source knows its message count and longest message
// before the first message is read, so the retransmission history can be allocated up front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "perf/itch_day_generator.hpp"

namespace pmm::sim {

class MessageSource {
 public:
  virtual ~MessageSource() = default;

  // Copies the next message into out (room for max_message_length() bytes); false at the end, or
  // when reading failed (error() then says why). Messages may be empty (MoldUDP64 allows it).
  virtual bool next(uint8_t* out, uint16_t& len) = 0;

  virtual uint64_t message_count() const noexcept = 0;
  virtual size_t max_message_length() const noexcept = 0;
  virtual const char* kind() const noexcept = 0;  // "generator", "binaryfile", "pcap"
  const std::string& error() const noexcept { return error_; }
  // What the source skipped or found odd on the way (pcap: frames of other traffic, duplicates...).
  virtual std::vector<std::pair<std::string, uint64_t>> counters() const { return {}; }

 protected:
  std::string error_;
};

// Throws std::invalid_argument when gen::validate(day) fails.
std::unique_ptr<MessageSource> make_generator_source(const gen::DayConfig& day);

struct ReplayConfig {
  std::string path;
  uint16_t udp_port = 0;  // pcap: only UDP datagrams to this destination port; 0: every UDP datagram
};

// Detects the format from the first bytes (pcap/pcapng magic, else BinaryFILE) and reads the file once
// to count its messages; nullptr and the reason (with the path and byte offset) when the file cannot
// be read to its end.
std::unique_ptr<MessageSource> open_replay_source(const ReplayConfig& config, std::string& error);

}  // namespace pmm::sim
