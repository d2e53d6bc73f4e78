#include "perf/sim/feed_publisher.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <span>
#include <thread>

namespace pmm::sim {

std::string validate(const FeedConfig& c) {
  if (std::string e = gen::validate(c.packets); !e.empty()) return e;
  if (c.packets.first_sequence != 1) return "first_sequence must be 1 (a new session)";
  if (c.destination.ip == 0 || c.destination.port == 0)
    return "destination " + to_string(c.destination) + " needs an address and a port";
  if (c.multicast_interface != 0 && !c.destination.is_multicast())
    return "a multicast interface needs a multicast destination (224.0.0.0/4), got " + to_string(c.destination);
  if (std::string e = validate(c.drops); !e.empty()) return e;
  return "";
}

std::unique_ptr<FeedPublisher> FeedPublisher::create(const FeedConfig& config, MessageSource& source,
                                                     MessageHistory& history, std::string& error) {
  if (std::string e = validate(config); !e.empty()) {
    error = "feed: " + e;
    return nullptr;
  }
  const size_t fits = config.packets.max_payload - mold::kHeaderSize - mold::kBlockHeaderSize;
  if (source.max_message_length() > fits) {
    error = "feed: the source's longest message is " + std::to_string(source.max_message_length()) +
            " bytes; a max payload of " + std::to_string(config.packets.max_payload) + " holds messages up to " +
            std::to_string(fits) + " bytes";
    return nullptr;
  }
  if (source.max_message_length() > history.max_message_length()) {
    error = "feed: the history's slots hold " + std::to_string(history.max_message_length()) +
            " bytes, the source's longest message is " + std::to_string(source.max_message_length());
    return nullptr;
  }
  UdpSocket socket = UdpSocket::open(config.local_address, "feed socket", error);
  if (!socket.valid()) return nullptr;
  socket.set_send_buffer(4 << 20);  // absorbs bursts at "as fast as possible"
  if (config.destination.is_multicast() && !socket.set_multicast(config.multicast_interface, 1, error)) {
    error = "feed socket: " + error;
    return nullptr;
  }
  return std::unique_ptr<FeedPublisher>(new FeedPublisher(config, source, history, std::move(socket)));
}

FeedPublisher::FeedPublisher(const FeedConfig& config, MessageSource& source, MessageHistory& history,
                             UdpSocket socket)
    : config_(config),
      source_(source),
      history_(history),
      socket_(std::move(socket)),
      packetizer_(config.packets),
      drops_(config.drops),
      message_(std::make_unique<uint8_t[]>(std::max<size_t>(1, source.max_message_length()))) {
  stats_.dropped_list.reserve(FeedStats::kMaxListedDrops);
  if (config_.rate != 0) ns_per_message_ = 1e9 / static_cast<double>(config_.rate);
}

uint64_t FeedPublisher::preload() {
  uint64_t n = 0;
  for (uint16_t len = 0; !stopping() && source_.next(message_.get(), len);) history_.store(++n, message_.get(), len);
  return n;
}

bool FeedPublisher::next_message(uint64_t sequence, uint16_t& len) {
  if (preloaded_) return sequence <= preloaded_count_ && history_.read_stored(sequence, message_.get(), len);
  if (!source_.next(message_.get(), len)) return false;
  history_.store(sequence, message_.get(), len);
  return true;
}

void FeedPublisher::run() {
  last_send_ = Clock::now();
  // A whole source goes into the history before the clock starts; a longer one is read as it goes.
  preloaded_ = history_.capacity() >= source_.message_count();
  if (preloaded_) preloaded_count_ = preload();
  const bool started = wait_until(Clock::now() + std::chrono::milliseconds(config_.start_delay_ms), true);
  start_ = Clock::now();

  if (started) {
    uint16_t len = 0;
    for (uint64_t sequence = 1; !stopping() && next_message(sequence, len); ++sequence) {
      if (packetizer_.add(message_.get(), len) && !emit_packet()) break;
    }
    if (!stopping() && packetizer_.flush()) emit_packet();
  }
  if (observer_ != nullptr) observer_->on_feed_end();
  stats_.stopped = stopping();
  stats_.source_error = source_.error();
  stats_.next_sequence = history_.published_end();
  send_control(mold::kEndOfSessionCount);
  if (stopping()) return;

  // Linger: repeat the end of session (or heartbeats) while late re-requests are served.
  const Clock::time_point end = Clock::now() + std::chrono::milliseconds(config_.linger_ms);
  const auto interval = std::chrono::milliseconds(config_.heartbeat_ms);
  const uint16_t repeat = config_.linger_packet == LingerPacket::kHeartbeat ? mold::kHeartbeatCount
                                                                             : mold::kEndOfSessionCount;
  for (;;) {
    const Clock::time_point next = config_.heartbeat_ms != 0 ? last_send_ + interval : end;
    if (next >= end) {
      wait_until(end, true);
      return;
    }
    // Idle heartbeats are off here: this loop sends the repeats itself.
    while (Clock::now() < next) {
      if (stopping()) return;
      idle();
      std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(1)));
    }
    send_control(repeat);
  }
}

bool FeedPublisher::emit_packet() {
  const uint64_t first = packetizer_.packet_first_sequence();
  const uint16_t count = packetizer_.packet_count();
  if (config_.rate != 0) {
    const auto offset = std::chrono::duration<double, std::nano>(static_cast<double>(first - 1) * ns_per_message_);
    if (!wait_until(start_ + std::chrono::duration_cast<Clock::duration>(offset), false)) return false;
  } else if (stopping()) {
    return false;
  }
  // Readable by the retransmission server before it is on the wire, so that a receiver that sees this
  // packet's successor can always get it.
  history_.publish(first + count);
  if (observer_ != nullptr) observe_packet(packetizer_.packet());
  const uint64_t number = ++stats_.packets;
  stats_.messages += count;
  if (drops_.should_drop(number)) {
    ++stats_.dropped_packets;
    stats_.dropped_messages += count;
    if (stats_.dropped_list.size() < FeedStats::kMaxListedDrops) stats_.dropped_list.push_back(number);
  } else {
    const std::span<const uint8_t> p = packetizer_.packet();
    send(p.data(), p.size());
    ++stats_.packets_sent;
  }
  const Clock::time_point now = Clock::now();
  if (number == 1) first_packet_ = now;
  stats_.publish_seconds = std::chrono::duration<double>(now - first_packet_).count();
  idle();
  return true;
}

void FeedPublisher::observe_packet(std::span<const uint8_t> packet) noexcept {
  mold::DownstreamPacket parsed;
  const mold::ParseError e = mold::parse_downstream(packet.data(), packet.size(), parsed);
  assert(e == mold::ParseError::kNone);  // the packetizer built it
  (void)e;
  parsed.for_each_message([&](uint64_t, const uint8_t* msg, uint16_t len) { observer_->on_published(msg, len); });
}

bool FeedPublisher::wait_until(Clock::time_point due, bool sleep) {
  const auto interval = std::chrono::milliseconds(config_.heartbeat_ms);
  for (;;) {
    if (stopping()) return false;
    const Clock::time_point now = Clock::now();
    if (now >= due) return true;
    if (config_.heartbeat_ms != 0 && now - last_send_ >= interval) send_control(mold::kHeartbeatCount);
    idle();
    // Pacing spins (yielding the CPU to anyone who wants it): a sleep overshoots by tens of
    // microseconds, longer than a packet's slot at a million messages a second.
    if (sleep)
      std::this_thread::sleep_for(std::min<Clock::duration>(due - now, std::chrono::milliseconds(1)));
    else
      std::this_thread::yield();
  }
}

void FeedPublisher::send_control(uint16_t count) {
  uint8_t packet[mold::kHeaderSize];
  const size_t n = count == mold::kHeartbeatCount
                       ? mold::encode_heartbeat(packet, config_.packets.session, history_.published_end())
                       : mold::encode_end_of_session(packet, config_.packets.session, history_.published_end());
  ++(count == mold::kHeartbeatCount ? stats_.heartbeats : stats_.end_of_session_packets);
  send(packet, n);
}

void FeedPublisher::send(const uint8_t* data, size_t len) {
  if (const int e = socket_.send_to(data, len, config_.destination); e != 0) {
    ++stats_.send_errors;
    stats_.last_send_errno = e;
  }
  last_send_ = Clock::now();
}

}  // namespace pmm::sim
