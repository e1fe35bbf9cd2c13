#include "kube/kube_client.h"

#include <boost/json.hpp>

#include "core/http_client.h"
#include "core/log.h"
#include "kube/api_error.h"
#include "kube/bearer_token.h"
#include "kube/paths.h"
#include "kube/watch_decoder.h"

namespace il::kube {
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

constexpr size_t kMaxErrorBody = size_t{64} * 1024;
constexpr milliseconds kMaxRetryAfter{30000};

// Splits "https://h:6443/prefix" into base URL and path prefix.
void SplitServer(const std::string& server, std::string* base, std::string* prefix) {
  auto scheme_end = server.find("://");
  auto slash = server.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  *base = server.substr(0, slash);
  *prefix = slash == std::string::npos ? "" : server.substr(slash);
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
}

bool Retryable(const std::string& method, int http_status) {
  if (http_status == 429) return true;
  if (method == "POST") return http_status == 503;
  return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

std::optional<milliseconds> RetryAfter(const http::Headers& h) {
  std::string v = h.Get("retry-after");
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::min<milliseconds>(milliseconds(std::stoll(v) * 1000), kMaxRetryAfter);
}

Result<json::value> ParseBody(const std::string& what, const std::string& body) {
  if (body.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Status(StatusCode::kBadGateway, what + ": reply is not JSON: " + ec.message());
  return v;
}

}  // namespace

class KubeClient::Impl {
 public:
  ClusterConfig cluster;
  KubeClientOptions opt;
  std::shared_ptr<Clock> clock;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<BearerToken> token;
  std::string prefix;
  std::shared_ptr<spdlog::logger> log = log::Logger("kube.client");
  log::RateLimiter retry_log{std::chrono::seconds(5)};
  std::atomic<uint64_t> requests{0}, retries{0}, watch_events{0};

  http::ClientRequest Build(const std::string& method, const std::string& target,
                            const std::string& body, const std::string& content_type) {
    http::ClientRequest req;
    req.method = method;
    req.target = prefix + target;
    req.body = body;
    req.headers.Set("accept", "application/json");
    if (!body.empty()) req.headers.Set("content-type", content_type);
    std::string t = token->Get();
    if (!t.empty()) req.headers.Set("authorization", "Bearer " + t);
    return req;
  }

  milliseconds Backoff(int attempt) const {
    auto d = opt.initial_backoff * (1LL << std::min(attempt, 20));
    return std::min<milliseconds>(d, opt.max_backoff);
  }

  void LogRetry(const std::string& what, const std::string& why, milliseconds delay) {
    int suppressed = 0;
    if (retry_log.Allow(&suppressed)) {
      log->warn("{}: {}; retrying in {}ms ({} similar messages suppressed)", what, why,
                delay.count(), suppressed);
    }
  }

  Result<json::value> Do(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& content_type) {
    std::string what = method + " " + target;
    bool reauthed = false;
    for (int attempt = 0;; ++attempt) {
      limiter->Acquire();
      ++requests;
      if (attempt > 0) ++retries;
      auto reply = http->Do(Build(method, target, body, content_type));
      bool last = attempt >= opt.max_retries;
      if (!reply.ok()) {
        Status err = reply.status().WithContext(what);
        if (last || method == "POST") return err;
        auto delay = Backoff(attempt);
        LogRetry(what, err.message(), delay);
        clock->SleepFor(delay);
        continue;
      }
      int code = reply->status;
      if (code >= 200 && code < 300) return ParseBody(what, reply->body);
      if (code == 401 && !reauthed && token->ForceReload()) {
        reauthed = true;  // the token file rotated under us: one more try with the new one
        continue;
      }
      if (last || !Retryable(method, code)) {
        return StatusFromApiReply(code, std::string_view(reply->body).substr(0, kMaxErrorBody),
                                  what);
      }
      auto delay = RetryAfter(reply->headers).value_or(Backoff(attempt));
      LogRetry(what, "HTTP " + std::to_string(code), delay);
      clock->SleepFor(delay);
    }
  }

  Status Watch(const std::string& path, const WatchParams& p,
               const std::function<bool(WatchEvent)>& on_event, const std::stop_token& stop) {
    std::string target = WithQuery(
        path, {{"watch", "1"},
               {"resourceVersion", p.resource_version},
               {"labelSelector", p.label_selector},
               {"fieldSelector", p.field_selector},
               {"allowWatchBookmarks", p.allow_bookmarks ? "true" : ""},
               {"timeoutSeconds", p.timeout_seconds > 0 ? std::to_string(p.timeout_seconds) : ""}});
    if (!limiter->Acquire(stop)) return Status::Ok();
    ++requests;
    auto req = Build("GET", target, "", "");
    // The server ends the watch after timeoutSeconds; silence well past that means a dead peer.
    req.timeout =
        p.timeout_seconds > 0 ? milliseconds((p.timeout_seconds + 60) * 1000LL) : milliseconds(0);
    WatchDecoder decoder;
    int http_status = 0;
    std::string error_body;
    Status failure;
    bool consumer_done = false;
    auto drain = [&]() -> bool {
      while (auto next = decoder.Next()) {
        if (!next->ok()) {
          failure = next->status().WithContext("WATCH " + path);
          return false;
        }
        ++watch_events;
        if (!on_event(std::move(*next).value())) {
          consumer_done = true;
          return false;
        }
      }
      return true;
    };
    auto result = http->Stream(
        req,
        [&](int status, const http::Headers&) {
          http_status = status;
          return true;
        },
        [&](std::string_view chunk) {
          if (http_status < 200 || http_status >= 300) {
            if (error_body.size() < kMaxErrorBody) error_body.append(chunk);
            return true;
          }
          decoder.Feed(chunk);
          return drain() && !stop.stop_requested();
        },
        [&] { return stop.stop_requested(); });
    if (stop.stop_requested()) return Status::Ok();
    if (!result.ok()) return result.status().WithContext("WATCH " + path);
    if (http_status < 200 || http_status >= 300) {
      return StatusFromApiReply(http_status, error_body, "WATCH " + path);
    }
    if (!failure.ok() || consumer_done) return failure;
    if (decoder.pending() > 0) {  // a last event without its newline
      decoder.Feed("\n");
      (void)drain();
    }
    return failure;
  }
};

Result<std::unique_ptr<KubeClient>> KubeClient::New(ClusterConfig cluster,
                                                    const KubeClientOptions& options) {
  if (cluster.server.empty()) return InvalidArgument("kube client: no API server URL");
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : RealClock();
  impl->limiter = std::make_unique<RateLimiter>(cluster.qps, cluster.burst, impl->clock);
  IL_ASSIGN_OR_RETURN(impl->token, BearerToken::New(cluster.token, cluster.token_file,
                                                    options.token_reload_interval, impl->clock));
  http::ClientOptions ho;
  SplitServer(cluster.server, &ho.base_url, &impl->prefix);
  ho.tls = cluster.tls;
  ho.connect_timeout = options.connect_timeout;
  ho.timeout = options.request_timeout;
  ho.max_idle_connections = options.max_idle_connections;
  if (!cluster.user_agent.empty()) ho.user_agent = cluster.user_agent;
  auto client = http::HttpClient::Create(ho);
  if (!client.ok()) return client.status().WithContext("kube client for " + cluster.server);
  impl->http = std::move(client).value();
  impl->cluster = std::move(cluster);
  impl->opt = options;
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(impl)));
}

KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;

Result<json::value> KubeClient::Get(const std::string& path) {
  return impl_->Do("GET", path, "", "");
}

Result<json::value> KubeClient::List(const std::string& path, const ListOptions& o) {
  return impl_->Do("GET",
                   WithQuery(path, {{"labelSelector", o.label_selector},
                                    {"fieldSelector", o.field_selector},
                                    {"resourceVersion", o.resource_version},
                                    {"limit", o.limit > 0 ? std::to_string(o.limit) : ""},
                                    {"continue", o.continue_token}}),
                   "", "");
}

Result<json::value> KubeClient::Create(const std::string& path, const json::value& object) {
  return impl_->Do("POST", path, json::serialize(object), "application/json");
}

Result<json::value> KubeClient::Update(const std::string& path, const json::value& object) {
  return impl_->Do("PUT", path, json::serialize(object), "application/json");
}

Result<json::value> KubeClient::Patch(const std::string& path, PatchType type,
                                      const json::value& patch) {
  return impl_->Do("PATCH", path, json::serialize(patch), std::string(PatchContentType(type)));
}

Result<json::value> KubeClient::Delete(const std::string& path, const DeleteOptions& o) {
  json::object body{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.precondition_uid.empty() || !o.precondition_resource_version.empty()) {
    json::object pre;
    if (!o.precondition_uid.empty()) pre["uid"] = o.precondition_uid;
    if (!o.precondition_resource_version.empty()) {
      pre["resourceVersion"] = o.precondition_resource_version;
    }
    body["preconditions"] = std::move(pre);
  }
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  return impl_->Do("DELETE", path, json::serialize(body), "application/json");
}

Status KubeClient::Watch(const std::string& path, const WatchParams& params,
                         const std::function<bool(WatchEvent)>& on_event,
                         const std::stop_token& stop) {
  return impl_->Watch(path, params, on_event, stop);
}

Result<json::value> KubeClient::Request(const std::string& method, const std::string& target,
                                        const std::string& body, const std::string& content_type) {
  return impl_->Do(method, target, body, content_type);
}

const ClusterConfig& KubeClient::cluster() const { return impl_->cluster; }
RateLimiter& KubeClient::rate_limiter() { return *impl_->limiter; }

KubeClient::Stats KubeClient::stats() const {
  return {impl_->requests.load(), impl_->retries.load(), impl_->watch_events.load()};
}

}  // namespace il::kube
