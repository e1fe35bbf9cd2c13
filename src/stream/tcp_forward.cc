#include "stream/tcp_forward.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace il::stream {

namespace {

Result<int> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last = err ? std::strerror(err) : "connection timed out";
      ::close(fd);
      continue;
    }
    int flags = 0;  // back to blocking
    ::ioctl(fd, FIONBIO, &flags);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " + last);
}

}  // namespace

Status ForwardTcp(const std::string& host, uint16_t port, api::Channels& io,
                  std::chrono::milliseconds connect_timeout) {
  IL_ASSIGN_OR_RETURN(int fd, Connect(host, port, connect_timeout));
  return ForwardSocket(fd, io);
}

Status ForwardSocket(int fd, api::Channels& io) {
  std::thread up([&] {
    while (auto m = io.Read()) {
      if (m->channel == api::kChanClose) {
        ::shutdown(fd, SHUT_WR);
        continue;
      }
      if (m->channel != api::kChanData) continue;
      std::string_view d = m->data;
      while (!d.empty()) {
        ssize_t n = ::send(fd, d.data(), d.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        d.remove_prefix(static_cast<size_t>(n));
      }
    }
    ::shutdown(fd, SHUT_RDWR);  // caller gone (or we are done): end the pod side too
  });
  std::vector<char> buf(size_t{64} * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!io.Write(api::kChanData, std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  io.CancelRead();
  up.join();
  ::close(fd);
  return Status::Ok();
}

}  // namespace il::stream
