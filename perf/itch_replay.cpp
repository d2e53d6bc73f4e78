// itch-replay: builds every order book from a BinaryFILE or a pcap/pcapng capture of MoldUDP64 over
// UDP (detected from the first bytes) and reports message counts, errors, book state, top of book
// for chosen symbols, and the book-building cost per message.
//
//   itch-replay /tmp/day.itch --symbols AAPL,MSFT
//   itch-replay /tmp/day.pcap --port 26400 --json
//
// Exit status: 0 clean; 1 the input could not be read completely (or bad options); 2 the input was
// read but the feed had anomalies (malformed messages or packets, frame errors, sequence gaps,
// references to unknown orders, ...) or --check found a broken book invariant.
#include <CLI/CLI.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/binary_file.hpp"
#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/udp_frame.hpp"
#include "perf/pcap_file.hpp"
#include "perf/json_text.hpp"

namespace {

using Clock = std::chrono::steady_clock;

enum class Format { kBinaryFile, kPcap };

struct Options {
  std::string path;
  uint16_t port = 26400;
  std::vector<std::string> symbols{"AAPL", "MSFT"};
  bool json = false;
  bool check = false;
  pmm::book::BookCapacity capacity;
};

struct Replay {
  Format format = Format::kBinaryFile;
  uint64_t input_bytes = 0;
  bool end_of_session = false;  // BinaryFILE zero-length message / MoldUDP64 end-of-session packet
  std::string input_error;      // the input could not be read to its end
  double apply_seconds = 0;     // on_messages / on_burst calls only, elapsed
  double apply_cpu_seconds = 0; // the same, this thread's CPU time (what a loaded machine does not inflate)
  double wall_seconds = 0;
  // pcap only
  uint64_t frames = 0;
  uint64_t cut_frames = 0;
  uint64_t other_traffic = 0;   // not IPv4/UDP, or another port: skipped, not an error
  std::array<uint64_t, pmm::net::kFrameErrorCount> frame_errors{};
  std::string invariant_error;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct ApplyTime {
  double elapsed = 0;
  double cpu = 0;
};

// Messages (or packets) are copied into a chunk first, so the timed loop does nothing but apply.
struct Chunk {
  static constexpr size_t kBytes = 4 << 20;
  static constexpr size_t kItems = 1 << 16;
  std::unique_ptr<uint8_t[]> bytes = std::make_unique<uint8_t[]>(kBytes);
  std::vector<uint32_t> offset;
  std::vector<uint32_t> len;
  size_t used = 0;

  std::vector<pmm::MessageRef> message_refs;
  std::vector<pmm::PacketRef> packet_refs;

  Chunk() {
    offset.reserve(kItems);
    len.reserve(kItems);
    message_refs.reserve(kItems);
    packet_refs.reserve(kItems);
  }
  bool has_room(size_t n) const { return offset.size() < kItems && kBytes - used >= n; }
  void push(const uint8_t* p, size_t n) {
    std::memcpy(bytes.get() + used, p, n);
    offset.push_back(static_cast<uint32_t>(used));
    len.push_back(static_cast<uint32_t>(n));
    used += n;
  }
  void clear() {
    offset.clear();
    len.clear();
    used = 0;
  }
  // Hands the whole chunk to the builder in one call, so its prefetch pipeline runs from the
  // chunk's first message to its last instead of restarting every few dozen messages.
  ApplyTime apply_messages(pmm::BookBuilder& builder) {
    const auto t0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    const uint8_t* base = bytes.get();
    message_refs.clear();
    for (size_t i = 0; i < offset.size(); ++i)
      message_refs.push_back(pmm::MessageRef{base + offset[i], static_cast<uint16_t>(len[i])});
    builder.on_messages(message_refs.data(), message_refs.size());
    return {std::chrono::duration<double>(Clock::now() - t0).count(), thread_cpu_seconds() - c0};
  }
  // The same for MoldUDP64 packets (BookBuilder::on_burst: one pipeline across the packets).
  ApplyTime apply_packets(pmm::BookBuilder& builder) {
    const auto t0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    const uint8_t* base = bytes.get();
    packet_refs.clear();
    for (size_t i = 0; i < offset.size(); ++i) packet_refs.push_back(pmm::PacketRef{base + offset[i], len[i]});
    builder.on_burst(packet_refs.data(), packet_refs.size());
    return {std::chrono::duration<double>(Clock::now() - t0).count(), thread_cpu_seconds() - c0};
  }
};

void add_time(Replay& r, ApplyTime t) {
  r.apply_seconds += t.elapsed;
  r.apply_cpu_seconds += t.cpu;
}

bool is_pcap_magic(const uint8_t m[4]) {
  const uint32_t le = uint32_t{m[0]} | uint32_t{m[1]} << 8 | uint32_t{m[2]} << 16 | uint32_t{m[3]} << 24;
  const uint32_t be = __builtin_bswap32(le);
  for (uint32_t magic : {pmm::gen::kPcapMagicNanosecond, pmm::gen::kPcapMagicMicrosecond})
    if (le == magic || be == magic) return true;
  return le == pmm::gen::kPcapngMagic;
}

void replay_binaryfile(const Options& o, pmm::BookBuilder& builder, Replay& r) {
  std::string error;
  auto reader = pmm::BinaryFileReader::open(o.path, error);
  if (!reader) {
    r.input_error = error;
    return;
  }
  Chunk chunk;
  for (;;) {
    bool chunk_full = false;
    const pmm::BinaryFileResult res = reader->for_each_fast([&](const uint8_t* msg, uint16_t len, uint64_t) {
      chunk.push(msg, len);
      // Stop before a message that might not fit (the largest possible BinaryFILE message).
      chunk_full = !chunk.has_room(65535);
      return !chunk_full;
    });
    add_time(r, chunk.apply_messages(builder));
    chunk.clear();
    if (!res.error.empty()) {
      r.input_error = res.error;
      return;
    }
    if (res.end_of_session) {
      r.end_of_session = true;
      return;
    }
    if (!chunk_full) return;  // end of file
  }
}

void replay_pcap(const Options& o, pmm::BookBuilder& builder, Replay& r) {
  std::string error;
  auto reader = pmm::gen::PcapReader::open(o.path, error);
  if (!reader) {
    r.input_error = error;
    return;
  }
  Chunk chunk;
  const auto apply = [&] {
    add_time(r, chunk.apply_packets(builder));
    chunk.clear();
  };
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  while (reader->next(data, len, ts)) {
    pmm::net::UdpView udp;
    const pmm::net::FrameError e = pmm::net::parse_udp_frame(data, len, udp);
    if (e == pmm::net::FrameError::kNotIpv4 || e == pmm::net::FrameError::kNotUdp) {
      ++r.other_traffic;
      continue;
    }
    if (e != pmm::net::FrameError::kNone) {
      ++r.frame_errors[static_cast<size_t>(e)];
      continue;
    }
    if (udp.addr.dst_port != o.port) {
      ++r.other_traffic;
      continue;
    }
    if (!chunk.has_room(udp.len)) apply();
    chunk.push(udp.payload, udp.len);
  }
  apply();
  r.frames = reader->frames();
  r.cut_frames = reader->cut_frames();
  r.input_error = reader->error();
  r.end_of_session = builder.sequence().ended();
}

const char* state_name(char state) {
  switch (state) {
    case 'T': return "trading";
    case 'H': return "halted";
    case 'P': return "paused";
    case 'Q': return "quotation only";
    default: return "unknown";
  }
}

std::string dollars(uint32_t price4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%04u", price4 / 10000, price4 % 10000);
  return buf;
}

using pmm::tools::json_escape;

// Named error counters, in report order; the exit status is 2 when any is non-zero.
std::vector<std::pair<std::string, uint64_t>> error_counters(const pmm::BookBuilder& b, const Replay& r) {
  const pmm::FeedStats& f = b.stats();
  const pmm::book::BookStats& s = b.books().stats();
  std::vector<std::pair<std::string, uint64_t>> e = {
      {"unknown_type", f.unknown_type},
      {"bad_length", f.bad_length},
      {"empty_messages", f.empty_messages},
      {"unknown_order", s.unknown_order},
      {"duplicate_order", s.duplicate_order},
      {"bad_side", s.bad_side},
      {"zero_shares", s.zero_shares},
      {"over_execution", s.over_execution},
      {"locate_out_of_range", s.locate_out_of_range},
      {"order_capacity_exceeded", s.order_capacity_exceeded},
      {"level_capacity_exceeded", s.level_capacity_exceeded},
  };
  if (r.format == Format::kPcap) {
    const pmm::mold::SequenceStats& q = b.sequence().stats();
    e.insert(e.end(), {{"malformed_packets", f.malformed_packets},
                       {"gaps", q.gaps},
                       {"gap_messages", q.gap_messages},
                       {"duplicate_packets", q.duplicate_packets},
                       {"wrong_session", q.wrong_session},
                       {"cut_frames", r.cut_frames}});
    static constexpr const char* kFrameKeys[pmm::net::kFrameErrorCount] = {
        "", "frame_short", "", "frame_bad_ip_header", "frame_ip_checksum", "frame_fragmented",
        "", "frame_bad_udp_length", "frame_udp_checksum", "frame_truncated"};
    for (size_t k = 0; k < pmm::net::kFrameErrorCount; ++k)
      if (kFrameKeys[k][0] != '\0') e.emplace_back(kFrameKeys[k], r.frame_errors[k]);
  }
  return e;
}

struct TopLine {
  std::string symbol;
  int32_t locate = -1;
  pmm::book::TopOfBook top;
  char state = ' ';
};

std::vector<TopLine> top_lines(const Options& o, const pmm::BookBuilder& b) {
  std::vector<TopLine> lines;
  for (const std::string& s : o.symbols) {
    TopLine t;
    t.symbol = s;
    t.locate = b.find_locate(s);
    if (t.locate >= 0) {
      t.top = b.books().top(static_cast<uint16_t>(t.locate));
      t.state = b.trading_state(static_cast<uint16_t>(t.locate));
    }
    lines.push_back(t);
  }
  return lines;
}

double ns_per_message(const pmm::BookBuilder& b, double seconds) {
  const uint64_t n = b.stats().messages;
  return n ? seconds * 1e9 / static_cast<double>(n) : 0.0;
}

void print_text(const Options& o, const pmm::BookBuilder& b, const Replay& r) {
  const pmm::FeedStats& f = b.stats();
  std::printf("input: %s (%s, %" PRIu64 " bytes)\n", o.path.c_str(),
              r.format == Format::kPcap ? "pcap" : "BinaryFILE", r.input_bytes);
  if (r.format == Format::kPcap)
    std::printf("frames: %" PRIu64 ", MoldUDP64 packets %" PRIu64 ", other traffic %" PRIu64 "\n", r.frames,
                f.packets, r.other_traffic);
  std::printf("messages: %" PRIu64 " (end of session: %s)\n", f.messages, r.end_of_session ? "yes" : "no");
  std::printf("by type:");
  const uint64_t total = f.messages + f.unknown_type;
  for (int t = 0; t < 256; ++t)
    if (f.by_type[t] != 0)
      std::printf(" %c %" PRIu64 " (%.2f%%)", t >= 0x21 && t < 0x7F ? t : '?', f.by_type[t],
                  100.0 * static_cast<double>(f.by_type[t]) / static_cast<double>(total));
  std::printf("\nerrors:");
  bool any = false;
  for (const auto& [name, value] : error_counters(b, r)) {
    if (value == 0) continue;
    std::printf(" %s %" PRIu64, name.c_str(), value);
    any = true;
  }
  std::printf("%s\n", any ? "" : " none");
  std::printf("books: %" PRIu64 " live orders, %" PRIu64 " levels, digest 0x%016" PRIx64 "\n",
              b.books().live_orders(), b.books().live_levels(), b.books().digest());
  if (o.check) std::printf("invariants: %s\n", r.invariant_error.empty() ? "ok" : r.invariant_error.c_str());
  for (const TopLine& t : top_lines(o, b)) {
    if (t.locate < 0) {
      std::printf("%-8s not in the stock directory\n", t.symbol.c_str());
      continue;
    }
    std::printf("%-8s bid ", t.symbol.c_str());
    if (t.top.bid.shares)
      std::printf("%s x %" PRIu64 " (%u orders)", dollars(t.top.bid.price).c_str(), t.top.bid.shares, t.top.bid.orders);
    else
      std::printf("-");
    std::printf("  ask ");
    if (t.top.ask.shares)
      std::printf("%s x %" PRIu64 " (%u orders)", dollars(t.top.ask.price).c_str(), t.top.ask.shares, t.top.ask.orders);
    else
      std::printf("-");
    std::printf("  %s\n", state_name(t.state));
  }
  std::printf("book building: %.1f ns/message CPU time, %.1f elapsed (%.3f s applying %" PRIu64
              " messages); wall %.3f s\n",
              ns_per_message(b, r.apply_cpu_seconds), ns_per_message(b, r.apply_seconds), r.apply_seconds, f.messages,
              r.wall_seconds);
}

void print_json(const Options& o, const pmm::BookBuilder& b, const Replay& r) {
  const pmm::FeedStats& f = b.stats();
  std::printf("{\"input\": \"%s\", \"format\": \"%s\", \"input_bytes\": %" PRIu64 ",\n", json_escape(o.path).c_str(),
              r.format == Format::kPcap ? "pcap" : "binaryfile", r.input_bytes);
  std::printf(" \"messages\": %" PRIu64 ", \"end_of_session\": %s,\n", f.messages, r.end_of_session ? "true" : "false");
  if (r.format == Format::kPcap)
    std::printf(" \"frames\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"other_traffic\": %" PRIu64 ",\n", r.frames,
                f.packets, r.other_traffic);
  std::printf(" \"by_type\": {");
  const char* sep = "";
  for (int t = 0; t < 256; ++t) {
    if (f.by_type[t] == 0) continue;
    const char c = static_cast<char>(t);
    std::printf("%s\"%s\": %" PRIu64, sep, json_escape(std::string(1, c)).c_str(), f.by_type[t]);
    sep = ", ";
  }
  std::printf("},\n \"errors\": {");
  sep = "";
  for (const auto& [name, value] : error_counters(b, r)) {
    std::printf("%s\"%s\": %" PRIu64, sep, name.c_str(), value);
    sep = ", ";
  }
  std::printf("%s\"input\": \"%s\"},\n", sep, json_escape(r.input_error).c_str());
  std::printf(" \"live_orders\": %" PRIu64 ", \"live_levels\": %" PRIu64 ", \"digest\": \"0x%016" PRIx64 "\",\n",
              b.books().live_orders(), b.books().live_levels(), b.books().digest());
  if (o.check) std::printf(" \"invariants\": \"%s\",\n", json_escape(r.invariant_error).c_str());
  std::printf(" \"top\": {");
  sep = "";
  for (const TopLine& t : top_lines(o, b)) {
    std::printf("%s\"%s\": ", sep, json_escape(t.symbol).c_str());
    sep = ", ";
    if (t.locate < 0) {
      std::printf("null");
      continue;
    }
    std::printf("{\"locate\": %d, \"state\": \"%s\", \"bid\": {\"price\": %u, \"shares\": %" PRIu64
                ", \"orders\": %u}, \"ask\": {\"price\": %u, \"shares\": %" PRIu64 ", \"orders\": %u}}",
                t.locate, json_escape(std::string(1, t.state)).c_str(), t.top.bid.price, t.top.bid.shares,
                t.top.bid.orders, t.top.ask.price, t.top.ask.shares, t.top.ask.orders);
  }
  std::printf("},\n \"ns_per_message\": %.3f, \"cpu_ns_per_message\": %.3f, \"apply_seconds\": %.6f, "
              "\"apply_cpu_seconds\": %.6f, \"wall_seconds\": %.6f}\n",
              ns_per_message(b, r.apply_seconds), ns_per_message(b, r.apply_cpu_seconds), r.apply_seconds,
              r.apply_cpu_seconds, r.wall_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string symbols = "AAPL,MSFT";
  CLI::App app{"Builds all ITCH 5.0 order books from a BinaryFILE or a pcap of MoldUDP64 packets."};
  app.add_option("input", o.path, "BinaryFILE, pcap or pcapng file (detected from its first bytes)")->required();
  app.add_option("--port", o.port, "pcap: UDP destination port of the feed")->capture_default_str();
  app.add_option("--symbols", symbols, "Comma-separated symbols to show the top of book for")->capture_default_str();
  app.add_flag("--json", o.json, "Machine-readable output");
  app.add_flag("--check", o.check, "Walk the books and check every invariant at the end");
  app.add_option("--max-orders", o.capacity.max_orders, "Book capacity: live orders")->capture_default_str();
  app.add_option("--max-levels", o.capacity.max_levels, "Book capacity: live price levels")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  o.symbols.clear();
  for (size_t start = 0; start <= symbols.size();) {
    const size_t comma = std::min(symbols.find(',', start), symbols.size());
    if (comma > start) o.symbols.push_back(symbols.substr(start, comma - start));
    start = comma + 1;
  }
  if (const std::string e = pmm::book::validate(o.capacity); !e.empty()) {
    std::fprintf(stderr, "itch-replay: book capacity: %s\n", e.c_str());
    return 1;
  }

  const auto t0 = Clock::now();
  Replay r;
  {
    std::FILE* f = std::fopen(o.path.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "itch-replay: %s: %s\n", o.path.c_str(), std::strerror(errno));
      return 1;
    }
    uint8_t magic[4] = {};
    const size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    r.format = got == 4 && is_pcap_magic(magic) ? Format::kPcap : Format::kBinaryFile;
    std::error_code ec;
    r.input_bytes = std::filesystem::file_size(o.path, ec);
  }

  auto builder = std::make_unique<pmm::BookBuilder>(o.capacity);
  if (r.format == Format::kPcap)
    replay_pcap(o, *builder, r);
  else
    replay_binaryfile(o, *builder, r);
  if (o.check) r.invariant_error = builder->books().check_invariants();
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  if (o.json)
    print_json(o, *builder, r);
  else
    print_text(o, *builder, r);
  std::fflush(stdout);

  if (!r.input_error.empty()) {
    std::fprintf(stderr, "itch-replay: %s\n", r.input_error.c_str());
    return 1;
  }
  if (r.format == Format::kBinaryFile && !r.end_of_session)
    std::fprintf(stderr, "itch-replay: warning: %s has no end-of-session marker (incomplete file?)\n",
                 o.path.c_str());
  for (const auto& [name, value] : error_counters(*builder, r)) {
    if (value != 0) {
      std::fprintf(stderr, "itch-replay: feed anomalies (see errors)\n");
      return 2;
    }
  }
  if (!r.invariant_error.empty()) {
    std::fprintf(stderr, "itch-replay: book invariant broken: %s\n", r.invariant_error.c_str());
    return 2;
  }
  return 0;
}
