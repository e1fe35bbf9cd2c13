// VkConfig: everything the virtual kubelet is configured with, filled by one loader from
// (highest precedence first) command-line flags, environment variables, the YAML config
// file and defaults.
//
// The YAML file is the same InterLinkConfig.yaml interlink reads (upstream's VK config
// keys, reference §2.7, plus ours). The vk's keys, with their environment variables, are
// declared in one table (VkKeys(), core/config_schema.h); LoadVkConfig reads the file once
// with it, ignores the keys other components declare (`foreign`, from the catalog in
// daemon/config_catalog.h) and rejects any other key with a suggestion. knoc-cfg.json
// (--provider-config or VK_CONFIG_PATH) gives the node's cpu/memory/pods, as in the seed.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "vk/kubelet_auth_options.h"

namespace il::vk {

struct Accelerator {
  std::string resource_type;  // e.g. nvidia.com/gpu
  std::string model;          // becomes a node label (nvidia-gpu-type=...)
  std::string available = "0";
};

struct NodeResources {
  std::string cpu = "20";  // knoc defaults (reference §1.6)
  std::string memory = "100Gi";
  std::string pods = "20";
  std::vector<Accelerator> accelerators;
  // "cpu", "memory", "pods" when the admin set them (Resources or knoc-cfg.json): those
  // are upper bounds on what the plugin's ping reports; the defaults above are not.
  std::set<std::string> configured;
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect = "NoSchedule";  // NoSchedule | PreferNoSchedule | NoExecute
  bool operator==(const Taint&) const = default;
};

// OAuth2: keeps VKTokenFile fresh with the client-credentials flow (RFC 6749 §4.4),
// for an interlink that validates OIDC tokens. Enabled when TokenURL is set; then
// ClientID, ClientSecretFile and VKTokenFile are required. See docs/oidc.md.
struct OAuth2ClientConfig {
  std::string token_url;            // TokenURL: https (http on loopback only)
  std::string client_id;            // ClientID
  std::string client_secret_file;   // ClientSecretFile: re-read on every refresh, never logged
  std::string scope;                // Scope (optional)
  std::string audience;             // Audience (optional; sent as "audience")
  int refresh_before_seconds = 60;  // RefreshBeforeSeconds: renew this long before expiry
  std::string ca_file;              // CAFile: CA bundle for TokenURL (default: system CAs)
  bool enabled() const { return !token_url.empty(); }
};

struct VkConfig {
  // --- identity (flags --nodename --provider; env NODENAME; key NodeName) ---
  std::string node_name = "virtual-kubelet";
  std::string provider = "interlink";       // "knoc" (the seed's name) or "interlink"
  std::string provider_config;              // knoc-cfg.json path
  std::chrono::seconds startup_timeout{0};  // 0: wait for the API forever
  std::string
      kubeconfig;  // --kubeconfig / Kubeconfig; empty: CUSTOMKUBECONF, KUBECONFIG, in-cluster
  std::string config_file;  // the YAML file read, for diagnostics
  std::string log_level = "info";

  // --- interLink connection ---
  std::string interlink_url = "http://127.0.0.1";  // InterlinkURL (http, https, unix)
  std::string interlink_port = "3000";             // InterlinkPort
  std::string vk_token_file;                       // VKTokenFile (re-read on every call)
  bool http_insecure = false;                      // HTTP.Insecure
  bool allow_plain_http = false;  // AllowPlainHTTP: token and Secrets over http:// to a
                                  // non-loopback interLink (off: refuse to start)
  std::string http_ca_cert;       // HTTP.CaCert (PEM file)
  TlsConfig tls;  // TLS.{Enabled,CertFile,KeyFile,CACertFile}: mTLS client to interLink
  std::string job_script_builder_url;  // JobScriptBuilderURL -> PodCreateRequests.jobscriptURL
  OAuth2ClientConfig oauth2;  // OAuth2.{TokenURL,ClientID,ClientSecretFile,...}: token refresher

  // --- node ---
  NodeResources resources;                    // Resources / knoc-cfg.json
  std::map<std::string, std::string> labels;  // NodeLabels ["k=v", ...]
  std::vector<Taint> taints;                  // NodeTaints
  bool disable_provider_taint = false;        // --disable-taint (virtual-kubelet.io/provider)
  std::string pod_cidr;                       // PodCIDR.Subnet
  std::string internal_ip = "127.0.0.1";      // VKUBELET_POD_IP / POD_IP / PodIP
  int lease_duration_seconds = 40;            // LeaseDurationSeconds
  int ping_interval_seconds = 10;             // PingIntervalSeconds

  // --- kubelet HTTPS API ---
  std::string kubelet_address = "0.0.0.0";  // KubeletAddress / KUBELET_URL
  int kubelet_port = 10250;                 // KubeletPort / KUBELET_PORT
  std::string kubelet_cert_file;            // KubeletCertFile / APISERVER_CERT_LOCATION
  std::string kubelet_key_file;             // KubeletKeyFile / APISERVER_KEY_LOCATION
  // KubeletHTTP.ClientCAFile / APISERVER_CA_CERT_LOCATION: client certificates signed by
  // this CA authenticate (the API server's kubelet client certificate); empty: the
  // cluster CA of the vk's kubeconfig or service account.
  std::string kubelet_client_ca_file;
  // KubeletHTTP.Authentication {Anonymous: {Enabled}, Webhook: {Enabled, CacheTTL}} and
  // KubeletHTTP.Authorization {Mode: Webhook|AlwaysAllow, Webhook: {CacheAuthorizedTTL,
  // CacheUnauthorizedTTL}}, as in the kubelet's config file.
  KubeletAuthOptions kubelet_auth;
  // KubeletHTTP.StreamingConnectionIdleTimeout (kubelet default 4h) and
  // KubeletHTTP.StreamCreationTimeout (30s): exec, attach and port-forward connections.
  std::chrono::milliseconds streaming_idle_timeout{std::chrono::hours(4)};
  std::chrono::milliseconds stream_creation_timeout{std::chrono::seconds(30)};

  // --- pods ---
  int status_sync_interval_ms = 500;  // StatusSyncIntervalMs
  // StatusSafetyIntervalMs: while interLink's status watch works, the full /status poll
  // runs this rarely (a safety net); 0 turns the watch off (poll every StatusSyncIntervalMs).
  int status_safety_interval_ms = 15000;
  // StatusWatchMinIntervalMs: a status watch starts no sooner than this after the previous
  // one did, so a burst of changes is answered in batches (PodControllerOptions).
  int status_watch_min_interval_ms = 25;
  int pod_sync_workers = 16;               // --pod-sync-workers
  bool disable_projected_volumes = false;  // DisableProjectedVolumes
  std::string kubernetes_api_addr;         // KubernetesApiAddr: KUBERNETES_* env for containers
  std::string kubernetes_api_port;         // KubernetesApiPort
  std::string kubernetes_api_ca_crt;       // KubernetesApiCaCrt: replaces kube-root-ca.crt
  std::string state_file;                  // StateFile: UIDs sent to the backend (restart recovery)

  // --- Kubernetes client ---
  double client_qps = 50;  // ClientQPS
  int client_burst = 100;  // ClientBurst
};

using EnvLookup = il::EnvLookup;

// Command-line values; unset flags stay empty/negative so lower layers show through.
struct VkFlags {
  std::string node_name;
  std::string provider;
  std::string provider_config;
  std::string startup_timeout;  // Go duration, e.g. "10s"
  std::string kubeconfig;
  std::string config;
  std::string log_level;
  int klog_v = -1;
  int pod_sync_workers = -1;
  bool disable_taint = false;
};

// Parses argv (CLI11). Returns kInvalidArgument with CLI11's message for bad flags; the
// special "help requested" case returns kFailedPrecondition with the help text.
Result<VkFlags> ParseVkFlags(int argc, const char* const* argv);

// The vk's configuration keys (the "vk" component of the catalog).
const std::vector<config::Key<VkConfig>>& VkKeys();

// Builds the config from flags + env + files. `foreign`: the keys of the other components
// that may share the file (ignored); any key neither the vk's nor foreign is an error.
Result<VkConfig> LoadVkConfig(const VkFlags& flags, const EnvLookup& env = ProcessEnv,
                              const std::vector<config::KeyInfo>& foreign = {});

// Reads the VK keys of YAML text into `c`, skipping every other key (for tests).
Status ApplyVkYaml(const std::string& yaml, const std::string& origin, VkConfig* c);
// Reads knoc-cfg.json text: the entry for `node` overrides cpu/memory/pods.
Status ApplyKnocConfig(const std::string& json, const std::string& origin, const std::string& node,
                       NodeResources* r);

// Go-style duration ("10s", "1m30s", "500ms", "2h"); bare numbers are seconds.
Result<std::chrono::milliseconds> ParseGoDuration(std::string_view s);
// Validates a Kubernetes resource quantity ("100Gi", "2.5", "500m").
bool IsQuantity(std::string_view s);

}  // namespace il::vk
