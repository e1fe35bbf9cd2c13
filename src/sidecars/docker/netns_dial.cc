#include "sidecars/docker/netns_dial.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace il::docker {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

std::string HostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A non-blocking socket of `family`, made inside the network namespace of `pid`.
Result<Fd> SocketIn(int pid, int family) {
  if (pid <= 0) {
    int s = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return Internal(std::string("socket: ") + strerror(errno));
    return Fd(s);
  }
  Fd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (self.get() < 0) return Internal(std::string("open own netns: ") + strerror(errno));
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  Fd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (target.get() < 0) {
    return Unavailable("cannot open the pod's network namespace " + path + ": " + strerror(errno));
  }
  if (::setns(target.get(), CLONE_NEWNET) != 0) {
    return Status(StatusCode::kPermissionDenied,
                  "cannot enter the pod's network namespace (setns needs "
                  "CAP_SYS_ADMIN): " +
                      std::string(strerror(errno)));
  }
  int s = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = errno;
  if (::setns(self.get(), CLONE_NEWNET) != 0) std::abort();  // thread left in the pod's netns
  if (s < 0) return Internal(std::string("socket: ") + strerror(err));
  return Fd(s);
}

}  // namespace

Result<Fd> DialTcp(int netns_pid, const std::string& host, int port,
                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = "dial tcp " + HostPort(host, port);
  if (port < 1 || port > 65535) return InvalidArgument("invalid port " + std::to_string(port));
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(*a4);
  } else if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(*a6);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) return Unavailable(where + ": lookup " + host + ": " + gai_strerror(rc));
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    ::freeaddrinfo(res);
    if (addr.ss_family == AF_INET) a4->sin_port = htons(static_cast<uint16_t>(port));
    if (addr.ss_family == AF_INET6) a6->sin6_port = htons(static_cast<uint16_t>(port));
  }
  IL_ASSIGN_OR_RETURN(Fd s, SocketIn(netns_pid, addr.ss_family));
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) return Unavailable(where + ": connect: " + strerror(errno));
    pollfd p{s.get(), POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, RemainingMs(deadline));
    } while (n < 0 && errno == EINTR);
    if (n == 0) return Status(StatusCode::kDeadlineExceeded, where + ": i/o timeout");
    int err = 0;
    socklen_t el = sizeof(err);
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (n < 0 || err != 0)
      return Unavailable(where + ": connect: " + strerror(n < 0 ? errno : err));
  }
  return s;
}

Status WriteAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return Unavailable(std::string("write: ") + strerror(errno));
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) == 0)
      return Status(StatusCode::kDeadlineExceeded, "i/o timeout");
  }
  return Status::Ok();
}

Result<std::string> ReadUpTo(int fd, size_t max, std::chrono::steady_clock::time_point deadline) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), max - out.size()), 0);
    if (n == 0) break;
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (errno != EAGAIN && errno != EINTR) {
      return Unavailable(std::string("read: ") + strerror(errno));
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) == 0) {
      return Status(StatusCode::kDeadlineExceeded,
                    "context deadline exceeded (Client.Timeout exceeded while awaiting "
                    "headers)");
    }
  }
  return out;
}

}  // namespace il::docker
