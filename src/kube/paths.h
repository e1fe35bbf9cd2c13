// API paths and query strings for the resources the virtual kubelet touches.
//
// Paths are plain strings so KubeClient stays resource-agnostic; these helpers keep the
// group/version spelling in one place. Names are path-escaped; an empty namespace in a
// collection helper means "all namespaces" (e.g. PodsPath("") == "/api/v1/pods").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace il::kube {

// Percent-escapes a query value (RFC 3986 unreserved chars kept; space -> %20).
std::string UrlEscape(std::string_view s);
// Percent-escapes one path segment.
std::string PathEscape(std::string_view s);
// Appends "?k=v&k2=v2" (values escaped; pairs with an empty value are skipped; '&' used if
// `path` already has a query).
std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& query);

std::string NamespacePath(std::string_view ns);  // /api/v1/namespaces/{ns}
std::string PodsPath(std::string_view ns);       // /api/v1[/namespaces/{ns}]/pods
std::string PodPath(std::string_view ns, std::string_view name);
std::string PodStatusPath(std::string_view ns, std::string_view name);  // .../pods/{name}/status
std::string NodesPath();                                                // /api/v1/nodes
std::string NodePath(std::string_view name);
std::string NodeStatusPath(std::string_view name);  // /api/v1/nodes/{name}/status
std::string LeasesPath(std::string_view ns);        // /apis/coordination.k8s.io/v1/...
std::string LeasePath(std::string_view ns, std::string_view name);
std::string EventsPath(std::string_view ns);  // /api/v1/namespaces/{ns}/events
std::string ConfigMapsPath(std::string_view ns);
std::string ConfigMapPath(std::string_view ns, std::string_view name);
std::string SecretsPath(std::string_view ns);
std::string SecretPath(std::string_view ns, std::string_view name);
std::string ServiceAccountPath(std::string_view ns, std::string_view name);
// POST a TokenRequest here: /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token
std::string ServiceAccountTokenPath(std::string_view ns, std::string_view sa);

}  // namespace il::kube
