#include "daemon/config_catalog.h"

#include <algorithm>

#include "core/config.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/mock/mock_backend.h"
#include "sidecars/slurm/slurm_config.h"
#include "vk/vk_config.h"

namespace il {

const std::vector<config::Component>& ConfigCatalog() {
  static const std::vector<config::Component> c = {
      {"interlink", config::InfoOf(InterlinkKeys())},
      {"vk", config::InfoOf(vk::VkKeys())},
      {"slurm-sd", config::InfoOf(slurm::SlurmKeys())},
      {"docker-sd", config::InfoOf(docker::DockerKeys())},
      {"mock-sd", config::InfoOf(mock::MockKeys())},
  };
  return c;
}

std::vector<config::KeyInfo> ComponentKeys(const std::string& component) {
  for (const auto& c : ConfigCatalog()) {
    if (c.name == component) return c.keys;
  }
  return {};
}

std::vector<config::KeyInfo> ForeignKeys(const std::vector<std::string>& own) {
  std::vector<config::KeyInfo> out;
  for (const auto& c : ConfigCatalog()) {
    if (std::find(own.begin(), own.end(), c.name) != own.end()) continue;
    out.insert(out.end(), c.keys.begin(), c.keys.end());
  }
  return out;
}

}  // namespace il
