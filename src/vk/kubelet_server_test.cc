// The kubelet API over real HTTPS on loopback, with the interLink fake behind it.
#include "vk/kubelet_server.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "api/pod.h"
#include "core/http_client.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"
#include "vk/fake_interlink.h"
#include "vk/self_signed.h"

namespace il::vk {
namespace {
namespace json = boost::json;

TEST(ParseLogOptions, ValidatesLikeTheKubelet) {
  auto o = ParseLogOptions({{"tailLines", "5"},
                            {"follow", "true"},
                            {"timestamps", "1"},
                            {"limitBytes", "100"},
                            {"sinceSeconds", "30"}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->tail, 5);
  EXPECT_TRUE(o->follow);
  EXPECT_TRUE(o->timestamps);
  EXPECT_EQ(o->limit_bytes, 100);
  EXPECT_EQ(o->since_seconds, 30);
  EXPECT_EQ(ParseLogOptions({})->tail, -1);  // unset
  EXPECT_FALSE(ParseLogOptions({{"tailLines", "-1"}}).ok());
  EXPECT_FALSE(ParseLogOptions({{"limitBytes", "0"}}).ok());
  EXPECT_FALSE(ParseLogOptions({{"sinceSeconds", "0"}}).ok());
  EXPECT_FALSE(
      ParseLogOptions({{"sinceSeconds", "5"}, {"sinceTime", "2024-01-01T00:00:00Z"}}).ok());
  EXPECT_FALSE(ParseLogOptions({{"sinceTime", "yesterday"}}).ok());
  EXPECT_FALSE(ParseLogOptions({{"follow", "maybe"}}).ok());
}

TEST(SelfSigned, MakesAPemPair) {
  auto p = MakeSelfSignedCert("vk-1", "127.0.0.1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->cert.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_NE(p->key.find("PRIVATE KEY"), std::string::npos);
}

const std::string kTls = std::string(IL_SOURCE_DIR) + "/test/data/tls/";

// The server on loopback with the fake API server answering the reviews: token
// "alice-token" is alice, "bob-token" is bob; alice and the certificate user vk-client
// (test/data/tls/client.crt) may do anything on the node, bob nothing.
class KubeletServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pod =
        json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1","resourceVersion":"5"},
      "spec":{"nodeName":"vk","containers":[{"name":"main","image":"i"}]},
      "status":{"phase":"Running","startTime":"2024-01-01T00:00:00Z","containerStatuses":[
        {"name":"main","state":{"running":{"startedAt":"2024-01-01T00:00:01Z"}}}]}})");
    store_.Upsert(pod);
    store_.Update("u1", [](PodRecord& r) { r.backend = BackendState::kCreated; });
    api_.ReactToCreate(kube::kTokenReviewsPath, [](const json::value& body) {
      std::string token(body.at("spec").at("token").as_string());
      json::object status{{"authenticated", false}};
      if (token == "alice-token" || token == "bob-token") {
        status["authenticated"] = true;
        status["user"] = json::object{{"username", token.substr(0, token.find('-'))}};
      }
      return Result<json::value>(json::object{{"status", std::move(status)}});
    });
    api_.ReactToCreate(kube::kSubjectAccessReviewsPath, [this](const json::value& body) {
      std::lock_guard lock(mu_);
      reviews_.push_back(body);
      std::string user(body.at("spec").at("user").as_string());
      bool allowed = user == "alice" || user == "vk-client";
      json::object status{{"allowed", allowed}};
      return Result<json::value>(json::object{{"status", std::move(status)}});
    });
    KubeletServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.node_name = "vk";
    o.client_ca_file = kTls + "ca.crt";
    o.client_ca_source = "test";
    Start(o);
  }
  void Start(const KubeletServerOptions& o) {
    server_ = std::make_unique<KubeletServer>(o, api_, il_, store_, [] { return ResourceMap{}; });
    ASSERT_TRUE(server_->Start().ok());
  }
  http::Response Get(const std::string& target, const std::string& token = "alice-token",
                     bool client_cert = false) {
    http::ClientOptions co;
    co.base_url = "https://127.0.0.1:" + std::to_string(server_->port());
    co.tls.insecure_skip_verify = true;
    if (client_cert) {
      co.tls.cert_file = kTls + "client.crt";
      co.tls.key_file = kTls + "client.key";
    }
    auto client = http::HttpClient::Create(co);
    EXPECT_TRUE(client.ok());
    if (!client.ok()) return {};
    http::ClientRequest r;
    r.target = target;
    if (!token.empty()) r.headers.Set("Authorization", "Bearer " + token);
    auto resp = (*client)->Do(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::Response{};
  }
  std::string LastReview(std::string_view field) {
    std::lock_guard lock(mu_);
    return reviews_.empty() ? "" : api::GetString(reviews_.back(), {"spec", field});
  }
  std::string LastSubresource() {
    std::lock_guard lock(mu_);
    return reviews_.empty()
               ? ""
               : api::GetString(reviews_.back(), {"spec", "resourceAttributes", "subresource"});
  }

  kube::FakeKubeApi api_;
  FakeInterlink il_;
  PodStore store_;
  std::mutex mu_;
  std::vector<json::value> reviews_;  // written by the server's workers
  std::unique_ptr<KubeletServer> server_;
};

TEST_F(KubeletServerTest, ServesLogsThroughInterlink) {
  auto r = Get("/containerLogs/ns/p/main?tailLines=10&timestamps=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "line 1\nline 2\n");
  ASSERT_EQ(il_.log_requests.size(), 1u);
  EXPECT_EQ(il_.log_requests[0].pod_uid, "u1");
  EXPECT_EQ(il_.log_requests[0].container, "main");
  EXPECT_EQ(il_.log_requests[0].opts.tail, 10);
  EXPECT_TRUE(il_.log_requests[0].opts.timestamps);
  EXPECT_TRUE(server_->self_signed());
}

TEST_F(KubeletServerTest, TailWithLimitBytesIsCutHere) {
  auto r = Get("/containerLogs/ns/p/main?tailLines=10&limitBytes=4");
  EXPECT_EQ(r.body, "line");
  EXPECT_EQ(il_.log_requests[0].opts.limit_bytes, 0);
}

TEST_F(KubeletServerTest, RejectsUnknownPodsContainersAndBadOptions) {
  EXPECT_EQ(Get("/containerLogs/ns/nope/main").status, 404);
  EXPECT_EQ(Get("/containerLogs/ns/p/other").status, 400);
  EXPECT_EQ(Get("/containerLogs/ns/p/main?sinceSeconds=0").status, 400);
  EXPECT_EQ(Get("/containerLogs/ns/p").status, 404);
  il_.logs_error = NotFound("container main not found");
  EXPECT_EQ(Get("/containerLogs/ns/p/main").status, 404);
  // exec checks its query and pod before any upgrade, as the kubelet does.
  EXPECT_EQ(Get("/exec/ns/p/main?command=ls").status, 400);  // no stream asked for
  EXPECT_EQ(Get("/exec/ns/nope/main?command=ls&output=1").status, 404);
  EXPECT_EQ(Get("/portForward/ns/nope").status, 404);
  EXPECT_EQ(Get("/run/ns/p/main?cmd=ls").status, 501);
}

TEST_F(KubeletServerTest, HealthzPodsStatsAndMetrics) {
  EXPECT_EQ(Get("/healthz").body, "ok");
  auto pods = json::parse(Get("/pods").body);
  EXPECT_EQ(api::GetString(pods, {"kind"}), "PodList");
  EXPECT_EQ(api::Find(pods, {"items"})->as_array().size(), 1u);
  auto stats = json::parse(Get("/stats/summary").body);
  EXPECT_EQ(api::GetString(stats, {"node", "nodeName"}), "vk");
  const auto& p = api::Find(stats, {"pods"})->as_array()[0];
  EXPECT_EQ(api::GetString(p, {"podRef", "uid"}), "u1");
  EXPECT_EQ(api::Find(p, {"cpu"}), nullptr);  // usage is not known: not invented
  auto metrics = Get("/metrics/resource").body;
  EXPECT_NE(
      metrics.find(
          R"(container_start_time_seconds{container="main",namespace="ns",pod="p"} 1704067201)"),
      std::string::npos);
  EXPECT_NE(metrics.find("scrape_error 0"), std::string::npos);
}

TEST_F(KubeletServerTest, PodsComeFromTheStoreNotTheApiServer) {
  auto pods = json::parse(Get("/pods").body);
  ASSERT_EQ(api::Find(pods, {"items"})->as_array().size(), 1u);
  EXPECT_EQ(api::GetString(api::Find(pods, {"items"})->as_array()[0], {"metadata", "uid"}), "u1");
  EXPECT_TRUE(api_.calls("LIST").empty());
}

TEST_F(KubeletServerTest, AnonymousCallersGet401AndHealthzStaysOpen) {
  auto r = Get("/containerLogs/ns/p/main", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "Unauthorized");
  EXPECT_EQ(Get("/pods", "").status, 401);
  EXPECT_EQ(Get("/pods", "not-a-token").status, 401);
  EXPECT_EQ(Get("/nowhere", "").status, 401);  // before routing, like the kubelet
  EXPECT_EQ(Get("/healthz", "").status, 200);
  EXPECT_TRUE(il_.log_requests.empty());
  EXPECT_EQ(LastReview("user"), "");
}

TEST_F(KubeletServerTest, RefusedCallersGet403NamingTheAttributes) {
  auto r = Get("/containerLogs/ns/p/main", "bob-token");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)");
  EXPECT_TRUE(il_.log_requests.empty());
  EXPECT_EQ(Get("/stats/summary", "bob-token").status, 403);
  EXPECT_EQ(LastSubresource(), "stats");
  EXPECT_EQ(Get("/metrics/resource", "bob-token").status, 403);
  EXPECT_EQ(LastSubresource(), "metrics");
}

TEST_F(KubeletServerTest, ClientCertificatesFromTheClientCaAuthenticate) {
  auto r = Get("/containerLogs/ns/p/main", "", /*client_cert=*/true);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "line 1\nline 2\n");
  EXPECT_EQ(LastReview("user"), "vk-client");
  EXPECT_EQ(LastSubresource(), "proxy");
}

TEST_F(KubeletServerTest, InlineCaDataIsUsedAndAlwaysAllowOpensIt) {
  server_->Stop();
  KubeletServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.node_name = "vk";
  std::ifstream ca(kTls + "ca.crt");
  o.client_ca_pem.assign(std::istreambuf_iterator<char>(ca), std::istreambuf_iterator<char>());
  o.auth.anonymous = true;
  o.auth.mode = KubeletAuthOptions::Mode::kAlwaysAllow;
  Start(o);
  EXPECT_EQ(Get("/pods", "", /*client_cert=*/true).status, 200);
  EXPECT_EQ(Get("/pods", "").status, 200);  // anonymous + AlwaysAllow: open, as configured
  EXPECT_EQ(Get("/pods", "not-a-token").status, 401);  // a bad credential is still refused
  EXPECT_EQ(LastReview("user"), "");
}

}  // namespace
}  // namespace il::vk
