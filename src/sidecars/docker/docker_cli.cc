#include "sidecars/docker/docker_cli.h"

#include <sstream>

namespace il::docker {

namespace {

bool Contains(const std::string& s, std::string_view what) {
  return s.find(what) != std::string::npos;
}

constexpr size_t kInspectChunk = 1000;

}  // namespace

bool DaemonDown(const CommandResult& r) {
  if (r.exit_code == 0) return false;
  const std::string& e = r.err;
  return Contains(e, "Cannot connect to the Docker daemon") ||
         Contains(e, "Is the docker daemon running") || Contains(e, "error during connect") ||
         r.timed_out;
}

std::string CleanStderr(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("docker: ", 0) == 0) line.erase(0, 8);
    if (line.empty() || line.rfind("WARNING", 0) == 0 || line.rfind("See '", 0) == 0) continue;
    if (line.rfind("Unable to find image", 0) == 0) continue;
    if (!out.empty()) out += "\n";
    out += line;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

ClassifiedFailure ClassifyRunFailure(const CommandResult& r, const std::string& image,
                                     const std::vector<std::string>& run_args) {
  if (DaemonDown(r)) return {RunFailure::kDaemonDown, {}};
  const std::string& e = r.err;
  std::string msg = CleanStderr(e);
  if (Contains(e, "is already in use by container")) return {RunFailure::kExists, {}};
  bool never = false;
  for (const auto& a : run_args) {
    if (a == "--") break;
    never = never || a == "--pull=never";
  }
  if (Contains(e, "No such image") && never) {
    return {RunFailure::kCreateError,
            {"ErrImageNeverPull",
             "Container image \"" + image + "\" is not present with pull policy of Never"}};
  }
  if (Contains(e, "No such image") || Contains(e, "pull access denied") ||
      Contains(e, "manifest unknown") || Contains(e, "repository does not exist") ||
      Contains(e, "Error response from daemon: Get ") || Contains(e, "not found: manifest") ||
      Contains(e, "toomanyrequests") || Contains(e, "Error response from daemon: Head ") ||
      Contains(e, "invalid reference format")) {
    std::string reason =
        Contains(e, "invalid reference format") ? "InvalidImageName" : "ErrImagePull";
    return {RunFailure::kCreateError, {reason, msg}};
  }
  if (r.exit_code == 126 || r.exit_code == 127) return {RunFailure::kStartFailed, {}};
  return {RunFailure::kCreateError,
          {"CreateContainerError",
           msg.empty() ? "docker exited with code " + std::to_string(r.exit_code) : msg}};
}

Result<CommandResult> DockerCli::Run(const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout,
                                     const std::string& stdin_data,
                                     const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.push_back(docker_);
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o;
  o.timeout = timeout;
  o.stdin_data = stdin_data;
  o.env_overrides = env;
  auto r = runner_.Run(argv, o);
  if (!r.ok()) {
    return Unavailable("cannot run the docker CLI '" + docker_ +
                       "' (DockerPath): " + r.status().message());
  }
  return r;
}

Result<ObservedMap> DockerCli::Inspect(const std::vector<std::string>& names) {
  ObservedMap all;
  for (size_t start = 0; start < names.size(); start += kInspectChunk) {
    std::vector<std::string> args = {"inspect", "--type=container"};
    size_t end = std::min(names.size(), start + kInspectChunk);
    args.insert(args.end(), names.begin() + static_cast<long>(start),
                names.begin() + static_cast<long>(end));
    IL_ASSIGN_OR_RETURN(CommandResult r, Run(args));
    if (DaemonDown(r)) return Unavailable("docker daemon unavailable: " + CleanStderr(r.err));
    if (r.exit_code != 0 && !Contains(r.err, "No such")) {
      return Status(StatusCode::kBadGateway, "docker inspect failed: " + CleanStderr(r.err));
    }
    IL_ASSIGN_OR_RETURN(ObservedMap part, ParseInspect(r.out));
    all.merge(part);
  }
  return all;
}

Status DockerCli::ForEach(const std::string& verb, const std::vector<std::string>& flags,
                          const std::vector<std::string>& names,
                          std::chrono::milliseconds timeout) {
  if (names.empty()) return Status::Ok();
  std::vector<std::string> args = {verb};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), names.begin(), names.end());
  IL_ASSIGN_OR_RETURN(CommandResult r, Run(args, timeout));
  if (r.exit_code == 0) return Status::Ok();
  if (DaemonDown(r)) return Unavailable("docker daemon unavailable: " + CleanStderr(r.err));
  std::istringstream in(r.err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || Contains(line, "No such container")) continue;
    return Status(StatusCode::kBadGateway, "docker " + verb + " failed: " + CleanStderr(r.err));
  }
  return Status::Ok();
}

}  // namespace il::docker
