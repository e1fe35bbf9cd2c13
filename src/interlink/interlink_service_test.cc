// Drives bin/interlink's stack over HTTP, through the whole chain
// protocol::Server (interLink API) -> StatusCache -> protocol::Client -> protocol::Server
// (plugin API) -> FakeBackend.
#include "interlink/interlink_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/http_client.h"
#include "core/token_auth.h"
#include "testing/fake_backend.h"

namespace il::interlink {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid) {
  return json::value{
      {"metadata", {{"name", "p-" + uid}, {"namespace", "default"}, {"uid", uid}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

class Chain : public ::testing::Test {
 protected:
  void SetUp() override {
    protocol::ServerOptions so;
    so.component = "fake-sd";
    so.listen = "http://127.0.0.1:0";
    so.body_limit = 1u << 20;
    so.worker_threads = 4;
    sidecar_ = std::make_unique<protocol::Server>(so, backend_);
    ASSERT_TRUE(sidecar_->Start().ok());
    StartInterlink(sidecar_->url(), "");
  }
  void StartInterlink(const std::string& sidecar_url, const std::string& token_file) {
    service_.reset();
    InterlinkServiceOptions o;
    o.plugin.url = sidecar_url;
    o.plugin.timeout = std::chrono::seconds(5);
    o.server.component = "interlink";
    o.server.listen = "http://127.0.0.1:0";
    if (!token_file.empty()) o.server.authenticator = std::make_shared<TokenAuth>(token_file);
    o.server.body_limit = 1u << 20;
    auto s = InterlinkService::Create(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
    ASSERT_TRUE(service_->Start().ok());
    http::ClientOptions co;
    co.base_url = service_->url();
    client_ = std::move(http::HttpClient::Create(co)).value();
  }
  http::Response Call(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& token = "", const std::string& session = "") {
    http::ClientRequest r;
    r.method = method;
    r.target = path;
    r.body = body;
    if (!token.empty()) r.headers.Set("Authorization", "Bearer " + token);
    if (!session.empty()) r.headers.Set("InterLink-Http-Session", session);
    auto res = client_->Do(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : http::Response{};
  }
  std::string CreateBody(const std::string& uid) {
    return json::serialize(json::object{{"pod", Pod(uid)},
                                        {"configmaps", json::array()},
                                        {"secrets", json::array()},
                                        {"projectedvolumesmaps", json::array()}});
  }
  api::FakeBackend backend_;
  std::unique_ptr<protocol::Server> sidecar_;
  std::unique_ptr<InterlinkService> service_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(Chain, CreateStatusLogsDeleteThroughTheSidecar) {
  auto r = Call("POST", "/create", CreateBody("u1"), "", "CreatePod#42");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"PodUID":"u1","PodJID":"job-u1"})");
  EXPECT_EQ(r.headers.Get("InterLink-Http-Session"), "CreatePod#42");
  EXPECT_EQ(backend_.sessions.back(), "CreatePod#42") << "session reaches the sidecar";
  r = Call("GET", "/status", json::serialize(json::array{Pod("u1")}));
  EXPECT_EQ(r.status, 200);
  auto list = api::ParsePodStatusList(*api::ParseJson(r.body));
  ASSERT_EQ(list->size(), 1u);
  r = Call(
      "GET", "/getLogs",
      R"({"Namespace":"default","PodUID":"u1","PodName":"p-u1","ContainerName":"c","Opts":{"Tail":0}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "line 1\nline 2\n");
  r = Call("DELETE", "/delete", json::serialize(Pod("u1")));
  EXPECT_EQ(r.status, 200);
  r = Call("DELETE", "/delete", json::serialize(Pod("u1")));
  EXPECT_EQ(r.status, 404) << "the sidecar's NotFound passes through";
}

TEST_F(Chain, GeneratesASessionWhenNoneIsSent) {
  auto r = Call("POST", "/pinglink", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("InterLink-Http-Session").rfind("Request-", 0), 0u);
}

TEST_F(Chain, PluginReasonsArePassedThroughUnchanged) {
  backend_.create_error =
      Status(StatusCode::kFailedPrecondition, "sbatch: error: Invalid partition name specified");
  auto r = Call("POST", "/create", CreateBody("u2"));
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("Invalid partition name specified"), std::string::npos);
  EXPECT_NE(r.body.find("FailedPrecondition"), std::string::npos) << r.body;
  backend_.create_error = Status(StatusCode::kInternal, "disk full");
  r = Call("POST", "/create", CreateBody("u3"));
  EXPECT_EQ(r.status, 500) << "the sidecar's own code travels on";
  EXPECT_NE(r.body.find("disk full"), std::string::npos);
}

TEST_F(Chain, BadInputGets400AndTheServerKeepsServing) {
  EXPECT_EQ(Call("POST", "/create", "{{{").status, 400);
  EXPECT_EQ(Call("POST", "/create", R"({"pod": 5})").status, 400);
  EXPECT_EQ(
      Call("POST", "/create", R"({"pod": {"metadata": {"name": "a", "uid": "../../etc"}}})").status,
      400);
  EXPECT_EQ(Call("DELETE", "/delete", "").status, 400);
  EXPECT_EQ(Call("GET", "/status", R"({"x": 1})").status, 400);
  EXPECT_EQ(Call("GET", "/getLogs", R"({"Namespace":"default","PodUID":"not a uid"})").status, 400);
  EXPECT_EQ(Call("POST", "/create", std::string(2u << 20, 'x')).status, 413);
  EXPECT_EQ(backend_.create_calls, 0);
  EXPECT_EQ(Call("POST", "/create", CreateBody("ok")).status, 200);
}

TEST_F(Chain, UpdateCacheAcceptsPodsUidsAndNothing) {
  ASSERT_EQ(Call("POST", "/create", CreateBody("u4")).status, 200);
  backend_.states["u4"] = 0;
  ASSERT_EQ(Call("GET", "/status", json::serialize(json::array{Pod("u4")})).status, 200);
  int calls = backend_.status_calls;
  ASSERT_EQ(Call("GET", "/status", json::serialize(json::array{Pod("u4")})).status, 200);
  EXPECT_EQ(backend_.status_calls, calls) << "final pod from cache";
  EXPECT_EQ(Call("POST", "/updateCache", json::serialize(Pod("u4"))).status, 200);
  ASSERT_EQ(Call("GET", "/status", json::serialize(json::array{Pod("u4")})).status, 200);
  EXPECT_EQ(backend_.status_calls, calls + 1);
  EXPECT_EQ(Call("POST", "/updateCache", "u4").status, 200);
  EXPECT_EQ(Call("POST", "/updateCache", "").status, 200);
  EXPECT_EQ(Call("POST", "/updateCache", "not a uid!").status, 400);
}

TEST_F(Chain, SidecarDownIs503AndRecovers) {
  std::string url = sidecar_->url();
  sidecar_->Stop();
  auto r = Call("POST", "/pinglink", "");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("sidecar"), std::string::npos);
  EXPECT_EQ(Call("GET", "/status", json::serialize(json::array{Pod("x")})).status, 503);
  ASSERT_TRUE(sidecar_->Start().ok());
  StartInterlink(sidecar_->url(), "");
  EXPECT_EQ(Call("POST", "/pinglink", "").status, 200);
}

TEST_F(Chain, BearerTokenIsEnforced) {
  std::string path = "/tmp/il-api-token-" + std::to_string(getpid());
  std::ofstream(path) << "vk-token\n";
  StartInterlink(sidecar_->url(), path);
  EXPECT_EQ(Call("POST", "/pinglink", "").status, 401);
  EXPECT_EQ(Call("POST", "/pinglink", "", "wrong").status, 403);
  EXPECT_EQ(Call("POST", "/pinglink", "", "vk-token").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  std::ofstream(path) << "rotated\n";
  EXPECT_EQ(Call("POST", "/pinglink", "", "vk-token").status, 403);
  EXPECT_EQ(Call("POST", "/pinglink", "", "rotated").status, 200);
  unlink(path.c_str());
}

TEST_F(Chain, SeedShapesStillWork) {
  std::string seed =
      json::serialize(json::object{{"pods", json::object{{"default-p", Pod("s1")}}}});
  auto r = Call("POST", "/create", seed);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Call("GET", "/status", seed).status, 200);
  EXPECT_EQ(Call("DELETE", "/delete", seed).status, 200);
}

TEST_F(Chain, MetricsCountRequests) {
  Call("POST", "/pinglink", "");
  auto r = Call("GET", "/metrics", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("interlink_http_requests_total"), std::string::npos);
  EXPECT_NE(r.body.find("/pinglink"), std::string::npos);
}

}  // namespace
}  // namespace il::interlink
