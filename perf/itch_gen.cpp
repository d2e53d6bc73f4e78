// itch-gen: writes a deterministic synthetic ITCH 5.0 day as a BinaryFILE or as a pcap of
// MoldUDP64/UDP frames (or generates it without writing, to time the generator).
//
//   itch-gen --messages 30000000 --out /tmp/day.itch
//   itch-gen --messages 1000000 --format pcap --out /tmp/day.pcap --port 26400
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/itch.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

struct Options {
  pmm::gen::DayConfig day;
  std::string format = "binaryfile";
  std::string out;
  uint16_t port = 26400;
  std::string session = "PMMSIM0001";
  size_t max_payload = 1400;
  uint16_t max_messages = 64;
  uint64_t flush_gap_ns = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Writes a deterministic synthetic NASDAQ TotalView-ITCH 5.0 day."};
  app.add_option("--seed", o.day.seed, "Random seed (same seed and options: same bytes)")->capture_default_str();
  app.add_option("--messages", o.day.messages, "Messages in the day")->capture_default_str();
  app.add_option("--symbols", o.day.symbols, "Symbols (locates 1..N), 1..65535")->capture_default_str();
  app.add_option("--live-orders", o.day.target_live_orders, "Live orders the day ramps up to and holds")
      ->capture_default_str();
  app.add_option("--format", o.format, "binaryfile, pcap, or none (generate only, for timing)")
      ->check(CLI::IsMember({"binaryfile", "pcap", "none"}))
      ->capture_default_str();
  app.add_option("--out", o.out, "Output file (not used with --format none)");
  app.add_option("--port", o.port, "pcap: UDP destination port")->capture_default_str();
  app.add_option("--session", o.session, "pcap: MoldUDP64 session (up to 10 characters)")->capture_default_str();
  app.add_option("--max-payload", o.max_payload, "pcap: UDP payload bytes per packet")->capture_default_str();
  app.add_option("--max-messages", o.max_messages, "pcap: messages per packet")->capture_default_str();
  app.add_option("--flush-gap-ns", o.flush_gap_ns,
                 "pcap: close a packet before a message this much later than its first (0: size/count only)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (const std::string e = pmm::gen::validate(o.day); !e.empty()) {
    std::fprintf(stderr, "itch-gen: %s\n", e.c_str());
    return 1;
  }
  if (o.format != "none" && o.out.empty()) {
    std::fprintf(stderr, "itch-gen: --out is required with --format %s\n", o.format.c_str());
    return 1;
  }
  if (o.session.size() > 10) {
    std::fprintf(stderr, "itch-gen: --session '%s' is longer than 10 characters\n", o.session.c_str());
    return 1;
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  pmm::gen::DayWriteStats stats;
  if (o.format == "none") {
    pmm::gen::ItchDayGenerator generator(o.day);
    uint8_t msg[pmm::itch::kMaxMessageLength];
    uint64_t bytes = 0;
    for (size_t len; (len = generator.next(msg)) != 0;) bytes += len;
    const double s = seconds_since(t0);
    std::printf("generated %llu messages (%llu bytes, not written) in %.3f s: %.1f ns/message\n",
                static_cast<unsigned long long>(generator.produced()), static_cast<unsigned long long>(bytes), s,
                generator.produced() ? s * 1e9 / static_cast<double>(generator.produced()) : 0.0);
    std::printf("live orders: %llu at end, peak %llu\n", static_cast<unsigned long long>(generator.live_orders()),
                static_cast<unsigned long long>(generator.peak_live_orders()));
    return 0;
  }

  if (o.format == "binaryfile") {
    if (pmm::gen::write_day_binaryfile(o.day, o.out, error, &stats) == 0 && !error.empty()) {
      std::fprintf(stderr, "itch-gen: %s\n", error.c_str());
      return 1;
    }
  } else {
    pmm::gen::PacketizerConfig packets;
    packets.session = pmm::mold::make_session(o.session.c_str());
    packets.max_payload = o.max_payload;
    packets.max_messages = o.max_messages;
    packets.flush_gap_ns = o.flush_gap_ns;
    if (const std::string e = pmm::gen::validate(packets); !e.empty()) {
      std::fprintf(stderr, "itch-gen: %s\n", e.c_str());
      return 1;
    }
    pmm::net::FrameAddress address = pmm::gen::default_feed_address();
    address.dst_port = o.port;
    if (pmm::gen::write_day_pcap(o.day, packets, address, o.out, error, &stats) == 0) {
      std::fprintf(stderr, "itch-gen: %s\n", error.c_str());
      return 1;
    }
  }
  const double s = seconds_since(t0);
  std::error_code ec;
  const auto size = std::filesystem::file_size(o.out, ec);
  std::printf("wrote %llu messages", static_cast<unsigned long long>(stats.messages));
  if (o.format == "pcap") std::printf(" in %llu frames", static_cast<unsigned long long>(stats.frames));
  std::printf(" to %s (%s, %llu bytes) in %.3f s: %.1f ns/message (generate + write)\n", o.out.c_str(),
              o.format.c_str(), ec ? 0ull : static_cast<unsigned long long>(size), s,
              stats.messages ? s * 1e9 / static_cast<double>(stats.messages) : 0.0);
  std::printf("live orders: %llu at end, peak %llu\n", static_cast<unsigned long long>(stats.live_orders_at_end),
              static_cast<unsigned long long>(stats.peak_live_orders));
  return 0;
}
