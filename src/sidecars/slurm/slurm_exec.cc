#include "sidecars/slurm/slurm_exec.h"

#include <boost/json.hpp>

#include "api/pod.h"
#include "api/types.h"
#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/job_files.h"
#include "sidecars/slurm/job_spec.h"
#include "stream/log_attach.h"
#include "stream/process_stream.h"
#include "stream/tcp_forward.h"

namespace il::slurm {

namespace json = boost::json;

namespace {

// Env values make an exec file as long as the pod's env; a bound on what is read back.
constexpr size_t kMaxExecFile = 4 << 20;

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

std::string ExecFileName(const std::string& container) { return "exec-" + container + ".json"; }

std::string RenderExecFile(const JobSpec& job, const ContainerSpec& c) {
  ContainerCommand cc = ExecCommand(job, c, {});
  json::array env(cc.env.begin(), cc.env.end());
  json::array argv(cc.argv.begin(), cc.argv.end());
  return json::serialize(json::object{{"env", std::move(env)},
                                      {"chdir", cc.chdir},
                                      {"argv", std::move(argv)},
                                      {"flagsAt", cc.flags_at}});
}

Result<ContainerCommand> ParseExecFile(std::string_view text) {
  IL_ASSIGN_OR_RETURN(json::value v, api::ParseJson(text));
  ContainerCommand cc;
  auto words = [&](const char* key, std::vector<std::string>& out) -> Status {
    const json::value* a = api::Find(v, {key});
    if (!a || !a->is_array()) return InvalidArgument(std::string("exec file: no ") + key);
    for (const auto& w : a->as_array()) {
      if (!w.is_string()) return InvalidArgument(std::string("exec file: ") + key);
      out.emplace_back(w.as_string());
    }
    return Status::Ok();
  };
  IL_RETURN_IF_ERROR(words("env", cc.env));
  IL_RETURN_IF_ERROR(words("argv", cc.argv));
  cc.chdir = api::GetString(v, {"chdir"});
  cc.flags_at = static_cast<int>(api::GetInt(v, {"flagsAt"}, -1));
  if (cc.flags_at > static_cast<int>(cc.argv.size())) {
    return InvalidArgument("exec file: flagsAt out of range");
  }
  return cc;
}

std::vector<std::string> SlurmExecArgv(const SlurmConfig& cfg, const RunningJob& job,
                                       const std::optional<std::string>& user,
                                       ContainerCommand beside, const api::ExecRequest& r) {
  std::vector<std::string> srun = {
      SrunPath(cfg), "--jobid=" + job.id, "--overlap", "--quiet", "-N1", "-n1"};
  if (r.tty) srun.push_back("--pty");
  if (beside.flags_at >= 0) {
    std::vector<std::string> flags;
    if (r.stdin) flags.push_back("-i");
    if (r.tty) flags.push_back("-t");
    beside.argv.insert(beside.argv.begin() + beside.flags_at, flags.begin(), flags.end());
  }
  beside.argv.insert(beside.argv.end(), r.command.begin(), r.command.end());
  for (auto& w : ContainerArgv(beside)) srun.push_back(std::move(w));
  return AsUser(cfg, user, srun);
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

Result<ContainerCommand> SlurmStreams::Beside(const api::ExecRequest& r) {
  if (!api::IsSafeUid(r.pod_uid) || !api::IsDnsLabel(r.container)) {
    return InvalidArgument("exec: invalid pod uid or container name");
  }
  const std::string dir = JobDir(cfg_, r.namespace_, r.pod_uid);
  if (auto text = ReadSmallJobFile(dir, ExecFileName(r.container), kMaxExecFile)) {
    auto cc = ParseExecFile(*text);
    if (!cc.ok()) return Internal(cc.status().message() + " (" + dir + ")");
    return cc;
  }
  if (!JobFileExists(dir, "job.slurm")) {
    return NotFound("pod " + r.namespace_ + "/" + r.pod_name + " is unknown to slurm-sd");
  }
  // A pod created before exec files existed: its runtime is the configured default.
  ContainerCommand cc;
  switch (cfg_.runtime) {
    case Runtime::kNone:
      return cc;
    case Runtime::kPodman:
      cc.argv = {cfg_.podman_path, "exec", PodmanName(r.pod_uid, r.container)};
      cc.flags_at = 2;
      return cc;
    default:
      return NotFound("container \"" + r.container + "\" not found in pod " + r.namespace_ + "/" +
                      r.pod_name);
  }
}

Result<int> SlurmStreams::Exec(const api::CallContext& ctx, const api::ExecRequest& r,
                               api::Channels& io) {
  IL_ASSIGN_OR_RETURN(RunningJob job, Find(r.pod_uid));
  if (r.attach) return stream::AttachByLogs(backend_, ctx, r, io);
  IL_ASSIGN_OR_RETURN(ContainerCommand beside, Beside(r));
  IL_ASSIGN_OR_RETURN(auto user, JobUser(cfg_, r.namespace_));
  return stream::RunProcessStream(SlurmExecArgv(cfg_, job, user, std::move(beside), r), r.tty, io);
}

Status SlurmStreams::PortForward(const api::CallContext&, const api::PortForwardRequest& r,
                                 api::Channels& io) {
  IL_ASSIGN_OR_RETURN(RunningJob job, Find(r.pod_uid));
  return stream::ForwardTcp(job.node, r.port, io);
}

}  // namespace il::slurm
