#include "stream/hop_stream.h"

#include <gtest/gtest.h>

#include <deque>

#include "core/http_client.h"
#include "core/http_server.h"

namespace il::stream {
namespace {

TEST(HopStream, ExecTargetRoundTripsWithRepeatedCommandAndEscapes) {
  api::ExecRequest r;
  r.namespace_ = "ns";
  r.pod_name = "p";
  r.pod_uid = "u-1";
  r.container = "c";
  r.command = {"sh", "-c", "echo a&b=c %"};
  r.stdin = r.stdout = r.tty = true;
  r.stderr = false;
  auto back = ParseExecTarget(ExecTarget(r), false);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->command, r.command);
  EXPECT_TRUE(back->tty && back->stdin && back->stdout && !back->stderr);
  EXPECT_EQ(back->pod_uid, "u-1");
}

TEST(HopStream, ExecNeedsAStreamAndACommand) {
  EXPECT_FALSE(ParseExecTarget("/exec?namespace=a&pod=b&container=c&command=x", false).ok());
  EXPECT_FALSE(ParseExecTarget("/exec?namespace=a&pod=b&container=c&stdout=1", false).ok());
  EXPECT_TRUE(ParseExecTarget("/attach?namespace=a&pod=b&container=c&stdout=1", true).ok());
}

TEST(HopStream, PortForwardPortIsChecked) {
  EXPECT_TRUE(ParsePortForwardTarget("/portforward?namespace=a&pod=b&port=8080").ok());
  EXPECT_FALSE(ParsePortForwardTarget("/portforward?namespace=a&pod=b&port=0").ok());
  EXPECT_FALSE(ParsePortForwardTarget("/portforward?namespace=a&pod=b&port=x").ok());
  EXPECT_FALSE(ParsePortForwardTarget("/portforward?namespace=a&pod=b").ok());
}

// Echoes stdin to stdout until stdin closes, then exits 3.
class EchoBackend : public api::StreamBackend {
 public:
  Result<int> Exec(const api::CallContext&, const api::ExecRequest& r, api::Channels& io) override {
    last_user = r.user;
    while (auto m = io.Read()) {
      if (m->channel == api::kChanClose) break;
      if (m->channel == api::kChanStdin) io.Write(api::kChanStdout, m->data);
    }
    return 3;
  }
  Status PortForward(const api::CallContext&, const api::PortForwardRequest&,
                     api::Channels&) override {
    return Unavailable("connection refused");
  }
  std::string last_user;
};

// Scripted caller side: gives its messages, then blocks until cancelled.
class ScriptChannels : public api::Channels {
 public:
  std::deque<api::ChannelMessage> in;
  std::string out;
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  std::optional<api::ChannelMessage> Read() override {
    std::unique_lock lock(mu);
    if (!in.empty()) {
      auto m = in.front();
      in.pop_front();
      return m;
    }
    cv.wait(lock, [&] { return cancelled; });
    return std::nullopt;
  }
  bool Write(uint8_t ch, std::string_view d) override {
    std::lock_guard lock(mu);
    if (ch == api::kChanStdout) out.append(d);
    return true;
  }
  void CancelRead() override {
    std::lock_guard lock(mu);
    cancelled = true;
    cv.notify_all();
  }
};

TEST(HopStream, ExecRelaysStdinStdoutAndTheExitCodeOverAWebSocket) {
  EchoBackend backend;
  std::vector<std::string> audit;
  http::HttpServer server(http::ServerOptions{});
  for (const char* p : {"/exec", "/portforward"}) {
    server.Handle(p,
                  [&](const http::Request& r, http::ResponseWriter& w) {
                    ServeHopStream(r, w, {}, backend,
                                   [&](const std::string& l) { audit.push_back(l); });
                  },
                  {4096, true});
  }
  ASSERT_TRUE(server.Start().ok());
  http::ClientOptions co;
  co.base_url = server.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  api::ExecRequest r;
  r.namespace_ = "ns";
  r.pod_name = "pod";
  r.pod_uid = "uid";
  r.container = "c";
  r.command = {"cat"};
  r.stdin = r.stdout = true;
  r.user = "alice";
  ScriptChannels io;
  io.in = {{api::kChanStdin, "hello "},
           {api::kChanStdin, "world"},
           {api::kChanClose, std::string(1, '\0')}};
  http::ClientRequest req;
  req.target = ExecTarget(r);
  auto code = RelayExec(**client, req, io);
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(io.out, "hello world");
  EXPECT_EQ(backend.last_user, "alice");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_NE(audit[0].find("command=[cat]"), std::string::npos);

  api::PortForwardRequest pf;
  pf.namespace_ = "ns";
  pf.pod_name = "pod";
  pf.port = 8080;
  ScriptChannels io2;
  req.target = PortForwardTarget(pf);
  Status st = RelayPortForward(**client, req, io2);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("connection refused"), std::string::npos);
  server.Stop();
}

TEST(HopStream, AMissingRouteIsUnimplementedNotAHang) {
  http::HttpServer server(http::ServerOptions{});
  ASSERT_TRUE(server.Start().ok());
  http::ClientOptions co;
  co.base_url = server.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  ScriptChannels io;
  http::ClientRequest req;
  req.target = "/exec?namespace=a&pod=b&container=c&command=x&stdout=1";
  auto code = RelayExec(**client, req, io);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), StatusCode::kUnimplemented);
  server.Stop();
}

}  // namespace
}  // namespace il::stream
