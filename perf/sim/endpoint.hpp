// An IPv4 address and UDP port, as the simulator's options spell them ("127.0.0.1:26400"). Parsed by
// hand (no resolver, no locale), so a bad value gets an exact reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pmm::sim {

struct Endpoint {
  uint32_t ip = 0;  // host order: 127.0.0.1 is 0x7F000001
  uint16_t port = 0;

  bool is_multicast() const noexcept { return (ip >> 28) == 0xE; }  // 224.0.0.0/4
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

inline constexpr uint32_t kLoopback = 0x7F000001;

// Dotted quad, four decimal octets 0..255. False with the reason in error.
bool parse_ipv4(std::string_view text, uint32_t& out, std::string& error);
// "A.B.C.D:PORT", port 0..65535. False with the reason in error.
bool parse_endpoint(std::string_view text, Endpoint& out, std::string& error);

std::string ipv4_to_string(uint32_t ip);
std::string to_string(const Endpoint& e);

}  // namespace pmm::sim
