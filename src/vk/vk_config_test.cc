#include "vk/vk_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "daemon/config_catalog.h"
#include "vk/pod_controller.h"

namespace il::vk {
namespace {

EnvLookup Env(const std::map<std::string, std::string>& m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

// As bin/vk loads: the other components' keys (the catalog) are ignored.
Result<VkConfig> LoadVk(const VkFlags& flags, const EnvLookup& env) {
  return LoadVkConfig(flags, env, ForeignKeys({"vk"}));
}

VkFlags Flags(std::string node, std::string config = "", std::string provider_config = "",
              std::string provider = "") {
  VkFlags f;
  f.node_name = std::move(node);
  f.config = std::move(config);
  f.provider_config = std::move(provider_config);
  f.provider = std::move(provider);
  return f;
}

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/vk-config-test-XXXXXX";
    path_ = ::mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

TEST(VkFlags, ParsesTheSeedCommandLine) {
  std::vector<const char*> argv = {"vk",
                                   "--nodename",
                                   "vk-knoc-debug",
                                   "--provider",
                                   "knoc",
                                   "--provider-config",
                                   "./knoc-cfg.json",
                                   "--startup-timeout",
                                   "10s",
                                   "--klog.v",
                                   "2",
                                   "--kubeconfig",
                                   "/k/config",
                                   "--klog.logtostderr",
                                   "--log-level",
                                   "debug"};
  auto f = ParseVkFlags(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->node_name, "vk-knoc-debug");
  EXPECT_EQ(f->provider, "knoc");
  EXPECT_EQ(f->provider_config, "./knoc-cfg.json");
  EXPECT_EQ(f->startup_timeout, "10s");
  EXPECT_EQ(f->klog_v, 2);
  EXPECT_EQ(f->kubeconfig, "/k/config");
  EXPECT_EQ(f->log_level, "debug");
}

TEST(VkFlags, RejectsUnknownFlags) {
  std::vector<const char*> argv = {"vk", "--no-such-flag"};
  auto f = ParseVkFlags(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
}

TEST(VkConfig, DefaultsWithoutAnyFile) {
  auto c = LoadVk({}, Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node_name, "virtual-kubelet");
  EXPECT_EQ(c->resources.cpu, "20");
  EXPECT_EQ(c->resources.memory, "100Gi");
  EXPECT_EQ(c->resources.pods, "20");
  EXPECT_EQ(c->kubelet_port, 10250);
  EXPECT_EQ(c->status_sync_interval_ms, 500);
  EXPECT_EQ(c->lease_duration_seconds, 40);
  EXPECT_EQ(c->internal_ip, "127.0.0.1");
}

TEST(VkConfig, ReadsVkKeysAndIgnoresInterlinkAndSidecarKeys) {
  TempDir d;
  std::string path = d.Write("il.yaml", R"(
InterlinkURL: "http://127.0.0.1"
InterlinkPort: "3333"
SidecarURL: "http://127.0.0.1"
SidecarService: "mock"
SbatchPath: "/usr/bin/sbatch"
MockCapacityCPU: "8"
VKTokenFile: "/tmp/token"
NodeName: "from-file"
KubeletPort: 10251
StatusSyncIntervalMs: 250
PingIntervalSeconds: 3
LeaseDurationSeconds: 20
ClientQPS: 200
ClientBurst: 400
Resources:
  CPU: "64"
  Memory: "128Gi"
  Pods: "500"
  Accelerators:
    - ResourceType: nvidia.com/gpu
      Model: a100
      Available: 4
NodeLabels: ["site=cnaf", "tier=hpc"]
NodeTaints:
  - {Key: "site", Value: "cnaf", Effect: "NoExecute"}
  - {Key: "weird", Effect: "Bogus"}
HTTP:
  Insecure: true
KubeletHTTP:
  ClientCAFile: /etc/ca.crt
StateFile: /var/lib/vk/state
)");
  auto c = LoadVk(Flags("", path), Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->interlink_port, "3333");
  EXPECT_EQ(c->vk_token_file, "/tmp/token");
  EXPECT_EQ(c->node_name, "from-file");
  EXPECT_EQ(c->kubelet_port, 10251);
  EXPECT_EQ(c->status_sync_interval_ms, 250);
  EXPECT_EQ(c->ping_interval_seconds, 3);
  EXPECT_EQ(c->lease_duration_seconds, 20);
  EXPECT_EQ(c->client_qps, 200);
  EXPECT_EQ(c->client_burst, 400);
  EXPECT_EQ(c->resources.cpu, "64");
  EXPECT_EQ(c->resources.configured, (std::set<std::string>{"cpu", "memory", "pods"}));
  ASSERT_EQ(c->resources.accelerators.size(), 1u);
  EXPECT_EQ(c->resources.accelerators[0].available, "4");
  EXPECT_EQ(c->labels.at("site"), "cnaf");
  ASSERT_EQ(c->taints.size(), 2u);
  EXPECT_EQ(c->taints[0].effect, "NoExecute");
  EXPECT_EQ(c->taints[1].effect, "NoSchedule");  // unknown effect -> NoSchedule, as upstream
  EXPECT_TRUE(c->http_insecure);
  EXPECT_EQ(c->kubelet_client_ca_file, "/etc/ca.crt");
  EXPECT_EQ(c->state_file, "/var/lib/vk/state");
}

// Every key the pod controller takes reaches its options (bin/vk builds them this way).
TEST(VkConfig, ThePodControllerKeysReachItsOptions) {
  TempDir d;
  std::string path = d.Write("il.yaml", R"(
NodeName: "n1"
PodIP: "10.1.2.3"
StatusSyncIntervalMs: 250
StatusSafetyIntervalMs: 9000
StatusWatchMinIntervalMs: 7
DisableProjectedVolumes: true
JobScriptBuilderURL: "http://builder:1"
KubernetesApiAddr: "10.0.0.1"
KubernetesApiPort: "6443"
KubernetesApiCaCrt: "PEM"
)");
  VkFlags f = Flags("", path);
  f.pod_sync_workers = 5;
  auto c = LoadVk(f, Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  PodControllerOptions o = PodControllerOptionsFrom(*c);
  EXPECT_EQ(o.node_name, "n1");
  EXPECT_EQ(o.host_ip, "10.1.2.3");
  EXPECT_EQ(o.workers, 5);
  EXPECT_EQ(o.status_interval, std::chrono::milliseconds(250));
  EXPECT_TRUE(o.status_watch);
  EXPECT_EQ(o.status_safety_interval, std::chrono::milliseconds(9000));
  EXPECT_EQ(o.watch_min_interval, std::chrono::milliseconds(7));
  EXPECT_TRUE(o.create.disable_projected_volumes);
  EXPECT_EQ(o.create.jobscript_url, "http://builder:1");
  EXPECT_EQ(o.create.kube_root_ca, "PEM");
  EXPECT_EQ(o.create.env.host_ip, "10.1.2.3");
  EXPECT_EQ(o.create.env.kubernetes_api_addr, "10.0.0.1");
  EXPECT_EQ(o.create.env.kubernetes_api_port, "6443");

  // StatusSafetyIntervalMs 0 turns the watch off; the defaults are the documented ones.
  path = d.Write("off.yaml", "StatusSafetyIntervalMs: 0\n");
  c = LoadVk(Flags("", path), Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(PodControllerOptionsFrom(*c).status_watch);
  c = LoadVk({}, Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  o = PodControllerOptionsFrom(*c);
  EXPECT_TRUE(o.status_watch);
  EXPECT_EQ(o.status_safety_interval, std::chrono::milliseconds(15000));
  EXPECT_EQ(o.watch_min_interval, std::chrono::milliseconds(25));
  EXPECT_EQ(o.workers, 16);
}

TEST(VkConfig, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  TempDir d;
  std::string path = d.Write("il.yaml", "NodeName: file\nKubeletPort: 1000\n");
  auto env = Env({{"INTERLINKCONFIGPATH", path},
                  {"NODENAME", "env-node"},
                  {"KUBELET_PORT", "2000"},
                  {"VKUBELET_POD_IP", "127.0.0.9"},
                  {"INTERLINKURL", "unix:///tmp/il.sock"},
                  {"APISERVER_CERT_LOCATION", "/c.crt"},
                  {"APISERVER_KEY_LOCATION", "/c.key"}});
  auto c = LoadVk({}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node_name, "env-node");
  EXPECT_EQ(c->kubelet_port, 2000);
  EXPECT_EQ(c->internal_ip, "127.0.0.9");
  EXPECT_EQ(c->interlink_url, "unix:///tmp/il.sock");
  EXPECT_EQ(c->kubelet_cert_file, "/c.crt");
  auto f = LoadVk(Flags("flag-node"), env);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->node_name, "flag-node");
}

TEST(VkConfig, ApiserverCaCertLocationSetsTheKubeletClientCaInsideKubeletHttp) {
  TempDir d;
  std::string path = d.Write("il.yaml", "KubeletHTTP:\n  ClientCAFile: /file/ca.crt\n");
  auto c = LoadVk(Flags("n1"), Env({{"INTERLINKCONFIGPATH", path}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kubelet_client_ca_file, "/file/ca.crt");
  auto e =
      LoadVk(Flags("n1"),
             Env({{"INTERLINKCONFIGPATH", path}, {"APISERVER_CA_CERT_LOCATION", "/env/ca.crt"}}));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->kubelet_client_ca_file, "/env/ca.crt");  // the environment beats the file
  auto only_env = LoadVk(Flags("n1"), Env({{"APISERVER_CA_CERT_LOCATION", "/env/ca.crt"}}));
  ASSERT_TRUE(only_env.ok()) << only_env.status().ToString();
  EXPECT_EQ(only_env->kubelet_client_ca_file, "/env/ca.crt");
  // The sub-key is declared for its variable; the file sets it inside the block only.
  std::string flat = d.Write("flat.yaml", "KubeletHTTP.ClientCAFile: /file/ca.crt\n");
  auto f = LoadVk(Flags("n1"), Env({{"INTERLINKCONFIGPATH", flat}}));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("unknown key"), std::string::npos) << f.status().message();
}

TEST(VkConfig, FlagsGoThroughTheKeysSetters) {
  TempDir d;
  std::string path = d.Write("il.yaml", "LogLevel: warn\nKubeconfig: /file/kc\n");
  auto env = Env({{"INTERLINKCONFIGPATH", path}, {"INTERLINK_LOG_LEVEL", "error"}});
  auto c = LoadVk({}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log_level, "error");  // environment beats the file
  EXPECT_EQ(c->kubeconfig, "/file/kc");
  VkFlags f;
  f.klog_v = 4;
  f.kubeconfig = "/flag/kc";
  auto g = LoadVk(f, env);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->log_level, "debug");  // --klog.v >= 4 beats the environment
  EXPECT_EQ(g->kubeconfig, "/flag/kc");
  f.log_level = "trace";
  auto h = LoadVk(f, env);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->log_level, "trace");  // --log-level beats --klog.v
}

TEST(VkConfig, KnocConfigGivesTheNodeResources) {
  TempDir d;
  std::string knoc =
      d.Write("knoc-cfg.json", R"({"test-vk": {"cpu": "128", "memory": "800Gi", "pods": "1000"}})");
  auto c = LoadVk(Flags("test-vk", "", knoc, "knoc"), Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->resources.cpu, "128");
  EXPECT_EQ(c->resources.memory, "800Gi");
  EXPECT_EQ(c->resources.pods, "1000");
  EXPECT_EQ(c->resources.configured, (std::set<std::string>{"cpu", "memory", "pods"}));
  // Another node name falls back to the defaults, as the seed does; defaults bound nothing.
  auto other = LoadVk(Flags("x", "", knoc), Env({}));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->resources.cpu, "20");
  EXPECT_TRUE(other->resources.configured.empty());
  // VK_CONFIG_PATH names the same file.
  auto env = LoadVk(Flags("test-vk"), Env({{"VK_CONFIG_PATH", knoc}}));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->resources.pods, "1000");
}

TEST(VkConfig, RejectsBadValuesNamingTheKey) {
  TempDir d;
  auto bad = [&](const std::string& yaml) {
    auto c = LoadVk(Flags("", d.Write("bad.yaml", yaml)), Env({}));
    return c.ok() ? std::string("ok") : c.status().message();
  };
  EXPECT_NE(bad("KubeletPort: 70000\n").find("KubeletPort"), std::string::npos);
  EXPECT_NE(bad("Resources: {CPUs: 4}\n").find("Resources.CPUs"), std::string::npos);
  EXPECT_NE(bad("Resources: {CPU: lots}\n").find("not a quantity"), std::string::npos);
  EXPECT_NE(bad("NodeLabels: [novalue]\n").find("key=value"), std::string::npos);
  EXPECT_NE(bad("Bogus: 1\n").find("Bogus"), std::string::npos);  // neither the vk's nor foreign
  auto p = LoadVk(Flags("", "", "", "docker"), Env({}));
  EXPECT_FALSE(p.ok());
}

TEST(VkConfig, KubeletAuthDefaultsToWebhookAndOnlyExplicitKeysOpenIt) {
  VkConfig c;
  EXPECT_FALSE(c.kubelet_auth.anonymous);
  EXPECT_TRUE(c.kubelet_auth.webhook);
  EXPECT_EQ(c.kubelet_auth.mode, KubeletAuthOptions::Mode::kWebhook);
  EXPECT_EQ(c.kubelet_auth.token_cache_ttl, std::chrono::minutes(2));
  EXPECT_EQ(c.kubelet_auth.authorized_ttl, std::chrono::minutes(5));
  EXPECT_EQ(c.kubelet_auth.unauthorized_ttl, std::chrono::seconds(30));
  ASSERT_TRUE(ApplyVkYaml(R"(
KubeletHTTP:
  ClientCAFile: /etc/ca.crt
  Authentication:
    Anonymous: {Enabled: true}
    Webhook: {Enabled: false, CacheTTL: 10s}
  Authorization:
    Mode: AlwaysAllow
    Webhook: {CacheAuthorizedTTL: 1m, CacheUnauthorizedTTL: 5s}
)",
                          "t.yaml", &c)
                  .ok());
  EXPECT_EQ(c.kubelet_client_ca_file, "/etc/ca.crt");
  EXPECT_TRUE(c.kubelet_auth.anonymous);
  EXPECT_FALSE(c.kubelet_auth.webhook);
  EXPECT_EQ(c.kubelet_auth.token_cache_ttl, std::chrono::seconds(10));
  EXPECT_EQ(c.kubelet_auth.mode, KubeletAuthOptions::Mode::kAlwaysAllow);
  EXPECT_EQ(c.kubelet_auth.authorized_ttl, std::chrono::minutes(1));
  EXPECT_EQ(c.kubelet_auth.unauthorized_ttl, std::chrono::seconds(5));
  // An empty Webhook block keeps the webhook on.
  VkConfig d;
  ASSERT_TRUE(ApplyVkYaml("KubeletHTTP: {Authentication: {Webhook: {}}}", "t", &d).ok());
  EXPECT_TRUE(d.kubelet_auth.webhook);
  for (const char* bad : {"KubeletHTTP: {Authorization: {Mode: Node}}",
                          "KubeletHTTP: {Authentication: {Anonymous: true}}",
                          "KubeletHTTP: {Authentication: {Anonymus: {Enabled: true}}}",
                          "KubeletHTTP: {Authentication: {Webhook: {CacheTTL: soon}}}",
                          "KubeletHTTP: {Authorization: {Webhook: {CacheTTL: 1m}}}"}) {
    VkConfig e;
    Status st = ApplyVkYaml(bad, "t.yaml", &e);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("KubeletHTTP."), std::string::npos) << st.message();
  }
}

// --- OAuth2 token refresher keys ---

TEST(VkConfigOAuth2, ReadsTheRefresherKeys) {
  TempDir d;
  std::string cfg = d.Write("c.yaml", R"(
VKTokenFile: /var/run/vk/token
OAuth2:
  TokenURL: https://idp.example/realms/hpc/protocol/openid-connect/token
  ClientID: vk-node-1
  ClientSecretFile: /etc/vk/client-secret
  Scope: interlink
  Audience: interlink-api
  RefreshBeforeSeconds: 120
  CAFile: /etc/ssl/idp.pem
)");
  auto c = LoadVk(Flags("n1", cfg), Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->oauth2.enabled());
  EXPECT_EQ(c->oauth2.token_url, "https://idp.example/realms/hpc/protocol/openid-connect/token");
  EXPECT_EQ(c->oauth2.client_id, "vk-node-1");
  EXPECT_EQ(c->oauth2.client_secret_file, "/etc/vk/client-secret");
  EXPECT_EQ(c->oauth2.scope, "interlink");
  EXPECT_EQ(c->oauth2.audience, "interlink-api");
  EXPECT_EQ(c->oauth2.refresh_before_seconds, 120);
  EXPECT_EQ(c->oauth2.ca_file, "/etc/ssl/idp.pem");
  auto off = LoadVk(Flags("n1", d.Write("e.yaml", "NodeName: n1\n")), Env({}));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->oauth2.enabled());
  EXPECT_EQ(off->oauth2.refresh_before_seconds, 60);
}

TEST(VkConfigOAuth2, IncompleteOrUnknownSettingsAreErrors) {
  for (const char* bad : {
           "OAuth2: {TokenURL: https://i/t, ClientSecretFile: /s}\n",  // no ClientID
           "OAuth2: {TokenURL: https://i/t, ClientID: c}\n",           // no secret file
           "OAuth2: {ClientID: c, ClientSecretFile: /s}\n",            // no TokenURL
           "OAuth2: {TokenURL: ftp://i/t, ClientID: c, ClientSecretFile: /s}\n",
           "OAuth2: {TokenURL: https://i/t, ClientID: c, ClientSecretFile: /s, Secret: x}\n",
           ("OAuth2: {TokenURL: https://i/t, ClientID: c, ClientSecretFile: /s, "
            "RefreshBeforeSeconds: -5}\n"),
       }) {
    VkConfig c;
    EXPECT_EQ(ApplyVkYaml(bad, "t.yaml", &c).code(), StatusCode::kInvalidArgument) << bad;
  }
  // The refreshed token needs somewhere to go.
  TempDir d;
  std::string cfg =
      d.Write("c.yaml", "OAuth2: {TokenURL: https://i/t, ClientID: c, ClientSecretFile: /s}\n");
  auto c = LoadVk(Flags("n1", cfg), Env({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("VKTokenFile"), std::string::npos);
}

TEST(VkConfig, ParsesGoDurations) {
  EXPECT_EQ(ParseGoDuration("10s")->count(), 10000);
  EXPECT_EQ(ParseGoDuration("1m30s")->count(), 90000);
  EXPECT_EQ(ParseGoDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseGoDuration("2h")->count(), 7200000);
  EXPECT_EQ(ParseGoDuration("0")->count(), 0);
  EXPECT_FALSE(ParseGoDuration("ten").ok());
  EXPECT_FALSE(ParseGoDuration("10x").ok());
  EXPECT_FALSE(ParseGoDuration(std::string(400, '9') + "h").ok());  // no throw, no overflow
  EXPECT_FALSE(ParseGoDuration("99999999999999h").ok());
}

}  // namespace
}  // namespace il::vk
