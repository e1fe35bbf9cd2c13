#include "vk/env_resolver.h"

#include "api/pod.h"
#include "kube/base64.h"
#include "vk/quantity.h"

namespace il::vk {
namespace json = boost::json;
using api::GetString;

namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Splits "metadata.labels['key']" / "metadata.annotations['key']" into ("labels", "key").
// A single linear scan: a pod spec's fieldPath must never reach a backtracking matcher.
std::optional<std::pair<std::string, std::string>> SubscriptPath(std::string_view path) {
  for (std::string_view field : {"labels", "annotations"}) {
    std::string head = "metadata." + std::string(field) + "['";
    if (path.size() < head.size() + 2 || path.substr(0, head.size()) != head) continue;
    if (path.substr(path.size() - 2) != "']") return std::nullopt;
    std::string_view key = path.substr(head.size(), path.size() - head.size() - 2);
    if (key.find('\'') != std::string_view::npos) return std::nullopt;
    return std::make_pair(std::string(field), std::string(key));
  }
  return std::nullopt;
}

}  // namespace

// The kubelet's rule ([-._a-zA-Z][-._a-zA-Z0-9]*), checked in one pass: names of any length
// (an envFrom prefix can be as long as the API server lets an object be) cost linear time.
bool IsEnvVarName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_')
      return false;
  }
  return true;
}

std::string RenderMap(const json::value* map) {
  if (!map || !map->is_object()) return "";
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : map->as_object()) {
    sorted[std::string(k)] = v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  }
  std::string out;
  for (const auto& [k, v] : sorted) out += k + "=" + json::serialize(json::string(v)) + "\n";
  return out;
}

std::optional<std::string> ResolveFieldPath(const json::value& pod, const std::string& path,
                                            const std::string& host_ip) {
  if (path == "metadata.name") return api::PodName(pod);
  if (path == "metadata.namespace") return api::PodNamespace(pod);
  if (path == "metadata.uid") return api::PodUid(pod);
  if (path == "metadata.labels") return RenderMap(api::Find(pod, {"metadata", "labels"}));
  if (path == "metadata.annotations") {
    return RenderMap(api::Find(pod, {"metadata", "annotations"}));
  }
  if (auto sub = SubscriptPath(path)) {
    const auto* v = api::Find(pod, {"metadata", sub->first, sub->second});
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  if (path == "spec.nodeName") return GetString(pod, {"spec", "nodeName"});
  if (path == "spec.serviceAccountName") return GetString(pod, {"spec", "serviceAccountName"});
  if (path == "status.hostIP" || path == "status.hostIPs") return host_ip;
  if (path == "status.podIP" || path == "status.podIPs") {
    std::string ip = GetString(pod, {"status", "podIP"});
    if (!ip.empty()) return ip;
  }
  return std::nullopt;  // not known before the backend runs the pod
}

std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {  // "$$" -> "$"
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      auto close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out += in[i];
  }
  return out;
}

namespace {

class EnvBuilder {
 public:
  void Set(const std::string& name, const std::string& value) {
    vars_[name] = value;
    auto it = index_.find(name);
    json::object e{{"name", name}, {"value", value}};
    if (it != index_.end()) {
      out_[it->second] = std::move(e);
    } else {
      index_[name] = out_.size();
      out_.push_back(std::move(e));
    }
  }
  void Keep(const json::value& entry) { out_.push_back(entry); }
  bool Has(const std::string& name) const { return index_.count(name) > 0; }
  const std::map<std::string, std::string>& vars() const { return vars_; }
  json::array Take() { return std::move(out_); }

 private:
  json::array out_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> vars_;
};

// Reads key `key` of a ConfigMap or Secret; NotFound when the object or key is missing.
Result<std::string> KeyOf(ObjectSource& src, bool secret, const std::string& ns,
                          const std::string& name, const std::string& key) {
  auto obj = secret ? src.GetSecret(ns, name) : src.GetConfigMap(ns, name);
  if (!obj.ok()) return obj.status();
  const auto* v = api::Find(*obj, {"data", key});
  if (!v || !v->is_string()) {
    return NotFound("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") + ns +
                    "/" + name);
  }
  if (!secret) return std::string(v->as_string());
  return kube::Base64Decode(v->as_string());
}

Status FromSource(const json::value& from, const std::string& ns, ObjectSource& src,
                  EnvBuilder* env, std::vector<std::string>* warnings) {
  std::string prefix = GetString(from, {"prefix"});
  for (bool secret : {false, true}) {
    const auto* ref = api::Find(from, {secret ? "secretRef" : "configMapRef"});
    if (!ref) continue;
    std::string name = GetString(*ref, {"name"});
    const auto* opt = api::Find(*ref, {"optional"});
    bool optional = opt && opt->is_bool() && opt->as_bool();
    auto obj = secret ? src.GetSecret(ns, name) : src.GetConfigMap(ns, name);
    if (!obj.ok()) {
      if (obj.status().code() == StatusCode::kNotFound && optional) continue;
      return obj.status();
    }
    const auto* data = api::Find(*obj, {"data"});
    if (!data || !data->is_object()) continue;
    for (const auto& [k, v] : data->as_object()) {
      std::string var = prefix + std::string(k);
      if (!IsEnvVarName(var)) {
        warnings->push_back("skipping invalid environment variable name " + var);
        continue;
      }
      std::string value = v.is_string() ? std::string(v.as_string()) : "";
      if (secret) {
        auto d = kube::Base64Decode(value);
        if (!d.ok()) return d.status().WithContext("secret " + name + " key " + std::string(k));
        value = *d;
      }
      env->Set(var, value);
    }
  }
  return Status::Ok();
}

std::optional<std::string> ResourceValue(const json::value& pod, const json::value& container,
                                         const json::value& ref, const EnvOptions& opt) {
  std::string cname = GetString(ref, {"containerName"});
  const json::value* target = &container;
  if (!cname.empty()) {
    target = nullptr;
    for (const auto* list : {&api::Containers(pod), &api::InitContainers(pod)}) {
      for (const auto& c : *list) {
        if (GetString(c, {"name"}) == cname) target = &c;
      }
    }
    if (!target) return std::nullopt;
  }
  std::string resource = GetString(ref, {"resource"});  // "limits.cpu"
  auto dot = resource.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string kind = resource.substr(0, dot), name = resource.substr(dot + 1);
  std::string value = GetString(*target, {"resources", kind, name});
  if (value.empty() && kind == "requests")
    value = GetString(*target, {"resources", "limits", name});
  if (value.empty()) {
    auto it = opt.node_allocatable.find(name);
    value = it != opt.node_allocatable.end() ? it->second : (kind == "requests" ? "0" : "");
  }
  if (value.empty()) return std::nullopt;
  return DivideQuantity(value, GetString(ref, {"divisor"}));
}

Status ResolveContainer(json::value& pod, json::value& c, ObjectSource& src, const EnvOptions& opt,
                        std::vector<std::string>* warnings) {
  const std::string ns = api::PodNamespace(pod);
  EnvBuilder env;
  if (const auto* from = api::Find(c, {"envFrom"}); from && from->is_array()) {
    for (const auto& f : from->as_array())
      IL_RETURN_IF_ERROR(FromSource(f, ns, src, &env, warnings));
  }
  if (const auto* list = api::Find(c, {"env"}); list && list->is_array()) {
    for (const auto& e : list->as_array()) {
      std::string name = GetString(e, {"name"});
      const auto* vf = api::Find(e, {"valueFrom"});
      if (!vf) {
        env.Set(name, ExpandVars(GetString(e, {"value"}), env.vars()));
        continue;
      }
      std::optional<std::string> value;
      bool skip = false;
      for (bool secret : {false, true}) {
        const auto* ref = api::Find(*vf, {secret ? "secretKeyRef" : "configMapKeyRef"});
        if (!ref) continue;
        const auto* o = api::Find(*ref, {"optional"});
        auto r = KeyOf(src, secret, ns, GetString(*ref, {"name"}), GetString(*ref, {"key"}));
        if (!r.ok()) {
          if (r.status().code() == StatusCode::kNotFound && o && o->is_bool() && o->as_bool()) {
            skip = true;  // optional and missing: the variable is not set
            break;
          }
          return r.status();
        }
        value = *r;
      }
      if (skip) continue;
      if (const auto* fr = api::Find(*vf, {"fieldRef"})) {
        value = ResolveFieldPath(pod, GetString(*fr, {"fieldPath"}), opt.host_ip);
      }
      if (const auto* rr = api::Find(*vf, {"resourceFieldRef"}))
        value = ResourceValue(pod, c, *rr, opt);
      if (value) {
        env.Set(name, *value);
      } else {
        env.Keep(e);  // unknown now (e.g. status.podIP): left for the backend
      }
    }
  }
  if (!opt.kubernetes_api_addr.empty() && !opt.kubernetes_api_port.empty()) {
    const std::string& a = opt.kubernetes_api_addr;
    const std::string& p = opt.kubernetes_api_port;
    std::string tcp = "tcp://";
    tcp.append(a).append(":").append(p);
    for (auto [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"KUBERNETES_SERVICE_HOST", a},
                                                          {"KUBERNETES_SERVICE_PORT", p},
                                                          {"KUBERNETES_SERVICE_PORT_HTTPS", p},
                                                          {"KUBERNETES_PORT", tcp},
                                                          {"KUBERNETES_PORT_443_TCP", tcp},
                                                          {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
                                                          {"KUBERNETES_PORT_443_TCP_PORT", p},
                                                          {"KUBERNETES_PORT_443_TCP_ADDR", a}}) {
      if (!env.Has(k)) env.Set(k, v);
    }
  }
  auto& obj = c.as_object();
  // The kubelet expands $(VAR) in command and args with the container's environment.
  for (const char* key : {"command", "args"}) {
    auto* list = obj.if_contains(key);
    if (!list || !list->is_array()) continue;
    for (auto& word : list->as_array()) {
      if (word.is_string()) word = ExpandVars(std::string(word.as_string()), env.vars());
    }
  }
  obj.erase("envFrom");
  json::array out = env.Take();
  if (out.empty()) {
    obj.erase("env");
  } else {
    obj["env"] = std::move(out);
  }
  return Status::Ok();
}

}  // namespace

Status ResolveEnv(json::value& pod, ObjectSource& source, const EnvOptions& options,
                  std::vector<std::string>* warnings) {
  auto* spec = pod.is_object() ? pod.as_object().if_contains("spec") : nullptr;
  if (!spec || !spec->is_object()) return InvalidArgument("pod has no spec");
  for (const char* key : {"initContainers", "containers"}) {
    auto* list = spec->as_object().if_contains(key);
    if (!list || !list->is_array()) continue;
    for (auto& c : list->as_array()) {
      if (!c.is_object()) continue;
      Status st = ResolveContainer(pod, c, source, options, warnings);
      if (!st.ok()) return st.WithContext("container " + GetString(c, {"name"}));
    }
  }
  return Status::Ok();
}

}  // namespace il::vk
