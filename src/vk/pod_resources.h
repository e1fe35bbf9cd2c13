// Builds the /create request for a pod: the pod with its environment resolved, the
// ConfigMaps and Secrets its volumes mount, and its projected and downwardAPI volumes
// rendered as ConfigMaps named after the volume (key = file path, value = content), as
// upstream does (reference §2.9.2, §2.5):
//
//   - configMap / secret volumes: the whole object; `optional: true` volumes that are
//     missing are skipped; a missing required one is kFailedPrecondition;
//   - projected sources: configMap (items or all keys; kube-root-ca.crt replaced by
//     KubernetesApiCaCrt when set), secret (text keys in data, others in binaryData),
//     serviceAccountToken (a TokenRequest bound to the pod, with the requested audience
//     and expirationSeconds), downwardAPI (fieldRef and resourceFieldRef files);
//   - downwardAPI volumes: rendered the same way, and rewritten in the pod sent as a
//     projected volume, so a backend handles both alike;
//   - DisableProjectedVolumes skips projected and downwardAPI volumes.
//
// Thread-safety: pure apart from the ObjectSource calls.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/types.h"
#include "core/status.h"
#include "vk/env_resolver.h"
#include "vk/object_source.h"

namespace il::vk {

struct CreateOptions {
  EnvOptions env;
  bool disable_projected_volumes = false;
  std::string kube_root_ca;   // KubernetesApiCaCrt (PEM); empty: the cluster's ConfigMap
  std::string jobscript_url;  // JobScriptBuilderURL
};

// On a missing required object: kFailedPrecondition, and `*reason` is the kubelet's event
// reason ("FailedMount" for volumes, "CreateContainerConfigError" for env).
Result<api::PodCreateRequests> BuildCreateRequest(const boost::json::value& pod,
                                                  ObjectSource& source,
                                                  const CreateOptions& options, std::string* reason,
                                                  std::vector<std::string>* warnings);

// The pod as sent in /create and /delete: status dropped (it is ours, not the backend's),
// managedFields dropped (noise).
boost::json::value PodForBackend(const boost::json::value& pod);

}  // namespace il::vk
