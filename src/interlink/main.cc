// bin/interlink: the interLink API server. Needs no arguments: it reads
// InterLinkConfig.yaml (INTERLINKCONFIGPATH, /etc/interlink, ./kustomizations) and the
// environment overrides, as the seed documents. See docs/configuration.md.
#include <iostream>

#include "core/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "daemon/config_catalog.h"
#include "interlink/interlink_service.h"
#include "protocol/listener_policy.h"

#ifndef IL_VERSION
#define IL_VERSION "dev"
#endif

int main(int argc, char** argv) {
  il::BlockShutdownSignals();
  il::DaemonFlags flags;
  if (auto done = il::ParseDaemonFlags(
          argc, argv, {"interlink", "interlink: the interLink API server", IL_VERSION, true},
          &flags)) {
    return *done;
  }
  auto path = il::ResolveConfigPath(flags.config_path, il::ProcessEnv);
  if (!path.ok()) {
    std::cerr << "interlink: " << path.status().message() << "\n";
    return 2;
  }
  auto cfg = il::LoadConfig(*path, il::ProcessEnv, {{}, il::ForeignKeys({"interlink"})});
  if (!cfg.ok()) {
    std::cerr << "interlink: " << cfg.status().message() << "\n";
    return 2;
  }
  if (auto s = il::StartLogging(flags, cfg->log_level, cfg->log_format); !s.ok()) {
    std::cerr << "interlink: bad --log-level or --log-format: " << s.message() << "\n";
    return 2;
  }
  auto log = il::log::Logger("interlink");
  log->info("interlink {} starting; configuration from {}", IL_VERSION,
            path->empty() ? std::string("defaults and environment") : *path);

  il::interlink::InterlinkServiceOptions so;
  // interlink -> sidecar: a token (SidecarTokenFile) and/or a client certificate.
  so.plugin.url = cfg->SidecarEndpoint("4000");
  so.plugin.token_file = cfg->sidecar_token_file;
  so.plugin.tls.ca_file = cfg->sidecar_client_tls.ca_cert_file;
  so.plugin.tls.cert_file = cfg->sidecar_client_tls.cert_file;
  so.plugin.tls.key_file = cfg->sidecar_client_tls.key_file;
  so.plugin.tls.insecure_skip_verify = cfg->sidecar_client_tls.insecure_skip_verify;
  so.plugin.tls.server_name = cfg->sidecar_client_tls.server_name;
  so.plugin.timeout = std::chrono::seconds(cfg->sidecar_timeout_seconds);
  log->info("forwarding to sidecar at {}{}", so.plugin.url,
            so.plugin.token_file.empty() && so.plugin.tls.cert_file.empty()
                ? " (no credentials configured for it: SidecarTokenFile, SidecarClientTLS)"
                : "");

  auto& srv = so.server;
  srv.component = "interlink";
  srv.listen = flags.listen.empty() ? cfg->InterlinkListenUrl() : flags.listen;
  if (cfg->tls.enabled && srv.listen.rfind("http://", 0) == 0) {
    srv.listen = "https://" + srv.listen.substr(7);
  }
  if (srv.listen.rfind("https://", 0) == 0) {
    srv.tls.cert_file = cfg->tls.cert_file;
    srv.tls.key_file = cfg->tls.key_file;
    srv.tls.ca_file = cfg->tls.ca_cert_file;  // client certificates required (mTLS)
  }
  std::string warning;
  if (auto s = il::protocol::SecureListener(
          *cfg, {cfg->vk_token_file, !srv.tls.ca_file.empty(), &cfg->oidc, cfg->trusted_proxies},
          "VKTokenFile (a bearer token the vk sends), OIDC (JWTs from your identity provider), "
          "TLS with CACertFile (client certificates) or TrustedProxies (an authenticating proxy)",
          &srv, &warning);
      !s.ok()) {
    log->critical("{}", s.message());
    return 2;
  }
  if (!warning.empty()) log->warn("{}", warning);
  auto service = il::interlink::InterlinkService::Create(std::move(so));
  if (!service.ok()) {
    log->critical("{}", service.status().ToString());
    return 2;
  }
  auto& server = **service;
  if (auto s = server.Start(); !s.ok()) {
    log->critical("{}", s.ToString());
    return 1;
  }
  il::WaitForShutdownSignal();
  log->info("shutting down");
  server.Stop();
  return 0;
}
