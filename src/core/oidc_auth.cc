#include "core/oidc_auth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>

#include "core/log.h"

namespace il {
namespace {

Status Denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
Status NoCredential(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return !v.empty() && std::find(list.begin(), list.end(), v) != list.end();
}

std::string Trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Query parameters that carry a token in some clients; we never read them.
constexpr const char* kQueryTokenNames[] = {"access_token", "token", "id_token"};

Status RefuseQueryToken(const http::Request& head) {
  for (const char* name : kQueryTokenNames) {
    if (head.query.count(name)) {
      return Denied(std::string("a token in the URL query (?") + name +
                    "=) is refused: send it as \"Authorization: Bearer <token>\"");
    }
  }
  return Status::Ok();
}

// The bearer credential, if the request has one ("Bearer" is case-insensitive).
std::string BearerToken(const http::Request& head) {
  std::string auth = head.headers.Get("authorization");
  if (auth.size() < 7) return {};
  for (size_t i = 0; i < 6; ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != "bearer"[i]) return {};
  }
  if (auth[6] != ' ') return {};
  return Trim(std::string_view(auth).substr(7));
}

std::string StringClaim(const boost::json::object& claims, const std::string& name) {
  const auto* v = claims.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// All values of a header (repeated headers must not let a client add to a proxy's).
std::vector<std::string> HeaderValues(const http::Headers& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : h.items()) {
    if (k == name) out.push_back(v);
  }
  return out;
}

// "10.1.2.3:80" -> "10.1.2.3"; "[::1]:80" and "::1:80" -> "::1".
std::string PeerHost(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    auto close = peer.find(']');
    return std::string(peer.substr(1, close == std::string_view::npos ? 0 : close - 1));
  }
  auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::string(peer);
  return std::string(peer.substr(0, colon));
}

// Parses an address into family + 16 bytes; IPv4-mapped IPv6 becomes IPv4.
bool ParseAddress(const std::string& s, int* family, unsigned char out[16]) {
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out, kMapped, 12) == 0) {
      std::memmove(out, out + 12, 4);
      std::memset(out + 4, 0, 12);
      *family = AF_INET;
    } else {
      *family = AF_INET6;
    }
    return true;
  }
  return false;
}

bool PrefixMatch(const unsigned char* a, const unsigned char* b, int bits) {
  int full = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

// --- IdentityAllowList ---

IdentityAllowList IdentityAllowList::From(const OidcConfig& c) {
  return {c.allowed_subjects, c.allowed_groups, c.allowed_emails};
}

bool IdentityAllowList::Allows(const std::string& subject, const std::string& email,
                               const std::vector<std::string>& member_of) const {
  if (empty()) return true;
  if (Contains(subjects, subject) || Contains(emails, email)) return true;
  return std::any_of(member_of.begin(), member_of.end(),
                     [&](const std::string& g) { return Contains(groups, g); });
}

// --- OidcAuthenticator ---

OidcAuthenticator::OidcAuthenticator(OidcConfig config, std::shared_ptr<JwksKeySet> keys,
                                     std::shared_ptr<Clock> clock)
    : config_(std::move(config)),
      allow_(IdentityAllowList::From(config_)),
      keys_(std::move(keys)),
      clock_(std::move(clock)) {}

std::string OidcAuthenticator::Describe() const {
  std::string d = "OIDC issuer " + config_.issuer + " audience " + config_.audience + " (" +
                  keys_->Describe() + ")";
  if (allow_.empty()) d += ", any subject";
  return d;
}

Result<http::Identity> OidcAuthenticator::Authenticate(const http::Request& head) {
  IL_RETURN_IF_ERROR(RefuseQueryToken(head));
  std::string token = BearerToken(head);
  if (token.empty()) return NoCredential("no bearer token");
  // A bearer that is not shaped like a JWT is some other authenticator's token.
  if (std::count(token.begin(), token.end(), '.') < 2) {
    return NoCredential("bearer token is not a JWT");
  }
  auto id = Validate(token);
  if (!id.ok()) log::Logger("oidc")->debug("token refused: {}", id.status().message());
  return id;
}

Result<http::Identity> OidcAuthenticator::Validate(std::string_view token) {
  auto parsed = jwt::Parse(token);
  if (!parsed.ok()) return Denied("invalid bearer token: " + parsed.status().message());
  const jwt::Jwt& t = *parsed;
  if (t.alg != "RS256" && t.alg != "ES256") {
    // Refused before any key lookup: "none" and HS256 never reach the JWKS.
    return Denied("JWT algorithm '" + jwt::Printable(t.alg) +
                  "' is not accepted (only RS256 and ES256)");
  }
  auto keys = keys_->Find(t.kid, t.alg);
  if (!keys.ok()) {
    if (keys.status().code() == StatusCode::kNotFound) {
      return Denied("JWT signed with an unknown key: " + keys.status().message());
    }
    // kUnavailable. The detail (a path, a URL, a TLS error) goes to our log, rate-limited
    // by JwksKeySet; the client only learns that the keys cannot be had right now.
    return Status(keys.status().code(), "the identity provider's signing keys are unavailable");
  }
  Status sig = Denied("JWT signature does not verify");
  for (const auto& key : *keys) {
    sig = jwt::VerifySignature(t, key);
    if (sig.ok()) break;
  }
  IL_RETURN_IF_ERROR(sig);
  jwt::ClaimRequirements req{config_.issuer, config_.audience,
                             std::chrono::seconds(config_.clock_skew_seconds)};
  IL_RETURN_IF_ERROR(jwt::CheckClaims(t, req, clock_->WallNow()));

  std::string subject = StringClaim(t.claims, config_.subject_claim);
  if (subject.empty()) return Denied("JWT has no string claim '" + config_.subject_claim + "'");
  std::string email = StringClaim(t.claims, config_.email_claim);
  if (const auto* v = t.claims.if_contains("email_verified"); v && v->is_bool() && !v->as_bool()) {
    email.clear();  // an unverified address proves nothing
  }
  std::vector<std::string> groups = jwt::StringList(t.claims, config_.groups_claim);
  if (!allow_.Allows(subject, email, groups)) {
    return Denied("subject '" + jwt::Printable(subject) +
                  "' is not in OIDC.AllowedSubjects, AllowedGroups or " + "AllowedEmails");
  }
  http::Identity id;
  id.user = subject;
  id.groups = std::move(groups);
  id.method = "oidc";
  return id;
}

Result<std::unique_ptr<Authenticator>> MakeOidcAuthenticator(const OidcConfig& config,
                                                             std::shared_ptr<Clock> clock) {
  if (!config.enabled()) return InvalidArgument("OIDC.Issuer is not set");
  std::unique_ptr<JwksSource> source;
  if (!config.jwks_file.empty()) {
    source = MakeJwksFileSource(config.jwks_file);
  } else {
    IL_ASSIGN_OR_RETURN(source, MakeJwksUrlSource(config.jwks_url, config.jwks_ca_file));
  }
  auto keys = std::make_shared<JwksKeySet>(std::move(source), JwksOptions{}, clock);
  return std::unique_ptr<Authenticator>(
      std::make_unique<OidcAuthenticator>(config, std::move(keys), std::move(clock)));
}

// --- ProxyAddressSet ---

Result<ProxyAddressSet> ProxyAddressSet::Parse(const std::vector<std::string>& entries) {
  ProxyAddressSet set;
  for (const auto& raw : entries) {
    std::string e = Trim(raw);
    if (e == "unix") {
      set.unix_ = true;
      continue;
    }
    Net n;
    std::string addr = e;
    int prefix = -1;
    if (auto slash = e.find('/'); slash != std::string::npos) {
      addr = e.substr(0, slash);
      std::string p = e.substr(slash + 1);
      if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), ::isdigit)) {
        return InvalidArgument("TrustedProxies: bad prefix length in '" + e + "'");
      }
      prefix = std::stoi(p);
    }
    if (!ParseAddress(addr, &n.family, n.addr)) {
      return InvalidArgument("TrustedProxies: '" + e + "' is not an IP address or CIDR");
    }
    int max = n.family == AF_INET ? 32 : 128;
    if (prefix > max) return InvalidArgument("TrustedProxies: prefix too long in '" + e + "'");
    n.prefix = prefix < 0 ? max : prefix;
    set.nets_.push_back(n);
  }
  return set;
}

bool ProxyAddressSet::Contains(std::string_view peer) const {
  if (peer == "unix") return unix_;
  int family = 0;
  unsigned char addr[16];
  if (!ParseAddress(PeerHost(peer), &family, addr)) return false;
  return std::any_of(nets_.begin(), nets_.end(), [&](const Net& n) {
    return n.family == family && PrefixMatch(n.addr, addr, n.prefix);
  });
}

// --- ProxyHeaderAuthenticator ---

ProxyHeaderAuthenticator::ProxyHeaderAuthenticator(ProxyAddressSet proxies, IdentityAllowList allow,
                                                   std::string description)
    : proxies_(std::move(proxies)),
      allow_(std::move(allow)),
      description_(std::move(description)) {}

Result<http::Identity> ProxyHeaderAuthenticator::Authenticate(const http::Request& head) {
  static log::RateLimiter untrusted_log(std::chrono::seconds(30));
  auto users = HeaderValues(head.headers, "x-forwarded-user");
  auto emails = HeaderValues(head.headers, "x-forwarded-email");
  if (users.empty() && emails.empty()) return NoCredential("no X-Forwarded-User header");
  if (!proxies_.Contains(head.peer)) {
    int suppressed = 0;
    if (untrusted_log.Allow(&suppressed)) {
      log::Logger("oidc")->warn(
          "ignored X-Forwarded-User/-Email from {}: not in TrustedProxies ({} more suppressed)",
          head.peer, suppressed);
    }
    return NoCredential("X-Forwarded-* headers are ignored from " + head.peer +
                        " (not a trusted proxy)");
  }
  if (users.size() > 1 || emails.size() > 1) {
    return Denied("repeated X-Forwarded-User or X-Forwarded-Email header");
  }
  std::string email = emails.empty() ? "" : Trim(emails[0]);
  std::string user = users.empty() ? "" : Trim(users[0]);
  if (user.empty()) user = email;
  if (user.empty()) return NoCredential("empty X-Forwarded-User header");
  std::vector<std::string> groups;
  for (const auto& line : HeaderValues(head.headers, "x-forwarded-groups")) {
    size_t start = 0;
    while (start <= line.size()) {
      size_t comma = line.find(',', start);
      if (comma == std::string::npos) comma = line.size();
      std::string g = Trim(std::string_view(line).substr(start, comma - start));
      if (!g.empty()) groups.push_back(std::move(g));
      start = comma + 1;
    }
  }
  if (!allow_.Allows(user, email, groups)) {
    return Denied("proxy user '" + jwt::Printable(user) +
                  "' is not in OIDC.AllowedSubjects, AllowedGroups or " + "AllowedEmails");
  }
  http::Identity id;
  id.user = user;
  id.groups = std::move(groups);
  id.method = "proxy";
  return id;
}

Result<std::unique_ptr<Authenticator>> MakeProxyHeaderAuthenticator(
    const std::vector<std::string>& trusted_proxies, const OidcConfig& allow) {
  if (trusted_proxies.empty()) return InvalidArgument("TrustedProxies is empty");
  IL_ASSIGN_OR_RETURN(auto set, ProxyAddressSet::Parse(trusted_proxies));
  std::string d = "X-Forwarded-User from trusted proxies";
  for (const auto& p : trusted_proxies) d += " " + p;
  return std::unique_ptr<Authenticator>(std::make_unique<ProxyHeaderAuthenticator>(
      std::move(set), IdentityAllowList::From(allow), std::move(d)));
}

}  // namespace il
