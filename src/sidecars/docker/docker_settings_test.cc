#include "sidecars/docker/docker_settings.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {

TEST(DockerSettings, DefaultsFollowTheDocumentation) {
  InterLinkConfig cfg;
  cfg.data_root_folder = "/var/lib/il";
  auto s = DockerSettingsFromConfig(cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->docker_path, "docker");
  EXPECT_EQ(s->container_prefix, "il-");
  EXPECT_EQ(s->network, "");
  EXPECT_TRUE(s->host_path_allow_list.empty());
  EXPECT_EQ(s->data_dir, "/var/lib/il/docker-sd");
  EXPECT_EQ(s->state_file, "/var/lib/il/docker-sd/state.db");
  EXPECT_EQ(s->PodDir("u1"), "/var/lib/il/docker-sd/pods/u1");
  EXPECT_FALSE(s->allow_host_namespaces);
  EXPECT_EQ(s->pids_limit, 4096);
  EXPECT_EQ(s->log_max_size, "10m");
  EXPECT_EQ(s->log_max_files, 5);
  EXPECT_EQ(s->start_concurrency, 0);
}

TEST(DockerSettings, ReadsTheIsolationKeys) {
  InterLinkConfig cfg;
  cfg.sidecar_settings = {{"DockerAllowHostNamespaces", "true"},
                          {"DockerPidsLimit", "0"},
                          {"DockerLogMaxSize", "0"},
                          {"DockerLogMaxFiles", "2"}};
  auto s = DockerSettingsFromConfig(cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->allow_host_namespaces);
  EXPECT_EQ(s->pids_limit, 0);
  EXPECT_EQ(s->log_max_size, "");
  EXPECT_EQ(s->log_max_files, 2);
  cfg.sidecar_settings = {{"DockerLogMaxSize", "50m"}};
  EXPECT_EQ(DockerSettingsFromConfig(cfg)->log_max_size, "50m");
}

TEST(DockerSettings, ReadsEveryKey) {
  InterLinkConfig cfg;
  cfg.sidecar_settings = {
      {"DockerPath", "/usr/bin/docker"}, {"HostPathAllowList", "- /data\n- /scratch/\n"},
      {"DockerNetwork", "bridge"},       {"ContainerPrefix", "pods-"},
      {"StateFile", "/tmp/x/state.db"},  {"DockerStartConcurrency", "3"}};
  auto s = DockerSettingsFromConfig(cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->docker_path, "/usr/bin/docker");
  EXPECT_EQ(s->host_path_allow_list, (std::vector<std::string>{"/data", "/scratch"}));
  EXPECT_EQ(s->network, "bridge");
  EXPECT_EQ(s->container_prefix, "pods-");
  EXPECT_EQ(s->state_file, "/tmp/x/state.db");
  EXPECT_EQ(s->start_concurrency, 3);
}

TEST(DockerSettings, RejectsBadValues) {
  for (auto [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"HostPathAllowList", "relative/dir"},
                                                        {"ContainerPrefix", "bad prefix;"},
                                                        {"DockerNetwork", "container:other"},
                                                        {"DockerNetwork", "--privileged"},
                                                        {"DockerAllowHostNamespaces", "maybe"},
                                                        {"DockerPidsLimit", "-1"},
                                                        {"DockerPidsLimit", "lots"},
                                                        {"DockerLogMaxSize", "10 MB"},
                                                        {"DockerLogMaxSize", "m"},
                                                        {"DockerLogMaxFiles", "0"},
                                                        {"DockerStartConcurrency", "-1"},
                                                        {"DockerStartConcurrency", "2000"}}) {
    InterLinkConfig cfg;
    cfg.sidecar_settings[k] = v;
    auto s = DockerSettingsFromConfig(cfg);
    EXPECT_FALSE(s.ok()) << k << "=" << v;
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find(k), std::string::npos);
    }
  }
}

TEST(DockerSettings, TheLoaderKeepsTheKeysAsTextForTheirSetters) {
  const std::string yaml =
      "SidecarService: docker\nHostPathAllowList: [/data, /scratch/]\n"
      "DockerAllowHostNamespaces: yes\nDockerPidsLimit: 100\nPartition: gpu\n";
  auto cfg = ParseConfig(yaml, "f.yaml", [](const std::string&) { return std::nullopt; },
                         {config::InfoOf(DockerKeys()), {{"Partition", {}, {}, "", "", "", {}}}});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto s = DockerSettingsFromConfig(*cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->host_path_allow_list, (std::vector<std::string>{"/data", "/scratch"}));
  EXPECT_TRUE(s->allow_host_namespaces);
  EXPECT_EQ(s->pids_limit, 100);
  InterLinkConfig other;
  other.sidecar_settings["Partition"] = "gpu";
  auto bad = DockerSettingsFromConfig(other);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a key of docker-sd"), std::string::npos);
}

TEST(DockerSettings, AllowListMatchesWholePathComponents) {
  auto l = ParseAllowList("/data, /scratch");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(PathAllowed("/data", *l));
  EXPECT_TRUE(PathAllowed("/data/x/y", *l));
  EXPECT_FALSE(PathAllowed("/database", *l));
  EXPECT_FALSE(PathAllowed("/", *l));
  EXPECT_FALSE(PathAllowed("/etc", *l));
  EXPECT_TRUE(PathAllowed("/scratch/a", *l));
  auto flow = ParseAllowList("[\"/a\", '/b']");
  ASSERT_TRUE(flow.ok()) << flow.status().ToString();
  EXPECT_EQ(*flow, (std::vector<std::string>{"/a", "/b"}));
}

}  // namespace
}  // namespace il::docker
