#include "core/daemon.h"

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/log.h"

namespace il {

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::vector<std::string> NormalizeGoFlags(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && a.size() > 2 && a[0] == '-' && a[1] != '-') a = "-" + a;
    out.push_back(a);
  }
  return out;
}

std::optional<int> ParseDaemonFlags(int argc, char** argv, const DaemonSpec& spec, DaemonFlags* f) {
  CLI::App app{spec.description};
  app.add_option("--config,--interlinkconfigpath", f->config_path,
                 "InterLinkConfig.yaml (default: $INTERLINKCONFIGPATH, /etc/interlink/...)");
  app.add_option("--listen", f->listen, "listen URL (http://host:port or unix:///path)");
  app.add_option("--log-level", f->log_level, "trace, debug, info, warn, error");
  app.add_option("--log-format", f->log_format, "text or json");
  if (spec.upstream_log_flags) {
    app.add_flag("--verbose", f->verbose, "debug logging (upstream flag)");
    app.add_flag("--errorsonly", f->errors_only, "error logging only (upstream flag)");
  }
  app.add_flag("--version", f->version, "print the version and exit");
  auto args = NormalizeGoFlags(argc, argv);
  std::vector<const char*> cargs;
  cargs.reserve(args.size());
  for (const auto& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (f->version) {
    std::cout << spec.name << " " << spec.version << "\n";
    return 0;
  }
  return std::nullopt;
}

Status StartLogging(const DaemonFlags& flags, const std::string& config_level,
                    const std::string& config_format) {
  log::Options lo;
  lo.level = !flags.log_level.empty() ? flags.log_level
             : flags.verbose          ? "debug"
             : flags.errors_only      ? "error"
                                      : config_level;
  IL_ASSIGN_OR_RETURN(
      lo.format, log::ParseFormat(flags.log_format.empty() ? config_format : flags.log_format));
  return log::Init(lo);
}

}  // namespace il
