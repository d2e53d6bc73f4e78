// A blocking IPv4 UDP socket over plain POSIX calls (socket, bind, sendto, recvfrom, poll), so the
// simulator builds on Linux and macOS alike. Owns its descriptor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "perf/sim/endpoint.hpp"

namespace pmm::sim {

struct Received {
  enum class Kind : uint8_t { kDatagram, kTimeout, kError };
  Kind kind = Kind::kTimeout;
  size_t len = 0;  // kDatagram: bytes (a datagram longer than the buffer is cut to it)
  Endpoint from;
  int error = 0;   // kError: errno
};

class UdpSocket {
 public:
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Opens a socket bound to `local` (ip 0: any address, port 0: an ephemeral port). An invalid socket
  // and the reason (naming `what` and the address) when that fails.
  static UdpSocket open(const Endpoint& local, const std::string& what, std::string& error);

  bool valid() const noexcept { return fd_ >= 0; }
  Endpoint local_endpoint() const;

  // Outgoing multicast: interface address (0: the OS's choice) and TTL. False with the reason.
  bool set_multicast(uint32_t interface_ip, uint8_t ttl, std::string& error);
  // Best effort (the OS caps it): returns the size the OS reports afterwards.
  int set_receive_buffer(int bytes);
  int set_send_buffer(int bytes);

  // 0 when sent, else errno. Retries while the OS reports a full queue (ENOBUFS, EAGAIN) up to
  // `retries` times, yielding between attempts, so "as fast as possible" does not silently lose.
  int send_to(const uint8_t* data, size_t len, const Endpoint& to, int retries = 1000) const noexcept;
  // Waits up to timeout_ms (poll) for one datagram.
  Received receive(uint8_t* buf, size_t cap, int timeout_ms) const noexcept;

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace pmm::sim
