#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <thread>

#include "core/http_client.h"
#include "core/http_server.h"
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
  s->Handle("/fail", [](const Request&, ResponseWriter& w) { w.ReplyError(NotFound("no such pod")); });
  s->Handle("/throw", [](const Request&, ResponseWriter&) { throw std::runtime_error("boom"); });
  s->Handle("/silent", [](const Request&, ResponseWriter&) {});
  EXPECT_TRUE(s->Start().ok());
  return s;
}

std::unique_ptr<HttpClient> Client(const std::string& url, TlsOptions tls = {}) {
  ClientOptions o;
  o.base_url = url;
  o.tls = tls;
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

TEST(HttpServer, ServesOverTlsAndEnforcesClientCertificates) {
  ServerOptions o;
  o.listen = "https://127.0.0.1:0";
  o.tls.cert_file = kTls + "server.crt";
  o.tls.key_file = kTls + "server.key";
  o.tls.ca_file = kTls + "ca.crt";
  auto s = StartServer(o);
  TlsOptions good;
  good.ca_file = kTls + "ca.crt";
  good.cert_file = kTls + "client.crt";
  good.key_file = kTls + "client.key";
  auto c = Client(s->url(), good);
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
  for (int i = 0; i < 100 && !saw_gone; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
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

}  // namespace
}  // namespace il::http
