// PodController's per-pod steps: create, status PATCH, deletion (see pod_controller.h).
#include "api/pod.h"
#include "core/log.h"
#include "kube/api_error.h"
#include "kube/paths.h"
#include "vk/pod_controller.h"
#include "vk/status_mapper.h"

namespace il::vk {
namespace json = boost::json;

namespace {
std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.pods");
  return l;
}
EventRef Ref(const PodRecord& r) { return {r.ns, r.name, r.uid, ""}; }
std::string Key(const PodRecord& r) { return r.ns + "/" + r.name; }
json::value ParseFull(const PodRecord& r) {
  auto v = api::ParseJson(r.full);
  return v.ok() ? *v : json::value(json::object{});
}
}  // namespace

Status PodController::Reconcile(const std::string& uid) {
  auto rec = store_.Get(uid);
  if (!rec) return ReconcileOrphan(uid);
  if (rec->api_deleted) return HandleGone(*rec);
  if (api::Find(rec->view, {"metadata", "deletionTimestamp"})) return HandleDeletion(*rec);
  std::string phase = api::GetString(rec->view, {"status", "phase"});
  switch (rec->backend) {
    case BackendState::kNone:
      if (IsTerminalPhase(phase)) return Status::Ok();  // finished before we met it
      if (!adopted_) return Unavailable("waiting for start-up adoption");
      return Create(*rec);
    case BackendState::kCreating:
      return Create(*rec);
    case BackendState::kCreated:
    case BackendState::kFailed:
    case BackendState::kDeleted:
      return PatchStatus(*rec);
  }
  return Status::Ok();
}

Status PodController::Create(const PodRecord& r) {
  std::string reason;
  std::vector<std::string> warnings;
  auto req = BuildCreateRequest(ParseFull(r), objects_, opt_.create, &reason, &warnings);
  for (const auto& w : warnings)
    events_.Record(Ref(r), "Warning", "InvalidEnvironmentVariableNames", w);
  if (!req.ok()) {
    if (req.status().code() == StatusCode::kFailedPrecondition) {
      // A missing ConfigMap/Secret: tell the user, keep the pod Pending, retry later.
      events_.Record(Ref(r), "Warning", reason, req.status().message());
      store_.Update(r.uid, [&](PodRecord& x) {
        x.config_error_reason = reason == "FailedMount" ? "ContainerCreating" : reason;
        x.config_error_message = req.status().message();
      });
      (void)PatchStatus(r.uid);
    }
    return req.status();
  }
  store_.Update(r.uid, [](PodRecord& x) {
    x.backend = BackendState::kCreating;
    x.config_error_reason.clear();
    x.config_error_message.clear();
  });
  state_.Add(r.uid, r.ns, r.name);
  const auto create_start = std::chrono::steady_clock::now();
  auto res = interlink_.Create(*req);
  if (!res.ok()) {
    ++stats_.create_failures;
    events_.Record(Ref(r), "Warning", "ProviderCreateFailed", res.status().message());
    if (IsTransient(res.status())) return res.status();
    Log()->warn("pod {}: the backend rejected it: {}", Key(r), res.status().ToString());
    store_.Update(r.uid, [&](PodRecord& x) {
      x.backend = BackendState::kFailed;
      x.create_error = res.status().message();
    });
    return PatchStatus(r.uid);
  }
  ++stats_.creates;
  std::string jid = (res->pod_uid.empty() || res->pod_uid == r.uid) ? res->pod_jid : "";
  store_.Update(r.uid, [&](PodRecord& x) {
    x.backend = BackendState::kCreated;
    if (!jid.empty()) x.job_id = jid;
    x.sent_at = std::chrono::steady_clock::now();
    x.full.clear();  // the compact view is enough for /delete from now on
    x.full.shrink_to_fit();
  });
  Log()->debug("pod {} sent to the backend, job {} ({} ms)", Key(r), jid,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - create_start)
                   .count());
  // The first status (and the JobID annotation with it) is written once the backend had a
  // chance to report (one or two sync rounds), which saves PATCHes on fast backends.
  queue_.AddAfter(r.uid, FirstStatusDelay());
  return Status::Ok();
}

std::chrono::milliseconds PodController::FirstStatusDelay() const {
  return opt_.status_interval * 2 + std::chrono::milliseconds(100);
}

bool PodController::HoldFirstStatus(const PodRecord& r, const json::object& desired) {
  // A fast backend reports a new pod Running within a round or two. With the status watch
  // its first report (waiting, ContainerCreating) arrives at once, and writing it would
  // cost a PATCH that the next report overwrites: one API write in three per pod. Anything
  // more than "being created" (an error, a waiting reason, a started container, a phase
  // change) goes out at once, and the hold ends FirstStatusDelay() after /create.
  if (!opt_.hold_first_status || r.backend != BackendState::kCreated ||
      r.sent_at == std::chrono::steady_clock::time_point{}) {
    return false;
  }
  if (api::Find(r.view, {"status", "containerStatuses"})) return false;  // written before
  if (json::value_to<std::string>(desired.at("phase")) != "Pending") return false;
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const auto* list = desired.if_contains(key);
    if (!list || !list->is_array()) continue;
    for (const auto& c : list->as_array()) {
      std::string reason = api::GetString(c, {"state", "waiting", "reason"});
      if (reason != "ContainerCreating" && reason != "PodInitializing") return false;
    }
  }
  const auto due = r.sent_at + FirstStatusDelay();
  const auto now = std::chrono::steady_clock::now();
  if (now >= due) return false;
  queue_.AddAfter(r.uid, std::chrono::ceil<std::chrono::milliseconds>(due - now));
  return true;
}

void PodController::PatchJobId(const PodRecord& r) {
  json::object patch{{"metadata", {{"annotations", {{"JobID", r.job_id}}}}}};
  auto res = kube_.Patch(kube::PodPath(r.ns, r.name), kube::PatchType::kMerge, patch);
  if (res.ok()) {
    store_.Update(r.uid, [](PodRecord& x) { x.job_id_written = true; });
    store_.UpdateView(r.uid, *res);
  } else if (!kube::IsNotFound(res.status())) {
    Log()->debug("pod {}: cannot write the JobID annotation: {}", Key(r), res.status().ToString());
  }
}

Status PodController::PatchStatus(const std::string& uid) {
  auto r = store_.Get(uid);
  return r ? PatchStatus(*r) : Status::Ok();
}

Status PodController::PatchStatus(const PodRecord& r) {
  const std::string& uid = r.uid;
  if (r.api_deleted) return Status::Ok();
  std::string phase = api::GetString(r.view, {"status", "phase"});
  if (IsTerminalPhase(phase)) return Status::Ok();  // never overwrite a final status
  PodFacts facts;
  facts.host_ip = opt_.host_ip;
  if (r.backend == BackendState::kFailed) facts.create_error = r.create_error;
  facts.lost = r.lost;
  facts.config_error_reason = r.config_error_reason;
  facts.config_error_message = r.config_error_message;
  facts.now = std::chrono::system_clock::now();
  RelayBackendEvents(r);
  json::object desired = MapPodStatus(r.view, r.reported, facts);
  if (HoldFirstStatus(r, desired)) return Status::Ok();
  static const json::object kEmpty;
  const auto* cur = api::Find(r.view, {"status"});
  json::value want = PodStatusFingerprint(desired);
  json::value have = PodStatusFingerprint(cur && cur->is_object() ? cur->as_object() : kEmpty);
  const bool job_id_due = !r.job_id_written && !r.job_id.empty();
  if (want == have) {
    if (job_id_due) PatchJobId(r);
    return Status::Ok();
  }
  Log()->trace("pod {} status differs: have {} want {}", Key(r), json::serialize(have),
               json::serialize(want));
  json::object patch{{"status", desired}};
  // pods/status also takes metadata (only spec, ownerReferences and deletionTimestamp are
  // reset), so the JobID annotation rides along instead of costing its own write.
  if (job_id_due) patch["metadata"] = {{"annotations", {{"JobID", r.job_id}}}};
  const auto patch_start = std::chrono::steady_clock::now();
  auto res =
      kube_.Patch(kube::PodStatusPath(r.ns, r.name), kube::PatchType::kStrategicMerge, patch);
  if (!res.ok()) {
    if (kube::IsNotFound(res.status())) return Status::Ok();  // the watch will tell
    return res.status().WithContext("PATCH status of " + Key(r));
  }
  ++stats_.status_patches;
  Announce(r, desired);
  store_.UpdateView(uid, *res);
  if (job_id_due) {
    if (api::Annotation(*res, "JobID") == r.job_id) {
      store_.Update(uid, [](PodRecord& x) { x.job_id_written = true; });
    } else {
      PatchJobId(r);  // an API server that ignores metadata on the status subresource
    }
  }
  if (Log()->should_log(spdlog::level::debug)) {
    // Where a status's latency goes (bench/vk_bench.py reads this line).
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    const auto now = std::chrono::steady_clock::now();
    Log()->debug("pod {} status: {} (report {} ms ago, PATCH {} ms)", Key(r),
                 json::value_to<std::string>(desired["phase"]),
                 r.reported ? duration_cast<milliseconds>(now - r.reported_at).count() : -1,
                 duration_cast<milliseconds>(now - patch_start).count());
  }
  return Status::Ok();
}

void PodController::Announce(const PodRecord& r, const json::object& status) {
  std::vector<std::string> started;
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const auto* list = status.if_contains(key);
    if (!list || !list->is_array()) continue;
    for (const auto& c : list->as_array()) {
      std::string name = api::GetString(c, {"name"});
      bool ran = api::Find(c, {"state", "running"}) ||
                 (api::Find(c, {"state", "terminated"}) &&
                  api::GetString(c, {"state", "terminated", "reason"}) != "ContainerStatusUnknown");
      if (ran && !r.started.count(name)) started.push_back(name);
    }
  }
  if (started.empty()) return;
  store_.Update(r.uid, [&](PodRecord& x) { x.started.insert(started.begin(), started.end()); });
  for (const auto& name : started) {
    events_.Record(Ref(r), "Normal", "Started", "Started container " + name);
  }
}

void PodController::RelayBackendEvents(const PodRecord& r) {
  if (!r.reported || (r.reported->events.empty() && r.relayed_events.empty())) return;
  std::map<std::string, int64_t> seen;  // only what the backend still lists is remembered
  bool posted = false;
  for (const auto& e : r.reported->events) {
    std::string container = api::GetString(e, {"container"});
    std::string reason = api::GetString(e, {"reason"});
    std::string message = api::GetString(e, {"message"});
    if (reason.empty()) continue;
    int64_t count = std::max<int64_t>(1, api::GetInt(e, {"count"}, 1));
    std::string key = container + "|" + reason + "|" + message;
    auto it = r.relayed_events.find(key);
    seen[key] = std::max(count, it == r.relayed_events.end() ? 0 : it->second);
    if (it != r.relayed_events.end() && it->second >= count) continue;
    EventRef ref = Ref(r);
    if (!container.empty()) {
      bool init = false;
      for (const auto& c : api::InitContainers(r.view)) {
        init = init || api::GetString(c, {"name"}) == container;
      }
      ref.field_path = (init ? "spec.initContainers{" : "spec.containers{") + container + "}";
    }
    events_.Record(ref, api::GetString(e, {"type"}) == "Normal" ? "Normal" : "Warning", reason,
                   message);
    posted = true;
  }
  if (posted || seen.size() != r.relayed_events.size()) {
    store_.Update(r.uid, [&](PodRecord& x) { x.relayed_events = std::move(seen); });
  }
}

Status PodController::HandleDeletion(const PodRecord& r) {
  if (!adopted_) return Unavailable("waiting for start-up adoption");
  bool in_backend = r.backend == BackendState::kCreating || r.backend == BackendState::kCreated ||
                    r.backend == BackendState::kFailed || !r.job_id.empty();
  if (in_backend && r.backend != BackendState::kDeleted) {
    if (!r.deletion_started) {
      store_.Update(r.uid, [](PodRecord& x) { x.deletion_started = true; });
      if (!IsTerminalPhase(api::GetString(r.view, {"status", "phase"}))) {
        events_.Record(Ref(r), "Normal", "Killing", "Stopping the pod in the backend");
      }
    }
    Status st = interlink_.Delete(BackendPod(r));
    if (st.ok() || st.code() == StatusCode::kNotFound) {
      ++stats_.deletes;
      store_.Update(r.uid, [](PodRecord& x) { x.backend = BackendState::kDeleted; });
      state_.Remove(r.uid);
    } else {
      auto deadline = api::ParseRfc3339(api::GetString(r.view, {"metadata", "deletionTimestamp"}));
      if (!deadline || std::chrono::system_clock::now() < *deadline) {
        events_.Record(Ref(r), "Warning", "ProviderDeleteFailed", st.message());
        return st;
      }
      // Grace period over: Kubernetes gets its answer now; the backend job is deleted
      // once interLink answers again (HandleGone keeps trying).
      Log()->warn("pod {}: grace period over while the backend cannot delete it: {}", Key(r),
                  st.ToString());
    }
  }
  // Grace 0 already (kubectl delete --force, or a finished pod): the API server removed
  // it in the same request that set the timestamp, so a DELETE would only find it gone.
  const auto* grace = api::Find(r.view, {"metadata", "deletionGracePeriodSeconds"});
  if (grace && grace->is_int64() && grace->as_int64() == 0) return Status::Ok();
  kube::DeleteOptions del;
  del.grace_period_seconds = 0;
  del.precondition_uid = r.uid;
  auto res = kube_.Delete(kube::PodPath(r.ns, r.name), del);
  if (!res.ok() && !kube::IsNotFound(res.status()) && !kube::IsConflict(res.status())) {
    return res.status().WithContext("DELETE " + Key(r));
  }
  return Status::Ok();
}

Status PodController::HandleGone(const PodRecord& r) {
  bool in_backend = r.backend == BackendState::kCreating || r.backend == BackendState::kCreated ||
                    r.backend == BackendState::kFailed ||
                    (r.backend == BackendState::kNone && !r.job_id.empty());
  if (in_backend) {
    Status st = interlink_.Delete(BackendPod(r));
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    ++stats_.deletes;
  } else if (r.backend == BackendState::kNone && !adopted_) {
    return Unavailable("waiting for start-up adoption");
  }
  state_.Remove(r.uid);
  store_.Erase(r.uid);
  queue_.Forget(r.uid);
  return Status::Ok();
}

}  // namespace il::vk
