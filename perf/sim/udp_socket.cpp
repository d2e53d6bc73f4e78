#include "perf/sim/udp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/byte_order.hpp"

namespace pmm::sim {

namespace {

sockaddr_in to_sockaddr(const Endpoint& e) {
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  // Network byte order written out byte by byte: htonl/htons are macros with C casts on some systems.
  store_be32(reinterpret_cast<uint8_t*>(&a.sin_addr.s_addr), e.ip);
  store_be16(reinterpret_cast<uint8_t*>(&a.sin_port), e.port);
  return a;
}

Endpoint from_sockaddr(const sockaddr_in& a) {
  return Endpoint{load_be32(reinterpret_cast<const uint8_t*>(&a.sin_addr.s_addr)),
                  load_be16(reinterpret_cast<const uint8_t*>(&a.sin_port))};
}

}  // namespace

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

UdpSocket UdpSocket::open(const Endpoint& local, const std::string& what, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    error = what + ": socket: " + std::strerror(errno);
    return UdpSocket();
  }
  UdpSocket s(fd);
  const sockaddr_in a = to_sockaddr(local);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    error = what + ": cannot bind " + to_string(local) + ": " + std::strerror(errno);
    return UdpSocket();
  }
  return s;
}

Endpoint UdpSocket::local_endpoint() const {
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return Endpoint{};
  return from_sockaddr(a);
}

bool UdpSocket::set_multicast(uint32_t interface_ip, uint8_t ttl, std::string& error) {
  // macOS takes an unsigned char for the TTL; Linux accepts either a char or an int.
  const unsigned char ttl_value = ttl;
  if (::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl_value, sizeof ttl_value) != 0) {
    error = std::string("IP_MULTICAST_TTL: ") + std::strerror(errno);
    return false;
  }
  if (interface_ip != 0) {
    in_addr ifaddr;
    store_be32(reinterpret_cast<uint8_t*>(&ifaddr.s_addr), interface_ip);
    if (::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr) != 0) {
      error = "IP_MULTICAST_IF " + ipv4_to_string(interface_ip) + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

static int set_buffer(int fd, int option, int bytes) {
  // Ask for less until the OS agrees (macOS refuses sizes above its limit instead of capping).
  for (int b = bytes; b >= 65536; b /= 2)
    if (::setsockopt(fd, SOL_SOCKET, option, &b, sizeof b) == 0) break;
  int got = 0;
  socklen_t len = sizeof got;
  ::getsockopt(fd, SOL_SOCKET, option, &got, &len);
  return got;
}

int UdpSocket::set_receive_buffer(int bytes) { return set_buffer(fd_, SO_RCVBUF, bytes); }
int UdpSocket::set_send_buffer(int bytes) { return set_buffer(fd_, SO_SNDBUF, bytes); }

int UdpSocket::send_to(const uint8_t* data, size_t len, const Endpoint& to, int retries) const noexcept {
  const sockaddr_in a = to_sockaddr(to);
  for (int attempt = 0;; ++attempt) {
    if (::sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&a), sizeof a) >= 0) return 0;
    const int e = errno;
    if (e == EINTR) continue;
    if ((e != ENOBUFS && e != EAGAIN) || attempt >= retries) return e;
    std::this_thread::yield();
  }
}

Received UdpSocket::receive(uint8_t* buf, size_t cap, int timeout_ms) const noexcept {
  Received r;
  pollfd p{fd_, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n == 0 || (n < 0 && errno == EINTR)) return r;
  if (n < 0) {
    r.kind = Received::Kind::kError;
    r.error = errno;
    return r;
  }
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  socklen_t alen = sizeof a;
  const ssize_t got = ::recvfrom(fd_, buf, cap, 0, reinterpret_cast<sockaddr*>(&a), &alen);
  if (got < 0) {
    if (errno == EINTR || errno == EAGAIN) return r;
    r.kind = Received::Kind::kError;
    r.error = errno;
    return r;
  }
  r.kind = Received::Kind::kDatagram;
  r.len = static_cast<size_t>(got);
  r.from = from_sockaddr(a);
  return r;
}

}  // namespace pmm::sim
