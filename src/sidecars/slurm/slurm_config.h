// SlurmConfig: the Slurm sidecar's settings, read from InterLinkConfig.yaml through its own
// keys (SlurmKeys()) plus DataRootFolder, which every sidecar shares (core/config.h).
//
// The seed's and upstream's keys are slurm-sd's and keep their meaning and variables:
// SbatchPath (SBATCHPATH), ScancelPath (SCANCELPATH), SqueuePath, SacctPath, SinfoPath,
// ScontrolPath (each may carry a wrapper, e.g. "ssh login sbatch"; it is split into an
// argv, never run through a shell; empty keeps the default), BashPath, CommandPrefix,
// Tsocks (TSOCKS), TsocksPath (TSOCKSPATH), TsocksLoginNode, TsocksConfig (no effect).
// Its other keys: Partition, Account, TimeLimit, DefaultCPUs, DefaultMemory, ContainerRuntime,
// ImagePrefix (ImageRoot is an alias), SingularityPath, SingularityDefaultOptions,
// PodmanPath, ChRunPath, SharedFS (env SHARED_FS), PreExec, StatusCacheSeconds, StateFile,
// and the admin policy on what a pod may ask for: HonouredAnnotations, AllowedRuntimes,
// SbatchOptionsAllowList, SbatchOptionsDenyList, HostPathAllowList.
// See docs/slurm-sidecar.md.
//
// Thread-safety: a plain value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace il::slurm {

enum class Runtime { kSingularity, kApptainer, kPodman, kCharliecloud, kNone };

// "singularity", "apptainer", "podman", "ch-run" / "charliecloud", "none" / "host".
Result<Runtime> ParseRuntime(std::string_view name);
std::string_view RuntimeName(Runtime r);

// Pod annotations slurm-sd understands (job_spec.h has their meaning).
const std::vector<std::string>& KnownAnnotations();
// Those honoured unless HonouredAnnotations says otherwise: none of them runs raw shell on
// the node or reaches past the container (pre-exec, wstunnel commands, runtime options and
// mounts, MPI launcher flags and image roots are off).
const std::vector<std::string>& DefaultHonouredAnnotations();

struct SlurmPolicy {
  std::vector<std::string> honoured_annotations = DefaultHonouredAnnotations();
  // Runtimes a pod may pick with slurm-job.vk.io/container-runtime ("none" runs on the host).
  std::vector<Runtime> allowed_runtimes = {Runtime::kSingularity, Runtime::kApptainer,
                                           Runtime::kPodman, Runtime::kCharliecloud};
  std::vector<std::string> sbatch_allow;  // empty: every option not denied or locked
  std::vector<std::string> sbatch_deny = {"clusters", "reboot", "priority"};
  std::vector<std::string> host_path_allow;  // lexically normal prefixes; empty: no hostPath
};

struct SlurmConfig {
  // argv prefixes of the Slurm commands.
  std::vector<std::string> sbatch = {"/usr/bin/sbatch"};
  std::vector<std::string> scancel = {"/usr/bin/scancel"};
  std::vector<std::string> squeue = {"/usr/bin/squeue"};
  std::vector<std::string> sacct = {"/usr/bin/sacct"};
  std::vector<std::string> sinfo = {"/usr/bin/sinfo"};
  std::vector<std::string> scontrol = {"/usr/bin/scontrol"};
  std::string bash_path = "/bin/bash";           // shebang of the job script
  std::string data_root = "/var/lib/interlink";  // job dirs: <data_root>/<ns>-<uid>
  // SQLite, never inside data_root (jobs can write there); default kDefaultStateFile.
  std::string state_file;

  // #SBATCH defaults.
  std::string partition, account, time_limit;
  int default_cpus = 1;
  std::string default_memory;  // Kubernetes quantity; empty: let Slurm decide

  // Containers.
  Runtime runtime = Runtime::kSingularity;
  std::string image_prefix;      // empty: "docker://" for singularity/apptainer
  std::string singularity_path;  // empty: "singularity" or "apptainer" by runtime
  std::vector<std::string> singularity_options = {"--nv", "--no-eval", "--containall"};
  std::string podman_path = "podman";
  std::string ch_run_path = "ch-run";

  // Volumes: true = the sidecar writes files into the job dir (shared filesystem);
  // false = the job script carries them (base64) and writes them on the compute node.
  bool shared_fs = true;

  // Raw shell text from the administrator, inserted before the containers start.
  std::string command_prefix;
  std::string pre_exec;
  bool tsocks = false;
  std::string tsocks_path, tsocks_login_node;

  // EnableProbes (upstream's key and default): run startup/readiness/liveness probes
  // inside the job. Off: probes are ignored, containers are ready while running.
  bool enable_probes = false;
  // GrpcProbePath: the program gRPC probes run inside the job, with grpc_health_probe's flags
  // (default: il-grpc-probe beside slurm-sd, when it is there; compute nodes must see that
  // path). Empty or not executable on the node: grpc_health_probe from the node's PATH.
  std::string grpc_probe_path;

  // Status results younger than this are reused (0: always ask Slurm).
  double status_cache_seconds = 1.0;

  SlurmPolicy policy;

  // Multi-tenancy (NamespaceUsers): namespace -> Unix user its jobs run as ("*": any other
  // namespace). Empty: every job runs as slurm-sd's own user. When set, a namespace without
  // an entry is refused, job directories belong to the user (0700), and sbatch and scancel
  // run through `run_as` with "{user}" replaced (RunAsCommand; no shell).
  std::map<std::string, std::string> namespace_users;
  std::vector<std::string> run_as = {"/usr/sbin/runuser", "-u", "{user}", "--"};
};

// The Unix user the jobs of namespace `ns` run as: nullopt for slurm-sd's own user (no
// NamespaceUsers); kInvalidArgument when NamespaceUsers is set but does not cover `ns`.
Result<std::optional<std::string>> JobUser(const SlurmConfig& cfg, const std::string& ns);
// `command` run as `user` (RunAsCommand + command), or `command` itself without a user.
std::vector<std::string> AsUser(const SlurmConfig& cfg, const std::optional<std::string>& user,
                                const std::vector<std::string>& command);

// Local to the login node and outside the default DataRootFolder (/var/lib/interlink), which
// compute nodes (and so jobs) may share.
inline constexpr const char* kDefaultSlurmStateFile = "/var/lib/interlink-slurm-sd/state.db";

// slurm-sd's own keys (the "slurm-sd" component of daemon/config_catalog.h). The loader
// (core/config.h, OtherKeys::sidecar) keeps their values as text in sidecar_settings;
// SlurmConfigFrom reads them through these setters.
const std::vector<config::Key<SlurmConfig>>& SlurmKeys();

// Validates and converts: DataRootFolder from `c`, the rest from c.sidecar_settings (kept
// there by the loader for SlurmKeys(), file and variables). `env` supplies SHARED_FS.
Result<SlurmConfig> SlurmConfigFrom(const InterLinkConfig& c, const EnvLookup& env = ProcessEnv);

}  // namespace il::slurm
