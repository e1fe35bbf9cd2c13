#include "vk/pod_resources.h"

#include "api/pod.h"
#include "kube/base64.h"
#include "vk/quantity.h"

namespace il::vk {
namespace json = boost::json;
using api::GetString;

namespace {

bool Optional(const json::value& v) {
  const auto* o = api::Find(v, {"optional"});
  return o && o->is_bool() && o->as_bool();
}

bool IsUtf8Text(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += len;
  }
  return true;
}

json::object MapFor(const json::value& pod, const std::string& volume) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", volume}, {"namespace", api::PodNamespace(pod)}}},
          {"data", json::object{}}};
}

// Files of a downwardAPI item list into `data`.
void DownwardItems(const json::value& pod, const json::array& items, const CreateOptions& opt,
                   json::object& data) {
  for (const auto& it : items) {
    std::string path = GetString(it, {"path"});
    if (const auto* fr = api::Find(it, {"fieldRef"})) {
      auto v = ResolveFieldPath(pod, GetString(*fr, {"fieldPath"}), opt.env.host_ip);
      data[path] = v.value_or("");
    } else if (const auto* rr = api::Find(it, {"resourceFieldRef"})) {
      std::string cname = GetString(*rr, {"containerName"});
      std::string resource = GetString(*rr, {"resource"});
      auto dot = resource.find('.');
      std::string value;
      for (const auto& c : api::Containers(pod)) {
        if (GetString(c, {"name"}) != cname || dot == std::string::npos) continue;
        value = GetString(c, {"resources", resource.substr(0, dot), resource.substr(dot + 1)});
      }
      if (value.empty() && dot != std::string::npos) {
        auto a = opt.env.node_allocatable.find(resource.substr(dot + 1));
        if (a != opt.env.node_allocatable.end()) value = a->second;
      }
      data[path] =
          value.empty() ? "" : DivideQuantity(value, GetString(*rr, {"divisor"})).value_or("");
    }
  }
}

// Copies keys (items or all) of a ConfigMap/Secret into the projected map.
Status ProjectKeys(const json::value& obj, const json::value& src, bool secret, json::object& data,
                   json::object& binary) {
  const auto* d = api::Find(obj, {"data"});
  if (!d || !d->is_object()) return Status::Ok();
  auto put = [&](const std::string& key, const std::string& path) -> Status {
    const auto* v = d->as_object().if_contains(key);
    if (!v || !v->is_string()) {
      return NotFound("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") +
                      GetString(obj, {"metadata", "name"}));
    }
    if (!secret) {
      data[path] = v->as_string();
      return Status::Ok();
    }
    IL_ASSIGN_OR_RETURN(std::string plain, kube::Base64Decode(v->as_string()));
    if (IsUtf8Text(plain))
      data[path] = plain;
    else
      binary[path] = v->as_string();
    return Status::Ok();
  };
  const auto* items = api::Find(src, {"items"});
  if (items && items->is_array() && !items->as_array().empty()) {
    for (const auto& i : items->as_array()) {
      IL_RETURN_IF_ERROR(put(GetString(i, {"key"}), GetString(i, {"path"})));
    }
  } else {
    for (const auto& [k, v] : d->as_object())
      IL_RETURN_IF_ERROR(put(std::string(k), std::string(k)));
  }
  return Status::Ok();
}

Result<json::object> Projected(const json::value& pod, const std::string& volume,
                               const json::array& sources, ObjectSource& src,
                               const CreateOptions& opt) {
  json::object map = MapFor(pod, volume);
  json::object data, binary;
  const std::string ns = api::PodNamespace(pod);
  for (const auto& s : sources) {
    if (const auto* cm = api::Find(s, {"configMap"})) {
      std::string name = GetString(*cm, {"name"});
      if (name == "kube-root-ca.crt" && !opt.kube_root_ca.empty()) {
        const auto* items = api::Find(*cm, {"items"});
        if (items && items->is_array() && !items->as_array().empty()) {
          for (const auto& i : items->as_array()) data[GetString(i, {"path"})] = opt.kube_root_ca;
        } else {
          data["ca.crt"] = opt.kube_root_ca;
        }
        continue;
      }
      auto obj = src.GetConfigMap(ns, name);
      if (!obj.ok()) {
        if (obj.status().code() == StatusCode::kNotFound && Optional(*cm)) continue;
        return obj.status();
      }
      Status st = ProjectKeys(*obj, *cm, false, data, binary);
      if (!st.ok() && !(st.code() == StatusCode::kNotFound && Optional(*cm))) return st;
    } else if (const auto* sec = api::Find(s, {"secret"})) {
      auto obj = src.GetSecret(ns, GetString(*sec, {"name"}));
      if (!obj.ok()) {
        if (obj.status().code() == StatusCode::kNotFound && Optional(*sec)) continue;
        return obj.status();
      }
      Status st = ProjectKeys(*obj, *sec, true, data, binary);
      if (!st.ok() && !(st.code() == StatusCode::kNotFound && Optional(*sec))) return st;
    } else if (const auto* tok = api::Find(s, {"serviceAccountToken"})) {
      TokenSpec spec{GetString(*tok, {"audience"}), api::GetInt(*tok, {"expirationSeconds"}, 3600),
                     api::PodName(pod), api::PodUid(pod)};
      std::string sa = GetString(pod, {"spec", "serviceAccountName"});
      if (sa.empty()) sa = "default";
      IL_ASSIGN_OR_RETURN(std::string token, src.RequestToken(ns, sa, spec));
      data[GetString(*tok, {"path"})] = token;
    } else if (const auto* dapi = api::Find(s, {"downwardAPI"})) {
      if (const auto* items = api::Find(*dapi, {"items"}); items && items->is_array()) {
        DownwardItems(pod, items->as_array(), opt, data);
      }
    }
  }
  map["data"] = std::move(data);
  if (!binary.empty()) map["binaryData"] = std::move(binary);
  return map;
}

}  // namespace

json::value PodForBackend(const json::value& pod) {
  json::value p = pod;
  if (p.is_object()) {
    p.as_object().erase("status");
    if (auto* md = p.as_object().if_contains("metadata"); md && md->is_object()) {
      md->as_object().erase("managedFields");
    }
  }
  return p;
}

Result<api::PodCreateRequests> BuildCreateRequest(const json::value& pod_in, ObjectSource& source,
                                                  const CreateOptions& opt, std::string* reason,
                                                  std::vector<std::string>* warnings) {
  CachingObjectSource src(source);
  api::PodCreateRequests req;
  req.jobscript_url = opt.jobscript_url;
  json::value pod = PodForBackend(pod_in);
  const std::string ns = api::PodNamespace(pod);
  auto* volumes = pod.as_object()["spec"].as_object().if_contains("volumes");
  if (volumes && volumes->is_array()) {
    for (auto& vol : volumes->as_array()) {
      std::string vname = GetString(vol, {"name"});
      Status st;
      if (const auto* cm = api::Find(vol, {"configMap"})) {
        auto obj = src.GetConfigMap(ns, GetString(*cm, {"name"}));
        if (obj.ok())
          req.configmaps.push_back(*obj);
        else if (!(obj.status().code() == StatusCode::kNotFound && Optional(*cm)))
          st = obj.status();
      } else if (const auto* sec = api::Find(vol, {"secret"})) {
        auto obj = src.GetSecret(ns, GetString(*sec, {"secretName"}));
        if (obj.ok())
          req.secrets.push_back(*obj);
        else if (!(obj.status().code() == StatusCode::kNotFound && Optional(*sec)))
          st = obj.status();
      } else if (opt.disable_projected_volumes) {
        continue;
      } else if (const auto* pr = api::Find(vol, {"projected", "sources"}); pr && pr->is_array()) {
        auto m = Projected(pod, vname, pr->as_array(), src, opt);
        if (m.ok())
          req.projected_volumes_maps.push_back(std::move(*m));
        else
          st = m.status();
      } else if (const auto* dapi = api::Find(vol, {"downwardAPI"})) {
        json::value items =
            api::Find(*dapi, {"items"}) ? *api::Find(*dapi, {"items"}) : json::array{};
        json::array sources{json::object{{"downwardAPI", {{"items", items}}}}};
        auto m = Projected(pod, vname, sources, src, opt);
        if (m.ok())
          req.projected_volumes_maps.push_back(std::move(*m));
        else
          st = m.status();
        json::object projected{{"sources", sources}};
        if (const auto* mode = api::Find(*dapi, {"defaultMode"})) projected["defaultMode"] = *mode;
        vol.as_object().erase("downwardAPI");
        vol.as_object()["projected"] = std::move(projected);
      }
      if (!st.ok()) {
        *reason = "FailedMount";
        return Status(
            st.code() == StatusCode::kNotFound ? StatusCode::kFailedPrecondition : st.code(),
            "MountVolume.SetUp failed for volume \"" + vname + "\": " + st.message());
      }
    }
  }
  Status st = ResolveEnv(pod, src, opt.env, warnings);
  if (!st.ok()) {
    *reason = "CreateContainerConfigError";
    return Status(st.code() == StatusCode::kNotFound ? StatusCode::kFailedPrecondition : st.code(),
                  st.message());
  }
  req.pod = std::move(pod);
  return req;
}

}  // namespace il::vk
