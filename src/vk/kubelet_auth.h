// Authentication and authorization of the kubelet HTTPS API, done as the kubelet does in
// webhook mode (reference kubelet-streaming.md §6):
//
//   1. x509: a client certificate the TLS layer verified against the client CA gives
//      user = CN, groups = O. A certificate that failed verification is an error unless
//      a valid bearer token follows.
//   2. Bearer token: `Authorization: Bearer <t>` checked with a TokenReview; results
//      (authenticated or not) cached for CacheTTL; failures to reach the API not cached.
//      Or, on a WebSocket upgrade, the same token as a `base64url.bearer.authorization.
//      k8s.io.` subprotocol. The first method that succeeds wins.
//   3. No credentials: user system:anonymous (group system:unauthenticated) if anonymous
//      access is enabled, else 401. Any credential that fails is 401 even then.
//   A success adds the group system:authenticated.
//   4. Authorization: a SubjectAccessReview for verb (from the method), resource nodes,
//      name = the node, subresource log / stats / metrics / proxy (from the path);
//      allowed cached 5 min, not allowed 30 s. Not allowed -> 403, review error -> 500,
//      with the kubelet's text bodies naming user, verb, resource and subresource.
//
// /healthz is answered without credentials (the probes of whatever runs the vk).
//
// Thread-safety: all classes are thread-safe; the filter runs on the server's workers
// and may block on the API server.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/authenticator.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/http_server.h"
#include "core/log.h"
#include "kube/access_review.h"
#include "kube/kube_api.h"
#include "kube/kubeconfig.h"
#include "vk/kubelet_auth_options.h"
#include "vk/ttl_cache.h"

namespace il::vk {

// Where client certificates are checked against: the configured CA file
// (KubeletHTTP.ClientCAFile / APISERVER_CA_CERT_LOCATION), else the cluster CA the vk's
// own Kubernetes client trusts (kubeconfig certificate-authority or -data, in-cluster
// ca.crt), else `<service_account_dir>/ca.crt` if it exists. All empty: no x509.
struct ClientCa {
  std::string file;
  std::string pem;     // inline PEM (kubeconfig certificate-authority-data)
  std::string source;  // for the start-up log
};
ClientCa ResolveClientCa(const std::string& configured_file, const http::TlsOptions& cluster_tls,
                         const std::string& service_account_dir = kube::kServiceAccountDir);

// "get" for GET and HEAD, "create" for POST, "update", "patch", "delete"; "" otherwise.
std::string KubeletVerb(std::string_view method);
// "stats", "metrics", "log" or "proxy" for a request path (the kubelet's isSubpath rule).
std::string KubeletSubresource(std::string_view path);
// What the kubelet authorizes for a request to node `node`.
kube::ResourceAttributes KubeletAttributes(const http::Request& req, const std::string& node);

// Who a request comes from, and how that was established.
struct KubeletCaller {
  kube::UserInfo user;  // uid and extra from a TokenReview go on to the SubjectAccessReview
  std::string method;   // "x509", "token", "websocket-token" or "anonymous"
  // With "websocket-token": Sec-WebSocket-Protocol without the token entry, for the
  // handler to negotiate (the kubelet rewrites the header so).
  std::string websocket_protocols;
};

// The bearer token a WebSocket client (kubectl 1.30+, browsers) carries as subprotocol
// `base64url.bearer.authorization.k8s.io.<base64url token>` of an upgrade request:
// nullopt when there is none (or this is no WebSocket upgrade), an error when it is
// malformed, given twice, or the only subprotocol. `*rest` gets the other subprotocols.
Result<std::optional<std::string>> WebSocketBearerToken(const http::Headers& headers,
                                                        std::string* rest);

// x509 then TokenReview then (optionally) anonymous. As an il::Authenticator every
// failure is kUnauthenticated (the kubelet answers 401 to all of them).
class KubeletAuthenticator : public Authenticator {
 public:
  // `x509`: client certificates count (a client CA is configured on the listener).
  KubeletAuthenticator(kube::KubeApi& api, KubeletAuthOptions options, bool x509,
                       std::shared_ptr<Clock> clock = nullptr);
  Result<KubeletCaller> AuthenticateCaller(const http::Request& head);
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override;

 private:
  Result<kube::UserInfo> ReviewBearer(const std::string& token);

  kube::KubeApi& api_;
  KubeletAuthOptions opt_;
  bool x509_;
  TtlCache<kube::TokenReviewResult> cache_;
};

class KubeletAuthorizer {
 public:
  KubeletAuthorizer(kube::KubeApi& api, KubeletAuthOptions options,
                    std::shared_ptr<Clock> clock = nullptr);
  // True when allowed, false when not; an error when the review failed or said both
  // allowed and denied.
  Result<bool> Authorize(const kube::UserInfo& user, const kube::ResourceAttributes& attrs);

 private:
  kube::KubeApi& api_;
  KubeletAuthOptions opt_;
  TtlCache<bool> cache_;
};

// The HttpServer filter: authenticate, authorize, then let the handler run with
// Request::identity set. Replies 401 / 403 / 500 itself otherwise.
class KubeletAuthFilter {
 public:
  KubeletAuthFilter(kube::KubeApi& api, KubeletAuthOptions options, bool x509,
                    std::string node_name, std::shared_ptr<Clock> clock = nullptr);
  bool operator()(http::Request& req, http::ResponseWriter& w);
  KubeletAuthenticator& authenticator() { return authn_; }

 private:
  KubeletAuthenticator authn_;
  KubeletAuthorizer authz_;
  std::string node_;
  log::RateLimiter denied_log_{std::chrono::seconds(10)};
};

}  // namespace il::vk
