// FakeDockerEngine: a tiny in-memory imitation of the docker CLI for unit tests, plugged into
// FakeCommandRunner. It understands the commands docker-sd runs (run, start, inspect, stop,
// rm, ps, image inspect, import, info, logs) well enough to drive DockerBackend hermetically.
// Images decide behaviour: "exit<N>" exits with N as soon as it starts, anything else runs.
//
// Thread-safety: Handle may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/fake_command_runner.h"

namespace il::docker {

class FakeDockerEngine {
 public:
  struct Container {
    std::string id, status, image, restart, error;
    int exit_code = 0;
    int starts = 0;  // StartedAt is 10:00:<starts>: each start is a new instance
    std::map<std::string, std::string> labels;
  };

  explicit FakeDockerEngine(FakeCommandRunner& runner);

  void SetDown(bool down);
  void AddImage(const std::string& image);
  void Exit(const std::string& name, int code);  // a running container exits
  void Remove(const std::string& name);          // removed behind docker-sd's back
  void AddForeign(const std::string& name, std::map<std::string, std::string> labels);
  std::map<std::string, Container> containers() const;
  // argv[1] of every call, e.g. {"run", "inspect", ...}
  std::vector<std::string> verbs() const;
  std::vector<std::vector<std::string>> calls_with(const std::string& verb) const;
  // Runs once, right after the next `docker inspect` has answered and outside the engine's
  // lock: lets a test change the world between a caller's snapshot and its use of it.
  void AfterNextInspect(std::function<void()> hook);

 private:
  Result<CommandResult> Handle(const std::vector<std::string>& argv);
  Result<CommandResult> HandleLocked(const std::vector<std::string>& argv);
  CommandResult Run(const std::vector<std::string>& a);
  CommandResult Inspect(const std::vector<std::string>& a);
  CommandResult Ps(const std::vector<std::string>& a);
  void StartLocked(Container& c);

  FakeCommandRunner& runner_;
  mutable std::mutex mu_;
  bool down_ = false;
  int next_id_ = 1;
  std::set<std::string> images_;
  std::map<std::string, Container> containers_;
  std::function<void()> after_inspect_;
};

}  // namespace il::docker
