// PodController: threads, watch handling, the batched status loop and start-up adoption.
// The per-pod steps live in pod_sync.cc.
#include "vk/pod_controller.h"

#include <time.h>

#include <set>

#include "api/pod.h"
#include "core/log.h"
#include "kube/paths.h"
#include "kube/watch_loop.h"

namespace il::vk {
namespace json = boost::json;

namespace {
// Grace sent for a pod deleted from the backend after it left Kubernetes (the kubelet's
// minimumGracePeriodInSeconds).
constexpr int kOrphanGraceSeconds = 2;

std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.pods");
  return l;
}
// CPU time of the calling thread (the status loop does its HTTP I/O itself).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

bool IsTransient(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

PodControllerOptions PodControllerOptionsFrom(const VkConfig& cfg) {
  PodControllerOptions po;
  po.node_name = cfg.node_name;
  po.host_ip = cfg.internal_ip;
  po.workers = cfg.pod_sync_workers;
  po.status_interval = std::chrono::milliseconds(cfg.status_sync_interval_ms);
  po.status_watch = cfg.status_safety_interval_ms > 0;
  po.status_safety_interval = std::chrono::milliseconds(cfg.status_safety_interval_ms);
  po.watch_min_interval = std::chrono::milliseconds(cfg.status_watch_min_interval_ms);
  po.create.disable_projected_volumes = cfg.disable_projected_volumes;
  po.create.kube_root_ca = cfg.kubernetes_api_ca_crt;
  po.create.jobscript_url = cfg.job_script_builder_url;
  po.create.env.host_ip = cfg.internal_ip;
  po.create.env.kubernetes_api_addr = cfg.kubernetes_api_addr;
  po.create.env.kubernetes_api_port = cfg.kubernetes_api_port;
  return po;
}

PodController::PodController(kube::KubeApi& kube, InterlinkApi& interlink, ObjectSource& objects,
                             EventSink& events, StateFile& state, PodControllerOptions options)
    : kube_(kube),
      interlink_(interlink),
      objects_(objects),
      events_(events),
      state_(state),
      opt_(std::move(options)),
      queue_(WorkQueue::Options{std::chrono::milliseconds(200), std::chrono::seconds(30)}) {}

PodController::~PodController() { Stop(); }

void PodController::Start() {
  threads_.emplace_back([this](std::stop_token st) { WatchLoopThread(std::move(st)); });
  threads_.emplace_back([this](const std::stop_token& st) { StatusLoop(st); });
  if (opt_.status_watch) {
    threads_.emplace_back([this](const std::stop_token& st) { WatchLoop(st); });
  }
  for (int i = 0; i < std::max(1, opt_.workers); ++i) {
    threads_.emplace_back([this](const std::stop_token& st) { WorkerLoop(st); });
  }
}

void PodController::Stop() {
  for (auto& t : threads_) t.request_stop();
  queue_.ShutDown();
  cv_.NotifyAll();
  threads_.clear();  // joins
}

void PodController::OnSync(const std::vector<json::value>& items) {
  std::set<std::string> seen;
  for (const auto& pod : items) {
    std::string uid = api::PodUid(pod);
    if (uid.empty()) continue;
    seen.insert(uid);
    store_.Upsert(pod);
    queue_.Add(uid);
  }
  for (const auto& uid : store_.Uids()) {
    if (seen.count(uid)) continue;
    store_.MarkDeleted(uid);
    queue_.Add(uid);
  }
  if (!synced_.exchange(true)) {
    Log()->info("initial list: {} pods bound to node {}", items.size(), opt_.node_name);
    // Under mu_: a waiter that has just seen synced_ false is then already waiting, so
    // the notification cannot fall between its check and its wait (a lost wakeup).
    MutexLock l(mu_);
    cv_.NotifyAll();
  }
}

void PodController::OnEvent(kube::WatchEventType type, const json::value& pod) {
  std::string uid = api::PodUid(pod);
  if (uid.empty()) return;
  if (type == kube::WatchEventType::kDeleted) {
    store_.MarkDeleted(uid);
    queue_.Add(uid);
  } else if (store_.Upsert(pod)) {
    queue_.Add(uid);
  }
}

void PodController::WatchLoopThread(std::stop_token stop) {
  kube::WatchLoopOptions wo;
  wo.field_selector = "spec.nodeName=" + opt_.node_name;
  kube::WatchHandlers h;
  h.on_sync = [this](const std::vector<json::value>& items, const std::string&) { OnSync(items); };
  h.on_event = [this](kube::WatchEventType t, const json::value& o) { OnEvent(t, o); };
  log::RateLimiter limiter(std::chrono::seconds(30));
  h.on_error = [&](const Status& e) {
    if (limiter.Allow()) Log()->warn("pod watch: {}", e.ToString());
  };
  Status st = kube::WatchLoop(kube_, kube::PodsPath(""), wo, h, std::move(stop));
  if (!st.ok()) Log()->error("pod watch ended: {}", st.ToString());
}

void PodController::WorkerLoop(const std::stop_token& stop) {
  while (auto key = queue_.Get(stop)) {
    Status st = Reconcile(*key);
    if (st.ok()) {
      queue_.Forget(*key);
    } else {
      auto delay = queue_.AddRateLimited(*key);
      Log()->debug("pod {}: {} (retry in {} ms)", *key, st.ToString(), delay.count());
    }
    queue_.Done(*key);
  }
}

void PodController::StatusLoop(const std::stop_token& stop) {
  {
    MutexLock l(mu_);
    while (!synced_) {
      if (!cv_.Wait(mu_, stop)) break;
    }
  }
  auto backoff = std::chrono::milliseconds(500);
  log::RateLimiter limiter(std::chrono::seconds(30));
  while (!stop.stop_requested() && !adopted_) {
    Status st = Adopt();
    if (st.ok()) break;
    if (limiter.Allow())
      Log()->warn("waiting for interLink to adopt running pods: {}", st.ToString());
    MutexLock l(mu_);
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (!stop.stop_requested()) {
      if (!cv_.WaitUntil(mu_, stop, until)) break;
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
  double cpu_avg = 0;  // seconds of CPU per round, smoothed
  while (!stop.stop_requested()) {
    auto start = std::chrono::steady_clock::now();
    double cpu0 = ThreadCpuSeconds();
    Status st = SyncStatuses();
    if (!st.ok() && limiter.Allow()) Log()->warn("status sync: {}", st.ToString());
    cpu_avg = 0.7 * cpu_avg + 0.3 * (ThreadCpuSeconds() - cpu0);
    const auto cpu_wait = std::max<std::chrono::milliseconds>(
        opt_.status_interval,
        std::chrono::milliseconds(static_cast<int64_t>(cpu_avg / opt_.status_cpu_budget * 1000)));
    MutexLock l(mu_);
    while (!stop.stop_requested() && !full_sync_due_.exchange(false)) {
      // Re-read each time: the watch may start or stop working while we wait.
      const auto wait =
          watching_ ? std::max<std::chrono::milliseconds>(opt_.status_safety_interval, cpu_wait)
                    : cpu_wait;
      if (!cv_.WaitUntil(mu_, stop, start + wait)) break;
    }
  }
}

Status PodController::SyncStatuses() {
  const uint64_t round = ++status_round_;
  size_t count = 0;
  std::string body = store_.BeginStatusRound(round, &count);
  if (count == 0) return Status::Ok();
  ++stats_.status_calls;
  auto reply = interlink_.GetStatusText(body);
  if (!reply.ok()) {
    ++stats_.status_call_failures;
    if (on_interlink_error_) on_interlink_error_();
    return reply.status();
  }
  auto now = std::chrono::steady_clock::now();
  size_t malformed = 0;
  auto changed = store_.ApplyReportsText(*reply, now, round, &malformed);
  if (!changed.ok()) {
    ++stats_.status_call_failures;
    return Status(StatusCode::kBadGateway, "interLink /status: " + changed.status().message());
  }
  // A status to report goes before the creates and deletes waiting in the queue (as a
  // kubelet's status manager writes statuses beside its pod workers): under a burst its
  // latency is then one PATCH, not the whole backlog.
  for (const auto& uid : *changed) queue_.AddUrgent(uid);
  if (malformed) Log()->warn("interLink /status: {} malformed entries ignored", malformed);
  for (const auto& uid : store_.MarkMissing(round, now, opt_.lost_grace)) {
    Log()->warn("pod {}: the backend no longer reports it; marking it lost", uid);
    queue_.AddUrgent(uid);
  }
  return Status::Ok();
}

Status PodController::DeleteOrphan(const std::string& uid, const std::string& ns,
                                   const std::string& name) {
  json::object pod{{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}}},
                   // Gone from Kubernetes (force-deleted, or deleted while the vk was
                   // down): nobody waits for a graceful stop any more. The kubelet's
                   // minimum grace, not the 30 s default a pod without a spec would get.
                   {"spec",
                    {{"nodeName", opt_.node_name},
                     {"terminationGracePeriodSeconds", kOrphanGraceSeconds},
                     {"containers", json::array{}}}}};
  Status st = interlink_.Delete(pod);
  if (st.ok() || st.code() == StatusCode::kNotFound) {
    Log()->info("deleted {}/{} ({}) from the backend: it no longer exists in Kubernetes", ns, name,
                uid);
    ++stats_.orphans_deleted;
    state_.Remove(uid);
    return Status::Ok();
  }
  return st;
}

Status PodController::ReconcileOrphan(const std::string& uid) {
  OrphanRef ref;
  {
    MutexLock l(orphans_mu_);
    auto it = orphans_.find(uid);
    if (it == orphans_.end()) return Status::Ok();
    ref = it->second;
  }
  IL_RETURN_IF_ERROR(DeleteOrphan(uid, ref.ns, ref.name));
  MutexLock l(orphans_mu_);
  orphans_.erase(uid);
  return Status::Ok();
}

Status PodController::Adopt() {
  // 1. Which listed pods does the backend already run? One batched call.
  std::vector<std::string> uids;
  for (const auto& uid : store_.Uids()) {
    auto r = store_.Get(uid);
    if (r && r->backend == BackendState::kNone) uids.push_back(uid);
  }
  std::set<std::string> known;
  if (!uids.empty()) {
    auto reports = interlink_.GetStatus(store_.StatusQuery(uids));
    if (!reports.ok()) return reports.status();
    auto now = std::chrono::steady_clock::now();
    for (const auto& rep : *reports) known.insert(rep.uid);
    store_.ApplyReports(*reports, now);
    for (const auto& uid : uids) {
      store_.Update(uid, [&](PodRecord& r) {
        // A JobID annotation means it was sent before; the backend's list is the proof.
        if (known.count(uid) || !r.job_id.empty()) {
          r.backend = BackendState::kCreated;
          r.sent_at = now;
          r.full.clear();
          r.full.shrink_to_fit();
          ++stats_.adopted;
        }
      });
      queue_.Add(uid);
    }
  }
  // 2. Pods the backend (or our journal) knows that Kubernetes no longer has.
  std::set<std::string> in_api;
  for (const auto& uid : store_.Uids()) {
    if (auto r = store_.Get(uid); r && !r->api_deleted) in_api.insert(uid);
  }
  // They are deleted by the work queue once adoption is done, concurrently and with
  // retries, so a slow backend delete never holds up the node's other pods.
  std::map<std::string, OrphanRef> orphans;
  if (auto all = interlink_.GetStatus({}); all.ok()) {
    for (const auto& rep : *all) {
      if (!rep.uid.empty() && !in_api.count(rep.uid)) orphans[rep.uid] = {rep.ns, rep.name};
    }
  } else {
    Log()->debug("interLink cannot list its pods: {}", all.status().ToString());
  }
  for (const auto& [uid, ref] : state_.Entries()) {
    if (!in_api.count(uid)) orphans.emplace(uid, OrphanRef{ref.ns, ref.name});
  }
  {
    MutexLock l(orphans_mu_);
    orphans_.insert(orphans.begin(), orphans.end());
  }
  adopted_ = true;
  {
    MutexLock l(mu_);  // as in OnSync: no lost wakeup
    cv_.NotifyAll();   // the watch loop waits for adoption
  }
  for (const auto& [uid, ref] : orphans) queue_.Add(uid);
  Log()->info("adoption done: {} pods already in the backend, {} orphans to delete",
              stats_.adopted.load(), orphans.size());
  return Status::Ok();
}

}  // namespace il::vk
