// The MoldUDP64 re-request server: answers each 20-byte request (session, first sequence, count) with
// downstream packets carrying those messages from the MessageHistory, unicast back to the address the
// request came from. Runs on its own thread, concurrently with the publisher; bad requests are
// counted and ignored.
//
// A request's count is cut to max_request_messages, and the answer to max_response_packets packets
// (0: as many as needed; 1 is what the spec describes: "only the number of messages that completely
// fit", the receiver asks again for the rest). Messages not published yet, or older than the history
// keeps, are left out: the request is answered with what exists and counted as out of range.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/moldudp64.hpp"
#include "perf/sim/endpoint.hpp"
#include "perf/sim/message_history.hpp"
#include "perf/sim/udp_socket.hpp"

namespace pmm::sim {

struct RetransConfig {
  mold::SessionId session = mold::make_session("PMMSIM0001");
  Endpoint listen{kLoopback, 26410};       // port 0: an ephemeral port (see local_endpoint())
  size_t max_payload = 1400;               // per response packet, as the feed
  uint16_t max_messages = 64;              // per response packet, as the feed
  uint32_t max_request_messages = 10000;   // a request's count is cut to this
  uint32_t max_response_packets = 0;       // 0: as many as the (cut) count needs
};

// "" when usable, else what is wrong.
std::string validate(const RetransConfig& config);

struct RetransStats {
  uint64_t requests = 0;       // datagrams received and handled (answers sent, other counters updated)
  uint64_t packets_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t out_of_range = 0;   // requests for messages not published yet or no longer kept
  uint64_t capped = 0;         // requests cut by max_request_messages or max_response_packets
  uint64_t malformed = 0;      // not 20 bytes, sequence 0, or count 0
  uint64_t wrong_session = 0;
  uint64_t send_errors = 0;
};

class RetransmissionServer {
 public:
  // Binds the listening socket. nullptr and the reason when the config is invalid or binding fails.
  static std::unique_ptr<RetransmissionServer> create(const RetransConfig& config, const MessageHistory& history,
                                                      std::string& error);
  ~RetransmissionServer();
  RetransmissionServer(const RetransmissionServer&) = delete;
  RetransmissionServer& operator=(const RetransmissionServer&) = delete;

  void start();  // serves on its own thread until stop()
  void stop();   // joins the thread (within one poll interval)

  Endpoint local_endpoint() const { return socket_.local_endpoint(); }
  RetransStats stats() const noexcept;  // any thread, any time

 private:
  static constexpr int kPollMs = 20;  // how long stop() may wait

  RetransmissionServer(const RetransConfig& config, const MessageHistory& history, UdpSocket socket);
  void serve();
  void handle(const uint8_t* request, size_t len, const Endpoint& from);
  void send_packet(mold::PacketBuilder& packet, const Endpoint& to);

  struct Counters {
    std::atomic<uint64_t> requests{0}, packets_sent{0}, messages_sent{0}, out_of_range{0}, capped{0}, malformed{0},
        wrong_session{0}, send_errors{0};
  };

  RetransConfig config_;
  const MessageHistory& history_;
  UdpSocket socket_;
  std::unique_ptr<uint8_t[]> request_;   // receive buffer: any datagram fits, so none is cut short
  std::unique_ptr<uint8_t[]> packet_;    // response packet, max_payload bytes
  std::unique_ptr<uint8_t[]> message_;   // one message out of the history
  Counters counters_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pmm::sim
