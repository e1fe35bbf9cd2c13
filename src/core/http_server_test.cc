#include "core/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <mutex>
#include <thread>

#include "core/http_client.h"
#include "core/http_status.h"

namespace il::http {
namespace {

const std::string kTls = std::string(IL_SOURCE_DIR) + "/test/data/tls/";

std::unique_ptr<HttpServer> StartServer(ServerOptions o) {
  auto s = std::make_unique<HttpServer>(std::move(o));
  s->Handle("/echo", [](const Request& r, ResponseWriter& w) {
    w.SetHeader("X-Method", r.method);
    w.Reply(200, r.body, "text/plain");
  });
  s->Handle("/stream", [](const Request& r, ResponseWriter& w) {
    int n = std::stoi(r.query.count("n") ? r.query.at("n") : "3");
    w.BeginStream(200, "text/plain");
    for (int i = 0; i < n; ++i) w.Write("line " + std::to_string(i) + "\n");
  });
  s->Handle("/fail",
            [](const Request&, ResponseWriter& w) { w.ReplyError(NotFound("no such pod")); });
  s->Handle("/throw", [](const Request&, ResponseWriter&) { throw std::runtime_error("boom"); });
  s->Handle("/silent", [](const Request&, ResponseWriter&) {});
  EXPECT_TRUE(s->Start().ok());
  return s;
}

std::unique_ptr<HttpClient> Client(const std::string& url, TlsOptions tls = {}) {
  ClientOptions o;
  o.base_url = url;
  o.tls = std::move(tls);
  o.timeout = std::chrono::seconds(10);
  auto c = HttpClient::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

void ExerciseBasics(HttpClient& c) {
  ClientRequest get;
  get.method = "GET";  // GET with a body, as upstream sends /status
  get.target = "/echo";
  get.body = R"([{"metadata":{}}])";
  auto r = c.Do(get);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, get.body);
  EXPECT_EQ(r->headers.Get("x-method"), "GET");
  ClientRequest del = get;
  del.method = "DELETE";
  r = c.Do(del);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.Get("x-method"), "DELETE");
  ClientRequest fail;
  fail.target = "/fail";
  r = c.Do(fail);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(StatusFromHttp(r->status, r->body).message(), "no such pod");
  std::string got;
  ClientRequest st;
  st.target = "/stream?n=5";
  auto code = c.Stream(st, nullptr, [&](std::string_view d) {
    got.append(d);
    return true;
  });
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 200);
  EXPECT_EQ(got, "line 0\nline 1\nline 2\nline 3\nline 4\n");
}

TEST(HttpServer, ServesAnyMethodWithBodiesOverTcp) {
  auto s = StartServer({});
  auto c = Client(s->url());
  ExerciseBasics(*c);
  // Keep-alive connections are reused for many requests.
  for (int i = 0; i < 50; ++i) {
    ClientRequest r;
    r.target = "/echo";
    r.body = std::to_string(i);
    auto res = c->Do(r);
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->body, std::to_string(i));
  }
}

TEST(HttpServer, ServesOverUnixSocket) {
  std::string path = "/tmp/il-http-test-" + std::to_string(getpid()) + ".sock";
  ServerOptions o;
  o.listen = "unix://" + path;
  auto s = StartServer(o);
  auto c = Client("unix://" + path);
  ExerciseBasics(*c);
  s->Stop();
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "socket file removed on stop";
}

// A TLS listener on a free port that requires client certificates of the test CA.
ServerOptions MtlsServerOptions() {
  ServerOptions o;
  o.listen = "https://127.0.0.1:0";
  o.tls.cert_file = kTls + "server.crt";
  o.tls.key_file = kTls + "server.key";
  o.tls.ca_file = kTls + "ca.crt";
  return o;
}

// The test CA's client certificate.
TlsOptions GoodClientTls() {
  TlsOptions good;
  good.ca_file = kTls + "ca.crt";
  good.cert_file = kTls + "client.crt";
  good.key_file = kTls + "client.key";
  return good;
}

TEST(HttpServer, ServesOverTlsAndEnforcesClientCertificates) {
  auto s = StartServer(MtlsServerOptions());
  auto c = Client(s->url(), GoodClientTls());
  ExerciseBasics(*c);
  TlsOptions no_cert;
  no_cert.ca_file = kTls + "ca.crt";
  auto bad = Client(s->url(), no_cert);
  ClientRequest r;
  r.target = "/echo";
  EXPECT_FALSE(bad->Do(r).ok()) << "mTLS must reject a client without a certificate";
  TlsOptions wrong_ca;  // system CAs do not trust the test CA
  auto untrusted = Client(s->url(), wrong_ca);
  EXPECT_FALSE(untrusted->Do(r).ok());
}

TEST(HttpServer, OptionalClientCertificatesAreVerifiedAndNamed) {
  ServerOptions o;
  o.listen = "https://127.0.0.1:0";
  o.tls.cert_file = kTls + "server.crt";
  o.tls.key_file = kTls + "server.key";
  o.tls.ca_file = kTls + "ca.crt";
  o.client_cert_optional = true;
  HttpServer s(o);
  s.Handle("/who", [](const Request& r, ResponseWriter& w) {
    w.Reply(200, r.client_cert.verified ? r.client_cert.common_name : "anonymous", "text/plain");
  });
  ASSERT_TRUE(s.Start().ok());
  TlsOptions with_cert;
  with_cert.ca_file = kTls + "ca.crt";
  with_cert.cert_file = kTls + "client.crt";
  with_cert.key_file = kTls + "client.key";
  TlsOptions without = with_cert;
  without.cert_file.clear();
  without.key_file.clear();
  ClientRequest r;
  r.target = "/who";
  auto a = Client(s.url(), with_cert)->Do(r);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->body, "vk-client");
  auto b = Client(s.url(), without)->Do(r);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->body, "anonymous");
  // A certificate from another CA does not end the handshake (a bearer token may still
  // follow), and it names nobody.
  std::string dir = "/tmp/il-foreign-cert-" + std::to_string(getpid());
  std::string cmd = "mkdir -p " + dir +
                    " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                    "-subj /CN=mallory -keyout " +
                    dir + "/k.pem -out " + dir + "/c.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  TlsOptions foreign = without;
  foreign.cert_file = dir + "/c.pem";
  foreign.key_file = dir + "/k.pem";
  auto c = Client(s.url(), foreign)->Do(r);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->body, "anonymous");
  std::system(("rm -rf " + dir).c_str());
}

// A filter: "Bearer ok" is alice, anything else 401.
bool BearerOkIsAlice(Request& r, ResponseWriter& w) {
  if (r.headers.Get("authorization") != "Bearer ok") {
    w.ReplyError(Status(StatusCode::kUnauthenticated, "no token"));
    return false;
  }
  r.identity.user = "alice";
  return true;
}

// Sends raw bytes and reads the reply until the server closes or `timeout` passes.
std::string RawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket sock(io);
  sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  net::write(sock, net::buffer(bytes));
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  sock.non_blocking(true);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    size_t n = sock.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) break;
    got.append(buf, n);
  }
  return got;
}

TEST(HttpServer, TheFilterRefusesOnTheHeadBeforeAnyBodyIsRead) {
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  HttpServer s(o);
  std::atomic<int> handled{0};
  std::atomic<size_t> body_at_filter{99};
  s.SetFilter([&](Request& r, ResponseWriter& w) {
    body_at_filter = r.body.size();
    return BearerOkIsAlice(r, w);
  });
  s.Handle("/echo", [&](const Request& r, ResponseWriter& w) {
    ++handled;
    w.Reply(200, r.identity.user + ":" + r.body, "text/plain");
  });
  ASSERT_TRUE(s.Start().ok());
  // Announces 100 MB and sends none of it: the 401 must come at once, not after a
  // read timeout, and the handler never runs.
  auto t0 = std::chrono::steady_clock::now();
  std::string reply =
      RawExchange(s.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
                  std::chrono::milliseconds(1500));
  EXPECT_EQ(reply.rfind("HTTP/1.1 401", 0), 0u) << reply;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400))
      << "the server closed the connection instead of waiting for the body";
  EXPECT_EQ(handled.load(), 0);
  EXPECT_EQ(body_at_filter.load(), 0u);
  ClientRequest ok;
  ok.method = "POST";
  ok.target = "/echo";
  ok.body = "hi";
  ok.headers.Set("Authorization", "Bearer ok");
  auto r = Client(s.url())->Do(ok);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "alice:hi");
}

TEST(HttpServer, ARefusedRequestWithItsBodyLeavesTheConnectionToTheNextInOrder) {
  // The body came with the head: filter and handler share one trip to a worker, and the
  // reply is written after the handler's thread moved on. Pipelined on one connection, a
  // refused request, an accepted one and a handler that goes on after its reply must
  // answer in order, and the handler must not run for the refused one.
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  HttpServer s(o);
  std::atomic<int> handled{0};
  s.SetFilter(BearerOkIsAlice);
  s.Handle("/echo", [&](const Request& r, ResponseWriter& w) {
    ++handled;
    w.Reply(200, r.identity.user + ":" + r.body, "text/plain");
    if (r.body == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  ASSERT_TRUE(s.Start().ok());
  const std::string refused = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnope";
  auto ok = [](const std::string& body) {
    return "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string last =
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n"
      "Connection: close\r\nContent-Length: 3\r\n\r\nend";
  auto t0 = std::chrono::steady_clock::now();
  std::string reply = RawExchange(s.port(), refused + ok("slow") + ok("hi") + last,
                                  std::chrono::milliseconds(3000));
  const auto took = std::chrono::steady_clock::now() - t0;
  size_t a = reply.find("HTTP/1.1 401");
  size_t b = reply.find("alice:slow");
  size_t c = reply.find("alice:hi");
  size_t d = reply.find("alice:end");
  ASSERT_NE(a, std::string::npos) << reply;
  ASSERT_NE(b, std::string::npos) << reply;
  ASSERT_NE(c, std::string::npos) << reply;
  ASSERT_NE(d, std::string::npos) << reply;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_EQ(handled.load(), 3);
  EXPECT_LT(took, std::chrono::milliseconds(2500))
      << "the connection was not closed after the last";
}

TEST(HttpServer, PerRouteBodyLimits) {
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  HttpServer s(o);
  s.Handle("/small", [](const Request&, ResponseWriter& w) { w.Reply(200, "ok"); }, {16, false});
  s.Handle("/big", [](const Request& r, ResponseWriter& w) {
    w.Reply(200, std::to_string(r.body.size()));
  });
  ASSERT_TRUE(s.Start().ok());
  auto c = Client(s.url());
  ClientRequest r;
  r.method = "POST";
  r.target = "/small";
  r.body = std::string(17, 'x');
  EXPECT_EQ(c->Do(r)->status, 413);
  r.body = std::string(16, 'x');
  EXPECT_EQ(c->Do(r)->status, 200);
  r.target = "/big";
  r.body = std::string(1 << 16, 'x');
  EXPECT_EQ(c->Do(r)->body, "65536");
}

TEST(HttpServer, StreamRoutesRunBesideTheWorkersAndAreCapped) {
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  o.worker_threads = 1;
  o.max_streams = 3;
  o.max_streams_per_peer = 2;
  HttpServer s(o);
  std::atomic<bool> release{false};
  std::atomic<int> open{0};
  s.Handle("/follow",
           [&](const Request&, ResponseWriter& w) {
             ++open;
             w.BeginStream(200, "text/plain");
             w.Write("x");
             while (!release && !w.ClientGone())
               std::this_thread::sleep_for(std::chrono::milliseconds(5));
             --open;
           },
           {0, true});
  s.Handle("/quick", [](const Request&, ResponseWriter& w) { w.Reply(200, "ok"); });
  ASSERT_TRUE(s.Start().ok());
  std::vector<std::thread> t;
  std::atomic<int> too_many{0};
  for (int i = 0; i < 3; ++i) {
    t.emplace_back([&] {
      auto c = Client(s.url());
      ClientRequest r;
      r.target = "/follow";
      r.timeout = std::chrono::milliseconds(0);
      int st = 0;
      (void)c->Stream(
          r,
          [&](int code, const Headers&) {
            st = code;
            return true;
          },
          [](std::string_view) { return true; }, [&] { return release.load(); });
      if (st == 429) ++too_many;
    });
  }
  for (int i = 0; i < 400 && open + too_many < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(open.load(), 2) << "two streams per peer";
  EXPECT_EQ(too_many.load(), 1);
  ClientRequest q;
  q.target = "/quick";
  auto r = Client(s.url())->Do(q);  // the single worker is free
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  release = true;
  for (auto& th : t) th.join();
}

TEST(HttpServer, AStreamThreadServesTheNextStreamAndStopDoesNotWaitForItsKeep) {
  // A status watch is answered and asked again at once, one per change under a burst: its
  // thread waits for the next stream instead of exiting. Concurrent streams still get a
  // thread each, and Stop() ends idle stream threads at once.
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  o.worker_threads = 1;
  auto s = std::make_unique<HttpServer>(o);
  std::mutex mu;
  std::vector<pid_t> ids;  // kernel thread ids: never reused this soon, unlike pthread_t
  std::atomic<int> hold{0};
  s->Handle("/watch",
            [&](const Request& r, ResponseWriter& w) {
              {
                std::lock_guard<std::mutex> l(mu);
                ids.push_back(::gettid());
              }
              if (r.query.count("hold")) {
                ++hold;
                while (hold < 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
              }
              w.Reply(200, "{}");
            },
            {0, true});
  ASSERT_TRUE(s->Start().ok());
  auto c = Client(s->url());
  ClientRequest r;
  r.target = "/watch";
  for (int i = 0; i < 3; ++i) {
    auto got = c->Stream(r, nullptr, [](std::string_view) { return true; });
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    // The reply is out before the thread is idle again: let it get there.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.target = "/watch?hold=1";  // two at once: each waits until both run
  std::thread other(
      [&] { (void)Client(s->url())->Stream(r, nullptr, [](std::string_view) { return true; }); });
  auto got = c->Stream(r, nullptr, [](std::string_view) { return true; });
  other.join();
  ASSERT_TRUE(got.ok());
  {
    std::lock_guard<std::mutex> l(mu);
    ASSERT_EQ(ids.size(), 5u);
    EXPECT_EQ(ids[1], ids[0]);
    EXPECT_EQ(ids[2], ids[0]);
    EXPECT_NE(ids[3], ids[4]);
  }
  const auto t0 = std::chrono::steady_clock::now();
  s.reset();  // Stop(): two idle stream threads, each kept for 10 s
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(HttpServer, ConnectionsAreCappedPerPeer) {
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  o.max_connections_per_peer = 2;
  auto s = StartServer(o);
  namespace net = boost::asio;
  net::io_context io;
  std::vector<net::ip::tcp::socket> held;
  for (int i = 0; i < 2; ++i) {
    held.emplace_back(io);
    held.back().connect(
        {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s->port())});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string third = RawExchange(s->port(), "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
                                  std::chrono::milliseconds(500));
  EXPECT_EQ(third, "") << "a third connection from the same peer is closed at once";
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ClientRequest r;
  r.target = "/echo";
  auto ok = Client(s->url())->Do(r);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServer, AnswersErrorsAsJson) {
  auto s = StartServer({});
  auto c = Client(s->url());
  ClientRequest r;
  r.target = "/nowhere";
  auto res = c->Do(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
  r.target = "/throw";
  res = c->Do(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("boom"), std::string::npos);
  r.target = "/silent";
  res = c->Do(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
}

TEST(HttpServer, RejectsOversizeBodiesWith413) {
  ServerOptions o;
  o.body_limit = 1000;
  auto s = StartServer(o);
  auto c = Client(s->url());
  ClientRequest r;
  r.method = "POST";
  r.target = "/echo";
  r.body.assign(5000, 'x');
  auto res = c->Do(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 413);
  // The server still works afterwards.
  r.body = "ok";
  res = c->Do(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "ok");
}

TEST(HttpServer, MalformedRequestGets400AndServerSurvives) {
  auto s = StartServer({});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(s->port())});
  std::string garbage = "GARBAGE\x01\x02 / HTTP/9\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(garbage));
  std::string reply;
  boost::system::error_code ec;
  char buf[1024];
  for (;;) {
    size_t n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
  }
  EXPECT_NE(reply.find("400"), std::string::npos) << reply;
  auto c = Client(s->url());
  ClientRequest r;
  r.target = "/echo";
  r.body = "still alive";
  auto res = c->Do(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "still alive");
}

// Sends `request` on a fresh plain connection to `ep` (TCP or unix) and returns the socket.
template <class Proto>
typename Proto::socket SendRaw(boost::asio::io_context& ioc, const typename Proto::endpoint& ep,
                               const std::string& request) {
  typename Proto::socket sock(ioc);
  sock.connect(ep);
  boost::asio::write(sock, boost::asio::buffer(request));
  return sock;
}

// Reads one response with a Content-Length body from `sock`; "" on error or when nothing
// comes for 10 s.
template <class Socket>
std::string ReadResponse(Socket& sock, std::string& pending) {
  boost::system::error_code ec;
  char buf[65536];
  for (;;) {
    auto end = pending.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto at = pending.find("Content-Length: ");
      if (at == std::string::npos || at > end) return "";
      size_t total = end + 4 + std::stoul(pending.substr(at + 16));
      if (pending.size() >= total) {
        std::string out = pending.substr(0, total);
        pending.erase(0, total);
        return out;
      }
    }
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return "";
    size_t n = sock.read_some(boost::asio::buffer(buf), ec);
    if (ec) return "";
    pending.append(buf, n);
  }
}

// On a plain socket a worker writes what the socket takes at once; the rest goes to the I/O
// thread. A client that reads nothing for a while gets the whole reply, and the connection
// goes on; a client that leaves mid-reply costs the server nothing.
TEST(HttpServer, AReplyTheSocketCannotTakeAtOnceArrivesWholeAndTheConnectionGoesOn) {
  const std::string big = [] {
    std::string b(size_t{8} << 20, 0);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
    return b;
  }();
  auto serve = [&](HttpServer& s) {
    s.Handle("/big", [&](const Request&, ResponseWriter& w) { w.Reply(200, big, "text/plain"); });
    s.Handle("/echo",
             [](const Request& r, ResponseWriter& w) { w.Reply(200, r.body, "text/plain"); });
    ASSERT_TRUE(s.Start().ok());
  };
  const std::string get_big = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string echo = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  auto check = [&](auto& sock) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the socket fills up
    std::string pending;
    std::string res = ReadResponse(sock, pending);
    ASSERT_GT(res.size(), big.size());
    EXPECT_EQ(res.substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_TRUE(res.compare(res.size() - big.size(), big.size(), big) == 0) << "body differs";
    boost::asio::write(sock, boost::asio::buffer(echo));
    res = ReadResponse(sock, pending);
    ASSERT_GE(res.size(), 5u);
    EXPECT_EQ(res.substr(res.size() - 5), "hello");
  };
  boost::asio::io_context ioc;
  {
    HttpServer s({});
    serve(s);
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"),
                                      static_cast<uint16_t>(s.port()));
    auto sock = SendRaw<boost::asio::ip::tcp>(ioc, ep, get_big);
    check(sock);
    // Gone mid-reply: the writes fail (EPIPE, no SIGPIPE) and the server serves the next.
    for (int i = 0; i < 3; ++i) {
      auto gone = SendRaw<boost::asio::ip::tcp>(ioc, ep, get_big);
      gone.close();
    }
    auto again = SendRaw<boost::asio::ip::tcp>(ioc, ep, echo);
    std::string pending;
    EXPECT_NE(ReadResponse(again, pending).find("hello"), std::string::npos);
  }
  std::string path = "/tmp/il-http-big-" + std::to_string(getpid()) + ".sock";
  ServerOptions o;
  o.listen = "unix://" + path;
  HttpServer s(o);
  serve(s);
  auto sock = SendRaw<boost::asio::local::stream_protocol>(
      ioc, boost::asio::local::stream_protocol::endpoint(path), get_big);
  check(sock);
}

TEST(HttpServer, StreamingHandlerSeesClientLeave) {
  std::atomic<bool> saw_gone{false};
  HttpServer s({});
  s.Handle("/follow", [&](const Request&, ResponseWriter& w) {
    w.BeginStream(200, "text/plain");
    w.Write("first\n");
    for (int i = 0; i < 200; ++i) {
      if (w.ClientGone()) {
        saw_gone = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  });
  ASSERT_TRUE(s.Start().ok());
  auto c = Client(s.url());
  ClientRequest r;
  r.target = "/follow";
  std::string got;
  auto code = c->Stream(r, nullptr, [&](std::string_view d) {
    got.append(d);
    return false;  // hang up after the first chunk
  });
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(got, "first\n");
  for (int i = 0; i < 100 && !saw_gone; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(saw_gone);
}

TEST(HttpClient, UnreachableServerIsUnavailable) {
  auto c = Client("http://127.0.0.1:1");
  ClientRequest r;
  auto res = c->Do(r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
}

TEST(HttpClient, SlowServerTimesOut) {
  HttpServer s({});
  s.Handle("/slow", [](const Request&, ResponseWriter& w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    w.Reply(200, "late");
  });
  ASSERT_TRUE(s.Start().ok());
  auto c = Client(s.url());
  ClientRequest r;
  r.target = "/slow";
  r.timeout = std::chrono::milliseconds(100);
  auto res = c->Do(r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded);
}

// The client's synchronous reads and writes wait in poll() on non-blocking sockets. Over
// TLS: a body far larger than the socket buffers goes out and comes back whole (writes
// that stop half way resume), a silent server times out at the deadline, and a stream
// whose caller cancels ends within about half a second.
TEST(HttpClient, TlsBigBodiesTimeoutsAndCancelledStreams) {
  HttpServer s(MtlsServerOptions());
  s.Handle("/echo",
           [](const Request& r, ResponseWriter& w) { w.Reply(200, r.body, "text/plain"); });
  s.Handle("/slow", [](const Request&, ResponseWriter& w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    w.Reply(200, "late");
  });
  s.Handle("/trickle", [](const Request&, ResponseWriter& w) {
    w.BeginStream(200, "text/plain");
    w.Write("first\n");
    for (int i = 0; i < 100 && !w.ClientGone(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  ASSERT_TRUE(s.Start().ok());
  auto c = Client(s.url(), GoodClientTls());

  ClientRequest big;
  big.method = "POST";
  big.target = "/echo";
  big.body.resize(size_t{8} << 20);
  for (size_t i = 0; i < big.body.size(); ++i) big.body[i] = static_cast<char>('a' + i % 26);
  auto r = c->Do(big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body == big.body) << "echoed " << r->body.size() << " bytes";

  ClientRequest slow;
  slow.target = "/slow";
  slow.timeout = std::chrono::milliseconds(150);
  auto t0 = std::chrono::steady_clock::now();
  auto res = c->Do(slow);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(700));

  // The connection pool still works after the timed-out connection was dropped.
  ClientRequest echo;
  echo.method = "POST";
  echo.target = "/echo";
  echo.body = "again";
  r = c->Do(echo);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "again");

  ClientRequest trickle;
  trickle.target = "/trickle";
  trickle.timeout = std::chrono::milliseconds(0);  // no idle limit: only `cancelled` ends it
  std::string got;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  t0 = std::chrono::steady_clock::now();
  auto code = c->Stream(
      trickle, nullptr,
      [&](std::string_view d) {
        got.append(d);
        return true;
      },
      [&] { return cancel.load(); });
  canceller.join();
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(got, "first\n");
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(2000)) << "the stream ran until the server ended it";
}

}  // namespace
}  // namespace il::http
