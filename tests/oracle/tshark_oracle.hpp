// tshark as an independent decoder of our MoldUDP64 / ITCH 5.0 bytes (docs/tshark-oracle.md).
//
// Both sides of a capture are reduced to the same shape, a CaptureView: per frame the IPv4/UDP
// checksum verdicts and the MoldUDP64 header fields, per message the framing fields and the ITCH 5.0
// fields, every value as the text tshark's `-T fields` prints. "Ours" comes from core/udp_frame
// parse_udp_frame, core/moldudp64 parse_downstream and core/itch decode; "theirs" from three tshark
// runs over the pcap:
//   framing  built-in ip/udp (checksums verified) and moldudp64 dissectors: session, sequence,
//            count, per message sequence, length and payload bytes, expert infos
//   builtin  + built-in nasdaq_itch on moldudp64.payload: message type (the only field it gets
//            right for ITCH 5.0; it decodes the ASCII ITCH 2.0/3.0 layouts)
//   spec     + tests/oracle/itch50_oracle.lua on moldudp64.payload: every ITCH 5.0 field
// compare_views then lines the two up field by field.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/oracle/pcap_frames.hpp"

namespace pmm::oracle {

struct Field {
  std::string name;   // tshark field abbreviation, e.g. "itch50.add_order.price"
  std::string value;  // as tshark -T fields prints it
};
using FieldList = std::vector<Field>;

// Renderings in tshark's text. Price(4) as the exact decimal (1500100 -> "150.01", 0 -> "0"), which
// is what tshark prints for the double integer/10^4 as long as it has at most 15 significant digits
// (a uint32 Price(4) has at most 10). Alpha: printable ASCII as is; any other byte gives a marker
// tshark never prints, so it always reports a mismatch.
std::string render_price4(uint32_t v);
std::string render_alpha(const char* p, size_t n);
std::string render_hex(const uint8_t* p, size_t n);

// Our decoding of one framed ITCH message (core/itch_dispatch.hpp -> core/itch.hpp decode) as
// itch50.* fields. A message our dispatcher rejects carries an extra "ours.rejected" field.
FieldList render_itch(const uint8_t* msg, size_t len);

struct MessageView {
  FieldList framing;  // moldudp64.msgseq/msglen/msgdata, nasdaq-itch.message_type/version
  FieldList itch;     // itch50.type/locate/tracking/timestamp and itch50.<message>.*
};

struct PacketView {
  size_t frame = 0;
  FieldList header;  // ip/udp checksum status, moldudp64.session/sequence/count, expert infos, malformed
  std::vector<MessageView> messages;
  std::vector<std::string> problems;  // what could not be lined up; each one is a mismatch
  size_t eos_request_comments = 0;    // Wireshark quirk dropped from `header` (docs/tshark-oracle.md)
};
using CaptureView = std::vector<PacketView>;

// Frames that are not UDP to feed_port get no MoldUDP64 fields and no messages (as tshark shows them).
CaptureView our_view(const std::vector<CapturedFrame>& frames, uint16_t feed_port);
// Our view of one MoldUDP64 payload (frame number `frame`); the checksum fields of the header are
// left empty, our_view fills them from the frame.
PacketView our_packet_view(size_t frame, const uint8_t* p, size_t len);
// Sets the value of the field called `name`; false when the list has no such field.
bool set_field(FieldList& fields, const std::string& name, const std::string& value);
const std::string* find_field(const FieldList& fields, const std::string& name);

// Compares by field name. Each differing value, and each field only one side has, appends a line
// "<context>: ..." to `mismatches`. Returns the number of values compared.
size_t compare_fields(const FieldList& ours, const FieldList& theirs, const std::string& context,
                      std::vector<std::string>& mismatches);

struct OracleReport {
  static constexpr size_t kMaxListed = 40;

  size_t frames = 0;
  size_t feed_packets = 0;            // frames with MoldUDP64 (ours)
  size_t messages = 0;                // messages compared
  size_t values_compared = 0;         // all fields
  size_t itch_values_compared = 0;    // itch50.* fields only
  size_t framing_values_compared = 0; // moldudp64.* and nasdaq-itch.* fields
  size_t eos_request_comments = 0;
  std::array<size_t, 256> messages_by_type{};
  size_t mismatch_count = 0;
  std::vector<std::string> mismatches;  // the first kMaxListed

  size_t types_seen() const;
  std::string summary() const;
};

OracleReport compare_views(const CaptureView& ours, const CaptureView& theirs);

// One table per tshark run: rows[frame - 1][column] holds that field's occurrences in the frame.
struct TsharkTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::vector<std::string>>> rows;

  // Index of a column; the caller asked for it, so a missing one is a programming error (abort).
  size_t column(const std::string& name) const;
};

class Tshark {
 public:
  // program: tshark executable; lua_script: itch50_oracle.lua; workdir: an empty directory for
  // tshark's config dir (so no personal preference or decode-as entry changes the result) and stderr.
  Tshark(std::string program, std::string lua_script, std::string workdir, uint16_t feed_port);

  bool version(std::string& out, std::string& error) const;
  // The itch50.* value fields the Lua script registers (expert-info entries excluded).
  bool itch50_field_names(std::vector<std::string>& out, std::string& error) const;
  bool run_fields(const std::string& pcap, const std::vector<std::string>& options,
                  const std::vector<std::string>& fields, TsharkTable& out, std::string& error) const;
  // Runs the framing, builtin and spec passes and lines their rows up per message.
  bool view(const std::string& pcap, CaptureView& out, std::string& error) const;

  // The shell command run_fields would execute (for the docs and failure messages).
  std::string fields_command(const std::string& pcap, const std::vector<std::string>& options,
                             const std::vector<std::string>& fields) const;

 private:
  bool capture(const std::string& command, std::string& out, std::string& error) const;

  std::string program_;
  std::string lua_script_;
  std::string workdir_;
  uint16_t feed_port_;
};

// PMM_TSHARK if set, else the first executable `tshark` on PATH; empty if none.
std::string find_tshark();

}  // namespace pmm::oracle
