// bin/vk: the interLink virtual kubelet.
//
//   vk --nodename vk-1 --provider knoc --provider-config knoc-cfg.json
//      --startup-timeout 10s --kubeconfig ~/.kube/config --klog.v 2 --klog.logtostderr
//      --log-level debug [--config InterLinkConfig.yaml]
//
// See docs/virtual-kubelet.md for flags, config keys and environment variables.
#include <malloc.h>

#include <cstdio>
#include <iostream>

#include "core/daemon.h"
#include "core/log.h"
#include "core/private_path.h"
#include "daemon/config_catalog.h"
#include "kube/kube_client.h"
#include "kube/kubeconfig.h"
#include "vk/event_recorder.h"
#include "vk/interlink_client.h"
#include "vk/kubelet_server.h"
#include "vk/node_controller.h"
#include "vk/object_source.h"
#include "vk/pod_controller.h"
#include "vk/state_file.h"
#include "vk/token_refresher.h"
#include "vk/vk_config.h"

namespace il::vk {
namespace {

int Fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "vk: %s: %s\n", what.c_str(), st.ToString().c_str());
  return 1;
}

http::TlsOptions InterlinkTls(const VkConfig& c) {
  http::TlsOptions t;
  t.ca_file = c.http_ca_cert;
  t.insecure_skip_verify = c.http_insecure;
  if (c.tls.enabled) {
    t.cert_file = c.tls.cert_file;
    t.key_file = c.tls.key_file;
    if (!c.tls.ca_cert_file.empty()) t.ca_file = c.tls.ca_cert_file;
  }
  return t;
}

int Run(int argc, char** argv) {
  // Block the signals before any thread starts, so sigwait gets them.
  BlockShutdownSignals();
  // Two malloc arenas instead of eight per core: the many short-lived per-pod objects made
  // by 20-odd threads otherwise fragment into arenas that never shrink.
  mallopt(M_ARENA_MAX, 2);

  auto flags = ParseVkFlags(argc, argv);
  if (!flags.ok()) {
    if (flags.status().code() == StatusCode::kFailedPrecondition) {
      std::cout << flags.status().message();
      return 0;
    }
    std::fprintf(stderr, "vk: %s\n", flags.status().message().c_str());
    return 2;
  }
  auto cfg = LoadVkConfig(*flags, ProcessEnv, ForeignKeys({"vk"}));
  if (!cfg.ok()) return Fail("configuration", cfg.status());
  if (Status st = StartLogging(DaemonFlags{}, cfg->log_level, "text"); !st.ok()) {
    return Fail("logging", st);
  }
  auto log = log::Logger("vk");

  auto cluster = kube::ResolveClusterConfig(cfg->kubeconfig);
  if (!cluster.ok()) return Fail("kubeconfig", cluster.status());
  cluster->qps = cfg->client_qps;
  cluster->burst = cfg->client_burst;
  cluster->user_agent = "interlink-vk/" + cfg->node_name;
  auto kube = kube::KubeClient::New(*cluster);
  if (!kube.ok()) return Fail("Kubernetes client", kube.status());

  // OAuth2 client credentials: keep VKTokenFile fresh (the client re-reads it per call).
  std::unique_ptr<TokenRefresher> refresher;
  if (cfg->oauth2.enabled()) {
    auto r = TokenRefresher::Create(cfg->oauth2, cfg->vk_token_file);
    if (!r.ok()) return Fail("OAuth2", r.status());
    refresher = std::move(*r);
    if (Status st = refresher->Start(); !st.ok()) {
      log->warn("first OAuth2 token request failed, retrying in the background: {}", st.message());
    }
  }

  InterlinkClientOptions io;
  io.url = cfg->interlink_url;
  io.port = cfg->interlink_port;
  io.token_file = cfg->vk_token_file;
  io.tls = InterlinkTls(*cfg);
  io.allow_plain_http = cfg->allow_plain_http;
  std::string plain_warning;
  auto interlink = InterlinkClient::Create(io, &plain_warning);
  if (!interlink.ok()) return Fail("interLink client", interlink.status());
  if (!plain_warning.empty()) log->warn("{}", plain_warning);
  log->info("node {} (provider {}): API server {} ({}), client QPS {} burst {}; interLink {}",
            cfg->node_name, cfg->provider, cluster->server, cluster->source, cfg->client_qps,
            cfg->client_burst, (*interlink)->base_url());

  StateFile state;
  if (!cfg->state_file.empty()) {
    // The file decides which backend jobs the vk adopts or deletes after a restart:
    // nobody else may have prepared or be able to change it.
    if (Status st = CheckPrivateFile(cfg->state_file); !st.ok()) return Fail("StateFile", st);
    if (Status st = state.Open(cfg->state_file); !st.ok()) return Fail("StateFile", st);
  }

  NodeController node(**kube, **interlink, *cfg);
  if (Status st = node.Register(cfg->startup_timeout); !st.ok()) return Fail("registration", st);

  PodStore* store_for_server = nullptr;
  EventRecorder events(**kube, cfg->node_name);
  KubeObjectSource objects(**kube);
  PodControllerOptions po = PodControllerOptionsFrom(*cfg);
  po.create.env.node_allocatable = node.capacity();
  PodController pods(**kube, **interlink, objects, events, state, po);
  store_for_server = &pods.store();
  pods.SetOnInterlinkError([&node] { node.PingSoon(); });

  KubeletServerOptions ko;
  ko.address = cfg->kubelet_address;
  ko.port = cfg->kubelet_port;
  ko.cert_file = cfg->kubelet_cert_file;
  ko.key_file = cfg->kubelet_key_file;
  ClientCa client_ca = ResolveClientCa(cfg->kubelet_client_ca_file, cluster->tls);
  ko.client_ca_file = client_ca.file;
  ko.client_ca_pem = client_ca.pem;
  ko.client_ca_source = client_ca.source;
  ko.auth = cfg->kubelet_auth;
  ko.node_name = cfg->node_name;
  ko.internal_ip = cfg->internal_ip;
  ko.streaming.idle_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(cfg->streaming_idle_timeout);
  ko.streaming.creation_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(cfg->stream_creation_timeout);
  // The kubelet API's TokenReviews and SubjectAccessReviews get a client (and a rate
  // limit) of their own: a flood of made-up tokens cannot slow the pod controllers down.
  kube::ClusterConfig review_cluster = *cluster;
  review_cluster.qps = 20;
  review_cluster.burst = 40;
  auto reviews = kube::KubeClient::New(review_cluster);
  if (!reviews.ok()) return Fail("Kubernetes client", reviews.status());
  KubeletServer server(ko, **reviews, **interlink, *store_for_server,
                       [&node] { return node.capacity(); });
  if (Status st = server.Start(); !st.ok()) return Fail("kubelet API", st);

  events.Start();
  node.Start();
  pods.Start();
  log->info("virtual kubelet {} running", cfg->node_name);
  WaitForShutdownSignal();
  log->info("shutting down");
  pods.Stop();
  node.Stop();
  server.Stop();
  events.Stop();
  return 0;
}

}  // namespace
}  // namespace il::vk

int main(int argc, char** argv) { return il::vk::Run(argc, argv); }
