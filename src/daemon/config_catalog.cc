#include "daemon/config_catalog.h"

#include <algorithm>

#include "core/config.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/slurm/slurm_config.h"
#include "vk/vk_config.h"

namespace il {
namespace {

config::KeyInfo Text(std::string name, std::string def, std::string doc) {
  return {std::move(name), {}, {}, "string", std::move(def), std::move(doc), {}};
}

// mock-sd's keys, read by sidecars/mock/mock_backend.cc (MockOptionsFromConfig).
// TODO(issue 11): declared by mock-sd itself once the Clock rework there has landed.
std::vector<config::KeyInfo> MockKeys() {
  return {Text("MockStateFile", "<DataRootFolder>/mock-sd.sqlite", "SQLite state"),
          Text("MockCapacityCPU", "", "cpu the node reports"),
          Text("MockCapacityMemory", "", "memory the node reports"),
          Text("MockCapacityPods", "", "pods the node reports")};
}

}  // namespace

const std::vector<config::Component>& ConfigCatalog() {
  static const std::vector<config::Component> c = {
      {"interlink", config::InfoOf(InterlinkKeys())},
      {"vk", config::InfoOf(vk::VkKeys())},
      {"slurm-sd", config::InfoOf(slurm::SlurmKeys())},
      {"docker-sd", docker::DockerKeys()},
      {"mock-sd", MockKeys()},
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
