#include "core/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <thread>
#include <variant>
#include <vector>

#include "core/asio_byte_stream.h"
#include "core/mutex.h"
#include "core/tls_buffers.h"

namespace il::http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using unix_proto = net::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {

const beast::error_code kTimedOut = net::error::timed_out;
const beast::error_code kCancelled = net::error::operation_aborted;

// When the operation in progress on a connection must end.
struct Timing {
  Clock::time_point deadline = Clock::time_point::max();
  const std::function<bool()>* cancelled = nullptr;  // polled about twice a second
};

// A socket whose synchronous reads and writes wait in poll() until the connection's
// deadline (checking `cancelled` every 500 ms): a request on a kept-alive connection costs
// a handful of system calls this way, where driving an io_context per operation cost
// about 30 (one reactor poll per completion handler). Asynchronous operations (connect,
// the TLS handshake, upgraded streams) pass through to the socket.
template <class Sock>
class TimedSocket {
 public:
  using executor_type = typename Sock::executor_type;
  using next_layer_type = Sock;
  using lowest_layer_type = typename Sock::lowest_layer_type;

  TimedSocket(Sock s, const Timing* timing) : s_(std::move(s)), timing_(timing) {
    beast::error_code ec;
    s_.non_blocking(true, ec);  // synchronous calls return would_block instead of waiting
  }

  executor_type get_executor() { return s_.get_executor(); }
  Sock& next_layer() { return s_; }
  lowest_layer_type& lowest_layer() { return s_.lowest_layer(); }

  template <class Buffers>
  size_t read_some(const Buffers& b, beast::error_code& ec) {
    return Wait(POLLIN, ec, [&] { return s_.read_some(b, ec); });
  }
  template <class Buffers>
  size_t write_some(const Buffers& b, beast::error_code& ec) {
    return Wait(POLLOUT, ec, [&] { return s_.write_some(b, ec); });
  }
  // The throwing forms the stream concepts ask for.
  template <class Buffers>
  size_t read_some(const Buffers& b) {
    return OrThrow([&](beast::error_code& ec) { return read_some(b, ec); });
  }
  template <class Buffers>
  size_t write_some(const Buffers& b) {
    return OrThrow([&](beast::error_code& ec) { return write_some(b, ec); });
  }
  template <class Buffers, class Handler>
  decltype(auto) async_read_some(const Buffers& b, Handler&& h) {
    return s_.async_read_some(b, std::forward<Handler>(h));
  }
  template <class Buffers, class Handler>
  decltype(auto) async_write_some(const Buffers& b, Handler&& h) {
    return s_.async_write_some(b, std::forward<Handler>(h));
  }

 private:
  template <class Op>
  static size_t OrThrow(Op op) {
    beast::error_code ec;
    size_t n = op(ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

  template <class Op>
  size_t Wait(short events, beast::error_code& ec, Op op) {
    while (true) {
      size_t n = op();
      if (ec != net::error::would_block && ec != net::error::try_again) return n;
      auto slice = std::chrono::milliseconds(500);
      if (timing_->deadline != Clock::time_point::max()) {
        auto now = Clock::now();
        if (now >= timing_->deadline) {
          ec = kTimedOut;
          return 0;
        }
        slice = std::min(
            slice, std::chrono::duration_cast<std::chrono::milliseconds>(timing_->deadline - now) +
                       std::chrono::milliseconds(1));
      }
      pollfd p{s_.native_handle(), events, 0};
      int r = ::poll(&p, 1, static_cast<int>(slice.count()));
      if (r < 0 && errno != EINTR) {
        ec = beast::error_code(errno, boost::system::system_category());
        return 0;
      }
      if (r == 0 && timing_->cancelled && *timing_->cancelled && (*timing_->cancelled)()) {
        ec = kCancelled;
        return 0;
      }
    }
  }

  Sock s_;
  const Timing* timing_;
};

using TcpSock = TimedSocket<tcp::socket>;
using UnixSock = TimedSocket<unix_proto::socket>;
using TlsSock = ssl::stream<TcpSock>;

struct Conn {
  net::io_context ioc{1};
  Timing timing;  // of the synchronous operation in progress
  std::variant<std::monostate, TcpSock, UnixSock, std::unique_ptr<TlsSock>> sock;
  beast::flat_buffer buf;
  bool reused = false;

  void Close() {
    beast::error_code ec;
    std::visit(
        [&](auto& s) {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, TcpSock> || std::is_same_v<S, UnixSock>) {
            s.next_layer().close(ec);
          } else if constexpr (std::is_same_v<S, std::unique_ptr<TlsSock>>) {
            if (s) s->lowest_layer().close(ec);
          }
        },
        sock);
  }
};

// Starts an async operation and drives the connection's io_context until it ends,
// the deadline passes, or `cancelled` says so (then the socket is closed).
template <class Start>
beast::error_code RunOp(Conn& c, Clock::time_point deadline, const std::function<bool()>& cancelled,
                        Start start) {
  bool done = false;
  beast::error_code result;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  c.ioc.restart();
  while (!done) {
    auto now = Clock::now();
    auto slice = std::chrono::milliseconds(500);
    if (deadline != Clock::time_point::max()) {
      if (now >= deadline) {
        c.Close();
        c.ioc.restart();
        c.ioc.run();
        return kTimedOut;
      }
      slice =
          std::min(slice, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                              std::chrono::milliseconds(1));
    }
    c.ioc.run_for(slice);
    if (done) break;
    if (cancelled && cancelled()) {
      c.Close();
      c.ioc.restart();
      c.ioc.run();
      return kCancelled;
    }
  }
  return result;
}

// Runs synchronous socket calls (`op` returns their error) on the connection's
// TimedSockets with this deadline; a timed-out or cancelled connection is closed.
template <class Op>
beast::error_code RunSync(Conn& c, Clock::time_point deadline,
                          const std::function<bool()>& cancelled, Op op) {
  c.timing.deadline = deadline;
  c.timing.cancelled = &cancelled;
  beast::error_code ec = op();
  c.timing.cancelled = nullptr;
  if (ec == kTimedOut || ec == kCancelled) c.Close();
  return ec;
}

Status ErrorStatus(const Endpoint& ep, std::string_view what, const beast::error_code& ec) {
  std::string msg = std::string(what) + " " + ep.ToString() + ": " + ec.message();
  if (ec == kTimedOut) return Status(StatusCode::kDeadlineExceeded, msg);
  if (ec == bhttp::error::body_limit) return Status(StatusCode::kPayloadTooLarge, msg);
  return Status(StatusCode::kUnavailable, msg);
}

bool IsIp(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

class HttpClient::Impl {
 public:
  ClientOptions opt;
  Endpoint ep;
  std::unique_ptr<ssl::context> ssl_ctx;
  Mutex mu;
  std::vector<std::unique_ptr<Conn>> idle IL_GUARDED_BY(mu);

  Status Init() {
    auto parsed = ParseEndpoint(opt.base_url);
    if (!parsed.ok()) return parsed.status();
    ep = *parsed;
    if (ep.scheme != Endpoint::Scheme::kHttps) return Status::Ok();
    try {
      ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
      if (opt.tls.insecure_skip_verify) {
        ssl_ctx->set_verify_mode(ssl::verify_none);
      } else {
        ssl_ctx->set_verify_mode(ssl::verify_peer);
        if (!opt.tls.ca_file.empty()) {
          ssl_ctx->load_verify_file(opt.tls.ca_file);
        } else if (!opt.tls.ca_pem.empty()) {
          ssl_ctx->add_certificate_authority(net::buffer(opt.tls.ca_pem));
        } else {
          ssl_ctx->set_default_verify_paths();
        }
      }
      if (!opt.tls.cert_file.empty()) ssl_ctx->use_certificate_chain_file(opt.tls.cert_file);
      if (!opt.tls.cert_pem.empty()) ssl_ctx->use_certificate_chain(net::buffer(opt.tls.cert_pem));
      if (!opt.tls.key_file.empty())
        ssl_ctx->use_private_key_file(opt.tls.key_file, ssl::context::pem);
      if (!opt.tls.key_pem.empty())
        ssl_ctx->use_private_key(net::buffer(opt.tls.key_pem), ssl::context::pem);
    } catch (const std::exception& e) {
      return InvalidArgument("TLS client setup for " + opt.base_url + " failed: " + e.what());
    }
    return Status::Ok();
  }

  std::unique_ptr<Conn> Acquire() {
    MutexLock lock(mu);
    if (idle.empty()) return nullptr;
    auto c = std::move(idle.back());
    idle.pop_back();
    c->reused = true;
    return c;
  }

  void Release(std::unique_ptr<Conn> c) {
    MutexLock lock(mu);
    if (idle.size() < opt.max_idle_connections) idle.push_back(std::move(c));
  }

  Result<std::unique_ptr<Conn>> Connect() {
    auto c = std::make_unique<Conn>();
    auto deadline = Clock::now() + opt.connect_timeout;
    beast::error_code ec;
    if (ep.scheme == Endpoint::Scheme::kUnix) {
      unix_proto::socket s(c->ioc);
      ec = RunOp(*c, deadline, {},
                 [&](auto done) { s.async_connect(unix_proto::endpoint(ep.unix_path), done); });
      if (ec) return ErrorStatus(ep, "connect to", ec);
      c->sock.emplace<UnixSock>(std::move(s), &c->timing);
      return c;
    }
    tcp::resolver resolver(c->ioc);
    tcp::resolver::results_type results;
    ec = RunOp(*c, deadline, {}, [&](auto done) {
      resolver.async_resolve(ep.host, ep.port,
                             [&, done](beast::error_code e, tcp::resolver::results_type r) {
                               results = std::move(r);
                               done(e);
                             });
    });
    if (ec) return ErrorStatus(ep, "resolve", ec);
    tcp::socket s(c->ioc);
    ec = RunOp(*c, deadline, {}, [&](auto done) {
      net::async_connect(s, results,
                         [done](beast::error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) return ErrorStatus(ep, "connect to", ec);
    s.set_option(tcp::no_delay(true), ec);
    if (ep.scheme == Endpoint::Scheme::kHttp) {
      c->sock.emplace<TcpSock>(std::move(s), &c->timing);
      return c;
    }
    auto tls = std::make_unique<TlsSock>(TcpSock(std::move(s), &c->timing), *ssl_ctx);
    KeepTlsBuffers(tls->native_handle());
    std::string name = opt.tls.server_name.empty() ? ep.host : opt.tls.server_name;
    if (!IsIp(name)) SSL_set_tlsext_host_name(tls->native_handle(), name.c_str());
    if (!opt.tls.insecure_skip_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(tls->native_handle());
      if (IsIp(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
    }
    ec = RunOp(*c, deadline, {},
               [&](auto done) { tls->async_handshake(ssl::stream_base::client, done); });
    if (ec) return ErrorStatus(ep, "TLS handshake with", ec);
    c->sock = std::move(tls);
    return c;
  }

  template <class F>
  auto WithSocket(Conn& c, F&& f) {
    return std::visit(
        [&](auto& s) -> beast::error_code {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, std::monostate>) {
            return net::error::not_connected;
          } else if constexpr (std::is_same_v<S, std::unique_ptr<TlsSock>>) {
            return f(*s);
          } else {
            return f(s);
          }
        },
        c.sock);
  }

  bhttp::request<bhttp::string_body> Build(const ClientRequest& r) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(r.method);
    req.target(r.target);
    req.version(11);
    req.set(bhttp::field::host, ep.scheme == Endpoint::Scheme::kUnix ? "localhost" : ep.host);
    req.set(bhttp::field::user_agent, opt.user_agent);
    for (const auto& [k, v] : r.headers.items()) req.set(k, v);
    req.body() = r.body;
    req.keep_alive(true);
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      req.prepare_payload();
    }
    return req;
  }

  // One attempt on one connection. `sent_nothing` tells whether a retry is safe.
  template <class Parser>
  beast::error_code SendAndReadHead(Conn& c, bhttp::request<bhttp::string_body>& req, Parser& p,
                                    Clock::time_point deadline,
                                    const std::function<bool()>& cancelled) {
    return WithSocket(c, [&](auto& s) {
      return RunSync(c, deadline, cancelled, [&] {
        beast::error_code ec;
        bhttp::write(s, req, ec);
        if (!ec) bhttp::read_header(s, c.buf, p, ec);
        return ec;
      });
    });
  }

  Result<Response> Do(const ClientRequest& r) {
    auto timeout = r.timeout.value_or(opt.timeout);
    auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
    auto req = Build(r);
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto conn = Acquire();
      if (!conn) {
        IL_ASSIGN_OR_RETURN(conn, Connect());
      }
      bhttp::response_parser<bhttp::string_body> p;
      p.body_limit(opt.max_body);
      auto ec = SendAndReadHead(*conn, req, p, deadline, {});
      if (ec && conn->reused && attempt == 0 && ec != kTimedOut) continue;  // stale keep-alive
      if (ec) return ErrorStatus(ep, "request to", ec);
      if (!p.is_done()) {
        ec = WithSocket(*conn, [&](auto& s) {
          return RunSync(*conn, deadline, {}, [&] {
            beast::error_code e;
            bhttp::read(s, conn->buf, p, e);
            return e;
          });
        });
        if (ec) return ErrorStatus(ep, "reading reply from", ec);
      }
      auto msg = p.release();
      Response out;
      out.status = static_cast<int>(msg.result_int());
      for (const auto& f : msg)
        out.headers.Add(std::string(f.name_string()), std::string(f.value()));
      out.body = std::move(msg.body());
      if (msg.keep_alive()) Release(std::move(conn));
      return out;
    }
    return Status(StatusCode::kUnavailable, "request to " + ep.ToString() + " failed twice");
  }

  Result<int> Stream(const ClientRequest& r,
                     const std::function<bool(int, const Headers&)>& on_head,
                     const std::function<bool(std::string_view)>& on_data,
                     const std::function<bool()>& cancelled) {
    auto idle_timeout = r.timeout.value_or(opt.timeout);
    auto next_deadline = [&] {
      return idle_timeout.count() > 0 ? Clock::now() + idle_timeout : Clock::time_point::max();
    };
    auto req = Build(r);
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto conn = Acquire();
      if (!conn) {
        IL_ASSIGN_OR_RETURN(conn, Connect());
      }
      bhttp::response_parser<bhttp::buffer_body> p;
      p.body_limit(boost::none);
      auto ec = SendAndReadHead(*conn, req, p, next_deadline(), cancelled);
      if (ec && conn->reused && attempt == 0 && ec != kTimedOut && ec != kCancelled) continue;
      if (ec == kCancelled) return Status(StatusCode::kUnavailable, "cancelled");
      if (ec) return ErrorStatus(ep, "request to", ec);
      int status = static_cast<int>(p.get().result_int());
      Headers headers;
      for (const auto& f : p.get())
        headers.Add(std::string(f.name_string()), std::string(f.value()));
      if (on_head && !on_head(status, headers)) return status;  // connection dropped
      std::vector<char> chunk(size_t{64} * 1024);
      while (!p.is_done()) {
        p.get().body().data = chunk.data();
        p.get().body().size = chunk.size();
        ec = WithSocket(*conn, [&](auto& s) {
          return RunSync(*conn, next_deadline(), cancelled, [&] {
            beast::error_code e;
            bhttp::read_some(s, conn->buf, p, e);
            return e;
          });
        });
        if (ec == bhttp::error::need_buffer) ec = {};
        size_t n = chunk.size() - p.get().body().size;
        if (n > 0 && !on_data(std::string_view(chunk.data(), n))) return status;
        if (ec == kCancelled) return status;
        if (ec) return ErrorStatus(ep, "reading stream from", ec);
      }
      if (p.keep_alive()) Release(std::move(conn));
      return status;
    }
    return Status(StatusCode::kUnavailable, "request to " + ep.ToString() + " failed twice");
  }

  Result<HttpClient::Upgraded> Upgrade(const ClientRequest& r) {
    auto timeout = r.timeout.value_or(opt.timeout);
    auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
    auto req = Build(r);
    IL_ASSIGN_OR_RETURN(auto conn, Connect());
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(uint64_t{64} * 1024);
    auto ec = SendAndReadHead(*conn, req, p, deadline, {});
    if (ec) return ErrorStatus(ep, "upgrade request to", ec);
    HttpClient::Upgraded out;
    out.response.status = static_cast<int>(p.get().result_int());
    for (const auto& f : p.get())
      out.response.headers.Add(std::string(f.name_string()), std::string(f.value()));
    if (out.response.status != 101) {
      if (!p.is_done()) {
        ec = WithSocket(*conn, [&](auto& s) {
          return RunSync(*conn, deadline, {}, [&] {
            beast::error_code e;
            bhttp::read(s, conn->buf, p, e);
            return e;
          });
        });
      }
      out.response.body = p.get().body();
      return out;
    }
    out.stream = std::make_unique<UpgradedStream>(std::move(conn));
    return out;
  }

  // The connection after a 101: its private io_context runs on a thread of its own.
  class UpgradedStream : public ByteStream {
   public:
    explicit UpgradedStream(std::unique_ptr<Conn> conn)
        : conn_(std::move(conn)), guard_(net::make_work_guard(conn_->ioc)) {
      std::string prefix = beast::buffers_to_string(conn_->buf.data());
      conn_->buf.consume(conn_->buf.size());
      auto ex = conn_->ioc.get_executor();
      std::visit(
          [&](auto& s) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, std::unique_ptr<TlsSock>>) {
              inner_ = std::make_unique<internal::AsioByteStream<TlsSock>>(*s, ex, prefix);
            } else if constexpr (!std::is_same_v<S, std::monostate>) {
              inner_ = std::make_unique<internal::AsioByteStream<typename S::next_layer_type>>(
                  s.next_layer(), ex, prefix);
            }
          },
          conn_->sock);
      conn_->ioc.restart();
      io_ = std::thread([this] { conn_->ioc.run(); });
    }
    ~UpgradedStream() override {
      if (inner_) inner_->Close();
      guard_.reset();
      conn_->ioc.stop();
      io_.join();
    }
    size_t Read(char* buf, size_t size) override { return inner_ ? inner_->Read(buf, size) : 0; }
    bool Write(std::string_view data) override { return inner_ && inner_->Write(data); }
    void ShutdownWrite() override {
      if (inner_) inner_->ShutdownWrite();
    }
    void Close() override {
      if (inner_) inner_->Close();
    }

   private:
    std::unique_ptr<Conn> conn_;
    net::executor_work_guard<net::io_context::executor_type> guard_;
    std::unique_ptr<ByteStream> inner_;
    std::thread io_;
  };
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(ClientOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  IL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;
Result<Response> HttpClient::Do(const ClientRequest& r) { return impl_->Do(r); }
Result<int> HttpClient::Stream(const ClientRequest& r,
                               const std::function<bool(int, const Headers&)>& on_head,
                               const std::function<bool(std::string_view)>& on_data,
                               const std::function<bool()>& cancelled) {
  return impl_->Stream(r, on_head, on_data, cancelled);
}
Result<HttpClient::Upgraded> HttpClient::Upgrade(const ClientRequest& r) {
  return impl_->Upgrade(r);
}
const Endpoint& HttpClient::endpoint() const { return impl_->ep; }

}  // namespace il::http
