#include "sidecars/slurm/container_command.h"

#include <boost/json.hpp>

#include "api/bounded_name.h"
#include "sidecars/slurm/job_script.h"
#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

// "K=V" (or "<prefix>K=V") built in one string, as the environment entries need.
std::string KeyValue(std::string_view k, std::string_view v, std::string_view prefix = {}) {
  std::string out;
  out.reserve(prefix.size() + k.size() + 1 + v.size());
  out.append(prefix).append(k).append("=").append(v);
  return out;
}

std::string Bind(const Mount& m, bool with_ro) {
  std::string s = m.source + ":" + m.target;
  if (with_ro && m.read_only) s += ":ro";
  return s;
}

void Append(std::vector<std::string>& v, const std::vector<std::string>& more) {
  v.insert(v.end(), more.begin(), more.end());
}

ContainerCommand Singularity(const JobSpec& job, const ContainerSpec& c) {
  ContainerCommand cc;
  const std::string env_prefix =
      job.runtime == Runtime::kApptainer ? "APPTAINERENV_" : "SINGULARITYENV_";
  for (const auto& [k, v] : c.env) cc.env.push_back(KeyValue(k, v, env_prefix));
  cc.argv = {job.runtime_binary, c.command.empty() ? "run" : "exec"};
  Append(cc.argv, job.runtime_options);
  if (!c.working_dir.empty()) Append(cc.argv, {"--pwd", c.working_dir});
  for (const auto& m : c.mounts) Append(cc.argv, {"--bind", Bind(m, true)});
  if (auto t = TerminationLogBind(job, c); !t.empty())
    Append(cc.argv, {"--bind", t + ":" + c.termination_message_path});
  cc.argv.push_back(c.image);
  Append(cc.argv, c.command);
  Append(cc.argv, c.args);
  return cc;
}

ContainerCommand Podman(const JobSpec& job, const ContainerSpec& c) {
  ContainerCommand cc;
  cc.argv = {job.runtime_binary,          "run",           "--rm", "--name",
             PodmanName(job.uid, c.name), "--network=host"};
  if (c.pull_policy == "Always") cc.argv.push_back("--pull=always");
  if (c.pull_policy == "Never") cc.argv.push_back("--pull=never");
  if (c.pull_policy == "IfNotPresent") cc.argv.push_back("--pull=missing");
  for (const auto& [k, v] : c.env) Append(cc.argv, {"--env", KeyValue(k, v)});
  for (const auto& m : c.mounts) Append(cc.argv, {"-v", Bind(m, true)});
  if (auto t = TerminationLogBind(job, c); !t.empty())
    Append(cc.argv, {"-v", t + ":" + c.termination_message_path});
  if (!c.working_dir.empty()) Append(cc.argv, {"-w", c.working_dir});
  if (!c.command.empty()) {
    boost::json::array ep;
    for (const auto& w : c.command) ep.emplace_back(w);
    Append(cc.argv, {"--entrypoint", boost::json::serialize(ep)});
  }
  Append(cc.argv, job.runtime_options);
  cc.argv.push_back(c.image);
  Append(cc.argv, c.args);
  return cc;
}

ContainerCommand ChRun(const JobSpec& job, const ContainerSpec& c) {
  ContainerCommand cc;
  for (const auto& [k, v] : c.env) cc.env.push_back(KeyValue(k, v));
  cc.argv = {job.runtime_binary};
  if (!c.working_dir.empty()) Append(cc.argv, {"-c", c.working_dir});
  for (const auto& m : c.mounts) Append(cc.argv, {"-b", Bind(m, false)});
  Append(cc.argv, job.runtime_options);
  Append(cc.argv, {c.image, "--"});
  Append(cc.argv, c.command);
  Append(cc.argv, c.args);
  return cc;
}

ContainerCommand Host(const ContainerSpec& c) {
  ContainerCommand cc;
  for (const auto& [k, v] : c.env) cc.env.push_back(KeyValue(k, v));
  cc.chdir = c.working_dir;
  cc.argv = c.command;
  Append(cc.argv, c.args);
  return cc;
}

}  // namespace

std::string TerminationLogBind(const JobSpec& job, const ContainerSpec& c) {
  if (c.termination_message_path.empty() ||
      c.termination_message_path.find(':') != std::string::npos)
    return "";
  bool ok = job.runtime == Runtime::kPodman ||
            ((job.runtime == Runtime::kSingularity || job.runtime == Runtime::kApptainer) &&
             c.termination_message_path.rfind("/dev/", 0) != 0);
  if (!ok) return "";
  return job.dir + "/" + ContainerKind(c.init) + "-" + c.name + ".termination-log";
}

std::string RenderContainerCommand(const ContainerCommand& cc, bool resolve_ch_run) {
  std::vector<std::string> words = ContainerArgv(cc);
  const size_t program = words.size() - cc.argv.size();
  std::string line;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) line += " ";
    line += (i == program && resolve_ch_run) ? "\"$_il_ch_run\"" : ShellQuote(words[i]);
  }
  return line;
}

ContainerCommand ExecCommand(const JobSpec& job, const ContainerSpec& c,
                             const std::vector<std::string>& cmd) {
  if (job.runtime == Runtime::kPodman) {
    ContainerCommand cc;
    cc.argv = {job.runtime_binary, "exec", PodmanName(job.uid, c.name)};
    cc.flags_at = 2;
    Append(cc.argv, cmd);
    return cc;
  }
  ContainerSpec beside = c;
  beside.command = cmd;
  beside.args.clear();
  ContainerCommand cc = BuildContainerCommand(job, beside);
  // `exec` even for an exec file's empty command (`run` would start the image's runscript).
  if ((job.runtime == Runtime::kSingularity || job.runtime == Runtime::kApptainer) &&
      cc.argv.size() > 1) {
    cc.argv[1] = "exec";
  }
  return cc;
}

std::vector<std::string> ContainerArgv(const ContainerCommand& cc) {
  std::vector<std::string> argv;
  if (!cc.env.empty() || !cc.chdir.empty()) {
    argv.push_back("env");
    if (!cc.chdir.empty()) Append(argv, {"-C", cc.chdir});
    argv.push_back("--");
    Append(argv, cc.env);
  }
  Append(argv, cc.argv);
  return argv;
}

std::string PodmanName(const std::string& uid, const std::string& container) {
  return api::BoundedName("il-" + uid + "-" + container, 128);
}

ContainerCommand BuildContainerCommand(const JobSpec& job, const ContainerSpec& c) {
  switch (job.runtime) {
    case Runtime::kSingularity:
    case Runtime::kApptainer:
      return Singularity(job, c);
    case Runtime::kPodman:
      return Podman(job, c);
    case Runtime::kCharliecloud:
      return ChRun(job, c);
    case Runtime::kNone:
      return Host(c);
  }
  return Host(c);
}

}  // namespace il::slurm
