// A container's environment as the kubelet builds it: envFrom first, then env (later entries
// win), valueFrom resolved from the pod's ConfigMaps/Secrets/downward API, and $(VAR)
// references expanded as Kubernetes does (in env values, command and args; "$$" escapes,
// unknown references stay literal). Nothing here ever goes through a shell.
//
// Pure functions; thread-safety: none needed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "sidecars/docker/pod_sources.h"

namespace il::docker {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// kInvalidArgument for a malformed name; kFailedPrecondition for a missing, non-optional
// ConfigMap/Secret key.
Result<EnvList> ResolveEnv(const api::json::value& container, const PodSources& sources);

// Kubernetes $(VAR) expansion of `in` against `env` (the last definition of a name wins).
std::string ExpandVars(std::string_view in, const EnvList& env);

}  // namespace il::docker
