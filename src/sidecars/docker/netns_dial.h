// DialTcp: a TCP connection made from inside another process's network namespace, so
// docker-sd reaches a pod's ports even when the pod has no address the host can route to
// (DockerNetwork "none": loopback only).
//
// The socket is created while the calling thread has joined the target namespace
// (setns(CLONE_NEWNET) on /proc/<pid>/ns/net) and the thread switches back at once; a
// socket stays in the namespace it was created in, so the connect and all traffic happen
// there. Needs CAP_SYS_ADMIN (docker-sd runs as root beside dockerd). With pid 0 the socket
// is made in docker-sd's own namespace.
//
// Thread-safety: thread-safe; touches only the calling thread's namespace, and restores it
// before returning (failing to restore it aborts: the thread would be in the wrong network).
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace il::docker {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// Connects to host:port (a numeric IPv4/IPv6 address or a name, resolved in docker-sd's own
// namespace) within `timeout`. Errors read like Go's net.Dial, as the kubelet reports them:
// "dial tcp 127.0.0.1:8080: connect: connection refused".
Result<Fd> DialTcp(int netns_pid, const std::string& host, int port,
                   std::chrono::milliseconds timeout);

// Writes all of `data` before `deadline`.
Status WriteAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);
// Reads until EOF, `max` bytes or `deadline` (kDeadlineExceeded).
Result<std::string> ReadUpTo(int fd, size_t max, std::chrono::steady_clock::time_point deadline);

}  // namespace il::docker
