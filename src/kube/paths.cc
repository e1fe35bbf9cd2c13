#include "kube/paths.h"

#include "core/http.h"

namespace il::kube {
namespace {

std::string Core(std::string_view ns, std::string_view resource) {
  if (ns.empty()) return "/api/v1/" + std::string(resource);
  return NamespacePath(ns) + "/" + std::string(resource);
}

std::string Named(const std::string& collection, std::string_view name) {
  return collection + "/" + PathEscape(name);
}

}  // namespace

std::string UrlEscape(std::string_view s) { return http::UrlEncode(s); }
// Path segments may keep sub-delims and ':' '@' (RFC 3986 pchar) but never '/'.
std::string PathEscape(std::string_view s) { return http::UrlEncode(s, ":@!$&'()*+,;="); }

std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : query) {
    if (v.empty()) continue;
    path.push_back(sep);
    sep = '&';
    path += UrlEscape(k);
    path.push_back('=');
    path += UrlEscape(v);
  }
  return path;
}

std::string NamespacePath(std::string_view ns) { return "/api/v1/namespaces/" + PathEscape(ns); }
std::string PodsPath(std::string_view ns) { return Core(ns, "pods"); }
std::string PodPath(std::string_view ns, std::string_view name) {
  return Named(PodsPath(ns), name);
}
std::string PodStatusPath(std::string_view ns, std::string_view name) {
  return PodPath(ns, name) + "/status";
}
std::string NodesPath() { return "/api/v1/nodes"; }
std::string NodePath(std::string_view name) { return Named(NodesPath(), name); }
std::string NodeStatusPath(std::string_view name) { return NodePath(name) + "/status"; }
std::string LeasesPath(std::string_view ns) {
  std::string base = "/apis/coordination.k8s.io/v1";
  if (ns.empty()) return base + "/leases";
  return base + "/namespaces/" + PathEscape(ns) + "/leases";
}
std::string LeasePath(std::string_view ns, std::string_view name) {
  return Named(LeasesPath(ns), name);
}
std::string EventsPath(std::string_view ns) { return Core(ns, "events"); }
std::string ConfigMapsPath(std::string_view ns) { return Core(ns, "configmaps"); }
std::string ConfigMapPath(std::string_view ns, std::string_view name) {
  return Named(ConfigMapsPath(ns), name);
}
std::string SecretsPath(std::string_view ns) { return Core(ns, "secrets"); }
std::string SecretPath(std::string_view ns, std::string_view name) {
  return Named(SecretsPath(ns), name);
}
std::string ServiceAccountPath(std::string_view ns, std::string_view name) {
  return Named(Core(ns, "serviceaccounts"), name);
}
std::string ServiceAccountTokenPath(std::string_view ns, std::string_view sa) {
  return ServiceAccountPath(ns, sa) + "/token";
}

}  // namespace il::kube
