#include "sidecars/slurm/volumes.h"

#include <filesystem>

#include "api/pod.h"
#include "core/base64.h"
#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

namespace json = boost::json;

// Objects interLink sent, by name: the same ConfigMap may be listed for several
// containers.
struct Sent {
  std::map<std::string, const json::value*> config_maps, secrets, projected;
};

Sent Collect(const api::RetrievedPodData& d) {
  Sent s;
  auto add = [](std::map<std::string, const json::value*>& m, const json::array& list) {
    for (const auto& o : list) m.emplace(api::GetString(o, {"metadata", "name"}), &o);
  };
  for (const auto& c : d.containers) {
    add(s.config_maps, c.config_maps);
    add(s.secrets, c.secrets);
    add(s.projected, c.projected_volume_maps);
  }
  return s;
}

Result<int> Mode(const json::value* v, int fallback, const std::string& where) {
  if (!v || v->is_null()) return fallback;
  if (!v->is_int64() && !v->is_uint64())
    return InvalidArgument(where + ": mode must be an integer");
  int64_t m = v->is_int64() ? v->as_int64() : static_cast<int64_t>(v->as_uint64());
  if (m < 0 || m > 0777) return InvalidArgument(where + ": mode must be between 0 and 0777");
  return static_cast<int>(m);
}

// key -> content of a ConfigMap / Secret / flattened projected map.
Result<std::map<std::string, std::string>> Contents(const json::value& obj, bool secret,
                                                    const std::string& where) {
  std::map<std::string, std::string> out;
  auto str_map = [&](const char* field, bool decode) -> Status {
    const auto* m = api::Find(obj, {field});
    if (!m || m->is_null()) return Status::Ok();
    if (!m->is_object()) return InvalidArgument(where + ": " + field + " must be a map");
    for (const auto& kv : m->as_object()) {
      if (!kv.value().is_string()) return InvalidArgument(where + ": values must be strings");
      std::string v(kv.value().as_string());
      if (decode) {
        auto d = Base64Decode(v);
        if (!d.ok())
          return InvalidArgument(where + ": key " + std::string(kv.key()) + ": " +
                                 d.status().message());
        v = std::move(*d);
      }
      out[std::string(kv.key())] = std::move(v);
    }
    return Status::Ok();
  };
  IL_RETURN_IF_ERROR(str_map("data", secret));
  IL_RETURN_IF_ERROR(str_map("binaryData", true));
  if (secret) IL_RETURN_IF_ERROR(str_map("stringData", false));
  return out;
}

// Writes the keys of one ConfigMap/Secret volume (honouring items and modes).
Status AddKeyFiles(const json::value& vol_src, const std::map<std::string, std::string>& data,
                   const std::string& dir, int default_mode, const std::string& where,
                   VolumePlan* plan) {
  const auto* items = api::Find(vol_src, {"items"});
  if (items && items->is_array() && !items->as_array().empty()) {
    for (const auto& it : items->as_array()) {
      std::string key = api::GetString(it, {"key"});
      std::string path = api::GetString(it, {"path"});
      if (!IsSafeRelativePath(path))
        return InvalidArgument(where + ": item path '" + path + "' is not a safe relative path");
      IL_ASSIGN_OR_RETURN(int mode, Mode(api::Find(it, {"mode"}), default_mode, where));
      auto d = data.find(key);
      if (d == data.end()) {
        if (api::Find(vol_src, {"optional"}) && api::Find(vol_src, {"optional"})->is_bool() &&
            api::Find(vol_src, {"optional"})->as_bool()) {
          continue;
        }
        return FailedPrecondition(where + ": key '" + key + "' not found");
      }
      plan->files.push_back({dir + "/" + path, d->second, mode});
    }
    return Status::Ok();
  }
  for (const auto& [key, content] : data) {
    if (!IsSafeRelativePath(key) || key.find('/') != std::string::npos) {
      return InvalidArgument(where + ": key '" + key + "' is not a valid file name");
    }
    plan->files.push_back({dir + "/" + key, content, default_mode});
  }
  return Status::Ok();
}

bool Optional(const json::value& src) {
  const auto* o = api::Find(src, {"optional"});
  return o && o->is_bool() && o->as_bool();
}

Status PlanOne(const json::value& vol, const Sent& sent, const std::string& job_dir,
               const std::vector<std::string>& allow, VolumePlan* plan) {
  std::string name = api::GetString(vol, {"name"});
  if (!IsSafeRelativePath(name) || name.find('/') != std::string::npos) {
    return InvalidArgument("volume name '" + name + "' is not valid");
  }
  const std::string where = "volume " + name;
  const std::string dir = job_dir + "/volumes/" + name;
  auto keyed = [&](const char* kind, const json::value& src, const char* name_field,
                   const std::map<std::string, const json::value*>& objs, bool secret) -> Status {
    std::string obj_name = api::GetString(src, {name_field});
    IL_ASSIGN_OR_RETURN(int mode, Mode(api::Find(src, {"defaultMode"}), 0644, where));
    plan->source[name] = dir;
    plan->read_only.insert(name);
    plan->dirs.push_back(dir);
    auto it = objs.find(obj_name);
    if (it == objs.end()) {
      if (Optional(src)) return Status::Ok();
      return FailedPrecondition(where + ": " + kind + " '" + obj_name +
                                "' was not sent by interLink");
    }
    IL_ASSIGN_OR_RETURN(auto data, Contents(*it->second, secret, where));
    return AddKeyFiles(src, data, dir, mode, where, plan);
  };
  if (const auto* cm = api::Find(vol, {"configMap"}))
    return keyed("ConfigMap", *cm, "name", sent.config_maps, false);
  if (const auto* s = api::Find(vol, {"secret"}))
    return keyed("Secret", *s, "secretName", sent.secrets, true);
  const json::value* proj = api::Find(vol, {"projected"});
  if (!proj) proj = api::Find(vol, {"downwardAPI"});
  if (proj) {
    IL_ASSIGN_OR_RETURN(int mode, Mode(api::Find(*proj, {"defaultMode"}), 0644, where));
    plan->source[name] = dir;
    plan->read_only.insert(name);
    plan->dirs.push_back(dir);
    auto it = sent.projected.find(name);  // the VK names the flattened map after the volume
    if (it == sent.projected.end()) {
      plan->warnings.push_back(where + ": projected content not sent by interLink; mounted empty");
      return Status::Ok();
    }
    IL_ASSIGN_OR_RETURN(auto data, Contents(*it->second, false, where));
    for (const auto& [path, content] : data) {
      if (!IsSafeRelativePath(path))
        return InvalidArgument(where + ": path '" + path + "' is not safe");
      plan->files.push_back({dir + "/" + path, content, mode});
    }
    return Status::Ok();
  }
  if (api::Find(vol, {"emptyDir"})) {
    std::string d = job_dir + "/emptydirs/" + name;
    plan->source[name] = d;
    plan->dirs.push_back(d);
    return Status::Ok();
  }
  if (const auto* hp = api::Find(vol, {"hostPath"})) {
    std::string path = api::GetString(*hp, {"path"});
    std::string type = api::GetString(*hp, {"type"});
    if (path.empty() || path[0] != '/' || path.find_first_of(":,\n\r") != std::string::npos ||
        HasNul(path)) {
      return InvalidArgument(where + ": hostPath '" + path +
                             "' must be absolute without ':' or ','");
    }
    std::string norm = std::filesystem::path(path).lexically_normal().string();
    if (norm.size() > 1 && norm.back() == '/') norm.pop_back();
    bool allowed = false;
    for (const auto& p : allow) {
      allowed =
          allowed || p == "/" || norm == p ||
          (norm.size() > p.size() && norm.compare(0, p.size(), p) == 0 && norm[p.size()] == '/');
    }
    if (!allowed) {
      return InvalidArgument(where + ": hostPath '" + path +
                             "' is not below any HostPathAllowList entry of slurm-sd" +
                             (allow.empty() ? " (the list is empty: hostPath is disabled)" : ""));
    }
    plan->source[name] = norm;
    if (type == "DirectoryOrCreate") plan->dirs.push_back(norm);
    return Status::Ok();
  }
  plan->unsupported[name] = "its volume type is not supported by the Slurm sidecar";
  return Status::Ok();
}

}  // namespace

bool IsSafeRelativePath(const std::string& p) {
  if (p.empty() || p[0] == '/' || HasNul(p) || HasLineBreak(p)) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<VolumePlan> PlanVolumes(const api::RetrievedPodData& data, const std::string& job_dir,
                               const std::vector<std::string>& host_path_allow) {
  VolumePlan plan;
  Sent sent = Collect(data);
  const auto* vols = api::Find(data.pod, {"spec", "volumes"});
  if (!vols || !vols->is_array()) return plan;
  for (const auto& v : vols->as_array()) {
    if (!v.is_object()) return InvalidArgument("spec.volumes must hold objects");
    IL_RETURN_IF_ERROR(PlanOne(v, sent, job_dir, host_path_allow, &plan));
  }
  return plan;
}

Result<std::vector<Mount>> ContainerMounts(const json::value& container, const VolumePlan& plan) {
  std::vector<Mount> out;
  const auto* vms = api::Find(container, {"volumeMounts"});
  if (!vms || !vms->is_array()) return out;
  const std::string cname = api::GetString(container, {"name"});
  for (const auto& vm : vms->as_array()) {
    std::string vol = api::GetString(vm, {"name"});
    std::string target = api::GetString(vm, {"mountPath"});
    std::string sub = api::GetString(vm, {"subPath"});
    const std::string where = "container " + cname + ": volumeMount " + vol;
    if (auto u = plan.unsupported.find(vol); u != plan.unsupported.end()) {
      return InvalidArgument(where + ": " + u->second);
    }
    auto src = plan.source.find(vol);
    if (src == plan.source.end())
      return InvalidArgument(where + ": no such volume in spec.volumes");
    if (target.empty() || target[0] != '/' || target.find_first_of(":,\n\r") != std::string::npos ||
        HasNul(target)) {
      return InvalidArgument(where + ": mountPath '" + target +
                             "' must be absolute without ':' or ','");
    }
    if (!sub.empty() &&
        (!IsSafeRelativePath(sub) || sub.find_first_of(":,") != std::string::npos)) {
      return InvalidArgument(where + ": subPath '" + sub + "' is not a safe relative path");
    }
    const auto* ro = api::Find(vm, {"readOnly"});
    bool read_only = plan.read_only.count(vol) || (ro && ro->is_bool() && ro->as_bool());
    out.push_back({sub.empty() ? src->second : src->second + "/" + sub, target, read_only});
  }
  return out;
}

}  // namespace il::slurm
