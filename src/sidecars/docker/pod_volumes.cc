#include "sidecars/docker/pod_volumes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "api/pod.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/docker/str_cat.h"

namespace il::docker {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr int kDefaultMode = 0644;

int ModeOf(const json::value& v, std::initializer_list<std::string_view> path, int def) {
  int64_t m = api::GetInt(v, path, def);
  return (m >= 0 && m <= 0777) ? static_cast<int>(m) : def;
}

bool Optional(const json::value& v) {
  const auto* o = api::Find(v, {"optional"});
  return o && o->is_bool() && o->as_bool();
}

// Writes `data` into `dir` following a configMap/secret-style volume source: items when
// present (key -> path, mode), every key otherwise.
Status AddKeyFiles(const json::value& source, const KeyData* data, const std::string& what,
                   const std::string& dir, int default_mode, VolumePlan* plan) {
  const auto* items = api::Find(source, {"items"});
  if (!data) {
    if (Optional(source)) return Status::Ok();
    return FailedPrecondition(what + " was not provided with the pod");
  }
  if (!items || !items->is_array() || items->as_array().empty()) {
    for (const auto& [key, value] : *data) {
      if (key.find('/') != std::string::npos || !SafeRelativePath(key)) {
        return InvalidArgument(Cat(what, ": key '", key, "' is not a valid file name"));
      }
      plan->files.push_back({Cat(dir, "/", key), value, default_mode});
    }
    return Status::Ok();
  }
  for (const auto& item : items->as_array()) {
    std::string key = api::GetString(item, {"key"}), path = api::GetString(item, {"path"});
    if (!SafeRelativePath(path)) {
      return InvalidArgument(Cat(what, ": item path '", path, "' must be relative without '..'"));
    }
    auto it = data->find(key);
    if (it == data->end()) {
      if (Optional(source)) continue;
      return FailedPrecondition(Cat(what, " has no key '", key, "'"));
    }
    plan->files.push_back({Cat(dir, "/", path), it->second, ModeOf(item, {"mode"}, default_mode)});
  }
  return Status::Ok();
}

Status AddDownwardFiles(const json::value& source, const PodSources& src, const std::string& what,
                        const std::string& dir, int default_mode, VolumePlan* plan) {
  const auto* items = api::Find(source, {"items"});
  if (!items || !items->is_array()) return Status::Ok();
  for (const auto& item : items->as_array()) {
    std::string path = api::GetString(item, {"path"});
    if (!SafeRelativePath(path)) {
      return InvalidArgument(Cat(what, ": item path '", path, "' must be relative without '..'"));
    }
    std::optional<std::string> value;
    if (const auto* f = api::Find(item, {"fieldRef", "fieldPath"}); f && f->is_string()) {
      value = src.FieldRef(std::string(f->as_string()));
    } else if (api::Find(item, {"resourceFieldRef"})) {
      value = src.ResourceField(api::GetString(item, {"resourceFieldRef", "containerName"}),
                                api::GetString(item, {"resourceFieldRef", "resource"}),
                                api::GetString(item, {"resourceFieldRef", "divisor"}));
    }
    if (!value) continue;
    plan->files.push_back({Cat(dir, "/", path), *value, ModeOf(item, {"mode"}, default_mode)});
  }
  return Status::Ok();
}

Status AddProjected(const json::value& vol, const std::string& name, const PodSources& src,
                    const std::string& dir, VolumePlan* plan) {
  int mode = ModeOf(vol, {"projected", "defaultMode"}, kDefaultMode);
  std::string what = "projected volume " + name;
  if (const KeyData* rendered = src.Projected(name)) {
    for (const auto& [path, value] : *rendered) {
      if (!SafeRelativePath(path)) {
        return InvalidArgument(Cat(what, ": path '", path, "' must be relative without '..'"));
      }
      plan->files.push_back({Cat(dir, "/", path), value, mode});
    }
    return Status::Ok();
  }
  // Not rendered by interLink: build what can be built from the pod's own data.
  const auto* sources = api::Find(vol, {"projected", "sources"});
  if (!sources || !sources->is_array()) return Status::Ok();
  for (const auto& s : sources->as_array()) {
    if (const auto* cm = api::Find(s, {"configMap"})) {
      std::string n = api::GetString(*cm, {"name"});
      IL_RETURN_IF_ERROR(
          AddKeyFiles(*cm, src.ConfigMap(n), Cat(what, " configMap ", n), dir, mode, plan));
    } else if (const auto* sec = api::Find(s, {"secret"})) {
      std::string n = api::GetString(*sec, {"name"});
      IL_RETURN_IF_ERROR(
          AddKeyFiles(*sec, src.Secret(n), Cat(what, " secret ", n), dir, mode, plan));
    } else if (const auto* dw = api::Find(s, {"downwardAPI"})) {
      IL_RETURN_IF_ERROR(AddDownwardFiles(*dw, src, what, dir, mode, plan));
    }
    // serviceAccountToken / clusterTrustBundle: only interLink can mint them.
  }
  return Status::Ok();
}

struct VolumeSource {
  std::string host_path;  // where containers mount it from
  bool read_only = false;
  bool supported = true;
  std::string type;                // for the error message
  std::optional<BindCheck> check;  // hostPath: from its allow-list prefix
};

Result<VolumeSource> PlanVolume(const json::value& vol, const PodSources& src,
                                const std::string& pod_dir, const std::vector<std::string>& allow,
                                VolumePlan* plan) {
  std::string name = api::GetString(vol, {"name"});
  if (!api::IsDnsLabel(name)) return InvalidArgument("volume name '" + name + "' is invalid");
  std::string dir = pod_dir + "/volumes/" + name;
  VolumeSource out{dir, true, true, "", std::nullopt};
  const auto& o = vol.as_object();
  if (const auto* cm = o.if_contains("configMap")) {
    plan->dirs.push_back({dir, 0755});
    std::string n = api::GetString(*cm, {"name"});
    IL_RETURN_IF_ERROR(AddKeyFiles(*cm, src.ConfigMap(n), "configMap " + n, dir,
                                   ModeOf(*cm, {"defaultMode"}, kDefaultMode), plan));
  } else if (const auto* sec = o.if_contains("secret")) {
    plan->dirs.push_back({dir, 0755});
    std::string n = api::GetString(*sec, {"secretName"});
    IL_RETURN_IF_ERROR(AddKeyFiles(*sec, src.Secret(n), "secret " + n, dir,
                                   ModeOf(*sec, {"defaultMode"}, kDefaultMode), plan));
  } else if (o.if_contains("projected")) {
    plan->dirs.push_back({dir, 0755});
    IL_RETURN_IF_ERROR(AddProjected(vol, name, src, dir, plan));
  } else if (const auto* dw = o.if_contains("downwardAPI")) {
    plan->dirs.push_back({dir, 0755});
    IL_RETURN_IF_ERROR(AddDownwardFiles(*dw, src, "downwardAPI volume " + name, dir,
                                        ModeOf(*dw, {"defaultMode"}, kDefaultMode), plan));
  } else if (o.if_contains("emptyDir")) {
    plan->dirs.push_back({dir, 0777});
    out.read_only = false;
  } else if (const auto* hp = o.if_contains("hostPath")) {
    std::string path = api::GetString(*hp, {"path"});
    std::string norm = fs::path(path).lexically_normal().string();
    if (norm.size() > 1 && norm.back() == '/') norm.pop_back();
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
      return InvalidArgument("hostPath volume " + name + ": path '" + path + "' is not absolute");
    }
    if (!PathAllowed(norm, allow)) {
      return InvalidArgument("hostPath volume " + name + ": path '" + path +
                             "' is not below any HostPathAllowList prefix of docker-sd" +
                             (allow.empty() ? " (the list is empty: hostPath is disabled)" : ""));
    }
    std::string type = api::GetString(*hp, {"type"});
    if (type == "DirectoryOrCreate") plan->dirs.push_back({norm, 0755, false});
    plan->host_paths.emplace_back(norm, type);
    out = VolumeSource{norm, false, true, "hostPath", HostPathCheck(norm, allow)};
  } else {
    out.supported = false;
    for (const auto& [k, v] : o) {
      if (k != "name") out.type = std::string(k);
    }
  }
  return out;
}

}  // namespace

std::optional<BindCheck> HostPathCheck(const std::string& path,
                                       const std::vector<std::string>& allow) {
  std::optional<BindCheck> best;
  for (const auto& p : allow) {
    if (!PathAllowed(path, {p})) continue;
    std::string rel = path.size() > p.size() ? path.substr(p == "/" ? 1 : p.size() + 1) : "";
    if (!best || p.size() > best->base.size()) best = BindCheck{p, rel, false, ""};
  }
  return best;
}

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<VolumePlan> PlanVolumes(const PodSources& src, const std::string& pod_dir,
                               const std::vector<std::string>& allow) {
  VolumePlan plan;
  plan.dirs.push_back({pod_dir, 0700});
  plan.dirs.push_back({pod_dir + "/volumes", 0755});
  std::map<std::string, VolumeSource> volumes;
  const auto* vols = api::Find(src.pod(), {"spec", "volumes"});
  if (vols && vols->is_array()) {
    for (const auto& v : vols->as_array()) {
      if (!v.is_object()) return InvalidArgument("pod volumes must be objects");
      IL_ASSIGN_OR_RETURN(VolumeSource s, PlanVolume(v, src, pod_dir, allow, &plan));
      if (!volumes.emplace(api::GetString(v, {"name"}), s).second) {
        return InvalidArgument("volume name '" + api::GetString(v, {"name"}) + "' is duplicated");
      }
    }
  }
  for (const auto* list : {&api::InitContainers(src.pod()), &api::Containers(src.pod())}) {
    for (const auto& c : *list) {
      std::string cname = api::GetString(c, {"name"});
      auto& mounts = plan.mounts[cname];
      const auto* vm = api::Find(c, {"volumeMounts"});
      if (!vm || !vm->is_array()) continue;
      for (const auto& m : vm->as_array()) {
        std::string vname = api::GetString(m, {"name"}), target = api::GetString(m, {"mountPath"});
        std::string where = Cat("container ", cname, " volumeMount ", vname);
        auto it = volumes.find(vname);
        if (it == volumes.end()) return InvalidArgument(where + ": no such volume in the pod");
        if (!it->second.supported) {
          return InvalidArgument(where + ": volume type '" + it->second.type +
                                 "' is not supported by docker-sd");
        }
        if (target.empty() || target[0] != '/' || target.find('\0') != std::string::npos) {
          return InvalidArgument(Cat(where, ": mountPath '", target, "' must be absolute"));
        }
        if (!api::GetString(m, {"subPathExpr"}).empty()) {
          return InvalidArgument(where + ": subPathExpr is not supported by docker-sd");
        }
        std::string source = it->second.host_path;
        std::optional<BindCheck> check = it->second.check;
        if (std::string sub = api::GetString(m, {"subPath"}); !sub.empty()) {
          if (!SafeRelativePath(sub)) {
            return InvalidArgument(
                Cat(where, ": subPath '", sub, "' must be relative without '..'"));
          }
          source += "/" + sub;
          // The kubelet creates a missing subPath of a writable volume as a directory.
          if (check) {
            check->rel += (check->rel.empty() ? "" : "/") + sub;
          } else {
            check = BindCheck{it->second.host_path, sub, false, ""};
          }
          check->create = !it->second.read_only;
        }
        const auto* ro = api::Find(m, {"readOnly"});
        bool read_only = it->second.read_only || (ro && ro->is_bool() && ro->as_bool());
        if (check) {
          // Docker gets the pin, not the path the pod can redirect (bind_source.h).
          check->pin = Cat(pod_dir, "/pins/", cname, "/", std::to_string(mounts.size()));
          source = check->pin;
        }
        mounts.push_back({source, target, read_only, check});
      }
    }
  }
  return plan;
}

std::string MountArg(const Mount& m) {
  auto quote = [](const std::string& field) {
    std::string q = "\"";
    for (char c : field) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  return "--mount=type=bind," + quote("source=" + m.source) + "," + quote("target=" + m.target) +
         (m.read_only ? ",readonly" : "");
}

namespace {

// Writes through a fresh temporary file created with its final mode (never readable by others
// in between, never through a symlink), then renames it into place.
Status WriteFile(const PlannedFile& f) {
  std::error_code ec;
  fs::create_directories(fs::path(f.path).parent_path(), ec);
  if (ec)
    return Internal("cannot create " + fs::path(f.path).parent_path().string() + ": " +
                    ec.message());
  std::string tmp = f.path + ".il-tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(f.mode & 0600));
  if (fd < 0) return Internal("cannot write " + f.path + ": " + strerror(errno));
  size_t done = 0;
  while (done < f.content.size()) {
    ssize_t n = ::write(fd, f.content.data() + done, f.content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Internal("cannot write " + f.path + ": " + strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  bool ok = ::fchmod(fd, static_cast<mode_t>(f.mode)) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Internal("cannot write " + f.path);
  fs::rename(tmp, f.path, ec);
  if (ec) return Internal("cannot write " + f.path + ": " + ec.message());
  return Status::Ok();
}

Status CheckHostPath(const std::string& path, const std::string& type,
                     const std::vector<std::string>& allow) {
  std::error_code ec;
  std::string real = fs::weakly_canonical(path, ec).string();
  if (ec) return FailedPrecondition("hostPath " + path + ": " + ec.message());
  std::vector<std::string> real_allow;
  real_allow.reserve(allow.size());
  for (const auto& a : allow) real_allow.push_back(fs::weakly_canonical(a, ec).string());
  if (!PathAllowed(real, allow) && !PathAllowed(real, real_allow)) {
    return InvalidArgument("hostPath " + path + " resolves to " + real +
                           ", outside HostPathAllowList");
  }
  if (type.empty() || type == "DirectoryOrCreate") return Status::Ok();
  auto st = fs::status(path, ec);
  bool ok = type == "FileOrCreate"  ? true
            : type == "Directory"   ? fs::is_directory(st)
            : type == "File"        ? fs::is_regular_file(st)
            : type == "Socket"      ? fs::is_socket(st)
            : type == "CharDevice"  ? fs::is_character_file(st)
            : type == "BlockDevice" ? fs::is_block_file(st)
                                    : false;
  if (type == "FileOrCreate" && !fs::exists(st)) {
    // Never through a symlink planted at the file's own name.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return FailedPrecondition("hostPath " + path + ": cannot create the file");
    ::close(fd);
  }
  if (!ok) return FailedPrecondition("hostPath " + path + " is not a " + type);
  return Status::Ok();
}

}  // namespace

Status ApplyVolumePlan(const VolumePlan& plan, const std::vector<std::string>& allow) {
  std::error_code ec;
  // hostPath first: nothing is created through a symlink, inside the allow-list or not.
  for (const auto& [path, type] : plan.host_paths) {
    auto check = HostPathCheck(path, allow);
    if (!check) return InvalidArgument("hostPath " + path + " is outside HostPathAllowList");
    check->create = type == "DirectoryOrCreate";
    BindCheck parent = *check;  // FileOrCreate: the directory must be sound, the file may be new
    if (type == "FileOrCreate" && !parent.rel.empty()) {
      auto slash = parent.rel.rfind('/');
      parent.rel = slash == std::string::npos ? "" : parent.rel.substr(0, slash);
    }
    IL_RETURN_IF_ERROR(CheckBindSource(type == "FileOrCreate" ? parent : *check));
    IL_RETURN_IF_ERROR(CheckHostPath(path, type, allow));
    IL_RETURN_IF_ERROR(CheckBindSource(*check));
  }
  for (const auto& d : plan.dirs) {
    fs::create_directories(d.path, ec);
    if (ec) return Internal("cannot create " + d.path + ": " + ec.message());
    if (d.set_mode && ::chmod(d.path.c_str(), static_cast<mode_t>(d.mode)) != 0) {
      return Internal("cannot chmod " + d.path);
    }
  }
  for (const auto& f : plan.files) IL_RETURN_IF_ERROR(WriteFile(f));
  return Status::Ok();
}

}  // namespace il::docker
