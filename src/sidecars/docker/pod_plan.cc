#include "sidecars/docker/pod_plan.h"

#include <algorithm>
#include <cstdio>

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

// Rejects bytes argv cannot carry.
Status CheckArgs(const std::string& cname, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a.find('\0') != std::string::npos) {
      return InvalidArgument("container " + cname + ": a value contains a NUL byte");
    }
  }
  return Status::Ok();
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

std::string PullFlag(const json::value& c, const std::string& image, Result<std::string>* err) {
  std::string p = api::GetString(c, {"imagePullPolicy"});
  if (p.empty()) p = DefaultPullPolicy(image);
  if (p == "Always") return "--pull=always";
  if (p == "IfNotPresent") return "--pull=missing";
  if (p == "Never") return "--pull=never";
  *err = InvalidArgument("imagePullPolicy '" + p + "' is not Always, IfNotPresent or Never");
  return "";
}

std::string Cpus(int64_t millis) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(millis / 1000),
                static_cast<long long>(millis % 1000));
  return buf;
}

Status AddResources(const json::value& c, const std::string& cname, std::vector<std::string>* a) {
  auto q = [&](const char* kind, const char* res) {
    return api::GetString(c, {"resources", kind, res});
  };
  auto bad = [&](const Status& s, const char* what) {
    return InvalidArgument("container " + cname + " " + what + ": " + s.message());
  };
  if (auto v = q("limits", "cpu"); !v.empty()) {
    auto m = api::QuantityMilli(v);
    if (!m.ok()) return bad(m.status(), "limits.cpu");
    if (*m > 0) a->push_back("--cpus=" + Cpus(*m));
  }
  if (auto v = q("requests", "cpu"); !v.empty()) {
    auto m = api::QuantityMilli(v);
    if (!m.ok()) return bad(m.status(), "requests.cpu");
    a->push_back("--cpu-shares=" + std::to_string(std::max<int64_t>(2, *m * 1024 / 1000)));
  }
  if (auto v = q("limits", "memory"); !v.empty()) {
    auto b = api::QuantityWhole(v);
    if (!b.ok()) return bad(b.status(), "limits.memory");
    a->push_back("--memory=" + std::to_string(*b));
    a->push_back("--memory-swap=" + std::to_string(*b));  // no swap, as on a kubelet
  }
  if (auto v = q("requests", "memory"); !v.empty()) {
    auto b = api::QuantityWhole(v);
    if (!b.ok()) return bad(b.status(), "requests.memory");
    if (*b > 0) a->push_back("--memory-reservation=" + std::to_string(*b));
  }
  std::string gpu = q("limits", "nvidia.com/gpu");
  if (gpu.empty()) gpu = q("requests", "nvidia.com/gpu");
  if (!gpu.empty()) {
    auto n = api::QuantityWhole(gpu);
    if (!n.ok()) return bad(n.status(), "nvidia.com/gpu");
    if (*n > 0) a->push_back("--gpus=" + std::to_string(*n));
  }
  return Status::Ok();
}

Status AddSecurity(const json::value& pod, const json::value& c, const std::string& cname,
                   std::vector<std::string>* a) {
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
    a->push_back("--user=" + std::to_string(*user) + (group ? ":" + std::to_string(*group) : ""));
  }
  if (auto fs_group = id("fsGroup")) a->push_back("--group-add=" + std::to_string(*fs_group));
  if (const auto* sg = api::Find(pod, {"spec", "securityContext", "supplementalGroups"});
      sg && sg->is_array()) {
    for (const auto& g : sg->as_array()) {
      if (g.is_int64()) a->push_back("--group-add=" + std::to_string(g.as_int64()));
    }
  }
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
    for (const auto& d : drop->as_array()) {
      if (!d.is_string()) continue;
      std::string cap(d.as_string());
      for (char ch : cap) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
          return InvalidArgument(Cat("container ", cname, ": capability '", cap, "' is invalid"));
        }
      }
      a->push_back("--cap-drop=" + cap);
    }
  }
  if (Truthy(c, {"securityContext", "readOnlyRootFilesystem"})) a->push_back("--read-only");
  const auto* ape = api::Find(c, {"securityContext", "allowPrivilegeEscalation"});
  if (ape && ape->is_bool() && !ape->as_bool()) a->push_back("--security-opt=no-new-privileges");
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

std::vector<std::string> BaseArgs(const Common& k, Role role, const std::string& name,
                                  const std::string& docker_name) {
  std::vector<std::string> a = {"run",
                                "--detach",
                                "--name=" + docker_name,
                                "--label=" + std::string(kLabelPodUid) + "=" + k.uid,
                                "--label=io.kubernetes.pod.namespace=" + k.ns,
                                "--label=io.kubernetes.pod.name=" + k.pod_name,
                                "--label=io.kubernetes.container.name=" + name,
                                "--label=" + std::string(kLabelInstance) + "=" + k.instance,
                                "--label=interlink.docker-sd.role=" + std::string(RoleName(role))};
  // Limits the admin set for every container: a fork bomb or a chatty log stays contained.
  if (k.settings.pids_limit > 0)
    a.push_back("--pids-limit=" + std::to_string(k.settings.pids_limit));
  if (!k.settings.log_max_size.empty()) {
    a.push_back("--log-driver=json-file");
    a.push_back("--log-opt=max-size=" + k.settings.log_max_size);
    a.push_back("--log-opt=max-file=" + std::to_string(k.settings.log_max_files));
  }
  return a;
}

void AddNamespaceArgs(const Common& k, std::vector<std::string>* a) {
  if (!k.sandbox.empty()) {
    a->push_back("--network=container:" + k.sandbox);
    a->push_back(k.host_ipc ? std::string("--ipc=host") : "--ipc=container:" + k.sandbox);
    if (k.host_pid) {
      a->push_back("--pid=host");
    } else if (k.share_pid) {
      a->push_back("--pid=container:" + k.sandbox);
    }
    return;
  }
  a->push_back("--network=" + k.network);
  if (!k.host_network) a->push_back("--hostname=" + Hostname(k.src.pod()));
  if (k.host_ipc) a->push_back("--ipc=host");
  if (k.host_pid) a->push_back("--pid=host");
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

// True when docker's --env-file carries `value` byte for byte. Docker reads the file line by
// line (lines of at most 64 KiB, UTF-8 only, a trailing CR dropped).
bool EnvFileCarries(const std::string& name, const std::string& value) {
  return value.find('\n') == std::string::npos && (value.empty() || value.back() != '\r') &&
         name.size() + value.size() + 2 <= 65536 && IsValidUtf8(value);
}

// Names the docker CLI itself reads from its environment: a value for one of them cannot
// travel through the CLI's environment without changing what the CLI does.
bool CliReservedName(const std::string& name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* p : {"DOCKER", "BUILDKIT", "GO", "LD_", "XDG_", "SSH_", "NOTARY", "COMPOSE"}) {
    if (up.rfind(p, 0) == 0) return true;
  }
  for (const char* n : {"HOME", "PATH", "TMPDIR", "USER", "SHELL", "HTTP_PROXY", "HTTPS_PROXY",
                        "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD"}) {
    if (up == n) return true;
  }
  return false;
}

// Environment values never go into argv (other local users can read it in /proc): they go
// into a 0600 --env-file, or, for values that file format cannot carry (a line break, ...),
// into the docker CLI's own environment, named in argv by `--env=NAME` only.
Status AddEnv(const Common& k, const std::string& cname, const EnvList& env, ContainerPlan* p) {
  std::string text;
  json::object overflow;
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find_first_of("= \t\n\r\v\f#") != std::string::npos ||
        name.find('\0') != std::string::npos || !IsValidUtf8(name)) {
      return InvalidArgument(
          Cat("container ", cname, ": invalid environment variable name '", name, "'"));
    }
    if (EnvFileCarries(name, value)) {
      text.append(name).append("=").append(value).append("\n");
      continue;
    }
    if (CliReservedName(name)) {
      return InvalidArgument(Cat("container ", cname, ": the value of environment variable ", name,
                                 " has a line break or is not UTF-8, which docker-sd can pass "
                                 "only for names the docker CLI does not read itself"));
    }
    p->run_args.push_back("--env=" + name);
    overflow[name] = value;
  }
  const std::string base = k.settings.PodDir(k.uid) + "/env/" + cname;
  if (!text.empty()) {
    p->run_args.push_back("--env-file=" + base + ".env");
    k.env_files->push_back({base + ".env", std::move(text), 0600});
  }
  if (!overflow.empty()) {
    p->env_json_file = base + ".env.json";
    k.env_files->push_back({p->env_json_file, json::serialize(overflow), 0600});
  }
  return Status::Ok();
}

// The termination message file: ours (created by docker-sd in the pod's private directory,
// never a path from the pod), so it needs no bind-source check.
Status AddTermination(const Common& k, const json::value& c, ContainerPlan* p) {
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
  p->run_args.push_back(MountArg(Mount{p->termination_file, path, false, std::nullopt}));
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
  auto& a = p.run_args;
  a = BaseArgs(k, role, cname, p.docker_name);
  AddNamespaceArgs(k, &a);
  Result<std::string> err = std::string();
  a.push_back(PullFlag(c, image, &err));
  if (!err.ok()) return err.status().WithContext("container " + cname);
  std::string restart = "no";
  if (role == Role::kInit && k.restart_policy != "Never") restart = "on-failure";
  if (role == Role::kApp && k.restart_policy == "Always") restart = "always";
  if (role == Role::kApp && k.restart_policy == "OnFailure") restart = "on-failure";
  a.push_back("--restart=" + restart);
  IL_ASSIGN_OR_RETURN(EnvList env, ResolveEnv(c, k.src));
  std::vector<std::string> command = Strings(c, "command"), args = Strings(c, "args");
  if (!command.empty()) a.push_back("--entrypoint=" + command[0]);
  if (auto wd = api::GetString(c, {"workingDir"}); !wd.empty()) a.push_back("--workdir=" + wd);
  IL_RETURN_IF_ERROR(AddSecurity(k.src.pod(), c, cname, &a));
  IL_RETURN_IF_ERROR(AddResources(c, cname, &a));
  if (Truthy(c, {"tty"})) a.push_back("--tty");
  if (Truthy(c, {"stdin"})) a.push_back("--interactive");
  IL_RETURN_IF_ERROR(AddEnv(k, cname, env, &p));
  if (auto it = k.volumes.mounts.find(cname); it != k.volumes.mounts.end()) {
    for (const auto& m : it->second) {
      a.push_back(MountArg(m));
      if (m.check) p.bind_checks.push_back(*m.check);
    }
  }
  IL_RETURN_IF_ERROR(AddTermination(k, c, &p));
  p.supervision = Supervision(c);
  a.push_back("--");
  a.push_back(image);
  for (size_t i = 1; i < command.size(); ++i) a.push_back(command[i]);
  for (auto& s : args) a.push_back(std::move(s));
  IL_RETURN_IF_ERROR(CheckArgs(cname, a));
  return p;
}

ContainerPlan PlanSandbox(const Common& k) {
  ContainerPlan p;
  p.role = Role::kSandbox;
  p.name = kSandboxName;
  p.docker_name = k.sandbox;
  p.image = k.settings.pause_image;
  auto& a = p.run_args;
  a = BaseArgs(k, Role::kSandbox, kSandboxName, k.sandbox);
  a.push_back("--network=" + k.network);
  if (!k.host_network) a.push_back("--hostname=" + Hostname(k.src.pod()));
  a.push_back(k.host_ipc ? "--ipc=host" : "--ipc=shareable");
  if (k.host_pid) a.push_back("--pid=host");
  a.push_back("--pull=never");
  a.push_back("--restart=unless-stopped");
  a.push_back("--");
  a.push_back(k.settings.pause_image);
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
    json::array args;
    for (const auto& a : c.run_args) args.emplace_back(a);
    json::object o{{"role", RoleName(c.role)},
                   {"name", c.name},
                   {"dockerName", c.docker_name},
                   {"image", c.image},
                   {"runArgs", std::move(args)}};
    if (!c.env_json_file.empty()) o["envJsonFile"] = c.env_json_file;
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
    const auto* args = api::Find(c, {"runArgs"});
    if (cp.docker_name.empty() || !args || !args->is_array()) {
      return InvalidArgument("stored pod plan is malformed");
    }
    for (const auto& a : args->as_array()) {
      if (a.is_string()) cp.run_args.emplace_back(a.as_string());
    }
    cp.env_json_file = api::GetString(c, {"envJsonFile"});
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
