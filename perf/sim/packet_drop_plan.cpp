#include "perf/sim/packet_drop_plan.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace pmm::sim {

namespace {

// splitmix64's finaliser: a well-mixed 64-bit hash of (seed, packet number), the same everywhere.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::string validate(const DropConfig& c) {
  if (!(c.rate >= 0.0 && c.rate <= 1.0)) return "drop rate must be a probability 0..1, got " + std::to_string(c.rate);
  for (uint64_t p : c.packets)
    if (p == 0) return "packet numbers start at 1";
  return "";
}

bool parse_packet_list(std::string_view text, std::vector<uint64_t>& out, std::string& error) {
  out.clear();
  if (text.empty()) return true;
  for (size_t start = 0;;) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    uint64_t v = 0;
    bool ok = !item.empty() && item.size() <= 19;  // below 2^63: no overflow
    for (char c : item) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok || v == 0) {
      error = "'" + std::string(text) + "' is not a list of packet numbers N,N,... (each 1 or more): bad item '" +
              std::string(item) + "'";
      return false;
    }
    out.push_back(v);
    if (comma == text.size()) return true;
    start = comma + 1;
  }
}

PacketDropPlan::PacketDropPlan(DropConfig config) : listed_(std::move(config.packets)), seed_(config.seed) {
  assert(validate(DropConfig{{}, config.rate, config.seed}).empty());
  std::sort(listed_.begin(), listed_.end());
  listed_.erase(std::unique(listed_.begin(), listed_.end()), listed_.end());
  drop_all_ = config.rate >= 1.0;
  threshold_ = config.rate <= 0.0 ? 0 : static_cast<uint64_t>(std::ldexp(config.rate, 64));
}

bool PacketDropPlan::should_drop(uint64_t packet) noexcept {
  while (next_listed_ < listed_.size() && listed_[next_listed_] < packet) ++next_listed_;
  if (next_listed_ < listed_.size() && listed_[next_listed_] == packet) return true;
  return drop_all_ || mix(seed_ ^ mix(packet)) < threshold_;
}

}  // namespace pmm::sim
