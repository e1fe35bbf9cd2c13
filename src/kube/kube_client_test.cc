#include "kube/kube_client.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "kube/api_error.h"
#include "kube/base64.h"
#include "kube/paths.h"
#include "testing/fake_api_server.h"
#include "testing/fake_clock.h"

namespace il::kube {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }

  std::unique_ptr<KubeClient> Client(ClusterConfig c = {}, KubeClientOptions o = {}) {
    c.server = server_.url();
    if (c.qps == 50) c.qps = 0;  // unlimited unless the test sets a rate
    o.clock = clock_;
    auto r = KubeClient::New(c, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  FakeApiServer server_;
  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
};

void ReplyJson(http::ResponseWriter& w, int code, const std::string& body) { w.Reply(code, body); }

TEST_F(KubeClientTest, GetReturnsObjectAndSendsBearerToken) {
  server_.On("GET", "/api/v1/namespaces/default/pods/x", [](const auto&, auto& w) {
    ReplyJson(w, 200, R"({"kind":"Pod","metadata":{"name":"x"}})");
  });
  ClusterConfig c;
  c.token = "tok-123";
  c.user_agent = "vk-test";
  auto client = Client(c);
  auto pod = client->Get(PodPath("default", "x"));
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ(pod->at("metadata").at("name").as_string(), "x");
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.Get("authorization"), "Bearer tok-123");
  EXPECT_EQ(reqs[0].headers.Get("accept"), "application/json");
  EXPECT_EQ(reqs[0].headers.Get("user-agent"), "vk-test");
}

TEST_F(KubeClientTest, NotFoundCarriesTheApiMessage) {
  auto client = Client();
  auto r = client->Get(PodPath("default", "missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsNotFound(r.status()));
  EXPECT_FALSE(IsGone(r.status()));
  EXPECT_NE(r.status().message().find("/api/v1/namespaces/default/pods/missing not found"),
            std::string::npos);
}

TEST_F(KubeClientTest, CreateConflictIsAlreadyExistsAndIsNotRetried) {
  server_.On("POST", "/api/v1/namespaces/default/configmaps", [](const auto& r, auto& w) {
    EXPECT_EQ(r.headers.Get("content-type"), "application/json");
    ReplyJson(w, 409, KubeStatusBody(409, "AlreadyExists", "configmaps \\\"a\\\" already exists"));
  });
  auto client = Client();
  auto r = client->Create(ConfigMapsPath("default"), json::parse(R"({"metadata":{"name":"a"}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(IsAlreadyExists(r.status()));
  EXPECT_NE(r.status().message().find("configmaps \"a\" already exists"), std::string::npos);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(KubeClientTest, StaleUpdateIsConflict) {
  server_.On("PUT", "/api/v1/nodes/vk", [](const auto&, auto& w) {
    ReplyJson(w, 409, KubeStatusBody(409, "Conflict", "the object has been modified"));
  });
  auto r = Client()->Update(NodePath("vk"), json::object{});
  EXPECT_TRUE(IsConflict(r.status()));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(KubeClientTest, TooManyRequestsIsRetriedHonouringRetryAfter) {
  std::atomic<int> calls{0};
  server_.On("GET", "/api/v1/nodes/vk", [&](const auto&, auto& w) {
    if (calls++ < 2) {
      w.SetHeader("Retry-After", "2");
      return ReplyJson(w, 429, KubeStatusBody(429, "TooManyRequests", "slow down"));
    }
    ReplyJson(w, 200, R"({"kind":"Node"})");
  });
  auto client = Client();
  auto r = client->Get(NodePath("vk"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls.load(), 3);
  auto sleeps = clock_->sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[0], seconds(2));
  EXPECT_EQ(client->stats().retries, 2u);
}

TEST_F(KubeClientTest, ServerErrorsGiveUpAfterMaxRetriesWithBackoff) {
  server_.On("GET", "/api/v1/nodes/vk", [](const auto&, auto& w) { ReplyJson(w, 503, "{}"); });
  KubeClientOptions o;
  o.max_retries = 3;
  o.initial_backoff = std::chrono::milliseconds(100);
  auto r = Client({}, o)->Get(NodePath("vk"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_.requests().size(), 4u);
  std::vector<testing::FakeClock::Duration> want = {std::chrono::milliseconds(100),
                                                    std::chrono::milliseconds(200),
                                                    std::chrono::milliseconds(400)};
  EXPECT_EQ(clock_->sleeps(), want);
}

TEST_F(KubeClientTest, PostIsNotRetriedOnInternalError) {
  server_.On("POST", "/api/v1/namespaces/default/events", [](const auto&, auto& w) {
    ReplyJson(w, 500, KubeStatusBody(500, "InternalError", "etcd"));
  });
  auto r = Client()->Create(EventsPath("default"), json::object{});
  EXPECT_EQ(r.status().code(), StatusCode::kBadGateway);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(KubeClientTest, ListSendsEscapedSelectorsAndListAllFollowsContinue) {
  server_.On("GET", "/api/v1/pods", [](const http::Request& r, auto& w) {
    EXPECT_EQ(r.query.at("fieldSelector"), "spec.nodeName=vk-1");
    EXPECT_EQ(r.query.at("labelSelector"), "app in (a,b)");
    EXPECT_EQ(r.query.at("limit"), "2");
    if (!r.query.count("continue")) {
      return ReplyJson(
          w, 200,
          R"({"kind":"PodList","metadata":{"resourceVersion":"7","continue":"c1"},"items":[{"n":1},{"n":2}]})");
    }
    EXPECT_EQ(r.query.at("continue"), "c1");
    EXPECT_EQ(r.query.count("resourceVersion"), 0u);
    ReplyJson(w, 200, R"({"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[{"n":3}]})");
  });
  auto client = Client();
  ListOptions lo;
  lo.field_selector = "spec.nodeName=vk-1";
  lo.label_selector = "app in (a,b)";
  lo.limit = 2;
  auto all = ListAll(*client, PodsPath(""), lo);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->at("items").as_array().size(), 3u);
  EXPECT_EQ(all->at("metadata").at("resourceVersion").as_string(), "7");
  EXPECT_FALSE(all->at("metadata").as_object().contains("continue"));
  auto target = server_.requests()[0].target;
  EXPECT_NE(target.find("fieldSelector=spec.nodeName%3Dvk-1"), std::string::npos) << target;
  EXPECT_NE(target.find("labelSelector=app%20in%20%28a%2Cb%29"), std::string::npos) << target;
}

TEST_F(KubeClientTest, PatchSendsTheContentTypeOfEachKind) {
  std::vector<std::string> types;
  std::mutex mu;
  // The handler touches the test's locals only before it replies: once the reply is out
  // the client returns, and after the last one this test body may already have returned
  // while the worker is still in the handler (see FakeApiServer).
  server_.On("PATCH", "/api/v1/namespaces/ns/pods/p/status", [&](const http::Request& r, auto& w) {
    {
      std::lock_guard lock(mu);
      types.push_back(r.headers.Get("content-type"));
    }
    ReplyJson(w, 200, r.body);
  });
  auto client = Client();
  for (auto t : {PatchType::kMerge, PatchType::kStrategicMerge, PatchType::kJsonPatch}) {
    auto r = client->Patch(PodStatusPath("ns", "p"), t, json::parse(R"({"status":{}})"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(types, (std::vector<std::string>{"application/merge-patch+json",
                                             "application/strategic-merge-patch+json",
                                             "application/json-patch+json"}));
}

TEST_F(KubeClientTest, DeleteSendsGracePeriodPreconditionsAndPolicy) {
  server_.On("DELETE", "/api/v1/namespaces/ns/pods/p", [](const http::Request& r, auto& w) {
    auto body = json::parse(r.body);
    EXPECT_EQ(body.at("kind").as_string(), "DeleteOptions");
    EXPECT_EQ(body.at("gracePeriodSeconds").as_int64(), 0);
    EXPECT_EQ(body.at("preconditions").at("uid").as_string(), "u-1");
    EXPECT_EQ(body.at("propagationPolicy").as_string(), "Background");
    ReplyJson(w, 409, KubeStatusBody(409, "Conflict", "Precondition failed: UID in precondition"));
  });
  DeleteOptions o;
  o.grace_period_seconds = 0;
  o.precondition_uid = "u-1";
  o.propagation_policy = "Background";
  auto r = Client()->Delete(PodPath("ns", "p"), o);
  EXPECT_TRUE(IsConflict(r.status())) << r.status().ToString();
}

TEST_F(KubeClientTest, RateLimiterPacesRequests) {
  server_.On("GET", "/api/v1/nodes", [](const auto&, auto& w) { ReplyJson(w, 200, "{}"); });
  ClusterConfig c;
  c.qps = 5;
  c.burst = 2;
  auto client = Client(c);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client->Get(NodesPath()).ok());
  auto sleeps = clock_->sleeps();
  ASSERT_EQ(sleeps.size(), 2u);  // the first two ride the burst
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(sleeps[0]).count(), 200);
}

TEST_F(KubeClientTest, TokenFileRotationIsPickedUp) {
  char tmpl[] = "/tmp/kube_token.XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  std::string file = tmpl;
  std::ofstream(file) << "old\n";
  std::mutex mu;
  std::string accepted = "new";  // the server's current view; "old" is already revoked
  server_.On("GET", "/api/v1/nodes", [&](const http::Request& r, auto& w) {
    bool ok;
    {
      std::lock_guard lock(mu);  // released before the reply: see the PATCH test
      ok = r.headers.Get("authorization") == "Bearer " + accepted;
    }
    if (ok) return ReplyJson(w, 200, "{}");
    ReplyJson(w, 401, KubeStatusBody(401, "Unauthorized", "Unauthorized"));
  });
  ClusterConfig c;
  c.token_file = file;
  KubeClientOptions o;
  o.token_reload_interval = std::chrono::seconds(10);
  o.max_retries = 0;
  auto client = Client(c, o);
  EXPECT_EQ(client->Get(NodesPath()).status().code(), StatusCode::kUnauthenticated);
  // Rotated between checks: noticed on the next check interval.
  std::ofstream(file) << "new\n";
  std::filesystem::last_write_time(file,
                                   std::filesystem::file_time_type::clock::now() + seconds(5));
  clock_->Advance(seconds(11));
  EXPECT_TRUE(client->Get(NodesPath()).ok());
  // Rotated and rejected before the next check: a 401 forces a re-read and one retry.
  std::ofstream(file) << "newer\n";
  {
    std::lock_guard lock(mu);
    accepted = "newer";
  }
  std::filesystem::last_write_time(file,
                                   std::filesystem::file_time_type::clock::now() + seconds(10));
  EXPECT_TRUE(client->Get(NodesPath()).ok());
  EXPECT_EQ(server_.requests().back().headers.Get("authorization"), "Bearer newer");
  std::filesystem::remove(file);
}

TEST_F(KubeClientTest, HttpsWithCertificateAuthorityData) {
  std::string tls_dir = std::string(IL_SOURCE_DIR) + "/test/data/tls/";
  http::TlsOptions server_tls;
  server_tls.cert_file = tls_dir + "server.crt";
  server_tls.key_file = tls_dir + "server.key";
  FakeApiServer https(server_tls);
  ASSERT_TRUE(https.Start().ok());
  https.On("GET", "/version", [](const auto&, auto& w) { ReplyJson(w, 200, R"({"major":"1"})"); });
  std::ifstream ca_in(tls_dir + "ca.crt");
  std::string ca((std::istreambuf_iterator<char>(ca_in)), std::istreambuf_iterator<char>());
  std::string yaml =
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
      "clusters: [{name: k, cluster: {server: \"" +
      https.url() + "\", certificate-authority-data: " + Base64Encode(ca) +
      "}}]\nusers: [{name: u, user: {token: t}}]\n";
  auto cfg = ParseKubeconfig(yaml, "/", "", "inline");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto client = KubeClient::New(*cfg);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto v = (*client)->Request("GET", "/version");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->at("major").as_string(), "1");
}

TEST_F(KubeClientTest, WatchDecodesEventsSplitMidLine) {
  server_.On("GET", "/api/v1/pods", [](const http::Request& r, http::ResponseWriter& w) {
    EXPECT_EQ(r.query.at("watch"), "1");
    EXPECT_EQ(r.query.at("resourceVersion"), "5");
    EXPECT_EQ(r.query.at("allowWatchBookmarks"), "true");
    EXPECT_EQ(r.query.at("timeoutSeconds"), "30");
    w.BeginStream(200, "application/json");
    w.Write(R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"6"}}})"
            "\n"
            R"({"type":"MODI)");
    w.Write(R"(FIED","object":{"metadata":{"name":"a","resourceVersion":"7"}}})"
            "\n{\"type\":");
    w.Write(R"("DELETED","object":{"metadata":{"name":"a","resourceVersion":"8"}}})");  // no \n
  });
  auto client = Client();
  WatchParams p;
  p.resource_version = "5";
  p.timeout_seconds = 30;
  std::vector<std::string> seen;
  auto s = client->Watch(
      PodsPath(""), p,
      [&](WatchEvent ev) {
        seen.push_back(std::string(WatchEventTypeName(ev.type)) + ":" +
                       std::string(ev.object.at("metadata").at("resourceVersion").as_string()));
        return true;
      },
      {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED:6", "MODIFIED:7", "DELETED:8"}));
  EXPECT_EQ(client->stats().watch_events, 3u);
}

TEST_F(KubeClientTest, WatchErrorReplyIsAStatus) {
  server_.On("GET", "/api/v1/pods", [](const auto&, auto& w) {
    ReplyJson(w, 410, KubeStatusBody(410, "Expired", "too old resource version: 1 (50)"));
  });
  auto s = Client()->Watch(PodsPath(""), {}, [](const WatchEvent&) { return true; }, {});
  EXPECT_TRUE(IsGone(s)) << s.ToString();
}

TEST_F(KubeClientTest, WatchStopsWhenConsumerOrStopTokenSaysSo) {
  // Shared with the handler, which may still be in its loop when this test body returns.
  auto done = std::make_shared<std::atomic<bool>>(false);
  server_.On("GET", "/api/v1/pods", [done](const auto&, http::ResponseWriter& w) {
    w.BeginStream(200, "application/json");
    w.Write(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})"
            "\n");
    while (!*done && !w.ClientGone()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  std::stop_source stop;
  int n = 0;
  auto s = Client()->Watch(
      PodsPath(""), {},
      [&](const WatchEvent&) {
        ++n;
        stop.request_stop();
        return true;
      },
      stop.get_token());
  *done = true;
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace il::kube
