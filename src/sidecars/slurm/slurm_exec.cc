#include "sidecars/slurm/slurm_exec.h"

#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/job_spec.h"
#include "stream/log_attach.h"
#include "stream/process_stream.h"
#include "stream/tcp_forward.h"

namespace il::slurm {

namespace {

// srun beside the configured sbatch (same directory), else from PATH.
std::string SrunPath(const SlurmConfig& cfg) {
  if (!cfg.sbatch.empty()) {
    const std::string& sb = cfg.sbatch.back();
    auto slash = sb.rfind('/');
    if (slash != std::string::npos && sb.substr(slash + 1) == "sbatch")
      return sb.substr(0, slash + 1) + "srun";
  }
  return "srun";
}

}  // namespace

std::optional<RunningJob> ParseRunningJob(std::string_view out) {
  std::string_view line = out.substr(0, out.find('\n'));
  auto sp = line.find(' ');
  if (line.empty() || sp == std::string_view::npos) return std::nullopt;
  RunningJob j{std::string(line.substr(0, sp)), std::string(line.substr(sp + 1))};
  while (!j.node.empty() && (j.node.back() == ' ' || j.node.back() == '\r')) j.node.pop_back();
  // A compressed host list ("n[1-3],m2"): its first host.
  if (auto c = j.node.find(','); c != std::string::npos && j.node.find('[') > c) {
    j.node = j.node.substr(0, c);
  }
  if (auto b = j.node.find('['); b != std::string::npos) {
    std::string digits = j.node.substr(b + 1);
    digits = digits.substr(0, digits.find_first_of("-,]"));
    j.node = j.node.substr(0, b) + digits;
  }
  if (j.id.empty() || j.node.empty()) return std::nullopt;
  return j;
}

Result<std::vector<std::string>> SlurmExecArgv(const SlurmConfig& cfg, const RunningJob& job,
                                               const api::ExecRequest& r) {
  std::vector<std::string> argv = {
      SrunPath(cfg), "--jobid=" + job.id, "--overlap", "--quiet", "-N1", "-n1"};
  if (r.tty) argv.push_back("--pty");
  switch (cfg.runtime) {
    case Runtime::kNone:
      break;
    case Runtime::kPodman:
      argv.push_back(cfg.podman_path);
      argv.push_back("exec");
      if (r.stdin) argv.push_back("-i");
      if (r.tty) argv.push_back("-t");
      argv.push_back(PodmanName(r.pod_uid, r.container));
      break;
    default:
      return Status(StatusCode::kUnimplemented,
                    "slurm-sd: exec is available for ContainerRuntime none and podman; " +
                        std::string(RuntimeName(cfg.runtime)) +
                        " containers run no instance to join");
  }
  argv.insert(argv.end(), r.command.begin(), r.command.end());
  return argv;
}

Result<RunningJob> SlurmStreams::Find(const std::string& pod_uid) {
  std::vector<std::string> argv = cfg_.squeue;
  for (const char* a : {"--noheader", "--states=RUNNING", "--format=%i %N"}) argv.push_back(a);
  argv.push_back("--name=" + JobName(pod_uid));
  IL_ASSIGN_OR_RETURN(auto res, runner_.Run(argv));
  if (res.exit_code != 0) return Unavailable("squeue failed: " + res.err.substr(0, 500));
  auto job = ParseRunningJob(res.out);
  if (!job) return NotFound("pod " + pod_uid + " has no running Slurm job");
  return *job;
}

Result<int> SlurmStreams::Exec(const api::CallContext& ctx, const api::ExecRequest& r,
                               api::Channels& io) {
  IL_ASSIGN_OR_RETURN(RunningJob job, Find(r.pod_uid));
  if (r.attach) return stream::AttachByLogs(backend_, ctx, r, io);
  IL_ASSIGN_OR_RETURN(auto argv, SlurmExecArgv(cfg_, job, r));
  return stream::RunProcessStream(argv, r.tty, io);
}

Status SlurmStreams::PortForward(const api::CallContext&, const api::PortForwardRequest& r,
                                 api::Channels& io) {
  IL_ASSIGN_OR_RETURN(RunningJob job, Find(r.pod_uid));
  return stream::ForwardTcp(job.node, r.port, io);
}

}  // namespace il::slurm
