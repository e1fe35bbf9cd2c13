// SlurmStreams: slurm-sd's exec, attach and port-forward (the streaming extension).
//
//   exec:         srun --jobid=<job> --overlap -N1 -n1 [--pty] then, by ContainerRuntime:
//                 none -> the command itself on the job's node; podman -> podman exec -i
//                 [-t] <the container> <command>. singularity/apptainer/charliecloud run
//                 no instance to join: refused with a clear error.
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
#include "sidecars/slurm/slurm_config.h"

namespace il::slurm {

struct RunningJob {
  std::string id;
  std::string node;  // first node of the allocation
};
// Parses `squeue --noheader --format="%i %N"`: the first line; nullopt when empty.
std::optional<RunningJob> ParseRunningJob(std::string_view squeue_out);
// srun's argv for an exec into `job`.
Result<std::vector<std::string>> SlurmExecArgv(const SlurmConfig& cfg, const RunningJob& job,
                                               const api::ExecRequest& r);

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

  SlurmConfig cfg_;
  CommandRunner& runner_;
  api::Backend& backend_;
};

}  // namespace il::slurm
