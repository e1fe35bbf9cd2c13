#include "vk/kubelet_auth.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <optional>

#include "core/base64.h"

namespace il::vk {
namespace {

constexpr char kAnonymousUser[] = "system:anonymous";
constexpr char kUnauthenticatedGroup[] = "system:unauthenticated";
constexpr char kAuthenticatedGroup[] = "system:authenticated";
// Entries whose key is this long are not cached (the kubelet's webhook authorizer does
// the same), so a caller cannot fill memory with huge attribute strings.
constexpr size_t kMaxCachedKey = 10000;

std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.kubelet.auth");
  return l;
}

std::shared_ptr<Clock> OrReal(std::shared_ptr<Clock> c) { return c ? std::move(c) : RealClock(); }

// isSubpath: p equals base or starts with base + "/".
bool IsSubpath(std::string_view p, std::string_view base) {
  if (p.substr(0, base.size()) != base) return false;
  return p.size() == base.size() || p[base.size()] == '/';
}

// Cache key of a token: its SHA-256, so the cache holds no bearer tokens.
std::string TokenKey(const std::string& token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(md), len);
}

// The bearer token of `Authorization: Bearer <t>` (scheme case-insensitive), or "".
std::string BearerToken(const http::Headers& headers) {
  std::string h = headers.Get("authorization");
  auto sp = h.find(' ');
  if (sp == std::string::npos) return "";
  std::string scheme = h.substr(0, sp);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer") return "";
  auto start = h.find_first_not_of(' ', sp);
  if (start == std::string::npos) return "";
  auto end = h.find_last_not_of(" \t");
  return h.substr(start, end - start + 1);
}

Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A WebSocket upgrade: a Connection header naming "upgrade" and Upgrade: websocket.
bool IsWebSocketUpgrade(const http::Headers& headers) {
  return Lower(headers.Get("connection")).find("upgrade") != std::string::npos &&
         Lower(std::string(Trim(headers.Get("upgrade")))) == "websocket";
}

// Adds system:authenticated as the kubelet's authenticated-group adder does.
kube::UserInfo WithAuthenticatedGroup(kube::UserInfo u) {
  if (u.username == kAnonymousUser) return u;
  for (const auto& g : u.groups) {
    if (g == kAuthenticatedGroup || g == kUnauthenticatedGroup) return u;
  }
  u.groups.push_back(kAuthenticatedGroup);
  return u;
}

std::string AttrText(const kube::UserInfo& u, const kube::ResourceAttributes& a) {
  return "user=" + u.username + ", verb=" + a.verb + ", resource=" + a.resource +
         ", subresource=" + a.subresource;
}

}  // namespace

ClientCa ResolveClientCa(const std::string& configured_file, const http::TlsOptions& cluster_tls,
                         const std::string& service_account_dir) {
  if (!configured_file.empty()) return {configured_file, "", "configured " + configured_file};
  if (!cluster_tls.ca_file.empty()) {
    return {cluster_tls.ca_file, "", "the cluster CA " + cluster_tls.ca_file};
  }
  if (!cluster_tls.ca_pem.empty()) return {"", cluster_tls.ca_pem, "the kubeconfig's cluster CA"};
  std::string in_cluster = service_account_dir + "/ca.crt";
  if (std::filesystem::exists(in_cluster)) return {in_cluster, "", "the cluster CA " + in_cluster};
  return {};
}

Result<std::optional<std::string>> WebSocketBearerToken(const http::Headers& headers,
                                                        std::string* rest) {
  static constexpr std::string_view kPrefix = "base64url.bearer.authorization.k8s.io.";
  rest->clear();
  if (!IsWebSocketUpgrade(headers)) return std::optional<std::string>();
  std::optional<std::string> token;
  for (const auto& [name, value] : headers.items()) {
    if (name != "sec-websocket-protocol") continue;
    for (size_t pos = 0; pos <= value.size();) {
      size_t comma = std::min(value.find(',', pos), value.size());
      std::string_view p = Trim(std::string_view(value).substr(pos, comma - pos));
      pos = comma + 1;
      if (p.substr(0, kPrefix.size()) != kPrefix) {
        if (!p.empty()) rest->append(rest->empty() ? "" : ",").append(p);
        continue;
      }
      if (token) return Unauthenticated("multiple base64.bearer.authorization tokens specified");
      auto decoded = Base64UrlDecode(p.substr(kPrefix.size()));
      if (!decoded.ok())
        return Unauthenticated("invalid base64.bearer.authorization token encoding");
      token = std::move(decoded).value();
    }
  }
  if (!token) return std::optional<std::string>();
  if (token->empty()) return Unauthenticated("invalid bearer token");
  if (rest->empty()) return Unauthenticated("missing additional subprotocol");
  return token;
}

std::string KubeletVerb(std::string_view method) {
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

std::string KubeletSubresource(std::string_view path) {
  if (IsSubpath(path, "/stats")) return "stats";
  if (IsSubpath(path, "/metrics")) return "metrics";
  if (IsSubpath(path, "/logs")) return "log";
  return "proxy";
}

kube::ResourceAttributes KubeletAttributes(const http::Request& req, const std::string& node) {
  kube::ResourceAttributes a;
  a.verb = KubeletVerb(req.method);
  a.version = "v1";
  a.resource = "nodes";
  a.subresource = KubeletSubresource(req.path);
  a.name = node;
  return a;
}

// --- authentication ------------------------------------------------------------------------

KubeletAuthenticator::KubeletAuthenticator(kube::KubeApi& api, KubeletAuthOptions options,
                                           bool x509, std::shared_ptr<Clock> clock)
    : api_(api),
      opt_(options),
      x509_(x509),
      cache_(options.token_cache_size, OrReal(std::move(clock))) {}

Result<kube::UserInfo> KubeletAuthenticator::ReviewBearer(const std::string& token) {
  std::string key = TokenKey(token);
  std::optional<kube::TokenReviewResult> review = cache_.Get(key);
  if (!review) {
    auto r = kube::ReviewToken(api_, token);
    if (!r.ok()) {  // not cached: the next request asks again
      return Status(StatusCode::kUnauthenticated, r.status().message());
    }
    cache_.Put(key, *r, opt_.token_cache_ttl);
    review = std::move(r).value();
  }
  if (!review->authenticated) {
    return Status(StatusCode::kUnauthenticated,
                  review->error.empty() ? "invalid bearer token" : review->error);
  }
  return review->user;
}

Result<KubeletCaller> KubeletAuthenticator::AuthenticateCaller(const http::Request& head) {
  // As the kubelet's union of authenticators: the first success wins; if none succeeds,
  // the first error (a certificate that failed verification, a refused token) is the
  // answer, and only a request without any credential may be anonymous.
  std::optional<Status> error;
  const http::PeerCertificate& cert = head.client_cert;
  if (x509_ && !cert.verified && !cert.common_name.empty()) {
    error = Status(StatusCode::kUnauthenticated, "x509: certificate not verified");
  } else if (x509_ && cert.verified && !cert.common_name.empty()) {  // empty CN: no opinion
    kube::UserInfo u;
    u.username = cert.common_name;
    u.groups = cert.organizations;
    return KubeletCaller{WithAuthenticatedGroup(std::move(u)), "x509", ""};
  }
  if (opt_.webhook) {
    if (std::string token = BearerToken(head.headers); !token.empty()) {
      auto u = ReviewBearer(token);
      if (u.ok()) return KubeletCaller{WithAuthenticatedGroup(std::move(u).value()), "token", ""};
      if (!error) error = u.status();
    }
    std::string rest;
    auto ws = WebSocketBearerToken(head.headers, &rest);
    if (!ws.ok()) {
      if (!error) error = ws.status();
    } else if (ws->has_value()) {
      auto u = ReviewBearer(**ws);
      if (u.ok()) {
        return KubeletCaller{WithAuthenticatedGroup(std::move(u).value()), "websocket-token",
                             std::move(rest)};
      }
      if (!error) error = u.status();
    }
  }
  if (error) return *error;
  if (!opt_.anonymous) return Status(StatusCode::kUnauthenticated, "no credentials");
  return KubeletCaller{{kAnonymousUser, "", {kUnauthenticatedGroup}, {}}, "anonymous", ""};
}

Result<http::Identity> KubeletAuthenticator::Authenticate(const http::Request& head) {
  IL_ASSIGN_OR_RETURN(KubeletCaller c, AuthenticateCaller(head));
  return http::Identity{std::move(c.user.username), std::move(c.user.groups), c.method};
}

std::string KubeletAuthenticator::Describe() const {
  std::string out;
  if (x509_) out = "client certificates";
  if (opt_.webhook) out += std::string(out.empty() ? "" : ", ") + "TokenReview";
  if (opt_.anonymous) out += std::string(out.empty() ? "" : ", ") + "anonymous";
  return out.empty() ? "nothing (every request refused)" : out;
}

// --- authorization -------------------------------------------------------------------------

KubeletAuthorizer::KubeletAuthorizer(kube::KubeApi& api, KubeletAuthOptions options,
                                     std::shared_ptr<Clock> clock)
    : api_(api), opt_(options), cache_(options.decision_cache_size, OrReal(std::move(clock))) {}

Result<bool> KubeletAuthorizer::Authorize(const kube::UserInfo& user,
                                          const kube::ResourceAttributes& attrs) {
  if (opt_.mode == KubeletAuthOptions::Mode::kAlwaysAllow) return true;
  kube::AccessReviewSpec spec{attrs, user};
  std::string key = boost::json::serialize(kube::SubjectAccessReviewObject(spec));
  if (auto hit = cache_.Get(key)) return *hit;
  auto d = kube::ReviewAccess(api_, spec);
  if (!d.ok()) return d.status();  // not cached
  if (d->allowed && d->denied) {
    return Internal("SubjectAccessReview said both allowed and denied: " + d->reason);
  }
  if (!d->evaluation_error.empty()) {
    Log()->debug("SubjectAccessReview for {}: evaluation error: {}", AttrText(user, attrs),
                 d->evaluation_error);
  }
  if (key.size() < kMaxCachedKey) {
    cache_.Put(key, d->allowed, d->allowed ? opt_.authorized_ttl : opt_.unauthorized_ttl);
  }
  return d->allowed;
}

// --- the filter ----------------------------------------------------------------------------

KubeletAuthFilter::KubeletAuthFilter(kube::KubeApi& api, KubeletAuthOptions options, bool x509,
                                     std::string node_name, std::shared_ptr<Clock> clock)
    : authn_(api, options, x509, clock),
      authz_(api, options, std::move(clock)),
      node_(std::move(node_name)) {}

bool KubeletAuthFilter::operator()(http::Request& req, http::ResponseWriter& w) {
  if (req.path == "/healthz") return true;
  auto caller = authn_.AuthenticateCaller(req);
  if (!caller.ok()) {
    int n = 0;
    if (denied_log_.Allow(&n)) {
      Log()->info("kubelet API: 401 for {} {} from {}: {} ({} more not logged)", req.method,
                  req.path, req.peer, caller.status().message(), n);
    }
    w.Reply(401, "Unauthorized", "text/plain");
    return false;
  }
  const kube::UserInfo& user = caller->user;
  kube::ResourceAttributes attrs = KubeletAttributes(req, node_);
  auto allowed = authz_.Authorize(user, attrs);
  if (!allowed.ok()) {
    Log()->warn("kubelet API: authorization of {} failed: {}", AttrText(user, attrs),
                allowed.status().ToString());
    w.Reply(500, "Authorization error (" + AttrText(user, attrs) + ")", "text/plain");
    return false;
  }
  if (!*allowed) {
    int n = 0;
    if (denied_log_.Allow(&n)) {
      Log()->info("kubelet API: 403 for {} {} ({}) ({} more not logged)", req.method, req.path,
                  AttrText(user, attrs), n);
    }
    w.Reply(403, "Forbidden (" + AttrText(user, attrs) + ")", "text/plain");
    return false;
  }
  if (caller->method == "websocket-token") {
    req.headers.Set("Sec-WebSocket-Protocol", caller->websocket_protocols);
  }
  req.identity = http::Identity{user.username, user.groups, caller->method};
  return true;
}

}  // namespace il::vk
