// The input of the feed benchmarks: a generated ITCH day packed into MoldUDP64 packets, all in
// memory before any timing starts, and the command-line flags that size it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <ctime>
#include <string>
#include <vector>

#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"

namespace pmm::bench {

// Thread CPU time in nanoseconds: the clock of Google Benchmark's default CPU column, read around
// the timed work to derive per-message and per-operation costs (ns_per_msg, ns_per_op) as plain
// numbers in nanoseconds.
inline uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// One MoldUDP64 packet inside PacketDay::bytes.
struct PacketSlice {
  uint64_t offset;
  uint32_t length;
};

struct PacketDay {
  std::vector<uint8_t> bytes;  // the packets back to back
  std::vector<PacketSlice> packets;
  uint64_t messages = 0;
  uint64_t peak_live_orders = 0;  // as reported by the generator
};

// The day every feed benchmark runs: 5 M messages, 8000 symbols, ~1 M live orders (the brief's
// "full day" at reduced length). Override with --day_messages=N --day_symbols=N
// --day_live_orders=N --day_seed=N.
inline gen::DayConfig& day_config() {
  static gen::DayConfig config{.seed = 1, .messages = 5'000'000, .symbols = 8000, .target_live_orders = 1'000'000};
  return config;
}

// Takes the --day_* flags out of argv (after benchmark::Initialize took its own). Returns false and
// prints what is wrong for a malformed value.
inline bool take_day_flags(int& argc, char** argv) {
  struct Flag {
    const char* prefix;
    uint64_t max;
    void (*set)(uint64_t);
  };
  static const Flag kFlags[] = {
      {"--day_messages=", UINT64_MAX, [](uint64_t v) { day_config().messages = v; }},
      {"--day_symbols=", 65535, [](uint64_t v) { day_config().symbols = static_cast<uint32_t>(v); }},
      {"--day_live_orders=", UINT32_MAX, [](uint64_t v) { day_config().target_live_orders = static_cast<uint32_t>(v); }},
      {"--day_seed=", UINT64_MAX, [](uint64_t v) { day_config().seed = v; }},
  };
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    bool taken = false;
    for (const Flag& f : kFlags) {
      const size_t n = std::strlen(f.prefix);
      if (std::strncmp(argv[i], f.prefix, n) != 0) continue;
      char* end = nullptr;
      const uint64_t v = std::strtoull(argv[i] + n, &end, 10);
      if (end == argv[i] + n || *end != '\0' || v == 0 || v > f.max) {
        std::fprintf(stderr, "%s: expected an integer in 1 .. %llu, got '%s'\n", f.prefix,
                     static_cast<unsigned long long>(f.max), argv[i] + n);
        return false;
      }
      f.set(v);
      taken = true;
    }
    if (!taken) argv[kept++] = argv[i];
  }
  argc = kept;
  const std::string bad = gen::validate(day_config());
  if (!bad.empty()) {
    std::fprintf(stderr, "day config: %s\n", bad.c_str());
    return false;
  }
  return true;
}

// packets: how messages are grouped (default: up to 64 per packet, 1400 bytes, as a busy publisher
// sends them; a few per packet is closer to a feed at 1 M messages/s).
inline PacketDay make_packet_day(const gen::DayConfig& config, const gen::PacketizerConfig& packets = {}) {
  PacketDay day;
  gen::ItchDayGenerator generator(config);
  gen::FeedPacketizer packetizer(packets);
  // ~37 bytes per message with its block header, plus the packet headers.
  day.bytes.reserve(config.messages * 40);
  day.packets.reserve(config.messages / 30 + 16);
  const auto keep_packet = [&] {
    const std::span<const uint8_t> p = packetizer.packet();
    day.packets.push_back(PacketSlice{day.bytes.size(), static_cast<uint32_t>(p.size())});
    day.bytes.insert(day.bytes.end(), p.begin(), p.end());
  };
  uint8_t msg[64];
  for (size_t len; (len = generator.next(msg)) != 0;) {
    ++day.messages;
    if (packetizer.add(msg, static_cast<uint16_t>(len))) keep_packet();
  }
  if (packetizer.flush()) keep_packet();
  day.peak_live_orders = generator.peak_live_orders();
  return day;
}

// Built on first use (outside any timed region), shared by every benchmark in the binary.
inline const PacketDay& packet_day() {
  static const PacketDay day = [] {
    std::fprintf(stderr, "generating %llu messages, %u symbols, %u target live orders (seed %llu)...\n",
                 static_cast<unsigned long long>(day_config().messages), day_config().symbols,
                 day_config().target_live_orders, static_cast<unsigned long long>(day_config().seed));
    PacketDay d = make_packet_day(day_config());
    std::fprintf(stderr, "  %zu packets, %.1f MB, peak live orders %llu\n", d.packets.size(),
                 static_cast<double>(d.bytes.size()) / 1e6, static_cast<unsigned long long>(d.peak_live_orders));
    return d;
  }();
  return day;
}

}  // namespace pmm::bench
