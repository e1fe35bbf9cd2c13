// Resolves container environment the way the kubelet does before it starts a pod, so the
// backend receives plain `name`/`value` pairs:
//
//   - envFrom (configMapRef / secretRef, with prefix) expands into env entries; keys that
//     are not valid variable names are skipped with a warning; explicit env wins;
//   - env[].valueFrom: configMapKeyRef, secretKeyRef (base64-decoded), fieldRef
//     (metadata.name|namespace|uid, metadata.labels['k'], metadata.annotations['k'],
//     spec.nodeName, spec.serviceAccountName, status.hostIP, and status.podIP(s) when
//     known), resourceFieldRef (limits/requests cpu|memory|ephemeral-storage with divisor;
//     a missing limit defaults to the node's allocatable, as in the kubelet);
//   - `$(VAR)` references to earlier variables are expanded, and in command and args to
//     any variable of the container, as the kubelet does; `$$` escapes;
//   - optional refs that are missing drop the variable; a missing required ref is an
//     error (kFailedPrecondition naming the object), the caller retries later;
//   - KUBERNETES_SERVICE_HOST / _PORT and friends are added when configured.
//
// Thread-safety: pure apart from the ObjectSource calls.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "vk/object_source.h"

namespace il::vk {

struct EnvOptions {
  std::map<std::string, std::string> node_allocatable;  // "cpu", "memory", ...
  std::string host_ip;
  std::string kubernetes_api_addr;  // KubernetesApiAddr; with the port adds KUBERNETES_*
  std::string kubernetes_api_port;
};

// Rewrites env/envFrom of every init and main container of `pod` in place.
Status ResolveEnv(boost::json::value& pod, ObjectSource& source, const EnvOptions& options,
                  std::vector<std::string>* warnings);

// Resolves one fieldRef path against the pod; nullopt when unsupported or unknown.
std::optional<std::string> ResolveFieldPath(const boost::json::value& pod,
                                            const std::string& field_path,
                                            const std::string& host_ip);

// Renders labels or annotations as the downward API does: sorted `k="v"` lines.
std::string RenderMap(const boost::json::value* map);

// Expands $(VAR) references with `vars`; unknown references stay as written.
std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& vars);

bool IsEnvVarName(std::string_view s);

}  // namespace il::vk
