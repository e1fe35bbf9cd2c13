// Temporary stubs; replaced by the real implementation files.
#include "kube/api_error.h"
#include "kube/kube_client.h"
#include "kube/kubeconfig.h"
#include "kube/rate_limiter.h"
#include "kube/watch_decoder.h"
#include "kube/watch_loop.h"

namespace il::kube {
namespace {
Status Todo() { return Status(StatusCode::kUnimplemented, "kube: not implemented yet"); }
}  // namespace

std::shared_ptr<Clock> RealClock() { return nullptr; }
RateLimiter::RateLimiter(double qps, int burst, std::shared_ptr<Clock> clock)
    : qps_(qps), burst_(burst), clock_(std::move(clock)), tokens_(burst) {}
void RateLimiter::Acquire() {}
bool RateLimiter::Acquire(const std::stop_token&) { return true; }
bool RateLimiter::TryAcquire() { return true; }

Result<ClusterConfig> LoadKubeconfig(const std::string&, const std::string&) { return Todo(); }
Result<ClusterConfig> ParseKubeconfig(const std::string&, const std::string&, const std::string&,
                                      const std::string&) { return Todo(); }
Result<ClusterConfig> InClusterConfig(const EnvLookup&, const std::string&) { return Todo(); }
Result<ClusterConfig> ResolveClusterConfig(const std::string&, const EnvLookup&,
                                           const std::string&) { return Todo(); }

StatusCode StatusCodeForApi(int, std::string_view) { return StatusCode::kInternal; }
Status StatusFromApiReply(int, std::string_view, std::string_view) { return Todo(); }
Status MakeApiStatus(int, std::string_view, std::string_view) { return Todo(); }
std::optional<ApiError> ApiErrorOf(const Status&) { return std::nullopt; }
bool IsNotFound(const Status&) { return false; }
bool IsGone(const Status&) { return false; }
bool IsAlreadyExists(const Status&) { return false; }
bool IsConflict(const Status&) { return false; }
bool IsTooManyRequests(const Status&) { return false; }

std::string_view PatchContentType(PatchType) { return "application/merge-patch+json"; }
std::string_view WatchEventTypeName(WatchEventType) { return "ADDED"; }
Result<boost::json::value> ListAll(KubeApi&, const std::string&, const ListOptions&) {
  return Todo();
}
Result<WatchEvent> ParseWatchEvent(std::string_view) { return Todo(); }
std::optional<Result<WatchEvent>> WatchDecoder::Next() { return std::nullopt; }
Status WatchLoop(KubeApi&, const std::string&, const WatchLoopOptions&, const WatchHandlers&,
                 std::stop_token) { return Todo(); }

class KubeClient::Impl {
 public:
  ClusterConfig cluster;
  RateLimiter limiter{50, 100};
};
Result<std::unique_ptr<KubeClient>> KubeClient::New(ClusterConfig, KubeClientOptions) {
  return Todo();
}
KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;
Result<boost::json::value> KubeClient::Get(const std::string&) { return Todo(); }
Result<boost::json::value> KubeClient::List(const std::string&, const ListOptions&) {
  return Todo();
}
Result<boost::json::value> KubeClient::Create(const std::string&, const boost::json::value&) {
  return Todo();
}
Result<boost::json::value> KubeClient::Update(const std::string&, const boost::json::value&) {
  return Todo();
}
Result<boost::json::value> KubeClient::Patch(const std::string&, PatchType,
                                             const boost::json::value&) { return Todo(); }
Result<boost::json::value> KubeClient::Delete(const std::string&, const DeleteOptions&) {
  return Todo();
}
Status KubeClient::Watch(const std::string&, const WatchParams&,
                         const std::function<bool(WatchEvent)>&, const std::stop_token&) {
  return Todo();
}
Result<boost::json::value> KubeClient::Request(const std::string&, const std::string&,
                                               const std::string&, const std::string&) {
  return Todo();
}
const ClusterConfig& KubeClient::cluster() const { return impl_->cluster; }
RateLimiter& KubeClient::rate_limiter() { return impl_->limiter; }
KubeClient::Stats KubeClient::stats() const { return {}; }

}  // namespace il::kube
