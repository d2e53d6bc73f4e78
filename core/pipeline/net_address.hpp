// Text forms of the addresses in the configuration: "10.77.0.2", "10.77.0.1:26410", "02:00:00:77:00:02".
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pmm::pipe {

// Dotted-quad IPv4 to host order; false unless s is exactly four decimal numbers 0..255 (digits
// only: no spaces, signs or empty parts).
inline bool parse_ipv4(const std::string& s, uint32_t& out) {
  uint32_t ip = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
    if (i == start || v > 255) return false;
    ip = (ip << 8) | v;
  }
  if (i != s.size()) return false;
  out = ip;
  return true;
}

inline std::string format_ipv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
         "." + std::to_string(ip & 255);
}

// "ip:port"; false unless both parts are valid (port 1..65535).
inline bool parse_endpoint(const std::string& s, uint32_t& ip, uint16_t& port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  if (!parse_ipv4(s.substr(0, colon), ip)) return false;
  const std::string p = s.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long v = std::stoul(p);
  if (v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

// "aa:bb:cc:dd:ee:ff": exactly six pairs of hex digits (either case) separated by colons.
inline bool parse_mac(const std::string& s, std::array<uint8_t, 6>& out) {
  if (s.size() != 17) return false;
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<uint8_t, 6> m{};
  for (size_t k = 0; k < 6; ++k) {
    const int hi = hex(s[k * 3]), lo = hex(s[k * 3 + 1]);
    if (hi < 0 || lo < 0 || (k < 5 && s[k * 3 + 2] != ':')) return false;
    m[k] = static_cast<uint8_t>(hi * 16 + lo);
  }
  out = m;
  return true;
}

inline std::string format_mac(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace pmm::pipe
