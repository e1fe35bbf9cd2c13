// Fuzz target: what any client reaching the vk's kubelet API (:10250) sends before it is
// authenticated (src/vk/kubelet_auth.h): the request path, the Authorization header and
// the Sec-WebSocket-Protocol header of an upgrade request.
//
// Input: line 1 = path, line 2 = Authorization value, rest = Sec-WebSocket-Protocol.
// The fake API server authenticates the token "good" only and allows everything.
// Properties: the path maps to one of the kubelet's four subresources; a WebSocket token
// comes with at least one other subprotocol and none of them is a token; only "good"
// authenticates, and an authenticated caller is never anonymous.
#include <boost/json.hpp>
#include <string>

#include "fuzz/fuzz_check.h"
#include "kube/access_review.h"
#include "testing/fake_kube_api.h"
#include "vk/kubelet_auth.h"

namespace {

il::kube::FakeKubeApi& Api() {
  static auto* api = [] {
    auto* a = new il::kube::FakeKubeApi();
    a->ReactToCreate(il::kube::kTokenReviewsPath, [](const boost::json::value& body) {
      bool good = body.at("spec").at("token") == "good";
      boost::json::object status{{"authenticated", good}};
      if (good) status["user"] = boost::json::object{{"username", "alice"}};
      return il::Result<boost::json::value>(boost::json::object{{"status", std::move(status)}});
    });
    return a;
  }();
  return *api;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = il::fuzz::AsText(data, size);
  auto [path, rest1] = il::fuzz::SplitFirstLine(in);
  auto [authorization, protocols] = il::fuzz::SplitFirstLine(rest1);

  std::string sub = il::vk::KubeletSubresource(path);
  FUZZ_CHECK(sub == "stats" || sub == "metrics" || sub == "log" || sub == "proxy");

  il::http::Request r;
  r.path = std::string(path);
  r.headers.Set("Authorization", std::string(authorization));
  r.headers.Set("Connection", "Upgrade");
  r.headers.Set("Upgrade", "websocket");
  r.headers.Set("Sec-WebSocket-Protocol", std::string(protocols));

  std::string others;
  auto ws = il::vk::WebSocketBearerToken(r.headers, &others);
  if (ws.ok() && ws->has_value()) {
    FUZZ_CHECK(!(*ws)->empty() && !others.empty());
    FUZZ_CHECK(others.find("base64url.bearer.authorization.k8s.io.") == std::string::npos);
  }

  // A fresh authenticator per input: nothing cached from an earlier one.
  Api().ClearCalls();  // the fake records every review; keep long runs small
  il::vk::KubeletAuthenticator authn(Api(), {}, /*x509=*/true);
  auto caller = authn.AuthenticateCaller(r);
  if (caller.ok()) {
    FUZZ_CHECK(caller->user.username == "alice");
    FUZZ_CHECK(caller->method == "token" || caller->method == "websocket-token");
  }
  return 0;
}
