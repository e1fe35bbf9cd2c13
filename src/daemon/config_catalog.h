// The catalog of configuration keys: every component's declarations in one place, so a
// component reading the shared InterLinkConfig.yaml can tell another component's key
// (ignored) from a typo (an error with a suggestion). It holds no key list of its own: it
// asks each component's table (core/config.h InterlinkKeys, vk/vk_config.h VkKeys,
// sidecars/slurm/slurm_config.h SlurmKeys, ...).
//
// Thread-safety: immutable after first use.
#pragma once

#include <string>
#include <vector>

#include "core/config_schema.h"

namespace il {

// Components: "interlink" (interlink and every sidecar's listener), "vk", "slurm-sd",
// "docker-sd", "mock-sd".
const std::vector<config::Component>& ConfigCatalog();
// The keys of one component (empty for an unknown name).
std::vector<config::KeyInfo> ComponentKeys(const std::string& component);
// The keys of every component not in `own`.
std::vector<config::KeyInfo> ForeignKeys(const std::vector<std::string>& own);

}  // namespace il
