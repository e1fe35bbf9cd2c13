#include "sidecars/common/sidecar_main.h"

#include <signal.h>

#include <iostream>

#include "core/daemon.h"
#include "core/log.h"
#include "daemon/config_catalog.h"
#include "protocol/listener_policy.h"
#include "protocol/server.h"

#ifndef IL_VERSION
#define IL_VERSION "dev"
#endif

namespace il::sidecar {

int RunSidecar(int argc, char** argv, const SidecarSpec& spec) {
  // Block the shutdown signals in every thread; WaitForShutdownSignal takes them.
  BlockShutdownSignals();

  DaemonFlags flags;
  if (auto done = ParseDaemonFlags(
          argc, argv, {spec.name, spec.name + ": interLink sidecar plugin", IL_VERSION, false},
          &flags)) {
    return *done;
  }
  auto path = ResolveConfigPath(flags.config_path, ProcessEnv);
  if (!path.ok()) {
    std::cerr << spec.name << ": " << path.status().message() << "\n";
    return 2;
  }
  // The file may hold the vk's and the other sidecars' keys too (ignored); this sidecar's
  // own keys are kept for its typed view (sidecar_settings).
  auto cfg = LoadConfig(*path, ProcessEnv,
                        {ComponentKeys(spec.name), ForeignKeys({"interlink", spec.name})});
  if (!cfg.ok()) {
    std::cerr << spec.name << ": " << cfg.status().message() << "\n";
    return 2;
  }
  if (auto s = StartLogging(flags, cfg->log_level, cfg->log_format); !s.ok()) {
    std::cerr << spec.name << ": " << s.message() << "\n";
    return 2;
  }
  auto logger = log::Logger(spec.name);
  if (path->empty()) {
    logger->warn("no InterLinkConfig.yaml found; using defaults and environment");
  } else {
    logger->info("configuration from {}", *path);
  }
  if (!cfg->sidecar_service.empty() && cfg->sidecar_service != spec.service) {
    logger->warn("SidecarService is '{}' but this is the {} sidecar", cfg->sidecar_service,
                 spec.service);
  }
  auto backend = spec.make_backend(*cfg);
  if (!backend.ok()) {
    logger->critical("cannot start backend: {}", backend.status().ToString());
    return 1;
  }
  protocol::ServerOptions so;
  so.component = spec.name;
  so.hop = protocol::Hop::kPlugin;
  so.listen = flags.listen.empty() ? cfg->SidecarListenUrl(spec.default_port) : flags.listen;
  if (so.listen.rfind("https://", 0) == 0) {
    so.tls.cert_file = cfg->sidecar_tls.cert_file;
    so.tls.key_file = cfg->sidecar_tls.key_file;
    so.tls.ca_file = cfg->sidecar_tls.ca_cert_file;  // client certificates required
  }
  std::string warning;
  if (auto s = protocol::SecureListener(
          *cfg, {cfg->sidecar_token_file, !so.tls.ca_file.empty(), nullptr, {}},
          "SidecarTokenFile (a bearer token interlink must send) or SidecarTLS with CACertFile "
          "(client certificates)",
          &so, &warning);
      !s.ok()) {
    logger->critical("{}", s.message());
    return 1;
  }
  if (!warning.empty()) logger->warn("{}", warning);
  std::unique_ptr<api::StreamBackend> streams;
  if (spec.make_streams) {
    auto s = spec.make_streams(*cfg, **backend);
    if (!s.ok()) {
      logger->critical("cannot start exec/attach/port-forward: {}", s.status().ToString());
      return 1;
    }
    streams = std::move(*s);
    so.streams = streams.get();
  }
  protocol::Server server(so, **backend);
  if (auto s = server.Start(); !s.ok()) {
    logger->critical("{}", s.ToString());
    return 1;
  }
  WaitForShutdownSignal();
  logger->info("shutting down");
  server.Stop();
  return 0;
}

}  // namespace il::sidecar
