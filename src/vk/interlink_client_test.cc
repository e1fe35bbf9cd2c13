// InterlinkClient against a real HTTP server on loopback (port 0) and on a unix socket.
#include "vk/interlink_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/http_server.h"

namespace il::vk {
namespace {
namespace json = boost::json;

class InterlinkClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/vk-ilc-test-XXXXXX";
    dir_ = ::mkdtemp(t);
    token_file_ = dir_ + "/token";
    std::ofstream(token_file_) << "tok-1\n";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }
  void Serve(const std::string& listen = "http://127.0.0.1:0") {
    http::ServerOptions o;
    o.listen = listen;
    server_ = std::make_unique<http::HttpServer>(o);
    server_->HandlePrefix("/", [this](const http::Request& r, http::ResponseWriter& w) {
      {
        std::lock_guard l(mu_);
        seen_.push_back(r);
      }
      if (r.path == "/create") return w.Reply(200, R"({"PodUID":"u1","PodJID":"j1"})");
      if (r.path == "/status")
        return w.Reply(
            200,
            R"([{"name":"p","UID":"u1","namespace":"ns","JID":"j1","containers":[],"initContainers":[]}])");
      if (r.path == "/delete")
        return w.Reply(404, R"({"code":404,"status":"NotFound","message":"unknown pod"})");
      if (r.path == "/getLogs") {
        w.BeginStream(200, "text/plain");
        w.Write("a\n");
        w.Write("b\n");
        return;
      }
      if (r.path == "/pinglink") return w.Reply(200, R"({"status":"ok","resources":{"cpu":"4"}})");
      w.Reply(500, "boom", "text/plain");
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  std::unique_ptr<InterlinkClient> Client(const std::string& url, const std::string& port) {
    InterlinkClientOptions o;
    o.url = url;
    o.port = port;
    o.token_file = token_file_;
    auto c = InterlinkClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }
  http::Request Last() {
    std::lock_guard l(mu_);
    return seen_.back();
  }

  std::string dir_, token_file_;
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::vector<http::Request> seen_;
};

TEST_F(InterlinkClientTest, SendsUpstreamMethodsBodiesAndHeaders) {
  Serve();
  auto c = Client("http://127.0.0.1", std::to_string(server_->port()));
  api::PodCreateRequests req;
  req.pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1"}})");
  auto created = c->Create(req);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->pod_jid, "j1");
  auto r = Last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.headers.Get("authorization"), "Bearer tok-1");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  EXPECT_EQ(r.headers.Get("interlink-http-session").rfind("CreatePod#", 0), 0u);
  EXPECT_NE(r.body.find("\"pod\""), std::string::npos);

  auto st = c->GetStatus({req.pod, req.pod});
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->size(), 1u);
  EXPECT_EQ((*st)[0].jid, "j1");
  r = Last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_TRUE(json::parse(r.body).is_array());
  EXPECT_EQ(json::parse(r.body).as_array().size(), 2u);

  // The token file is re-read per call.
  std::ofstream(token_file_) << "tok-2";
  EXPECT_EQ(c->Delete(req.pod).code(), StatusCode::kNotFound);
  r = Last();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.headers.Get("authorization"), "Bearer tok-2");
  EXPECT_EQ(r.headers.Get("interlink-http-session").rfind("DeletePod#", 0), 0u);
}

TEST_F(InterlinkClientTest, StreamsLogsAndParsesThePing) {
  Serve();
  auto c = Client("http://127.0.0.1:" + std::to_string(server_->port()), "9");  // port in URL wins
  std::string got;
  api::LogRequest lr{"ns", "u1", "p", "main", {}};
  lr.opts.follow = true;
  ASSERT_TRUE(c->GetLogs(
                   lr,
                   [&](std::string_view s) {
                     got += s;
                     return true;
                   },
                   [] { return false; })
                  .ok());
  EXPECT_EQ(got, "a\nb\n");
  EXPECT_EQ(Last().headers.Get("interlink-http-session").rfind("GetLogs#", 0), 0u);
  PingResult p = c->Ping();
  EXPECT_TRUE(p.status.ok());
  EXPECT_EQ(p.http_status, 200);
  ASSERT_TRUE(p.response.has_value());
  EXPECT_EQ(Last().method, "POST");
  EXPECT_EQ(Last().path, "/pinglink");
}

TEST_F(InterlinkClientTest, UnixSocketEndpoint) {
  std::string sock = dir_ + "/il.sock";
  Serve("unix://" + sock);
  auto c = Client("unix://" + sock, "3000");
  EXPECT_TRUE(c->Ping().status.ok());
}

TEST_F(InterlinkClientTest, UnreachableAndMissingTokenAreTransientErrors) {
  auto c = Client("http://127.0.0.1", "1");
  PingResult p = c->Ping();
  EXPECT_EQ(p.http_status, 0);
  EXPECT_FALSE(p.status.ok());
  std::filesystem::remove(token_file_);
  EXPECT_EQ(c->Delete(json::object{}).code(), StatusCode::kUnavailable);
}

TEST(InterlinkBaseUrl, JoinsUrlAndPortLikeUpstream) {
  EXPECT_EQ(InterlinkBaseUrl("http://localhost", "3000"), "http://localhost:3000");
  EXPECT_EQ(InterlinkBaseUrl("http://localhost:8080/", "3000"), "http://localhost:8080");
  EXPECT_EQ(InterlinkBaseUrl("unix:///tmp/il.sock", "3000"), "unix:///tmp/il.sock");
  EXPECT_EQ(InterlinkBaseUrl("https://[::1]", "3000"), "https://[::1]:3000");
}

}  // namespace
}  // namespace il::vk
