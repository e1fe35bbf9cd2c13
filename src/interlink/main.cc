// bin/interlink: the interLink API server. Needs no arguments: it reads
// InterLinkConfig.yaml (INTERLINKCONFIGPATH, /etc/interlink, ./kustomizations) and the
// environment overrides, as the seed documents. See docs/configuration.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "core/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "interlink/api_server.h"
#include "interlink/plugin_client.h"

#ifndef IL_VERSION
#define IL_VERSION "dev"
#endif

int main(int argc, char** argv) {
  il::BlockShutdownSignals();
  CLI::App app{"interlink: the interLink API server"};
  std::string config_path, listen, log_level, log_format;
  bool version = false, verbose = false, errors_only = false;
  app.add_option("--config,--interlinkconfigpath", config_path,
                 "InterLinkConfig.yaml (default: $INTERLINKCONFIGPATH, /etc/interlink/...)");
  app.add_option("--listen", listen, "listen URL, overrides InterlinkURL/InterlinkPort");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_option("--log-format", log_format, "text or json");
  app.add_flag("--verbose", verbose, "debug logging (upstream flag)");
  app.add_flag("--errorsonly", errors_only, "error logging only (upstream flag)");
  app.add_flag("--version", version, "print the version and exit");
  auto args = il::NormalizeGoFlags(argc, argv);
  std::vector<const char*> cargs;
  for (const auto& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), const_cast<char**>(cargs.data()));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (version) {
    std::cout << "interlink " << IL_VERSION << "\n";
    return 0;
  }
  auto path = il::ResolveConfigPath(config_path, il::ProcessEnv);
  if (!path.ok()) {
    std::cerr << "interlink: " << path.status().message() << "\n";
    return 2;
  }
  auto cfg = il::LoadConfig(*path);
  if (!cfg.ok()) {
    std::cerr << "interlink: " << cfg.status().message() << "\n";
    return 2;
  }
  il::log::Options lo;
  lo.level = !log_level.empty() ? log_level : verbose ? "debug" : errors_only ? "error" : cfg->log_level;
  auto fmt = il::log::ParseFormat(log_format.empty() ? cfg->log_format : log_format);
  if (!fmt.ok() || !il::log::Init({lo.level, *fmt}).ok()) {
    std::cerr << "interlink: bad --log-level or --log-format\n";
    return 2;
  }
  auto log = il::log::Logger("interlink");
  log->info("interlink {} starting; configuration from {}", IL_VERSION,
            path->empty() ? std::string("defaults and environment") : *path);

  il::interlink::PluginClientOptions po;
  po.url = cfg->SidecarEndpoint("4000");
  po.token_file = cfg->sidecar_token_file;
  po.timeout = std::chrono::seconds(cfg->sidecar_timeout_seconds);
  auto plugin = il::interlink::PluginClient::Create(po);
  if (!plugin.ok()) {
    log->critical("{}", plugin.status().ToString());
    return 2;
  }
  log->info("forwarding to sidecar at {}", po.url);

  il::interlink::ApiServerOptions ao;
  ao.listen = listen.empty() ? cfg->InterlinkListenUrl() : listen;
  if (cfg->tls.enabled && ao.listen.rfind("http://", 0) == 0) ao.listen = "https://" + ao.listen.substr(7);
  ao.tls.cert_file = cfg->tls.cert_file;
  ao.tls.key_file = cfg->tls.key_file;
  ao.tls.ca_file = cfg->tls.ca_cert_file;
  ao.token_file = cfg->vk_token_file;
  ao.body_limit = cfg->max_request_bytes;
  ao.worker_threads = cfg->worker_threads;
  il::interlink::ApiServer server(ao, **plugin);
  if (auto s = server.Start(); !s.ok()) {
    log->critical("{}", s.ToString());
    return 1;
  }
  il::WaitForShutdownSignal();
  log->info("shutting down");
  server.Stop();
  return 0;
}
