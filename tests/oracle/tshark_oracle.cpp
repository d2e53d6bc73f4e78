#include "tests/oracle/tshark_oracle.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/moldudp64.hpp"
#include "core/udp_frame.hpp"
#include "tests/oracle/itch_fields.hpp"

namespace pmm::oracle {
namespace {

// Separates the occurrences of one field in a frame; render_alpha never lets it into a value.
constexpr char kAggregator = '\x1f';
constexpr const char* kMissing = "(absent)";

// Header field names; the spec pass's expert infos are kept apart from the framing pass's.
constexpr const char* kIpChecksum = "ip.checksum.status";  // 0 bad, 1 good, 3 not present
constexpr const char* kUdpChecksum = "udp.checksum.status";
constexpr const char* kSession = "moldudp64.session";
constexpr const char* kSequence = "moldudp64.sequence";
constexpr const char* kCount = "moldudp64.count";
constexpr const char* kExpert = "_ws.expert.message";
constexpr const char* kMalformed = "_ws.malformed";
constexpr const char* kSpecExpert = "_ws.expert.message (itch50 pass)";
constexpr const char* kSpecMalformed = "_ws.malformed (itch50 pass)";
// What Wireshark 4.0's moldudp64 dissector says about an end-of-session packet without blocks: its
// "count > 0 and no blocks" test for a request comes before the end-of-session test.
constexpr const char* kEosRequestComment = "Number of Requested Messages";

std::string join(const std::vector<std::string>& v, char sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != 0) s += sep;
    s += v[i];
  }
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string read_file_tail(const std::string& path, size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s.size() > max_bytes ? "..." + s.substr(s.size() - max_bytes) : s;
}

// How tshark prints an FT_CHAR (nasdaq-itch.message_type).
std::string render_char_field(uint8_t c) {
  if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
  return buf;
}

class FieldRenderer {
 public:
  explicit FieldRenderer(FieldList& out) : out_(out) {}

  void begin(const char* message, itch::Header& h) {
    prefix_ = std::string("itch50.") + message + ".";
    out_.push_back({"itch50.locate", std::to_string(h.locate)});
    out_.push_back({"itch50.tracking", std::to_string(h.tracking)});
    out_.push_back({"itch50.timestamp", std::to_string(h.timestamp)});
  }
  void u32(const char* f, uint32_t& v) { put(f, std::to_string(v)); }
  void u64(const char* f, uint64_t& v) { put(f, std::to_string(v)); }
  void price8(const char* f, uint64_t& v) { put(f, std::to_string(v)); }
  void price4(const char* f, uint32_t& v) { put(f, render_price4(v)); }
  void alpha(const char* f, char& c) { put(f, render_alpha(&c, 1)); }
  template <size_t N>
  void alpha(const char* f, std::array<char, N>& a) {
    put(f, render_alpha(a.data(), N));
  }

 private:
  void put(const char* f, std::string v) { out_.push_back({prefix_ + f, std::move(v)}); }

  FieldList& out_;
  std::string prefix_;
};

struct RenderHandler {
  FieldList& out;
  template <class Msg>
  void on(const Msg& m) {
    Msg copy = m;  // visit_fields takes non-const references (the random maker writes through them)
    FieldRenderer r(out);
    visit_fields(copy, r);
  }
};

FieldList empty_header() {
  return {{kIpChecksum, ""}, {kUdpChecksum, ""}, {kSession, ""},     {kSequence, ""},      {kCount, ""},
          {kExpert, ""},     {kMalformed, ""},   {kSpecExpert, ""}, {kSpecMalformed, ""}};
}

const std::string& occurrence(const std::vector<std::string>& occ, size_t k) {
  static const std::string missing = kMissing;
  return k < occ.size() ? occ[k] : missing;
}

}  // namespace

std::string render_price4(uint32_t v) {
  std::string s = std::to_string(v / 10000);
  const uint32_t frac = v % 10000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%04u", frac);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  return s;
}

std::string render_alpha(const char* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<uint8_t>(p[i]);
    if (c < 0x20 || c > 0x7e) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "<byte 0x%02x at %zu: not printable ASCII>", c, i);
      return buf;
    }
    s += static_cast<char>(c);
  }
  return s;
}

std::string render_hex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 0x0f];
  }
  return s;
}

FieldList render_itch(const uint8_t* msg, size_t len) {
  FieldList out;
  if (len == 0) {
    out.push_back({"ours.rejected", "empty message"});
    return out;
  }
  out.push_back({"itch50.type", render_alpha(reinterpret_cast<const char*>(msg), 1)});
  RenderHandler handler{out};
  switch (itch::dispatch(msg, len, handler)) {
    case itch::DispatchResult::kOk:
      break;
    case itch::DispatchResult::kUnknownType:
      out.push_back({"ours.rejected", "not an ITCH 5.0 message type"});
      break;
    case itch::DispatchResult::kBadLength:
      out.push_back({"ours.rejected", "length " + std::to_string(len) + ", spec says " +
                                          std::to_string(itch::message_length(msg[0]))});
      break;
    case itch::DispatchResult::kEmpty:
      out.push_back({"ours.rejected", "empty message"});
      break;
  }
  return out;
}

PacketView our_packet_view(size_t frame, const uint8_t* p, size_t len) {
  PacketView v;
  v.frame = frame;
  v.header = empty_header();
  mold::DownstreamPacket pkt;
  const mold::ParseError err = mold::parse_downstream(p, len, pkt);
  if (err != mold::ParseError::kShortHeader) {
    set_field(v.header, kSession, render_alpha(pkt.header.session.data(), pkt.header.session.size()));
    set_field(v.header, kSequence, std::to_string(pkt.header.sequence));
    set_field(v.header, kCount, std::to_string(pkt.header.count));
  }
  if (err != mold::ParseError::kNone) {
    v.problems.push_back(std::string("our MoldUDP64 parser rejected the packet: ") + mold::to_string(err));
    return v;
  }
  pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t mlen) {
    MessageView mv;
    mv.framing = {{"moldudp64.msgseq", std::to_string(seq)},
                  {"moldudp64.msglen", std::to_string(mlen)},
                  {"moldudp64.msgdata", render_hex(m, mlen)}};
    if (mlen > 0) {
      mv.framing.push_back({"nasdaq-itch.message_type", render_char_field(m[0])});
      // The built-in dissector takes a leading digit for ITCH 2.0's timestamp, anything else as 3.0.
      mv.framing.push_back({"nasdaq-itch.version", m[0] >= '0' && m[0] <= '9' ? "2" : "3"});
    }
    mv.itch = render_itch(m, mlen);
    v.messages.push_back(std::move(mv));
  });
  return v;
}

CaptureView our_view(const std::vector<CapturedFrame>& frames, uint16_t feed_port) {
  CaptureView view;
  view.reserve(frames.size());
  for (const CapturedFrame& f : frames) {
    net::UdpView udp;
    const net::FrameError fe = net::parse_udp_frame(f.bytes.data(), f.bytes.size(), udp);
    PacketView v;
    if (fe == net::FrameError::kNone && udp.addr.dst_port == feed_port) {
      v = our_packet_view(f.number, udp.payload, udp.len);
    } else {
      v.frame = f.number;
      v.header = empty_header();
    }
    // What tshark says when it verifies the checksums, from what our frame parser found.
    switch (fe) {
      case net::FrameError::kNone:
        set_field(v.header, kIpChecksum, "1");
        set_field(v.header, kUdpChecksum, load_be16(udp.payload - 2) == 0 ? "3" : "1");
        break;
      case net::FrameError::kIpChecksum:
        set_field(v.header, kIpChecksum, "0");
        v.problems.push_back("our frame parser: " + std::string(net::to_string(fe)));
        break;
      case net::FrameError::kUdpChecksum:
        set_field(v.header, kIpChecksum, "1");
        set_field(v.header, kUdpChecksum, "0");
        v.problems.push_back("our frame parser: " + std::string(net::to_string(fe)));
        break;
      case net::FrameError::kNotIpv4:
      case net::FrameError::kNotUdp:
        break;  // not feed traffic; its other layers are not compared
      default:
        v.problems.push_back("our frame parser: " + std::string(net::to_string(fe)));
        break;
    }
    view.push_back(std::move(v));
  }
  return view;
}

bool set_field(FieldList& fields, const std::string& name, const std::string& value) {
  for (Field& f : fields) {
    if (f.name == name) {
      f.value = value;
      return true;
    }
  }
  return false;
}

const std::string* find_field(const FieldList& fields, const std::string& name) {
  for (const Field& f : fields)
    if (f.name == name) return &f.value;
  return nullptr;
}

size_t compare_fields(const FieldList& ours, const FieldList& theirs, const std::string& context,
                      std::vector<std::string>& mismatches) {
  size_t compared = 0;
  std::vector<bool> matched(ours.size(), false);
  for (const Field& t : theirs) {
    size_t i = 0;
    while (i < ours.size() && (matched[i] || ours[i].name != t.name)) ++i;
    if (i == ours.size()) {
      mismatches.push_back(context + ": " + t.name + ": tshark '" + t.value + "', ours has no such field");
      continue;
    }
    matched[i] = true;
    ++compared;
    if (ours[i].value != t.value)
      mismatches.push_back(context + ": " + t.name + ": tshark '" + t.value + "', ours '" + ours[i].value + "'");
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    if (!matched[i])
      mismatches.push_back(context + ": " + ours[i].name + ": ours '" + ours[i].value +
                           "', tshark has no such field");
  }
  return compared;
}

size_t OracleReport::types_seen() const {
  size_t n = 0;
  for (const char* t = itch::kAllTypes; *t != '\0'; ++t) n += messages_by_type[static_cast<uint8_t>(*t)] > 0;
  return n;
}

std::string OracleReport::summary() const {
  std::string s = std::to_string(frames) + " frames, " + std::to_string(feed_packets) + " MoldUDP64 packets, " +
                  std::to_string(messages) + " messages of " + std::to_string(types_seen()) + "/23 types; " +
                  std::to_string(values_compared) + " values compared (" +
                  std::to_string(framing_values_compared) + " framing/header, " +
                  std::to_string(itch_values_compared) + " ITCH fields); " + std::to_string(mismatch_count) +
                  " mismatches; per type:";
  for (const char* t = itch::kAllTypes; *t != '\0'; ++t)
    s += std::string(" ") + *t + "=" + std::to_string(messages_by_type[static_cast<uint8_t>(*t)]);
  return s;
}

OracleReport compare_views(const CaptureView& ours, const CaptureView& theirs) {
  OracleReport r;
  r.frames = ours.size();
  auto note = [&r](std::string line) {
    ++r.mismatch_count;
    if (r.mismatches.size() < OracleReport::kMaxListed) r.mismatches.push_back(std::move(line));
  };
  std::vector<std::string> lines;
  auto flush = [&] {
    for (std::string& l : lines) note(std::move(l));
    lines.clear();
  };
  if (ours.size() != theirs.size())
    note("frame count: ours " + std::to_string(ours.size()) + ", tshark " + std::to_string(theirs.size()));
  for (size_t i = 0; i < ours.size() && i < theirs.size(); ++i) {
    const PacketView& o = ours[i];
    const PacketView& t = theirs[i];
    const std::string ctx = "frame " + std::to_string(o.frame);
    for (const std::string& p : o.problems) note(ctx + ": ours: " + p);
    for (const std::string& p : t.problems) note(ctx + ": tshark: " + p);
    if (const std::string* session = find_field(o.header, kSession); session != nullptr && !session->empty())
      ++r.feed_packets;
    r.eos_request_comments += t.eos_request_comments;
    const size_t header_values = compare_fields(o.header, t.header, ctx, lines);
    r.framing_values_compared += header_values;
    flush();
    if (o.messages.size() != t.messages.size())
      note(ctx + ": message count: ours " + std::to_string(o.messages.size()) + ", tshark " +
           std::to_string(t.messages.size()));
    for (size_t k = 0; k < o.messages.size() && k < t.messages.size(); ++k) {
      const MessageView& om = o.messages[k];
      const MessageView& tm = t.messages[k];
      const std::string mctx = ctx + " message " + std::to_string(k) + " (seq " +
                               (om.framing.empty() ? std::string("?") : om.framing[0].value) + ", type '" +
                               (om.itch.empty() ? std::string("?") : om.itch[0].value) + "')";
      r.framing_values_compared += compare_fields(om.framing, tm.framing, mctx, lines);
      r.itch_values_compared += compare_fields(om.itch, tm.itch, mctx, lines);
      flush();
      ++r.messages;
      if (!om.itch.empty() && om.itch[0].name == "itch50.type" && om.itch[0].value.size() == 1)
        ++r.messages_by_type[static_cast<uint8_t>(om.itch[0].value[0])];
    }
  }
  r.values_compared = r.framing_values_compared + r.itch_values_compared;
  return r;
}

size_t TsharkTable::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  std::fprintf(stderr, "TsharkTable: no column %s\n", name.c_str());
  std::abort();
}

Tshark::Tshark(std::string program, std::string lua_script, std::string workdir, uint16_t feed_port)
    : program_(std::move(program)), lua_script_(std::move(lua_script)), workdir_(std::move(workdir)),
      feed_port_(feed_port) {}

bool Tshark::capture(const std::string& command, std::string& out, std::string& error) const {
  // An empty config dir of our own: no personal preferences, decode-as entries or disabled protocols.
  ::mkdir((workdir_ + "/wireshark-config").c_str(), 0700);
  const std::string full = "WIRESHARK_CONFIG_DIR=" + shell_quote(workdir_ + "/wireshark-config") + " " + command +
                           " 2>" + shell_quote(workdir_ + "/tshark.stderr");
  std::FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    error = "popen failed for: " + full;
    return false;
  }
  out.clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "tshark failed (status " + std::to_string(status) + "): " + full + "\nstderr: " +
            read_file_tail(workdir_ + "/tshark.stderr", 2000);
    return false;
  }
  return true;
}

bool Tshark::version(std::string& out, std::string& error) const {
  if (!capture(shell_quote(program_) + " -v", out, error)) return false;
  out = out.substr(0, out.find('\n'));
  return true;
}

bool Tshark::itch50_field_names(std::vector<std::string>& names, std::string& error) const {
  std::string out;
  // -G must come first on tshark's command line.
  if (!capture(shell_quote(program_) + " -G fields -X " + shell_quote("lua_script:" + lua_script_), out, error))
    return false;
  names.clear();
  for (const std::string& line : split(out, '\n')) {
    const std::vector<std::string> cols = split(line, '\t');
    // F <label> <abbrev> <type> <protocol> ...; expert-info entries are FT_NONE.
    if (cols.size() >= 5 && cols[0] == "F" && cols[4] == "itch50" && cols[3] != "FT_NONE")
      names.push_back(cols[2]);
  }
  if (names.empty()) {
    error = "tshark registered no itch50.* fields from " + lua_script_ +
            " (is tshark built with Lua? did the script load?) stderr: " +
            read_file_tail(workdir_ + "/tshark.stderr", 2000);
    return false;
  }
  return true;
}

std::string Tshark::fields_command(const std::string& pcap, const std::vector<std::string>& options,
                                   const std::vector<std::string>& fields) const {
  // Appended piece by piece: gcc 12 gives a false -Wrestrict for "literal" + std::string&&.
  std::string cmd = shell_quote(program_);
  cmd += " -n -r ";
  cmd += shell_quote(pcap);
  for (const std::string& o : options) {
    cmd += ' ';
    cmd += shell_quote(o);
  }
  cmd += " -T fields -E occurrence=a -E ";
  cmd += shell_quote(std::string("aggregator=") + kAggregator);
  for (const std::string& f : fields) {
    cmd += " -e ";
    cmd += shell_quote(f);
  }
  return cmd;
}

bool Tshark::run_fields(const std::string& pcap, const std::vector<std::string>& options,
                        const std::vector<std::string>& fields, TsharkTable& table, std::string& error) const {
  std::string out;
  if (!capture(fields_command(pcap, options, fields), out, error)) return false;
  table.columns = fields;
  table.rows.clear();
  std::vector<std::string> lines = split(out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (const std::string& line : lines) {
    const std::vector<std::string> cols = split(line, '\t');
    if (cols.size() != fields.size()) {
      error = "tshark line " + std::to_string(table.rows.size() + 1) + " has " + std::to_string(cols.size()) +
              " columns, asked for " + std::to_string(fields.size()) + ": " + line.substr(0, 200);
      return false;
    }
    std::vector<std::vector<std::string>> row;
    row.reserve(cols.size());
    for (const std::string& c : cols)
      row.push_back(c.empty() ? std::vector<std::string>{} : split(c, kAggregator));
    table.rows.push_back(std::move(row));
  }
  return true;
}

bool Tshark::view(const std::string& pcap, CaptureView& view, std::string& error) const {
  const std::vector<std::string> mold = {"-d", "udp.port==" + std::to_string(feed_port_) + ",moldudp64"};

  std::vector<std::string> framing_opts = {"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"};
  framing_opts.insert(framing_opts.end(), mold.begin(), mold.end());
  TsharkTable framing;
  if (!run_fields(pcap, framing_opts,
                  {"frame.number", kIpChecksum, kUdpChecksum, kSession, kSequence, kCount, "moldudp64.msgseq",
                   "moldudp64.msglen", "moldudp64.msgdata", kExpert, kMalformed},
                  framing, error))
    return false;

  std::vector<std::string> builtin_opts = mold;
  builtin_opts.insert(builtin_opts.end(), {"-d", "moldudp64.payload,nasdaq_itch"});
  TsharkTable builtin;
  if (!run_fields(pcap, builtin_opts,
                  {"frame.number", "moldudp64.msgseq", "nasdaq-itch.message_type", "nasdaq-itch.version"}, builtin,
                  error))
    return false;

  std::vector<std::string> itch_names;
  if (!itch50_field_names(itch_names, error)) return false;
  std::vector<std::string> spec_opts = {"-X", "lua_script:" + lua_script_};
  spec_opts.insert(spec_opts.end(), mold.begin(), mold.end());
  spec_opts.insert(spec_opts.end(), {"-d", "moldudp64.payload,itch50"});
  std::vector<std::string> spec_fields = {"frame.number", "moldudp64.msgseq", kExpert, kMalformed};
  spec_fields.insert(spec_fields.end(), itch_names.begin(), itch_names.end());
  TsharkTable spec;
  if (!run_fields(pcap, spec_opts, spec_fields, spec, error)) return false;

  if (builtin.rows.size() != framing.rows.size() || spec.rows.size() != framing.rows.size()) {
    error = "tshark runs disagree on the frame count: " + std::to_string(framing.rows.size()) + ", " +
            std::to_string(builtin.rows.size()) + ", " + std::to_string(spec.rows.size());
    return false;
  }

  // Columns of the spec pass: the per-message header fields, and each message's own fields.
  const size_t c_type = spec.column("itch50.type");
  const std::vector<size_t> c_common = {spec.column("itch50.locate"), spec.column("itch50.tracking"),
                                        spec.column("itch50.timestamp")};
  std::map<std::string, std::vector<size_t>> c_by_message;  // "add_order" -> its columns, in Lua order
  for (size_t c = 4; c < spec.columns.size(); ++c) {
    const std::string& name = spec.columns[c];
    const size_t first = name.find('.');
    const size_t last = name.rfind('.');
    if (last != first) c_by_message[name.substr(first + 1, last - first - 1)].push_back(c);
  }

  const size_t c_count = framing.column(kCount);
  const size_t c_seq = framing.column("moldudp64.msgseq");
  view.clear();
  for (size_t i = 0; i < framing.rows.size(); ++i) {
    const auto& fa = framing.rows[i];
    const auto& fb = builtin.rows[i];
    const auto& fc = spec.rows[i];
    PacketView v;
    v.frame = i + 1;
    if (fa[0].size() != 1 || fa[0][0] != std::to_string(i + 1)) {
      error = "tshark row " + std::to_string(i + 1) + " is not frame " + std::to_string(i + 1);
      return false;
    }
    const size_t n = fa[c_seq].size();
    // Drop the end-of-session quirk (see kEosRequestComment), counting it.
    auto experts = [&](const std::vector<std::string>& all) {
      std::vector<std::string> kept;
      const bool eos_without_blocks = fa[c_count].size() == 1 && fa[c_count][0] == "65535" && n == 0;
      for (const std::string& e : all) {
        if (eos_without_blocks && e == kEosRequestComment)
          v.eos_request_comments = 1;  // per packet, whichever passes show it
        else
          kept.push_back(e);
      }
      return join(kept, '|');
    };
    v.header = {{kIpChecksum, join(fa[framing.column(kIpChecksum)], '|')},
                {kUdpChecksum, join(fa[framing.column(kUdpChecksum)], '|')},
                {kSession, join(fa[framing.column(kSession)], '|')},
                {kSequence, join(fa[framing.column(kSequence)], '|')},
                {kCount, join(fa[c_count], '|')},
                {kExpert, experts(fa[framing.column(kExpert)])},
                {kMalformed, join(fa[framing.column(kMalformed)], '|')},
                {kSpecExpert, experts(fc[spec.column(kExpert)])},
                {kSpecMalformed, join(fc[spec.column(kMalformed)], '|')}};

    const auto& seqs = fa[c_seq];
    if (fb[builtin.column("moldudp64.msgseq")] != seqs)
      v.problems.push_back("builtin pass: other message sequence numbers");
    if (fc[spec.column("moldudp64.msgseq")] != seqs)
      v.problems.push_back("itch50 pass: other message sequence numbers");
    const auto& types = fc[c_type];
    if (types.size() != n)
      v.problems.push_back("itch50 pass: " + std::to_string(types.size()) + " message types for " +
                           std::to_string(n) + " messages");

    std::vector<size_t> used(spec.columns.size(), 0);  // occurrences consumed per column
    for (size_t k = 0; k < n; ++k) {
      MessageView m;
      m.framing = {{"moldudp64.msgseq", seqs[k]},
                   {"moldudp64.msglen", occurrence(fa[framing.column("moldudp64.msglen")], k)},
                   {"moldudp64.msgdata", occurrence(fa[framing.column("moldudp64.msgdata")], k)},
                   {"nasdaq-itch.message_type", occurrence(fb[builtin.column("nasdaq-itch.message_type")], k)},
                   {"nasdaq-itch.version", occurrence(fb[builtin.column("nasdaq-itch.version")], k)}};
      const std::string& type = occurrence(types, k);
      ++used[c_type];
      m.itch.push_back({"itch50.type", type});
      const char* message = type.size() == 1 ? itch50_message_name(static_cast<uint8_t>(type[0])) : nullptr;
      if (message != nullptr) {
        for (size_t c : c_common) m.itch.push_back({spec.columns[c], occurrence(fc[c], used[c]++)});
        for (size_t c : c_by_message[message]) m.itch.push_back({spec.columns[c], occurrence(fc[c], used[c]++)});
      }
      v.messages.push_back(std::move(m));
    }
    // Every value tshark printed must have been given to a message.
    for (size_t c = 4; c < spec.columns.size(); ++c) {
      if (used[c] != fc[c].size())
        v.problems.push_back("itch50 pass: " + std::to_string(fc[c].size()) + " values of " + spec.columns[c] +
                             ", " + std::to_string(used[c]) + " messages carry it");
    }
    view.push_back(std::move(v));
  }
  return true;
}

std::string find_tshark() {
  if (const char* env = std::getenv("PMM_TSHARK"); env != nullptr && *env != '\0') return env;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (const std::string& dir : split(path, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/tshark";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace pmm::oracle
