// Process plumbing shared by every daemon's main(): signals, the common flags, the config
// file's path and logging. interlink (interlink/main.cc), the sidecars
// (sidecars/common/sidecar_main.cc) and the vk (vk/vk_main.cc) start through it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace il {

// Blocks SIGINT/SIGTERM in the calling thread (call first in main, before threads start)
// and ignores SIGPIPE.
void BlockShutdownSignals();
// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForShutdownSignal();
// Rewrites Go-style single-dash long flags ("-verbose", "-interlinkconfigpath=x") to
// "--verbose" so upstream command lines keep working with CLI11.
std::vector<std::string> NormalizeGoFlags(int argc, char** argv);

// The flags of interlink and the sidecars: --config (alias --interlinkconfigpath),
// --listen, --log-level, --log-format, --version; with `upstream_log_flags` also
// upstream's -verbose and -errorsonly.
struct DaemonFlags {
  std::string config_path;
  std::string listen;
  std::string log_level;
  std::string log_format;
  bool version = false;
  bool verbose = false;
  bool errors_only = false;
};

struct DaemonSpec {
  std::string name;         // "interlink", "mock-sd": messages and --version
  std::string description;  // --help's first line
  std::string version;      // printed by --version
  bool upstream_log_flags = false;
};

// Parses argv (Go-style single-dash long flags accepted). Returns the exit code when the
// process is done (--help, --version, a bad flag), nullopt to go on.
std::optional<int> ParseDaemonFlags(int argc, char** argv, const DaemonSpec& spec,
                                    DaemonFlags* flags);

// Starts logging: --log-level, else -verbose (debug), else -errorsonly (error), else
// `config_level`; --log-format, else `config_format`.
Status StartLogging(const DaemonFlags& flags, const std::string& config_level,
                    const std::string& config_format);

}  // namespace il
