#include "perf/sim/retransmission_server.hpp"

#include <algorithm>
#include <cassert>
#include <optional>

#include "perf/feed_packetizer.hpp"

namespace pmm::sim {

namespace {

constexpr size_t kLargestDatagram = 65536;

void add(std::atomic<uint64_t>& counter, uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

std::string validate(const RetransConfig& c) {
  gen::PacketizerConfig packets;
  packets.max_payload = c.max_payload;
  packets.max_messages = c.max_messages;
  if (std::string e = gen::validate(packets); !e.empty()) return e;
  if (c.max_request_messages < 1) return "max_request_messages must be at least 1";
  return "";
}

std::unique_ptr<RetransmissionServer> RetransmissionServer::create(const RetransConfig& config,
                                                                   const MessageHistory& history, std::string& error) {
  if (std::string e = validate(config); !e.empty()) {
    error = "retransmission server: " + e;
    return nullptr;
  }
  const size_t fits = config.max_payload - mold::kHeaderSize - mold::kBlockHeaderSize;
  if (history.max_message_length() > fits) {
    error = "retransmission server: the history holds messages up to " + std::to_string(history.max_message_length()) +
            " bytes; a max payload of " + std::to_string(config.max_payload) + " fits " + std::to_string(fits);
    return nullptr;
  }
  UdpSocket socket = UdpSocket::open(config.listen, "retransmission server", error);
  if (!socket.valid()) return nullptr;
  socket.set_send_buffer(4 << 20);  // a 10 000-message answer is ~250 packets sent back to back
  socket.set_receive_buffer(1 << 20);  // bursts of requests from many receivers
  return std::unique_ptr<RetransmissionServer>(new RetransmissionServer(config, history, std::move(socket)));
}

RetransmissionServer::RetransmissionServer(const RetransConfig& config, const MessageHistory& history,
                                           UdpSocket socket)
    : config_(config),
      history_(history),
      socket_(std::move(socket)),
      request_(std::make_unique<uint8_t[]>(kLargestDatagram)),
      packet_(std::make_unique<uint8_t[]>(config.max_payload)),
      message_(std::make_unique<uint8_t[]>(std::max<size_t>(1, history.max_message_length()))) {}

RetransmissionServer::~RetransmissionServer() { stop(); }

void RetransmissionServer::start() {
  assert(!thread_.joinable());
  stop_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this] { serve(); });
}

void RetransmissionServer::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

RetransStats RetransmissionServer::stats() const noexcept {
  const uint64_t requests = counters_.requests.load(std::memory_order_acquire);  // first: see handle()
  const auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  return RetransStats{requests,     get(counters_.packets_sent), get(counters_.messages_sent),
                      get(counters_.out_of_range), get(counters_.capped),       get(counters_.malformed),
                      get(counters_.wrong_session), get(counters_.send_errors)};
}

void RetransmissionServer::serve() {
  while (!stop_.load(std::memory_order_relaxed)) {
    const Received r = socket_.receive(request_.get(), kLargestDatagram, kPollMs);
    if (r.kind == Received::Kind::kDatagram) handle(request_.get(), r.len, r.from);
  }
}

void RetransmissionServer::handle(const uint8_t* request, size_t len, const Endpoint& from) {
  // Counted once handled, with release order: whoever sees the count sees every other counter and
  // every answer of that request already updated and sent.
  struct CountWhenDone {
    std::atomic<uint64_t>& requests;
    ~CountWhenDone() { requests.fetch_add(1, std::memory_order_release); }
  } count_when_done{counters_.requests};
  mold::Request r;
  if (!mold::parse_request(request, len, r) || r.sequence == 0 || r.count == 0) {
    add(counters_.malformed);
    return;
  }
  if (r.session != config_.session) {
    add(counters_.wrong_session);
    return;
  }
  const bool over_count = r.count > config_.max_request_messages;
  if (r.sequence >= history_.published_end()) {  // nothing there yet (also keeps sequence + count in range)
    add(counters_.out_of_range);
    if (over_count) add(counters_.capped);
    return;
  }
  const uint64_t want = std::min<uint64_t>(r.count, config_.max_request_messages);
  const uint64_t end = r.sequence > UINT64_MAX - want ? UINT64_MAX : r.sequence + want;
  bool missing = false;
  bool out_of_packets = false;
  uint64_t packets = 0;
  std::optional<mold::PacketBuilder> packet;  // the open response packet
  const auto close = [&] {
    if (packet && packet->count() != 0) {
      send_packet(*packet, from);
      ++packets;
    }
    packet.reset();
  };
  for (uint64_t sequence = r.sequence; sequence < end; ++sequence) {
    uint16_t n = 0;
    if (!history_.read(sequence, message_.get(), n)) {
      missing = true;
      if (sequence >= history_.published_end()) break;  // not published yet: nor is anything after it
      close();  // older than the history keeps; a packet's messages must be consecutive
      continue;
    }
    if (packet && (packet->count() == config_.max_messages || !packet->add(message_.get(), n))) close();
    if (!packet) {
      if (config_.max_response_packets != 0 && packets == config_.max_response_packets) {
        out_of_packets = true;
        break;
      }
      packet.emplace(packet_.get(), config_.max_payload, config_.session, sequence);
      const bool added = packet->add(message_.get(), n);  // any message fits an empty packet
      assert(added);
      (void)added;
    }
  }
  close();
  if (missing) add(counters_.out_of_range);
  if (over_count || out_of_packets) add(counters_.capped);
}

void RetransmissionServer::send_packet(mold::PacketBuilder& packet, const Endpoint& to) {
  const uint16_t count = packet.count();
  const size_t n = packet.finish();
  if (socket_.send_to(packet_.get(), n, to) != 0) {
    add(counters_.send_errors);
    return;
  }
  add(counters_.packets_sent);
  add(counters_.messages_sent, count);
}

}  // namespace pmm::sim
