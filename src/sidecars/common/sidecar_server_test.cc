#include "sidecars/common/sidecar_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "api/fake_backend.h"
#include "core/http_client.h"

namespace il::sidecar {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid) {
  return json::value{{"metadata", {{"name", "p-" + uid}, {"namespace", "default"}, {"uid", uid}}},
                     {"spec", {{"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

class SidecarServerTest : public ::testing::Test {
 protected:
  void Start(SidecarServerOptions o = {}) {
    o.listen = "http://127.0.0.1:0";
    server_ = std::make_unique<SidecarServer>(o, backend_);
    ASSERT_TRUE(server_->Start().ok());
    http::ClientOptions co;
    co.base_url = server_->url();
    client_ = std::move(http::HttpClient::Create(co)).value();
  }
  http::Response Call(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& token = "") {
    http::ClientRequest r;
    r.method = method;
    r.target = path;
    r.body = body;
    r.headers.Set("InterLink-Http-Session", "Test#1");
    if (!token.empty()) r.headers.Set("Authorization", "Bearer " + token);
    auto res = client_->Do(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : http::Response{};
  }
  api::FakeBackend backend_;
  std::unique_ptr<SidecarServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(SidecarServerTest, CreateStatusLogsDeleteWithUpstreamShapes) {
  Start();
  auto r = Call("POST", "/create", json::serialize(json::object{{"pod", Pod("u1")}, {"container", json::array()}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"PodUID":"u1","PodJID":"job-u1"})");
  EXPECT_EQ(r.headers.Get("InterLink-Http-Session"), "Test#1");
  EXPECT_EQ(backend_.sessions.back(), "Test#1");
  r = Call("GET", "/status", json::serialize(json::array{Pod("u1"), Pod("unknown")}));
  EXPECT_EQ(r.status, 200);
  auto list = api::ParsePodStatusList(*api::ParseJson(r.body));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].uid, "u1");
  EXPECT_EQ(backend_.last_status_batch, 2u) << "one batched backend call";
  r = Call("GET", "/getLogs", R"({"Namespace":"default","PodUID":"u1","PodName":"p-u1","ContainerName":"c","Opts":{}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "line 1\nline 2\n");
  r = Call("DELETE", "/delete", json::serialize(Pod("u1")));
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "/delete", json::serialize(Pod("u1")));
  EXPECT_EQ(r.status, 404);
}

TEST_F(SidecarServerTest, EmptyStatusListIsThePing) {
  Start();
  auto r = Call("GET", "/status", "[]");
  EXPECT_EQ(r.status, 200);
  auto p = api::ParsePingResponse(*api::ParseJson(r.body));
  EXPECT_EQ(p->status, "ok");
  EXPECT_EQ(Call("POST", "/pinglink", "").status, 200);
}

TEST_F(SidecarServerTest, SeedRequestShapeAndAliasesWork) {
  Start();
  std::string seed = json::serialize(json::object{{"pods", json::object{{"default-p", Pod("u2")}}}});
  EXPECT_EQ(Call("POST", "/submit", seed).status, 200);
  EXPECT_EQ(Call("GET", "/status", seed).status, 200);
  EXPECT_EQ(Call("POST", "/stop", seed).status, 200);
  EXPECT_TRUE(backend_.created.empty());
}

TEST_F(SidecarServerTest, BadInputGets400AndNothingIsCalled) {
  Start();
  EXPECT_EQ(Call("POST", "/create", "{not json").status, 400);
  EXPECT_EQ(Call("POST", "/create", R"({"pod":{"metadata":{"name":"x;rm","uid":"u"}}})").status, 400);
  EXPECT_EQ(Call("POST", "/delete", "[]").status, 400);
  EXPECT_EQ(Call("GET", "/getLogs", R"({"Namespace":"Bad NS","PodUID":"u"})").status, 400);
  EXPECT_EQ(Call("GET", "/getLogs", R"({"Namespace":"default","PodUID":"u","Opts":{"Tail":1,"Bytes":1}})").status, 400);
  EXPECT_EQ(Call("GET", "/getLogs", R"({"Namespace":"default","PodUID":"nope","ContainerName":"c"})").status, 404);
  EXPECT_EQ(backend_.create_calls, 0);
}

TEST_F(SidecarServerTest, BackendErrorsKeepTheirReason) {
  Start();
  backend_.create_error = Status(StatusCode::kBadGateway, "sbatch: error: invalid partition");
  auto r = Call("POST", "/create", json::serialize(json::object{{"pod", Pod("u3")}}));
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("invalid partition"), std::string::npos);
}

TEST_F(SidecarServerTest, TokenIsRequiredWhenConfigured) {
  std::string path = "/tmp/il-sd-token-" + std::to_string(getpid());
  std::ofstream(path) << "tok";
  SidecarServerOptions o;
  o.token_file = path;
  Start(o);
  EXPECT_EQ(Call("GET", "/status", "[]").status, 401);
  EXPECT_EQ(Call("GET", "/status", "[]", "wrong").status, 403);
  EXPECT_EQ(Call("GET", "/status", "[]", "tok").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  unlink(path.c_str());
}

}  // namespace
}  // namespace il::sidecar
