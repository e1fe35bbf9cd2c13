// KubeClient: the KubeApi over HTTP(S) to a real API server (il::http::HttpClient: TLS,
// mTLS, keep-alive, streaming).
//
// Every request, and every watch connect, first takes a token from the client-side rate
// limiter (ClusterConfig::qps / burst). 429 and 5xx replies and connection failures are
// retried with exponential backoff (honouring Retry-After) up to `max_retries` times; a
// POST is retried only when the server cannot have acted on it (429, 503), never after a
// transport error. A 401 with a token file re-reads the file and retries once.
// The bearer token comes from ClusterConfig::token_file (re-read when it changes, at most
// every `token_reload_interval`) or ClusterConfig::token; it is never logged.
//
// Thread-safety: all methods are thread-safe; share one KubeClient per process.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "kube/kube_api.h"
#include "kube/kubeconfig.h"
#include "kube/rate_limiter.h"

namespace il::http {
class HttpClient;
}

namespace il::kube {

struct KubeClientOptions {
  // Whole-request deadline of a non-watch request.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{5000};
  // Retries after the first attempt for 429 / 5xx / connection errors.
  int max_retries = 4;
  std::chrono::milliseconds initial_backoff{200};  // doubles per retry
  std::chrono::milliseconds max_backoff{5000};
  // How often the token file's modification time is checked.
  std::chrono::milliseconds token_reload_interval{10000};
  size_t max_idle_connections = 64;
  // Time seam for backoff sleeps and the rate limiter; null = RealClock().
  std::shared_ptr<Clock> clock;
};

class KubeClient : public KubeApi {
 public:
  // Validates the config (server URL, TLS material, readable token file). No I/O to the
  // server happens here.
  static Result<std::unique_ptr<KubeClient>> New(ClusterConfig cluster,
                                                 const KubeClientOptions& options = {});
  ~KubeClient() override;
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  Result<boost::json::value> Get(const std::string& path) override;
  Result<boost::json::value> List(const std::string& path,
                                  const ListOptions& options = {}) override;
  Result<boost::json::value> Create(const std::string& path,
                                    const boost::json::value& object) override;
  Result<boost::json::value> Update(const std::string& path,
                                    const boost::json::value& object) override;
  Result<boost::json::value> Patch(const std::string& path, PatchType type,
                                   const boost::json::value& patch) override;
  Result<boost::json::value> Delete(const std::string& path,
                                    const DeleteOptions& options = {}) override;
  Status Watch(const std::string& path, const WatchParams& params,
               const std::function<bool(WatchEvent)>& on_event,
               const std::stop_token& stop) override;

  // Any other request: `target` is path plus query. The reply body is parsed as JSON
  // (an empty body gives a null value). Same rate limit, auth and retries as above.
  Result<boost::json::value> Request(const std::string& method, const std::string& target,
                                     const std::string& body = "",
                                     const std::string& content_type = "application/json");

  const ClusterConfig& cluster() const;
  RateLimiter& rate_limiter();

  struct Stats {
    uint64_t requests = 0;      // HTTP attempts sent, retries and watch connects included
    uint64_t retries = 0;       // attempts that were retries
    uint64_t watch_events = 0;  // events decoded from watch streams
  };
  Stats stats() const;

 private:
  class Impl;
  explicit KubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace il::kube
