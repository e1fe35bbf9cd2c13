#include "daemon/config_catalog.h"

#include <gtest/gtest.h>

#include <set>

#include "core/config.h"
#include "sidecars/slurm/slurm_config.h"
#include "vk/vk_config.h"

namespace il {
namespace {

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

TEST(ConfigCatalog, EveryComponentDeclaresKeysWithoutDuplicates) {
  std::set<std::string> names;
  for (const auto& c : ConfigCatalog()) {
    EXPECT_FALSE(c.keys.empty()) << c.name;
    std::set<std::string> own;
    for (const auto& k : c.keys) {
      EXPECT_TRUE(own.insert(k.name).second) << c.name << " declares " << k.name << " twice";
      for (const auto& a : k.aliases) EXPECT_TRUE(own.insert(a).second) << c.name << " " << a;
      EXPECT_FALSE(k.doc.empty()) << c.name << " " << k.name;
    }
    names.insert(c.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"interlink", "vk", "slurm-sd", "docker-sd", "mock-sd"}));
}

TEST(ConfigCatalog, ExampleConfigsLoadForInterlinkAndTheVk) {
  for (const char* f :
       {"/examples/config/InterLinkConfig.yaml", "/kustomizations/InterLinkConfig.yaml"}) {
    const std::string path = std::string(IL_SOURCE_DIR) + f;
    auto c = LoadConfig(path, NoEnv, {{}, ForeignKeys({"interlink"})});
    EXPECT_TRUE(c.ok()) << f << ": " << c.status().ToString();
    vk::VkFlags flags;
    flags.config = path;
    auto v = vk::LoadVkConfig(flags, NoEnv, ForeignKeys({"vk"}));
    EXPECT_TRUE(v.ok()) << f << ": " << v.status().ToString();
  }
}

TEST(ConfigCatalog, OneFileServesInterlinkASidecarAndTheVk) {
  const std::string yaml =
      "InterlinkURL: http://127.0.0.1\nSidecarService: slurm\nPartition: gpu\n"
      "NodeName: vk-1\nResources: {CPU: \"8\"}\nDockerPath: /usr/bin/docker\n"
      "SbatchPath: /opt/slurm/sbatch\nTsocks: false\n";
  // interlink: the sidecars' and the vk's keys are foreign.
  auto il = ParseConfig(yaml, "f.yaml", NoEnv, {{}, ForeignKeys({"interlink"})});
  ASSERT_TRUE(il.ok()) << il.status().ToString();
  EXPECT_TRUE(il->sidecar_settings.empty());
  // slurm-sd: its own keys are kept for SlurmConfigFrom.
  auto sd = ParseConfig(yaml, "f.yaml", NoEnv,
                        {ComponentKeys("slurm-sd"), ForeignKeys({"interlink", "slurm-sd"})});
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  auto slurm = slurm::SlurmConfigFrom(*sd, NoEnv);
  ASSERT_TRUE(slurm.ok()) << slurm.status().ToString();
  EXPECT_EQ(slurm->partition, "gpu");
  EXPECT_EQ(slurm->sbatch, std::vector<std::string>{"/opt/slurm/sbatch"});  // the seed's key
  EXPECT_EQ(sd->sidecar_settings.count("DockerPath"), 0u);
}

TEST(ConfigCatalog, ATyposErrorSuggestsTheKeyOfWhicheverComponentDeclaresIt) {
  auto il = ParseConfig("NodeNmae: x\n", "f.yaml", NoEnv, {{}, ForeignKeys({"interlink"})});
  ASSERT_FALSE(il.ok());
  EXPECT_NE(il.status().message().find("key 'NodeNmae': unknown key (did you mean 'NodeName'?)"),
            std::string::npos)
      << il.status().message();
  auto sd = ParseConfig("Partiton: gpu\n", "f.yaml", NoEnv,
                        {ComponentKeys("slurm-sd"), ForeignKeys({"interlink", "slurm-sd"})});
  ASSERT_FALSE(sd.ok());
  EXPECT_NE(sd.status().message().find("did you mean 'Partition'"), std::string::npos)
      << sd.status().message();
}

TEST(ConfigCatalog, ForeignKeysLeaveOutTheOwnComponents) {
  auto f = ForeignKeys({"interlink", "vk", "docker-sd", "mock-sd"});
  std::set<std::string> names;
  for (const auto& k : f) names.insert(k.name);
  EXPECT_TRUE(names.count("Partition"));
  EXPECT_FALSE(names.count("NodeName"));
  EXPECT_FALSE(names.count("DockerPath"));
  EXPECT_TRUE(ComponentKeys("no-such").empty());
}

}  // namespace
}  // namespace il
