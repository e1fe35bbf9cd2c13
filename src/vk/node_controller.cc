#include "vk/node_controller.h"

#include "api/pod.h"
#include "core/log.h"
#include "kube/api_error.h"
#include "kube/paths.h"

namespace il::vk {
namespace json = boost::json;

namespace {
std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.node");
  return l;
}
constexpr char kLeaseNamespace[] = "kube-node-lease";
}  // namespace

std::string MicroTime(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string s = api::Rfc3339(secs);  // ...Z
  char frac[32];
  std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(us % 1000000));
  return s.substr(0, s.size() - 1) + frac + "Z";
}

NodeController::NodeController(kube::KubeApi& kube, InterlinkApi& interlink, VkConfig config)
    : kube_(kube),
      interlink_(interlink),
      config_(std::move(config)),
      capacity_bounds_(CapacityBounds(config_)) {
  state_.capacity = InitialCapacity(config_);
}

NodeController::~NodeController() { Stop(); }

NodeHealth NodeController::health() const {
  MutexLock l(mu_);
  return state_.health;
}
ResourceMap NodeController::capacity() const {
  MutexLock l(mu_);
  return state_.capacity;
}
std::string NodeController::node_uid() const {
  MutexLock l(mu_);
  return node_uid_;
}

Status NodeController::Register(std::chrono::seconds timeout, const std::stop_token& stop) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto backoff = std::chrono::milliseconds(200);
  while (true) {
    Status st = RegisterOnce();
    if (st.ok()) return st;
    if (timeout.count() > 0 && std::chrono::steady_clock::now() + backoff > deadline) {
      return st.WithContext("registering node " + config_.node_name);
    }
    Log()->warn("registering node {}: {} (retrying)", config_.node_name, st.ToString());
    {
      MutexLock l(wait_mu_);
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (!stop.stop_requested()) {
        if (!cv_.WaitUntil(wait_mu_, stop, until)) break;
      }
    }
    if (stop.stop_requested()) return Unavailable("stopped");
    backoff = std::min(backoff * 2, std::chrono::milliseconds(7000));
  }
}

Status NodeController::RegisterOnce() {
  MutexLock l(mu_);
  auto got = kube_.Get(kube::NodePath(config_.node_name));
  if (!got.ok() && !kube::IsNotFound(got.status())) return got.status();
  if (!got.ok()) {
    auto created = kube_.Create(kube::NodesPath(),
                                NodeObject(config_, state_, std::chrono::system_clock::now()));
    if (!created.ok()) return created.status();
    node_ = std::move(*created);
    node_uid_ = api::GetString(node_, {"metadata", "uid"});
    for (const auto& t : DesiredTaints(config_, state_)) managed_taint_keys_.push_back(t.key);
    Log()->info("created node {} (uid {})", config_.node_name, node_uid_);
    l.Unlock();
    return UpdateStatus(true);
  }
  node_ = std::move(*got);
  node_uid_ = api::GetString(node_, {"metadata", "uid"});
  IL_RETURN_IF_ERROR(UpdateMetadata(DesiredTaints(config_, state_), ""));
  Log()->info("node {} exists (uid {}); taking it over", config_.node_name, node_uid_);
  l.Unlock();
  return UpdateStatus(true);
}

Status NodeController::UpdateMetadata(const std::vector<Taint>& taints, const std::string& body) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto* cur = api::Find(node_, {"spec", "taints"});
    static const json::array kNone;
    json::array merged =
        MergeTaints(cur && cur->is_array() ? cur->as_array() : kNone, taints, managed_taint_keys_);
    json::object labels;
    for (const auto& [k, v] : NodeLabels(config_)) labels[k] = v;
    json::object md{{"labels", labels},
                    {"annotations", {{kPingAnnotation, body}}},
                    {"resourceVersion", api::GetString(node_, {"metadata", "resourceVersion"})}};
    auto res = kube_.Patch(kube::NodePath(config_.node_name), kube::PatchType::kMerge,
                           json::object{{"metadata", md}, {"spec", {{"taints", merged}}}});
    if (res.ok()) {
      node_ = std::move(*res);
      managed_taint_keys_.clear();
      for (const auto& t : taints) managed_taint_keys_.push_back(t.key);
      annotated_ping_body_ = body;
      return Status::Ok();
    }
    if (!kube::IsConflict(res.status())) return res.status();
    auto fresh = kube_.Get(kube::NodePath(config_.node_name));
    if (!fresh.ok()) return fresh.status();
    node_ = std::move(*fresh);
  }
  return Unavailable("node metadata update kept conflicting");
}

Status NodeController::UpdateStatus(bool force) {
  MutexLock l(mu_);
  if (node_uid_.empty()) return FailedPrecondition("node not registered yet");
  auto now = std::chrono::system_clock::now();
  static const json::array kNone;
  const auto* prev = api::Find(node_, {"status", "conditions"});
  json::object status =
      NodeStatusJson(config_, state_, prev && prev->is_array() ? prev->as_array() : kNone, now);
  json::value fp = StatusFingerprint(status);
  auto since = std::chrono::steady_clock::now() - last_status_patch_;
  if (!force && fp == last_fingerprint_ && since < std::chrono::seconds(60)) return Status::Ok();
  // Resources we no longer have must be removed explicitly in a strategic merge patch.
  if (const auto* cap = api::Find(node_, {"status", "capacity"}); cap && cap->is_object()) {
    for (const auto& [k, v] : cap->as_object()) {
      if (!state_.capacity.count(std::string(k))) {
        status["capacity"].as_object()[k] = nullptr;
        status["allocatable"].as_object()[k] = nullptr;
      }
    }
  }
  auto res = kube_.Patch(kube::NodeStatusPath(config_.node_name), kube::PatchType::kStrategicMerge,
                         json::object{{"status", status}});
  if (!res.ok()) {
    if (kube::IsNotFound(res.status())) {
      node_uid_.clear();  // deleted behind our back: the heartbeat loop registers again
      lease_ = nullptr;
    }
    return res.status().WithContext("PATCH node status");
  }
  node_ = std::move(*res);
  last_fingerprint_ = std::move(fp);
  last_status_patch_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

void NodeController::PingOnce() {
  PingResult res = interlink_.Ping();
  NodeHealth h = HealthFromPing(res.http_status, res.status, res.body);
  bool meta_changed = false;
  std::vector<Taint> taints;
  std::string body;
  {
    MutexLock l(mu_);
    if (h.ok != state_.health.ok || h.reason != state_.health.reason || !state_.health.pinged) {
      if (h.ok) {
        Log()->info("interLink ping ok: node {} Ready", config_.node_name);
      } else {
        Log()->warn("interLink ping failed: node {} NotReady: {}", config_.node_name, h.message);
      }
    }
    state_.health = h;
    std::vector<std::string> warnings;
    bool taints_before = state_.has_ping_taints;
    auto old_taints = state_.ping_taints;
    if (res.response) ApplyPing(*res.response, capacity_bounds_, &state_, &warnings);
    // A plugin sends the same bad value on every ping: say so when it starts, not each time.
    if (warnings != last_ping_warnings_) {
      for (const auto& w : warnings) Log()->warn("{}", w);
      last_ping_warnings_ = std::move(warnings);
    }
    state_.ping_body = h.ok ? res.body : "";
    taints = DesiredTaints(config_, state_);
    body = state_.ping_body;
    meta_changed =
        !node_uid_.empty() && (taints_before != state_.has_ping_taints ||
                               old_taints != state_.ping_taints || body != annotated_ping_body_);
    if (meta_changed) {
      Status st = UpdateMetadata(taints, body);
      if (!st.ok()) Log()->warn("updating node taints/annotations: {}", st.ToString());
    }
  }
  Status st = UpdateStatus(false);
  if (!st.ok()) Log()->warn("{}", st.ToString());
}

json::object NodeController::LeaseObject(std::chrono::system_clock::time_point now) const {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata",
           {{"name", config_.node_name},
            {"namespace", kLeaseNamespace},
            {"ownerReferences", json::array{json::object{{"apiVersion", "v1"},
                                                         {"kind", "Node"},
                                                         {"name", config_.node_name},
                                                         {"uid", node_uid_}}}}}},
          {"spec",
           {{"holderIdentity", config_.node_name},
            {"leaseDurationSeconds", config_.lease_duration_seconds},
            {"renewTime", MicroTime(now)}}}};
}

Status NodeController::RenewLease() {
  MutexLock l(mu_);
  if (node_uid_.empty()) return FailedPrecondition("node not registered yet");
  const std::string path = kube::LeasePath(kLeaseNamespace, config_.node_name);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto now = std::chrono::system_clock::now();
    if (lease_.is_null()) {
      auto got = kube_.Get(path);
      if (got.ok()) {
        lease_ = std::move(*got);
      } else if (kube::IsNotFound(got.status())) {
        auto created = kube_.Create(kube::LeasesPath(kLeaseNamespace), LeaseObject(now));
        if (created.ok()) {
          lease_ = std::move(*created);
          return Status::Ok();
        }
        if (!kube::IsAlreadyExists(created.status())) return created.status();
        continue;
      } else {
        return got.status();
      }
    }
    json::object obj = LeaseObject(now);
    obj["metadata"].as_object()["resourceVersion"] =
        api::GetString(lease_, {"metadata", "resourceVersion"});
    auto upd = kube_.Update(path, obj);
    if (upd.ok()) {
      lease_ = std::move(*upd);
      return Status::Ok();
    }
    lease_ = nullptr;  // re-read on conflict or any other failure
    if (!kube::IsConflict(upd.status()) && !kube::IsNotFound(upd.status())) return upd.status();
  }
  return Unavailable("lease renewal kept conflicting");
}

void NodeController::PingSoon() {
  MutexLock l(wait_mu_);
  ping_now_ = true;
  cv_.NotifyAll();
}

void NodeController::Start() {
  threads_.emplace_back([this](const std::stop_token& st) { PingLoop(st); });
  threads_.emplace_back([this](const std::stop_token& st) { HeartbeatLoop(st); });
}

void NodeController::Stop() {
  for (auto& t : threads_) t.request_stop();
  {
    MutexLock l(wait_mu_);
    cv_.NotifyAll();
  }
  threads_.clear();
}

void NodeController::PingLoop(const std::stop_token& stop) {
  auto min_gap = std::chrono::seconds(1);
  while (!stop.stop_requested()) {
    PingOnce();
    auto next =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.ping_interval_seconds);
    MutexLock l(wait_mu_);
    while (!ping_now_) {
      if (!cv_.WaitUntil(wait_mu_, stop, next)) break;
    }
    if (ping_now_.exchange(false)) {
      const auto until = std::chrono::steady_clock::now() + min_gap;
      while (!stop.stop_requested()) {
        if (!cv_.WaitUntil(wait_mu_, stop, until)) break;
      }
    }
  }
}

void NodeController::HeartbeatLoop(const std::stop_token& stop) {
  log::RateLimiter limiter(std::chrono::seconds(30));
  auto interval = std::chrono::milliseconds(config_.lease_duration_seconds * 1000 / 4);
  while (!stop.stop_requested()) {
    if (node_uid().empty()) {
      Status st = RegisterOnce();
      if (!st.ok() && limiter.Allow()) Log()->warn("re-registering node: {}", st.ToString());
    }
    Status st = RenewLease();
    if (!st.ok() && limiter.Allow()) Log()->warn("lease renewal: {}", st.ToString());
    st = UpdateStatus(false);
    if (!st.ok() && limiter.Allow()) Log()->warn("{}", st.ToString());
    MutexLock l(wait_mu_);
    const auto until =
        std::chrono::steady_clock::now() + std::min(interval, std::chrono::milliseconds(10000));
    while (!stop.stop_requested()) {
      if (!cv_.WaitUntil(wait_mu_, stop, until)) break;
    }
  }
}

}  // namespace il::vk
