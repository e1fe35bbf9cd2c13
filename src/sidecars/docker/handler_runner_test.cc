#include "sidecars/docker/handler_runner.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sidecars/docker/fake_docker_engine.h"
#include "sidecars/docker/netns_dial.h"

namespace il::docker {
namespace {

// A loopback server (port 0) that answers each connection once with `reply`.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply, int connections = 1) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this, connections] {
      for (int i = 0; i < connections; ++i) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n > 0) request_.assign(buf, static_cast<size_t>(n));
        (void)!::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  const std::string& request() const { return request_; }

 private:
  std::string reply_, request_;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

// A loopback server (port 0) that answers each connection with `route(request)` and records
// the requests, until it is destroyed.
class RoutingServer {
 public:
  explicit RoutingServer(std::function<std::string(const std::string&)> route)
      : route_(std::move(route)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        std::string req = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
        {
          std::lock_guard l(mu_);
          requests_.push_back(req);
        }
        std::string reply = route_(req);
        (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~RoutingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard l(mu_);
    return requests_;
  }

 private:
  std::function<std::string(const std::string&)> route_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

std::string Redirect(int code, const std::string& location, const std::string& body = "") {
  return "HTTP/1.1 " + std::to_string(code) + " Redirect\r\n" +
         (location.empty() ? "" : "Location: " + location + "\r\n") +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

bool Asks(const std::string& request, const std::string& path) {
  return request.rfind("GET " + path + " HTTP/1.1\r\n", 0) == 0;
}

api::Handler Http(int port, const std::string& path = "/healthz") {
  api::Handler h;
  h.kind = api::HandlerKind::kHttpGet;
  h.port = port;
  h.path = path;
  return h;
}

std::unique_ptr<DockerApi> ApiOf(const FakeDockerEngine& engine) {
  auto api = DockerApi::Create(DockerEndpoint{engine.url(), {}, ""});
  if (!api.ok()) std::abort();
  return std::move(*api);
}

class HandlerRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_.AddForeign("il-c", {}); }
  FakeDockerEngine engine_;
  std::unique_ptr<DockerApi> api_ = ApiOf(engine_);
  DockerHandlerRunner handlers_{*api_};
  HandlerTarget target_{"il-c", 0, "127.0.0.1"};
};

TEST(ProbeRequest, CarriesTheKubeletHeadersAndTheUsersOwn) {
  api::Handler h = Http(8080, "/ready?x=1");
  h.headers = {{"X-Custom", "a"}, {"Host", "example.org"}, {"Accept", ""}};
  EXPECT_EQ(ProbeRequest(h, "10.0.0.5", HandlerMode::kProbe),
            "GET /ready?x=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kube-probe/1.20\r\n"
            "X-Custom: a\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ProbeRequest(h, "10.0.0.5", HandlerMode::kHook),
            "GET /ready?x=1 HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: kube-probe/1.20\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
}

TEST(ResponseStatus, ReadsTheStatusLine) {
  EXPECT_EQ(ResponseStatus("HTTP/1.1 204 No Content\r\n\r\n"), 204);
  EXPECT_EQ(ResponseStatus("HTTP/1.0 500 x"), 500);
  EXPECT_EQ(ResponseStatus("SSH-2.0"), -1);
}

TEST_F(HandlerRunnerTest, HttpSuccessAndFailureByStatusCode) {
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
    EXPECT_EQ(r.outcome, Outcome::kSuccess) << r.output;
    EXPECT_NE(s.request().find("GET /healthz HTTP/1.1\r\n"), std::string::npos);
  }
  {
    OneShotServer s("HTTP/1.1 503 Unavailable\r\n\r\n");
    auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
    EXPECT_EQ(r.outcome, Outcome::kFailure);
    EXPECT_EQ(r.output, "HTTP probe failed with statuscode: 503");
  }
  {
    OneShotServer s("HTTP/1.1 503 Unavailable\r\n\r\n");
    auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kHook);
    EXPECT_EQ(r.outcome, Outcome::kSuccess);  // hooks: any answer will do
  }
}

TEST_F(HandlerRunnerTest, SameHostRedirectsAreFollowedAcrossPorts) {
  RoutingServer target([](const std::string& r) {
    return Asks(r, "/final") ? "HTTP/1.1 200 OK\r\n\r\n" : "HTTP/1.1 404 No\r\n\r\n";
  });
  std::string next = "http://127.0.0.1:" + std::to_string(target.port()) + "/final";
  RoutingServer s([&](const std::string& r) {
    if (Asks(r, "/healthz")) return Redirect(302, "sub/../moved?x=1");
    if (Asks(r, "/moved?x=1")) return Redirect(301, next);
    return std::string("HTTP/1.1 500 No\r\n\r\n");
  });
  auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kSuccess) << r.output;
  EXPECT_FALSE(r.warning);
  EXPECT_EQ(s.requests().size(), 2u);
  ASSERT_EQ(target.requests().size(), 1u);
  EXPECT_NE(target.requests()[0].find("Host: 127.0.0.1:" + std::to_string(target.port())),
            std::string::npos);
  EXPECT_NE(target.requests()[0].find("User-Agent: kube-probe/1.20"), std::string::npos);
}

TEST_F(HandlerRunnerTest, RedirectToAFailingPageFails) {
  RoutingServer s([](const std::string& r) {
    return Asks(r, "/healthz") ? Redirect(307, "/broken") : "HTTP/1.1 500 No\r\n\r\n";
  });
  auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_EQ(r.output, "HTTP probe failed with statuscode: 500");
}

TEST_F(HandlerRunnerTest, RedirectToAnotherHostIsASuccessWithAWarning) {
  RoutingServer s([](const std::string&) {
    return Redirect(302, "http://elsewhere.invalid/login", "<a>Found</a>");
  });
  auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kSuccess);
  EXPECT_TRUE(r.warning);
  EXPECT_EQ(r.output, "<a>Found</a>");
  EXPECT_EQ(s.requests().size(), 1u);
}

TEST_F(HandlerRunnerTest, TenRequestsAtMostThenAFailure) {
  RoutingServer s([](const std::string&) { return Redirect(302, "/loop"); });
  auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(5), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_EQ(r.output, "Get \"/loop\": stopped after 10 redirects");
  EXPECT_EQ(s.requests().size(), 10u);
}

TEST_F(HandlerRunnerTest, RedirectWithoutLocation) {
  {
    RoutingServer s([](const std::string&) { return Redirect(302, ""); });
    auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
    EXPECT_EQ(r.outcome, Outcome::kFailure);
    EXPECT_EQ(r.output, "Get \"http://127.0.0.1:" + std::to_string(s.port()) +
                            "/healthz\": 302 response missing Location header");
  }
  {
    // Go stops at a 307/308 without Location: the 3xx is the answer (a warning).
    RoutingServer s([](const std::string&) { return Redirect(308, "", "x"); });
    auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kProbe);
    EXPECT_EQ(r.outcome, Outcome::kSuccess);
    EXPECT_TRUE(r.warning);
  }
}

TEST_F(HandlerRunnerTest, HooksDoNotFollowRedirects) {
  RoutingServer s([](const std::string&) { return Redirect(302, "/elsewhere"); });
  auto r = handlers_.Run(Http(s.port()), target_, std::chrono::seconds(2), HandlerMode::kHook);
  EXPECT_EQ(r.outcome, Outcome::kSuccess);
  EXPECT_FALSE(r.warning);
  EXPECT_EQ(s.requests().size(), 1u);
}

TEST_F(HandlerRunnerTest, RefusedConnectionIsAFailureWithGoLikeText) {
  int port;
  {
    OneShotServer s("", 0);
    port = s.port();
  }
  api::Handler h = Http(port);
  h.kind = api::HandlerKind::kTcpSocket;
  auto r = handlers_.Run(h, target_, std::chrono::seconds(2), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_EQ(r.output,
            "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: Connection refused");
}

TEST_F(HandlerRunnerTest, TcpInsideANetworkNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "setns needs root";
  OneShotServer s("");
  api::Handler h = Http(s.port());
  h.kind = api::HandlerKind::kTcpSocket;
  HandlerTarget t{"il-c", ::getpid(), ""};  // our own namespace, entered through /proc
  auto r = handlers_.Run(h, t, std::chrono::seconds(2), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kSuccess) << r.output;
}

TEST_F(HandlerRunnerTest, ExecIsAnApiExecWithAnArgv) {
  engine_.SetExecResponder([](const std::vector<std::string>& argv) {
    bool want =
        argv == std::vector<std::string>{"docker", "exec", "il-c", "cat", "/tmp/ready file"};
    return FakeDockerEngine::ExecResult{want ? 1 : 99, "", "no such file\n"};
  });
  api::Handler h;
  h.command = {"cat", "/tmp/ready file"};
  auto r = handlers_.Run(h, target_, std::chrono::seconds(5), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_EQ(r.output, "no such file\n");
  engine_.SetExecResponder([](const std::vector<std::string>&) {
    return FakeDockerEngine::ExecResult{0, "ready\n", ""};
  });
  r = handlers_.Run(h, target_, std::chrono::seconds(5), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kSuccess) << r.output;
  EXPECT_EQ(r.output, "ready\n");
  // A stopped container: a failure with Docker's message; dockerd down: an error.
  engine_.Exit("il-c", 0);
  r = handlers_.Run(h, target_, std::chrono::seconds(5), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_NE(r.output.find("is not running"), std::string::npos) << r.output;
  engine_.SetDown(true);
  r = handlers_.Run(h, target_, std::chrono::seconds(5), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kError) << r.output;
}

TEST_F(HandlerRunnerTest, NamedPortThatDidNotResolveFails) {
  api::Handler h = Http(0);
  h.port_error = "unknown port name \"web\"";
  auto r = handlers_.Run(h, target_, std::chrono::seconds(1), HandlerMode::kProbe);
  EXPECT_EQ(r.outcome, Outcome::kFailure);
  EXPECT_EQ(r.output, h.port_error);
}

}  // namespace
}  // namespace il::docker
