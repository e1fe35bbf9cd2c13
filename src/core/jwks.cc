#include "core/jwks.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "core/base64.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/mutex.h"

namespace il {
namespace {

// A JWKS document is a few KB; refuse anything absurd.
constexpr size_t kMaxJwksBytes = 1u << 20;

std::string Str(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<std::string> Member(const boost::json::object& o, std::string_view name) {
  std::string s = Str(o, name);
  if (s.empty()) return InvalidArgument("no '" + std::string(name) + "'");
  auto bytes = Base64UrlDecode(s);
  if (!bytes.ok())
    return InvalidArgument("'" + std::string(name) + "': " + bytes.status().message());
  return std::move(*bytes);
}

Result<jwt::PublicKey> KeyOf(const boost::json::object& k) {
  std::string kty = Str(k, "kty");
  std::string alg = Str(k, "alg");
  if (kty == "RSA") {
    if (!alg.empty() && alg != "RS256") return InvalidArgument("RSA key for " + alg);
    IL_ASSIGN_OR_RETURN(std::string n, Member(k, "n"));
    IL_ASSIGN_OR_RETURN(std::string e, Member(k, "e"));
    return jwt::PublicKey::FromRsa(n, e);
  }
  if (kty == "EC") {
    if (!alg.empty() && alg != "ES256") return InvalidArgument("EC key for " + alg);
    if (Str(k, "crv") != "P-256") return InvalidArgument("EC curve '" + Str(k, "crv") + "'");
    IL_ASSIGN_OR_RETURN(std::string x, Member(k, "x"));
    IL_ASSIGN_OR_RETURN(std::string y, Member(k, "y"));
    return jwt::PublicKey::FromEcP256(x, y);
  }
  return InvalidArgument("key type '" + kty + "' is not supported");
}

class FileSource : public JwksSource {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  Result<std::string> Fetch() override {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return Unavailable("JWKS file " + path_ + " is missing");
    if (static_cast<size_t>(st.st_size) > kMaxJwksBytes) {
      return Unavailable("JWKS file " + path_ + " is too large");
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) return Unavailable("cannot read JWKS file " + path_);
    std::stringstream ss;
    ss << in.rdbuf();
    MutexLock lock(mu_);
    seen_ = Stamp(st);
    return ss.str();
  }

  bool Changed() override {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return false;  // keep the keys we have
    MutexLock lock(mu_);
    return Stamp(st) != seen_;
  }

  std::string Describe() const override { return "JWKS file " + path_; }

 private:
  using StampT = std::tuple<ino_t, off_t, time_t, long>;
  static StampT Stamp(const struct stat& st) {
    return {st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  }
  const std::string path_;
  Mutex mu_;  // Changed() runs while a Fetch() is in flight
  StampT seen_ IL_GUARDED_BY(mu_){};
};

class UrlSource : public JwksSource {
 public:
  UrlSource(std::string url, std::string target, std::unique_ptr<http::HttpClient> client)
      : url_(std::move(url)), target_(std::move(target)), client_(std::move(client)) {}

  Result<std::string> Fetch() override {
    http::ClientRequest req;
    req.method = "GET";
    req.target = target_;
    req.headers.Set("Accept", "application/json");
    auto resp = client_->Do(req);
    if (!resp.ok()) return Unavailable("JWKS URL " + url_ + ": " + resp.status().message());
    if (resp->status != 200) {
      return Unavailable("JWKS URL " + url_ + " answered HTTP " + std::to_string(resp->status));
    }
    return std::move(resp->body);
  }
  bool Changed() override { return false; }
  std::string Describe() const override { return "JWKS URL " + url_; }

 private:
  std::string url_, target_;
  std::unique_ptr<http::HttpClient> client_;
};

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1";
}

}  // namespace

Result<std::vector<Jwk>> ParseJwks(std::string_view json, std::vector<std::string>* skipped) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return InvalidArgument("JWKS is not a JSON object");
  const auto* keys = doc.as_object().if_contains("keys");
  if (!keys || !keys->is_array()) return InvalidArgument("JWKS has no 'keys' list");
  std::vector<Jwk> out;
  for (const auto& v : keys->as_array()) {
    if (!v.is_object()) continue;
    const auto& k = v.as_object();
    std::string kid = Str(k, "kid");
    std::string use = Str(k, "use");
    Result<jwt::PublicKey> key = use.empty() || use == "sig"
                                     ? KeyOf(k)
                                     : Result<jwt::PublicKey>(InvalidArgument("use '" + use + "'"));
    if (!key.ok()) {
      if (skipped) skipped->push_back("kid '" + kid + "': " + key.status().message());
      continue;
    }
    out.push_back(Jwk{std::move(kid), std::move(*key)});
  }
  return out;
}

std::unique_ptr<JwksSource> MakeJwksFileSource(std::string path) {
  return std::make_unique<FileSource>(std::move(path));
}

Result<std::unique_ptr<JwksSource>> MakeJwksUrlSource(const std::string& url,
                                                      const std::string& ca_file,
                                                      std::chrono::milliseconds timeout) {
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return InvalidArgument("JWKS URL must start with https:// (got '" + url + "')");
  }
  IL_ASSIGN_OR_RETURN(http::Endpoint ep, http::ParseEndpoint(url, https ? "443" : "80"));
  if (!https && !IsLoopbackHost(ep.host)) {
    return InvalidArgument("JWKS URL " + url +
                           " must use https:// (plain http is allowed only on loopback)");
  }
  size_t path_at = url.find('/', url.find("://") + 3);
  std::string target = path_at == std::string::npos ? "/" : url.substr(path_at);
  http::ClientOptions o;
  o.base_url = ep.ToString();
  o.tls.ca_file = ca_file;
  o.timeout = timeout;
  o.connect_timeout = timeout;
  o.max_body = kMaxJwksBytes;
  o.max_idle_connections = 1;
  IL_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(o));
  return std::unique_ptr<JwksSource>(
      std::make_unique<UrlSource>(url, std::move(target), std::move(client)));
}

JwksKeySet::JwksKeySet(std::unique_ptr<JwksSource> source, JwksOptions options,
                       std::shared_ptr<Clock> clock)
    : source_(std::move(source)), options_(options), clock_(std::move(clock)) {}

int JwksKeySet::fetches() const {
  MutexLock lock(mu_);
  return fetches_;
}

bool JwksKeySet::MayFetchLocked(std::chrono::system_clock::time_point now) const {
  return !last_attempt_ || now - *last_attempt_ >= options_.min_refresh_interval ||
         now < *last_attempt_;  // the clock went back: do not wait forever
}

void JwksKeySet::Load(std::chrono::system_clock::time_point now) {
  static log::RateLimiter limiter(std::chrono::seconds(30));
  fetching_ = true;
  last_attempt_ = now;
  ++fetches_;
  // The fetch runs without the lock: lookups of known kids go on with the keys we have.
  mu_.unlock();
  auto doc = source_->Fetch();
  std::vector<std::string> skipped;
  Result<std::vector<Jwk>> keys =
      doc.ok() ? ParseJwks(*doc, &skipped) : Result<std::vector<Jwk>>(doc.status());
  mu_.lock();
  fetching_ = false;
  fetched_.NotifyAll();
  if (!keys.ok()) {
    // Source errors name the source already; parse errors do not.
    last_error_ =
        Status(StatusCode::kUnavailable,
               doc.ok() ? Describe() + ": " + keys.status().message() : doc.status().message());
    if (limiter.Allow()) log::Logger("oidc")->warn("{}", last_error_.message());
    return;
  }
  for (const auto& s : skipped) log::Logger("oidc")->debug("{}: skipped {}", Describe(), s);
  keys_ = std::move(*keys);
  loaded_ = true;
  loaded_at_ = now;
  last_error_ = Status::Ok();
  log::Logger("oidc")->info("{}: {} signing key(s) loaded", Describe(), keys_.size());
}

std::vector<jwt::PublicKey> JwksKeySet::MatchLocked(std::string_view kid,
                                                    std::string_view alg) const {
  std::vector<jwt::PublicKey> out;
  for (const auto& k : keys_) {
    if (k.key.algorithm() != alg) continue;
    if (kid.empty() || k.kid == kid) out.push_back(k.key);
  }
  return out;
}

void JwksKeySet::RefreshLocked(std::chrono::system_clock::time_point now) {
  if (fetching_) {
    while (fetching_) fetched_.Wait(mu_);
  } else if (MayFetchLocked(now)) {
    Load(now);
  }
}

Result<std::vector<jwt::PublicKey>> JwksKeySet::Find(std::string_view kid, std::string_view alg) {
  MutexLock lock(mu_);
  const auto now = clock_->WallNow();
  if (!loaded_) {
    RefreshLocked(now);
    if (!loaded_) {
      return last_error_.ok() ? Unavailable(Describe() + " is not loaded yet") : last_error_;
    }
  } else if (!fetching_ && (source_->Changed() ||
                            (options_.max_age.count() > 0 && now - loaded_at_ >= options_.max_age &&
                             MayFetchLocked(now)))) {
    Load(now);  // on failure the keys we have stay in use
  }
  auto keys = MatchLocked(kid, alg);
  if (keys.empty()) {
    // Perhaps the IdP rotated its keys since we last looked.
    RefreshLocked(now);
    keys = MatchLocked(kid, alg);
  }
  if (!keys.empty()) return keys;
  if (!last_error_.ok()) return last_error_;
  // No source path or URL in the message: it may travel back to an unauthenticated client.
  return NotFound("no " + std::string(alg) + " key" +
                  (kid.empty() ? std::string() : " with kid '" + jwt::Printable(kid) + "'"));
}

}  // namespace il
