#include "sidecars/docker/pod_sources.h"

#include <algorithm>
#include <vector>

#include "api/pod.h"
#include "api/quantity.h"
#include "core/base64.h"

namespace il::docker {
namespace json = boost::json;

namespace {

// data (plain strings) and binaryData/base64 data of a ConfigMap or Secret object.
Status Collect(const json::value& obj, bool data_is_base64, KeyData* out) {
  const auto* data = api::Find(obj, {"data"});
  if (data && data->is_object()) {
    for (const auto& [k, v] : data->as_object()) {
      if (!v.is_string()) continue;
      if (!data_is_base64) {
        (*out)[std::string(k)] = std::string(v.as_string());
        continue;
      }
      auto d = DecodeBase64(v.as_string());
      if (!d.ok()) return d.status().WithContext("key " + std::string(k));
      (*out)[std::string(k)] = std::move(*d);
    }
  }
  const auto* bin = api::Find(obj, {"binaryData"});
  if (bin && bin->is_object()) {
    for (const auto& [k, v] : bin->as_object()) {
      if (!v.is_string()) continue;
      auto d = DecodeBase64(v.as_string());
      if (!d.ok()) return d.status().WithContext("key " + std::string(k));
      (*out)[std::string(k)] = std::move(*d);
    }
  }
  const auto* str = api::Find(obj, {"stringData"});
  if (data_is_base64 && str && str->is_object()) {
    for (const auto& [k, v] : str->as_object()) {
      if (v.is_string()) (*out)[std::string(k)] = std::string(v.as_string());
    }
  }
  return Status::Ok();
}

Status AddAll(const json::array& list, bool base64, const char* kind,
              std::map<std::string, KeyData>* out) {
  for (const auto& obj : list) {
    std::string name = api::GetString(obj, {"metadata", "name"});
    if (name.empty() || out->count(name)) continue;
    KeyData d;
    Status s = Collect(obj, base64, &d);
    if (!s.ok()) return s.WithContext(std::string(kind) + " " + name);
    (*out)[name] = std::move(d);
  }
  return Status::Ok();
}

// Labels/annotations as the kubelet renders them: sorted key="value" lines (Go %q quoting).
std::string RenderMap(const json::value* m) {
  std::vector<std::pair<std::string, std::string>> kv;
  if (m && m->is_object()) {
    for (const auto& [k, v] : m->as_object()) {
      if (v.is_string()) kv.emplace_back(std::string(k), std::string(v.as_string()));
    }
  }
  std::sort(kv.begin(), kv.end());
  std::string out;
  for (const auto& [k, v] : kv) {
    if (!out.empty()) out += '\n';
    out += k + "=\"";
    for (char c : v) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

// "metadata.labels['app']" -> ("metadata.labels", "app").
bool SplitSubscript(const std::string& path, std::string* base, std::string* key) {
  auto open = path.find("['");
  if (open == std::string::npos || path.size() < open + 4 ||
      path.compare(path.size() - 2, 2, "']")) {
    return false;
  }
  *base = path.substr(0, open);
  *key = path.substr(open + 2, path.size() - open - 4);
  return true;
}

}  // namespace

Result<std::string> DecodeBase64(std::string_view in) { return Base64Decode(in); }

Result<PodSources> PodSources::Build(const api::RetrievedPodData& data) {
  PodSources s;
  s.pod_ = data.pod;
  for (const auto& c : data.containers) {
    IL_RETURN_IF_ERROR(AddAll(c.config_maps, false, "configMap", &s.config_maps_));
    IL_RETURN_IF_ERROR(AddAll(c.secrets, true, "secret", &s.secrets_));
    IL_RETURN_IF_ERROR(AddAll(c.projected_volume_maps, false, "projected volume", &s.projected_));
  }
  return s;
}

std::optional<std::string> PodSources::FieldRef(const std::string& path) const {
  if (path == "metadata.name") return api::PodName(pod_);
  if (path == "metadata.namespace") {
    std::string ns = api::PodNamespace(pod_);
    return ns.empty() ? "default" : ns;
  }
  if (path == "metadata.uid") return api::PodUid(pod_);
  if (path == "metadata.labels") return RenderMap(api::Find(pod_, {"metadata", "labels"}));
  if (path == "metadata.annotations") {
    return RenderMap(api::Find(pod_, {"metadata", "annotations"}));
  }
  if (path == "spec.nodeName") return api::GetString(pod_, {"spec", "nodeName"});
  if (path == "spec.serviceAccountName") {
    return api::GetString(pod_, {"spec", "serviceAccountName"});
  }
  if (path == "status.podIP" || path == "status.podIPs") {
    return api::GetString(pod_, {"status", "podIP"});
  }
  if (path == "status.hostIP" || path == "status.hostIPs") {
    return api::GetString(pod_, {"status", "hostIP"});
  }
  std::string base, key;
  if (SplitSubscript(path, &base, &key)) {
    if (base == "metadata.labels") return api::GetString(pod_, {"metadata", "labels", key});
    if (base == "metadata.annotations") {
      return api::GetString(pod_, {"metadata", "annotations", key});
    }
  }
  return std::nullopt;
}

std::optional<std::string> PodSources::ResourceField(const std::string& container,
                                                     const std::string& resource,
                                                     const std::string& divisor) const {
  auto dot = resource.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string kind = resource.substr(0, dot), name = resource.substr(dot + 1);
  for (const auto* list : {&api::Containers(pod_), &api::InitContainers(pod_)}) {
    for (const auto& c : *list) {
      if (api::GetString(c, {"name"}) != container) continue;
      std::string q = api::GetString(c, {"resources", kind, name});
      if (q.empty()) return std::nullopt;
      std::string div = divisor.empty() ? "1" : divisor;
      auto v = api::QuantityMilli(q);
      auto d = api::QuantityMilli(div);
      if (!v.ok() || !d.ok() || *d <= 0) return std::nullopt;
      return std::to_string((*v + *d - 1) / *d);
    }
  }
  return std::nullopt;
}

}  // namespace il::docker
