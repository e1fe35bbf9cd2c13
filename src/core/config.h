// InterLinkConfig: the one configuration struct of interlink and the sidecars, filled
// from InterLinkConfig.yaml by LoadConfig.
//
// Precedence: environment variable > file > default. The seed's keys and variable names
// keep working (InterlinkURL, SidecarURL, InterlinkPort, SidecarService, SidecarPort,
// VKTokenFile, ExportPodData; INTERLINKURL, INTERLINKPORT, SIDECARURL, SIDECARPORT,
// SIDECARSERVICE, VKTOKENFILE), as do today's upstream keys (InterlinkAddress, TLS,
// DataRootFolder, ...). The seed's Slurm keys (SbatchPath, ScancelPath, CommandPrefix,
// Tsocks*, ...) are slurm-sd's own (sidecars/slurm/slurm_config.h). The keys are declared in one
// table (InterlinkKeys(), core/config_schema.h). The same file may also carry the virtual kubelet's
// and the sidecars' keys: callers pass those declarations (OtherKeys, usually from the catalog in
// daemon/config_catalog.h); any other key is an error naming the key, the file and the closest
// known key. See docs/configuration.md.
//
// Thread-safety: a plain value.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "core/status.h"

namespace il {

struct TlsConfig {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
  std::string ca_cert_file;  // server: require client certs signed by it (mTLS)
};

// OIDC: bearer JWTs from an identity provider, validated in the process (key OIDC).
// Enabled when Issuer is set; then Audience and one of JWKSFile / JWKSURL are required.
// With no Allowed* list, every valid token of the issuer and audience is accepted; with
// lists, a token must match one entry of one of them. The Allowed* lists also apply to
// identities from a trusted proxy (TrustedProxies). See docs/oidc.md.
struct OidcConfig {
  std::string issuer;        // Issuer: "iss" must equal it exactly
  std::string audience;      // Audience: "aud" (string or list) must contain it
  std::string jwks_file;     // JWKSFile: signing keys, re-read when the file changes
  std::string jwks_url;      // JWKSURL: signing keys over https (http on loopback only)
  std::string jwks_ca_file;  // JWKSCAFile: CA bundle for JWKSURL (default: system CAs)
  std::vector<std::string> allowed_subjects;  // AllowedSubjects
  std::vector<std::string> allowed_groups;    // AllowedGroups
  std::vector<std::string> allowed_emails;    // AllowedEmails
  std::string subject_claim = "sub";          // SubjectClaim
  std::string groups_claim = "groups";        // GroupsClaim
  std::string email_claim = "email";          // EmailClaim
  int clock_skew_seconds = 60;                // ClockSkewSeconds (exp/nbf/iat tolerance)
  bool enabled() const { return !issuer.empty(); }
  bool has_allow_list() const {
    return !allowed_subjects.empty() || !allowed_groups.empty() || !allowed_emails.empty();
  }
};

// How interlink dials its sidecar over https:// (SidecarClientTLS).
struct TlsClientConfig {
  std::string ca_cert_file;  // CACertFile: verifies the sidecar's certificate
  std::string cert_file;     // CertFile + KeyFile: interlink's client certificate (mTLS)
  std::string key_file;
  bool insecure_skip_verify = false;  // InsecureSkipVerify (tests only)
  std::string server_name;            // ServerName: name to verify instead of the URL's host
};

// Listener limits shared by interlink and the sidecars.
struct ListenerLimits {
  size_t max_connections = 2048;           // MaxConnections
  size_t max_connections_per_peer = 1024;  // MaxConnectionsPerPeer
  size_t max_streams = 1024;               // MaxStreams (follow-mode logs)
  size_t max_streams_per_peer = 512;       // MaxStreamsPerPeer
};

struct InterLinkConfig {
  // --- where things listen and connect (seed + upstream) ---
  std::string interlink_url = "http://127.0.0.1";  // InterlinkAddress or InterlinkURL
  std::string interlink_port = "3000";             // InterlinkPort
  std::string sidecar_url = "http://localhost";    // SidecarURL (http:// or unix://)
  std::string sidecar_port;                        // SidecarPort; empty = by SidecarService
  std::string sidecar_service;                     // SidecarService: docker | slurm | mock
  std::string vk_token_file;                       // VKTokenFile: bearer token callers must send
  std::string sidecar_token_file;  // SidecarTokenFile: token interlink sends to the sidecar,
                                   // and the sidecar requires (empty: none)
  TlsConfig tls;                   // TLS.{Enabled,CertFile,KeyFile,CACertFile}
  // --- closed by default (docs/security.md) ---
  TlsConfig sidecar_tls;                      // SidecarTLS: the sidecar's own listener
  TlsClientConfig sidecar_client_tls;         // SidecarClientTLS: interlink -> sidecar over https
  bool allow_unauthenticated_listen = false;  // AllowUnauthenticatedListen
  ListenerLimits limits;  // MaxConnections, MaxConnectionsPerPeer, MaxStreams, MaxStreamsPerPeer
  OidcConfig oidc;        // OIDC.{Issuer,Audience,JWKSFile,...}
  // TrustedProxies: addresses or CIDRs (and "unix") of reverse proxies such as
  // oauth2-proxy whose X-Forwarded-User / X-Forwarded-Email headers are believed.
  std::vector<std::string> trusted_proxies;

  // --- shared by every sidecar ---
  bool export_pod_data = true;
  std::string data_root_folder = "/var/lib/interlink";  // private: 0700, checked at start
  // The running sidecar's own settings (e.g. "Partition", "DockerPath"), kept as text for
  // its typed view; filled for the keys passed in OtherKeys::sidecar.
  std::map<std::string, std::string> sidecar_settings;

  // --- interLink API behaviour (our additions) ---
  size_t max_request_bytes = 128u << 20;  // MaxRequestBytes
  int sidecar_timeout_seconds = 120;      // SidecarTimeoutSeconds
  int worker_threads = 32;                // WorkerThreads
  std::string job_script_template;        // JobScriptTemplate (upstream; passed through)

  // --- logging ---
  std::string log_level = "info";   // VerboseLogging -> debug, ErrorsOnlyLogging -> error, LogLevel
  std::string log_format = "text";  // LogFormat: text | json

  // Where the values came from, for diagnostics.
  std::string source_file;  // empty when no file was read

  // The sidecar port this config implies: SidecarPort, else the SidecarService default
  // (docker 4000, slurm 4001, mock 4002), else `fallback`.
  std::string EffectiveSidecarPort(const std::string& fallback) const;
  // URL of the sidecar as interlink dials it: unix:///p, or http://host:port.
  std::string SidecarEndpoint(const std::string& fallback_port) const;
  // URL interlink listens on.
  std::string InterlinkListenUrl() const;
  // URL a sidecar listens on: SidecarURL when it is a unix socket, else the host of
  // SidecarURL (localhost -> 127.0.0.1) with the effective sidecar port, https:// when
  // SidecarTLS.Enabled.
  std::string SidecarListenUrl(const std::string& fallback_port) const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// Reads the real process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// Resolves the config file path: explicit path, else $INTERLINKCONFIGPATH, else
// /etc/interlink/InterLinkConfig.yaml, else ./kustomizations/InterLinkConfig.yaml.
// Returns "" when none exists and none was named explicitly.
Result<std::string> ResolveConfigPath(const std::string& explicit_path, const EnvLookup& env);

// What else the file may hold besides interlink's keys (InterlinkKeys()).
struct OtherKeys {
  // The running sidecar's own keys: their values are kept as text in sidecar_settings.
  std::vector<config::KeyInfo> sidecar;
  // Keys other components declare (the vk's, the other sidecars'): accepted and ignored.
  std::vector<config::KeyInfo> foreign;
};

// Loads and validates. `path` empty: defaults + environment only.
Result<InterLinkConfig> LoadConfig(const std::string& path, const EnvLookup& env = ProcessEnv,
                                   const OtherKeys& other = {});
// Parses YAML text (for tests); `origin` names the source in errors.
Result<InterLinkConfig> ParseConfig(const std::string& yaml, const std::string& origin,
                                    const EnvLookup& env = ProcessEnv, const OtherKeys& other = {});
// From a parsed document (config::ReadDocument), read once and shared by several loaders.
Result<InterLinkConfig> LoadConfigFrom(const YAML::Node& doc, const std::string& origin,
                                       const EnvLookup& env, const OtherKeys& other);

// The keys of interlink and of every sidecar's listener (the "interlink" component).
const std::vector<config::Key<InterLinkConfig>>& InterlinkKeys();

}  // namespace il
