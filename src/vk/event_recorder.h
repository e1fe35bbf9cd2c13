// EventRecorder: posts core/v1 Events about pods ("Started", "ProviderCreateFailed",
// "FailedMount", "Killing", ...) from a background thread, so a slow or rate-limited API
// server never delays pod work. The queue is bounded: under overload events are dropped
// (and counted), never the pod work. Identical events for the same pod within a minute
// are sent once.
//
// Thread-safety: Record() is thread-safe; Start/Stop from the owner.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <thread>

#include "core/mutex.h"

namespace il::kube {
class KubeApi;
}

namespace il::vk {

struct EventRef {
  std::string ns, name, uid;
  std::string field_path;  // e.g. "spec.containers{web}"; empty = the pod itself
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // type: "Normal" or "Warning".
  virtual void Record(const EventRef& pod, const std::string& type, const std::string& reason,
                      const std::string& message) = 0;
};

// The Event object posted for one record (pure; for tests).
boost::json::object EventObject(const EventRef& pod, const std::string& type,
                                const std::string& reason, const std::string& message,
                                const std::string& node, std::chrono::system_clock::time_point now);

class EventRecorder : public EventSink {
 public:
  EventRecorder(kube::KubeApi& api, std::string node, size_t max_queue = 2000);
  ~EventRecorder() override;
  void Start();
  void Stop();
  void Record(const EventRef& pod, const std::string& type, const std::string& reason,
              const std::string& message) IL_EXCLUDES(mu_) override;
  uint64_t dropped() const { return dropped_; }

 private:
  void Run(const std::stop_token& stop) IL_EXCLUDES(mu_);

  kube::KubeApi& api_;
  const std::string node_;
  const size_t max_queue_;
  Mutex mu_;
  CondVar cv_;
  std::deque<boost::json::object> queue_ IL_GUARDED_BY(mu_);
  std::map<std::string, std::chrono::steady_clock::time_point> recent_ IL_GUARDED_BY(mu_);
  std::atomic<uint64_t> dropped_{0};
  std::jthread thread_;
};

}  // namespace il::vk
