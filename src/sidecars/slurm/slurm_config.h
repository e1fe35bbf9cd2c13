// SlurmConfig: the Slurm sidecar's typed view of InterLinkConfig (core/config.h).
//
// Seed and upstream keys keep their meaning: SbatchPath, ScancelPath, SqueuePath,
// SacctPath, SinfoPath, ScontrolPath (each may carry a wrapper, e.g. "ssh login sbatch";
// it is split into an argv, never run through a shell), BashPath, CommandPrefix, Tsocks,
// TsocksPath, TsocksLoginNode, DataRootFolder. Sidecar settings (KnownSidecarKeys):
// Partition, Account, TimeLimit, DefaultCPUs, DefaultMemory, ContainerRuntime,
// ImagePrefix (ImageRoot is an alias), SingularityPath, SingularityDefaultOptions,
// PodmanPath, ChRunPath, SharedFS (env SHARED_FS), PreExec, StatusCacheSeconds, StateFile.
// See docs/slurm-sidecar.md.
//
// Thread-safety: a plain value.
#pragma once

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

struct SlurmConfig {
  // argv prefixes of the Slurm commands.
  std::vector<std::string> sbatch = {"/usr/bin/sbatch"};
  std::vector<std::string> scancel = {"/usr/bin/scancel"};
  std::vector<std::string> squeue = {"/usr/bin/squeue"};
  std::vector<std::string> sacct = {"/usr/bin/sacct"};
  std::vector<std::string> sinfo = {"/usr/bin/sinfo"};
  std::vector<std::string> scontrol = {"/usr/bin/scontrol"};
  std::string bash_path = "/bin/bash";       // shebang of the job script
  std::string data_root = "/tmp/interlink";  // job dirs: <data_root>/<ns>-<uid>
  std::string state_file;                    // SQLite; default <data_root>/slurm-sd.db

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

  // Status results younger than this are reused (0: always ask Slurm).
  double status_cache_seconds = 1.0;
};

// Validates and converts. `env` supplies SHARED_FS.
Result<SlurmConfig> SlurmConfigFrom(const InterLinkConfig& c, const EnvLookup& env = ProcessEnv);

}  // namespace il::slurm
