// Test helper: an in-process exchange simulator over loopback (generator source, history,
// retransmission server on an ephemeral port, publisher sending to a DatagramCollector), and the
// reference the feed must match: the same day through ItchDayGenerator and FeedPacketizer directly.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "core/moldudp64.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"
#include "perf/sim/feed_publisher.hpp"
#include "perf/sim/message_history.hpp"
#include "perf/sim/message_source.hpp"
#include "perf/sim/retransmission_server.hpp"
#include "tests/sim/datagram_collector.hpp"

namespace pmm::sim::test {

using Bytes = std::vector<uint8_t>;

// MoldUDP64 header fields at the spec's offsets (session 0-9, sequence 10-17, count 18-19).
inline uint64_t sequence_of(const Bytes& p) { return load_be64(p.data() + 10); }
inline uint16_t count_of(const Bytes& p) { return load_be16(p.data() + 18); }
inline std::string session_of(const Bytes& p) { return std::string(p.begin(), p.begin() + 10); }

inline std::vector<Bytes> reference_messages(const gen::DayConfig& day) {
  gen::ItchDayGenerator generator(day);
  std::vector<Bytes> out;
  uint8_t msg[itch::kMaxMessageLength];
  for (size_t n; (n = generator.next(msg)) != 0;) out.emplace_back(msg, msg + n);
  return out;
}

inline std::vector<Bytes> reference_packets(const gen::DayConfig& day, const gen::PacketizerConfig& packets) {
  gen::FeedPacketizer packetizer(packets);
  std::vector<Bytes> out;
  for (const Bytes& m : reference_messages(day)) {
    if (packetizer.add(m.data(), static_cast<uint16_t>(m.size())))
      out.emplace_back(packetizer.packet().begin(), packetizer.packet().end());
  }
  if (packetizer.flush()) out.emplace_back(packetizer.packet().begin(), packetizer.packet().end());
  return out;
}

inline gen::DayConfig small_day(uint64_t messages, uint64_t seed = 11) {
  gen::DayConfig day;
  day.seed = seed;
  day.messages = messages;
  day.symbols = 60;
  day.target_live_orders = 3000;
  return day;
}

// A feed config for loopback tests: paced so that the collector keeps up even with the usual 208 KiB
// cap on socket buffers (net.core.rmem_max), no waiting around.
inline FeedConfig loopback_feed(uint64_t rate = 300'000) {
  FeedConfig c;
  c.local_address = Endpoint{kLoopback, 0};
  c.rate = rate;
  c.heartbeat_ms = 0;
  c.linger_ms = 0;
  return c;
}

// Polls pred until it holds; false after the timeout (for conditions no datagram signals).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

struct InProcessSim {
  DatagramCollector receiver;
  std::unique_ptr<MessageSource> source;
  std::unique_ptr<MessageHistory> history;
  std::unique_ptr<RetransmissionServer> server;
  std::unique_ptr<FeedPublisher> publisher;

  // history_capacity 0: the whole day.
  InProcessSim(const gen::DayConfig& day, FeedConfig feed, uint64_t history_capacity = 0,
               RetransConfig retrans = RetransConfig{}) {
    source = make_generator_source(day);
    history = std::make_unique<MessageHistory>(history_capacity != 0 ? history_capacity : std::max<uint64_t>(1, day.messages),
                                               source->max_message_length());
    retrans.session = feed.packets.session;
    retrans.listen = Endpoint{kLoopback, 0};
    retrans.max_payload = feed.packets.max_payload;
    retrans.max_messages = feed.packets.max_messages;
    std::string error;
    server = RetransmissionServer::create(retrans, *history, error);
    if (!server) throw std::runtime_error(error);
    server->start();
    feed.destination = receiver.endpoint();
    publisher = FeedPublisher::create(feed, *source, *history, error);
    if (!publisher) throw std::runtime_error(error);
  }

  Endpoint feed_from() const { return publisher->local_endpoint(); }
  Endpoint retrans_from() const { return server->local_endpoint(); }

  // Datagrams from the feed socket / the retransmission server, in arrival order.
  std::vector<Bytes> from(const Endpoint& e) const {
    std::vector<Bytes> out;
    for (const Datagram& d : receiver.datagrams())
      if (d.from == e) out.push_back(d.bytes);
    return out;
  }
  static std::vector<Bytes> data_packets(const std::vector<Bytes>& packets) {
    std::vector<Bytes> out;
    for (const Bytes& p : packets)
      if (count_of(p) != mold::kHeartbeatCount && count_of(p) != mold::kEndOfSessionCount) out.push_back(p);
    return out;
  }
  // Waits until the feed's first end-of-session packet has arrived.
  bool wait_for_end_of_session() const {
    const Endpoint feed = feed_from();
    return receiver.wait_for([&](const std::vector<Datagram>& ds) {
      for (const Datagram& d : ds)
        if (d.from == feed && count_of(d.bytes) == mold::kEndOfSessionCount) return true;
      return false;
    });
  }
  void request(uint64_t sequence, uint16_t count, const mold::SessionId& session) const {
    uint8_t req[mold::kHeaderSize];
    mold::encode_request(req, mold::Request{session, sequence, count});
    ASSERT_EQ(receiver.socket().send_to(req, sizeof req, retrans_from()), 0);
  }
  // Waits until the retransmission server's answers hold `messages` messages in total.
  bool wait_for_retransmitted(uint64_t messages) const {
    const Endpoint server_at = retrans_from();
    return receiver.wait_for([&](const std::vector<Datagram>& ds) {
      uint64_t n = 0;
      for (const Datagram& d : ds)
        if (d.from == server_at) n += count_of(d.bytes);
      return n >= messages;
    });
  }
};

}  // namespace pmm::sim::test
