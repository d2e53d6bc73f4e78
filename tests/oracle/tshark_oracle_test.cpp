// Checks our MoldUDP64 / ITCH 5.0 bytes and decoding against tshark (docs/tshark-oracle.md):
// a capture is written, tshark decodes it (built-in moldudp64 and nasdaq_itch dissectors, plus the
// spec field table itch50_oracle.lua), core/ decodes it, and every value is compared as text.
//
// tshark is a required test dependency: when it is missing the tests fail, unless PMM_SKIP_TSHARK=1.
#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/moldudp64.hpp"
#include "core/udp_frame.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"
#include "tests/oracle/itch_fields.hpp"
#include "tests/oracle/pcap_frames.hpp"
#include "tests/oracle/tshark_oracle.hpp"

#ifndef PMM_ITCH50_LUA
#error "PMM_ITCH50_LUA (path of itch50_oracle.lua) is set by tests/oracle/meson.build"
#endif

namespace pmm::oracle {
namespace {

// ---------------------------------------------------------------------------------------------
// Random traffic: every field of every message type gets random values (edge values 0 and max
// often), so each byte of each field is exercised, not only the values a realistic day holds.

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  // A value of `bits` bits: 0 or all ones one time in eight each, otherwise uniform.
  uint64_t pick(unsigned bits) {
    const uint64_t max = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    switch (below(8)) {
      case 0: return 0;
      case 1: return max;
      default: return next() & max;
    }
  }
  char printable() { return static_cast<char>(0x20 + below(0x7f - 0x20)); }

 private:
  uint64_t state_;
};

class RandomFieldFiller {
 public:
  explicit RandomFieldFiller(SplitMix64& rng) : rng_(rng) {}
  void begin(const char*, itch::Header& h) {
    h.locate = static_cast<uint16_t>(rng_.pick(16));
    h.tracking = static_cast<uint16_t>(rng_.pick(16));
    h.timestamp = rng_.pick(48);
  }
  void u32(const char*, uint32_t& v) { v = static_cast<uint32_t>(rng_.pick(32)); }
  void price4(const char*, uint32_t& v) { v = static_cast<uint32_t>(rng_.pick(32)); }
  void u64(const char*, uint64_t& v) { v = rng_.pick(64); }
  void price8(const char*, uint64_t& v) { v = rng_.pick(64); }
  void alpha(const char*, char& c) { c = rng_.printable(); }
  template <size_t N>
  void alpha(const char*, std::array<char, N>& a) {
    for (char& c : a) c = rng_.printable();
  }

 private:
  SplitMix64& rng_;
};

// dispatch() picks the struct for the type byte; the handler fills and encodes a fresh one.
struct RandomMessageMaker {
  SplitMix64& rng;
  std::vector<uint8_t>& out;
  template <class Msg>
  void on(const Msg&) {
    Msg m;
    RandomFieldFiller filler(rng);
    visit_fields(m, filler);
    out.assign(Msg::kLength, 0);
    encode(m, out.data());
  }
};

std::vector<uint8_t> random_message(uint8_t type, SplitMix64& rng) {
  std::vector<uint8_t> probe(itch::message_length(type), 0);
  probe[0] = type;
  std::vector<uint8_t> out;
  RandomMessageMaker maker{rng, out};
  itch::dispatch(probe.data(), probe.size(), maker);
  return out;
}

constexpr uint16_t kFeedPort = 26400;  // as perf/'s default_feed_address()

// A MoldUDP64 session of `messages` random messages, 1..40 per packet, with heartbeats between
// packets, an end-of-session packet last, and one unrelated UDP frame first. Frames are built by
// core/udp_frame.hpp (IPv4 and UDP checksums filled), which tshark verifies too.
bool write_random_feed(const std::string& path, uint64_t seed, size_t messages, std::string& error) {
  SplitMix64 rng(seed);
  PcapFrameWriter w;
  if (!w.open(path, error)) return false;
  net::FrameAddress feed;
  feed.src_mac = {0x02, 0, 0, 0, 0, 0x01};
  feed.src_ip = 0x0A000001;   // 10.0.0.1
  feed.src_port = 40000;
  feed.dst_ip = 0xE9360C6F;   // 233.54.12.111
  feed.dst_mac = net::multicast_mac(feed.dst_ip);
  feed.dst_port = kFeedPort;
  net::FrameAddress other = feed;
  other.dst_ip = 0x0A000002;
  other.dst_mac = {0x02, 0, 0, 0, 0, 0x02};
  other.dst_port = 9;

  uint8_t frame[1500];
  uint16_t ip_id = 0;
  uint64_t now_ns = 34'200'000'000'000;
  auto put = [&](const net::FrameAddress& to, const uint8_t* payload, size_t len) {
    const size_t n = net::build_udp_frame(frame, sizeof frame, to, payload, len, ip_id++);
    if (n == 0) {
      error = "build_udp_frame refused a " + std::to_string(len) + "-byte payload";
      return false;
    }
    return w.write(frame, n, now_ns, error);
  };
  const uint8_t noise[] = "not a MoldUDP64 packet";
  if (!put(other, noise, sizeof noise)) return false;

  char session_text[11] = {};
  for (int i = 0; i < 10; ++i) session_text[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "[rng.below(37)];
  const mold::SessionId session = mold::make_session(session_text);
  uint64_t sequence = 1 + (rng.next() >> 24);
  uint8_t buf[1400];
  std::vector<uint8_t> pending;
  size_t left = messages;
  while (left > 0) {
    now_ns += 1 + rng.below(100'000);
    if (rng.below(20) == 0) {
      if (!put(feed, buf, mold::encode_heartbeat(buf, session, sequence))) return false;
      continue;
    }
    mold::PacketBuilder b(buf, sizeof buf, session, sequence);
    const uint32_t want = 1 + rng.below(40);
    while (b.count() < want && left > 0) {
      if (pending.empty()) pending = random_message(static_cast<uint8_t>(itch::kAllTypes[rng.below(23)]), rng);
      if (!b.add(pending.data(), static_cast<uint16_t>(pending.size()))) break;
      pending.clear();
      --left;
    }
    const size_t n = b.finish();
    sequence = b.next_sequence();
    if (!put(feed, buf, n)) return false;
  }
  ++now_ns;
  if (!put(feed, buf, mold::encode_end_of_session(buf, session, sequence))) return false;
  if (!w.close()) {
    error = "closing " + path;
    return false;
  }
  return true;
}

// The MoldUDP64 payload of a frame to the feed port, or an empty view.
struct FeedPayload {
  const uint8_t* data = nullptr;
  size_t len = 0;
};
FeedPayload feed_payload(const CapturedFrame& f, uint16_t port) {
  net::UdpView udp;
  if (net::parse_udp_frame(f.bytes.data(), f.bytes.size(), udp) != net::FrameError::kNone ||
      udp.addr.dst_port != port)
    return {};
  return {udp.payload, udp.len};
}

std::string listed(const OracleReport& r) {
  std::string s = r.summary();
  for (const std::string& m : r.mismatches) s += "\n  " + m;
  if (r.mismatch_count > r.mismatches.size())
    s += "\n  ... and " + std::to_string(r.mismatch_count - r.mismatches.size()) + " more";
  return s;
}

// ---------------------------------------------------------------------------------------------
// The comparator itself, without tshark.

TEST(TsharkOracleRendering, Price4IsTheExactDecimal) {
  EXPECT_EQ(render_price4(0), "0");
  EXPECT_EQ(render_price4(1), "0.0001");
  EXPECT_EQ(render_price4(10), "0.001");
  EXPECT_EQ(render_price4(123), "0.0123");
  EXPECT_EQ(render_price4(10000), "1");
  EXPECT_EQ(render_price4(1500100), "150.01");
  EXPECT_EQ(render_price4(1234567), "123.4567");
  EXPECT_EQ(render_price4(99999999), "9999.9999");
  EXPECT_EQ(render_price4(2000000000), "200000");  // the spec's maximum Price(4)
  EXPECT_EQ(render_price4(4294967295u), "429496.7295");
}

TEST(TsharkOracleRendering, AlphaIsPrintableAsciiOrAMismatchMarker) {
  EXPECT_EQ(render_alpha("AAPL    ", 8), "AAPL    ");
  EXPECT_EQ(render_alpha("a\\|\"~ ", 6), "a\\|\"~ ");
  const char with_nul[] = {'A', '\0', 'B'};
  EXPECT_NE(render_alpha(with_nul, 3).find("0x00 at 1"), std::string::npos);
  const char high[] = {'\xe9'};
  EXPECT_NE(render_alpha(high, 1).find("0xe9 at 0"), std::string::npos);
}

TEST(TsharkOracleComparator, EqualListsCompareEveryValue) {
  SplitMix64 rng(7);
  const std::vector<uint8_t> msg = random_message('I', rng);
  const FieldList fields = render_itch(msg.data(), msg.size());
  ASSERT_EQ(fields.size(), 1u + 3u + 9u);  // type, header, the NOII's 9 fields
  std::vector<std::string> mismatches;
  EXPECT_EQ(compare_fields(fields, fields, "ctx", mismatches), fields.size());
  EXPECT_TRUE(mismatches.empty());
}

// Changing any one byte of any expected value must be reported, naming the field.
TEST(TsharkOracleComparator, AnyChangedByteOfAnyValueIsAMismatch) {
  SplitMix64 rng(11);
  size_t flips = 0;
  for (const char* t = itch::kAllTypes; *t != '\0'; ++t) {
    const std::vector<uint8_t> msg = random_message(static_cast<uint8_t>(*t), rng);
    const FieldList theirs = render_itch(msg.data(), msg.size());
    for (size_t f = 0; f < theirs.size(); ++f) {
      for (size_t j = 0; j < theirs[f].value.size(); ++j) {
        FieldList ours = theirs;
        ours[f].value[j] = static_cast<char>(ours[f].value[j] ^ 0x01);
        std::vector<std::string> mismatches;
        compare_fields(ours, theirs, "ctx", mismatches);
        ASSERT_EQ(mismatches.size(), 1u) << theirs[f].name << " byte " << j;
        EXPECT_NE(mismatches[0].find(theirs[f].name), std::string::npos) << mismatches[0];
        ++flips;
      }
    }
  }
  EXPECT_GT(flips, 500u);
}

TEST(TsharkOracleComparator, AMissingOrExtraFieldIsAMismatch) {
  const FieldList theirs = {{"a", "1"}, {"b", "2"}};
  std::vector<std::string> mismatches;
  compare_fields({{"a", "1"}}, theirs, "ctx", mismatches);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_NE(mismatches[0].find("ours has no such field"), std::string::npos);
  mismatches.clear();
  compare_fields({{"a", "1"}, {"b", "2"}, {"c", "3"}}, theirs, "ctx", mismatches);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_NE(mismatches[0].find("tshark has no such field"), std::string::npos);
  mismatches.clear();
  compare_fields({{"a", "1"}, {"a", "1"}}, {{"a", "1"}}, "ctx", mismatches);  // duplicates count too
  EXPECT_EQ(mismatches.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Against tshark.

// One capture decoded by both sides, shared by the tests that look at it from different angles.
struct DecodedCapture {
  std::string pcap;
  std::vector<CapturedFrame> frames;
  CaptureView ours;
  CaptureView theirs;
};

class TsharkOracle : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    random_capture_.reset();
    if (!workdir_.empty() && std::getenv("PMM_KEEP_ORACLE_FILES") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(workdir_, ec);
    }
    workdir_.clear();
  }

  void SetUp() override {
    const std::string program = find_tshark();
    if (program.empty()) {
      const char* skip = std::getenv("PMM_SKIP_TSHARK");
      if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "tshark not found and PMM_SKIP_TSHARK=1";
      FAIL() << "tshark not found on PATH (or PMM_TSHARK): it is a required test dependency, installed by the "
                "setup script (apt-get install tshark). Set PMM_SKIP_TSHARK=1 to skip these tests.";
    }
    if (workdir_.empty()) {
      std::string tmpl = ::testing::TempDir() + "pmm_tshark_oracle_XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
      workdir_ = tmpl;
    }
    const char* lua_env = std::getenv("PMM_ITCH50_LUA");
    const std::string lua = lua_env != nullptr ? lua_env : PMM_ITCH50_LUA;
    ASSERT_TRUE(std::filesystem::exists(lua)) << "missing " << lua;
    tshark_ = std::make_unique<Tshark>(program, lua, workdir_, kFeedPort);
    std::string version, error;
    ASSERT_TRUE(tshark_->version(version, error)) << error;
    RecordProperty("tshark", version);
  }

  // Reads `pcap` back and decodes it with both sides.
  void decode(const std::string& pcap, uint16_t feed_port, DecodedCapture& out) {
    out.pcap = pcap;
    std::string error;
    ASSERT_TRUE(read_pcap_frames(pcap, out.frames, error)) << error;
    out.ours = our_view(out.frames, feed_port);
    ASSERT_TRUE(tshark_->view(pcap, out.theirs, error)) << error;
  }

  const DecodedCapture& random_capture() {
    if (!random_capture_) {
      auto c = std::make_unique<DecodedCapture>();
      std::string error;
      const std::string pcap = workdir_ + "/random_feed.pcap";
      EXPECT_TRUE(write_random_feed(pcap, kRandomSeed, kRandomMessages, error)) << error;
      decode(pcap, kFeedPort, *c);
      random_capture_ = std::move(c);
    }
    return *random_capture_;
  }

  static constexpr uint64_t kRandomSeed = 0x5eed'0a4c'1e00'0001;
  static constexpr size_t kRandomMessages = 6000;
  static constexpr size_t kDayMessages = 20000;

  std::unique_ptr<Tshark> tshark_;
  static inline std::string workdir_;
  static inline std::unique_ptr<DecodedCapture> random_capture_;
};

TEST_F(TsharkOracle, LuaFieldTableMatchesOurFieldNames) {
  std::vector<std::string> names;
  std::string error;
  ASSERT_TRUE(tshark_->itch50_field_names(names, error)) << error;
  // Every field tshark exposes is one we render, and the other way round.
  std::vector<std::string> ours = {"itch50.type", "itch50.locate", "itch50.tracking", "itch50.timestamp"};
  SplitMix64 rng(3);
  for (const char* t = itch::kAllTypes; *t != '\0'; ++t) {
    const std::vector<uint8_t> msg = random_message(static_cast<uint8_t>(*t), rng);
    for (const Field& f : render_itch(msg.data(), msg.size()))
      if (f.name.find('.', 7) != std::string::npos) ours.push_back(f.name);  // itch50.<message>.<field>
  }
  std::sort(names.begin(), names.end());
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(names, ours);
  EXPECT_EQ(names.size(), 4u + 99u);  // header fields + the 99 message fields of itch50.txt
}

TEST_F(TsharkOracle, RandomFieldValuesOfAllTypesMatch) {
  const DecodedCapture& c = random_capture();
  if (HasFatalFailure()) return;
  const OracleReport r = compare_views(c.ours, c.theirs);
  std::printf("[tshark oracle, random values] %s\n", r.summary().c_str());
  RecordProperty("summary", r.summary());
  EXPECT_EQ(r.mismatch_count, 0u) << listed(r);
  EXPECT_EQ(r.messages, kRandomMessages);
  EXPECT_EQ(r.types_seen(), 23u) << r.summary();
  // Each message: type, locate, tracking, timestamp and at least one field of its own.
  EXPECT_GE(r.itch_values_compared, 5 * kRandomMessages);
  EXPECT_GE(r.framing_values_compared, 5 * kRandomMessages);
  // The end-of-session packet draws Wireshark 4.0's request comment; later versions may not.
  EXPECT_LE(r.eos_request_comments, 1u);
}

// Flipping any one byte of a message on our side must show up as an ITCH field mismatch: the
// ITCH comparison covers every byte of every message type, not just the raw payload bytes.
TEST_F(TsharkOracle, EveryByteOfEveryMessageTypeIsCompared) {
  const DecodedCapture& c = random_capture();
  if (HasFatalFailure()) return;
  std::array<bool, 256> done{};
  size_t flips = 0;
  for (const CapturedFrame& f : c.frames) {
    const FeedPayload payload = feed_payload(f, kFeedPort);
    if (payload.data == nullptr) continue;
    mold::DownstreamPacket pkt;
    ASSERT_EQ(mold::parse_downstream(payload.data, payload.len, pkt), mold::ParseError::kNone);
    const PacketView& theirs = c.theirs[f.number - 1];
    size_t k = 0;
    pkt.for_each_message([&](uint64_t, const uint8_t* m, uint16_t len) {
      const size_t index = k++;
      if (done[m[0]] || index >= theirs.messages.size()) return;
      done[m[0]] = true;
      const FieldList& their_fields = theirs.messages[index].itch;
      std::vector<std::string> mismatches;
      ASSERT_EQ(compare_fields(render_itch(m, len), their_fields, "pristine", mismatches), their_fields.size());
      ASSERT_TRUE(mismatches.empty()) << mismatches[0];
      for (size_t b = 0; b < len; ++b) {
        std::vector<uint8_t> flipped(m, m + len);
        flipped[b] ^= 0x01;
        mismatches.clear();
        compare_fields(render_itch(flipped.data(), len), their_fields, "flipped", mismatches);
        EXPECT_FALSE(mismatches.empty()) << "type '" << static_cast<char>(m[0]) << "' byte " << b
                                         << " is not covered by any compared field";
        ++flips;
      }
    });
  }
  size_t types = 0;
  size_t expected_flips = 0;
  for (const char* t = itch::kAllTypes; *t != '\0'; ++t) {
    types += done[static_cast<uint8_t>(*t)];
    expected_flips += itch::message_length(static_cast<uint8_t>(*t));
  }
  EXPECT_EQ(types, 23u);
  EXPECT_EQ(flips, expected_flips);  // 696: every byte of one message of each type
}

// The same for the MoldUDP64 header and the first block's length field.
TEST_F(TsharkOracle, EveryMoldUdp64HeaderByteIsCompared) {
  const DecodedCapture& c = random_capture();
  if (HasFatalFailure()) return;
  for (const CapturedFrame& f : c.frames) {
    const FeedPayload payload = feed_payload(f, kFeedPort);
    if (payload.len <= mold::kHeaderSize + 2) continue;
    const PacketView& theirs = c.theirs[f.number - 1];
    // Our view of a (changed) payload, with the frame-level checksum verdicts of the real frame.
    auto ours = [&](const std::vector<uint8_t>& bytes) {
      PacketView v = our_packet_view(f.number, bytes.data(), bytes.size());
      for (const char* name : {"ip.checksum.status", "udp.checksum.status"})
        set_field(v.header, name, *find_field(c.ours[f.number - 1].header, name));
      return v;
    };
    const std::vector<uint8_t> pristine(payload.data, payload.data + payload.len);
    const OracleReport same = compare_views({ours(pristine)}, {theirs});
    ASSERT_EQ(same.mismatch_count, 0u) << listed(same);
    for (size_t b = 0; b < mold::kHeaderSize + 2; ++b) {
      std::vector<uint8_t> flipped = pristine;
      flipped[b] ^= 0x01;
      const OracleReport r = compare_views({ours(flipped)}, {theirs});
      EXPECT_GT(r.mismatch_count, 0u) << "MoldUDP64 byte " << b << " is not covered";
    }
    return;  // one packet is enough
  }
  FAIL() << "no MoldUDP64 packet with messages in the capture";
}

// A seeded day from perf/'s generator, framed by its packetizer and pcap writer: the traffic the
// benchmarks and replay tools use, checked end to end.
TEST_F(TsharkOracle, GeneratedDayMatches) {
  gen::DayConfig day;
  day.seed = 20240102;
  day.messages = kDayMessages;
  day.symbols = 120;                // few enough that the start-of-day spin leaves room for trading
  day.target_live_orders = 4000;
  const gen::PacketizerConfig packets;  // 1400-byte payloads, up to 64 messages
  const net::FrameAddress address = gen::default_feed_address();
  const std::string pcap = workdir_ + "/generated_day.pcap";
  std::string error;
  ASSERT_GT(gen::write_day_pcap(day, packets, address, pcap, error), 0u) << error;

  DecodedCapture c;
  decode(pcap, address.dst_port, c);
  if (HasFatalFailure()) return;
  const OracleReport r = compare_views(c.ours, c.theirs);
  std::printf("[tshark oracle, generated day] %s\n", r.summary().c_str());
  RecordProperty("summary", r.summary());
  EXPECT_EQ(r.mismatch_count, 0u) << listed(r);
  EXPECT_EQ(r.messages, kDayMessages);
  EXPECT_GE(r.itch_values_compared, 5 * kDayMessages);
  // The types a day's order flow and start-of-day spin always contain (the generator's header lists
  // what else it sends); the random traffic above covers all 23.
  for (const char* t = "SRHAFEXDUP"; *t != '\0'; ++t)
    EXPECT_GT(r.messages_by_type[static_cast<uint8_t>(*t)], 0u) << "no '" << *t << "' in the day";
}

}  // namespace
}  // namespace pmm::oracle
