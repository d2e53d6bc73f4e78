// Test helper: a loopback UDP socket that records every datagram it receives (bytes and sender) on its
// own thread, and from which requests can be sent, so answers come back to it as they would to a
// receiver's feed socket.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "perf/sim/endpoint.hpp"
#include "perf/sim/udp_socket.hpp"

namespace pmm::sim::test {

struct Datagram {
  Endpoint from;
  std::vector<uint8_t> bytes;
};

class DatagramCollector {
 public:
  DatagramCollector() {
    std::string error;
    socket_ = UdpSocket::open(Endpoint{kLoopback, 0}, "collector", error);
    if (!socket_.valid()) throw std::runtime_error(error);
    socket_.set_receive_buffer(8 << 20);
    thread_ = std::thread([this] { loop(); });
  }
  ~DatagramCollector() {
    stop_ = true;
    thread_.join();
  }

  Endpoint endpoint() const { return socket_.local_endpoint(); }
  const UdpSocket& socket() const { return socket_; }

  std::vector<Datagram> datagrams() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  // Waits until pred(datagrams so far) holds; false on timeout.
  bool wait_for(const std::function<bool(const std::vector<Datagram>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(received_); });
  }
  void clear() {
    std::lock_guard lock(mutex_);
    received_.clear();
  }

 private:
  void loop() {
    std::vector<uint8_t> buf(65536);
    while (!stop_) {
      const Received r = socket_.receive(buf.data(), buf.size(), 10);
      if (r.kind != Received::Kind::kDatagram) continue;
      {
        std::lock_guard lock(mutex_);
        received_.push_back(Datagram{r.from, std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<long>(r.len))});
      }
      changed_.notify_all();
    }
  }

  UdpSocket socket_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Datagram> received_;
  std::thread thread_;
};

}  // namespace pmm::sim::test
