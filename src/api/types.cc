#include "api/types.h"

#include "api/pod.h"

namespace il::api {
namespace {

Status Bad(const std::string& what) { return InvalidArgument(what); }

Result<const json::object*> AsObject(const json::value& v, const char* what) {
  if (!v.is_object()) return Bad(std::string(what) + " must be a JSON object");
  return &v.as_object();
}

// Optional string field: absent/null -> "", wrong type -> error.
Result<std::string> OptString(const json::object& o, std::string_view key, const char* what) {
  auto* f = o.if_contains(key);
  if (!f || f->is_null()) return std::string();
  if (!f->is_string()) return Bad(std::string(what) + "." + std::string(key) + " must be a string");
  return std::string(f->as_string());
}

Result<json::array> OptArray(const json::object& o, std::string_view key, const char* what) {
  auto* f = o.if_contains(key);
  if (!f || f->is_null()) return json::array();
  if (!f->is_array()) return Bad(std::string(what) + "." + std::string(key) + " must be a list");
  for (const auto& e : f->as_array()) {
    if (!e.is_object())
      return Bad(std::string(what) + "." + std::string(key) + " must hold objects");
  }
  return f->as_array();
}

Result<int64_t> OptInt(const json::object& o, std::string_view key, const char* what) {
  auto* f = o.if_contains(key);
  if (!f || f->is_null()) return int64_t{0};
  if (f->is_int64()) return f->as_int64();
  if (f->is_uint64() && f->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(f->as_uint64());
  }
  if (f->is_double() &&
      f->as_double() == static_cast<double>(static_cast<int64_t>(f->as_double()))) {
    return static_cast<int64_t>(f->as_double());
  }
  return Bad(std::string(what) + "." + std::string(key) + " must be an integer");
}

Result<bool> OptBool(const json::object& o, std::string_view key, const char* what) {
  auto* f = o.if_contains(key);
  if (!f || f->is_null()) return false;
  if (!f->is_bool())
    return Bad(std::string(what) + "." + std::string(key) + " must be true or false");
  return f->as_bool();
}

}  // namespace

Result<json::value> ParseJson(std::string_view text, json::storage_ptr sp) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 256;
  json::value v = json::parse(text, ec, std::move(sp), opt);
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  return v;
}

Result<PodCreateRequests> ParsePodCreateRequests(const json::value& v) {
  IL_ASSIGN_OR_RETURN(auto o, AsObject(v, "create request"));
  PodCreateRequests r;
  auto* pod = o->if_contains("pod");
  if (!pod) return Bad("create request has no \"pod\"");
  r.pod = *pod;
  IL_RETURN_IF_ERROR(ValidatePod(r.pod));
  IL_ASSIGN_OR_RETURN(r.configmaps, OptArray(*o, "configmaps", "create request"));
  IL_ASSIGN_OR_RETURN(r.secrets, OptArray(*o, "secrets", "create request"));
  IL_ASSIGN_OR_RETURN(r.projected_volumes_maps,
                      OptArray(*o, "projectedvolumesmaps", "create request"));
  IL_ASSIGN_OR_RETURN(r.jobscript_url, OptString(*o, "jobscriptURL", "create request"));
  return r;
}

json::value ToJson(const PodCreateRequests& r) {
  json::object o;
  o["pod"] = r.pod;
  o["configmaps"] = r.configmaps;
  o["secrets"] = r.secrets;
  o["projectedvolumesmaps"] = r.projected_volumes_maps;
  if (!r.jobscript_url.empty()) o["jobscriptURL"] = r.jobscript_url;
  return o;
}

Result<RetrievedPodData> ParseRetrievedPodData(const json::value& v) {
  IL_ASSIGN_OR_RETURN(auto o, AsObject(v, "pod data"));
  RetrievedPodData d;
  auto* pod = o->if_contains("pod");
  if (!pod) return Bad("pod data has no \"pod\"");
  d.pod = *pod;
  IL_RETURN_IF_ERROR(ValidatePod(d.pod));
  IL_ASSIGN_OR_RETURN(auto containers, OptArray(*o, "container", "pod data"));
  for (const auto& c : containers) {
    const auto& co = c.as_object();
    RetrievedContainer rc;
    IL_ASSIGN_OR_RETURN(rc.name, OptString(co, "name", "container"));
    IL_ASSIGN_OR_RETURN(rc.config_maps, OptArray(co, "configMaps", "container"));
    IL_ASSIGN_OR_RETURN(rc.projected_volume_maps, OptArray(co, "projectedvolumemaps", "container"));
    IL_ASSIGN_OR_RETURN(rc.secrets, OptArray(co, "secrets", "container"));
    if (auto* e = co.if_contains("emptyDirs"); e && e->is_array()) rc.empty_dirs = e->as_array();
    d.containers.push_back(std::move(rc));
  }
  if (auto* jc = o->if_contains("jobConfig")) d.job_config = *jc;
  IL_ASSIGN_OR_RETURN(d.job_script, OptString(*o, "jobScript", "pod data"));
  return d;
}

json::value ToJson(const RetrievedPodData& d) {
  json::object o;
  o["pod"] = d.pod;
  json::array cs;
  for (const auto& c : d.containers) {
    json::object co;
    co["name"] = c.name;
    co["configMaps"] = c.config_maps;
    co["projectedvolumemaps"] = c.projected_volume_maps;
    co["secrets"] = c.secrets;
    co["emptyDirs"] = c.empty_dirs;
    cs.push_back(std::move(co));
  }
  o["container"] = std::move(cs);
  if (!d.job_config.is_null()) o["jobConfig"] = d.job_config;
  if (!d.job_script.empty()) o["jobScript"] = d.job_script;
  return o;
}

Result<CreateResult> ParseCreateResult(const json::value& v) {
  IL_ASSIGN_OR_RETURN(auto o, AsObject(v, "create reply"));
  CreateResult c;
  IL_ASSIGN_OR_RETURN(c.pod_uid, OptString(*o, "PodUID", "create reply"));
  IL_ASSIGN_OR_RETURN(c.pod_jid, OptString(*o, "PodJID", "create reply"));
  return c;
}

json::value ToJson(const CreateResult& c) {
  return json::object{{"PodUID", c.pod_uid}, {"PodJID", c.pod_jid}};
}

Result<PodStatus> ParsePodStatus(const json::value& v) {
  IL_ASSIGN_OR_RETURN(auto o, AsObject(v, "pod status"));
  PodStatus s;
  IL_ASSIGN_OR_RETURN(s.name, OptString(*o, "name", "pod status"));
  IL_ASSIGN_OR_RETURN(s.uid, OptString(*o, "UID", "pod status"));
  IL_ASSIGN_OR_RETURN(s.ns, OptString(*o, "namespace", "pod status"));
  IL_ASSIGN_OR_RETURN(s.jid, OptString(*o, "JID", "pod status"));
  IL_ASSIGN_OR_RETURN(s.containers, OptArray(*o, "containers", "pod status"));
  IL_ASSIGN_OR_RETURN(s.init_containers, OptArray(*o, "initContainers", "pod status"));
  if (auto* ip = o->if_contains("podIP")) s.pod_ip = *ip;
  IL_ASSIGN_OR_RETURN(s.events, OptArray(*o, "events", "pod status"));
  return s;
}

json::value ToJson(const PodStatus& s) {
  json::object o;
  o["name"] = s.name;
  o["UID"] = s.uid;
  o["namespace"] = s.ns;
  o["JID"] = s.jid;
  o["containers"] = s.containers;
  o["initContainers"] = s.init_containers;
  if (!s.pod_ip.is_null()) o["podIP"] = s.pod_ip;
  if (!s.events.empty()) o["events"] = s.events;
  return o;
}

Result<std::vector<PodStatus>> ParsePodStatusList(const json::value& v) {
  std::vector<PodStatus> out;
  if (v.is_null()) return out;  // upstream answers `null` when nothing is cached
  if (!v.is_array()) return Bad("status reply must be a list");
  for (const auto& e : v.as_array()) {
    IL_ASSIGN_OR_RETURN(auto s, ParsePodStatus(e));
    out.push_back(std::move(s));
  }
  return out;
}

json::value ToJson(const std::vector<PodStatus>& list) {
  json::array a;
  a.reserve(list.size());
  for (const auto& s : list) a.push_back(ToJson(s));
  return a;
}

Result<LogRequest> ParseLogRequest(const json::value& v) {
  IL_ASSIGN_OR_RETURN(auto o, AsObject(v, "log request"));
  LogRequest r;
  IL_ASSIGN_OR_RETURN(r.ns, OptString(*o, "Namespace", "log request"));
  IL_ASSIGN_OR_RETURN(r.pod_uid, OptString(*o, "PodUID", "log request"));
  IL_ASSIGN_OR_RETURN(r.pod_name, OptString(*o, "PodName", "log request"));
  IL_ASSIGN_OR_RETURN(r.container, OptString(*o, "ContainerName", "log request"));
  if (auto* opts = o->if_contains("Opts"); opts && !opts->is_null()) {
    IL_ASSIGN_OR_RETURN(auto oo, AsObject(*opts, "log request Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.tail, OptInt(*oo, "Tail", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.limit_bytes, OptInt(*oo, "Bytes", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.timestamps, OptBool(*oo, "Timestamps", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.follow, OptBool(*oo, "Follow", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.previous, OptBool(*oo, "Previous", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.since_seconds, OptInt(*oo, "SinceSeconds", "Opts"));
    IL_ASSIGN_OR_RETURN(r.opts.since_time, OptString(*oo, "SinceTime", "Opts"));
    // Go's zero time.Time marshals as this; treat it as unset.
    if (r.opts.since_time == "0001-01-01T00:00:00Z") r.opts.since_time.clear();
  }
  return r;
}

json::value ToJson(const LogRequest& r) {
  json::object opts;
  opts["Tail"] = r.opts.tail;
  opts["Bytes"] = r.opts.limit_bytes;
  opts["Timestamps"] = r.opts.timestamps;
  opts["Follow"] = r.opts.follow;
  opts["Previous"] = r.opts.previous;
  opts["SinceSeconds"] = r.opts.since_seconds;
  opts["SinceTime"] = r.opts.since_time.empty() ? "0001-01-01T00:00:00Z" : r.opts.since_time;
  return json::object{{"Namespace", r.ns},
                      {"PodUID", r.pod_uid},
                      {"PodName", r.pod_name},
                      {"ContainerName", r.container},
                      {"Opts", std::move(opts)}};
}

Result<PingResponse> ParsePingResponse(const json::value& v) {
  PingResponse p;
  if (!v.is_object()) return p;  // plain-text pings (older plugins) carry no data
  const auto& o = v.as_object();
  IL_ASSIGN_OR_RETURN(p.status, OptString(o, "status", "ping reply"));
  if (auto* r = o.if_contains("resources"); r && r->is_object()) p.resources = r->as_object();
  if (auto* t = o.if_contains("taints"); t && t->is_array()) {
    p.taints = t->as_array();
    p.has_taints = true;
  }
  if (auto* e = o.if_contains("extensions"); e && e->is_object()) p.extensions = e->as_object();
  return p;
}

bool SupportsStreaming(const PingResponse& p, std::string_view op) {
  auto* ext = p.extensions.if_contains("interlink-cpp.io/streaming");
  if (!ext || !ext->is_object()) return false;
  auto* v = ext->as_object().if_contains("version");
  if (!v || !v->is_string() || v->as_string() != "v1") return false;
  auto* ops = ext->as_object().if_contains("operations");
  if (!ops || !ops->is_array()) return false;
  for (const auto& o : ops->as_array()) {
    if (o.is_string() && o.as_string() == op) return true;
  }
  return false;
}

json::value ToJson(const PingResponse& p) {
  json::object o;
  if (!p.status.empty()) o["status"] = p.status;
  if (!p.resources.empty()) o["resources"] = p.resources;
  if (p.has_taints) o["taints"] = p.taints;
  if (!p.extensions.empty()) o["extensions"] = p.extensions;
  return o;
}

bool IsSafeUid(std::string_view s) {
  if (s.empty() || s.size() > 128 || s.front() == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Status ValidateLogRequest(const LogRequest& r) {
  if (!IsDnsLabel(r.ns)) return Bad("Namespace '" + r.ns + "' is not a valid DNS-1123 label");
  if (!IsSafeUid(r.pod_uid)) return Bad("PodUID '" + r.pod_uid + "' is malformed");
  if (!r.container.empty() && !IsDnsLabel(r.container)) {
    return Bad("ContainerName '" + r.container + "' is not a valid DNS-1123 label");
  }
  if (r.opts.tail < 0 || r.opts.limit_bytes < 0 || r.opts.since_seconds < 0) {
    return Bad("Tail, Bytes and SinceSeconds must not be negative");
  }
  if (r.opts.tail > 0 && r.opts.limit_bytes > 0) return Bad("Tail and Bytes cannot both be set");
  if (r.opts.since_seconds > 0 && !r.opts.since_time.empty()) {
    return Bad("SinceSeconds and SinceTime cannot both be set");
  }
  if (!r.opts.since_time.empty() && !ParseRfc3339(r.opts.since_time)) {
    return Bad("SinceTime '" + r.opts.since_time + "' is not an RFC 3339 time");
  }
  return Status::Ok();
}

}  // namespace il::api

namespace il::api {
Result<std::vector<json::value>> ParsePodList(const json::value& v) {
  std::vector<json::value> pods;
  if (v.is_null()) return pods;
  if (v.is_array()) {
    for (const auto& p : v.as_array()) pods.emplace_back(p, json::storage_ptr());
  } else if (v.is_object() && v.as_object().contains("metadata")) {
    pods.emplace_back(v, json::storage_ptr());
  } else if (v.is_object() && v.as_object().contains("pods")) {
    const auto& m = v.as_object().at("pods");
    if (m.is_object()) {
      for (const auto& kv : m.as_object()) pods.emplace_back(kv.value(), json::storage_ptr());
    } else if (m.is_array()) {
      for (const auto& p : m.as_array()) pods.emplace_back(p, json::storage_ptr());
    } else if (!m.is_null()) {
      return InvalidArgument("\"pods\" must be a map or a list of pods");
    }
  } else {
    return InvalidArgument("expected a pod, a list of pods or {\"pods\": {...}}");
  }
  for (const auto& p : pods) IL_RETURN_IF_ERROR(ValidatePod(p));
  return pods;
}
}  // namespace il::api
