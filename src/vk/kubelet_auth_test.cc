// The kubelet API's authentication and authorization against the fake API server: which
// attributes are reviewed, what is cached for how long, and what is answered 401 / 403.
#include "vk/kubelet_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "api/pod.h"
#include "core/base64.h"
#include "testing/fake_clock.h"
#include "testing/fake_kube_api.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

TEST(KubeletAttributes, PathsMapToTheKubeletsSubresources) {
  EXPECT_EQ(KubeletSubresource("/stats"), "stats");
  EXPECT_EQ(KubeletSubresource("/stats/summary"), "stats");
  EXPECT_EQ(KubeletSubresource("/metrics"), "metrics");
  EXPECT_EQ(KubeletSubresource("/metrics/resource"), "metrics");
  EXPECT_EQ(KubeletSubresource("/metrics/cadvisor"), "metrics");
  EXPECT_EQ(KubeletSubresource("/logs"), "log");
  EXPECT_EQ(KubeletSubresource("/logs/syslog"), "log");
  // Everything else is proxy, container logs included.
  for (const char* p : {"/containerLogs/ns/p/c", "/pods", "/pods/", "/runningpods/", "/exec/ns/p/c",
                        "/attach/ns/p/c", "/portForward/ns/p", "/run/ns/p/c", "/healthz",
                        "/configz", "/", "/statsx", "/metricsfoo", "/logsx"}) {
    EXPECT_EQ(KubeletSubresource(p), "proxy") << p;
  }
}

TEST(KubeletAttributes, MethodsMapToVerbs) {
  EXPECT_EQ(KubeletVerb("GET"), "get");
  EXPECT_EQ(KubeletVerb("HEAD"), "get");
  EXPECT_EQ(KubeletVerb("POST"), "create");
  EXPECT_EQ(KubeletVerb("PUT"), "update");
  EXPECT_EQ(KubeletVerb("PATCH"), "patch");
  EXPECT_EQ(KubeletVerb("DELETE"), "delete");
  EXPECT_EQ(KubeletVerb("OPTIONS"), "");
  http::Request r;
  r.method = "POST";
  r.path = "/exec/ns/p/c";
  auto a = KubeletAttributes(r, "vk-1");
  EXPECT_EQ(a.verb, "create");
  EXPECT_EQ(a.version, "v1");
  EXPECT_EQ(a.resource, "nodes");
  EXPECT_EQ(a.subresource, "proxy");
  EXPECT_EQ(a.name, "vk-1");
  EXPECT_EQ(a.namespace_, "");
  EXPECT_EQ(a.group, "");
}

TEST(ResolveClientCa, ConfiguredThenClusterThenInCluster) {
  http::TlsOptions cluster;
  cluster.ca_file = "/k/ca.crt";
  EXPECT_EQ(ResolveClientCa("/etc/ca.pem", cluster, "/nonexistent").file, "/etc/ca.pem");
  EXPECT_EQ(ResolveClientCa("", cluster, "/nonexistent").file, "/k/ca.crt");
  http::TlsOptions inline_ca;
  inline_ca.ca_pem = "-----BEGIN CERTIFICATE-----";
  auto ca = ResolveClientCa("", inline_ca, "/nonexistent");
  EXPECT_EQ(ca.file, "");
  EXPECT_EQ(ca.pem, inline_ca.ca_pem);
  EXPECT_TRUE(ResolveClientCa("", {}, "/nonexistent").file.empty());
  auto dir = std::filesystem::temp_directory_path() / ("sa-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.crt") << "x";
  EXPECT_EQ(ResolveClientCa("", {}, dir.string()).file, (dir / "ca.crt").string());
  std::filesystem::remove_all(dir);
}

// A ResponseWriter that records the reply.
class RecordingWriter : public http::ResponseWriter {
 public:
  void SetHeader(std::string_view, std::string) override {}
  void Reply(int s, std::string b, std::string ct) override {
    status = s;
    body = std::move(b);
    content_type = std::move(ct);
  }
  void ReplyError(const Status& s) override { Reply(0, s.ToString(), ""); }
  bool BeginStream(int, std::string) override { return false; }
  bool Write(std::string_view) override { return false; }
  void Finish() override {}
  bool ClientGone() override { return false; }
  bool replied() const override { return status != 0; }
  int status = 0;
  std::string body, content_type;
};

// A fake API server that knows two tokens and an RBAC table.
class KubeletAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.ReactToCreate(kube::kTokenReviewsPath, [this](const json::value& body) {
      ++token_reviews_;
      std::string token(body.at("spec").at("token").as_string());
      json::value out = body;
      if (token == "alice-token") {
        out.as_object()["status"] = json::parse(R"({"authenticated":true,
          "user":{"username":"alice","uid":"a-1","groups":["devs"]}})");
      } else {
        out.as_object()["status"] = json::parse(R"({"authenticated":false})");
      }
      return Result<json::value>(out);
    });
    api_.ReactToCreate(kube::kSubjectAccessReviewsPath, [this](const json::value& body) {
      ++access_reviews_;
      last_review_ = body;
      const auto& spec = body.at("spec");
      std::string user(spec.at("user").as_string());
      std::string sub(spec.at("resourceAttributes").at("subresource").as_string());
      bool allowed = (user == "alice" && sub == "log") || user == "kube-apiserver-kubelet-client";
      json::value out = body;
      out.as_object()["status"] = json::object{{"allowed", allowed}};
      return Result<json::value>(out);
    });
  }

  http::Request Req(std::string path, const std::string& token = "") {
    http::Request r;
    r.path = std::move(path);
    if (!token.empty()) r.headers.Set("Authorization", "Bearer " + token);
    return r;
  }

  kube::FakeKubeApi api_;
  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
  int token_reviews_ = 0;
  int access_reviews_ = 0;
  json::value last_review_;
};

TEST_F(KubeletAuthTest, ClientCertificateGivesUserAndGroups) {
  KubeletAuthenticator a(api_, {}, /*x509=*/true, clock_);
  http::Request r = Req("/pods");
  r.client_cert = {true, "kube-apiserver-kubelet-client", {"system:masters"}};
  auto c = a.AuthenticateCaller(r);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->user.username, "kube-apiserver-kubelet-client");
  EXPECT_EQ(c->user.groups, (std::vector<std::string>{"system:masters", "system:authenticated"}));
  EXPECT_EQ(c->method, "x509");
  EXPECT_EQ(token_reviews_, 0);
  // Without a client CA certificates do not count.
  KubeletAuthenticator no_ca(api_, {}, /*x509=*/false, clock_);
  EXPECT_EQ(no_ca.AuthenticateCaller(r).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(KubeletAuthTest, UnverifiedCertificateIsRefusedUnlessATokenIsValid) {
  KubeletAuthenticator a(api_, {}, true, clock_);
  http::Request r = Req("/pods");
  r.client_cert = {false, "mallory", {"system:masters"}};
  EXPECT_EQ(a.AuthenticateCaller(r).status().code(), StatusCode::kUnauthenticated);
  r.headers.Set("Authorization", "Bearer alice-token");
  auto c = a.AuthenticateCaller(r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user.username, "alice");
  EXPECT_EQ(c->method, "token");
}

TEST_F(KubeletAuthTest, TokensAreReviewedAndCachedForTheTtl) {
  KubeletAuthOptions o;
  o.token_cache_ttl = seconds(120);
  KubeletAuthenticator a(api_, o, true, clock_);
  auto c = a.AuthenticateCaller(Req("/pods", "alice-token"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user.uid, "a-1");
  EXPECT_EQ(c->user.groups, (std::vector<std::string>{"devs", "system:authenticated"}));
  EXPECT_TRUE(a.AuthenticateCaller(Req("/pods", "alice-token")).ok());
  EXPECT_EQ(token_reviews_, 1);
  // Refusals are cached too.
  EXPECT_FALSE(a.AuthenticateCaller(Req("/pods", "bad")).ok());
  EXPECT_FALSE(a.AuthenticateCaller(Req("/pods", "bad")).ok());
  EXPECT_EQ(token_reviews_, 2);
  clock_->Advance(seconds(121));
  EXPECT_TRUE(a.AuthenticateCaller(Req("/pods", "alice-token")).ok());
  EXPECT_EQ(token_reviews_, 3);
}

TEST_F(KubeletAuthTest, ReviewFailuresAreNotCached) {
  KubeletAuthenticator a(api_, {}, true, clock_);
  api_.FailNext("CREATE", kube::kTokenReviewsPath, Unavailable("connection refused"));
  auto c = a.AuthenticateCaller(Req("/pods", "alice-token"));
  EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(a.AuthenticateCaller(Req("/pods", "alice-token")).ok());
}

TEST_F(KubeletAuthTest, BearerSchemeIsCaseInsensitiveAndOthersIgnored) {
  KubeletAuthenticator a(api_, {}, true, clock_);
  http::Request r = Req("/pods");
  r.headers.Set("Authorization", "bearer alice-token");
  EXPECT_TRUE(a.AuthenticateCaller(r).ok());
  r.headers.Set("Authorization", "Basic YWxpY2U6eA==");
  EXPECT_EQ(a.AuthenticateCaller(r).status().message(), "no credentials");
  r.headers.Set("Authorization", "Bearer ");
  EXPECT_EQ(a.AuthenticateCaller(r).status().message(), "no credentials");
}

http::Headers WebSocketHeaders(const std::string& protocols) {
  http::Headers h;
  h.Set("Connection", "Upgrade");
  h.Set("Upgrade", "websocket");
  h.Set("Sec-WebSocket-Protocol", protocols);
  return h;
}

TEST(WebSocketBearerToken, TakesTheTokenSubprotocolAndKeepsTheOthers) {
  std::string rest;
  std::string proto = "base64url.bearer.authorization.k8s.io." + Base64UrlEncode("alice-token");
  auto t = WebSocketBearerToken(WebSocketHeaders("v5.channel.k8s.io, " + proto + ", v4"), &rest);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->value_or(""), "alice-token");
  EXPECT_EQ(rest, "v5.channel.k8s.io,v4");
  // None, or not an upgrade: no opinion.
  EXPECT_EQ(*WebSocketBearerToken(WebSocketHeaders("v5.channel.k8s.io"), &rest), std::nullopt);
  http::Headers plain;
  plain.Set("Sec-WebSocket-Protocol", "v4, " + proto);
  EXPECT_EQ(*WebSocketBearerToken(plain, &rest), std::nullopt);
  // Alone, twice, badly encoded or empty: refused.
  EXPECT_FALSE(WebSocketBearerToken(WebSocketHeaders(proto), &rest).ok());
  EXPECT_FALSE(WebSocketBearerToken(WebSocketHeaders(proto + ",v4," + proto), &rest).ok());
  EXPECT_FALSE(
      WebSocketBearerToken(WebSocketHeaders("v4,base64url.bearer.authorization.k8s.io.a=b"), &rest)
          .ok());
  EXPECT_FALSE(
      WebSocketBearerToken(WebSocketHeaders("v4,base64url.bearer.authorization.k8s.io."), &rest)
          .ok());
}

TEST_F(KubeletAuthTest, WebSocketTokenAuthenticatesAndIsRemovedFromTheProtocols) {
  KubeletAuthFilter f(api_, {}, true, "vk-1", clock_);
  http::Request r = Req("/logs/x");
  r.headers = WebSocketHeaders("v5.channel.k8s.io,base64url.bearer.authorization.k8s.io." +
                               Base64UrlEncode("alice-token"));
  RecordingWriter w;
  EXPECT_TRUE(f(r, w)) << w.body;
  EXPECT_EQ(r.identity.user, "alice");
  EXPECT_EQ(r.identity.method, "websocket-token");
  EXPECT_EQ(r.headers.Get("Sec-WebSocket-Protocol"), "v5.channel.k8s.io");
  r.headers = WebSocketHeaders("v5.channel.k8s.io,base64url.bearer.authorization.k8s.io." +
                               Base64UrlEncode("bad"));
  RecordingWriter w2;
  EXPECT_FALSE(f(r, w2));
  EXPECT_EQ(w2.status, 401);
}

TEST_F(KubeletAuthTest, AnonymousOnlyWhenEnabledAndNeverForBadCredentials) {
  KubeletAuthenticator closed(api_, {}, true, clock_);
  EXPECT_EQ(closed.AuthenticateCaller(Req("/pods")).status().code(), StatusCode::kUnauthenticated);
  KubeletAuthOptions o;
  o.anonymous = true;
  KubeletAuthenticator open(api_, o, true, clock_);
  auto c = open.AuthenticateCaller(Req("/pods"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user.username, "system:anonymous");
  EXPECT_EQ(c->user.groups, std::vector<std::string>{"system:unauthenticated"});
  EXPECT_EQ(c->method, "anonymous");
  // A token that does not pass is 401 even with anonymous access on.
  EXPECT_FALSE(open.AuthenticateCaller(Req("/pods", "bad")).ok());
  // With the webhook off a token is not looked at.
  o.webhook = false;
  KubeletAuthenticator no_webhook(api_, o, true, clock_);
  EXPECT_EQ(no_webhook.AuthenticateCaller(Req("/pods", "alice-token"))->user.username,
            "system:anonymous");
  EXPECT_EQ(token_reviews_, 1);
}

TEST_F(KubeletAuthTest, AuthorizerSendsTheKubeletsReviewAndCachesBothWays) {
  KubeletAuthorizer z(api_, {}, clock_);
  kube::UserInfo alice{"alice", "a-1", {"devs", "system:authenticated"}, {}};
  http::Request r = Req("/logs/syslog");
  EXPECT_TRUE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));
  EXPECT_EQ(json::serialize(last_review_.at("spec")),
            R"({"resourceAttributes":{"verb":"get","version":"v1","resource":"nodes",)"
            R"("subresource":"log","name":"vk-1"},"user":"alice",)"
            R"("groups":["devs","system:authenticated"],"uid":"a-1"})");
  r.path = "/containerLogs/ns/p/c";
  EXPECT_FALSE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));  // proxy: not bound
  EXPECT_EQ(access_reviews_, 2);
  // Allowed: 5 minutes; not allowed: 30 seconds.
  clock_->Advance(seconds(29));
  r.path = "/logs/syslog";
  EXPECT_TRUE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));
  r.path = "/containerLogs/ns/p/c";
  EXPECT_FALSE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));
  EXPECT_EQ(access_reviews_, 2);
  clock_->Advance(seconds(2));
  EXPECT_FALSE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));
  EXPECT_EQ(access_reviews_, 3);
  clock_->Advance(seconds(270));
  r.path = "/logs/syslog";
  EXPECT_TRUE(*z.Authorize(alice, KubeletAttributes(r, "vk-1")));
  EXPECT_EQ(access_reviews_, 4);
  // Another user or another attribute is another entry.
  kube::UserInfo bob{"bob", "", {"devs"}, {}};
  EXPECT_FALSE(*z.Authorize(bob, KubeletAttributes(r, "vk-1")));
  EXPECT_EQ(access_reviews_, 5);
}

TEST_F(KubeletAuthTest, AuthorizerErrorsAreErrorsAndNotCached) {
  KubeletAuthorizer z(api_, {}, clock_);
  kube::UserInfo alice{"alice", "", {}, {}};
  kube::ResourceAttributes a{"", "get", "", "v1", "nodes", "log", "vk-1"};
  api_.FailNext("CREATE", kube::kSubjectAccessReviewsPath, Unavailable("down"));
  EXPECT_FALSE(z.Authorize(alice, a).ok());
  EXPECT_TRUE(*z.Authorize(alice, a));
  EXPECT_EQ(access_reviews_, 1);
  // allowed and denied at once: an error.
  api_.ReactToCreate(kube::kSubjectAccessReviewsPath, [](const json::value&) {
    return Result<json::value>(json::parse(R"({"status":{"allowed":true,"denied":true}})"));
  });
  a.subresource = "stats";
  EXPECT_FALSE(z.Authorize(alice, a).ok());
}

TEST_F(KubeletAuthTest, AlwaysAllowAsksNobody) {
  KubeletAuthOptions o;
  o.mode = KubeletAuthOptions::Mode::kAlwaysAllow;
  KubeletAuthorizer z(api_, o, clock_);
  EXPECT_TRUE(*z.Authorize({"system:anonymous", "", {}, {}}, {}));
  EXPECT_EQ(access_reviews_, 0);
}

TEST_F(KubeletAuthTest, FilterAnswers401403And500LikeTheKubelet) {
  KubeletAuthFilter f(api_, {}, true, "vk-1", clock_);
  {
    RecordingWriter w;
    http::Request r = Req("/healthz");
    EXPECT_TRUE(f(r, w));  // open
    EXPECT_EQ(access_reviews_, 0);
  }
  {
    RecordingWriter w;
    http::Request r = Req("/containerLogs/ns/p/c");
    EXPECT_FALSE(f(r, w));
    EXPECT_EQ(w.status, 401);
    EXPECT_EQ(w.body, "Unauthorized");
  }
  {
    RecordingWriter w;
    http::Request r = Req("/containerLogs/ns/p/c", "alice-token");
    EXPECT_FALSE(f(r, w));
    EXPECT_EQ(w.status, 403);
    EXPECT_EQ(w.body, "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)");
    EXPECT_EQ(w.content_type, "text/plain");
  }
  {
    RecordingWriter w;
    http::Request r = Req("/logs/", "alice-token");
    EXPECT_TRUE(f(r, w));
    EXPECT_EQ(w.status, 0);
    EXPECT_EQ(r.identity.user, "alice");
    EXPECT_EQ(r.identity.method, "token");
  }
  {
    RecordingWriter w;
    http::Request r = Req("/pods");
    r.method = "POST";
    r.client_cert = {true, "kube-apiserver-kubelet-client", {"system:masters"}};
    EXPECT_TRUE(f(r, w));
    EXPECT_EQ(r.identity.method, "x509");
    EXPECT_EQ(api::GetString(last_review_, {"spec", "resourceAttributes", "verb"}), "create");
  }
  {
    RecordingWriter w;
    api_.FailNext("CREATE", kube::kSubjectAccessReviewsPath, Unavailable("down"));
    http::Request r = Req("/stats/summary", "alice-token");
    EXPECT_FALSE(f(r, w));
    EXPECT_EQ(w.status, 500);
    EXPECT_EQ(w.body,
              "Authorization error (user=alice, verb=get, resource=nodes, subresource=stats)");
  }
}

}  // namespace
}  // namespace il::vk
