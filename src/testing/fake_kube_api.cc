#include "testing/fake_kube_api.h"

#include <boost/json.hpp>
#include <ctime>

#include "kube/api_error.h"
#include "kube/json_patch.h"

namespace il::kube {
namespace json = boost::json;

namespace {

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }
std::string LastSegment(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// "/api/v1/namespaces/ns/pods/p" -> "/api/v1/pods/p" (namespaced objects only).
std::string StripNamespace(const std::string& path) {
  auto pos = path.find("/namespaces/");
  if (pos == std::string::npos) return path;
  auto ns_end = path.find('/', pos + 12);
  if (ns_end == std::string::npos) return path;
  return path.substr(0, pos) + path.substr(ns_end);
}

std::string NamespaceOf(const std::string& path) {
  auto pos = path.find("/namespaces/");
  if (pos == std::string::npos) return "";
  auto ns_end = path.find('/', pos + 12);
  if (ns_end == std::string::npos) return "";
  return path.substr(pos + 12, ns_end - pos - 12);
}

bool InCollection(const std::string& obj_path, const std::string& collection) {
  return Parent(obj_path) == collection || Parent(StripNamespace(obj_path)) == collection;
}

json::object& Meta(json::value& obj) {
  auto& o = obj.as_object();
  if (!o.contains("metadata") || !o["metadata"].is_object()) o["metadata"] = json::object();
  return o["metadata"].as_object();
}

std::string MetaStr(const json::value& obj, std::string_view key) {
  const auto* o = obj.if_object();
  const auto* m = o ? o->if_contains("metadata") : nullptr;
  const auto* v = m && m->is_object() ? m->as_object().if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

std::string Now(int64_t plus_seconds = 0) {
  std::time_t t = std::time(nullptr) + plus_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "pods \"x\"" style names for error messages.
std::string Describe(const std::string& obj_path) {
  return LastSegment(Parent(obj_path)) + " \"" + LastSegment(obj_path) + "\"";
}

Status NotFoundFor(const std::string& obj_path) {
  return MakeApiStatus(404, "NotFound", Describe(obj_path) + " not found");
}
Status ConflictFor(const std::string& obj_path, const std::string& why) {
  return MakeApiStatus(409, "Conflict",
                       "Operation cannot be fulfilled on " + Describe(obj_path) + ": " + why);
}

std::optional<std::string> Field(const json::value& obj, const std::string& dotted) {
  const json::value* cur = &obj;
  size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    std::string key =
        dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const auto* o = cur->if_object();
    cur = o ? o->if_contains(key) : nullptr;
    if (!cur) return std::nullopt;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return std::string(cur->as_string());
  if (cur->is_null() || cur->is_object() || cur->is_array()) return std::nullopt;
  return json::serialize(*cur);
}

// Equality-based selectors: "k=v", "k==v", "k!=v", "k", "!k". `lookup` returns the value.
template <class Lookup>
bool Matches(const std::string& selector, Lookup lookup) {
  size_t start = 0;
  while (start < selector.size()) {
    auto comma = selector.find(',', start);
    std::string term =
        selector.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? selector.size() : comma + 1;
    if (term.empty()) continue;
    if (auto ne = term.find("!="); ne != std::string::npos) {
      auto v = lookup(term.substr(0, ne));
      if (v && *v == term.substr(ne + 2)) return false;
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      std::string value = term.substr(term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1);
      auto v = lookup(term.substr(0, eq));
      if (!v || *v != value) return false;
    } else if (term[0] == '!') {
      if (lookup(term.substr(1))) return false;
    } else if (!lookup(term)) {
      return false;
    }
  }
  return true;
}

bool Selected(const json::value& obj, const std::string& labels, const std::string& fields) {
  bool ok_labels = Matches(labels, [&](const std::string& k) {
    return Field(obj, "metadata.labels." + k);  // label keys with dots are not supported
  });
  return ok_labels && Matches(fields, [&](const std::string& k) { return Field(obj, k); });
}

}  // namespace

Status FakeKubeApi::RecordLocked(const std::string& verb, const std::string& path,
                                 json::value body) {
  calls_.push_back({verb, path, std::move(body)});
  for (auto& f : failures_) {
    if (f.times > 0 && (f.verb.empty() || f.verb == verb) && (f.path.empty() || f.path == path)) {
      --f.times;
      return f.status;
    }
  }
  return Status::Ok();
}

json::value FakeKubeApi::StoreLocked(const std::string& path, json::value obj,
                                     WatchEventType type) {
  ++rv_;
  Meta(obj)["resourceVersion"] = std::to_string(rv_);
  if (type == WatchEventType::kDeleted) {
    objects_.erase(path);
  } else {
    objects_[path] = obj;
  }
  events_.push_back({rv_, path, WatchEvent{type, obj}});
  cv_.notify_all();
  return obj;
}

json::value FakeKubeApi::Seed(const std::string& path, json::value object) {
  std::lock_guard lock(mu_);
  auto& m = Meta(object);
  m["name"] = LastSegment(path);
  if (auto ns = NamespaceOf(path); !ns.empty()) m["namespace"] = ns;
  if (!m.contains("uid")) m["uid"] = "uid-" + std::to_string(++uid_seq_);
  if (!m.contains("creationTimestamp")) m["creationTimestamp"] = Now();
  return StoreLocked(path, std::move(object), WatchEventType::kAdded);
}

void FakeKubeApi::FailNext(const std::string& verb, const std::string& path, Status status,
                           int times) {
  std::lock_guard lock(mu_);
  failures_.push_back({verb, path, std::move(status), times});
}

void FakeKubeApi::Compact() {
  std::lock_guard lock(mu_);
  compacted_rv_ = rv_;
}

void FakeKubeApi::CloseWatches() {
  std::lock_guard lock(mu_);
  ++close_generation_;
  cv_.notify_all();
}

std::optional<json::value> FakeKubeApi::Object(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(path);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<FakeKubeApi::Call> FakeKubeApi::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<FakeKubeApi::Call> FakeKubeApi::calls(const std::string& verb) const {
  std::lock_guard lock(mu_);
  std::vector<Call> out;
  for (const auto& c : calls_) {
    if (c.verb == verb) out.push_back(c);
  }
  return out;
}

void FakeKubeApi::ClearCalls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

Result<json::value> FakeKubeApi::Get(const std::string& path) {
  std::lock_guard lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("GET", path, nullptr));
  auto it = objects_.find(path);
  if (it == objects_.end() && LastSegment(path) == "status") it = objects_.find(Parent(path));
  if (it == objects_.end()) return NotFoundFor(path);
  return it->second;
}

Result<json::value> FakeKubeApi::List(const std::string& path, const ListOptions& o) {
  std::lock_guard lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("LIST", path, nullptr));
  json::array items;
  for (const auto& [p, obj] : objects_) {
    if (InCollection(p, path) && Selected(obj, o.label_selector, o.field_selector)) {
      items.push_back(obj);
    }
  }
  return json::value{{"kind", "List"},
                     {"apiVersion", "v1"},
                     {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                     {"items", std::move(items)}};
}

Result<json::value> FakeKubeApi::TokenRequestLocked(const std::string& path,
                                                    const json::value& request) {
  std::string sa_path = Parent(path);
  if (!objects_.count(sa_path)) return NotFoundFor(sa_path);
  json::value out = request.is_object() ? request : json::value(json::object());
  int64_t seconds = 3600;
  if (auto e = Field(out, "spec.expirationSeconds")) seconds = std::stoll(*e);
  out.as_object()["status"] = {
      {"token", "fake-token-" + LastSegment(sa_path) + "-" + std::to_string(++uid_seq_)},
      {"expirationTimestamp", Now(seconds)}};
  return out;
}

void FakeKubeApi::ReactToCreate(const std::string& path, Reactor reactor) {
  std::lock_guard lock(mu_);
  reactors_[path] = std::move(reactor);
}

Result<json::value> FakeKubeApi::Create(const std::string& path, const json::value& object) {
  std::unique_lock lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("CREATE", path, object));
  if (auto it = reactors_.find(path); it != reactors_.end()) {
    Reactor reactor = it->second;
    lock.unlock();
    return reactor(object);
  }
  if (LastSegment(path) == "token" && Parent(path).find("/serviceaccounts/") != std::string::npos) {
    return TokenRequestLocked(path, object);
  }
  if (!object.is_object()) return MakeApiStatus(400, "BadRequest", "body is not an object");
  json::value obj = object;
  auto& m = Meta(obj);
  std::string name = MetaStr(obj, "name");
  if (name.empty() && !MetaStr(obj, "generateName").empty()) {
    name = MetaStr(obj, "generateName") + "x" + std::to_string(10000 + ++uid_seq_);
    m["name"] = name;
  }
  if (name.empty()) return MakeApiStatus(422, "Invalid", "metadata.name: Required value");
  std::string obj_path = path + "/" + name;
  if (objects_.count(obj_path)) {
    return MakeApiStatus(409, "AlreadyExists", Describe(obj_path) + " already exists");
  }
  if (auto ns = NamespaceOf(obj_path); !ns.empty()) m["namespace"] = ns;
  m["uid"] = "uid-" + std::to_string(++uid_seq_);
  m["creationTimestamp"] = Now();
  return StoreLocked(obj_path, std::move(obj), WatchEventType::kAdded);
}

// Stores `next` over the existing object at `path` (or its status, for .../status paths).
Result<json::value> FakeKubeApi::WriteLocked(const std::string& path, json::value next) {
  bool status_only = LastSegment(path) == "status" && objects_.count(Parent(path));
  std::string obj_path = status_only ? Parent(path) : path;
  auto it = objects_.find(obj_path);
  if (it == objects_.end()) return NotFoundFor(obj_path);
  const json::value& cur = it->second;
  if (!next.is_object()) return MakeApiStatus(400, "BadRequest", "body is not an object");
  std::string want_rv = MetaStr(next, "resourceVersion");
  if (!want_rv.empty() && want_rv != MetaStr(cur, "resourceVersion")) {
    return ConflictFor(obj_path,
                       "the object has been modified; please apply your changes to "
                       "the latest version and try again");
  }
  json::value stored = cur;
  if (status_only) {
    if (auto* s = next.as_object().if_contains("status")) stored.as_object()["status"] = *s;
  } else {
    stored = next;
    // Kinds with a status subresource ignore status in writes to the main resource.
    if (const auto* s = cur.as_object().if_contains("status")) stored.as_object()["status"] = *s;
    auto& m = Meta(stored);
    for (const char* k : {"uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                          "deletionGracePeriodSeconds"}) {
      if (auto* v = Meta(it->second).if_contains(k)) m[k] = *v;
    }
  }
  return StoreLocked(obj_path, std::move(stored), WatchEventType::kModified);
}

Result<json::value> FakeKubeApi::Update(const std::string& path, const json::value& object) {
  std::lock_guard lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("UPDATE", path, object));
  return WriteLocked(path, object);
}

Result<json::value> FakeKubeApi::Patch(const std::string& path, PatchType type,
                                       const json::value& patch) {
  std::lock_guard lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("PATCH", path, patch));
  bool status_only = LastSegment(path) == "status" && objects_.count(Parent(path));
  auto it = objects_.find(status_only ? Parent(path) : path);
  if (it == objects_.end()) return NotFoundFor(status_only ? Parent(path) : path);
  json::value next = it->second;
  if (type == PatchType::kJsonPatch) {
    Status s = ApplyJsonPatch(next, patch);
    if (!s.ok()) return MakeApiStatus(422, "Invalid", s.message());
  } else {
    if (!patch.is_object()) return MakeApiStatus(400, "BadRequest", "merge patch is not an object");
    ApplyMergePatch(next, patch);
  }
  // A resourceVersion in the patch is a precondition; otherwise the write is unconditional.
  std::string want_rv = MetaStr(patch, "resourceVersion");
  Meta(next)["resourceVersion"] =
      want_rv.empty() ? MetaStr(it->second, "resourceVersion") : want_rv;
  return WriteLocked(path, std::move(next));
}

Result<json::value> FakeKubeApi::RemoveLocked(const std::string& path, const DeleteOptions& o) {
  auto it = objects_.find(path);
  if (it == objects_.end()) return NotFoundFor(path);
  json::value obj = it->second;
  std::string uid = MetaStr(obj, "uid");
  if (!o.precondition_uid.empty() && o.precondition_uid != uid) {
    return ConflictFor(path, "Precondition failed: UID in precondition: " + o.precondition_uid +
                                 ", UID in object meta: " + uid);
  }
  if (!o.precondition_resource_version.empty() &&
      o.precondition_resource_version != MetaStr(obj, "resourceVersion")) {
    return ConflictFor(path, "Precondition failed: ResourceVersion in precondition: " +
                                 o.precondition_resource_version);
  }
  bool bound_pod = path.find("/pods/") != std::string::npos && Field(obj, "spec.nodeName");
  int64_t grace = 30;
  if (auto g = Field(obj, "spec.terminationGracePeriodSeconds")) grace = std::stoll(*g);
  if (o.grace_period_seconds) grace = *o.grace_period_seconds;
  if (bound_pod && grace > 0) {
    // The kubelet (here: the virtual kubelet) finishes the deletion with grace 0.
    if (!MetaStr(obj, "deletionTimestamp").empty()) return obj;
    Meta(obj)["deletionTimestamp"] = Now(grace);
    Meta(obj)["deletionGracePeriodSeconds"] = grace;
    return StoreLocked(path, std::move(obj), WatchEventType::kModified);
  }
  return StoreLocked(path, std::move(obj), WatchEventType::kDeleted);
}

Result<json::value> FakeKubeApi::Delete(const std::string& path, const DeleteOptions& o) {
  std::lock_guard lock(mu_);
  json::object body;
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.precondition_uid.empty()) body["preconditions"] = {{"uid", o.precondition_uid}};
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  IL_RETURN_IF_ERROR(RecordLocked("DELETE", path, body));
  return RemoveLocked(path, o);
}

Status FakeKubeApi::Watch(const std::string& path, const WatchParams& params,
                          const std::function<bool(WatchEvent)>& on_event,
                          const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  IL_RETURN_IF_ERROR(RecordLocked("WATCH", path, nullptr));
  int64_t from = rv_;
  if (!params.resource_version.empty() && params.resource_version != "0") {
    try {
      from = std::stoll(params.resource_version);
    } catch (const std::exception&) {
      return MakeApiStatus(400, "BadRequest", "invalid resourceVersion");
    }
  }
  if (from < compacted_rv_) {
    lock.unlock();
    on_event(WatchEvent{WatchEventType::kError,
                        {{"kind", "Status"},
                         {"code", 410},
                         {"reason", "Expired"},
                         {"message", "too old resource version: " + params.resource_version}}});
    return Status::Ok();
  }
  int64_t generation = close_generation_;
  size_t next = 0;
  while (next < events_.size() && events_[next].rv <= from) ++next;
  while (true) {
    cv_.wait(lock, stop, [&] { return next < events_.size() || close_generation_ != generation; });
    if (stop.stop_requested() || close_generation_ != generation) return Status::Ok();
    Event ev = events_[next++];
    if (!InCollection(ev.path, path) ||
        !Selected(ev.event.object, params.label_selector, params.field_selector)) {
      continue;
    }
    lock.unlock();
    bool more = on_event(std::move(ev.event));
    lock.lock();
    if (!more) return Status::Ok();
  }
}

}  // namespace il::kube
