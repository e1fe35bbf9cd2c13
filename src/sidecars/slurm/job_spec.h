// JobSpec: everything the Slurm sidecar needs to know to run one pod as one Slurm job,
// derived from the pod by a pure function (BuildJobSpec) and turned into a job script
// by another (RenderJobScript, job_script.h). Keeping the two steps pure lets the
// golden tests in test/data/slurm pin the generated script for every feature.
//
// Job directory: <DataRootFolder>/<namespace>-<uid>/ (see docs/slurm-sidecar.md for
// the files in it).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/probe.h"
#include "api/types.h"
#include "sidecars/slurm/sbatch_flags.h"
#include "sidecars/slurm/slurm_config.h"

namespace il::slurm {

struct VolumeFile {
  std::string path;  // absolute
  std::string content;
  int mode = 0644;
};

struct Mount {
  std::string source;  // host path
  std::string target;  // path in the container
  bool read_only = false;
};

struct ContainerSpec {
  std::string name;
  bool init = false;
  std::string image;        // after the image prefix rules
  std::string pull_policy;  // imagePullPolicy (podman --pull)
  std::vector<std::string> command, args;
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Mount> mounts;
  // App containers only (the API server refuses probes and hooks on init containers).
  api::ContainerProbes probes;  // empty unless EnableProbes
  api::Lifecycle lifecycle;     // postStart / preStop, always honoured
  // terminationMessagePath (bound into podman/singularity containers) and whether
  // terminationMessagePolicy is FallbackToLogsOnError.
  std::string termination_message_path = "/dev/termination-log";
  bool fallback_to_logs = false;
};

struct JobSpec {
  std::string uid, ns, name;
  std::string dir;  // job directory
  std::string bash_path;
  std::vector<SbatchFlag> flags;
  Runtime runtime = Runtime::kSingularity;
  std::string runtime_binary;
  std::vector<std::string> runtime_options;  // default options + pod annotations
  bool embed_files = false;                  // SharedFS false: the script writes files
  std::vector<std::string> dirs;             // made by the script before containers start
  std::vector<VolumeFile> files;             // volume files
  std::vector<ContainerSpec> containers;     // init containers first, in spec order
  std::vector<std::pair<std::string, std::string>> exports;  // e.g. POD_IP
  std::string admin_prefix;  // CommandPrefix + PreExec (administrator's raw shell)
  std::string pod_pre_exec;  // slurm-job.vk.io/pre-exec (raw shell, by design)
  std::string wstunnel;      // interlink.eu/wstunnel-client-commands (set by the VK)
  bool tsocks = false;
  std::string tsocks_path, tsocks_login_node;
  bool mpi = false;
  std::vector<std::string> mpi_flags;
  std::vector<std::string> warnings;  // for the log, e.g. a projected volume not sent
  // spec.terminationGracePeriodSeconds (default 30): the preStop budget and the time
  // between SIGTERM and SIGKILL when the job kills a container (at least 2 s after preStop).
  int64_t grace_seconds = 30;
  // spec.restartPolicy (Always by default): the job restarts a container it killed itself
  // (liveness/startup probe, postStart) unless this is Never.
  std::string restart_policy = "Always";
  // GrpcProbePath: the gRPC health-check program the job's gRPC probes run (il-grpc-probe,
  // or grpc_health_probe from the node's PATH when empty or not executable there).
  std::string grpc_probe;
};

// True when the pod's app containers have a preStop hook (delete then signals the job
// first, so the hooks run before the containers get SIGTERM).
bool HasPreStop(const JobSpec& job);

// Annotation names.
inline constexpr const char* kFlagsAnnotation = "slurm-job.vk.io/flags";
inline constexpr const char* kKnocFlagsAnnotation = "slurm-job.knoc.io/flags";
inline constexpr const char* kPreExecAnnotation = "slurm-job.vk.io/pre-exec";
inline constexpr const char* kImageRootAnnotation = "slurm-job.vk.io/image-root";
inline constexpr const char* kKnocImageRootAnnotation = "slurm-job.knoc.io/image-root";
inline constexpr const char* kRuntimeAnnotation = "slurm-job.vk.io/container-runtime";
inline constexpr const char* kSingularityOptionsAnnotation = "slurm-job.vk.io/singularity-options";
inline constexpr const char* kSingularityMountsAnnotation = "slurm-job.vk.io/singularity-mounts";
inline constexpr const char* kPodmanOptionsAnnotation = "slurm-job.vk.io/podman-options";
inline constexpr const char* kChRunOptionsAnnotation = "slurm-job.vk.io/ch-run-options";
inline constexpr const char* kMpiFlagsAnnotation = "slurm-job.vk.io/mpi-flags";
inline constexpr const char* kKnocMpiFlagsAnnotation = "slurm-job.knoc.io/mpi-flags";
inline constexpr const char* kPodIpAnnotation = "interlink.eu/pod-ip";
inline constexpr const char* kWstunnelAnnotation = "interlink.eu/wstunnel-client-commands";

// Everything slurm-sd derives for a pod comes from its namespace (<= 63) and uid, never
// from the pod name (up to 253 characters): "<DataRootFolder>/<ns>-<uid>" (one path
// component, bounded to 255 bytes) and the job name "il-<uid>" (bounded to 128, well under
// what sites allow). The bounds only bite for uids far longer than Kubernetes' 36-character
// UUIDs; they keep a hash of the whole name then (api/bounded_name.h).
inline constexpr size_t kMaxJobNameLength = 128;
inline constexpr size_t kMaxFileNameLength = 255;
std::string JobDir(const SlurmConfig& cfg, const std::string& ns, const std::string& uid);
std::string JobName(const std::string& uid);

// Builds the spec. Malformed input (bad quantity, unknown volume, an unsupported volume
// type, NUL bytes, a flag with a line break, ...) -> kInvalidArgument naming the field;
// a ConfigMap/Secret the pod needs but interLink did not send -> kFailedPrecondition.
Result<JobSpec> BuildJobSpec(const api::RetrievedPodData& data, const SlurmConfig& cfg);

// Image after the prefix rules: absolute paths and URLs (scheme://) are kept; anything
// else gets `prefix` (for singularity/apptainer "docker://" when prefix is empty).
std::string ResolveImage(const std::string& image, const std::string& prefix, Runtime runtime);

// True when `s` starts with an RFC 3986 scheme and "://" ([a-zA-Z][a-zA-Z0-9+.-]*://). One
// linear scan: image names come from pod specs and may be tens of kilobytes long.
bool HasUrlScheme(std::string_view s);

}  // namespace il::slurm
