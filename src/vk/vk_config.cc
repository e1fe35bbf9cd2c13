#include "vk/vk_config.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "api/quantity.h"
#include "api/types.h"
#include "core/numbers.h"

namespace il::vk {
namespace {

Status KeyError(const std::string& origin, const std::string& key, const std::string& what) {
  return InvalidArgument(origin + ": key '" + key + "': " + what);
}

Result<std::string> Str(const YAML::Node& n, const std::string& origin, const std::string& key) {
  if (!n || n.IsNull()) return std::string();
  if (!n.IsScalar()) return KeyError(origin, key, "must be a scalar value");
  return n.Scalar();
}

Result<bool> Bool(const YAML::Node& n, const std::string& origin, const std::string& key) {
  IL_ASSIGN_OR_RETURN(std::string v, Str(n, origin, key));
  if (v == "true" || v == "True" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "False" || v == "no" || v == "0" || v.empty()) return false;
  return KeyError(origin, key, "must be true or false, got '" + v + "'");
}

Result<long long> Int(const std::string& v, const std::string& origin, const std::string& key,
                      long long min, long long max) {
  try {
    size_t pos = 0;
    long long x = std::stoll(v, &pos);
    if (pos != v.size() || x < min || x > max) throw std::out_of_range("range");
    return x;
  } catch (const std::exception&) {
    return KeyError(origin, key,
                    "must be an integer between " + std::to_string(min) + " and " +
                        std::to_string(max) + ", got '" + v + "'");
  }
}

Result<double> Double(const std::string& v, const std::string& origin, const std::string& key) {
  try {
    size_t pos = 0;
    double x = std::stod(v, &pos);
    if (pos != v.size() || !(x > 0) || x > 1e6) throw std::out_of_range("range");
    return x;
  } catch (const std::exception&) {
    return KeyError(origin, key, "must be a positive number, got '" + v + "'");
  }
}

// Checks that a YAML map has only the given sub-keys.
Status OnlyKeys(const YAML::Node& n, const std::string& origin, const std::string& key,
                const std::set<std::string>& allowed) {
  if (!n.IsMap()) return KeyError(origin, key, "must be a mapping");
  for (const auto& kv : n) {
    auto k = kv.first.as<std::string>();
    if (!allowed.count(k))
      return KeyError(origin, std::string(key).append(".").append(k), "unknown key");
  }
  return Status::Ok();
}

Status CheckQuantity(const std::string& v, const std::string& origin, const std::string& key) {
  if (!v.empty() && !IsQuantity(v)) return KeyError(origin, key, "not a quantity: '" + v + "'");
  return Status::Ok();
}

Status ApplyResources(const YAML::Node& n, const std::string& origin, NodeResources* r) {
  IL_RETURN_IF_ERROR(OnlyKeys(n, origin, "Resources", {"CPU", "Memory", "Pods", "Accelerators"}));
  struct Field {
    const char* key;   // in the YAML
    const char* name;  // in the node's capacity
    std::string* dst;
  };
  for (auto [key, name, dst] : {Field{"CPU", "cpu", &r->cpu}, Field{"Memory", "memory", &r->memory},
                                Field{"Pods", "pods", &r->pods}}) {
    IL_ASSIGN_OR_RETURN(std::string v, Str(n[key], origin, std::string("Resources.") + key));
    IL_RETURN_IF_ERROR(CheckQuantity(v, origin, std::string("Resources.") + key));
    if (v.empty()) continue;
    *dst = v;
    r->configured.insert(name);
  }
  if (auto acc = n["Accelerators"]; acc && !acc.IsNull()) {
    if (!acc.IsSequence()) return KeyError(origin, "Resources.Accelerators", "must be a list");
    for (const auto& a : acc) {
      IL_RETURN_IF_ERROR(
          OnlyKeys(a, origin, "Resources.Accelerators[]", {"ResourceType", "Model", "Available"}));
      Accelerator x;
      IL_ASSIGN_OR_RETURN(x.resource_type, Str(a["ResourceType"], origin, "ResourceType"));
      IL_ASSIGN_OR_RETURN(x.model, Str(a["Model"], origin, "Model"));
      IL_ASSIGN_OR_RETURN(std::string avail, Str(a["Available"], origin, "Available"));
      if (!avail.empty()) x.available = avail;
      IL_RETURN_IF_ERROR(
          Int(x.available, origin, "Resources.Accelerators[].Available", 0, 1 << 30).status());
      if (x.resource_type.empty()) {
        return KeyError(origin, "Resources.Accelerators[].ResourceType", "must be set");
      }
      r->accelerators.push_back(std::move(x));
    }
  }
  return Status::Ok();
}

Status ApplyTaints(const YAML::Node& n, const std::string& origin, std::vector<Taint>* out) {
  if (n.IsNull()) return Status::Ok();
  if (!n.IsSequence()) return KeyError(origin, "NodeTaints", "must be a list");
  for (const auto& t : n) {
    IL_RETURN_IF_ERROR(OnlyKeys(t, origin, "NodeTaints[]", {"Key", "Value", "Effect"}));
    Taint x;
    IL_ASSIGN_OR_RETURN(x.key, Str(t["Key"], origin, "NodeTaints[].Key"));
    IL_ASSIGN_OR_RETURN(x.value, Str(t["Value"], origin, "NodeTaints[].Value"));
    IL_ASSIGN_OR_RETURN(std::string effect, Str(t["Effect"], origin, "NodeTaints[].Effect"));
    // Upstream maps an unknown effect to NoSchedule; so do we.
    x.effect = (effect == "PreferNoSchedule" || effect == "NoExecute") ? effect : "NoSchedule";
    if (x.key.empty()) return KeyError(origin, "NodeTaints[].Key", "must be set");
    out->push_back(std::move(x));
  }
  return Status::Ok();
}

Status ApplyLabels(const YAML::Node& n, const std::string& origin,
                   std::map<std::string, std::string>* out) {
  if (n.IsNull()) return Status::Ok();
  if (n.IsMap()) {  // also accept a plain map
    for (const auto& kv : n) (*out)[kv.first.as<std::string>()] = kv.second.as<std::string>("");
    return Status::Ok();
  }
  if (!n.IsSequence()) return KeyError(origin, "NodeLabels", "must be a list of \"key=value\"");
  for (const auto& l : n) {
    IL_ASSIGN_OR_RETURN(std::string s, Str(l, origin, "NodeLabels[]"));
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return KeyError(origin, "NodeLabels", "entry '" + s + "' is not key=value");
    }
    (*out)[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return Status::Ok();
}

// A duration key (Go syntax, "2m", "30s"); absent leaves `dst` as it is.
Status Duration(const YAML::Node& n, const std::string& origin, const std::string& key,
                std::chrono::milliseconds* dst) {
  IL_ASSIGN_OR_RETURN(std::string v, Str(n, origin, key));
  if (v.empty()) return Status::Ok();
  auto d = ParseGoDuration(v);
  if (!d.ok()) return KeyError(origin, key, d.status().message());
  *dst = *d;
  return Status::Ok();
}

// KubeletHTTP.Authentication / Authorization: the kubelet config file's
// authentication.{anonymous,webhook} and authorization.{mode,webhook}.
Status ApplyKubeletAuth(const YAML::Node& http, const std::string& origin, KubeletAuthOptions* a) {
  const std::string authn = "KubeletHTTP.Authentication", authz = "KubeletHTTP.Authorization";
  if (auto n = http["Authentication"]; n && !n.IsNull()) {
    IL_RETURN_IF_ERROR(OnlyKeys(n, origin, authn, {"Anonymous", "Webhook"}));
    if (auto an = n["Anonymous"]; an && !an.IsNull()) {
      IL_RETURN_IF_ERROR(OnlyKeys(an, origin, authn + ".Anonymous", {"Enabled"}));
      IL_ASSIGN_OR_RETURN(a->anonymous, Bool(an["Enabled"], origin, authn + ".Anonymous.Enabled"));
    }
    if (auto wh = n["Webhook"]; wh && !wh.IsNull()) {
      IL_RETURN_IF_ERROR(OnlyKeys(wh, origin, authn + ".Webhook", {"Enabled", "CacheTTL"}));
      if (wh["Enabled"]) {
        IL_ASSIGN_OR_RETURN(a->webhook, Bool(wh["Enabled"], origin, authn + ".Webhook.Enabled"));
      }
      IL_RETURN_IF_ERROR(
          Duration(wh["CacheTTL"], origin, authn + ".Webhook.CacheTTL", &a->token_cache_ttl));
    }
  }
  if (auto n = http["Authorization"]; n && !n.IsNull()) {
    IL_RETURN_IF_ERROR(OnlyKeys(n, origin, authz, {"Mode", "Webhook"}));
    IL_ASSIGN_OR_RETURN(std::string mode, Str(n["Mode"], origin, authz + ".Mode"));
    if (mode == "AlwaysAllow") {
      a->mode = KubeletAuthOptions::Mode::kAlwaysAllow;
    } else if (mode == "Webhook" || mode.empty()) {
      a->mode = KubeletAuthOptions::Mode::kWebhook;
    } else {
      return KeyError(origin, authz + ".Mode",
                      "must be Webhook or AlwaysAllow, got '" + mode + "'");
    }
    if (auto wh = n["Webhook"]; wh && !wh.IsNull()) {
      IL_RETURN_IF_ERROR(
          OnlyKeys(wh, origin, authz + ".Webhook", {"CacheAuthorizedTTL", "CacheUnauthorizedTTL"}));
      IL_RETURN_IF_ERROR(Duration(wh["CacheAuthorizedTTL"], origin,
                                  authz + ".Webhook.CacheAuthorizedTTL", &a->authorized_ttl));
      IL_RETURN_IF_ERROR(Duration(wh["CacheUnauthorizedTTL"], origin,
                                  authz + ".Webhook.CacheUnauthorizedTTL", &a->unauthorized_ttl));
    }
  }
  return Status::Ok();
}

// OAuth2 {TokenURL, ClientID, ClientSecretFile, Scope, Audience, RefreshBeforeSeconds,
// CAFile}: the token refresher (token_refresher.h).
Status ApplyOAuth2(const YAML::Node& n, const std::string& origin, OAuth2ClientConfig* o) {
  if (n.IsNull()) return Status::Ok();
  IL_RETURN_IF_ERROR(OnlyKeys(n, origin, "OAuth2",
                              {"TokenURL", "ClientID", "ClientSecretFile", "Scope", "Audience",
                               "RefreshBeforeSeconds", "CAFile"}));
  for (auto [key, dst] : {std::pair{"TokenURL", &o->token_url},
                          {"ClientID", &o->client_id},
                          {"ClientSecretFile", &o->client_secret_file},
                          {"Scope", &o->scope},
                          {"Audience", &o->audience},
                          {"CAFile", &o->ca_file}}) {
    IL_ASSIGN_OR_RETURN(*dst, Str(n[key], origin, std::string("OAuth2.") + key));
  }
  IL_ASSIGN_OR_RETURN(std::string before,
                      Str(n["RefreshBeforeSeconds"], origin, "OAuth2.RefreshBeforeSeconds"));
  if (!before.empty()) {
    IL_ASSIGN_OR_RETURN(long long x, Int(before, origin, "OAuth2.RefreshBeforeSeconds", 0, 86400));
    o->refresh_before_seconds = static_cast<int>(x);
  }
  if (!o->enabled()) {
    if (!o->client_id.empty() || !o->client_secret_file.empty()) {
      return KeyError(origin, "OAuth2.TokenURL", "must be set when OAuth2 is configured");
    }
    return Status::Ok();
  }
  if (o->token_url.rfind("https://", 0) != 0 && o->token_url.rfind("http://", 0) != 0) {
    return KeyError(origin, "OAuth2.TokenURL", "must start with https://");
  }
  if (o->client_id.empty()) return KeyError(origin, "OAuth2.ClientID", "must be set");
  if (o->client_secret_file.empty()) {
    return KeyError(origin, "OAuth2.ClientSecretFile", "must be set");
  }
  return Status::Ok();
}

using config::Key;
using config::KeyInfo;
using config::Where;
using Setter = config::Setter<VkConfig>;

// A block key whose parser takes (node, origin, destination).
template <class F>
Setter Block(F apply) {
  return
      [apply](const YAML::Node& n, const Where& w, VkConfig* c) { return apply(n, w.origin, c); };
}

Setter KubeletHttp() {
  return [](const YAML::Node& n, const Where& w, VkConfig* c) -> Status {
    const std::string& origin = w.origin;
    IL_RETURN_IF_ERROR(
        OnlyKeys(n, origin, w.key,
                 {"Insecure", "insecure", "ClientCAFile", "Authentication", "Authorization",
                  "StreamingConnectionIdleTimeout", "StreamCreationTimeout"}));
    IL_ASSIGN_OR_RETURN(c->kubelet_client_ca_file,
                        Str(n["ClientCAFile"], origin, "KubeletHTTP.ClientCAFile"));
    IL_RETURN_IF_ERROR(Duration(n["StreamingConnectionIdleTimeout"], origin,
                                "KubeletHTTP.StreamingConnectionIdleTimeout",
                                &c->streaming_idle_timeout));
    IL_RETURN_IF_ERROR(Duration(n["StreamCreationTimeout"], origin,
                                "KubeletHTTP.StreamCreationTimeout", &c->stream_creation_timeout));
    return ApplyKubeletAuth(n, origin, &c->kubelet_auth);
  };
}

std::vector<Key<VkConfig>> MakeKeys() {
  using C = VkConfig;
  using config::SetBool;
  using config::SetInt;
  using config::SetString;
  const auto& k = config::MakeKey<C>;
  auto ignored = [](std::string name, std::string type) {
    return config::MakeKey<C>(std::move(name), {}, {}, std::move(type), "",
                              "upstream key, accepted, no effect", config::Ignore<C>());
  };
  auto log_flag = [](const char* level) -> Setter {
    return [level](const YAML::Node& n, const Where& w, C* c) -> Status {
      IL_ASSIGN_OR_RETURN(bool b, config::BoolOf(n, w));
      if (b && (std::string(level) == "debug" || c->log_level != "debug")) c->log_level = level;
      return Status::Ok();
    };
  };
  return {
      // --- interLink connection (shared with interlink's own declarations) ---
      k("InterlinkURL", {"InterlinkAddress"}, {"INTERLINKURL"}, "string", "http://127.0.0.1",
        "interLink's URL (http, https, unix)", SetString(&C::interlink_url, true)),
      k("InterlinkPort", {}, {"INTERLINKPORT"}, "port", "3000",
        "port appended to an http(s) InterlinkURL without one",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_ASSIGN_OR_RETURN(std::string v, Str(n, w.origin, w.key));
          if (v.empty()) return Status::Ok();
          IL_RETURN_IF_ERROR(Int(v, w.origin, w.key, 0, 65535).status());
          c->interlink_port = v;
          return Status::Ok();
        }),
      k("VKTokenFile", {}, {"VKTOKENFILE"}, "string", "",
        "bearer token file sent to interLink (re-read on every call)",
        SetString(&C::vk_token_file)),
      k("TLS", {}, {}, "block", "off", "mTLS client certificate towards interLink",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_RETURN_IF_ERROR(
              OnlyKeys(n, w.origin, w.key, {"Enabled", "CertFile", "KeyFile", "CACertFile"}));
          IL_ASSIGN_OR_RETURN(c->tls.enabled, Bool(n["Enabled"], w.origin, "TLS.Enabled"));
          IL_ASSIGN_OR_RETURN(c->tls.cert_file, Str(n["CertFile"], w.origin, "TLS.CertFile"));
          IL_ASSIGN_OR_RETURN(c->tls.key_file, Str(n["KeyFile"], w.origin, "TLS.KeyFile"));
          IL_ASSIGN_OR_RETURN(c->tls.ca_cert_file,
                              Str(n["CACertFile"], w.origin, "TLS.CACertFile"));
          if (c->tls.enabled && (c->tls.cert_file.empty() || c->tls.key_file.empty())) {
            return KeyError(w.origin, "TLS.CertFile", "Enabled needs CertFile and KeyFile");
          }
          return Status::Ok();
        },
        {"Enabled", "CertFile", "KeyFile", "CACertFile"}),
      k("VerboseLogging", {}, {}, "bool", "false", "debug log level", log_flag("debug")),
      k("ErrorsOnlyLogging", {}, {}, "bool", "false", "error log level", log_flag("error")),
      k("LogLevel", {}, {"INTERLINK_LOG_LEVEL"}, "string", "info", "log level",
        SetString(&C::log_level, true)),
      k("HTTP", {}, {}, "block", "", "how the vk dials interLink over https",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_RETURN_IF_ERROR(OnlyKeys(n, w.origin, w.key, {"Insecure", "CaCert"}));
          IL_ASSIGN_OR_RETURN(c->http_insecure, Bool(n["Insecure"], w.origin, "HTTP.Insecure"));
          IL_ASSIGN_OR_RETURN(c->http_ca_cert, Str(n["CaCert"], w.origin, "HTTP.CaCert"));
          return Status::Ok();
        },
        {"Insecure", "CaCert"}),
      k("AllowPlainHTTP", {}, {}, "bool", "false",
        "send the token and Secrets over http:// to a non-loopback interLink",
        SetBool(&C::allow_plain_http)),
      k("JobScriptBuilderURL", {}, {}, "string", "", "PodCreateRequests.jobscriptURL",
        SetString(&C::job_script_builder_url)),
      k("OAuth2", {}, {}, "block", "", "keeps VKTokenFile fresh (client credentials)",
        Block([](const YAML::Node& n, const std::string& o, C* c) {
          return ApplyOAuth2(n, o, &c->oauth2);
        }),
        {"TokenURL", "ClientID", "ClientSecretFile", "Scope", "Audience", "RefreshBeforeSeconds",
         "CAFile"}),
      // --- node ---
      k("NodeName", {}, {"NODENAME"}, "string", "virtual-kubelet", "the node's name",
        SetString(&C::node_name)),
      k("VKConfigPath", {}, {"VK_CONFIG_PATH"}, "string", "", "knoc-cfg.json (node capacity)",
        SetString(&C::provider_config)),
      k("Resources", {}, {}, "block", "cpu 20, memory 100Gi, pods 20",
        "node capacity (an upper bound on what the plugin reports)",
        Block([](const YAML::Node& n, const std::string& o, C* c) {
          return ApplyResources(n, o, &c->resources);
        }),
        {"CPU", "Memory", "Pods", "Accelerators"}),
      k("NodeLabels", {}, {}, "list", "[]", "node labels, \"key=value\"",
        Block([](const YAML::Node& n, const std::string& o, C* c) {
          return ApplyLabels(n, o, &c->labels);
        })),
      k("NodeTaints", {}, {}, "list", "[]", "node taints {Key, Value, Effect}",
        Block([](const YAML::Node& n, const std::string& o, C* c) {
          return ApplyTaints(n, o, &c->taints);
        })),
      k("PodCIDR", {}, {}, "block", "", "the node's pod CIDR (Subnet)",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_RETURN_IF_ERROR(OnlyKeys(n, w.origin, w.key, {"Subnet", "MaxIP", "MinIP"}));
          IL_ASSIGN_OR_RETURN(c->pod_cidr, Str(n["Subnet"], w.origin, "PodCIDR.Subnet"));
          return Status::Ok();
        },
        {"Subnet", "MaxIP", "MinIP"}),
      k("PodIP", {}, {"POD_IP", "VKUBELET_POD_IP"}, "string", "127.0.0.1", "the node's InternalIP",
        SetString(&C::internal_ip)),
      k("LeaseDurationSeconds", {}, {}, "int", "40", "node lease duration",
        SetInt(&C::lease_duration_seconds, 4, 3600)),
      k("PingIntervalSeconds", {}, {}, "int", "10", "how often interLink is pinged",
        SetInt(&C::ping_interval_seconds, 1, 3600)),
      // --- kubelet API ---
      k("KubeletAddress", {}, {"KUBELET_URL"}, "string", "0.0.0.0", "kubelet API address",
        SetString(&C::kubelet_address)),
      k("KubeletPort", {}, {"KUBELET_PORT"}, "port", "10250", "kubelet API port",
        SetInt(&C::kubelet_port, 1, 65535)),
      k("KubeletCertFile", {}, {"APISERVER_CERT_LOCATION"}, "string", "",
        "kubelet API certificate (empty: CSR, else self-signed)", SetString(&C::kubelet_cert_file)),
      k("KubeletKeyFile", {}, {"APISERVER_KEY_LOCATION"}, "string", "", "its key",
        SetString(&C::kubelet_key_file)),
      k("KubeletHTTP", {}, {}, "block", "", "kubelet API authentication and authorization",
        KubeletHttp(),
        {"Insecure", "insecure", "ClientCAFile", "Authentication", "Authorization",
         "StreamingConnectionIdleTimeout", "StreamCreationTimeout"}),
      // Declared on its own for its variable; the file sets it inside KubeletHTTP.
      k("KubeletHTTP.ClientCAFile", {}, {"APISERVER_CA_CERT_LOCATION"}, "string", "",
        "client CA of the kubelet API (default: the cluster CA)",
        SetString(&C::kubelet_client_ca_file)),
      // --- pods ---
      k("StatusSyncIntervalMs", {}, {}, "int", "500", "pod status poll interval",
        SetInt(&C::status_sync_interval_ms, 10, 600000)),
      k("StatusSafetyIntervalMs", {}, {}, "int", "15000",
        "full status poll while the status watch works (0: no watch)",
        SetInt(&C::status_safety_interval_ms, 0, 3600000)),
      k("StatusWatchMinIntervalMs", {}, {}, "int", "25",
        "a status watch starts no sooner than this after the previous one (pacing under a burst; "
        "0: none)",
        SetInt(&C::status_watch_min_interval_ms, 0, 10000)),
      k("DisableProjectedVolumes", {}, {}, "bool", "false", "do not resolve projected volumes",
        SetBool(&C::disable_projected_volumes)),
      k("KubernetesApiAddr", {}, {}, "string", "", "KUBERNETES_SERVICE_HOST for containers",
        SetString(&C::kubernetes_api_addr)),
      k("KubernetesApiPort", {}, {}, "string", "", "KUBERNETES_SERVICE_PORT for containers",
        SetString(&C::kubernetes_api_port)),
      k("KubernetesApiCaCrt", {}, {}, "string", "", "replaces kube-root-ca.crt",
        SetString(&C::kubernetes_api_ca_crt)),
      k("StateFile", {}, {}, "string", "", "UIDs sent to the backend (restart recovery)",
        SetString(&C::state_file)),
      // --- Kubernetes client ---
      k("Kubeconfig", {}, {}, "string", "", "kubeconfig (else CUSTOMKUBECONF, KUBECONFIG)",
        SetString(&C::kubeconfig)),
      k("ClientQPS", {}, {}, "number", "50", "API client rate",
        [](const YAML::Node& n, const Where& w, C* c) -> Status {
          IL_ASSIGN_OR_RETURN(std::string v, Str(n, w.origin, w.key));
          if (!v.empty()) {
            IL_ASSIGN_OR_RETURN(c->client_qps, Double(v, w.origin, w.key));
          }
          return Status::Ok();
        }),
      k("ClientBurst", {}, {}, "int", "100", "API client burst",
        SetInt(&C::client_burst, 1, 100000)),
      ignored("ServiceAccount", "string"),
      ignored("Namespace", "string"),
      ignored("KubeletCSRSignerName", "string"),
      ignored("DisableCSR", "bool"),
      ignored("Network", "block"),
      ignored("SkipDownwardAPIResolution", "bool"),
  };
}

std::string ReadFile(const std::string& path, Status* st) {
  std::ifstream in(path);
  if (!in) {
    *st = NotFound("cannot read " + path);
    return {};
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

const std::vector<config::Key<VkConfig>>& VkKeys() {
  static const std::vector<config::Key<VkConfig>> k = MakeKeys();
  return k;
}

Status ApplyVkYaml(const std::string& yaml, const std::string& origin, VkConfig* c) {
  IL_ASSIGN_OR_RETURN(YAML::Node root, config::ParseDocument(yaml, origin));
  if (!root) return Status::Ok();
  try {
    for (const auto& kv : root) {
      auto k = kv.first.as<std::string>();
      for (const auto& key : VkKeys()) {
        if (config::IsSubKey(key.info)) continue;  // set inside its block
        const auto& a = key.info.aliases;
        if (key.info.name == k || std::find(a.begin(), a.end(), k) != a.end()) {
          IL_RETURN_IF_ERROR(key.set(kv.second, Where{origin, k}, c));
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": " + e.what());
  }
  return Status::Ok();
}

Status ApplyKnocConfig(const std::string& text, const std::string& origin, const std::string& node,
                       NodeResources* r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument(origin + ": not a JSON object");
  const auto* entry = v.as_object().if_contains(node);
  if (!entry) return Status::Ok();  // the seed falls back to defaults
  if (!entry->is_object()) return InvalidArgument(origin + ": entry '" + node + "' not an object");
  for (auto [key, dst] : {std::pair{"cpu", &r->cpu}, {"memory", &r->memory}, {"pods", &r->pods}}) {
    const auto* f = entry->as_object().if_contains(key);
    if (!f) continue;
    std::string s = f->is_string() ? std::string(f->as_string()) : boost::json::serialize(*f);
    if (!IsQuantity(s)) {
      std::string msg = origin;
      msg.append(": ").append(node).append(".").append(key).append(": not a quantity: '");
      return InvalidArgument(msg.append(s).append("'"));
    }
    *dst = s;
    r->configured.insert(key);
  }
  return Status::Ok();
}

Result<VkConfig> LoadVkConfig(const VkFlags& flags, const EnvLookup& env,
                              const std::vector<config::KeyInfo>& foreign) {
  VkConfig c;
  // 1. The shared file, read once: the vk's keys; other components' keys are ignored, any
  //    other key is an error. 2. The environment.
  std::string explicit_path = flags.config;
  if (explicit_path.empty() && !env("INTERLINKCONFIGPATH")) {
    if (auto p = env("CONFIGPATH"); p && !p->empty()) explicit_path = *p;
  }
  IL_ASSIGN_OR_RETURN(std::string path, ResolveConfigPath(explicit_path, env));
  config::Sources src;
  if (!path.empty()) {
    IL_ASSIGN_OR_RETURN(src.file, config::ReadDocument(path));
  }
  src.origin = path;
  src.env = env;
  src.empty_env_is_unset = true;
  // 3. The flags that set a key go through the same setters, last.
  for (const auto& [key, value] : {std::pair<const char*, std::string>{"NodeName", flags.node_name},
                                   {"VKConfigPath", flags.provider_config},
                                   {"Kubeconfig", flags.kubeconfig},
                                   {"LogLevel", !flags.log_level.empty() ? flags.log_level
                                                : flags.klog_v >= 4      ? "debug"
                                                                         : ""}}) {
    if (!value.empty()) src.flags.emplace_back(key, value);
  }
  IL_RETURN_IF_ERROR(config::LoadSettings(VkKeys(), foreign, src, &c));
  c.config_file = path;
  for (const auto& [key, url] :
       {std::pair<std::string, std::string>{"InterlinkURL", c.interlink_url}}) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
        url.rfind("unix://", 0) != 0) {
      return KeyError(path.empty() ? "environment" : path, key,
                      "must start with http://, https:// or unix://, got '" + url + "'");
    }
  }
  // The flags that set no key.
  if (!flags.provider.empty()) c.provider = flags.provider;
  if (flags.pod_sync_workers > 0) c.pod_sync_workers = flags.pod_sync_workers;
  if (flags.disable_taint) c.disable_provider_taint = true;
  if (!flags.startup_timeout.empty()) {
    IL_ASSIGN_OR_RETURN(auto d, ParseGoDuration(flags.startup_timeout));
    c.startup_timeout = std::chrono::duration_cast<std::chrono::seconds>(d);
  }
  // 4. knoc-cfg.json.
  if (!c.provider_config.empty()) {
    Status st;
    std::string text = ReadFile(c.provider_config, &st);
    IL_RETURN_IF_ERROR(st.WithContext("--provider-config"));
    IL_RETURN_IF_ERROR(ApplyKnocConfig(text, c.provider_config, c.node_name, &c.resources));
  }
  // Validation.
  if (c.provider != "knoc" && c.provider != "interlink") {
    return InvalidArgument("--provider must be knoc or interlink, got '" + c.provider + "'");
  }
  if (!api::IsDnsSubdomain(c.node_name)) {
    return InvalidArgument("node name '" + c.node_name + "' is not a valid DNS subdomain");
  }
  if (c.oauth2.enabled() && c.vk_token_file.empty()) {
    return InvalidArgument("OAuth2 needs VKTokenFile: the file the refreshed token is written to");
  }
  if (c.kubelet_cert_file.empty() != c.kubelet_key_file.empty()) {
    return InvalidArgument("kubelet certificate and key must be given together");
  }
  return c;
}

Result<std::chrono::milliseconds> ParseGoDuration(std::string_view s) {
  static const std::regex kPart(R"(([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h))");
  std::string str(s);
  if (str.empty()) return InvalidArgument("empty duration");
  if (std::regex_match(str, std::regex(R"([0-9]+)"))) {
    auto secs = ParseInt64(str);
    if (!secs || *secs > 1'000'000'000)
      return InvalidArgument("duration '" + str + "' is too large");
    return std::chrono::milliseconds(*secs * 1000);
  }
  double ms = 0;
  auto it = std::sregex_iterator(str.begin(), str.end(), kPart);
  size_t consumed = 0;
  for (; it != std::sregex_iterator(); ++it) {
    if (static_cast<size_t>(it->position()) != consumed) break;
    consumed += it->length();
    double x = std::strtod((*it)[1].str().c_str(), nullptr);  // never throws; huge -> inf
    std::string u = (*it)[2];
    if (u == "h")
      x *= 3600e3;
    else if (u == "m")
      x *= 60e3;
    else if (u == "s")
      x *= 1e3;
    else if (u == "us" || u == "µs")
      x /= 1e3;
    else if (u == "ns")
      x /= 1e6;
    ms += x;
  }
  if (consumed != str.size()) return InvalidArgument("invalid duration '" + str + "'");
  if (!(ms <= 1e12)) return InvalidArgument("duration '" + str + "' is too large");
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

bool IsQuantity(std::string_view s) { return api::ParseQuantity(s).ok(); }

}  // namespace il::vk
