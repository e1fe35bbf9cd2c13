#include "sidecars/docker/pod_plan.h"

#include <algorithm>

#include "api/bounded_name.h"
#include "api/pod.h"
#include "api/quantity.h"
#include "sidecars/docker/container_env.h"
#include "sidecars/docker/str_cat.h"

namespace il::docker {
namespace json = boost::json;

namespace {

constexpr char kSandboxName[] = "POD";

std::string Sanitize(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '-';
  }
  return out;
}

bool Truthy(const json::value& v, std::initializer_list<std::string_view> path) {
  const auto* f = api::Find(v, path);
  return f && f->is_bool() && f->as_bool();
}

Status ValidateImage(const std::string& cname, const std::string& image) {
  if (image.empty()) return InvalidArgument("container " + cname + " has no image");
  if (image[0] == '-' || image.size() > 512) {
    return InvalidArgument(Cat("container ", cname, ": image '", image, "' is invalid"));
  }
  for (unsigned char c : image) {
    if (c <= ' ' || c == 0x7f) {
      return InvalidArgument(Cat("container ", cname, ": image '", image, "' is invalid"));
    }
  }
  return Status::Ok();
}

// Rejects bytes no process argument, path or label can carry, in every string of the body.
Status CheckValues(const std::string& cname, const json::value& v) {
  if (v.is_string()) {
    std::string_view sv = v.as_string();
    if (sv.find('\0') != std::string_view::npos) {
      return InvalidArgument("container " + cname + ": a value contains a NUL byte");
    }
  } else if (v.is_array()) {
    for (const auto& x : v.as_array()) IL_RETURN_IF_ERROR(CheckValues(cname, x));
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.as_object()) {
      if (std::string_view(k).find('\0') != std::string_view::npos) {
        return InvalidArgument("container " + cname + ": a value contains a NUL byte");
      }
      IL_RETURN_IF_ERROR(CheckValues(cname, x));
    }
  }
  return Status::Ok();
}

json::array JsonStrings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> Strings(const json::value& c, std::string_view key) {
  std::vector<std::string> out;
  const auto* a = api::Find(c, {key});
  if (!a || !a->is_array()) return out;
  for (const auto& v : a->as_array()) {
    if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

Result<std::string> PullPolicy(const json::value& c, const std::string& image) {
  std::string p = api::GetString(c, {"imagePullPolicy"});
  if (p.empty()) p = DefaultPullPolicy(image);
  if (p == "Always" || p == "IfNotPresent" || p == "Never") return p;
  return InvalidArgument("imagePullPolicy '" + p + "' is not Always, IfNotPresent or Never");
}

Status AddResources(const json::value& c, const std::string& cname, json::object* h) {
  auto q = [&](const char* kind, const char* res) {
    return api::GetString(c, {"resources", kind, res});
  };
  auto bad = [&](const Status& s, const char* what) {
    return InvalidArgument("container " + cname + " " + what + ": " + s.message());
  };
  if (auto v = q("limits", "cpu"); !v.empty()) {
    auto m = api::QuantityMilli(v);
    if (!m.ok()) return bad(m.status(), "limits.cpu");
    if (*m > 0) (*h)["NanoCpus"] = *m * 1000000;
  }
  if (auto v = q("requests", "cpu"); !v.empty()) {
    auto m = api::QuantityMilli(v);
    if (!m.ok()) return bad(m.status(), "requests.cpu");
    (*h)["CpuShares"] = std::max<int64_t>(2, *m * 1024 / 1000);
  }
  if (auto v = q("limits", "memory"); !v.empty()) {
    auto b = api::QuantityWhole(v);
    if (!b.ok()) return bad(b.status(), "limits.memory");
    (*h)["Memory"] = *b;
    (*h)["MemorySwap"] = *b;  // no swap, as on a kubelet
  }
  if (auto v = q("requests", "memory"); !v.empty()) {
    auto b = api::QuantityWhole(v);
    if (!b.ok()) return bad(b.status(), "requests.memory");
    if (*b > 0) (*h)["MemoryReservation"] = *b;
  }
  std::string gpu = q("limits", "nvidia.com/gpu");
  if (gpu.empty()) gpu = q("requests", "nvidia.com/gpu");
  if (!gpu.empty()) {
    auto n = api::QuantityWhole(gpu);
    if (!n.ok()) return bad(n.status(), "nvidia.com/gpu");
    if (*n > 0) {  // what `docker run --gpus=N` sends
      // Capabilities is [][]string. Built step by step: clang reads json::array{json::array{..}}
      // as a copy of the inner array, gcc as an array holding it.
      json::array capabilities;
      capabilities.emplace_back(json::array{"gpu"});
      (*h)["DeviceRequests"] = json::array{
          json::object{{"Driver", ""}, {"Count", *n}, {"Capabilities", std::move(capabilities)}}};
    }
  }
  return Status::Ok();
}

Status AddSecurity(const json::value& pod, const json::value& c, const std::string& cname,
                   json::object* config, json::object* h) {
  // The container's securityContext wins over the pod's.
  auto id = [&](const char* key) -> std::optional<int64_t> {
    for (const json::value* f : {api::Find(c, {"securityContext", key}),
                                 api::Find(pod, {"spec", "securityContext", key})}) {
      if (f && f->is_int64()) return f->as_int64();
      if (f && f->is_uint64()) return static_cast<int64_t>(f->as_uint64());
    }
    return std::nullopt;
  };
  auto user = id("runAsUser"), group = id("runAsGroup");
  if (user) {
    (*config)["User"] = std::to_string(*user) + (group ? ":" + std::to_string(*group) : "");
  }
  json::array groups;
  if (auto fs_group = id("fsGroup")) groups.emplace_back(std::to_string(*fs_group));
  if (const auto* sg = api::Find(pod, {"spec", "securityContext", "supplementalGroups"});
      sg && sg->is_array()) {
    for (const auto& g : sg->as_array()) {
      if (g.is_int64()) groups.emplace_back(std::to_string(g.as_int64()));
    }
  }
  if (!groups.empty()) (*h)["GroupAdd"] = std::move(groups);
  if (Truthy(c, {"securityContext", "privileged"})) {
    return InvalidArgument("container " + cname +
                           ": privileged containers are not allowed by docker-sd");
  }
  if (const auto* add = api::Find(c, {"securityContext", "capabilities", "add"});
      add && add->is_array() && !add->as_array().empty()) {
    return InvalidArgument("container " + cname + ": capabilities.add is not allowed by docker-sd");
  }
  if (const auto* drop = api::Find(c, {"securityContext", "capabilities", "drop"});
      drop && drop->is_array()) {
    json::array caps;
    for (const auto& d : drop->as_array()) {
      if (!d.is_string()) continue;
      std::string cap(d.as_string());
      for (char ch : cap) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
          return InvalidArgument(Cat("container ", cname, ": capability '", cap, "' is invalid"));
        }
      }
      caps.emplace_back(cap);
    }
    if (!caps.empty()) (*h)["CapDrop"] = std::move(caps);
  }
  if (Truthy(c, {"securityContext", "readOnlyRootFilesystem"})) (*h)["ReadonlyRootfs"] = true;
  const auto* ape = api::Find(c, {"securityContext", "allowPrivilegeEscalation"});
  if (ape && ape->is_bool() && !ape->as_bool()) {
    (*h)["SecurityOpt"] = json::array{"no-new-privileges"};
  }
  return Status::Ok();
}

std::string Hostname(const json::value& pod) {
  std::string h = api::GetString(pod, {"spec", "hostname"});
  if (h.empty()) h = api::PodName(pod);
  if (h.size() > 63) h.resize(63);
  while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  return h;
}

struct Common {
  const PodSources& src;
  const VolumePlan& volumes;
  const DockerSettings& settings;
  std::string instance, ns, pod_name, uid, restart_policy, sandbox, network;
  bool host_network = false, share_pid = false, host_pid = false, host_ipc = false;
  std::vector<PlannedFile>* env_files = nullptr;
  std::vector<PlannedFile>* termination_files = nullptr;
};

// The parts of a create body every container has: labels, the admin's limits.
json::object BaseBody(const Common& k, Role role, const std::string& name, const std::string& image,
                      json::object* h) {
  json::object labels{{kLabelPodUid, k.uid},
                      {"io.kubernetes.pod.namespace", k.ns},
                      {"io.kubernetes.pod.name", k.pod_name},
                      {"io.kubernetes.container.name", name},
                      {kLabelInstance, k.instance},
                      {"interlink.docker-sd.role", RoleName(role)}};
  // Limits the admin set for every container: a fork bomb or a chatty log stays contained.
  if (k.settings.pids_limit > 0) (*h)["PidsLimit"] = k.settings.pids_limit;
  if (!k.settings.log_max_size.empty()) {
    (*h)["LogConfig"] = json::object{
        {"Type", "json-file"},
        {"Config", json::object{{"max-size", k.settings.log_max_size},
                                {"max-file", std::to_string(k.settings.log_max_files)}}}};
  }
  return json::object{{"Image", image}, {"Labels", std::move(labels)}};
}

// NetworkingConfig for a user-defined network (none, host, bridge and container: need none).
json::object Networking(const std::string& network) {
  if (network == "none" || network == "host" || network == "bridge" || network == "default" ||
      network.rfind("container:", 0) == 0) {
    return json::object{{"EndpointsConfig", json::object{}}};
  }
  return json::object{{"EndpointsConfig", json::object{{network, json::object{}}}}};
}

void AddNamespaces(const Common& k, json::object* config, json::object* h) {
  if (!k.sandbox.empty()) {
    (*h)["NetworkMode"] = "container:" + k.sandbox;
    (*h)["IpcMode"] = k.host_ipc ? std::string("host") : "container:" + k.sandbox;
    if (k.host_pid) {
      (*h)["PidMode"] = "host";
    } else if (k.share_pid) {
      (*h)["PidMode"] = "container:" + k.sandbox;
    }
    return;
  }
  (*h)["NetworkMode"] = k.network;
  if (!k.host_network) (*config)["Hostname"] = Hostname(k.src.pod());
  if (k.host_ipc) (*h)["IpcMode"] = "host";
  if (k.host_pid) (*h)["PidMode"] = "host";
}

json::object MountJson(const Mount& m) {
  return json::object{
      {"Type", "bind"}, {"Source", m.source}, {"Target", m.target}, {"ReadOnly", m.read_only}};
}

// Well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF), as Go's
// utf8.Valid, which docker applies to every line of an env file.
bool IsValidUtf8(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;  // continuation bytes
    if (c >= 0x80) {
      if ((c >> 5) == 0x6) {
        n = 1;
      } else if ((c >> 4) == 0xe) {
        n = 2;
      } else if ((c >> 3) == 0x1e) {
        n = 3;
      } else {
        return false;
      }
    }
    if (s.size() - i <= n) return false;
    uint32_t cp = n == 0 ? c : c & (0x3fu >> n);
    for (size_t j = 1; j <= n; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// Environment values never go into argv, a log line or the state file: they travel in the
// create body's Env, read from a 0600 JSON file in the pod's private directory just before
// each create (the stored plan has no Env).
Status AddEnv(const Common& k, const std::string& cname, const EnvList& env, ContainerPlan* p) {
  json::array list;
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find_first_of("= \t\n\r\v\f#") != std::string::npos ||
        name.find('\0') != std::string::npos || !IsValidUtf8(name)) {
      return InvalidArgument(
          Cat("container ", cname, ": invalid environment variable name '", name, "'"));
    }
    // JSON carries text: Docker would replace bytes that are not UTF-8; a process
    // environment cannot hold a NUL.
    if (value.find('\0') != std::string::npos || !IsValidUtf8(value)) {
      return InvalidArgument(Cat("container ", cname, ": the value of environment variable ", name,
                                 " has a NUL byte or is not UTF-8"));
    }
    list.emplace_back(name + "=" + value);
  }
  if (list.empty()) return Status::Ok();
  p->env_file = k.settings.PodDir(k.uid) + "/env/" + cname + ".json";
  k.env_files->push_back({p->env_file, json::serialize(list), 0600});
  return Status::Ok();
}

// The termination message file: ours (created by docker-sd in the pod's private directory,
// never a path from the pod), so it needs no bind-source check.
Status AddTermination(const Common& k, const json::value& c, ContainerPlan* p,
                      json::array* mounts) {
  std::string path = api::GetString(c, {"terminationMessagePath"});
  if (path.empty()) path = "/dev/termination-log";
  if (path.front() != '/' || path.find('\0') != std::string::npos) {
    return InvalidArgument("container " + p->name + ": terminationMessagePath '" + path +
                           "' is not an absolute path");
  }
  std::string policy = api::GetString(c, {"terminationMessagePolicy"});
  if (!policy.empty() && policy != "File" && policy != "FallbackToLogsOnError") {
    return InvalidArgument("container " + p->name + ": terminationMessagePolicy '" + policy +
                           "' is not File or FallbackToLogsOnError");
  }
  p->fallback_to_logs = policy == "FallbackToLogsOnError";
  p->termination_file = k.settings.PodDir(k.uid) + "/termination/" + p->name;
  k.termination_files->push_back({p->termination_file, "", 0666});
  mounts->push_back(MountJson(Mount{p->termination_file, path, false, std::nullopt}));
  return Status::Ok();
}

json::value Supervision(const json::value& c) {
  json::object o;
  for (const char* key :
       {"startupProbe", "livenessProbe", "readinessProbe", "lifecycle", "ports"}) {
    if (const auto* v = api::Find(c, {key}); v && !v->is_null()) o[key] = *v;
  }
  if (o.empty() || (o.size() == 1 && o.contains("ports"))) return nullptr;
  return o;
}

Result<ContainerPlan> PlanContainer(const Common& k, const json::value& c, Role role) {
  std::string cname = api::GetString(c, {"name"});
  std::string image = api::GetString(c, {"image"});
  IL_RETURN_IF_ERROR(ValidateImage(cname, image));
  ContainerPlan p;
  p.role = role;
  p.name = cname;
  p.docker_name = DockerName(k.settings.container_prefix, k.ns, k.pod_name, cname, k.uid);
  p.image = image;
  json::object h;
  json::object body = BaseBody(k, role, cname, image, &h);
  AddNamespaces(k, &body, &h);
  auto pull = PullPolicy(c, image);
  if (!pull.ok()) return pull.status().WithContext("container " + cname);
  p.pull_policy = *pull;
  std::string restart = "no";
  if (role == Role::kInit && k.restart_policy != "Never") restart = "on-failure";
  if (role == Role::kApp && k.restart_policy == "Always") restart = "always";
  if (role == Role::kApp && k.restart_policy == "OnFailure") restart = "on-failure";
  h["RestartPolicy"] = json::object{{"Name", restart}, {"MaximumRetryCount", 0}};
  IL_ASSIGN_OR_RETURN(EnvList env, ResolveEnv(c, k.src));
  std::vector<std::string> command = Strings(c, "command"), args = Strings(c, "args");
  // As the kubelet: command replaces the image's entrypoint (and its default arguments),
  // args alone keep the entrypoint.
  if (!command.empty()) {
    body["Entrypoint"] = JsonStrings(command);
    body["Cmd"] = JsonStrings(args);
  } else if (!args.empty()) {
    body["Cmd"] = JsonStrings(args);
  }
  if (auto wd = api::GetString(c, {"workingDir"}); !wd.empty()) body["WorkingDir"] = wd;
  IL_RETURN_IF_ERROR(AddSecurity(k.src.pod(), c, cname, &body, &h));
  IL_RETURN_IF_ERROR(AddResources(c, cname, &h));
  if (Truthy(c, {"tty"})) body["Tty"] = true;
  if (Truthy(c, {"stdin"})) body["OpenStdin"] = true;
  IL_RETURN_IF_ERROR(AddEnv(k, cname, env, &p));
  json::array mounts;
  if (auto it = k.volumes.mounts.find(cname); it != k.volumes.mounts.end()) {
    for (const auto& m : it->second) {
      mounts.push_back(MountJson(m));
      if (m.check) p.bind_checks.push_back(*m.check);
    }
  }
  IL_RETURN_IF_ERROR(AddTermination(k, c, &p, &mounts));
  h["Mounts"] = std::move(mounts);
  p.supervision = Supervision(c);
  body["HostConfig"] = std::move(h);
  body["NetworkingConfig"] = Networking(k.sandbox.empty() ? k.network : "container:" + k.sandbox);
  IL_RETURN_IF_ERROR(CheckValues(cname, body));
  p.create_body = std::move(body);
  return p;
}

ContainerPlan PlanSandbox(const Common& k) {
  ContainerPlan p;
  p.role = Role::kSandbox;
  p.name = kSandboxName;
  p.docker_name = k.sandbox;
  p.image = k.settings.pause_image;
  json::object h;
  json::object body = BaseBody(k, Role::kSandbox, kSandboxName, k.settings.pause_image, &h);
  h["NetworkMode"] = k.network;
  if (!k.host_network) body["Hostname"] = Hostname(k.src.pod());
  h["IpcMode"] = k.host_ipc ? "host" : "shareable";
  if (k.host_pid) h["PidMode"] = "host";
  h["RestartPolicy"] = json::object{{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}};
  p.pull_policy = "Never";
  body["HostConfig"] = std::move(h);
  body["NetworkingConfig"] = Networking(k.network);
  p.create_body = std::move(body);
  return p;
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kSandbox:
      return "sandbox";
    case Role::kInit:
      return "init";
    case Role::kApp:
      return "app";
  }
  return "app";
}

std::string DockerName(const std::string& prefix, const std::string& ns, const std::string& pod,
                       const std::string& container, const std::string& uid) {
  // Sanitize keeps the length, and BoundedName only cuts and appends [-0-9a-f], so the
  // result still matches Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]* (the prefix starts alnum).
  return api::BoundedName(Sanitize(prefix + ns + "_" + pod + "_" + container), Sanitize("_" + uid),
                          kMaxDockerNameLength);
}

std::string DefaultPullPolicy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

const ContainerPlan* PodPlan::Sandbox() const {
  for (const auto& c : containers) {
    if (c.role == Role::kSandbox) return &c;
  }
  return nullptr;
}

std::string PodPlan::NamespaceHolder() const {
  if (const auto* s = Sandbox()) return s->docker_name;
  return containers.empty() ? "" : containers.front().docker_name;
}

std::vector<const ContainerPlan*> PodPlan::WithRole(Role r) const {
  std::vector<const ContainerPlan*> out;
  for (const auto& c : containers) {
    if (c.role == r) out.push_back(&c);
  }
  return out;
}

std::vector<std::string> PodPlan::DockerNames() const {
  std::vector<std::string> out;
  for (const auto& c : containers) out.push_back(c.docker_name);
  return out;
}

Result<PodPlan> BuildPodPlan(const PodSources& src, const VolumePlan& volumes,
                             const DockerSettings& settings, const std::string& instance_id) {
  const json::value& pod = src.pod();
  IL_RETURN_IF_ERROR(api::ValidatePod(pod));
  PodPlan plan;
  plan.uid = api::PodUid(pod);
  plan.ns = api::PodNamespace(pod).empty() ? "default" : api::PodNamespace(pod);
  plan.name = api::PodName(pod);
  std::string rp = api::GetString(pod, {"spec", "restartPolicy"});
  if (!rp.empty() && rp != "Always" && rp != "OnFailure" && rp != "Never") {
    return InvalidArgument("restartPolicy '" + rp + "' is not Always, OnFailure or Never");
  }
  if (!rp.empty()) plan.restart_policy = rp;
  if (const auto* g = api::Find(pod, {"spec", "terminationGracePeriodSeconds"});
      g && g->is_int64()) {
    plan.grace_seconds = std::clamp<int64_t>(g->as_int64(), 0, 3600);
  }
  const auto& inits = api::InitContainers(pod);
  const auto& apps = api::Containers(pod);
  if (apps.empty())
    return InvalidArgument("pod " + plan.ns + "/" + plan.name + " has no containers");
  Common k{src,     volumes,   settings, instance_id,
           plan.ns, plan.name, plan.uid, plan.restart_policy,
           "",      "",        false,    Truthy(pod, {"spec", "shareProcessNamespace"})};
  k.host_network = Truthy(pod, {"spec", "hostNetwork"});
  k.host_pid = Truthy(pod, {"spec", "hostPID"});
  k.host_ipc = Truthy(pod, {"spec", "hostIPC"});
  k.env_files = &plan.env_files;
  k.termination_files = &plan.termination_files;
  if ((k.host_network || k.host_pid || k.host_ipc) && !settings.allow_host_namespaces) {
    return InvalidArgument(Cat("pod ", plan.ns, "/", plan.name, " asks for ",
                               k.host_network ? "hostNetwork " : "", k.host_pid ? "hostPID " : "",
                               k.host_ipc ? "hostIPC " : "",
                               "which docker-sd refuses (DockerAllowHostNamespaces is false)"));
  }
  k.network = k.host_network ? "host" : (settings.network.empty() ? "none" : settings.network);
  if (inits.size() + apps.size() > 1 || k.share_pid) {
    k.sandbox = DockerName(settings.container_prefix, plan.ns, plan.name, kSandboxName, plan.uid);
    plan.containers.push_back(PlanSandbox(k));
  }
  for (const auto* list : {&inits, &apps}) {
    Role role = list == &inits ? Role::kInit : Role::kApp;
    for (const auto& c : *list) {
      IL_ASSIGN_OR_RETURN(ContainerPlan p, PlanContainer(k, c, role));
      plan.containers.push_back(std::move(p));
    }
  }
  return plan;
}

json::value ToJson(const PodPlan& plan) {
  json::array cs;
  for (const auto& c : plan.containers) {
    json::object o{{"role", RoleName(c.role)},
                   {"name", c.name},
                   {"dockerName", c.docker_name},
                   {"image", c.image}};
    if (c.legacy_run_args.empty()) {
      o["createBody"] = c.create_body;
      o["pullPolicy"] = c.pull_policy;
    } else {
      o["runArgs"] = JsonStrings(c.legacy_run_args);
    }
    if (!c.env_file.empty()) o["envFile"] = c.env_file;
    if (!c.supervision.is_null()) o["supervision"] = c.supervision;
    if (!c.termination_file.empty()) o["terminationFile"] = c.termination_file;
    if (c.fallback_to_logs) o["fallbackToLogs"] = true;
    if (!c.bind_checks.empty()) {
      json::array checks;
      for (const auto& b : c.bind_checks) {
        json::object check{{"base", b.base}, {"rel", b.rel}, {"create", b.create}};
        if (!b.pin.empty()) check["pin"] = b.pin;
        checks.push_back(std::move(check));
      }
      o["bindChecks"] = std::move(checks);
    }
    cs.push_back(std::move(o));
  }
  return json::object{{"uid", plan.uid},
                      {"namespace", plan.ns},
                      {"name", plan.name},
                      {"restartPolicy", plan.restart_policy},
                      {"graceSeconds", plan.grace_seconds},
                      {"containers", std::move(cs)}};
}

Result<PodPlan> PodPlanFromJson(const json::value& v) {
  PodPlan p;
  p.uid = api::GetString(v, {"uid"});
  p.ns = api::GetString(v, {"namespace"});
  p.name = api::GetString(v, {"name"});
  p.restart_policy = api::GetString(v, {"restartPolicy"});
  if (const auto* g = api::Find(v, {"graceSeconds"}); g && g->is_int64()) {
    p.grace_seconds = g->as_int64();
  }
  const auto* cs = api::Find(v, {"containers"});
  if (p.uid.empty() || !cs || !cs->is_array())
    return InvalidArgument("stored pod plan is malformed");
  for (const auto& c : cs->as_array()) {
    ContainerPlan cp;
    std::string role = api::GetString(c, {"role"});
    cp.role = role == "sandbox" ? Role::kSandbox : role == "init" ? Role::kInit : Role::kApp;
    cp.name = api::GetString(c, {"name"});
    cp.docker_name = api::GetString(c, {"dockerName"});
    cp.image = api::GetString(c, {"image"});
    const auto* body = api::Find(c, {"createBody"});
    const auto* args = api::Find(c, {"runArgs"});  // a row of a docker-sd before the API
    if (cp.docker_name.empty() || !((body && body->is_object()) || (args && args->is_array()))) {
      return InvalidArgument("stored pod plan is malformed");
    }
    if (body && body->is_object()) {
      cp.create_body = body->as_object();
      cp.pull_policy = api::GetString(c, {"pullPolicy"});
    } else {
      for (const auto& a : args->as_array()) {
        if (a.is_string()) cp.legacy_run_args.emplace_back(a.as_string());
      }
      if (cp.legacy_run_args.empty()) return InvalidArgument("stored pod plan is malformed");
    }
    cp.env_file = api::GetString(c, {"envFile"});
    if (const auto* sv = api::Find(c, {"supervision"}); sv && sv->is_object()) cp.supervision = *sv;
    cp.termination_file = api::GetString(c, {"terminationFile"});
    const auto* fb = api::Find(c, {"fallbackToLogs"});
    cp.fallback_to_logs = fb && fb->is_bool() && fb->as_bool();
    if (const auto* checks = api::Find(c, {"bindChecks"}); checks && checks->is_array()) {
      for (const auto& b : checks->as_array()) {
        const auto* create = api::Find(b, {"create"});
        cp.bind_checks.push_back({api::GetString(b, {"base"}), api::GetString(b, {"rel"}),
                                  create && create->is_bool() && create->as_bool(),
                                  api::GetString(b, {"pin"})});
        if (cp.bind_checks.back().base.empty()) {
          return InvalidArgument("stored pod plan is malformed");
        }
      }
    }
    p.containers.push_back(std::move(cp));
  }
  return p;
}

}  // namespace il::docker
