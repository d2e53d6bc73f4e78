// Which feed packets the simulator leaves off the wire, to give receivers gaps to recover: listed
// packet numbers, plus a seeded random fraction. A packet's fate depends only on its number and the
// configuration, so a run is repeatable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmm::sim {

struct DropConfig {
  std::vector<uint64_t> packets;  // 1-based numbers of the feed's data packets (heartbeats not counted)
  double rate = 0.0;              // 0..1: probability that any other packet is dropped
  uint64_t seed = 1;
};

// "" when usable, else what is wrong.
std::string validate(const DropConfig& config);

// "3,7,10" -> {3, 7, 10}: positive decimal numbers separated by commas; "" is the empty list.
bool parse_packet_list(std::string_view text, std::vector<uint64_t>& out, std::string& error);

class PacketDropPlan {
 public:
  explicit PacketDropPlan(DropConfig config);  // config must validate
  // Asked for packet numbers 1, 2, 3, ... in order.
  bool should_drop(uint64_t packet) noexcept;

 private:
  std::vector<uint64_t> listed_;  // sorted, unique
  size_t next_listed_ = 0;
  uint64_t threshold_ = 0;        // drop when the packet's hash is below (rate * 2^64, saturated)
  bool drop_all_ = false;
  uint64_t seed_;
};

}  // namespace pmm::sim
