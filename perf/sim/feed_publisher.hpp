// The simulator's feed: takes messages from a MessageSource, packs them into MoldUDP64 packets exactly
// as FeedPacketizer does, keeps every message in the MessageHistory for the retransmission server,
// and sends the packets over UDP (unicast or multicast), paced to a message rate, leaving planned
// packets out. Then ends the session: an end-of-session packet, repeated every heartbeat interval
// while it lingers for late re-requests.
//
// Same source, packetizer settings and drop plan => the same feed packets byte for byte; only their
// timing (and the number of heartbeats and repeated end-of-session packets) depends on the clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/moldudp64.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/sim/endpoint.hpp"
#include "perf/sim/feed_observer.hpp"
#include "perf/sim/message_history.hpp"
#include "perf/sim/message_source.hpp"
#include "perf/sim/packet_drop_plan.hpp"
#include "perf/sim/udp_socket.hpp"

namespace pmm::sim {

// What the feed sends every heartbeat interval once the last message is out. The MoldUDP64 spec has
// end-of-session packets sent "for a short while in place of heartbeats"; plain heartbeats are there
// for receivers that want them.
enum class LingerPacket : uint8_t { kEndOfSession, kHeartbeat };

struct FeedConfig {
  gen::PacketizerConfig packets;          // session, max payload, max messages; first_sequence must be 1
  Endpoint destination{kLoopback, 26400};
  uint32_t multicast_interface = 0;       // multicast destination only; 0: the OS's choice
  Endpoint local_address{};               // to send from (0.0.0.0:0: any address, an ephemeral port)
  uint64_t rate = 0;                      // messages per second; 0: as fast as possible
  uint32_t start_delay_ms = 0;            // before the first packet (heartbeats still go out)
  uint32_t heartbeat_ms = 1000;           // idle heartbeat interval; 0: no heartbeats or repeats
  uint32_t linger_ms = 2000;              // after the first end-of-session packet
  LingerPacket linger_packet = LingerPacket::kEndOfSession;
  DropConfig drops;
};

// "" when usable, else what is wrong (naming the field).
std::string validate(const FeedConfig& config);

struct FeedStats {
  static constexpr size_t kMaxListedDrops = 1 << 16;  // dropped_list keeps the first ones

  uint64_t messages = 0;          // published, including those in dropped packets
  uint64_t packets = 0;           // data packets, sent or dropped
  uint64_t packets_sent = 0;
  uint64_t dropped_packets = 0;
  uint64_t dropped_messages = 0;
  std::vector<uint64_t> dropped_list;  // packet numbers, up to kMaxListedDrops
  uint64_t heartbeats = 0;             // count 0 packets
  uint64_t end_of_session_packets = 0; // count 0xFFFF packets
  uint64_t send_errors = 0;            // packets the OS would not take (after retries)
  int last_send_errno = 0;
  uint64_t next_sequence = 1;          // what the end-of-session packets carry
  bool stopped = false;                // stop() came before the source's end
  double publish_seconds = 0;          // first data packet to the last one
  std::string source_error;            // the source failed part-way (the session is ended anyway)
};

class FeedPublisher {
 public:
  // Opens the sending socket. nullptr and the reason when the config is invalid, the socket cannot be
  // set up, or the source's messages do not fit the history or a packet.
  static std::unique_ptr<FeedPublisher> create(const FeedConfig& config, MessageSource& source,
                                               MessageHistory& history, std::string& error);

  // Publishes the source, ends the session and lingers; returns when done or stopped. Call once.
  // When the history holds the whole source, the source is read into it first, so pacing is not
  // held back by the generator or the file.
  void run();
  // From any thread or a signal handler: stop publishing, send end of session, return from run().
  void stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  // Before run(): who else sees the published messages and gets the idle turns (nullptr: nobody).
  void set_observer(FeedObserver* observer) noexcept { observer_ = observer; }

  const FeedStats& stats() const noexcept { return stats_; }  // complete once run() returned
  Endpoint local_endpoint() const { return socket_.local_endpoint(); }
  const FeedConfig& config() const noexcept { return config_; }

 private:
  using Clock = std::chrono::steady_clock;
  FeedPublisher(const FeedConfig& config, MessageSource& source, MessageHistory& history, UdpSocket socket);

  bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }
  uint64_t preload();
  bool next_message(uint64_t sequence, uint16_t& len);  // into message_; false at the source's end
  bool emit_packet();  // the packet the packetizer completed; false when stopped before it went out
  void observe_packet(std::span<const uint8_t> packet) noexcept;  // its messages to the observer
  void idle() noexcept {
    if (observer_ != nullptr) observer_->on_idle();
  }
  // Until `due`, yielding; heartbeats when idle. False when stopped first.
  bool wait_until(Clock::time_point due, bool sleep);
  void send_control(uint16_t count);  // heartbeat or end of session with the next sequence
  void send(const uint8_t* data, size_t len);

  FeedConfig config_;
  MessageSource& source_;
  MessageHistory& history_;
  FeedObserver* observer_ = nullptr;
  UdpSocket socket_;
  gen::FeedPacketizer packetizer_;
  PacketDropPlan drops_;
  std::unique_ptr<uint8_t[]> message_;  // the message in hand (max message length bytes)
  bool preloaded_ = false;             // the whole source was read into the history first
  uint64_t preloaded_count_ = 0;
  std::atomic<bool> stop_{false};
  FeedStats stats_;
  Clock::time_point start_;       // pacing origin: the first message is due then
  Clock::time_point last_send_;   // of any packet, for idle heartbeats
  Clock::time_point first_packet_;
  double ns_per_message_ = 0;
};

}  // namespace pmm::sim
