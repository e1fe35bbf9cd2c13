// A container's environment: envFrom first, then env (later entries win), valueFrom resolved
// from the ConfigMaps/Secrets interLink sent and the pod's downward-API fields. Our virtual
// kubelet resolves all of this (and expands $(VAR) references) before the pod leaves it; this
// is the fallback for callers that did not. Values are kept byte for byte: no $(VAR)
// expansion here, since expanding twice would change values ("$$" -> "$"). Nothing here ever
// goes through a shell.
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

}  // namespace il::docker
