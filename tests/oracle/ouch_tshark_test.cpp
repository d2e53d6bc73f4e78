// tshark as an independent decoder of our OUCH 4.2 bytes (docs/tshark-oracle.md, "OUCH 4.2").
//
// Random OUCH messages of every type tshark 4.0's `ouch` dissector knows (inbound O U X M; outbound
// S A U C D E B G F J P I T M) are encoded by core/ouch42.hpp, framed by core/soupbintcp.hpp as
// Unsequenced Data (client) and Sequenced Data (server) after a Login Request / Login Accepted, and
// written as one TCP connection (Ethernet/IPv4/TCP with real sequence numbers and checksums) to a pcap.
// tshark decodes it with `-d tcp.port==P,soupbintcp`; every ouch.* field it registers is asked for,
// and for every frame the set of fields it prints must equal, name by name and value by value, what
// we put in: a field only one side has is a mismatch too.
//
// tshark is a required test dependency, as for tshark_oracle: missing, the tests fail unless
// PMM_SKIP_TSHARK=1, which turns that into a skip.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/byte_order.hpp"
#include "core/ouch42.hpp"
#include "core/soupbintcp.hpp"
#include "tests/oracle/pcap_frames.hpp"
#include "tests/oracle/tshark_oracle.hpp"

namespace {

namespace ouch = pmm::ouch;
namespace soup = pmm::soup;
using pmm::oracle::Field;
using pmm::oracle::FieldList;

constexpr uint16_t kOrderPort = 15100;   // the server's; tshark is told it is SoupBinTCP
constexpr uint16_t kClientPort = 40001;
constexpr uint64_t kSeed = 0x0c4'42'0001;
constexpr size_t kRandomMessages = 600;

// ---- Field visitors: one per message, naming each member by its tshark field ----
// Messages tshark 4.0 decodes; Trade Now ('N') it shows only as bytes, so it is not generated here.

template <class V> void visit(ouch::EnterOrder& m, V& v) {
  v.token("ouch.order_token", m.token);
  v.chr("ouch.buy_sell_indicator", m.side);
  v.u32("ouch.shares", m.shares);
  v.alpha("ouch.stock", m.stock);
  v.u32("ouch.price", m.price);
  v.u32("ouch.tif", m.time_in_force);
  v.alpha("ouch.firm", m.firm);
  v.chr("ouch.display", m.display);
  v.chr("ouch.capacity", m.capacity);
  v.chr("ouch.iso_eligible", m.intermarket_sweep);
  v.u32("ouch.min_quantity", m.min_quantity);
  v.chr("ouch.cross_type", m.cross_type);
  v.chr("ouch.customer_type", m.customer_type);
}
template <class V> void visit(ouch::ReplaceOrder& m, V& v) {
  v.token("ouch.existing_order_token", m.existing_token);
  v.token("ouch.replacement_order_token", m.replacement_token);
  v.u32("ouch.shares", m.shares);
  v.u32("ouch.price", m.price);
  v.u32("ouch.tif", m.time_in_force);
  v.chr("ouch.display", m.display);
  v.chr("ouch.iso_eligible", m.intermarket_sweep);
  v.u32("ouch.min_quantity", m.min_quantity);
}
template <class V> void visit(ouch::CancelOrder& m, V& v) {
  v.token("ouch.order_token", m.token);
  v.u32("ouch.shares", m.shares);
}
template <class V> void visit(ouch::ModifyOrder& m, V& v) {
  v.token("ouch.order_token", m.token);
  v.chr("ouch.buy_sell_indicator", m.side);
  v.u32("ouch.shares", m.shares);
}
template <class V> void visit(ouch::SystemEvent& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.chr("ouch.event_code", m.event_code);
}
template <class V> void visit(ouch::Accepted& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.chr("ouch.buy_sell_indicator", m.side);
  v.u32("ouch.shares", m.shares);
  v.alpha("ouch.stock", m.stock);
  v.u32("ouch.price", m.price);
  v.u32("ouch.tif", m.time_in_force);
  v.alpha("ouch.firm", m.firm);
  v.chr("ouch.display", m.display);
  v.u64("ouch.order_reference_number", m.order_ref);
  v.chr("ouch.capacity", m.capacity);
  v.chr("ouch.iso_eligible", m.intermarket_sweep);
  v.u32("ouch.min_quantity", m.min_quantity);
  v.chr("ouch.cross_type", m.cross_type);
  v.chr("ouch.order_state", m.order_state);
  v.chr("ouch.bbo_weight_indicator", m.bbo_weight);
}
template <class V> void visit(ouch::Replaced& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.replacement_order_token", m.replacement_token);
  v.chr("ouch.buy_sell_indicator", m.side);
  v.u32("ouch.shares", m.shares);
  v.alpha("ouch.stock", m.stock);
  v.u32("ouch.price", m.price);
  v.u32("ouch.tif", m.time_in_force);
  v.alpha("ouch.firm", m.firm);
  v.chr("ouch.display", m.display);
  v.u64("ouch.order_reference_number", m.order_ref);
  v.chr("ouch.capacity", m.capacity);
  v.chr("ouch.iso_eligible", m.intermarket_sweep);
  v.u32("ouch.min_quantity", m.min_quantity);
  v.chr("ouch.cross_type", m.cross_type);
  v.chr("ouch.order_state", m.order_state);
  v.token("ouch.previous_order_token", m.previous_token);
  v.chr("ouch.bbo_weight_indicator", m.bbo_weight);
}
template <class V> void visit(ouch::Canceled& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.decrement_shares", m.decrement_shares);
  v.chr("ouch.cancel_reason", m.reason);
}
template <class V> void visit(ouch::AiqCanceled& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.decrement_shares", m.decrement_shares);
  v.chr("ouch.cancel_reason", m.reason);
  v.u32("ouch.quantity_prevented_from_trading", m.quantity_prevented);
  v.u32("ouch.execution_price", m.execution_price);
  v.chr("ouch.liquidity_flag", m.liquidity_flag);
}
template <class V> void visit(ouch::Executed& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.executed_shares", m.executed_shares);
  v.u32("ouch.execution_price", m.execution_price);
  v.chr("ouch.liquidity_flag", m.liquidity_flag);
  v.u64("ouch.match_number", m.match);
}
template <class V> void visit(ouch::BrokenTrade& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u64("ouch.match_number", m.match);
  v.chr("ouch.broken_trade_reason", m.reason);
}
template <class V> void visit(ouch::ExecutedWithReferencePrice& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.executed_shares", m.executed_shares);
  v.u32("ouch.execution_price", m.execution_price);
  v.chr("ouch.liquidity_flag", m.liquidity_flag);
  v.u64("ouch.match_number", m.match);
  v.u32("ouch.reference_price", m.reference_price);
  v.chr_as_uint("ouch.reference_price_type", m.reference_price_type);  // FT_UINT32 in Wireshark 4.0
}
template <class V> void visit(ouch::TradeCorrection& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.executed_shares", m.executed_shares);
  v.u32("ouch.execution_price", m.execution_price);
  v.chr("ouch.liquidity_flag", m.liquidity_flag);
  v.u64("ouch.match_number", m.match);
  v.chr("ouch.trade_correction_reason", m.reason);
}
template <class V> void visit(ouch::Rejected& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.chr("ouch.reject_reason", m.reason);
}
template <class V> void visit(ouch::CancelPending& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
}
template <class V> void visit(ouch::CancelReject& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
}
template <class V> void visit(ouch::PriorityUpdate& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.u32("ouch.price", m.price);
  v.chr("ouch.display", m.display);
  v.u64("ouch.order_reference_number", m.order_ref);
}
template <class V> void visit(ouch::OrderModified& m, V& v) {
  v.timestamp("ouch.timestamp", m.timestamp);
  v.token("ouch.order_token", m.token);
  v.chr("ouch.buy_sell_indicator", m.side);
  v.u32("ouch.shares", m.shares);
}

// How tshark -T fields prints each kind of field (Wireshark 4.0, packet-ouch.c).
std::string render_char(char c) {  // FT_CHAR; the generator only makes characters printed as they are
  return std::string("'") + c + "'";
}
std::string render_timestamp(uint64_t ns) {  // ouch_tree_add_timestamp: "%u:%02u:%02u.%09u"
  const uint64_t s = ns / 1'000'000'000u;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%u:%02u:%02u.%09u", static_cast<unsigned>(s / 3600),
                static_cast<unsigned>(s % 3600 / 60), static_cast<unsigned>(s % 60),
                static_cast<unsigned>(ns % 1'000'000'000u));
  return buf;
}

struct FieldRenderer {
  FieldList& out;
  template <size_t N>
  void alpha(const char* f, std::array<char, N>& a) {
    out.push_back({f, pmm::oracle::render_alpha(a.data(), N)});
  }
  void token(const char* f, ouch::Token& t) { alpha(f, t); }
  void chr(const char* f, char& c) { out.push_back({f, render_char(c)}); }
  void chr_as_uint(const char* f, char& c) { out.push_back({f, std::to_string(static_cast<uint8_t>(c))}); }
  void u32(const char* f, uint32_t& v) { out.push_back({f, std::to_string(v)}); }  // prices too: raw
  void u64(const char* f, uint64_t& v) { out.push_back({f, std::to_string(v)}); }
  void timestamp(const char* f, uint64_t& v) { out.push_back({f, render_timestamp(v)}); }
};

// Random values. Alpha: letters, digits and spaces (what tshark prints unescaped and unchanged);
// integers: any value, with 0 and all-ones mixed in; timestamps within the day (the field's meaning,
// and what packet-ouch.c's 32-bit seconds can format).
struct RandomFiller {
  std::mt19937_64& rng;
  char ch() {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ";
    return kChars[rng() % (sizeof kChars - 1)];
  }
  template <size_t N>
  void alpha(const char*, std::array<char, N>& a) {
    for (char& c : a) c = ch();
  }
  void token(const char* f, ouch::Token& t) {
    alpha(f, t);
    t[0] = static_cast<char>('A' + rng() % 26);  // never all spaces: a real token
  }
  void chr(const char*, char& c) { c = ch(); }
  void chr_as_uint(const char*, char& c) { c = ch(); }
  template <class T>
  T uint() {
    switch (rng() % 8) {
      case 0: return 0;
      case 1: return static_cast<T>(~T{0});
      default: return static_cast<T>(rng());
    }
  }
  void u32(const char*, uint32_t& v) { v = uint<uint32_t>(); }
  void u64(const char*, uint64_t& v) { v = uint<uint64_t>(); }
  void timestamp(const char*, uint64_t& v) { v = rng() % 86'400'000'000'000u; }
};

// One generated message: its bytes as our encoder wrote them and the fields it should show.
struct Generated {
  bool from_client = false;
  std::vector<uint8_t> bytes;
  FieldList fields;
};

template <class Msg>
Generated generate(std::mt19937_64& rng) {
  Msg m;
  RandomFiller fill{rng};
  visit(m, fill);
  Generated g;
  g.from_client = Msg::kDirection == ouch::Direction::kInbound;
  g.bytes.resize(Msg::kLength);
  ouch::encode(m, g.bytes.data());
  g.fields.push_back({"ouch.packet_type", render_char(Msg::kType)});
  FieldRenderer r{g.fields};
  visit(m, r);

  // Our decoder reads back the same values (the simulator and the appliance use it).
  Msg back;
  ouch::decode(g.bytes.data(), back);
  FieldList again{{"ouch.packet_type", render_char(Msg::kType)}};
  FieldRenderer r2{again};
  visit(back, r2);
  std::vector<std::string> mismatches;
  pmm::oracle::compare_fields(again, g.fields, "decode(encode(m))", mismatches);
  for (const std::string& s : mismatches) ADD_FAILURE() << s;
  return g;
}

Generated generate_any(std::mt19937_64& rng) {
  switch (rng() % 18) {
    case 0: return generate<ouch::EnterOrder>(rng);
    case 1: return generate<ouch::ReplaceOrder>(rng);
    case 2: return generate<ouch::CancelOrder>(rng);
    case 3: return generate<ouch::ModifyOrder>(rng);
    case 4: return generate<ouch::SystemEvent>(rng);
    case 5: return generate<ouch::Accepted>(rng);
    case 6: return generate<ouch::Replaced>(rng);
    case 7: return generate<ouch::Canceled>(rng);
    case 8: return generate<ouch::AiqCanceled>(rng);
    case 9: return generate<ouch::Executed>(rng);
    case 10: return generate<ouch::BrokenTrade>(rng);
    case 11: return generate<ouch::ExecutedWithReferencePrice>(rng);
    case 12: return generate<ouch::TradeCorrection>(rng);
    case 13: return generate<ouch::Rejected>(rng);
    case 14: return generate<ouch::CancelPending>(rng);
    case 15: return generate<ouch::CancelReject>(rng);
    case 16: return generate<ouch::PriorityUpdate>(rng);
    default: return generate<ouch::OrderModified>(rng);
  }
}

// ---- One TCP connection as Ethernet/IPv4/TCP frames ----

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t{p[i]} << 8 | p[i + 1];
  if (n % 2 != 0) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

class TcpConnection {
 public:
  static constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08;

  TcpConnection(pmm::oracle::PcapFrameWriter& w) : w_(w) {}

  // One segment from the client (or the server) carrying `payload`; sequence numbers advance by it.
  bool send(bool from_client, uint8_t flags, const std::vector<uint8_t>& payload, std::string& error) {
    End& me = from_client ? client_ : server_;
    End& peer = from_client ? server_ : client_;
    std::vector<uint8_t> f(14 + 20 + 20 + payload.size());
    if (f.size() < 54) return false;  // tells GCC 12's LTO the headers fit (it warns otherwise)
    uint8_t* eth = f.data();
    std::memcpy(eth, peer.mac, 6);
    std::memcpy(eth + 6, me.mac, 6);
    pmm::store_be16(eth + 12, 0x0800);
    uint8_t* ip = eth + 14;
    ip[0] = 0x45;
    pmm::store_be16(ip + 2, static_cast<uint16_t>(20 + 20 + payload.size()));
    pmm::store_be16(ip + 4, me.ip_id++);
    pmm::store_be16(ip + 6, 0x4000);  // don't fragment
    ip[8] = 64;
    ip[9] = 6;  // TCP
    std::memcpy(ip + 12, me.addr, 4);
    std::memcpy(ip + 16, peer.addr, 4);
    pmm::store_be16(ip + 10, fold(sum16(ip, 20)));
    uint8_t* tcp = ip + 20;
    pmm::store_be16(tcp, me.port);
    pmm::store_be16(tcp + 2, peer.port);
    pmm::store_be32(tcp + 4, me.seq);
    pmm::store_be32(tcp + 8, (flags & kAck) != 0 ? peer.seq : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    pmm::store_be16(tcp + 14, 65535);
    if (!payload.empty()) std::memcpy(tcp + 20, payload.data(), payload.size());
    const size_t tcp_len = 20 + payload.size();
    uint8_t pseudo[12] = {};
    std::memcpy(pseudo, ip + 12, 8);
    pseudo[9] = 6;
    pmm::store_be16(pseudo + 10, static_cast<uint16_t>(tcp_len));
    pmm::store_be16(tcp + 16, fold(sum16(tcp, tcp_len, sum16(pseudo, 12))));
    me.seq += static_cast<uint32_t>(payload.size()) + ((flags & kSyn) != 0 ? 1 : 0);
    time_ns_ += 1000;
    return w_.write(f.data(), f.size(), time_ns_, error);
  }

  bool handshake(std::string& error) {
    return send(true, kSyn, {}, error) && send(false, kSyn | kAck, {}, error) && send(true, kAck, {}, error);
  }

 private:
  struct End {
    uint8_t mac[6];
    uint8_t addr[4];
    uint16_t port;
    uint32_t seq;
    uint16_t ip_id;
  };
  pmm::oracle::PcapFrameWriter& w_;
  End client_{{0x02, 0, 0, 0, 0, 0x01}, {192, 0, 2, 1}, kClientPort, 0x10000000u, 1};
  End server_{{0x02, 0, 0, 0, 0, 0x02}, {192, 0, 2, 2}, kOrderPort, 0xFFFFF000u, 1};  // wraps 2^32
  uint64_t time_ns_ = 1'700'000'000'000'000'000u;
};

std::vector<uint8_t> soup_packet(char type, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(soup::kHeaderSize + payload.size());
  const size_t n = soup::encode_packet(out.data(), out.size(), type, payload.data(), payload.size());
  EXPECT_EQ(n, out.size());
  return out;
}

// ---- Running tshark ----

bool run_command(const std::string& cmd, std::string& out) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  out.clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class OuchTshark : public ::testing::Test {
 protected:
  void SetUp() override {
    program_ = pmm::oracle::find_tshark();
    if (program_.empty()) {
      const char* skip = std::getenv("PMM_SKIP_TSHARK");
      if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "tshark not found and PMM_SKIP_TSHARK=1";
      FAIL() << "tshark not found on PATH (or PMM_TSHARK): it is a required test dependency, installed by the "
                "setup script (apt-get install tshark). Set PMM_SKIP_TSHARK=1 to skip these tests.";
    }
    std::string tmpl = ::testing::TempDir() + "pmm_ouch_tshark_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
    workdir_ = tmpl;
    tshark_ = std::make_unique<pmm::oracle::Tshark>(program_, "", workdir_, kOrderPort);
  }
  void TearDown() override {
    if (!workdir_.empty() && std::getenv("PMM_KEEP_ORACLE_FILES") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(workdir_, ec);
    }
  }

  // Every value field the ouch dissector registers (tshark -G fields: F, label, abbrev, type, protocol).
  std::vector<std::string> ouch_fields() {
    std::string out;
    EXPECT_TRUE(run_command(program_ + " -G fields 2>/dev/null", out)) << "tshark -G fields failed";
    std::vector<std::string> names;
    for (const std::string& line : lines_of(out)) {
      std::vector<std::string> cols;
      size_t start = 0;
      for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
        cols.push_back(line.substr(start, tab - start));
      cols.push_back(line.substr(start));
      if (cols.size() >= 5 && cols[0] == "F" && cols[4] == "ouch" && cols[3] != "FT_NONE") names.push_back(cols[2]);
    }
    return names;
  }

  std::vector<std::string> decode_as() const { return {"-d", "tcp.port==" + std::to_string(kOrderPort) + ",soupbintcp"}; }

  std::string program_;
  std::string workdir_;
  std::unique_ptr<pmm::oracle::Tshark> tshark_;
};

TEST_F(OuchTshark, RandomMessagesOfEveryTypeMatchFieldByField) {
  std::mt19937_64 rng(kSeed);
  const std::string pcap = workdir_ + "/ouch_random.pcap";
  pmm::oracle::PcapFrameWriter w;
  std::string error;
  ASSERT_TRUE(w.open(pcap, error)) << error;
  TcpConnection tcp(w);
  ASSERT_TRUE(tcp.handshake(error)) << error;

  // Expected per frame: frame 4 login request, 5 login accepted, then one SoupBinTCP packet each.
  struct Expected {
    FieldList soup;
    FieldList ouch;
  };
  std::vector<Expected> expected(3);  // handshake: no SoupBinTCP
  std::vector<uint8_t> buf(soup::kLoginRequestSize);
  soup::LoginRequest login;
  login.username = ouch::make_alpha<6>("pmm01");
  login.password = ouch::make_alpha<10>("secret");
  login.session = ouch::make_alpha<10>("");
  login.sequence = 1;
  soup::encode_login_request(buf.data(), login);
  ASSERT_TRUE(tcp.send(true, TcpConnection::kAck | TcpConnection::kPsh, buf, error)) << error;
  expected.push_back({{{"soupbintcp.packet_type", "'L'"}, {"soupbintcp.packet_length", "47"},
                       {"soupbintcp.username", "pmm01 "}, {"soupbintcp.password", "secret    "},
                       {"soupbintcp.session", "          "}},
                      {}});
  const uint64_t first_sequence = 1 + rng() % 1000;  // a session resumed part way through
  soup::LoginAccepted acc;
  acc.session = ouch::make_alpha<10>("SESS000042");
  acc.sequence = first_sequence;
  buf.resize(soup::kLoginAcceptedSize);
  soup::encode_login_accepted(buf.data(), acc);
  ASSERT_TRUE(tcp.send(false, TcpConnection::kAck | TcpConnection::kPsh, buf, error)) << error;
  expected.push_back({{{"soupbintcp.packet_type", "'A'"}, {"soupbintcp.packet_length", "31"},
                       {"soupbintcp.session", "SESS000042"}},
                      {}});

  std::array<size_t, 256> inbound_by_type{}, outbound_by_type{};
  std::vector<uint64_t> sequences(expected.size(), 0);  // Sequenced Data number we count, per frame
  uint64_t next_sequence = first_sequence;
  for (size_t i = 0; i < kRandomMessages; ++i) {
    Generated g = generate_any(rng);
    const char type = g.from_client ? soup::kUnsequencedData : soup::kSequencedData;
    ASSERT_TRUE(tcp.send(g.from_client, TcpConnection::kAck | TcpConnection::kPsh, soup_packet(type, g.bytes), error))
        << error;
    (g.from_client ? inbound_by_type : outbound_by_type)[g.bytes[0]]++;
    expected.push_back({{{"soupbintcp.packet_type", render_char(type)},
                         {"soupbintcp.packet_length", std::to_string(g.bytes.size() + 1)}},
                        std::move(g.fields)});
    sequences.push_back(g.from_client ? 0 : next_sequence++);
  }
  ASSERT_TRUE(w.close());

  std::vector<std::string> ouch_names = ouch_fields();
  ASSERT_GE(ouch_names.size(), 30u) << "tshark registers too few ouch.* fields: is the ouch dissector there?";
  const std::vector<std::string> soup_names = {"soupbintcp.packet_type", "soupbintcp.packet_length",
                                               "soupbintcp.username", "soupbintcp.password", "soupbintcp.session"};
  std::vector<std::string> columns = {"frame.number", "ip.checksum.status", "tcp.checksum.status",
                                      "_ws.expert.message", "_ws.malformed"};
  columns.insert(columns.end(), soup_names.begin(), soup_names.end());
  columns.insert(columns.end(), ouch_names.begin(), ouch_names.end());
  std::vector<std::string> options = decode_as();
  options.insert(options.end(), {"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"});
  pmm::oracle::TsharkTable table;
  ASSERT_TRUE(tshark_->run_fields(pcap, options, columns, table, error)) << error;
  ASSERT_EQ(table.rows.size(), expected.size()) << tshark_->fields_command(pcap, options, columns);

  std::vector<std::string> mismatches;
  size_t values = 0, ouch_values = 0;
  std::array<bool, 512> names_seen{};  // index into ouch_names (<512 fields)
  for (size_t f = 0; f < table.rows.size(); ++f) {
    const auto& row = table.rows[f];
    const std::string ctx = "frame " + std::to_string(f + 1);
    auto one = [&](const std::string& col) -> std::string {
      const auto& occ = row[table.column(col)];
      if (occ.size() > 1) mismatches.push_back(ctx + ": " + col + " occurs " + std::to_string(occ.size()) + " times");
      return occ.empty() ? "" : occ[0];
    };
    if (one("ip.checksum.status") != "1") mismatches.push_back(ctx + ": IPv4 checksum not good");
    if (one("tcp.checksum.status") != "1") mismatches.push_back(ctx + ": TCP checksum not good");
    // Wireshark's TCP chat expert infos on the handshake are expected; anything else is a finding.
    if (const std::string e = one("_ws.expert.message"); !e.empty() && !(f < 2 && e.rfind("Connection establish", 0) == 0))
      mismatches.push_back(ctx + ": expert info " + e);
    if (!one("_ws.malformed").empty()) mismatches.push_back(ctx + ": malformed");
    FieldList soup_theirs, ouch_theirs;
    for (const std::string& n : soup_names)
      if (const std::string v = one(n); !v.empty()) soup_theirs.push_back({n, v});
    for (size_t k = 0; k < ouch_names.size(); ++k) {
      if (const std::string v = one(ouch_names[k]); !v.empty()) {
        ouch_theirs.push_back({ouch_names[k], v});
        names_seen[k] = true;
      }
    }
    values += pmm::oracle::compare_fields(expected[f].soup, soup_theirs, ctx, mismatches);
    ouch_values += pmm::oracle::compare_fields(expected[f].ouch, ouch_theirs, ctx, mismatches);
  }
  std::set<std::string> unused;
  for (size_t k = 0; k < ouch_names.size(); ++k)
    if (!names_seen[k]) unused.insert(ouch_names[k]);
  // The fields of a message OUCH 4.2 does not have (K Price Correction) and the catch-all for unknown
  // types are the only ones a correct capture never shows.
  EXPECT_EQ(unused, (std::set<std::string>{"ouch.unknown_message", "ouch.new_execution_price",
                                           "ouch.price_correction_reason"}))
      << "ouch.* fields tshark never printed";

  std::string summary = std::to_string(table.rows.size()) + " frames, " + std::to_string(ouch_values) +
                        " OUCH values and " + std::to_string(values) + " SoupBinTCP values compared; inbound:";
  for (const char* t = "OUXM"; *t != '\0'; ++t)  // N (Trade Now): tshark 4.0 does not decode it
    summary += std::string(" ") + *t + "=" + std::to_string(inbound_by_type[static_cast<uint8_t>(*t)]);
  summary += "; outbound:";
  for (const char* t = ouch::kOutboundTypes; *t != '\0'; ++t)
    summary += std::string(" ") + *t + "=" + std::to_string(outbound_by_type[static_cast<uint8_t>(*t)]);
  std::printf("%s\n", summary.c_str());
  RecordProperty("summary", summary);
  for (const char* t = "OUXM"; *t != '\0'; ++t) EXPECT_GT(inbound_by_type[static_cast<uint8_t>(*t)], 0u) << *t;
  for (const char* t = "SAUCDEBGFJPITM"; *t != '\0'; ++t)
    EXPECT_GT(outbound_by_type[static_cast<uint8_t>(*t)], 0u) << *t;
  EXPECT_GT(ouch_values, kRandomMessages * 3);
  EXPECT_EQ(mismatches.size(), 0u) << [&] {
    std::string s;
    for (size_t i = 0; i < mismatches.size() && i < 40; ++i) s += mismatches[i] + "\n";
    return s;
  }();

  // SoupBinTCP's sequence numbers are implicit: tshark counts Sequenced Data from Login Accepted's
  // number, which it prints only in the field's display text (the -T fields value is a placeholder),
  // so they come from PDML's showname.
  std::string pdml;
  ASSERT_TRUE(run_command("WIRESHARK_CONFIG_DIR=" + workdir_ + "/wireshark-config " + program_ + " -n -r " + pcap +
                              " " + decode_as()[0] + " " + decode_as()[1] + " -T pdml 2>/dev/null",
                          pdml));
  std::vector<std::string> shown;  // per frame: the Sequenced Data number, or the Login Accepted number
  for (const std::string& line : lines_of(pdml)) {
    if (line.find("<packet>") != std::string::npos) shown.push_back("");
    for (const char* name : {"soupbintcp.seq_num", "soupbintcp.next_seq_num", "soupbintcp.req_seq_num"}) {
      const std::string key = std::string("name=\"") + name + "\" showname=\"";
      const size_t at = line.find(key);
      if (at == std::string::npos || shown.empty()) continue;
      const size_t colon = line.find(": ", at + key.size());
      const size_t end = line.find_first_of(" \"", colon + 2);
      shown.back() = std::string(name) + "=" + line.substr(colon + 2, end - colon - 2);
    }
  }
  ASSERT_EQ(shown.size(), expected.size());
  EXPECT_EQ(shown[3], "soupbintcp.req_seq_num=1");
  EXPECT_EQ(shown[4], "soupbintcp.next_seq_num=" + std::to_string(first_sequence));
  for (size_t f = 5; f < shown.size(); ++f) {
    const std::string want = sequences[f] == 0 ? "" : "soupbintcp.seq_num=" + std::to_string(sequences[f]);
    EXPECT_EQ(shown[f], want) << "frame " << f + 1;
    if (shown[f] != want) break;
  }
}

// TCP may coalesce SoupBinTCP packets into one segment or split one across two: tshark re-frames by
// the length field, so every packet still shows up once, in the segment that completes it.
TEST_F(OuchTshark, CoalescedAndSplitSegmentsAreReFramed) {
  std::mt19937_64 rng(kSeed + 1);
  const std::string pcap = workdir_ + "/ouch_segments.pcap";
  pmm::oracle::PcapFrameWriter w;
  std::string error;
  ASSERT_TRUE(w.open(pcap, error)) << error;
  TcpConnection tcp(w);
  ASSERT_TRUE(tcp.handshake(error)) << error;

  std::vector<uint8_t> stream;
  std::vector<size_t> packet_ends;
  std::vector<std::string> types;
  for (int i = 0; i < 40; ++i) {
    Generated g = generate<ouch::EnterOrder>(rng);
    if (i % 3 == 1) g = generate<ouch::CancelOrder>(rng);
    if (i % 3 == 2) g = generate<ouch::ReplaceOrder>(rng);
    const std::vector<uint8_t> p = soup_packet(soup::kUnsequencedData, g.bytes);
    stream.insert(stream.end(), p.begin(), p.end());
    packet_ends.push_back(stream.size());
    types.push_back(render_char(static_cast<char>(g.bytes[0])));
  }
  // Segments of random sizes 1..150 bytes: some hold several packets, most packets are cut somewhere.
  std::vector<std::vector<std::string>> expected(3);
  size_t off = 0, next_packet = 0;
  while (off < stream.size()) {
    const size_t n = std::min<size_t>(1 + rng() % 150, stream.size() - off);
    ASSERT_TRUE(tcp.send(true, TcpConnection::kAck | TcpConnection::kPsh,
                         std::vector<uint8_t>(stream.begin() + static_cast<std::ptrdiff_t>(off),
                                              stream.begin() + static_cast<std::ptrdiff_t>(off + n)),
                         error))
        << error;
    off += n;
    std::vector<std::string> completed;
    while (next_packet < packet_ends.size() && packet_ends[next_packet] <= off) completed.push_back(types[next_packet++]);
    expected.push_back(completed);
  }
  ASSERT_TRUE(w.close());

  pmm::oracle::TsharkTable table;
  const std::vector<std::string> columns = {"frame.number", "ouch.packet_type"};
  ASSERT_TRUE(tshark_->run_fields(pcap, decode_as(), columns, table, error)) << error;
  ASSERT_EQ(table.rows.size(), expected.size());
  for (size_t f = 0; f < expected.size(); ++f)
    EXPECT_EQ(table.rows[f][table.column("ouch.packet_type")], expected[f]) << "frame " << f + 1;
}

}  // namespace
