// The order session on UDP (docs/order-entry.md): OUCH 4.2 messages carried in MoldUDP64 packets in both
// directions. Each side numbers the messages it sends (its own sequence space from 1, one session name
// for both directions), tracks the other side's numbers with mold::SequenceTracker, and asks for what
// it missed with a MoldUDP64 request packet sent back to the same peer. Everything else is the
// MoldUDP64 API as it is (core/moldudp64.hpp, core/mold_sequence_tracker.hpp); this adds only what
// OUCH over it needs: packing a message into a packet, telling a request from a downstream packet on
// a socket that carries both, and dispatching a packet's messages in the right direction.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/moldudp64.hpp"
#include "core/ouch42.hpp"

namespace pmm::ouch {

// Appends one message to the packet being built; false (nothing written) when it does not fit.
template <class Msg>
inline bool add_message(mold::PacketBuilder& builder, const Msg& m) noexcept {
  uint8_t buf[Msg::kLength];
  encode(m, buf);
  return builder.add(buf, static_cast<uint16_t>(Msg::kLength));
}

enum class DatagramKind : uint8_t {
  kDownstream,  // header + blocks, or a heartbeat / end of session: parse with mold::parse_downstream
  kRequest,     // retransmission request for the stream this side sends: parse with mold::parse_request
  kMalformed,   // shorter than the 20-byte header
};

// Both kinds share the 20-byte header. A request is exactly the header with a count of 1..65534: a
// downstream packet with such a count carries at least one block, so it is longer; a bare header with
// count 0 or 0xFFFF is a heartbeat or end of session.
inline DatagramKind classify_datagram(const uint8_t* p, size_t len) noexcept {
  if (len < mold::kHeaderSize) return DatagramKind::kMalformed;
  if (len == mold::kHeaderSize) {
    const uint16_t count = load_be16(p + 18);
    if (count != mold::kHeartbeatCount && count != mold::kEndOfSessionCount) return DatagramKind::kRequest;
  }
  return DatagramKind::kDownstream;
}

// Dispatches the messages of a parsed packet from index `skip` on (mold::Verdict::skip), as sent by the
// side `From` (a handler implements only that direction's on() overloads), counting each result. A bad
// message is counted and skipped; the rest of the packet still goes through.
template <Direction From, class Handler>
inline void dispatch_packet(const mold::DownstreamPacket& pkt, uint16_t skip, Handler& handler,
                            DecodeCounters& counters) {
  pkt.for_each_message(
      [&](uint64_t, const uint8_t* msg, uint16_t len) {
        if constexpr (From == Direction::kInbound)
          counters.record(dispatch_inbound(msg, len, handler));
        else
          counters.record(dispatch_outbound(msg, len, handler));
      },
      skip);
}

}  // namespace pmm::ouch
