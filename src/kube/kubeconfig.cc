#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kube/base64.h"

namespace il::kube {
namespace fs = std::filesystem;
namespace {

// Field access with errors that name the file and the field.
class Doc {
 public:
  explicit Doc(std::string source) : source_(std::move(source)) {}
  Status Error(const std::string& field, const std::string& what) const {
    return InvalidArgument(source_ + ": " + field + ": " + what);
  }
  Result<std::string> Str(const YAML::Node& map, const std::string& key,
                          const std::string& field) const {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return std::string();
    if (!n.IsScalar()) return Error(field + "." + key, "must be a string");
    return n.as<std::string>();
  }
  Result<bool> Bool(const YAML::Node& map, const std::string& key, const std::string& field) const {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return false;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      return Error(field + "." + key, "must be true or false");
    }
  }
  // The `inner` map of the entry named `name` in the list `list` (clusters, users, contexts).
  Result<YAML::Node> Named(const YAML::Node& root, const std::string& list,
                           const std::string& inner, const std::string& name) const {
    YAML::Node entries = root[list];
    if (entries && !entries.IsNull() && !entries.IsSequence()) return Error(list, "must be a list");
    if (entries) {
      for (const auto& e : entries) {
        if (!e.IsMap() || !e["name"] || !e["name"].IsScalar()) continue;
        if (e["name"].as<std::string>() != name) continue;
        YAML::Node n = e[inner];
        if (!n || n.IsNull()) return YAML::Node(YAML::NodeType::Map);
        if (!n.IsMap()) return Error(list + "[" + name + "]." + inner, "must be a map");
        return n;
      }
    }
    return Error(list, "no entry named \"" + name + "\"");
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

std::string ResolvePath(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute() || base_dir.empty()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fills *file (a checked path) or *pem (decoded data) from `key` / `key-data`.
Status FileOrData(const Doc& doc, const YAML::Node& map, const std::string& key,
                  const std::string& field, const std::string& base_dir, std::string* file,
                  std::string* pem) {
  IL_ASSIGN_OR_RETURN(std::string data, doc.Str(map, key + "-data", field));
  IL_ASSIGN_OR_RETURN(std::string path, doc.Str(map, key, field));
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) return doc.Error(field + "." + key + "-data", "invalid base64");
    *pem = std::move(decoded).value();
    return Status::Ok();
  }
  if (path.empty()) return Status::Ok();
  path = ResolvePath(base_dir, path);
  std::ifstream probe(path);
  if (!probe) return doc.Error(field + "." + key, "cannot read " + path);
  *file = path;
  return Status::Ok();
}

// "https://h" -> "https://h:443"; a bare "h:6443" means https. Keeps a path prefix.
Result<std::string> NormalizeServer(const std::string& server) {
  std::string url = server.find("://") == std::string::npos ? "https://" + server : server;
  IL_ASSIGN_OR_RETURN(http::Endpoint ep, http::ParseEndpoint(url));
  if (ep.scheme == http::Endpoint::Scheme::kUnix)
    return InvalidArgument("unix sockets unsupported");
  std::string rest = url.substr(url.find("://") + 3);
  std::string prefix;
  if (auto slash = rest.find('/'); slash != std::string::npos) prefix = rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
  std::string scheme = ep.scheme == http::Endpoint::Scheme::kHttps ? "https" : "http";
  return scheme + "://" + host + ":" + ep.port + prefix;
}

Status ApplyCluster(const Doc& doc, const YAML::Node& c, const std::string& field,
                    const std::string& base_dir, ClusterConfig* out) {
  IL_ASSIGN_OR_RETURN(std::string server, doc.Str(c, "server", field));
  if (server.empty()) return doc.Error(field + ".server", "missing");
  auto norm = NormalizeServer(server);
  if (!norm.ok()) return doc.Error(field + ".server", norm.status().message());
  out->server = *norm;
  IL_RETURN_IF_ERROR(FileOrData(doc, c, "certificate-authority", field, base_dir, &out->tls.ca_file,
                                &out->tls.ca_pem));
  IL_ASSIGN_OR_RETURN(out->tls.insecure_skip_verify,
                      doc.Bool(c, "insecure-skip-tls-verify", field));
  IL_ASSIGN_OR_RETURN(out->tls.server_name, doc.Str(c, "tls-server-name", field));
  if (c["proxy-url"]) return doc.Error(field + ".proxy-url", "proxies are not supported");
  return Status::Ok();
}

Status ApplyUser(const Doc& doc, const YAML::Node& u, const std::string& field,
                 const std::string& base_dir, ClusterConfig* out) {
  for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
    if (u[unsupported]) {
      return doc.Error(field + "." + unsupported,
                       "not supported (use a token, tokenFile or client certificate)");
    }
  }
  IL_RETURN_IF_ERROR(FileOrData(doc, u, "client-certificate", field, base_dir, &out->tls.cert_file,
                                &out->tls.cert_pem));
  IL_RETURN_IF_ERROR(
      FileOrData(doc, u, "client-key", field, base_dir, &out->tls.key_file, &out->tls.key_pem));
  bool has_cert = !out->tls.cert_file.empty() || !out->tls.cert_pem.empty();
  bool has_key = !out->tls.key_file.empty() || !out->tls.key_pem.empty();
  if (has_cert != has_key) {
    return doc.Error(field, "client-certificate and client-key must be given together");
  }
  IL_ASSIGN_OR_RETURN(out->token, doc.Str(u, "token", field));
  IL_ASSIGN_OR_RETURN(std::string token_file, doc.Str(u, "tokenFile", field));
  if (!token_file.empty()) {
    out->token_file = ResolvePath(base_dir, token_file);
    std::ifstream probe(out->token_file);
    if (!probe) return doc.Error(field + ".tokenFile", "cannot read " + out->token_file);
  }
  return Status::Ok();
}

bool FileExists(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

}  // namespace

Result<ClusterConfig> ParseKubeconfig(const std::string& yaml, const std::string& base_dir,
                                      const std::string& context, const std::string& source_name) {
  Doc doc(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source_name + ": invalid YAML: " + e.what());
  }
  if (!root.IsMap()) return InvalidArgument(source_name + ": not a kubeconfig (expected a map)");
  try {
    std::string ctx_name = context;
    if (ctx_name.empty()) {
      IL_ASSIGN_OR_RETURN(ctx_name, doc.Str(root, "current-context", ""));
      if (ctx_name.empty()) return doc.Error("current-context", "not set and no context was given");
    }
    IL_ASSIGN_OR_RETURN(YAML::Node ctx, doc.Named(root, "contexts", "context", ctx_name));
    std::string ctx_field = "contexts[" + ctx_name + "].context";
    IL_ASSIGN_OR_RETURN(std::string cluster_name, doc.Str(ctx, "cluster", ctx_field));
    IL_ASSIGN_OR_RETURN(std::string user_name, doc.Str(ctx, "user", ctx_field));
    if (cluster_name.empty()) return doc.Error(ctx_field + ".cluster", "missing");
    ClusterConfig out;
    IL_ASSIGN_OR_RETURN(out.default_namespace, doc.Str(ctx, "namespace", ctx_field));
    IL_ASSIGN_OR_RETURN(YAML::Node cluster, doc.Named(root, "clusters", "cluster", cluster_name));
    IL_RETURN_IF_ERROR(
        ApplyCluster(doc, cluster, "clusters[" + cluster_name + "].cluster", base_dir, &out));
    if (!user_name.empty()) {
      IL_ASSIGN_OR_RETURN(YAML::Node user, doc.Named(root, "users", "user", user_name));
      IL_RETURN_IF_ERROR(ApplyUser(doc, user, "users[" + user_name + "].user", base_dir, &out));
    }
    out.source = "kubeconfig " + source_name + " context=" + ctx_name;
    return out;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source_name + ": " + e.what());
  }
}

Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadFile(path);
  if (!text.ok()) return NotFound("kubeconfig " + path + " cannot be read");
  std::string base_dir = fs::absolute(fs::path(path)).parent_path().string();
  return ParseKubeconfig(*text, base_dir, context, path);
}

Result<ClusterConfig> InClusterConfig(const EnvLookup& env, const std::string& sa_dir) {
  std::string host = env("KUBERNETES_SERVICE_HOST").value_or("");
  std::string port = env("KUBERNETES_SERVICE_PORT").value_or("");
  if (host.empty() || port.empty()) {
    return NotFound("not in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset");
  }
  ClusterConfig out;
  out.token_file = sa_dir + "/token";
  if (!FileExists(out.token_file)) {
    return NotFound("not in a cluster: no service-account token at " + out.token_file);
  }
  std::ifstream probe(out.token_file);
  if (!probe) return InvalidArgument("in-cluster: cannot read " + out.token_file);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  auto server = NormalizeServer("https://" + host + ":" + port);
  if (!server.ok()) {
    return InvalidArgument("in-cluster: KUBERNETES_SERVICE_HOST/PORT: " +
                           server.status().message());
  }
  out.server = *server;
  if (FileExists(sa_dir + "/ca.crt")) out.tls.ca_file = sa_dir + "/ca.crt";
  if (auto ns = ReadFile(sa_dir + "/namespace"); ns.ok()) {
    out.default_namespace = *ns;
    while (!out.default_namespace.empty() &&
           std::isspace(static_cast<unsigned char>(out.default_namespace.back()))) {
      out.default_namespace.pop_back();
    }
  }
  out.source = "in-cluster";
  return out;
}

Result<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig_flag, const EnvLookup& env,
                                           const std::string& sa_dir) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag);
  if (auto custom = env("CUSTOMKUBECONF"); custom && !custom->empty()) {
    return LoadKubeconfig(*custom);
  }
  if (auto list = env("KUBECONFIG"); list && !list->empty()) {
    std::stringstream ss(*list);
    std::string entry;
    while (std::getline(ss, entry, ':')) {
      if (FileExists(entry)) return LoadKubeconfig(entry);
    }
    return NotFound("KUBECONFIG=" + *list + ": no such file");
  }
  auto in_cluster = InClusterConfig(env, sa_dir);
  if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kNotFound) return in_cluster;
  std::string home = env("HOME").value_or("");
  std::string def = home.empty() ? "" : home + "/.kube/config";
  if (FileExists(def)) return LoadKubeconfig(def);
  return NotFound(
      "no Kubernetes configuration: --kubeconfig, CUSTOMKUBECONF and KUBECONFIG are unset, " +
      in_cluster.status().message() + ", and " +
      (def.empty() ? "$HOME is unset" : def + " does not exist"));
}

}  // namespace il::kube
