// FdStream: a ByteStream over a connected socket file descriptor (a socketpair in tests,
// a TCP connection to a pod port in sidecars). Owns the descriptor.
//
// Thread-safety: one reader and one writer at a time; Close from any thread.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "core/byte_stream.h"

namespace il::stream {

class FdStream : public http::ByteStream {
 public:
  explicit FdStream(int fd) : fd_(fd) {}
  ~FdStream() override {
    Close();
    ::close(fd_);
  }
  size_t Read(char* buf, size_t size) override {
    for (;;) {
      ssize_t n = ::recv(fd_, buf, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n > 0 ? static_cast<size_t>(n) : 0;
    }
  }
  bool Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void ShutdownWrite() override { ::shutdown(fd_, SHUT_WR); }
  void Close() override {
    if (!closed_.exchange(true)) ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  int fd_;
  std::atomic<bool> closed_{false};
};

}  // namespace il::stream
