#include "core/http_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "core/asio_byte_stream.h"
#include "core/http_status.h"
#include "core/log.h"
#include "core/mutex.h"

namespace il::http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using unix_proto = net::local::stream_protocol;
using TcpStream = beast::basic_stream<tcp, net::any_io_executor>;
using UnixStream = beast::basic_stream<unix_proto, net::any_io_executor>;
using TlsStream = ssl::stream<TcpStream>;
using net::as_tuple;
using net::use_awaitable;

namespace {

template <class S>
auto& Lowest(S& s) {
  return beast::get_lowest_layer(s);
}

// Runs `start(done)` on the I/O executor and blocks the calling worker thread until
// `done(ec)` is called.
template <class Start>
beast::error_code RunOnIo(const net::any_io_executor& ex, Start start) {
  std::promise<beast::error_code> p;
  auto f = p.get_future();
  net::post(ex, [&] { start([&p](beast::error_code ec) { p.set_value(ec); }); });
  return f.get();
}

// A ResponseWriter bound to one connection's stream. Handler threads call it; the
// actual I/O happens on the connection's executor.
template <class Stream>
class Writer : public ResponseWriter {
 public:
  // `direct`: the stream is the socket `fd` itself (no TLS), so a reply may be sent on it
  // directly.
  Writer(Stream& stream, net::any_io_executor ex, int fd, bool direct, unsigned version,
         bool keep_alive, const ServerOptions& opt, beast::flat_buffer* read_ahead = nullptr)
      : direct_(direct && fd >= 0),
        read_ahead_(read_ahead),
        stream_(stream),
        ex_(std::move(ex)),
        fd_(fd),
        version_(version),
        keep_alive_(keep_alive),
        opt_(opt) {}

  void SetHeader(std::string_view name, std::string value) override {
    headers_.Set(name, std::move(value));
  }

  // On a plain socket the handler's thread writes what the socket takes at once (a
  // non-blocking send: the connection's coroutine is parked until the handler returns, so
  // nothing else touches the socket). What does not fit, and every TLS reply, is handed to
  // the I/O thread and the handler goes on at once; the connection waits for it (Flushed)
  // before its next read. Blocking the worker until the I/O thread reported back cost two
  // more thread wake-ups per request; handing every reply over cost one.
  void Reply(int status, std::string body, std::string content_type) override {
    if (replied_) return;
    replied_ = true;
    status_ = status;
    auto out = std::make_shared<Outgoing>(static_cast<bhttp::status>(status), version_);
    Fill(out->res, content_type);
    out->res.body() = std::move(body);
    out->res.keep_alive(keep_alive_);
    out->res.prepare_payload();
    if (direct_ && SendNow(out->sr)) return;
    write_pending_ = true;
    net::post(ex_, [this, out] {
      Lowest(stream_).expires_after(opt_.write_timeout);
      bhttp::async_write(stream_, out->sr, [this, out](beast::error_code ec, size_t) {
        if (ec) gone_ = true;
        write_pending_ = false;
        if (write_waiter_) write_waiter_->cancel();
      });
    });
  }

  // On the I/O thread, after the handler returned: until the reply Reply handed over is
  // written.
  net::awaitable<void> Flushed() {
    if (!write_pending_) co_return;
    net::steady_timer t(ex_, net::steady_timer::time_point::max());
    write_waiter_ = &t;
    co_await t.async_wait(as_tuple(use_awaitable));
    write_waiter_ = nullptr;
  }

  void ReplyError(const Status& status) override {
    Reply(HttpStatusFor(status.code()), ErrorBody(status), "application/json");
  }

  bool BeginStream(int status, std::string content_type) override {
    if (replied_) return !gone_;
    replied_ = true;
    streaming_ = true;
    status_ = status;
    head_ = std::make_unique<bhttp::response<bhttp::empty_body>>(static_cast<bhttp::status>(status),
                                                                 version_);
    Fill(*head_, content_type);
    head_->keep_alive(keep_alive_);
    head_->chunked(true);
    serializer_ = std::make_unique<bhttp::response_serializer<bhttp::empty_body>>(*head_);
    auto ec = RunOnIo(ex_, [&](auto done) {
      Lowest(stream_).expires_after(opt_.write_timeout);
      bhttp::async_write_header(stream_, *serializer_,
                                [done](beast::error_code ec, size_t) { done(ec); });
    });
    if (ec) gone_ = true;
    return !gone_;
  }

  bool Write(std::string_view chunk) override {
    if (!streaming_) {
      if (replied_) return false;
      if (!BeginStream(200, "text/plain; charset=utf-8")) return false;
    }
    if (gone_ || finished_) return false;
    if (chunk.empty()) return true;
    auto ec = RunOnIo(ex_, [&](auto done) {
      Lowest(stream_).expires_after(opt_.write_timeout);
      net::async_write(stream_, bhttp::make_chunk(net::buffer(chunk.data(), chunk.size())),
                       [done](beast::error_code ec, size_t) { done(ec); });
    });
    if (ec) gone_ = true;
    return !gone_;
  }

  void Finish() override {
    if (!streaming_ || finished_ || gone_) return;
    finished_ = true;
    auto ec = RunOnIo(ex_, [&](auto done) {
      Lowest(stream_).expires_after(opt_.write_timeout);
      net::async_write(stream_, bhttp::make_chunk_last(),
                       [done](beast::error_code ec, size_t) { done(ec); });
    });
    if (ec) gone_ = true;
  }

  bool ClientGone() override {
    if (gone_) return true;
    if (fd_ < 0) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) gone_ = true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) gone_ = true;
    return gone_;
  }

  bool replied() const override { return replied_; }

  std::unique_ptr<ByteStream> Upgrade(int status) override {
    if (replied_ || gone_) return nullptr;
    replied_ = true;
    upgraded_ = true;
    status_ = status;
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    Fill(res, "");
    std::string prefix;
    auto ec = RunOnIo(ex_, [&](auto done) {
      Lowest(stream_).expires_after(opt_.write_timeout);
      bhttp::async_write(stream_, res, [this, done](beast::error_code ec, size_t) {
        Lowest(stream_).expires_never();
        done(ec);
      });
    });
    if (ec) {
      gone_ = true;
      return nullptr;
    }
    if (read_ahead_) {
      prefix = beast::buffers_to_string(read_ahead_->data());
      read_ahead_->consume(read_ahead_->size());
    }
    return std::make_unique<internal::AsioByteStream<Stream>>(stream_, ex_, std::move(prefix));
  }
  // Whether the response keeps the connection open; false while the body is unread.
  void SetKeepAlive(bool on) { keep_alive_ = on; }

  // After the handler returned: make sure the client got a complete response.
  void Complete() {
    if (!replied_) {
      ReplyError(Internal("handler returned without a response"));
    } else if (streaming_) {
      Finish();
    }
  }
  bool usable() const { return !gone_ && !upgraded_ && (!streaming_ || finished_); }
  int status() const { return status_; }
  void MarkGone() { gone_ = true; }

 private:
  // A reply and the serializer that remembers how much of it is written.
  struct Outgoing {
    Outgoing(bhttp::status status, unsigned version) : res(status, version), sr(res) {}
    bhttp::response<bhttp::string_body> res;
    bhttp::response_serializer<bhttp::string_body> sr;
  };

  // Writes what the socket takes without waiting. True when the reply is all sent, or the
  // peer is gone (gone_ is set); false when the rest must wait for the I/O thread.
  bool SendNow(bhttp::response_serializer<bhttp::string_body>& sr) {
    while (!sr.is_done()) {
      std::array<iovec, 16> iov{};
      size_t count = 0;
      beast::error_code ec;
      sr.next(ec, [&](beast::error_code&, const auto& buffers) {
        for (auto b : beast::buffers_range_ref(buffers)) {
          if (count == iov.size()) break;
          iov[count++] = {const_cast<void*>(b.data()), b.size()};
        }
      });
      if (ec) return false;
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      ssize_t n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
      if (n < 0) {
        gone_ = true;
        return true;
      }
      sr.consume(static_cast<size_t>(n));
    }
    return true;
  }

  template <class Msg>
  void Fill(Msg& m, const std::string& content_type) {
    m.set(bhttp::field::server, opt_.server_name);
    if (!content_type.empty()) m.set(bhttp::field::content_type, content_type);
    for (const auto& [k, v] : headers_.items()) m.set(k, v);
  }

  const bool direct_;
  beast::flat_buffer* read_ahead_;
  Stream& stream_;
  net::any_io_executor ex_;
  int fd_;
  unsigned version_;
  bool keep_alive_;
  const ServerOptions& opt_;
  Headers headers_;
  std::atomic<bool> gone_{false};
  // Set by the handler's thread before it posts the write, cleared on the I/O thread; the
  // post orders the two.
  bool write_pending_ = false;
  net::steady_timer* write_waiter_ = nullptr;  // I/O thread only
  bool replied_ = false;
  bool streaming_ = false;
  bool finished_ = false;
  bool upgraded_ = false;
  int status_ = 0;
  std::unique_ptr<bhttp::response<bhttp::empty_body>> head_;
  std::unique_ptr<bhttp::response_serializer<bhttp::empty_body>> serializer_;
};

// The subject of the certificate the TLS peer presented, if the handshake verified it.
PeerCertificate PeerCertificateOf(SSL* ssl) {
  PeerCertificate out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  out.verified = true;
  X509_NAME* subject = X509_get_subject_name(cert);
  auto read = [&](int nid, auto add) {
    for (int i = X509_NAME_get_index_by_NID(subject, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(subject, nid, i)) {
      ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, data);
      if (len >= 0) add(std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len)));
      OPENSSL_free(utf8);
    }
  };
  read(NID_commonName, [&](std::string v) { out.common_name = std::move(v); });
  read(NID_organizationName, [&](std::string v) { out.organizations.push_back(std::move(v)); });
  return out;
}

// "10.1.2.3:4567" -> "10.1.2.3"; "[::1]:80" -> "[::1]"; "unix" -> "unix".
std::string PeerAddress(const std::string& peer) {
  auto colon = peer.rfind(':');
  if (colon == std::string::npos || peer.back() == ']') return peer;
  return peer.substr(0, colon);
}

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(ServerOptions o) : opt_(std::move(o)), log_(log::Logger("http.server")) {}

  struct RouteEntry {
    Handler handler;
    RouteOptions options;
  };
  // Stream threads outlive nothing: Stop() waits for them. The counters live in a shared
  // block so that a finishing thread never touches a destroyed Impl. A thread whose stream
  // ended waits kStreamThreadKeep for the next one before it exits: a status watch
  // answered and asked again at once (one per status change under a burst) reuses it
  // instead of starting a thread.
  struct StreamThreads {
    Mutex mu;
    CondVar cv;                            // Stop() waits here for running == 0
    CondVar work;                          // idle threads wait here for tasks
    size_t running IL_GUARDED_BY(mu) = 0;  // alive, busy or idle
    size_t idle IL_GUARDED_BY(mu) = 0;
    bool stopping IL_GUARDED_BY(mu) = false;
    std::deque<std::function<void()>> tasks IL_GUARDED_BY(mu);
  };
  static constexpr std::chrono::seconds kStreamThreadKeep{10};

  static void StreamThreadLoop(const std::shared_ptr<StreamThreads>& st,
                               std::function<void()> task) {
    while (true) {
      task();
      task = nullptr;
      MutexLock lock(st->mu);
      ++st->idle;
      const auto until = std::chrono::steady_clock::now() + kStreamThreadKeep;
      while (st->tasks.empty() && !st->stopping) {
        if (!st->work.WaitUntil(st->mu, until)) break;
      }
      --st->idle;
      if (st->tasks.empty()) {  // kept long enough, or stopping
        --st->running;
        st->cv.NotifyAll();
        return;
      }
      task = std::move(st->tasks.front());
      st->tasks.pop_front();
    }
  }

  ServerOptions opt_;
  std::shared_ptr<spdlog::logger> log_;
  log::RateLimiter refuse_limiter_{std::chrono::seconds(5)};
  Endpoint ep_;
  net::io_context ioc_{1};
  std::unique_ptr<net::thread_pool> pool_;
  std::shared_ptr<StreamThreads> stream_threads_ = std::make_shared<StreamThreads>();
  std::unique_ptr<ssl::context> ssl_ctx_;
  std::unique_ptr<tcp::acceptor> tcp_acc_;
  std::unique_ptr<unix_proto::acceptor> unix_acc_;
  std::thread io_thread_;
  std::map<std::string, RouteEntry> exact_;
  std::vector<std::pair<std::string, RouteEntry>> prefix_;
  std::function<bool(Request&, ResponseWriter&)> filter_;
  std::function<void(const Request&, int, std::chrono::microseconds)> observer_;
  int port_ = 0;
  bool started_ = false;
  // io thread only:
  bool stopping_ = false;
  uint64_t next_session_ = 0;
  std::unordered_map<uint64_t, std::function<void()>> closers_;
  size_t connections_ = 0;
  std::unordered_map<std::string, size_t> connections_per_peer_;
  size_t streams_ = 0;
  std::unordered_map<std::string, size_t> streams_per_peer_;

  const RouteEntry* Route(const std::string& path) const {
    if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
    const RouteEntry* best = nullptr;
    size_t best_len = 0;
    for (const auto& [p, h] : prefix_) {
      if (path.compare(0, p.size(), p) == 0 && p.size() >= best_len) {
        best = &h;
        best_len = p.size();
      }
    }
    return best;
  }

  // Runs on a worker: the filter sees the head only. True when the request may go on.
  bool Filter(Request& req, ResponseWriter& w) {
    try {
      if (filter_(req, w)) return true;
      if (!w.replied()) w.ReplyError(Status(StatusCode::kPermissionDenied, "request refused"));
    } catch (const std::exception& e) {
      log_->error("filter for {} threw: {}", req.path, e.what());
      if (!w.replied()) w.ReplyError(Internal(std::string("filter failed: ") + e.what()));
    }
    return false;
  }

  void Dispatch(const Request& req, const RouteEntry* route, ResponseWriter& w) {
    try {
      if (!route) {
        w.ReplyError(NotFound("no route for " + req.path));
        return;
      }
      route->handler(req, w);
    } catch (const std::exception& e) {
      log_->error("handler for {} threw: {}", req.path, e.what());
      if (!w.replied()) w.ReplyError(Internal(std::string("handler failed: ") + e.what()));
    }
  }

  // Runs `fn` off the I/O thread (on a worker, or on a stream thread of its own) and
  // resumes the connection's coroutine when it is done.
  template <class Fn>
  net::awaitable<void> OffIo(bool own_thread, Fn fn) {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer done(ex, net::steady_timer::time_point::max());
    auto task = [&fn, &done, ex] {
      fn();
      net::post(ex, [&done] { done.cancel(); });
    };
    if (own_thread) {
      auto st = stream_threads_;
      bool queued = false;
      {
        MutexLock lock(st->mu);
        if (st->idle > st->tasks.size()) {  // an idle stream thread takes it
          st->tasks.emplace_back(task);
          st->work.NotifyOne();
          queued = true;
        } else {
          ++st->running;
        }
      }
      try {
        if (!queued) std::thread([st, task] { StreamThreadLoop(st, task); }).detach();
      } catch (const std::system_error& e) {
        // Out of threads: the stream runs on a worker rather than not at all.
        log_->warn("cannot start a stream thread ({}); using a request worker", e.what());
        {
          MutexLock lock(st->mu);
          --st->running;
        }
        net::post(*pool_, task);
      }
    } else {
      net::post(*pool_, task);
    }
    co_await done.async_wait(as_tuple(use_awaitable));
  }

  bool TakeStreamSlot(const std::string& addr) {
    size_t& mine = streams_per_peer_[addr];
    if (streams_ >= opt_.max_streams || mine >= opt_.max_streams_per_peer) {
      if (mine == 0) streams_per_peer_.erase(addr);
      return false;
    }
    ++streams_;
    ++mine;
    return true;
  }
  void ReleaseStreamSlot(const std::string& addr) {
    --streams_;
    if (auto it = streams_per_peer_.find(addr);
        it != streams_per_peer_.end() && --it->second == 0) {
      streams_per_peer_.erase(it);
    }
  }

  template <class Stream>
  net::awaitable<void> Send413(Stream& stream, std::string message) {
    // clang-tidy 14 sees the coroutine's resumption as a loop: `message` is moved once.
    // NOLINTNEXTLINE(bugprone-use-after-move)
    co_await SendSimple(stream, 413,
                        ErrorBody(Status(StatusCode::kPayloadTooLarge, std::move(message))));
    co_await LingeringClose(stream);
  }

  template <class Stream>
  net::awaitable<void> Serve(Stream& stream, std::string peer, int fd, PeerCertificate cert) {
    auto ex = co_await net::this_coro::executor;
    const std::string addr = PeerAddress(peer);
    beast::flat_buffer buf;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(opt_.body_limit);
      parser.header_limit(64 * 1024);
      Lowest(stream).expires_after(first ? std::chrono::seconds(opt_.read_timeout)
                                         : std::chrono::seconds(opt_.idle_timeout));
      first = false;
      auto [ec, n] =
          co_await bhttp::async_read_header(stream, buf, parser, as_tuple(use_awaitable));
      if (ec == bhttp::error::body_limit) {
        co_await Send413(stream, "request body exceeds the limit of " +
                                     std::to_string(opt_.body_limit) + " bytes");
        co_return;
      }
      if (ec) {
        if (IsParseError(ec) && ec != bhttp::error::end_of_stream) {
          co_await SendSimple(stream, 400,
                              ErrorBody(InvalidArgument("malformed request: " + ec.message())));
        }
        co_return;
      }
      auto& head = parser.get();
      Request req;
      req.method = std::string(head.method_string());
      req.target = std::string(head.target());
      SplitTarget(req.target, &req.path, &req.query);
      for (const auto& f : head)
        req.headers.Add(std::string(f.name_string()), std::string(f.value()));
      req.peer = peer;
      req.client_cert = cert;
      const bool keep_alive = head.keep_alive();
      const RouteEntry* route = Route(req.path);
      const size_t limit = route && route->options.body_limit
                               ? std::min(route->options.body_limit, opt_.body_limit)
                               : opt_.body_limit;
      parser.body_limit(limit);
      if (auto len = parser.content_length(); len && *len > limit) {
        co_await Send413(stream, "request body of " + std::to_string(*len) +
                                     " bytes exceeds the limit of " + std::to_string(limit) +
                                     " bytes for " + req.path);
        co_return;
      }
      Lowest(stream).expires_never();
      Writer<Stream> w(stream, ex, fd, !std::is_same_v<Stream, TlsStream>, head.version(),
                       keep_alive, opt_, &buf);
      auto start = std::chrono::steady_clock::now();
      auto observe = [&] {
        if (observer_) {
          observer_(req, w.status(),
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start));
        }
      };

      // Authentication and authorization decide on the head alone: a refused caller
      // never makes us read (or buffer) its body. When the body came with the head (it is
      // already in the buffer: most requests), the filter and the handler share one trip to
      // a worker, and a refused request leaves the connection usable.
      const bool stream_route = route && route->options.stream;
      const auto length = parser.content_length();
      const bool body_here = parser.is_done() || (length && buf.size() >= *length);
      const bool filter_with_handler =
          filter_ && body_here && !stream_route && head[bhttp::field::expect].empty();
      if (filter_ && !filter_with_handler) {
        w.SetKeepAlive(keep_alive && parser.is_done());
        bool pass = false;
        co_await OffIo(false, [&] { pass = Filter(req, w); });
        co_await w.Flushed();
        if (!pass) {
          observe();
          if (!parser.is_done()) {
            co_await LingeringClose(stream);
            co_return;
          }
          if (!w.usable() || !keep_alive || stopping_) co_return;
          continue;
        }
        w.SetKeepAlive(keep_alive);
      }
      if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, head.version()};
        Lowest(stream).expires_after(opt_.write_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, cont, as_tuple(use_awaitable));
        if (wec) co_return;
      }
      if (!parser.is_done()) {
        Lowest(stream).expires_after(opt_.read_timeout);
        auto [bec, bn] = co_await bhttp::async_read(stream, buf, parser, as_tuple(use_awaitable));
        if (bec == bhttp::error::body_limit) {
          co_await Send413(stream, "request body exceeds the limit of " + std::to_string(limit) +
                                       " bytes for " + req.path);
          co_return;
        }
        if (bec) {
          if (IsParseError(bec)) {
            co_await SendSimple(
                stream, 400,
                ErrorBody(InvalidArgument("malformed request body: " + bec.message())));
          }
          co_return;
        }
        Lowest(stream).expires_never();
      }
      req.body = std::move(parser.get().body());

      if (stream_route && !TakeStreamSlot(addr)) {
        if (refuse_limiter_.Allow()) {
          log_->warn("refused a stream on {} from {}: {} streams open ({} from this peer)",
                     req.path, peer, streams_, streams_per_peer_[addr]);
        }
        co_await OffIo(false, [&] {
          w.ReplyError(
              Status(StatusCode::kResourceExhausted, "too many concurrent streams; retry later"));
        });
      } else {
        if (filter_with_handler) w.SetKeepAlive(keep_alive);
        co_await OffIo(stream_route, [&] {
          if (filter_with_handler && !Filter(req, w)) return;  // the filter's reply went out
          Dispatch(req, route, w);
          w.Complete();
        });
        if (stream_route) ReleaseStreamSlot(addr);
      }
      co_await w.Flushed();
      observe();
      if (!w.usable() || !keep_alive || stopping_) co_return;
    }
  }

  // After an early 413 the client may still be sending its body; closing at once would
  // reset the connection and destroy the reply in flight. Stop sending, then read and
  // discard for a bounded time (a lingering close) so the client gets to read the 413.
  template <class Stream>
  net::awaitable<void> LingeringClose(Stream& stream) {
    beast::error_code ec;
    Lowest(stream).socket().shutdown(net::socket_base::shutdown_send, ec);
    Lowest(stream).expires_after(std::chrono::seconds(5));
    std::vector<char> sink(size_t{64} * 1024);
    size_t total = 0;
    while (total < (256u << 20)) {
      auto [rec, n] =
          co_await Lowest(stream).async_read_some(net::buffer(sink), as_tuple(use_awaitable));
      if (rec) break;
      total += n;
    }
  }

  template <class Stream>
  net::awaitable<void> SendSimple(Stream& stream, int status, std::string body) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::server, opt_.server_name);
    res.set(bhttp::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    Lowest(stream).expires_after(opt_.write_timeout);
    // clang-tidy 14 sees the coroutine's resumption as a loop: `body` is moved once.
    // NOLINTNEXTLINE(bugprone-use-after-move)
    co_await bhttp::async_write(stream, res, as_tuple(use_awaitable));
  }

  template <class Stream>
  void Spawn(std::shared_ptr<Stream> stream, std::string peer, int fd, bool tls) {
    std::string addr = PeerAddress(peer);
    size_t& mine = connections_per_peer_[addr];
    if (connections_ >= opt_.max_connections || mine >= opt_.max_connections_per_peer) {
      if (refuse_limiter_.Allow()) {
        log_->warn("refused a connection from {}: {} open ({} from this peer)", peer, connections_,
                   mine);
      }
      if (mine == 0) connections_per_peer_.erase(addr);
      beast::error_code ec;
      Lowest(*stream).socket().shutdown(net::socket_base::shutdown_both, ec);
      Lowest(*stream).close();
      return;
    }
    ++connections_;
    ++mine;
    uint64_t id = next_session_++;
    // Stop() only shuts the socket down: that wakes a worker blocked in recv/send on it
    // (stream routes, upgraded connections) without closing the descriptor under it (TSan
    // saw close racing recv, and a closed fd number can be reused at once). The session
    // closes the socket when it ends.
    closers_[id] = [stream] {
      beast::error_code ec;
      Lowest(*stream).socket().shutdown(net::socket_base::shutdown_both, ec);
    };
    net::co_spawn(ioc_, RunSession(stream, std::move(peer), fd, tls),
                  [this, id, addr](const std::exception_ptr& e) {
                    closers_.erase(id);
                    --connections_;
                    if (auto it = connections_per_peer_.find(addr);
                        it != connections_per_peer_.end() && --it->second == 0) {
                      connections_per_peer_.erase(it);
                    }
                    if (e) {
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& ex) {
                        log_->warn("connection ended with exception: {}", ex.what());
                      }
                    }
                  });
  }

  template <class Stream>
  net::awaitable<void> RunSession(std::shared_ptr<Stream> stream, std::string peer, int fd,
                                  bool tls) {
    PeerCertificate cert;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      if (tls) {
        Lowest(*stream).expires_after(opt_.read_timeout);
        auto [ec] =
            co_await stream->async_handshake(ssl::stream_base::server, as_tuple(use_awaitable));
        if (ec) {
          log_->debug("TLS handshake with {} failed: {}", peer, ec.message());
          co_return;
        }
        cert = PeerCertificateOf(stream->native_handle());
      }
    }
    co_await Serve(*stream, peer, fd, std::move(cert));
    beast::error_code ec;
    Lowest(*stream).socket().shutdown(net::socket_base::shutdown_send, ec);
  }

  // After a failed accept (EMFILE, ENFILE, ENOBUFS...) wait before the next one, 10 ms
  // doubling to 1 s, so that fd exhaustion does not turn into a busy loop of log lines.
  net::awaitable<void> AcceptBackoff(const beast::error_code& ec,
                                     std::chrono::milliseconds& backoff) {
    backoff = std::min(std::chrono::milliseconds(1000),
                       backoff.count() ? backoff * 2 : std::chrono::milliseconds(10));
    if (refuse_limiter_.Allow())
      log_->warn("accept failed: {}; retrying in {} ms", ec.message(), backoff.count());
    net::steady_timer t(co_await net::this_coro::executor, backoff);
    co_await t.async_wait(as_tuple(use_awaitable));
  }

  net::awaitable<void> AcceptTcp() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      auto [ec, sock] = co_await tcp_acc_->async_accept(as_tuple(use_awaitable));
      if (stopping_) co_return;
      if (ec) {
        co_await AcceptBackoff(ec, backoff);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      beast::error_code ignore;
      auto remote = sock.remote_endpoint(ignore);
      std::string peer = remote.address().to_string() + ":" + std::to_string(remote.port());
      int fd = sock.native_handle();
      sock.set_option(tcp::no_delay(true), ignore);
      if (ssl_ctx_) {
        auto s = std::make_shared<TlsStream>(TcpStream(std::move(sock)), *ssl_ctx_);
        Spawn(s, peer, fd, true);
      } else {
        Spawn(std::make_shared<TcpStream>(std::move(sock)), peer, fd, false);
      }
    }
  }

  net::awaitable<void> AcceptUnix() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      auto [ec, sock] = co_await unix_acc_->async_accept(as_tuple(use_awaitable));
      if (stopping_) co_return;
      if (ec) {
        co_await AcceptBackoff(ec, backoff);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      int fd = sock.native_handle();
      Spawn(std::make_shared<UnixStream>(std::move(sock)), "unix", fd, false);
    }
  }

  Status SetupTls() {
    try {
      ssl_ctx_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      if (opt_.tls.cert_file.empty() || opt_.tls.key_file.empty()) {
        return InvalidArgument("https listener needs a certificate and a key file");
      }
      ssl_ctx_->use_certificate_chain_file(opt_.tls.cert_file);
      ssl_ctx_->use_private_key_file(opt_.tls.key_file, ssl::context::pem);
      if (!opt_.tls.ca_file.empty()) {
        ssl_ctx_->load_verify_file(opt_.tls.ca_file);
        if (opt_.client_cert_optional) {
          // As the kubelet: a certificate that does not verify does not end the
          // handshake; the request goes on unauthenticated by it (Request::client_cert
          // stays unverified) and may still carry a valid bearer token.
          ssl_ctx_->set_verify_mode(ssl::verify_peer);
          ssl_ctx_->set_verify_callback([](bool, ssl::verify_context&) { return true; });
        } else {
          ssl_ctx_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        }
      }
    } catch (const std::exception& e) {
      return InvalidArgument(std::string("TLS setup failed: ") + e.what());
    }
    return Status::Ok();
  }

  Status Start() {
    auto ep = ParseEndpoint(opt_.listen);
    if (!ep.ok()) return ep.status();
    ep_ = *ep;
    try {
      if (ep_.scheme == Endpoint::Scheme::kUnix) {
        std::error_code fec;
        if (std::filesystem::is_socket(ep_.unix_path, fec))
          std::filesystem::remove(ep_.unix_path, fec);
        unix_acc_ = std::make_unique<unix_proto::acceptor>(ioc_);
        unix_acc_->open();
        unix_acc_->bind(unix_proto::endpoint(ep_.unix_path));
        ::chmod(ep_.unix_path.c_str(), opt_.unix_socket_mode);
        unix_acc_->listen(net::socket_base::max_listen_connections);
        net::co_spawn(ioc_, AcceptUnix(), net::detached);
      } else {
        if (ep_.scheme == Endpoint::Scheme::kHttps) IL_RETURN_IF_ERROR(SetupTls());
        tcp::resolver resolver(ioc_);
        auto results = resolver.resolve(ep_.host, ep_.port);
        tcp::endpoint bind_ep = results.begin()->endpoint();
        tcp_acc_ = std::make_unique<tcp::acceptor>(ioc_);
        tcp_acc_->open(bind_ep.protocol());
        tcp_acc_->set_option(net::socket_base::reuse_address(true));
        tcp_acc_->bind(bind_ep);
        tcp_acc_->listen(net::socket_base::max_listen_connections);
        port_ = tcp_acc_->local_endpoint().port();
        net::co_spawn(ioc_, AcceptTcp(), net::detached);
      }
    } catch (const std::exception& e) {
      return Unavailable("cannot listen on " + opt_.listen + ": " + e.what());
    }
    pool_ = std::make_unique<net::thread_pool>(std::max(1, opt_.worker_threads));
    io_thread_ = std::thread([this] { ioc_.run(); });
    started_ = true;
    return Status::Ok();
  }

  void Stop() {
    if (!started_) return;
    started_ = false;
    std::promise<void> closed;
    net::post(ioc_, [&] {
      stopping_ = true;
      beast::error_code ec;
      if (tcp_acc_) tcp_acc_->close(ec);
      if (unix_acc_) unix_acc_->close(ec);
      for (auto& [id, close] : closers_) close();
      closed.set_value();
    });
    closed.get_future().wait();
    pool_->join();
    {
      MutexLock lock(stream_threads_->mu);
      stream_threads_->stopping = true;
      stream_threads_->work.NotifyAll();
      while (stream_threads_->running != 0) stream_threads_->cv.Wait(stream_threads_->mu);
    }
    ioc_.stop();
    io_thread_.join();
    if (ep_.scheme == Endpoint::Scheme::kUnix) {
      std::error_code fec;
      std::filesystem::remove(ep_.unix_path, fec);
    }
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpServer::~HttpServer() { Stop(); }
void HttpServer::Handle(std::string path, Handler h, RouteOptions route) {
  impl_->exact_[std::move(path)] = Impl::RouteEntry{std::move(h), route};
}
void HttpServer::HandlePrefix(std::string prefix, Handler h, RouteOptions route) {
  impl_->prefix_.emplace_back(std::move(prefix), Impl::RouteEntry{std::move(h), route});
}
void HttpServer::SetFilter(std::function<bool(Request&, ResponseWriter&)> f) {
  impl_->filter_ = std::move(f);
}
void HttpServer::SetObserver(
    std::function<void(const Request&, int, std::chrono::microseconds)> fn) {
  impl_->observer_ = std::move(fn);
}
Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port_; }
std::string HttpServer::url() const {
  const auto& ep = impl_->ep_;
  if (ep.scheme == Endpoint::Scheme::kUnix) return "unix://" + ep.unix_path;
  std::string host = ep.host == "0.0.0.0" || ep.host.empty() ? "127.0.0.1" : ep.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(ep.scheme == Endpoint::Scheme::kHttps ? "https://" : "http://") + host + ":" +
         std::to_string(impl_->port_);
}

}  // namespace il::http
