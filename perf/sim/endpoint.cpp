#include "perf/sim/endpoint.hpp"

namespace pmm::sim {

namespace {

// Decimal digits only (no sign, no spaces), at most `max`; false when empty, not digits or too big.
bool parse_decimal(std::string_view s, uint32_t max, uint32_t& out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_ipv4(std::string_view text, uint32_t& out, std::string& error) {
  uint32_t ip = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? rest.find('.') : rest.size();
    uint32_t octet = 0;
    if (dot == std::string_view::npos || !parse_decimal(rest.substr(0, dot), 255, octet)) {
      error = "'" + std::string(text) + "' is not an IPv4 address (A.B.C.D, each 0..255)";
      return false;
    }
    ip = ip << 8 | octet;
    rest = i < 3 ? rest.substr(dot + 1) : std::string_view{};
  }
  out = ip;
  return true;
}

bool parse_endpoint(std::string_view text, Endpoint& out, std::string& error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = "'" + std::string(text) + "' is not IP:PORT (for example 127.0.0.1:26400)";
    return false;
  }
  Endpoint e;
  if (!parse_ipv4(text.substr(0, colon), e.ip, error)) {
    error = "'" + std::string(text) + "' is not IP:PORT: " + error;
    return false;
  }
  uint32_t port = 0;
  if (!parse_decimal(text.substr(colon + 1), 65535, port)) {
    error = "'" + std::string(text) + "' is not IP:PORT: the port must be 0..65535";
    return false;
  }
  e.port = static_cast<uint16_t>(port);
  out = e;
  return true;
}

std::string ipv4_to_string(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string(ip >> 16 & 0xFF) + "." + std::to_string(ip >> 8 & 0xFF) +
         "." + std::to_string(ip & 0xFF);
}

std::string to_string(const Endpoint& e) { return ipv4_to_string(e.ip) + ":" + std::to_string(e.port); }

}  // namespace pmm::sim
