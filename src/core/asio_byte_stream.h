// Private to core: a ByteStream over a Beast/Asio stream whose operations run on an
// executor owned by somebody else (the server's I/O thread, or a client thread). The
// calling thread blocks on each operation; bytes read ahead with the HTTP head come first.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstring>
#include <future>
#include <string>

#include "core/byte_stream.h"

namespace il::http::internal {

// The socket under a stream: Beast's basic_stream has socket(), a plain Asio socket is one.
template <class Stream>
auto& RawSocket(Stream& s) {
  auto& lowest = boost::beast::get_lowest_layer(s);
  if constexpr (requires { lowest.socket(); }) {
    return lowest.socket();
  } else {
    return lowest;
  }
}

template <class Stream>
class AsioByteStream : public ByteStream {
 public:
  AsioByteStream(Stream& stream, boost::asio::any_io_executor ex, std::string prefix)
      : stream_(stream), ex_(std::move(ex)), prefix_(std::move(prefix)) {}

  size_t Read(char* buf, size_t size) override {
    if (size == 0 || closed_) return 0;
    if (prefix_pos_ < prefix_.size()) {
      size_t n = std::min(size, prefix_.size() - prefix_pos_);
      std::memcpy(buf, prefix_.data() + prefix_pos_, n);
      prefix_pos_ += n;
      return n;
    }
    size_t got = 0;
    auto ec = Run([&](auto done) {
      stream_.async_read_some(boost::asio::buffer(buf, size),
                              [&got, done](boost::beast::error_code e, size_t n) {
                                got = n;
                                done(e);
                              });
    });
    if (ec && got == 0) return 0;
    return got;
  }

  bool Write(std::string_view data) override {
    if (closed_) return false;
    auto ec = Run([&](auto done) {
      boost::asio::async_write(stream_, boost::asio::buffer(data.data(), data.size()),
                               [done](boost::beast::error_code e, size_t) { done(e); });
    });
    return !ec;
  }

  void ShutdownWrite() override {
    if (closed_) return;
    Run([&](auto done) {
      boost::beast::error_code ec;
      if constexpr (!kTls) {
        RawSocket(stream_).shutdown(boost::asio::socket_base::shutdown_send, ec);
      }
      done(ec);
    });
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    Run([&](auto done) {
      boost::beast::error_code ec;
      auto& sock = RawSocket(stream_);
      sock.shutdown(boost::asio::socket_base::shutdown_both, ec);
      sock.close(ec);
      done(ec);
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<
      std::decay_t<decltype(boost::beast::get_lowest_layer(std::declval<Stream&>()))>, Stream>;

  template <class Start>
  boost::beast::error_code Run(Start start) {
    std::promise<boost::beast::error_code> p;
    auto f = p.get_future();
    boost::asio::post(ex_, [&] { start([&p](boost::beast::error_code ec) { p.set_value(ec); }); });
    return f.get();
  }

  Stream& stream_;
  boost::asio::any_io_executor ex_;
  std::string prefix_;
  size_t prefix_pos_ = 0;
  std::atomic<bool> closed_{false};
};

}  // namespace il::http::internal
