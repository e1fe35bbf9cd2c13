#include "sidecars/docker/container_env.h"

#include <map>

#include "api/pod.h"
#include "sidecars/docker/str_cat.h"

namespace il::docker {
namespace json = boost::json;

namespace {

bool Optional(const json::value* ref) {
  if (!ref) return false;
  const auto* o = api::Find(*ref, {"optional"});
  return o && o->is_bool() && o->as_bool();
}

bool ValidEnvName(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (c == '=' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

class EnvBuilder {
 public:
  void Set(const std::string& name, std::string value) {
    auto it = index_.find(name);
    if (it != index_.end()) {
      list_[it->second].second = std::move(value);
      return;
    }
    index_[name] = list_.size();
    list_.emplace_back(name, std::move(value));
  }
  const EnvList& list() const { return list_; }

 private:
  EnvList list_;
  std::map<std::string, size_t> index_;
};

Status AddEnvFrom(const json::value& c, const PodSources& src, EnvBuilder* env) {
  const auto* from = api::Find(c, {"envFrom"});
  if (!from || !from->is_array()) return Status::Ok();
  for (const auto& f : from->as_array()) {
    std::string prefix = api::GetString(f, {"prefix"});
    const KeyData* data = nullptr;
    const json::value* ref = nullptr;
    std::string what;
    if ((ref = api::Find(f, {"configMapRef"}))) {
      what = "configMap " + api::GetString(*ref, {"name"});
      data = src.ConfigMap(api::GetString(*ref, {"name"}));
    } else if ((ref = api::Find(f, {"secretRef"}))) {
      what = "secret " + api::GetString(*ref, {"name"});
      data = src.Secret(api::GetString(*ref, {"name"}));
    } else {
      continue;
    }
    if (!data) {
      if (Optional(ref)) continue;
      return FailedPrecondition("envFrom " + what + " was not provided with the pod");
    }
    for (const auto& [k, v] : *data) {
      if (ValidEnvName(prefix + k)) env->Set(prefix + k, v);  // kubelet skips invalid keys
    }
  }
  return Status::Ok();
}

// value of one env entry; nullopt when it resolves to nothing (optional, unknown field).
Result<std::optional<std::string>> EnvValue(const json::value& e, const std::string& container,
                                            const PodSources& src) {
  const auto* vf = api::Find(e, {"valueFrom"});
  if (!vf || !vf->is_object()) {
    return std::optional<std::string>(api::GetString(e, {"value"}));
  }
  if (const auto* f = api::Find(*vf, {"fieldRef", "fieldPath"}); f && f->is_string()) {
    return src.FieldRef(std::string(f->as_string()));
  }
  if (const auto* r = api::Find(*vf, {"resourceFieldRef"})) {
    std::string cn = api::GetString(*r, {"containerName"});
    return src.ResourceField(cn.empty() ? container : cn, api::GetString(*r, {"resource"}),
                             api::GetString(*r, {"divisor"}));
  }
  const json::value* ref = nullptr;
  const KeyData* data = nullptr;
  std::string what;
  if ((ref = api::Find(*vf, {"configMapKeyRef"}))) {
    what = "configMap " + api::GetString(*ref, {"name"});
    data = src.ConfigMap(api::GetString(*ref, {"name"}));
  } else if ((ref = api::Find(*vf, {"secretKeyRef"}))) {
    what = "secret " + api::GetString(*ref, {"name"});
    data = src.Secret(api::GetString(*ref, {"name"}));
  } else {
    return std::optional<std::string>();
  }
  std::string key = api::GetString(*ref, {"key"});
  if (data) {
    if (auto it = data->find(key); it != data->end()) return std::optional<std::string>(it->second);
  }
  if (Optional(ref)) return std::optional<std::string>();
  return FailedPrecondition(
      "env " + api::GetString(e, {"name"}) + ": " + what +
      (data ? " has no key '" + key + "'" : " was not provided with the pod"));
}

}  // namespace

Result<EnvList> ResolveEnv(const json::value& c, const PodSources& src) {
  EnvBuilder env;
  IL_RETURN_IF_ERROR(AddEnvFrom(c, src, &env));
  std::string cname = api::GetString(c, {"name"});
  const auto* list = api::Find(c, {"env"});
  if (list && list->is_array()) {
    for (const auto& e : list->as_array()) {
      std::string name = api::GetString(e, {"name"});
      if (!ValidEnvName(name)) {
        return InvalidArgument(Cat("container ", cname, ": env name '", name, "' is invalid"));
      }
      IL_ASSIGN_OR_RETURN(std::optional<std::string> v, EnvValue(e, cname, src));
      if (v) env.Set(name, std::move(*v));
    }
  }
  return env.list();
}

}  // namespace il::docker
