#include "sidecars/slurm/slurm_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "api/types.h"
#include "sidecars/slurm/resources.h"
#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

Status Bad(const std::string& key, const std::string& what) {
  return InvalidArgument("slurm sidecar: " + key + ": " + what);
}

Result<std::vector<std::string>> Command(const std::string& key, const std::string& v) {
  auto argv = ShellSplit(v);
  if (!argv.ok()) return Bad(key, argv.status().message());
  if (argv->empty()) return Bad(key, "must not be empty");
  return *argv;
}

Result<bool> Bool(const std::string& key, std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return Bad(key, "must be true or false, got '" + v + "'");
}

// A YAML list dumped into a string, or a plain string of shell words.
Result<std::vector<std::string>> WordList(const std::string& key, const std::string& v) {
  try {
    YAML::Node n = YAML::Load(v);
    if (n.IsSequence()) {
      std::vector<std::string> out;
      for (const auto& e : n) out.push_back(e.as<std::string>());
      return out;
    }
  } catch (const YAML::Exception&) {
    // Not YAML: fall through to shell words.
  }
  auto words = ShellSplit(v);
  if (!words.ok()) return Bad(key, words.status().message());
  return *words;
}

// Paths end up in --bind src:dst lists, where ':' and ',' are separators.
Status CheckPath(const std::string& key, const std::string& p) {
  if (p.empty() || p[0] != '/') return Bad(key, "must be an absolute path, got '" + p + "'");
  if (p.find_first_of(":,\n\r") != std::string::npos || HasNul(p)) {
    return Bad(key, "must not contain ':', ',' or line breaks");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PathList(const std::string& key, const std::string& v) {
  IL_ASSIGN_OR_RETURN(auto items, WordList(key, v));
  std::vector<std::string> out;
  for (auto& p : items) {
    for (size_t start = 0; start <= p.size();) {  // "a,b" is accepted too
      size_t comma = p.find(',', start);
      if (comma == std::string::npos) comma = p.size();
      std::string one = p.substr(start, comma - start);
      start = comma + 1;
      if (one.empty()) continue;
      IL_RETURN_IF_ERROR(CheckPath(key, one));
      std::string norm = std::filesystem::path(one).lexically_normal().string();
      if (norm.size() > 1 && norm.back() == '/') norm.pop_back();
      out.push_back(norm);
    }
  }
  return out;
}

Status ApplyPolicy(const std::string& k, const std::string& v, SlurmPolicy* p) {
  if (k == "HonouredAnnotations") {
    IL_ASSIGN_OR_RETURN(p->honoured_annotations, WordList(k, v));
    for (const auto& a : p->honoured_annotations) {
      if (std::find(KnownAnnotations().begin(), KnownAnnotations().end(), a) ==
          KnownAnnotations().end()) {
        return Bad(k, "'" + a + "' is not an annotation slurm-sd knows");
      }
    }
  } else if (k == "AllowedRuntimes") {
    IL_ASSIGN_OR_RETURN(auto names, WordList(k, v));
    p->allowed_runtimes.clear();
    for (const auto& n : names) {
      auto r = ParseRuntime(n);
      if (!r.ok()) return Bad(k, r.status().message());
      p->allowed_runtimes.push_back(*r);
    }
  } else if (k == "SbatchOptionsAllowList" || k == "SbatchOptionsDenyList") {
    IL_ASSIGN_OR_RETURN(auto names, WordList(k, v));
    for (auto& n : names) {
      while (!n.empty() && n[0] == '-') n.erase(0, 1);  // "--time" and "time" alike
      if (n.empty()) return Bad(k, "empty option name");
    }
    (k == "SbatchOptionsAllowList" ? p->sbatch_allow : p->sbatch_deny) = names;
  } else if (k == "HostPathAllowList") {
    IL_ASSIGN_OR_RETURN(p->host_path_allow, PathList(k, v));
  }
  // Other sidecar keys (Flavors, Taints, ...) belong to other sidecars or are unused.
  return Status::Ok();
}

bool ValidUserName(const std::string& u) {
  if (u.empty() || u.size() > 32 ||
      !(std::islower(static_cast<unsigned char>(u[0])) || u[0] == '_'))
    return false;
  for (char c : u) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

Status ApplyTenancy(const std::string& k, const std::string& v, SlurmConfig* s) {
  if (k == "NamespaceUsers") {
    try {
      YAML::Node n = YAML::Load(v);
      if (n.IsNull()) return Status::Ok();
      if (!n.IsMap()) return Bad(k, "must be a mapping of namespace: user");
      for (const auto& kv : n) {
        std::string ns = kv.first.as<std::string>(), user = kv.second.as<std::string>();
        if (ns != "*" && !api::IsDnsLabel(ns)) return Bad(k, "'" + ns + "' is not a namespace");
        if (!ValidUserName(user)) return Bad(k, "'" + user + "' is not a Unix user name");
        s->namespace_users[ns] = user;
      }
    } catch (const YAML::Exception& e) {
      return Bad(k, e.what());
    }
  } else if (k == "RunAsCommand") {
    IL_ASSIGN_OR_RETURN(s->run_as, WordList(k, v));
    if (std::find(s->run_as.begin(), s->run_as.end(), "{user}") == s->run_as.end())
      return Bad(k, "must contain the word {user}");
  }
  return Status::Ok();
}

// The seed's keys: the Slurm commands (an empty value keeps the default), the job shell,
// the administrator's prefix and tsocks.
std::vector<std::string>* CommandOf(const std::string& k, SlurmConfig* s) {
  if (k == "SbatchPath") return &s->sbatch;
  if (k == "ScancelPath") return &s->scancel;
  if (k == "SqueuePath") return &s->squeue;
  if (k == "SacctPath") return &s->sacct;
  if (k == "SinfoPath") return &s->sinfo;
  if (k == "ScontrolPath") return &s->scontrol;
  return nullptr;
}

// nullopt when `k` is not one of the seed's keys.
std::optional<Status> ApplySeedKey(const std::string& k, const std::string& v, SlurmConfig* s) {
  if (auto* argv = CommandOf(k, s)) {
    if (v.empty()) return Status::Ok();
    auto words = Command(k, v);
    if (!words.ok()) return words.status();
    *argv = std::move(*words);
  } else if (k == "BashPath") {
    if (HasLineBreak(v) || HasNul(v)) return Bad(k, "must be a path");
    if (!v.empty()) s->bash_path = v;
  } else if (k == "CommandPrefix") {
    s->command_prefix = v;
  } else if (k == "Tsocks") {
    auto on = Bool(k, v);
    if (!on.ok()) return on.status();
    s->tsocks = *on;
  } else if (k == "TsocksPath") {
    s->tsocks_path = v;
  } else if (k == "TsocksLoginNode") {
    s->tsocks_login_node = v;
  } else if (k != "TsocksConfig") {  // upstream declares it and never reads it; so do we
    return std::nullopt;
  }
  return Status::Ok();
}

Status ApplySetting(const std::string& k, const std::string& v, SlurmConfig* s) {
  if (auto seed = ApplySeedKey(k, v, s)) return *seed;
  if (k == "Partition") {
    s->partition = v;
  } else if (k == "Account") {
    s->account = v;
  } else if (k == "TimeLimit") {
    s->time_limit = v;
  } else if (k == "DefaultCPUs") {
    auto m = ParseCpuMillis(v);
    if (!m.ok() || *m <= 0) return Bad(k, "must be a positive number of CPUs, got '" + v + "'");
    s->default_cpus = static_cast<int>(MillisToCpus(*m));
  } else if (k == "DefaultMemory") {
    if (!v.empty() && !ParseBytes(v).ok())
      return Bad(k, "must be a quantity such as 2Gi, got '" + v + "'");
    s->default_memory = v;
  } else if (k == "ContainerRuntime") {
    IL_ASSIGN_OR_RETURN(s->runtime, ParseRuntime(v));
  } else if (k == "ImagePrefix" || k == "ImageRoot" || k == "SingularityPrefix") {
    if (!v.empty()) s->image_prefix = v;
  } else if (k == "SingularityPath") {
    s->singularity_path = v;
  } else if (k == "SingularityDefaultOptions") {
    IL_ASSIGN_OR_RETURN(s->singularity_options, WordList(k, v));
  } else if (k == "PodmanPath") {
    if (!v.empty()) s->podman_path = v;
  } else if (k == "ChRunPath") {
    if (!v.empty()) s->ch_run_path = v;
  } else if (k == "SharedFS") {
    IL_ASSIGN_OR_RETURN(s->shared_fs, Bool(k, v));
  } else if (k == "GrpcProbePath") {
    s->grpc_probe_path = v;
  } else if (k == "EnableProbes") {
    IL_ASSIGN_OR_RETURN(s->enable_probes, Bool(k, v));
  } else if (k == "PreExec") {
    s->pre_exec = v;
  } else if (k == "StatusCacheSeconds") {
    try {
      s->status_cache_seconds = std::stod(v);
    } catch (const std::exception&) {
      return Bad(k, "must be a number of seconds, got '" + v + "'");
    }
    if (s->status_cache_seconds < 0) return Bad(k, "must not be negative");
  } else if (k == "StateFile") {
    s->state_file = v;
  } else if (k == "NamespaceUsers" || k == "RunAsCommand") {
    return ApplyTenancy(k, v, s);
  } else {
    return ApplyPolicy(k, v, &s->policy);
  }
  return Status::Ok();
}

using config::Key;

// A key whose text value ApplySetting reads (a YAML list or mapping arrives as YAML text).
Key<SlurmConfig> Setting(std::string name, std::vector<std::string> aliases,
                         std::vector<std::string> env, std::string type, std::string def,
                         std::string doc) {
  std::string canonical = name;
  return config::MakeKey<SlurmConfig>(
      std::move(name), std::move(aliases), std::move(env), std::move(type), std::move(def),
      std::move(doc), [canonical](const YAML::Node& n, const config::Where&, SlurmConfig* s) {
        return ApplySetting(canonical, config::TextOf(n), s);
      });
}

std::vector<Key<SlurmConfig>> MakeKeys() {
  auto k = Setting;
  return {
      k("SbatchPath", {}, {"SBATCHPATH"}, "string", "/usr/bin/sbatch",
        "sbatch (may carry a wrapper: split into argv words)"),
      k("ScancelPath", {}, {"SCANCELPATH"}, "string", "/usr/bin/scancel", "scancel"),
      k("SqueuePath", {}, {}, "string", "/usr/bin/squeue", "squeue"),
      k("SacctPath", {}, {}, "string", "/usr/bin/sacct", "sacct"),
      k("SinfoPath", {}, {}, "string", "/usr/bin/sinfo", "sinfo"),
      k("ScontrolPath", {}, {}, "string", "/usr/bin/scontrol", "scontrol"),
      k("BashPath", {}, {}, "string", "/bin/bash", "shell of the job script"),
      k("CommandPrefix", {}, {}, "string", "", "shell text before the commands of every job"),
      k("Tsocks", {}, {"TSOCKS"}, "bool", "false", "the seed's SOCKS proxy for jobs"),
      k("TsocksPath", {}, {"TSOCKSPATH"}, "string", "", "libtsocks.so (required with Tsocks)"),
      k("TsocksLoginNode", {}, {}, "string", "", "login node of the tsocks proxy"),
      k("TsocksConfig", {}, {}, "string", "", "upstream key, accepted, no effect"),
      k("Partition", {}, {}, "string", "", "#SBATCH --partition"),
      k("Account", {}, {}, "string", "", "#SBATCH --account"),
      k("TimeLimit", {}, {}, "string", "", "#SBATCH --time"),
      k("DefaultCPUs", {}, {}, "number", "1", "CPUs of a pod without requests"),
      k("DefaultMemory", {}, {}, "string", "", "memory of a pod without requests (quantity)"),
      k("ContainerRuntime", {}, {}, "string", "singularity",
        "singularity, apptainer, podman, ch-run or none"),
      k("ImagePrefix", {"ImageRoot", "SingularityPrefix"}, {}, "string", "",
        "prefix of image names (default docker:// for singularity/apptainer)"),
      k("SingularityPath", {}, {}, "string", "", "singularity or apptainer binary"),
      k("SingularityDefaultOptions", {}, {}, "list", "[--nv, --no-eval, --containall]",
        "options of every singularity exec"),
      k("PodmanPath", {}, {}, "string", "podman", "podman binary"),
      k("ChRunPath", {}, {}, "string", "ch-run", "Charliecloud ch-run binary"),
      k("SharedFS", {}, {"SHARED_FS"}, "bool", "true",
        "the job directory is on a filesystem the compute nodes share"),
      k("PreExec", {}, {}, "string", "", "shell text run before the containers"),
      k("EnableProbes", {}, {}, "bool", "false", "run probes inside the job"),
      k("GrpcProbePath", {}, {}, "string", "il-grpc-probe beside slurm-sd",
        "program gRPC probes run inside the job"),
      k("StatusCacheSeconds", {}, {}, "number", "1", "reuse of squeue/sacct results"),
      k("StateFile", {}, {}, "string", kDefaultSlurmStateFile,
        "SQLite state, never inside DataRootFolder"),
      k("NamespaceUsers", {}, {}, "map", "", "namespace: Unix user its jobs run as"),
      k("RunAsCommand", {}, {}, "list", "/usr/sbin/runuser -u {user} --",
        "how jobs are submitted as a tenant"),
      k("HonouredAnnotations", {}, {}, "list", "flags, container-runtime, pod-ip",
        "pod annotations slurm-sd honours"),
      k("AllowedRuntimes", {}, {}, "list", "singularity, apptainer, podman, ch-run",
        "runtimes a pod may pick"),
      k("SbatchOptionsAllowList", {}, {}, "list", "[]", "sbatch options a pod may set"),
      k("SbatchOptionsDenyList", {}, {}, "list", "[clusters, reboot, priority]",
        "sbatch options a pod may not set"),
      k("HostPathAllowList", {}, {}, "list", "[]", "host directories hostPath volumes may use"),
      k("Socket", {}, {}, "string", "", "upstream key, accepted, no effect"),
      k("Flavors", {}, {}, "map", "", "upstream key, accepted, no effect"),
      k("DefaultFlavor", {}, {}, "string", "", "upstream key, accepted, no effect"),
      k("Taints", {}, {}, "list", "", "upstream key, accepted, no effect"),
  };
}

}  // namespace

const std::vector<config::Key<SlurmConfig>>& SlurmKeys() {
  static const std::vector<config::Key<SlurmConfig>> k = MakeKeys();
  return k;
}

const std::vector<std::string>& KnownAnnotations() {
  static const std::vector<std::string> k = {"slurm-job.vk.io/flags",
                                             "slurm-job.knoc.io/flags",
                                             "slurm-job.vk.io/pre-exec",
                                             "slurm-job.vk.io/image-root",
                                             "slurm-job.knoc.io/image-root",
                                             "slurm-job.vk.io/container-runtime",
                                             "slurm-job.vk.io/singularity-options",
                                             "slurm-job.vk.io/singularity-mounts",
                                             "slurm-job.vk.io/podman-options",
                                             "slurm-job.vk.io/ch-run-options",
                                             "slurm-job.vk.io/mpi-flags",
                                             "slurm-job.knoc.io/mpi-flags",
                                             "interlink.eu/pod-ip",
                                             "interlink.eu/wstunnel-client-commands"};
  return k;
}

const std::vector<std::string>& DefaultHonouredAnnotations() {
  static const std::vector<std::string> k = {"slurm-job.vk.io/flags", "slurm-job.knoc.io/flags",
                                             "slurm-job.vk.io/container-runtime",
                                             "interlink.eu/pod-ip"};
  return k;
}

Result<std::optional<std::string>> JobUser(const SlurmConfig& cfg, const std::string& ns) {
  if (cfg.namespace_users.empty()) return std::optional<std::string>();
  auto it = cfg.namespace_users.find(ns.empty() ? "default" : ns);
  if (it == cfg.namespace_users.end()) it = cfg.namespace_users.find("*");
  if (it == cfg.namespace_users.end()) {
    return InvalidArgument("namespace " + ns + " has no Unix user in slurm-sd's NamespaceUsers");
  }
  return std::optional<std::string>(it->second);
}

std::vector<std::string> AsUser(const SlurmConfig& cfg, const std::optional<std::string>& user,
                                const std::vector<std::string>& command) {
  if (!user) return command;
  std::vector<std::string> argv;
  for (const auto& w : cfg.run_as) argv.push_back(w == "{user}" ? *user : w);
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

Result<Runtime> ParseRuntime(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  if (n == "singularity" || n.empty()) return Runtime::kSingularity;
  if (n == "apptainer") return Runtime::kApptainer;
  if (n == "podman") return Runtime::kPodman;
  if (n == "ch-run" || n == "charliecloud") return Runtime::kCharliecloud;
  if (n == "none" || n == "host") return Runtime::kNone;
  return InvalidArgument("unknown container runtime '" + n +
                         "' (known: singularity, apptainer, podman, ch-run, none)");
}

std::string_view RuntimeName(Runtime r) {
  switch (r) {
    case Runtime::kSingularity:
      return "singularity";
    case Runtime::kApptainer:
      return "apptainer";
    case Runtime::kPodman:
      return "podman";
    case Runtime::kCharliecloud:
      return "ch-run";
    case Runtime::kNone:
      return "none";
  }
  return "none";
}

Result<SlurmConfig> SlurmConfigFrom(const InterLinkConfig& c, const EnvLookup& env) {
  SlurmConfig s;
  s.data_root = c.data_root_folder;
  while (s.data_root.size() > 1 && s.data_root.back() == '/') s.data_root.pop_back();
  IL_RETURN_IF_ERROR(CheckPath("DataRootFolder", s.data_root));
  IL_RETURN_IF_ERROR(config::ApplyText(SlurmKeys(), c.sidecar_settings, "slurm-sd", &s));
  if (auto v = env("SHARED_FS"); v && !v->empty()) {
    IL_ASSIGN_OR_RETURN(s.shared_fs, Bool("SHARED_FS", *v));
  }
  if (s.tsocks && s.tsocks_path.empty())
    return Bad("TsocksPath", "must be set when Tsocks is true");
  if (s.tsocks && s.tsocks_login_node.empty())
    return Bad("TsocksLoginNode", "must be set when Tsocks is true");
  for (const auto* f : {&s.partition, &s.account, &s.time_limit}) {
    if (HasLineBreak(*f) || HasNul(*f))
      return Bad("Partition/Account/TimeLimit", "must be one line");
  }
  // The state database says which commands run for which job: a job (which can write to
  // DataRootFolder) must not be able to reach it.
  if (s.state_file.empty()) s.state_file = kDefaultSlurmStateFile;
  std::string state = std::filesystem::path(s.state_file).lexically_normal().string();
  if (state.rfind(s.data_root + "/", 0) == 0 || s.data_root == "/") {
    return Bad("StateFile", "'" + s.state_file + "' must not be inside DataRootFolder " +
                                s.data_root + " (jobs can write there)");
  }
  return s;
}

}  // namespace il::slurm
