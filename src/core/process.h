// CommandRunner: runs an external program from an argv vector, never through a shell.
//
// The seam every sidecar uses to reach its backend CLI (docker, sbatch, squeue, ...).
// Unit tests use FakeCommandRunner (core/fake_command_runner.h), which records the argv
// vectors it was given and replays canned results.
//
// Thread-safety: implementations must be thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace il {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal (then `signal` is set)
  int signal = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};

struct CommandOptions {
  std::string stdin_data;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  std::map<std::string, std::string> env_overrides;  // added to the inherited environment
  std::string working_dir;
  size_t max_output = 64u << 20;  // bytes kept per stream
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (looked up in PATH when it has no '/'). A program that cannot be
  // started is an error status (kNotFound / kInternal); a non-zero exit is NOT an error.
  virtual Result<CommandResult> Run(const std::vector<std::string>& argv,
                                    const CommandOptions& options = {}) = 0;
};

class PosixCommandRunner : public CommandRunner {
 public:
  Result<CommandResult> Run(const std::vector<std::string>& argv,
                            const CommandOptions& options = {}) override;
};

// "docker run -d 'a b'" rendering of an argv for logs and error messages.
std::string ArgvToString(const std::vector<std::string>& argv);

}  // namespace il
