#include "protocol/listener_policy.h"

#include <arpa/inet.h>

#include "core/http.h"
#include "core/oidc_auth.h"
#include "core/token_auth.h"
#include "protocol/server.h"

namespace il::protocol {

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1") return true;
  constexpr std::string_view kDotLocal = ".localhost";
  if (host.size() > kDotLocal.size() && host.substr(host.size() - kDotLocal.size()) == kDotLocal) {
    return true;
  }
  std::string h(host);
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    static const in6_addr kLoop = IN6ADDR_LOOPBACK_INIT;
    if (memcmp(&a6, &kLoop, sizeof(a6)) == 0) return true;
    // ::ffff:127.x.y.z
    if (IN6_IS_ADDR_V4MAPPED(&a6)) return a6.s6_addr[12] == 127;
  }
  return false;
}

bool IsLocalUrl(std::string_view url) {
  auto ep = http::ParseEndpoint(url, "0");
  if (!ep.ok()) return false;
  if (ep->scheme == http::Endpoint::Scheme::kUnix) return true;
  return IsLoopbackHost(ep->host);
}

Status CheckListener(const ListenerCheck& c, std::string* warning) {
  if (c.authenticated || IsLocalUrl(c.listen_url)) return Status::Ok();
  if (c.allow_unauthenticated) {
    if (warning) {
      *warning = c.component + " listens on " + c.listen_url + " WITHOUT authentication because " +
                 c.escape_key +
                 " is set: anyone who reaches this address can use it; make sure a proxy in "
                 "front authenticates every caller";
    }
    return Status::Ok();
  }
  return FailedPrecondition(
      c.component + " refuses to listen on " + c.listen_url +
      " without authentication: a non-loopback listener must authenticate its callers. Set " +
      c.keys_hint + ", or listen on 127.0.0.1 / a unix:// socket, or set " + c.escape_key +
      ": true if a proxy in front authenticates every caller");
}

Result<std::shared_ptr<Authenticator>> MakeListenerAuthenticator(const ListenerAuthConfig& c) {
  std::vector<std::unique_ptr<Authenticator>> list;
  if (c.client_certs) list.push_back(std::make_unique<ClientCertAuthenticator>());
  if (!c.token_file.empty()) {
    // Fail at start, not at the first request, when the file cannot be read.
    if (auto t = TokenAuth::ReadTokenFile(c.token_file); !t.ok()) return t.status();
    list.push_back(std::make_unique<TokenAuth>(c.token_file));
  }
  if (c.oidc && c.oidc->enabled()) {
    IL_ASSIGN_OR_RETURN(auto oidc, MakeOidcAuthenticator(*c.oidc));
    list.push_back(std::move(oidc));
  }
  if (!c.trusted_proxies.empty()) {
    static const OidcConfig kNoAllowList;
    IL_ASSIGN_OR_RETURN(auto proxy, MakeProxyHeaderAuthenticator(c.trusted_proxies,
                                                                 c.oidc ? *c.oidc : kNoAllowList));
    list.push_back(std::move(proxy));
  }
  if (list.empty()) return std::shared_ptr<Authenticator>();
  return std::shared_ptr<Authenticator>(std::make_shared<AnyOfAuthenticator>(std::move(list)));
}

Status SecureListener(const InterLinkConfig& cfg, const ListenerAuthConfig& auth,
                      const std::string& keys_hint, ServerOptions* so, std::string* warning) {
  IL_ASSIGN_OR_RETURN(so->authenticator, MakeListenerAuthenticator(auth));
  IL_RETURN_IF_ERROR(
      CheckListener({so->component, so->listen, so->authenticator != nullptr,
                     cfg.allow_unauthenticated_listen, keys_hint, "AllowUnauthenticatedListen"},
                    warning));
  so->body_limit = cfg.max_request_bytes;
  so->worker_threads = cfg.worker_threads;
  so->max_connections = cfg.limits.max_connections;
  so->max_connections_per_peer = cfg.limits.max_connections_per_peer;
  so->max_streams = cfg.limits.max_streams;
  so->max_streams_per_peer = cfg.limits.max_streams_per_peer;
  return Status::Ok();
}

}  // namespace il::protocol
