// The fixed-size records that travel between pipeline stages over rings. Each is trivially copyable,
// a multiple of 4 bytes (rte_ring elem rings require it) and carries the receive timestamp of the
// packet it came from, so any stage can measure time since RX. docs/architecture.md draws the graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace pmm::pipe {

// What an RxPacket's bytes start with.
enum class PacketLayer : uint8_t {
  kEthernet,    // a whole Ethernet frame (DPDK, AF_PACKET): the parse stage checks IPv4/UDP itself
  kUdpPayload,  // the UDP payload only (portable sockets): the kernel checked the headers
};

// RX -> parse: a received packet still in the backend's memory. The parse stage copies what later
// stages need into events and hands the packet straight back (PacketSource::release).
struct RxPacket {
  const uint8_t* data = nullptr;
  uint32_t length = 0;
  uint16_t udp_dst_port = 0;  // kUdpPayload only: the port the socket is bound to
  PacketLayer layer = PacketLayer::kEthernet;
  uint8_t reserved = 0;
  uint64_t rx_tsc = 0;  // read when the burst was received
  uint64_t handle = 0;  // the backend's token for release (mbuf address, ring frame index, slot)
};
static_assert(sizeof(RxPacket) == 32);

// Parse -> book: one ITCH message in sequence order, or a change in the feed's state.
enum class MdKind : uint8_t {
  kMessage,       // `message` holds one ITCH message of `length` bytes, already length-checked
  kFeedStale,     // a gap opened: books may be missing messages until kFeedWhole
  kFeedWhole,     // every gap so far is filled (or given up: see the parse stage's counters)
  kEndOfSession,  // MoldUDP64 end of session reached; every hole filled or given up (see damaged)
};

inline constexpr size_t kMdMessageCapacity = 46;  // every book-relevant ITCH message fits (longest: R, 39)

struct alignas(64) MdEvent {
  uint64_t rx_tsc = 0;
  uint64_t sequence = 0;  // MoldUDP64 sequence number of the message
  MdKind kind = MdKind::kMessage;
  uint8_t length = 0;
  uint8_t message[kMdMessageCapacity] = {};
};
static_assert(sizeof(MdEvent) == 64);

// Book -> quote: the top of one book changed, a watched symbol's trading state changed (ITCH H), or
// the feed's state did.
enum class TopKind : uint8_t { kTop, kFeedStale, kFeedWhole, kEndOfSession, kTradingState };

struct TopEvent {
  uint64_t rx_tsc = 0;
  uint64_t sequence = 0;     // last message applied
  uint64_t exchange_ns = 0;  // its ITCH timestamp (ns since midnight): the strategy's clock
  uint32_t bid_price = 0;
  uint32_t bid_shares = 0;
  uint32_t ask_price = 0;
  uint32_t ask_shares = 0;
  uint16_t locate = 0;
  TopKind kind = TopKind::kTop;
  uint8_t symbol_slot = 0;    // 1 + index into the configured symbols, 0: not a configured symbol
  char trading_state = ' ';   // kTradingState: the H message's state ('T' trading, 'H' halted, ...)
  uint8_t reserved[3] = {};
};
static_assert(sizeof(TopEvent) == 48);

// Parse -> quote: what arrived on the order-entry session (MoldUDP64-framed OUCH from the order
// gateway, both directions numbered): one message with its sequence number, a heartbeat carrying the
// gateway's next sequence number (so a lost last message is noticed), or the gateway's request to
// retransmit our own messages. The quote stage puts them in order.
enum class OrderEventKind : uint8_t { kMessage, kHeartbeat, kRequest };

inline constexpr size_t kOrderMessageCapacity = 98;  // longest OUCH 4.2 outbound message: Replaced, 80

struct alignas(64) OrderResponseEvent {
  uint64_t rx_tsc = 0;
  uint64_t sequence = 0;  // kMessage: its sequence; kHeartbeat: the next one; kRequest: the first wanted
  uint16_t length = 0;    // kMessage: bytes in `message`; kRequest: messages wanted
  OrderEventKind kind = OrderEventKind::kMessage;
  uint8_t reserved = 0;
  char session[10] = {};  // MoldUDP64 session of the packet
  uint8_t message[kOrderMessageCapacity] = {};
};
static_assert(sizeof(OrderResponseEvent) == 128);

// Any stage -> TX: one UDP datagram to send. `destination` names a configured peer; the backend knows
// its addresses (a socket address, or MACs and IPs for the frame it builds).
enum class Destination : uint8_t { kRetransmissionServer = 0, kOrderGateway = 1 };

inline constexpr size_t kTxPayloadCapacity = 112;  // MoldUDP64 request: 20 bytes; OUCH Enter: 49 + header

struct alignas(64) TxEvent {
  uint64_t rx_tsc = 0;  // of the packet that caused it (0 when none): TX measures tick-to-trade
  Destination destination = Destination::kRetransmissionServer;
  uint8_t reserved = 0;
  uint16_t length = 0;
  uint8_t reserved2[4] = {};
  uint8_t payload[kTxPayloadCapacity] = {};
};
static_assert(sizeof(TxEvent) == 128);

static_assert(std::is_trivially_copyable_v<RxPacket> && std::is_trivially_copyable_v<MdEvent> &&
              std::is_trivially_copyable_v<TopEvent> && std::is_trivially_copyable_v<TxEvent> &&
              std::is_trivially_copyable_v<OrderResponseEvent>);

}  // namespace pmm::pipe
