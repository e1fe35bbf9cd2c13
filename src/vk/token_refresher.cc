#include "vk/token_refresher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/base64.h"
#include "core/log.h"
#include "core/token_auth.h"

namespace il::vk {
namespace {

using std::chrono::seconds;

constexpr seconds kMinDelay{5};
constexpr seconds kMaxBackoff{300};
constexpr seconds kDefaultLifetime{300};  // when the IdP sends no expires_in

// application/x-www-form-urlencoded (RFC 6749 Appendix B): unreserved bytes kept,
// everything else %XX, space as '+'.
std::string FormEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

// A token goes into an HTTP header: visible ASCII only.
bool IsHeaderSafe(std::string_view token) {
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string Field(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return {};
  std::string s(v->as_string());
  if (s.size() > 200) s.resize(200);
  return s;
}

// expires_in: a number, or (some IdPs) a numeric string; 0 when absent or odd.
seconds ExpiresIn(const boost::json::object& o) {
  const auto* v = o.if_contains("expires_in");
  if (!v) return seconds(0);
  double d = 0;
  if (v->is_int64()) {
    d = static_cast<double>(v->as_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->as_uint64());
  } else if (v->is_double()) {
    d = v->as_double();
  } else if (v->is_string()) {
    d = std::strtod(std::string(v->as_string()).c_str(), nullptr);
  }
  if (!(d > 0) || d > 365.0 * 86400) return seconds(0);
  return seconds(static_cast<long long>(d));
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  std::string tmpl = path + ".XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());  // created 0600
  if (fd < 0) {
    return Unavailable("cannot create a temp file beside " + path + ": " + std::strerror(errno));
  }
  int err = ::fchmod(fd, 0600) == 0 ? 0 : errno;
  for (size_t done = 0; err == 0 && done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(name.data(), path.c_str()) != 0) err = errno;
  if (err == 0) return Status::Ok();
  ::unlink(name.data());
  return Unavailable("cannot write " + path + ": " + std::strerror(err));
}

seconds TokenRefresher::NextDelay(seconds expires_in, seconds refresh_before) {
  if (expires_in.count() <= 0) return kDefaultLifetime;
  seconds d = expires_in - refresh_before;
  if (d < expires_in / 2) d = expires_in / 2;  // short-lived tokens: renew at half-life
  return std::max(d, kMinDelay);
}

Result<std::unique_ptr<TokenRefresher>> TokenRefresher::Create(const OAuth2ClientConfig& config,
                                                               std::string token_file) {
  const std::string& url = config.token_url;
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return InvalidArgument("OAuth2.TokenURL must start with https://");
  }
  IL_ASSIGN_OR_RETURN(http::Endpoint ep, http::ParseEndpoint(url, https ? "443" : "80"));
  if (!https && !IsLoopbackHost(ep.host)) {
    return InvalidArgument("OAuth2.TokenURL " + url +
                           " must use https:// (the client secret is sent to it; plain http "
                           "is allowed only on loopback)");
  }
  if (token_file.empty()) return InvalidArgument("OAuth2 needs VKTokenFile");
  size_t path_at = url.find('/', url.find("://") + 3);
  std::string target = path_at == std::string::npos ? "/" : url.substr(path_at);
  http::ClientOptions o;
  o.base_url = ep.ToString();
  o.tls.ca_file = config.ca_file;
  o.timeout = std::chrono::seconds(30);
  o.max_body = 1u << 20;
  o.max_idle_connections = 1;
  IL_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(o));
  return std::unique_ptr<TokenRefresher>(
      new TokenRefresher(config, std::move(token_file), std::move(target), std::move(client)));
}

TokenRefresher::TokenRefresher(OAuth2ClientConfig config, std::string token_file,
                               std::string target, std::unique_ptr<http::HttpClient> client)
    : config_(std::move(config)),
      token_file_(std::move(token_file)),
      target_(std::move(target)),
      client_(std::move(client)) {}

TokenRefresher::~TokenRefresher() { Stop(); }

Result<seconds> TokenRefresher::RefreshOnce() {
  auto secret = TokenAuth::ReadTokenFile(config_.client_secret_file);
  if (!secret.ok()) {
    return Unavailable("OAuth2.ClientSecretFile " + config_.client_secret_file +
                       " is unreadable or empty");
  }
  http::ClientRequest req;
  req.method = "POST";
  req.target = target_;
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.headers.Set("Accept", "application/json");
  // RFC 6749 §2.3.1: id and secret are form-encoded before going into Basic.
  req.headers.Set("Authorization", "Basic " + Base64Encode(FormEncode(config_.client_id) + ":" +
                                                           FormEncode(*secret)));
  req.body = "grant_type=client_credentials";
  if (!config_.scope.empty()) req.body += "&scope=" + FormEncode(config_.scope);
  if (!config_.audience.empty()) req.body += "&audience=" + FormEncode(config_.audience);

  auto resp = client_->Do(req);
  if (!resp.ok()) {
    return Unavailable("token endpoint " + config_.token_url + ": " + resp.status().message());
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(resp->body, ec);
  const boost::json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
  if (resp->status != 200) {
    std::string why = o ? Field(*o, "error") : "";
    if (o && !Field(*o, "error_description").empty()) {
      why += " (" + Field(*o, "error_description") + ")";
    }
    std::string msg = "token endpoint " + config_.token_url + " answered HTTP " +
                      std::to_string(resp->status) + (why.empty() ? "" : ": " + why);
    // 400/401: our credentials or request are wrong; retrying will not help soon.
    if (resp->status == 400 || resp->status == 401 || resp->status == 403) {
      return Status(StatusCode::kPermissionDenied, msg);
    }
    return Unavailable(msg);
  }
  if (!o) return Unavailable("token endpoint " + config_.token_url + " answered non-JSON");
  std::string token = Field(*o, "access_token");
  if (const auto* t = o->if_contains("access_token"); t && t->is_string()) {
    token = std::string(t->as_string());  // Field() truncates for messages; not here
  }
  if (!IsHeaderSafe(token)) {
    return Unavailable("token endpoint " + config_.token_url + " sent no usable access_token");
  }
  std::string type = Field(*o, "token_type");
  std::transform(type.begin(), type.end(), type.begin(), ::tolower);
  if (!type.empty() && type != "bearer") {
    return Unavailable("token endpoint sent a token of type '" + type + "', not Bearer");
  }
  IL_RETURN_IF_ERROR(WriteFileAtomically(token_file_, token));
  seconds lifetime = ExpiresIn(*o);
  return NextDelay(lifetime, seconds(config_.refresh_before_seconds));
}

Status TokenRefresher::Start() {
  auto first = RefreshOnce();
  seconds delay = first.ok() ? *first : kMinDelay;
  auto log = log::Logger("vk.oauth2");
  if (first.ok()) {
    log->info("token for client {} written to {}; next refresh in {}s", config_.client_id,
              token_file_, delay.count());
  }
  {
    MutexLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, delay] { Loop(delay); });
  return first.ok() ? Status::Ok() : first.status();
}

void TokenRefresher::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void TokenRefresher::Loop(seconds delay) {
  auto log = log::Logger("vk.oauth2");
  seconds backoff = kMinDelay;
  while (true) {
    {
      MutexLock lock(mu_);
      const auto deadline = std::chrono::steady_clock::now() + delay;
      while (!stop_) {
        if (!cv_.WaitUntil(mu_, deadline)) break;
      }
      if (stop_) return;
    }
    auto next = RefreshOnce();
    if (next.ok()) {
      delay = *next;
      backoff = kMinDelay;
      log->debug("token refreshed; next refresh in {}s", delay.count());
    } else {
      delay = backoff;
      backoff = std::min(backoff * 2, kMaxBackoff);
      log->warn("token refresh failed (retry in {}s): {}", delay.count(), next.status().message());
    }
  }
}

}  // namespace il::vk
