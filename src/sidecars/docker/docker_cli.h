// DockerCli: the docker commands docker-sd runs, as argv vectors over il::CommandRunner, and
// the reading of their results (errors classified, inspect output parsed).
//
// Thread-safety: thread-safe when the runner is (PosixCommandRunner is).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/process.h"
#include "sidecars/docker/container_status.h"

namespace il::docker {

// How a failed `docker run`/`docker start` is to be understood.
enum class RunFailure {
  kDaemonDown,   // try again later; nothing to record
  kExists,       // name already in use: the container exists
  kStartFailed,  // created but could not start (exit 126/127): its State.Error tells
  kCreateError,  // could not create: record the reason for the pod status
};

struct ClassifiedFailure {
  RunFailure kind;
  CreateError error;  // for kCreateError
};

// True when the output says the daemon could not be reached.
bool DaemonDown(const CommandResult& r);
// docker's stderr without "docker: " prefixes, warnings and "See 'docker run --help'." lines.
std::string CleanStderr(const std::string& err);
ClassifiedFailure ClassifyRunFailure(const CommandResult& r, const std::string& image,
                                     const std::vector<std::string>& run_args);

class DockerCli {
 public:
  DockerCli(CommandRunner& runner, std::string docker_path)
      : runner_(runner), docker_(std::move(docker_path)) {}

  const std::string& binary() const { return docker_; }
  // docker <args...>; a program that cannot start is kUnavailable naming DockerPath.
  // `env` is added to the CLI's environment (values `docker run --env=NAME` picks up).
  Result<CommandResult> Run(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60),
                            const std::string& stdin_data = "",
                            const std::map<std::string, std::string>& env = {});
  // One `docker inspect --type=container` for all names (in chunks of 1000 names); absent
  // names are simply missing from the map. kUnavailable when the daemon is down.
  Result<ObservedMap> Inspect(const std::vector<std::string>& names);
  // `docker <verb> <flags> names...`, ignoring "No such container" for absent names.
  Status ForEach(const std::string& verb, const std::vector<std::string>& flags,
                 const std::vector<std::string>& names, std::chrono::milliseconds timeout);

 private:
  CommandRunner& runner_;
  std::string docker_;
};

}  // namespace il::docker
