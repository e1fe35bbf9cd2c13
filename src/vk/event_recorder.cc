#include "vk/event_recorder.h"

#include "api/bounded_name.h"
#include "api/k8s_validation.h"
#include "api/pod.h"
#include "core/log.h"
#include "kube/kube_api.h"
#include "kube/paths.h"

namespace il::vk {
namespace json = boost::json;

namespace {

// "<pod>.<hex nanos>" as client-go names events, but the API server checks event names as
// DNS-1123 subdomains (<= 253): a long pod name is bounded first, keeping the result a
// subdomain and distinct per pod (api/bounded_name.h).
std::string EventName(const std::string& pod, const std::string& suffix) {
  return api::BoundedName(pod, api::kDns1123SubdomainMaxLength - 1 - suffix.size()) + "." + suffix;
}

}  // namespace

json::object EventObject(const EventRef& pod, const std::string& type, const std::string& reason,
                         const std::string& message, const std::string& node,
                         std::chrono::system_clock::time_point now) {
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "%llx", static_cast<unsigned long long>(nanos));
  std::string ts = api::Rfc3339(now);
  json::object involved{{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"namespace", pod.ns},
                        {"name", pod.name},
                        {"uid", pod.uid}};
  if (!pod.field_path.empty()) involved["fieldPath"] = pod.field_path;
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", EventName(pod.name, suffix)}, {"namespace", pod.ns}}},
          {"involvedObject", std::move(involved)},
          {"reason", reason},
          {"message", message.substr(0, 1024)},
          {"type", type},
          {"source", {{"component", "virtual-kubelet"}, {"host", node}}},
          {"firstTimestamp", ts},
          {"lastTimestamp", ts},
          {"count", 1},
          {"reportingComponent", "interlink-vk"},
          {"reportingInstance", node}};
}

EventRecorder::EventRecorder(kube::KubeApi& api, std::string node, size_t max_queue)
    : api_(api), node_(std::move(node)), max_queue_(max_queue) {}

EventRecorder::~EventRecorder() { Stop(); }

void EventRecorder::Start() {
  thread_ = std::jthread([this](const std::stop_token& st) { Run(st); });
}

void EventRecorder::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.NotifyAll();
    thread_.join();
  }
}

void EventRecorder::Record(const EventRef& pod, const std::string& type, const std::string& reason,
                           const std::string& message) {
  auto now = std::chrono::steady_clock::now();
  MutexLock l(mu_);
  std::string key = pod.uid + "|" + pod.field_path + "|" + reason + "|" + message;
  if (auto it = recent_.find(key);
      it != recent_.end() && now - it->second < std::chrono::minutes(1)) {
    return;
  }
  if (recent_.size() > 10000) {
    for (auto it = recent_.begin(); it != recent_.end();) {
      it = now - it->second > std::chrono::minutes(1) ? recent_.erase(it) : std::next(it);
    }
  }
  recent_[key] = now;
  if (queue_.size() >= max_queue_) {
    ++dropped_;
    return;
  }
  queue_.push_back(
      EventObject(pod, type, reason, message, node_, std::chrono::system_clock::now()));
  cv_.NotifyOne();
}

void EventRecorder::Run(const std::stop_token& stop) {
  auto log = log::Logger("vk.events");
  log::RateLimiter limiter(std::chrono::seconds(30));
  log::RateLimiter drop_limiter(std::chrono::seconds(30));
  uint64_t reported_drops = 0;
  while (!stop.stop_requested()) {
    json::object ev;
    {
      MutexLock l(mu_);
      while (queue_.empty()) {
        if (!cv_.Wait(mu_, stop)) break;
      }
      if (queue_.empty()) continue;
      ev = std::move(queue_.front());
      queue_.pop_front();
    }
    std::string ns = api::GetString(ev, {"metadata", "namespace"});
    auto r = api_.Create(kube::EventsPath(ns), ev);
    if (!r.ok() && limiter.Allow()) log->warn("cannot post event: {}", r.status().ToString());
    if (uint64_t d = dropped_.load(); d > reported_drops && drop_limiter.Allow()) {
      log->warn(
          "dropped {} events since the last report: the queue of {} was full (the API "
          "server answers events more slowly than pods produce them)",
          d - reported_drops, max_queue_);
      reported_drops = d;
    }
  }
}

}  // namespace il::vk
