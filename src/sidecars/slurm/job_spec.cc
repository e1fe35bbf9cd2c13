#include "sidecars/slurm/job_spec.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "api/bounded_name.h"
#include "api/pod.h"
#include "sidecars/slurm/resources.h"
#include "sidecars/slurm/shell.h"
#include "sidecars/slurm/volumes.h"

namespace il::slurm {

namespace fs = std::filesystem;
namespace {

namespace json = boost::json;

// Concatenation in one allocation (messages built inside loops).
std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

Status CheckText(const std::string& s, const std::string& where) {
  if (HasNul(s)) return InvalidArgument(where + " contains a NUL byte");
  return Status::Ok();
}

Result<std::vector<std::string>> StringList(const json::value& c, std::string_view key,
                                            const std::string& where) {
  std::vector<std::string> out;
  const auto* v = api::Find(c, {key});
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return InvalidArgument(where + "." + std::string(key) + " must be a list");
  for (const auto& e : v->as_array()) {
    if (!e.is_string())
      return InvalidArgument(where + "." + std::string(key) + " must hold strings");
    out.emplace_back(e.as_string());
    IL_RETURN_IF_ERROR(CheckText(out.back(), where + "." + std::string(key)));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Env(const json::value& c,
                                                             const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto* v = api::Find(c, {"env"});
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return InvalidArgument(where + ".env must be a list");
  for (const auto& e : v->as_array()) {
    std::string name = api::GetString(e, {"name"});
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) || HasLineBreak(name)) {
      return InvalidArgument(Join({where, ".env: invalid variable name '", name, "'"}));
    }
    const auto* val = api::Find(e, {"value"});
    if (val && !val->is_string() && !val->is_null()) {
      return InvalidArgument(Join({where, ".env.", name, ".value must be a string"}));
    }
    // valueFrom is resolved into value by the virtual kubelet; a reference it left
    // unresolved is not set at all (rather than set empty).
    if ((!val || val->is_null()) && api::Find(e, {"valueFrom"})) continue;
    std::string value = val && val->is_string() ? std::string(val->as_string()) : "";
    IL_RETURN_IF_ERROR(CheckText(value, Join({where, ".env.", name})));
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string AnnotationOr(const json::value& pod, const char* a, const char* b = nullptr) {
  if (auto v = api::Annotation(pod, a)) return *v;
  if (b) {
    if (auto v = api::Annotation(pod, b)) return *v;
  }
  return "";
}

Result<std::vector<std::string>> SplitAnnotation(const json::value& pod, const char* key) {
  auto v = api::Annotation(pod, key);
  if (!v) return std::vector<std::string>();
  if (HasNul(*v)) return InvalidArgument(std::string("annotation ") + key + " contains a NUL byte");
  auto words = ShellSplit(*v);
  if (!words.ok()) return words.status().WithContext(std::string("annotation ") + key);
  return *words;
}

// Every annotation slurm-sd knows that the pod sets must be one the admin lets pods use:
// refusing (rather than ignoring) tells the pod's author why the job would differ.
Status CheckAnnotations(const json::value& pod, const SlurmPolicy& policy) {
  const auto& honoured = policy.honoured_annotations;
  for (const auto& a : KnownAnnotations()) {
    if (!api::Annotation(pod, a)) continue;
    if (std::find(honoured.begin(), honoured.end(), a) == honoured.end()) {
      return InvalidArgument("annotation " + a +
                             " is not honoured by this slurm-sd (HonouredAnnotations)");
    }
  }
  return Status::Ok();
}

// #SBATCH layers: fixed < config defaults < pod resources < annotations.
Result<std::vector<SbatchFlag>> Flags(const json::value& pod, const SlurmConfig& cfg,
                                      const std::string& uid, const std::string& dir) {
  std::vector<SbatchFlag> flags = {{{"--job-name=" + JobName(uid)}},
                                   {{"--output=" + dir + "/job.out"}}};
  std::vector<SbatchFlag> defaults;
  if (!cfg.partition.empty()) defaults.push_back({{"--partition=" + cfg.partition}});
  if (!cfg.account.empty()) defaults.push_back({{"--account=" + cfg.account}});
  if (!cfg.time_limit.empty()) defaults.push_back({{"--time=" + cfg.time_limit}});
  defaults.push_back({{"--cpus-per-task=" + std::to_string(cfg.default_cpus)}});
  if (!cfg.default_memory.empty()) {
    IL_ASSIGN_OR_RETURN(int64_t b, ParseBytes(cfg.default_memory));
    defaults.push_back({{"--mem=" + std::to_string(BytesToMiB(b)) + "M"}});
  }
  MergeFlags(flags, defaults);
  IL_ASSIGN_OR_RETURN(PodResources r, ComputePodResources(pod));
  std::vector<SbatchFlag> from_pod;
  if (r.cpu_millis)
    from_pod.push_back({{"--cpus-per-task=" + std::to_string(MillisToCpus(*r.cpu_millis))}});
  if (r.memory_bytes)
    from_pod.push_back({{"--mem=" + std::to_string(BytesToMiB(*r.memory_bytes)) + "M"}});
  if (r.gpus && *r.gpus > 0) from_pod.push_back({{"--gres=gpu:" + std::to_string(*r.gpus)}});
  if (int64_t deadline = api::GetInt(pod, {"spec", "activeDeadlineSeconds"}); deadline > 0) {
    from_pod.push_back({{"--time=" + std::to_string((deadline + 59) / 60)}});
  }
  MergeFlags(flags, from_pod);
  for (const char* key : {kKnocFlagsAnnotation, kFlagsAnnotation}) {
    if (auto text = api::Annotation(pod, key)) {
      auto parsed = ParseFlagAnnotation(*text);
      if (!parsed.ok()) return parsed.status().WithContext(std::string("annotation ") + key);
      IL_RETURN_IF_ERROR(CheckPodFlags(*parsed, cfg.policy.sbatch_allow, cfg.policy.sbatch_deny)
                             .WithContext(std::string("annotation ") + key));
      MergeFlags(flags, *parsed);
    }
  }
  return flags;
}

Status RuntimeOptions(const json::value& pod, const SlurmConfig& cfg, JobSpec* job) {
  std::vector<const char*> keys;
  switch (job->runtime) {
    case Runtime::kSingularity:
    case Runtime::kApptainer:
      job->runtime_binary = !cfg.singularity_path.empty()         ? cfg.singularity_path
                            : job->runtime == Runtime::kApptainer ? "apptainer"
                                                                  : "singularity";
      job->runtime_options = cfg.singularity_options;
      keys = {kSingularityOptionsAnnotation, kSingularityMountsAnnotation};
      break;
    case Runtime::kPodman:
      job->runtime_binary = cfg.podman_path;
      keys = {kPodmanOptionsAnnotation};
      break;
    case Runtime::kCharliecloud:
      job->runtime_binary = cfg.ch_run_path;
      keys = {kChRunOptionsAnnotation};
      break;
    case Runtime::kNone:
      break;
  }
  for (const char* k : keys) {
    IL_ASSIGN_OR_RETURN(auto words, SplitAnnotation(pod, k));
    job->runtime_options.insert(job->runtime_options.end(), words.begin(), words.end());
  }
  return Status::Ok();
}

Result<ContainerSpec> Container(const json::value& c, bool init, const std::string& prefix,
                                const JobSpec& job, const VolumePlan& plan, bool enable_probes) {
  ContainerSpec s;
  s.name = api::GetString(c, {"name"});
  s.init = init;
  const std::string where = "container " + s.name;
  std::string image = api::GetString(c, {"image"});
  IL_RETURN_IF_ERROR(CheckText(image, where + ".image"));
  if (image.empty() && job.runtime != Runtime::kNone)
    return InvalidArgument(where + " has no image");
  s.image = ResolveImage(image, prefix, job.runtime);
  s.pull_policy = api::GetString(c, {"imagePullPolicy"});
  IL_ASSIGN_OR_RETURN(s.command, StringList(c, "command", where));
  IL_ASSIGN_OR_RETURN(s.args, StringList(c, "args", where));
  s.working_dir = api::GetString(c, {"workingDir"});
  IL_RETURN_IF_ERROR(CheckText(s.working_dir, where + ".workingDir"));
  if (!s.working_dir.empty() && s.working_dir[0] != '/') {
    return InvalidArgument(where + ".workingDir must be absolute");
  }
  if ((job.runtime == Runtime::kCharliecloud || job.runtime == Runtime::kNone) &&
      s.command.empty() && s.args.empty()) {
    return InvalidArgument(where + ": runtime " + std::string(RuntimeName(job.runtime)) +
                           " needs a command or args (it cannot read the image entrypoint)");
  }
  IL_ASSIGN_OR_RETURN(s.env, Env(c, where));
  IL_ASSIGN_OR_RETURN(s.mounts, ContainerMounts(c, plan));
  if (init) return s;
  if (enable_probes) {
    IL_ASSIGN_OR_RETURN(s.probes, api::ParseProbes(c));
  }
  IL_ASSIGN_OR_RETURN(s.lifecycle, api::ParseLifecycle(c));
  if (auto p = api::GetString(c, {"terminationMessagePath"}); !p.empty()) {
    IL_RETURN_IF_ERROR(CheckText(p, where + ".terminationMessagePath"));
    if (p[0] != '/') return InvalidArgument(where + ".terminationMessagePath must be absolute");
    s.termination_message_path = p;
  }
  s.fallback_to_logs = api::GetString(c, {"terminationMessagePolicy"}) == "FallbackToLogsOnError";
  return s;
}

// ch-run cannot create mount points (the image is mounted read-only), so a volume whose mount
// point a directory image lacks stops the container ("can't mkdir ... Read-only file system").
// Through the vk every pod has one: the service-account token at
// /var/run/secrets/kubernetes.io/serviceaccount. Such mounts are left out, with a warning.
// Images slurm-sd cannot see from its own host (not on a shared filesystem) are left alone.
void DropMountsChRunCannotMake(JobSpec& job) {
  if (job.runtime != Runtime::kCharliecloud) return;
  for (auto& c : job.containers) {
    std::error_code ec;
    if (c.image.empty() || c.image[0] != '/' || !fs::is_directory(c.image, ec)) continue;
    std::erase_if(c.mounts, [&](const Mount& m) {
      std::error_code e;
      auto st = fs::symlink_status(c.image + m.target, e);
      if (st.type() != fs::file_type::not_found) return false;
      job.warnings.push_back("container " + c.name + ": volume at " + m.target +
                             " left out: ch-run cannot create that mount point in image " +
                             c.image);
      return true;
    });
  }
}

}  // namespace

std::string JobDir(const SlurmConfig& cfg, const std::string& ns, const std::string& uid) {
  return cfg.data_root + "/" +
         api::BoundedName((ns.empty() ? "default" : ns) + "-", uid, kMaxFileNameLength);
}

std::string JobName(const std::string& uid) {
  return api::BoundedName("il-" + uid, kMaxJobNameLength);
}

bool HasUrlScheme(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (s.empty() || !alpha(s[0])) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return s.substr(i, 3) == "://";
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '.' && c != '-') return false;
  }
  return false;
}

std::string ResolveImage(const std::string& image, const std::string& prefix, Runtime runtime) {
  if (image.empty() || image[0] == '/' || HasUrlScheme(image)) return image;
  std::string p = prefix;
  if (p.empty() && (runtime == Runtime::kSingularity || runtime == Runtime::kApptainer))
    p = "docker://";
  return p + image;
}

bool HasPreStop(const JobSpec& job) {
  for (const auto& c : job.containers) {
    if (!c.init && c.lifecycle.pre_stop) return true;
  }
  return false;
}

Result<JobSpec> BuildJobSpec(const api::RetrievedPodData& data, const SlurmConfig& cfg) {
  const json::value& pod = data.pod;
  JobSpec job;
  job.uid = api::PodUid(pod);
  job.ns = api::PodNamespace(pod);
  job.name = api::PodName(pod);
  job.dir = JobDir(cfg, job.ns, job.uid);
  job.bash_path = cfg.bash_path;
  job.runtime = cfg.runtime;
  IL_RETURN_IF_ERROR(CheckAnnotations(pod, cfg.policy));
  if (auto r = api::Annotation(pod, kRuntimeAnnotation)) {
    auto parsed = ParseRuntime(*r);
    if (!parsed.ok())
      return parsed.status().WithContext(std::string("annotation ") + kRuntimeAnnotation);
    const auto& allowed = cfg.policy.allowed_runtimes;
    if (*parsed != cfg.runtime &&
        std::find(allowed.begin(), allowed.end(), *parsed) == allowed.end()) {
      return InvalidArgument(std::string("annotation ") + kRuntimeAnnotation + ": runtime " +
                             std::string(RuntimeName(*parsed)) +
                             " is not in slurm-sd's AllowedRuntimes");
    }
    job.runtime = *parsed;
  }
  IL_ASSIGN_OR_RETURN(job.flags, Flags(pod, cfg, job.uid, job.dir));
  IL_RETURN_IF_ERROR(RuntimeOptions(pod, cfg, &job));
  IL_ASSIGN_OR_RETURN(VolumePlan plan, PlanVolumes(data, job.dir, cfg.policy.host_path_allow));
  job.embed_files = !cfg.shared_fs;
  job.dirs = plan.dirs;
  job.files = plan.files;
  job.warnings = plan.warnings;
  std::string prefix = AnnotationOr(pod, kImageRootAnnotation, kKnocImageRootAnnotation);
  if (prefix.empty()) prefix = cfg.image_prefix;
  for (const auto& c : api::InitContainers(pod)) {
    IL_ASSIGN_OR_RETURN(auto s, Container(c, true, prefix, job, plan, false));
    job.containers.push_back(std::move(s));
  }
  for (const auto& c : api::Containers(pod)) {
    IL_ASSIGN_OR_RETURN(auto s, Container(c, false, prefix, job, plan, cfg.enable_probes));
    job.containers.push_back(std::move(s));
  }
  if (api::Containers(pod).empty()) return InvalidArgument("pod has no containers");
  DropMountsChRunCannotMake(job);
  if (const auto* g = api::Find(pod, {"spec", "terminationGracePeriodSeconds"});
      g && g->is_int64() && g->as_int64() >= 0) {
    job.grace_seconds = g->as_int64();
  }
  if (auto rp = api::GetString(pod, {"spec", "restartPolicy"}); !rp.empty())
    job.restart_policy = rp;
  if (auto ip = api::Annotation(pod, kPodIpAnnotation); ip && !ip->empty()) {
    IL_RETURN_IF_ERROR(CheckText(*ip, "annotation interlink.eu/pod-ip"));
    job.exports.emplace_back("POD_IP", *ip);
  }
  job.grpc_probe = cfg.grpc_probe_path;
  job.admin_prefix = cfg.command_prefix;
  if (!cfg.pre_exec.empty()) {
    job.admin_prefix += (job.admin_prefix.empty() ? "" : "\n") + cfg.pre_exec;
  }
  job.pod_pre_exec = AnnotationOr(pod, kPreExecAnnotation);
  job.wstunnel = AnnotationOr(pod, kWstunnelAnnotation);
  IL_RETURN_IF_ERROR(CheckText(job.pod_pre_exec, "annotation pre-exec"));
  IL_RETURN_IF_ERROR(CheckText(job.wstunnel, "annotation wstunnel-client-commands"));
  job.tsocks = cfg.tsocks;
  job.tsocks_path = cfg.tsocks_path;
  job.tsocks_login_node = cfg.tsocks_login_node;
  for (const char* key : {kMpiFlagsAnnotation, kKnocMpiFlagsAnnotation}) {
    if (auto v = api::Annotation(pod, key)) {
      job.mpi = true;
      if (*v != "true") {
        IL_ASSIGN_OR_RETURN(job.mpi_flags, SplitAnnotation(pod, key));
      }
      break;
    }
  }
  return job;
}

}  // namespace il::slurm
