#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace il {
namespace {

// Keys this loader reads itself.
const std::vector<std::string>& OwnKeys() {
  static const std::vector<std::string> k = {"InterlinkURL",
                                             "InterlinkAddress",
                                             "InterlinkPort",
                                             "SidecarURL",
                                             "SidecarPort",
                                             "SidecarService",
                                             "VKTokenFile",
                                             "TLS",
                                             "SbatchPath",
                                             "ScancelPath",
                                             "SqueuePath",
                                             "SacctPath",
                                             "SinfoPath",
                                             "ScontrolPath",
                                             "BashPath",
                                             "CommandPrefix",
                                             "ExportPodData",
                                             "Tsocks",
                                             "TsocksPath",
                                             "TsocksConfig",
                                             "TsocksLoginNode",
                                             "DataRootFolder",
                                             "MaxRequestBytes",
                                             "SidecarTimeoutSeconds",
                                             "WorkerThreads",
                                             "JobScriptTemplate",
                                             "JobScriptBuildConfig",
                                             "VerboseLogging",
                                             "ErrorsOnlyLogging",
                                             "LogLevel",
                                             "LogFormat",
                                             "Pprof",
                                             "sidecarport",
                                             "SidecarTokenFile",
                                             "OIDC",
                                             "TrustedProxies",
                                             "SidecarTLS",
                                             "SidecarClientTLS",
                                             "AllowUnauthenticatedListen",
                                             "MaxConnections",
                                             "MaxConnectionsPerPeer",
                                             "MaxStreams",
                                             "MaxStreamsPerPeer"};
  return k;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggest(const std::string& key) {
  std::string best;
  size_t best_d = 4;
  auto consider = [&](const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      size_t d = EditDistance(key, k);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
  };
  consider(OwnKeys());
  consider(KnownVkKeys());
  consider(KnownSidecarKeys());
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

Status KeyError(const std::string& origin, const std::string& key, const std::string& what) {
  return InvalidArgument(origin + ": key '" + key + "': " + what);
}

Result<std::string> Scalar(const YAML::Node& n, const std::string& origin, const std::string& key) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) return KeyError(origin, key, "must be a scalar value");
  return n.Scalar();
}

Result<bool> ParseBool(const std::string& v, const std::string& origin, const std::string& key) {
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(), ::tolower);
  if (l == "true" || l == "yes" || l == "1" || l == "on") return true;
  if (l == "false" || l == "no" || l == "0" || l == "off" || l.empty()) return false;
  return KeyError(origin, key, "must be true or false, got '" + v + "'");
}

Result<long long> ParseInt(const std::string& v, const std::string& origin, const std::string& key,
                           long long min, long long max) {
  try {
    size_t pos = 0;
    long long x = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument("trailing");
    if (x < min || x > max) {
      return KeyError(
          origin, key,
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v);
    }
    return x;
  } catch (const std::exception&) {
    return KeyError(origin, key, "must be an integer, got '" + v + "'");
  }
}

Status ValidatePort(const std::string& v, const std::string& origin, const std::string& key) {
  if (v.empty()) return Status::Ok();
  auto p = ParseInt(v, origin, key, 0, 65535);
  return p.ok() ? Status::Ok() : p.status();
}

Status ApplyTls(const YAML::Node& n, const std::string& origin, TlsConfig* tls,
                const std::string& block = "TLS") {
  if (!n.IsMap()) return KeyError(origin, block, "must be a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    IL_ASSIGN_OR_RETURN(std::string v, Scalar(kv.second, origin, block + "." + k));
    if (k == "Enabled") {
      IL_ASSIGN_OR_RETURN(tls->enabled, ParseBool(v, origin, block + ".Enabled"));
    } else if (k == "CertFile") {
      tls->cert_file = v;
    } else if (k == "KeyFile") {
      tls->key_file = v;
    } else if (k == "CACertFile") {
      tls->ca_cert_file = v;
    } else {
      return KeyError(origin, block + "." + k,
                      "unknown key (known: Enabled, CertFile, KeyFile, CACertFile)");
    }
  }
  if (tls->enabled && (tls->cert_file.empty() || tls->key_file.empty())) {
    return KeyError(origin, block + ".CertFile", "Enabled needs CertFile and KeyFile");
  }
  return Status::Ok();
}

Status ApplyClientTls(const YAML::Node& n, const std::string& origin, TlsClientConfig* tls) {
  const std::string block = "SidecarClientTLS";
  if (!n.IsMap()) return KeyError(origin, block, "must be a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    IL_ASSIGN_OR_RETURN(std::string v, Scalar(kv.second, origin, block + "." + k));
    if (k == "CACertFile") {
      tls->ca_cert_file = v;
    } else if (k == "CertFile") {
      tls->cert_file = v;
    } else if (k == "KeyFile") {
      tls->key_file = v;
    } else if (k == "InsecureSkipVerify") {
      IL_ASSIGN_OR_RETURN(tls->insecure_skip_verify, ParseBool(v, origin, block + "." + k));
    } else if (k == "ServerName") {
      tls->server_name = v;
    } else {
      return KeyError(origin, block + "." + k,
                      "unknown key (known: CACertFile, CertFile, KeyFile, InsecureSkipVerify, "
                      "ServerName)");
    }
  }
  if (tls->cert_file.empty() != tls->key_file.empty()) {
    return KeyError(origin, block + ".CertFile", "CertFile and KeyFile go together");
  }
  return Status::Ok();
}

// --- OIDC and TrustedProxies (docs/oidc.md) ---
Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& origin,
                                            const std::string& key) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (n.IsScalar()) {  // one entry written without a list
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) return KeyError(origin, key, "must be a list of strings");
  for (const auto& e : n) {
    if (!e.IsScalar()) return KeyError(origin, key, "must be a list of strings");
    out.push_back(e.Scalar());
  }
  return out;
}

Status ApplyOidc(const YAML::Node& n, const std::string& origin, OidcConfig* o) {
  static const std::vector<std::string> kKeys = {
      "Issuer",       "Audience",        "JWKSFile",      "JWKSURL",
      "JWKSCAFile",   "AllowedSubjects", "AllowedGroups", "AllowedEmails",
      "SubjectClaim", "GroupsClaim",     "EmailClaim",    "ClockSkewSeconds"};
  if (n.IsNull()) return Status::Ok();
  if (!n.IsMap()) return KeyError(origin, "OIDC", "must be a mapping");
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    const std::string full = "OIDC." + k;
    std::vector<std::string>* list = k == "AllowedSubjects" ? &o->allowed_subjects
                                     : k == "AllowedGroups" ? &o->allowed_groups
                                     : k == "AllowedEmails" ? &o->allowed_emails
                                                            : nullptr;
    if (list) {
      IL_ASSIGN_OR_RETURN(*list, StringList(kv.second, origin, full));
      continue;
    }
    if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end()) {
      std::string best;
      for (const auto& known : kKeys) {
        size_t d = EditDistance(k, known);
        if (d < 4 && (best.empty() || d < EditDistance(k, best))) best = known;
      }
      return KeyError(origin, full,
                      "unknown key" + (best.empty() ? "" : " (did you mean 'OIDC." + best + "'?)"));
    }
    IL_ASSIGN_OR_RETURN(std::string v, Scalar(kv.second, origin, full));
    if (k == "Issuer") {
      o->issuer = v;
    } else if (k == "Audience") {
      o->audience = v;
    } else if (k == "JWKSFile") {
      o->jwks_file = v;
    } else if (k == "JWKSURL") {
      o->jwks_url = v;
    } else if (k == "JWKSCAFile") {
      o->jwks_ca_file = v;
    } else if (k == "SubjectClaim") {
      if (!v.empty()) o->subject_claim = v;
    } else if (k == "GroupsClaim") {
      if (!v.empty()) o->groups_claim = v;
    } else if (k == "EmailClaim") {
      if (!v.empty()) o->email_claim = v;
    } else if (k == "ClockSkewSeconds") {
      IL_ASSIGN_OR_RETURN(auto x, ParseInt(v, origin, full, 0, 3600));
      o->clock_skew_seconds = static_cast<int>(x);
    }
  }
  return Status::Ok();
}

Status ValidateOidc(const InterLinkConfig& c, const std::string& origin) {
  const OidcConfig& o = c.oidc;
  if (!o.enabled()) {
    if (!o.audience.empty() || !o.jwks_file.empty() || !o.jwks_url.empty()) {
      return KeyError(origin, "OIDC.Issuer", "must be set when OIDC is configured");
    }
    if (o.has_allow_list() && c.trusted_proxies.empty()) {
      // An allow-list that applies to nothing would look like a restriction and be none.
      return KeyError(origin, "OIDC.Issuer",
                      "must be set (or TrustedProxies) for the OIDC.Allowed* lists to apply");
    }
    return Status::Ok();
  }
  if (o.audience.empty()) return KeyError(origin, "OIDC.Audience", "must be set with OIDC.Issuer");
  if (o.jwks_file.empty() == o.jwks_url.empty()) {
    return KeyError(origin, "OIDC.JWKSFile",
                    "exactly one of OIDC.JWKSFile and OIDC.JWKSURL must be set");
  }
  if (!o.jwks_url.empty() && o.jwks_url.rfind("https://", 0) != 0 &&
      o.jwks_url.rfind("http://", 0) != 0) {
    return KeyError(origin, "OIDC.JWKSURL", "must start with https://, got '" + o.jwks_url + "'");
  }
  return Status::Ok();
}
// --- end OIDC ---

Status ApplyKey(const std::string& k, const YAML::Node& node, const std::string& origin,
                InterLinkConfig* c) {
  if (k == "TLS") return ApplyTls(node, origin, &c->tls);
  if (k == "SidecarTLS") return ApplyTls(node, origin, &c->sidecar_tls, "SidecarTLS");
  if (k == "SidecarClientTLS") return ApplyClientTls(node, origin, &c->sidecar_client_tls);
  if (k == "OIDC") return ApplyOidc(node, origin, &c->oidc);
  if (k == "TrustedProxies") {
    IL_ASSIGN_OR_RETURN(c->trusted_proxies, StringList(node, origin, k));
    return Status::Ok();
  }
  if (k == "JobScriptBuildConfig" || k == "Pprof") return Status::Ok();  // upstream-only blocks
  // A key of both the VK and the sidecars (StateFile) is kept for the sidecar.
  if (std::find(KnownVkKeys().begin(), KnownVkKeys().end(), k) != KnownVkKeys().end() &&
      std::find(OwnKeys().begin(), OwnKeys().end(), k) == OwnKeys().end() &&
      std::find(KnownSidecarKeys().begin(), KnownSidecarKeys().end(), k) ==
          KnownSidecarKeys().end()) {
    return Status::Ok();
  }
  if (std::find(KnownSidecarKeys().begin(), KnownSidecarKeys().end(), k) !=
      KnownSidecarKeys().end()) {
    if (node.IsScalar() || node.IsNull()) {
      c->sidecar_settings[k] = node.IsNull() ? "" : node.Scalar();
    } else {
      c->sidecar_settings[k] = YAML::Dump(node);
    }
    return Status::Ok();
  }
  if (std::find(OwnKeys().begin(), OwnKeys().end(), k) == OwnKeys().end()) {
    return KeyError(origin, k, "unknown key" + Suggest(k));
  }
  IL_ASSIGN_OR_RETURN(std::string v, Scalar(node, origin, k));
  if (k == "InterlinkURL" || k == "InterlinkAddress") {
    if (!v.empty()) c->interlink_url = v;
  } else if (k == "InterlinkPort") {
    IL_RETURN_IF_ERROR(ValidatePort(v, origin, k));
    if (!v.empty()) c->interlink_port = v;
  } else if (k == "SidecarURL") {
    if (!v.empty()) c->sidecar_url = v;
  } else if (k == "SidecarPort" || k == "sidecarport") {
    IL_RETURN_IF_ERROR(ValidatePort(v, origin, k));
    c->sidecar_port = v;
  } else if (k == "SidecarService") {
    c->sidecar_service = v;
  } else if (k == "VKTokenFile") {
    c->vk_token_file = v;
  } else if (k == "SidecarTokenFile") {
    c->sidecar_token_file = v;
  } else if (k == "SbatchPath") {
    if (!v.empty()) c->sbatch_path = v;
  } else if (k == "ScancelPath") {
    if (!v.empty()) c->scancel_path = v;
  } else if (k == "SqueuePath") {
    if (!v.empty()) c->squeue_path = v;
  } else if (k == "SacctPath") {
    if (!v.empty()) c->sacct_path = v;
  } else if (k == "SinfoPath") {
    if (!v.empty()) c->sinfo_path = v;
  } else if (k == "ScontrolPath") {
    if (!v.empty()) c->scontrol_path = v;
  } else if (k == "BashPath") {
    if (!v.empty()) c->bash_path = v;
  } else if (k == "CommandPrefix") {
    c->command_prefix = v;
  } else if (k == "ExportPodData") {
    IL_ASSIGN_OR_RETURN(c->export_pod_data, ParseBool(v, origin, k));
  } else if (k == "Tsocks") {
    IL_ASSIGN_OR_RETURN(c->tsocks, ParseBool(v, origin, k));
  } else if (k == "TsocksPath") {
    c->tsocks_path = v;
  } else if (k == "TsocksConfig") {
    c->tsocks_config = v;
  } else if (k == "TsocksLoginNode") {
    c->tsocks_login_node = v;
  } else if (k == "DataRootFolder") {
    if (!v.empty()) c->data_root_folder = v;
  } else if (k == "MaxRequestBytes") {
    IL_ASSIGN_OR_RETURN(auto n, ParseInt(v, origin, k, 1024, 1ll << 34));
    c->max_request_bytes = static_cast<size_t>(n);
  } else if (k == "SidecarTimeoutSeconds") {
    IL_ASSIGN_OR_RETURN(auto n, ParseInt(v, origin, k, 1, 86400));
    c->sidecar_timeout_seconds = static_cast<int>(n);
  } else if (k == "AllowUnauthenticatedListen") {
    IL_ASSIGN_OR_RETURN(c->allow_unauthenticated_listen, ParseBool(v, origin, k));
  } else if (k == "MaxConnections" || k == "MaxConnectionsPerPeer" || k == "MaxStreams" ||
             k == "MaxStreamsPerPeer") {
    IL_ASSIGN_OR_RETURN(auto n, ParseInt(v, origin, k, 1, 1000000));
    size_t* field = k == "MaxConnections"          ? &c->limits.max_connections
                    : k == "MaxConnectionsPerPeer" ? &c->limits.max_connections_per_peer
                    : k == "MaxStreams"            ? &c->limits.max_streams
                                                   : &c->limits.max_streams_per_peer;
    *field = static_cast<size_t>(n);
  } else if (k == "WorkerThreads") {
    IL_ASSIGN_OR_RETURN(auto n, ParseInt(v, origin, k, 1, 4096));
    c->worker_threads = static_cast<int>(n);
  } else if (k == "JobScriptTemplate") {
    c->job_script_template = v;
  } else if (k == "VerboseLogging") {
    IL_ASSIGN_OR_RETURN(bool b, ParseBool(v, origin, k));
    if (b) c->log_level = "debug";
  } else if (k == "ErrorsOnlyLogging") {
    IL_ASSIGN_OR_RETURN(bool b, ParseBool(v, origin, k));
    if (b && c->log_level != "debug") c->log_level = "error";
  } else if (k == "LogLevel") {
    if (!v.empty()) c->log_level = v;
  } else if (k == "LogFormat") {
    if (v != "text" && v != "json") return KeyError(origin, k, "must be 'text' or 'json'");
    c->log_format = v;
  }
  return Status::Ok();
}

Status ApplyEnv(const EnvLookup& env, InterLinkConfig* c) {
  auto get = [&](const char* name) { return env(name); };
  const std::string origin = "environment";
  if (auto v = get("INTERLINKURL")) c->interlink_url = *v;
  if (auto v = get("INTERLINKPORT")) {
    IL_RETURN_IF_ERROR(ValidatePort(*v, origin, "INTERLINKPORT"));
    c->interlink_port = *v;
  }
  if (auto v = get("SIDECARURL")) c->sidecar_url = *v;
  if (auto v = get("SIDECARSERVICE")) c->sidecar_service = *v;
  if (auto v = get("SIDECARPORT")) {
    IL_RETURN_IF_ERROR(ValidatePort(*v, origin, "SIDECARPORT"));
    c->sidecar_port = *v;
  }
  if (auto v = get("SBATCHPATH")) c->sbatch_path = *v;
  if (auto v = get("SCANCELPATH")) c->scancel_path = *v;
  if (auto v = get("VKTOKENFILE")) c->vk_token_file = *v;
  if (auto v = get("SIDECARTOKENFILE")) c->sidecar_token_file = *v;
  if (auto v = get("TSOCKS")) {
    IL_ASSIGN_OR_RETURN(c->tsocks, ParseBool(*v, origin, "TSOCKS"));
  }
  if (auto v = get("TSOCKSPATH")) c->tsocks_path = *v;
  if (auto v = get("INTERLINK_LOG_LEVEL")) c->log_level = *v;
  if (auto v = get("INTERLINK_LOG_FORMAT")) {
    if (*v != "text" && *v != "json") {
      return KeyError(origin, "INTERLINK_LOG_FORMAT", "must be 'text' or 'json'");
    }
    c->log_format = *v;
  }
  return Status::Ok();
}

Status Validate(const InterLinkConfig& c, const std::string& origin) {
  static const std::set<std::string> kServices = {"", "docker", "slurm", "mock"};
  if (!kServices.count(c.sidecar_service)) {
    return KeyError(origin, "SidecarService",
                    "must be docker, slurm or mock, got '" + c.sidecar_service + "'");
  }
  for (const auto& [key, url] :
       {std::pair<std::string, std::string>{"InterlinkURL", c.interlink_url},
        {"SidecarURL", c.sidecar_url}}) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
        url.rfind("unix://", 0) != 0) {
      return KeyError(origin, key,
                      "must start with http://, https:// or unix://, got '" + url + "'");
    }
  }
  if (c.tsocks && c.tsocks_path.empty()) {
    return KeyError(origin, "TsocksPath", "must be set when Tsocks is true");
  }
  IL_RETURN_IF_ERROR(ValidateOidc(c, origin));
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& KnownVkKeys() {
  static const std::vector<std::string> k = {"InterlinkURL",
                                             "InterlinkPort",
                                             "VKConfigPath",
                                             "VKTokenFile",
                                             "ServiceAccount",
                                             "Namespace",
                                             "PodIP",
                                             "PodCIDR",
                                             "KubernetesApiAddr",
                                             "KubernetesApiPort",
                                             "KubernetesApiCaCrt",
                                             "DisableProjectedVolumes",
                                             "JobScriptBuilderURL",
                                             "HTTP",
                                             "KubeletHTTP",
                                             "KubeletCertFile",
                                             "KubeletKeyFile",
                                             "KubeletCSRSignerName",
                                             "DisableCSR",
                                             "Resources",
                                             "NodeLabels",
                                             "NodeTaints",
                                             "Network",
                                             "SkipDownwardAPIResolution",
                                             "NodeName",
                                             "KubeletPort",
                                             "KubeletAddress",
                                             "StatusSyncIntervalMs",
                                             "StatusSafetyIntervalMs",
                                             "PingIntervalSeconds",
                                             "ClientQPS",
                                             "ClientBurst",
                                             "LeaseDurationSeconds",
                                             "StateFile",
                                             "Kubeconfig",
                                             "OAuth2",
                                             "AllowPlainHTTP"};
  return k;
}

const std::vector<std::string>& KnownSidecarKeys() {
  static const std::vector<std::string> k = {
      // Slurm sidecar
      "Partition", "Account", "TimeLimit", "DefaultCPUs", "DefaultMemory", "ContainerRuntime",
      "ImagePrefix", "SingularityPath", "SingularityDefaultOptions", "SingularityPrefix",
      "PodmanPath", "ChRunPath", "ImageRoot", "SharedFS", "PreExec", "Socket", "Flavors",
      "DefaultFlavor", "EnableProbes", "Taints", "StatusCacheSeconds", "HonouredAnnotations",
      "AllowedRuntimes", "SbatchOptionsAllowList", "SbatchOptionsDenyList", "NamespaceUsers",
      "RunAsCommand",
      // Docker sidecar
      "DockerPath", "HostPathAllowList", "DockerNetwork", "ContainerPrefix",
      "DockerAllowHostNamespaces", "DockerPidsLimit", "DockerLogMaxSize", "DockerLogMaxFiles",
      // Mock sidecar
      "MockStateFile", "MockCapacityCPU", "MockCapacityMemory", "MockCapacityPods",
      // Common
      "StateFile"};
  return k;
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string InterLinkConfig::EffectiveSidecarPort(const std::string& fallback) const {
  if (!sidecar_port.empty()) return sidecar_port;
  if (sidecar_service == "docker") return "4000";
  if (sidecar_service == "slurm") return "4001";
  if (sidecar_service == "mock") return "4002";
  return fallback;
}

std::string InterLinkConfig::SidecarEndpoint(const std::string& fallback_port) const {
  if (sidecar_url.rfind("unix://", 0) == 0) return sidecar_url;
  std::string url = sidecar_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  // A port already in the URL wins.
  auto scheme_end = url.find("://");
  auto host = url.substr(scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (host.find(':') != std::string::npos && host.back() != ']') return url;
  return url + ":" + EffectiveSidecarPort(fallback_port);
}

std::string InterLinkConfig::SidecarListenUrl(const std::string& fallback_port) const {
  if (sidecar_url.rfind("unix://", 0) == 0) return sidecar_url;
  std::string host = sidecar_url;
  if (auto p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
  host = host.substr(0, host.find('/'));
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  return std::string(sidecar_tls.enabled ? "https://" : "http://") + host + ":" +
         EffectiveSidecarPort(fallback_port);
}

std::string InterLinkConfig::InterlinkListenUrl() const {
  if (interlink_url.rfind("unix://", 0) == 0) return interlink_url;
  std::string url = interlink_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto scheme_end = url.find("://");
  auto host = url.substr(scheme_end + 3);
  if (host.find(':') != std::string::npos && host.back() != ']') return url;
  return url + ":" + interlink_port;
}

Result<std::string> ResolveConfigPath(const std::string& explicit_path, const EnvLookup& env) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!explicit_path.empty()) {
    if (!fs::exists(explicit_path, ec))
      return NotFound("config file " + explicit_path + " does not exist");
    return explicit_path;
  }
  if (auto v = env("INTERLINKCONFIGPATH"); v && !v->empty()) {
    if (!fs::exists(*v, ec)) {
      return NotFound("INTERLINKCONFIGPATH names " + *v + ", which does not exist");
    }
    return *v;
  }
  for (const char* p :
       {"/etc/interlink/InterLinkConfig.yaml", "./kustomizations/InterLinkConfig.yaml"}) {
    if (fs::exists(p, ec)) return std::string(p);
  }
  return std::string();
}

Result<InterLinkConfig> ParseConfig(const std::string& yaml, const std::string& origin,
                                    const EnvLookup& env) {
  InterLinkConfig c;
  c.source_file = origin;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": invalid YAML: " + e.what());
  }
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) return InvalidArgument(origin + ": top level must be a mapping of keys");
    try {
      for (const auto& kv : root) {
        IL_RETURN_IF_ERROR(ApplyKey(kv.first.as<std::string>(), kv.second, origin, &c));
      }
    } catch (const YAML::Exception& e) {
      return InvalidArgument(origin + ": " + e.what());
    }
  }
  IL_RETURN_IF_ERROR(ApplyEnv(env, &c));
  IL_RETURN_IF_ERROR(Validate(c, origin));
  return c;
}

Result<InterLinkConfig> LoadConfig(const std::string& path, const EnvLookup& env) {
  if (path.empty()) return ParseConfig("", "", env);
  std::string text;
  try {
    YAML::Node probe = YAML::LoadFile(path);  // surfaces I/O errors with the path
    (void)probe;
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  } catch (const YAML::BadFile&) {
    return NotFound("cannot read config file " + path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": invalid YAML: " + e.what());
  }
  return ParseConfig(text, path, env);
}

}  // namespace il
