// Subprocesses, started from an argv vector, never through a shell.
//
// Spawn() is the one place the project starts a program: the child gets the fds it is
// given as stdin/stdout/stderr (or a terminal), nothing else (every other fd is closed),
// an environment with overrides, a working directory and a process group of its own.
// Two users sit on it: CommandRunner (run to completion, collect the output) and
// stream::RunProcessStream (a long-lived process joined to an exec's channels).
//
// CommandRunner is the seam every sidecar uses to reach its backend CLI (sbatch, squeue,
// ...). Unit tests use testing::FakeCommandRunner (testing/fake_command_runner.h), which
// records the argv vectors it was given and replays canned results.
//
// Thread-safety: Spawn and implementations of CommandRunner are thread-safe; one
// Subprocess is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace il {

struct SpawnOptions {
  // Parent fds that become the child's 0, 1 and 2; -1 means /dev/null.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // When set, a terminal device (a pty's slave side) opened as the child's 0, 1 and 2 in a
  // new session, so that it becomes the controlling terminal; the three fds are ignored.
  std::string terminal;
  std::map<std::string, std::string> env_overrides;  // added to the inherited environment
  std::string working_dir;                           // empty: the parent's
};

// A started child. Destroying one that was not waited for kills its process group and
// reaps it, so no child outlives its owner by accident.
class Subprocess {
 public:
  Subprocess() = default;
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  Subprocess(Subprocess&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  Subprocess& operator=(Subprocess&& o) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Sends `signal` to the child's process group (the child and what it started).
  void Kill(int signal);
  // Waits for the child; returns its waitpid status (WIFEXITED etc.). Idempotent.
  int Wait();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Starts argv[0] (looked up in PATH when it has no '/') in a process group of its own.
// kNotFound when the program does not exist, kInternal for other failures to start.
Result<Subprocess> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// A waitpid status as a shell would report it: the exit code, or 128 + the signal.
int ExitCodeOf(int wait_status);

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
