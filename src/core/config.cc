#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace il {
namespace {

using config::Key;
using config::KeyInfo;
using config::Where;

Status KeyError(const std::string& origin, const std::string& key, const std::string& what) {
  return InvalidArgument(origin + ": key '" + key + "': " + what);
}

Result<std::string> Scalar(const YAML::Node& n, const std::string& origin, const std::string& key) {
  return config::ScalarOf(n, Where{origin, key});
}

Result<bool> ParseBool(const std::string& v, const std::string& origin, const std::string& key) {
  return config::BoolOf(YAML::Node(v), Where{origin, key});
}

Result<long long> ParseInt(const std::string& v, const std::string& origin, const std::string& key,
                           long long min, long long max) {
  return config::IntOf(YAML::Node(v), Where{origin, key}, min, max);
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
      const std::string best = config::Closest(k, kKeys);
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

// Setter helpers for InterLinkConfig keys.
using Setter = config::Setter<InterLinkConfig>;

Setter Port(std::string InterLinkConfig::*m, bool keep_default_when_empty) {
  return [m, keep_default_when_empty](const YAML::Node& n, const Where& w,
                                      InterLinkConfig* c) -> Status {
    IL_ASSIGN_OR_RETURN(std::string v, config::ScalarOf(n, w));
    IL_RETURN_IF_ERROR(ValidatePort(v, w.origin, w.key));
    if (!v.empty() || !keep_default_when_empty) c->*m = v;
    return Status::Ok();
  };
}

Setter Limit(size_t ListenerLimits::*m) {
  return [m](const YAML::Node& n, const Where& w, InterLinkConfig* c) -> Status {
    IL_ASSIGN_OR_RETURN(auto x, config::IntOf(n, w, 1, 1000000));
    c->limits.*m = static_cast<size_t>(x);
    return Status::Ok();
  };
}

Setter LogFormat() {
  return [](const YAML::Node& n, const Where& w, InterLinkConfig* c) -> Status {
    IL_ASSIGN_OR_RETURN(std::string v, config::ScalarOf(n, w));
    if (v != "text" && v != "json") return w.Error("must be 'text' or 'json'");
    c->log_format = v;
    return Status::Ok();
  };
}

Setter TlsBlock(TlsConfig InterLinkConfig::*m) {
  return [m](const YAML::Node& n, const Where& w, InterLinkConfig* c) {
    return ApplyTls(n, w.origin, &(c->*m), w.key);
  };
}

const std::vector<std::string> kTlsKeys = {"Enabled", "CertFile", "KeyFile", "CACertFile"};

std::vector<Key<InterLinkConfig>> MakeKeys() {
  using C = InterLinkConfig;
  using config::SetBool;
  using config::SetInt;
  using config::SetString;
  const auto& k = config::MakeKey<C>;
  return {
      k("InterlinkURL", {"InterlinkAddress"}, {"INTERLINKURL"}, "string", "http://127.0.0.1",
        "where interlink listens (http://host, https://host, unix:///path)",
        SetString(&C::interlink_url, true)),
      k("InterlinkPort", {}, {"INTERLINKPORT"}, "port", "3000",
        "port appended to an http(s) InterlinkURL without one", Port(&C::interlink_port, true)),
      k("SidecarURL", {}, {"SIDECARURL"}, "string", "http://localhost",
        "the sidecar: http://host, https://host or unix:///path", SetString(&C::sidecar_url, true)),
      k("SidecarPort", {"sidecarport"}, {"SIDECARPORT"}, "port", "",
        "sidecar port (default by SidecarService: docker 4000, slurm 4001, mock 4002)",
        Port(&C::sidecar_port, false)),
      k("SidecarService", {}, {"SIDECARSERVICE"}, "string", "", "docker, slurm or mock",
        SetString(&C::sidecar_service)),
      k("VKTokenFile", {}, {"VKTOKENFILE"}, "string", "",
        "bearer token file the vk sends and interlink requires", SetString(&C::vk_token_file)),
      k("SidecarTokenFile", {}, {"SIDECARTOKENFILE"}, "string", "",
        "bearer token interlink sends to the sidecar and the sidecar requires",
        SetString(&C::sidecar_token_file)),
      k("TLS", {}, {}, "block", "off", "interlink serves HTTPS (mTLS with CACertFile)",
        TlsBlock(&C::tls), kTlsKeys),
      k("SidecarTLS", {}, {}, "block", "off", "the sidecar serves HTTPS (mTLS with CACertFile)",
        TlsBlock(&C::sidecar_tls), kTlsKeys),
      k("SidecarClientTLS", {}, {}, "block", "", "how interlink dials an https:// sidecar",
        [](const YAML::Node& n, const Where& w, C* c) {
          return ApplyClientTls(n, w.origin, &c->sidecar_client_tls);
        },
        {"CACertFile", "CertFile", "KeyFile", "InsecureSkipVerify", "ServerName"}),
      k("AllowUnauthenticatedListen", {}, {}, "bool", "false",
        "listen on a non-loopback address without any credential",
        SetBool(&C::allow_unauthenticated_listen)),
      k("MaxConnections", {}, {}, "int", "2048", "open connections per listener",
        Limit(&ListenerLimits::max_connections)),
      k("MaxConnectionsPerPeer", {}, {}, "int", "1024",
        "open connections per listener and client address",
        Limit(&ListenerLimits::max_connections_per_peer)),
      k("MaxStreams", {}, {}, "int", "1024", "concurrent follow-mode log streams",
        Limit(&ListenerLimits::max_streams)),
      k("MaxStreamsPerPeer", {}, {}, "int", "512",
        "concurrent follow-mode log streams per client address",
        Limit(&ListenerLimits::max_streams_per_peer)),
      k("OIDC", {}, {}, "block", "off", "bearer JWTs from an identity provider (docs/oidc.md)",
        [](const YAML::Node& n, const Where& w, C* c) { return ApplyOidc(n, w.origin, &c->oidc); },
        {"Issuer", "Audience", "JWKSFile", "JWKSURL", "JWKSCAFile", "AllowedSubjects",
         "AllowedGroups", "AllowedEmails", "SubjectClaim", "GroupsClaim", "EmailClaim",
         "ClockSkewSeconds"}),
      k("TrustedProxies", {}, {}, "list", "[]",
        "reverse proxies whose X-Forwarded-* identity headers are believed",
        config::SetList(&C::trusted_proxies)),
      k("ExportPodData", {}, {}, "bool", "true",
        "sidecars materialise ConfigMaps/Secrets/projected volumes", SetBool(&C::export_pod_data)),
      k("DataRootFolder", {}, {}, "string", "/var/lib/interlink",
        "where sidecars keep per-pod files and state (private, 0700)",
        SetString(&C::data_root_folder, true)),
      k("MaxRequestBytes", {}, {}, "int", "134217728", "request body limit",
        SetInt(&C::max_request_bytes, 1024, 1LL << 34)),
      k("SidecarTimeoutSeconds", {}, {}, "int", "120", "interlink's deadline for a sidecar reply",
        SetInt(&C::sidecar_timeout_seconds, 1, 86400)),
      k("WorkerThreads", {}, {}, "int", "32", "request handler threads per daemon",
        SetInt(&C::worker_threads, 1, 4096)),
      k("JobScriptTemplate", {}, {}, "string", "", "upstream key, accepted and ignored",
        SetString(&C::job_script_template)),
      k("JobScriptBuildConfig", {}, {}, "block", "", "upstream key, accepted and ignored",
        config::Ignore<C>()),
      k("Pprof", {}, {}, "block", "", "upstream key, accepted and ignored", config::Ignore<C>()),
      k("VerboseLogging", {}, {}, "bool", "false", "debug log level (upstream key)",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_ASSIGN_OR_RETURN(bool b, config::BoolOf(n, w));
          if (b) c->log_level = "debug";
          return Status::Ok();
        }),
      k("ErrorsOnlyLogging", {}, {}, "bool", "false", "error log level (upstream key)",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_ASSIGN_OR_RETURN(bool b, config::BoolOf(n, w));
          if (b && c->log_level != "debug") c->log_level = "error";
          return Status::Ok();
        }),
      k("LogLevel", {}, {"INTERLINK_LOG_LEVEL"}, "string", "info",
        "trace, debug, info, warn, error, critical, off", SetString(&C::log_level, true)),
      k("LogFormat", {}, {"INTERLINK_LOG_FORMAT"}, "string", "text", "text or json", LogFormat()),
  };
}

// The keys of one sidecar, kept as text in sidecar_settings for its typed view.
Key<InterLinkConfig> SidecarSetting(const KeyInfo& info) {
  return {info, [name = info.name](const YAML::Node& n, const Where& w, InterLinkConfig* c) {
            std::string text = config::TextOf(n);
            // VAR= leaves the file's value (SHARED_FS= is not "false").
            if (text.empty() && w.origin == "environment") return Status::Ok();
            c->sidecar_settings[name] = std::move(text);
            return Status::Ok();
          }};
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
  IL_RETURN_IF_ERROR(ValidateOidc(c, origin));
  return Status::Ok();
}

}  // namespace

const std::vector<config::Key<InterLinkConfig>>& InterlinkKeys() {
  static const std::vector<config::Key<InterLinkConfig>> k = MakeKeys();
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

Result<InterLinkConfig> LoadConfigFrom(const YAML::Node& doc, const std::string& origin,
                                       const EnvLookup& env, const OtherKeys& other) {
  InterLinkConfig c;
  c.source_file = origin;
  std::vector<Key<InterLinkConfig>> own = InterlinkKeys();
  for (const auto& info : other.sidecar) own.push_back(SidecarSetting(info));
  config::Sources src;
  src.file = doc;
  src.origin = origin;
  src.env = env;
  IL_RETURN_IF_ERROR(config::LoadSettings(own, other.foreign, src, &c));
  IL_RETURN_IF_ERROR(Validate(c, origin));
  return c;
}

Result<InterLinkConfig> ParseConfig(const std::string& yaml, const std::string& origin,
                                    const EnvLookup& env, const OtherKeys& other) {
  IL_ASSIGN_OR_RETURN(YAML::Node doc, config::ParseDocument(yaml, origin));
  return LoadConfigFrom(doc, origin, env, other);
}

Result<InterLinkConfig> LoadConfig(const std::string& path, const EnvLookup& env,
                                   const OtherKeys& other) {
  if (path.empty()) return ParseConfig("", "", env, other);
  IL_ASSIGN_OR_RETURN(YAML::Node doc, config::ReadDocument(path));
  return LoadConfigFrom(doc, path, env, other);
}

}  // namespace il
