// Identities from an OIDC identity provider, for interlink's authenticator chain:
//
//  - OidcAuthenticator validates "Authorization: Bearer <JWT>" in the process: the
//    signature against the issuer's JWKS (RS256/ES256 only), iss, aud, exp/nbf/iat with
//    a small skew, then the optional allow-lists of subjects, groups and emails read from
//    configurable claims. Without any allow-list every valid token of the configured
//    issuer and audience is accepted, so choose an audience only interlink's callers get.
//
//  - ProxyHeaderAuthenticator believes X-Forwarded-User / X-Forwarded-Email /
//    X-Forwarded-Groups (oauth2-proxy in front of interlink) only when the connection
//    comes from a configured proxy address or CIDR; from anyone else they are ignored.
//
// Both answer kUnauthenticated when the request carries no credential of their kind
// (so AnyOfAuthenticator tries the next), kPermissionDenied when one is present but
// invalid, expired or not allowed, and kUnavailable when the JWKS cannot be fetched.
// A token in the query string (?access_token=, ?token=) is refused and never used: URLs
// end up in logs and browser histories.
//
// Thread-safety: Authenticate() is thread-safe; it may block on a JWKS fetch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/authenticator.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/jwks.h"
#include "core/jwt.h"

namespace il {

// Subjects, groups and emails that may pass; empty lists allow everyone.
struct IdentityAllowList {
  std::vector<std::string> subjects;
  std::vector<std::string> groups;
  std::vector<std::string> emails;
  static IdentityAllowList From(const OidcConfig& c);
  bool empty() const { return subjects.empty() && groups.empty() && emails.empty(); }
  // True when the list is empty or one of subject / email / groups is listed.
  bool Allows(const std::string& subject, const std::string& email,
              const std::vector<std::string>& groups) const;
};

class OidcAuthenticator : public Authenticator {
 public:
  OidcAuthenticator(OidcConfig config, std::shared_ptr<JwksKeySet> keys,
                    std::shared_ptr<Clock> clock = RealClock());
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override;

 private:
  Result<http::Identity> Validate(std::string_view token);
  const OidcConfig config_;
  const IdentityAllowList allow_;
  const std::shared_ptr<JwksKeySet> keys_;
  const std::shared_ptr<Clock> clock_;
};

// A parsed TrustedProxies entry list: IPv4/IPv6 addresses, CIDRs, and "unix" for
// connections over interlink's unix socket.
class ProxyAddressSet {
 public:
  static Result<ProxyAddressSet> Parse(const std::vector<std::string>& entries);
  // `peer` as in http::Request::peer ("10.0.0.1:5555", "::1:5555", "[::1]:5555", "unix").
  bool Contains(std::string_view peer) const;
  bool empty() const { return nets_.empty() && !unix_; }

 private:
  struct Net {
    int family;                   // AF_INET or AF_INET6
    unsigned char addr[16] = {};  // network bytes
    int prefix = 0;
  };
  std::vector<Net> nets_;
  bool unix_ = false;
};

class ProxyHeaderAuthenticator : public Authenticator {
 public:
  ProxyHeaderAuthenticator(ProxyAddressSet proxies, IdentityAllowList allow,
                           std::string description);
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override { return description_; }

 private:
  const ProxyAddressSet proxies_;
  const IdentityAllowList allow_;
  const std::string description_;
};

// Builds the OIDC authenticator of a validated config (config.oidc.enabled() must be
// true): a JWKS key set from JWKSFile or JWKSURL (+ JWKSCAFile). Bad JWKS URL ->
// kInvalidArgument. The keys are fetched on the first request, not here, so interlink
// starts while the IdP is down.
Result<std::unique_ptr<Authenticator>> MakeOidcAuthenticator(
    const OidcConfig& config, std::shared_ptr<Clock> clock = RealClock());

// Builds the proxy-header authenticator from TrustedProxies (must be non-empty) and the
// OIDC.Allowed* lists. A malformed address -> kInvalidArgument.
Result<std::unique_ptr<Authenticator>> MakeProxyHeaderAuthenticator(
    const std::vector<std::string>& trusted_proxies, const OidcConfig& allow);

}  // namespace il
