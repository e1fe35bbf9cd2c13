// SlurmStreams: slurm-sd's exec, attach and port-forward (the streaming extension).
//
//   exec:         [RunAsCommand] srun --jobid=<job> --overlap --quiet -N1 -n1 [--pty] then
//                 the container's ExecCommand (container_command.h) and the command:
//                 podman -> podman exec [-i] [-t] <the container>; singularity/apptainer/
//                 ch-run -> a new process of the same image with the container's mounts, env
//                 and working directory (they run no instance to join); none -> on the job's
//                 node with the container's env and working directory. The pod's runtime
//                 (its annotation or the default) is fixed at create time in the job
//                 directory's exec-<container>.json, so exec needs no pod spec later.
//   attach:       the container's log followed (AttachByLogs); no stdin.
//   port-forward: a TCP connection from the sidecar's host to <job's node>:<port>; the
//                 site's network must let the sidecar reach compute nodes on that port.
// The job is found by name (il-<uid>) with squeue, RUNNING only.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "api/backend.h"
#include "api/stream_backend.h"
#include "core/process.h"
#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/slurm_config.h"

namespace il::slurm {

struct RunningJob {
  std::string id;
  std::string node;  // first node of the allocation
};
// Parses `squeue --noheader --format="%i %N"`: the first line; nullopt when empty.
std::optional<RunningJob> ParseRunningJob(std::string_view squeue_out);
// The exec file of container `c`: its ExecCommand without a command, as JSON.
std::string ExecFileName(const std::string& container);
std::string RenderExecFile(const JobSpec& job, const ContainerSpec& c);
Result<ContainerCommand> ParseExecFile(std::string_view text);
// srun's argv for `r` into `job`, run as `user`: `beside` (an exec file's command) gets -i/-t
// where it takes them and the request's command appended.
std::vector<std::string> SlurmExecArgv(const SlurmConfig& cfg, const RunningJob& job,
                                       const std::optional<std::string>& user,
                                       ContainerCommand beside, const api::ExecRequest& r);

class SlurmStreams : public api::StreamBackend {
 public:
  SlurmStreams(SlurmConfig cfg, CommandRunner& runner, api::Backend& backend)
      : cfg_(std::move(cfg)), runner_(runner), backend_(backend) {}
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

 private:
  Result<RunningJob> Find(const std::string& pod_uid);
  Result<ContainerCommand> Beside(const api::ExecRequest& r);

  SlurmConfig cfg_;
  CommandRunner& runner_;
  api::Backend& backend_;
};

}  // namespace il::slurm
