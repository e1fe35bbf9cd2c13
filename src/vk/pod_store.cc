#include "vk/pod_store.h"

#include "api/pod.h"
#include "vk/pod_resources.h"
#include "vk/status_mapper.h"
#include "vk/status_scan.h"

namespace il::vk {
namespace json = boost::json;

namespace {

json::array TrimContainers(const json::array& list, bool keep_resources) {
  json::array out;
  for (const auto& c : list) {
    json::object o{{"name", api::GetString(c, {"name"})}, {"image", api::GetString(c, {"image"})}};
    // The backend runs preStop hooks on /delete, which may carry only this compact form.
    if (const auto* l = api::Find(c, {"lifecycle"}); l && l->is_object()) o["lifecycle"] = *l;
    if (keep_resources) {
      if (const auto* r = api::Find(c, {"resources"})) o["resources"] = *r;
    }
    out.push_back(std::move(o));
  }
  return out;
}

void Copy(const json::object& from, json::object& to, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (const auto* v = from.if_contains(k)) to[k] = *v;
  }
}

}  // namespace

json::value TrimPod(const json::value& pod) {
  json::object out{{"apiVersion", "v1"}, {"kind", "Pod"}};
  json::object md;
  if (const auto* m = api::Find(pod, {"metadata"}); m && m->is_object()) {
    Copy(m->as_object(), md,
         {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
          "deletionGracePeriodSeconds"});
    if (const auto* a = m->as_object().if_contains("annotations"); a && a->is_object()) {
      json::object ann = a->as_object();
      ann.erase("kubectl.kubernetes.io/last-applied-configuration");
      if (!ann.empty()) md["annotations"] = std::move(ann);
    }
  }
  out["metadata"] = std::move(md);
  json::object spec;
  if (const auto* s = api::Find(pod, {"spec"}); s && s->is_object()) {
    Copy(s->as_object(), spec,
         {"nodeName", "restartPolicy", "terminationGracePeriodSeconds", "serviceAccountName",
          "readinessGates"});
  }
  spec["containers"] = TrimContainers(api::Containers(pod), true);
  if (!api::InitContainers(pod).empty()) {
    spec["initContainers"] = TrimContainers(api::InitContainers(pod), true);
  }
  out["spec"] = std::move(spec);
  if (const auto* st = api::Find(pod, {"status"})) out["status"] = *st;
  return out;
}

json::value StatusQueryPod(const PodRecord& r) {
  json::object md{{"name", r.name}, {"namespace", r.ns}, {"uid", r.uid}};
  if (const auto* a = api::Find(r.view, {"metadata", "annotations"})) md["annotations"] = *a;
  json::object spec{{"containers", TrimContainers(api::Containers(r.view), false)}};
  if (!api::InitContainers(r.view).empty()) {
    spec["initContainers"] = TrimContainers(api::InitContainers(r.view), false);
  }
  // interLink's status cache keeps a pod whose containers all ended only when this policy
  // restarts none of them.
  std::string policy = api::GetString(r.view, {"spec", "restartPolicy"});
  spec["restartPolicy"] = policy.empty() ? "Always" : policy;
  std::string phase = api::GetString(r.view, {"status", "phase"});
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", std::move(md)},
                      {"spec", std::move(spec)},
                      {"status", {{"phase", phase.empty() ? "Pending" : phase}}}};
}

bool NewerVersion(const std::string& a, const std::string& b) {
  if (b.empty()) return true;
  try {
    return std::stoull(a) >= std::stoull(b);
  } catch (const std::exception&) {
    return true;
  }
}

bool PodStore::Upsert(const json::value& pod) {
  std::string uid = api::PodUid(pod);
  std::string rv = api::GetString(pod, {"metadata", "resourceVersion"});
  MutexLock l(mu_);
  auto [it, inserted] = pods_.try_emplace(uid);
  PodRecord& r = it->second;
  if (!inserted) {
    const std::string held = api::GetString(r.view, {"metadata", "resourceVersion"});
    if (!NewerVersion(rv, held)) return false;
    // The same version again, usually the watch's echo of our own PATCH whose reply
    // UpdateView already applied: nothing changed, and no reconcile is needed.
    if (!rv.empty() && rv == held && !r.api_deleted) return false;
  }
  if (inserted) {
    r.uid = uid;
    r.ns = api::PodNamespace(pod);
    r.name = api::PodName(pod);
    r.observed_at = std::chrono::steady_clock::now();
  }
  r.view = TrimPod(pod);
  r.terminal = IsTerminalPhase(api::GetString(r.view, {"status", "phase"}));
  r.status_query = json::serialize(StatusQueryPod(r));
  if (r.backend == BackendState::kNone) r.full = json::serialize(PodForBackend(pod));
  if (auto jid = api::Annotation(pod, "JobID")) {
    r.job_id_written = true;
    if (r.job_id.empty()) r.job_id = *jid;
  }
  r.api_deleted = false;
  return true;
}

void PodStore::UpdateView(const std::string& uid, const json::value& pod) {
  MutexLock l(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  const std::string rv = api::GetString(pod, {"metadata", "resourceVersion"});
  const std::string held = api::GetString(it->second.view, {"metadata", "resourceVersion"});
  // The same version (the watch's echo came first) is already held.
  if (NewerVersion(rv, held) && (rv.empty() || rv != held)) {
    it->second.view = TrimPod(pod);
    it->second.terminal = IsTerminalPhase(api::GetString(it->second.view, {"status", "phase"}));
    it->second.status_query = json::serialize(StatusQueryPod(it->second));
  }
}

void PodStore::MarkDeleted(const std::string& uid) {
  MutexLock l(mu_);
  if (auto it = pods_.find(uid); it != pods_.end()) it->second.api_deleted = true;
}

std::optional<PodRecord> PodStore::Get(const std::string& uid) const {
  MutexLock l(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

std::optional<PodRecord> PodStore::FindByName(const std::string& ns,
                                              const std::string& name) const {
  MutexLock l(mu_);
  for (const auto& [uid, r] : pods_) {
    if (r.ns == ns && r.name == name && !r.api_deleted) return r;
  }
  return std::nullopt;
}

bool PodStore::Update(const std::string& uid, const std::function<void(PodRecord&)>& fn) {
  MutexLock l(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return false;
  fn(it->second);
  return true;
}

void PodStore::Erase(const std::string& uid) {
  MutexLock l(mu_);
  pods_.erase(uid);
}

std::vector<std::string> PodStore::Uids() const {
  MutexLock l(mu_);
  std::vector<std::string> out;
  out.reserve(pods_.size());
  for (const auto& [uid, r] : pods_) out.push_back(uid);
  return out;
}

std::vector<json::value> PodStore::StatusQuery(const std::vector<std::string>& uids) const {
  MutexLock l(mu_);
  std::vector<json::value> out;
  out.reserve(uids.size());
  for (const auto& uid : uids) {
    if (auto it = pods_.find(uid); it != pods_.end()) out.push_back(StatusQueryPod(it->second));
  }
  return out;
}

std::string PodStore::BeginStatusRound(uint64_t round, size_t* count) {
  MutexLock l(mu_);
  std::string body = "[";
  *count = 0;
  for (auto& [uid, r] : pods_) {
    if (r.api_deleted || r.lost) continue;
    if (r.backend != BackendState::kCreated && r.backend != BackendState::kCreating) continue;
    if (r.terminal) continue;
    if (*count) body += ',';
    body += r.status_query;
    r.asked_round = round;
    ++*count;
  }
  body += ']';
  return body;
}

json::value BackendPod(const PodRecord& r) {
  if (!r.full.empty()) {
    if (auto v = api::ParseJson(r.full); v.ok()) return std::move(*v);
  }
  json::value pod = r.view;
  if (pod.is_object()) pod.as_object().erase("status");
  return pod;
}

namespace {

const json::array& ArrayOr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const auto* f = o.if_contains(key);
  return f && f->is_array() ? f->as_array() : kEmpty;
}

// Whether the stored report equals this reply entry (compared in place).
bool SameReport(const std::optional<api::PodStatus>& stored, const json::object& entry) {
  if (!stored) return false;
  static const json::value kNull;
  const auto* ip = entry.if_contains("podIP");
  return stored->containers == ArrayOr(entry, "containers") &&
         stored->init_containers == ArrayOr(entry, "initContainers") &&
         stored->pod_ip == (ip ? *ip : kNull) && stored->events == ArrayOr(entry, "events");
}

// A deep copy in the default resource: the reply lives in a per-call arena.
api::PodStatus Own(const api::PodStatus& rep) {
  api::PodStatus copy;
  copy.name = rep.name;
  copy.uid = rep.uid;
  copy.ns = rep.ns;
  copy.jid = rep.jid;
  copy.containers = json::array(rep.containers, json::storage_ptr());
  copy.init_containers = json::array(rep.init_containers, json::storage_ptr());
  copy.pod_ip = json::value(rep.pod_ip, json::storage_ptr());
  copy.events = json::array(rep.events, json::storage_ptr());
  return copy;
}

void Seen(PodRecord& r, std::chrono::steady_clock::time_point now, uint64_t round,
          const std::string& jid) {
  r.last_seen = now;
  r.seen = true;
  if (round) r.answered_round = round;
  if (r.job_id.empty() && !jid.empty()) r.job_id = jid;
}

}  // namespace

std::vector<std::string> PodStore::ApplyReports(const std::vector<api::PodStatus>& reports,
                                                std::chrono::steady_clock::time_point now,
                                                uint64_t round) {
  std::vector<std::string> changed;
  MutexLock l(mu_);
  for (const auto& rep : reports) {
    auto it = pods_.find(rep.uid);
    if (it == pods_.end()) continue;
    PodRecord& r = it->second;
    Seen(r, now, round, rep.jid);
    json::object entry = api::ToJson(rep).as_object();
    if (!SameReport(r.reported, entry)) {
      r.reported = Own(rep);
      r.reported_at = now;
      changed.push_back(rep.uid);
    }
  }
  return changed;
}

Result<std::vector<std::string>> PodStore::ApplyReportsText(
    std::string_view reply, std::chrono::steady_clock::time_point now, uint64_t round,
    size_t* malformed) {
  std::vector<ScannedEntry> entries;
  IL_RETURN_IF_ERROR(ScanStatusList(reply, &entries));
  std::vector<std::string> changed;
  *malformed = 0;
  MutexLock l(mu_);
  for (const auto& e : entries) {
    std::optional<api::PodStatus> parsed;
    std::string uid(e.uid);
    if (uid.empty() || e.uid_escaped) {
      // Rare: parse to learn the uid.
      auto v = api::ParseJson(e.text);
      auto rep = v.ok() ? api::ParsePodStatus(*v) : Result<api::PodStatus>(v.status());
      if (!rep.ok() || rep->uid.empty()) {
        ++*malformed;
        continue;
      }
      uid = rep->uid;
      parsed = std::move(*rep);
    }
    auto it = pods_.find(uid);
    if (it == pods_.end()) continue;
    PodRecord& r = it->second;
    size_t h = std::hash<std::string_view>{}(e.text);
    if (r.reported && r.report_hash == h) {
      Seen(r, now, round, "");
      continue;
    }
    if (!parsed) {
      auto v = api::ParseJson(e.text);
      auto rep = v.ok() ? api::ParsePodStatus(*v) : Result<api::PodStatus>(v.status());
      if (!rep.ok()) {
        ++*malformed;
        continue;
      }
      parsed = std::move(*rep);
    }
    r.report_hash = h;
    Seen(r, now, round, parsed->jid);
    json::object entry = api::ToJson(*parsed).as_object();
    if (!SameReport(r.reported, entry)) {
      r.reported = std::move(*parsed);
      r.reported_at = now;
      changed.push_back(uid);
    }
  }
  return changed;
}

std::vector<std::string> PodStore::MarkMissing(uint64_t round,
                                               std::chrono::steady_clock::time_point now,
                                               std::chrono::seconds grace) {
  std::vector<std::string> lost;
  MutexLock l(mu_);
  for (auto& [uid, r] : pods_) {
    if (r.asked_round != round || r.answered_round == round) continue;
    if (r.backend != BackendState::kCreated || r.lost) continue;
    auto ref = r.seen ? r.last_seen : r.sent_at;
    if (now - ref > grace) {
      r.lost = true;
      lost.push_back(uid);
    }
  }
  return lost;
}

std::vector<json::value> PodStore::Views() const {
  MutexLock l(mu_);
  std::vector<json::value> out;
  for (const auto& [uid, r] : pods_) {
    if (!r.api_deleted) out.push_back(r.view);
  }
  return out;
}

size_t PodStore::size() const {
  MutexLock l(mu_);
  return pods_.size();
}

}  // namespace il::vk
