#include "core/config.h"

#include <gtest/gtest.h>

#include <map>

namespace il {
namespace {

EnvLookup Env(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, ReadsSeedKeys) {
  auto c = ParseConfig(R"(
InterlinkURL: "http://localhost"
InterlinkPort: "3000"
SidecarURL: "http://localhost"
SidecarService: "slurm"
SbatchPath: "/opt/slurm/bin/sbatch"
ScancelPath: "/opt/slurm/bin/scancel"
VKTokenFile: "/tmp/token"
CommandPrefix: "module load x"
ExportPodData: true
Tsocks: false
TsocksPath: "/lib/libtsocks.so"
TsocksLoginNode: "login01"
)", "test.yaml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->InterlinkListenUrl(), "http://localhost:3000");
  EXPECT_EQ(c->SidecarEndpoint("4000"), "http://localhost:4001");
  EXPECT_EQ(c->sbatch_path, "/opt/slurm/bin/sbatch");
  EXPECT_EQ(c->vk_token_file, "/tmp/token");
  EXPECT_EQ(c->command_prefix, "module load x");
  EXPECT_EQ(c->tsocks_login_node, "login01");
}

TEST(Config, EnvironmentBeatsFileBeatsDefault) {
  auto c = ParseConfig("InterlinkPort: 3001\nSidecarService: docker\n", "f.yaml",
                       Env({{"INTERLINKPORT", "3005"}, {"SIDECARPORT", "4444"},
                            {"VKTOKENFILE", "/etc/tok"}, {"TSOCKS", "false"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->interlink_port, "3005");
  EXPECT_EQ(c->EffectiveSidecarPort("1"), "4444");
  EXPECT_EQ(c->vk_token_file, "/etc/tok");
  auto d = ParseConfig("", "", Env({}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->interlink_port, "3000");
  EXPECT_EQ(d->EffectiveSidecarPort("4002"), "4002");
}

TEST(Config, UnknownKeyNamesKeyAndFileWithASuggestion) {
  auto c = ParseConfig("SidecarPrt: 4000\n", "/etc/interlink/InterLinkConfig.yaml", Env({}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/etc/interlink/InterLinkConfig.yaml"), std::string::npos);
  EXPECT_NE(c.status().message().find("SidecarPrt"), std::string::npos);
  EXPECT_NE(c.status().message().find("SidecarPort"), std::string::npos);
}

TEST(Config, BadValuesAreRejectedWithTheKey) {
  auto bad_port = ParseConfig("InterlinkPort: 99999\n", "f.yaml", Env({}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().message().find("InterlinkPort"), std::string::npos);
  EXPECT_FALSE(ParseConfig("Tsocks: maybe\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("SidecarService: kubernetes\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("SidecarURL: localhost\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("[1, 2]\n", "f.yaml", Env({})).ok());
  EXPECT_FALSE(ParseConfig("a: [\n", "f.yaml", Env({})).ok());
  auto env_bad = ParseConfig("", "", Env({{"TSOCKS", "yes please"}}));
  ASSERT_FALSE(env_bad.ok());
  EXPECT_NE(env_bad.status().message().find("TSOCKS"), std::string::npos);
}

TEST(Config, AcceptsUpstreamKeysAndVkKeys) {
  auto c = ParseConfig(R"(
InterlinkAddress: "unix:///tmp/il.sock"
InterlinkPort: "0"
SidecarURL: "unix:///tmp/plugin.sock"
SidecarPort: "0"
VerboseLogging: true
TLS:
  Enabled: true
  CertFile: /c.pem
  KeyFile: /k.pem
  CACertFile: /ca.pem
Resources:
  CPU: "100"
NodeTaints: []
)", "up.yaml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->InterlinkListenUrl(), "unix:///tmp/il.sock");
  EXPECT_EQ(c->SidecarEndpoint("4000"), "unix:///tmp/plugin.sock");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->tls.ca_cert_file, "/ca.pem");
}

TEST(Config, ExampleConfigsLoad) {
  for (const char* f : {"/examples/config/InterLinkConfig.yaml",
                        "/kustomizations/InterLinkConfig.yaml"}) {
    auto c = LoadConfig(std::string(IL_SOURCE_DIR) + f, Env({}));
    EXPECT_TRUE(c.ok()) << f << ": " << c.status().ToString();
  }
}

TEST(Config, MissingExplicitFileIsAnError) {
  EXPECT_FALSE(ResolveConfigPath("/nonexistent.yaml", Env({})).ok());
  EXPECT_FALSE(ResolveConfigPath("", Env({{"INTERLINKCONFIGPATH", "/nonexistent.yaml"}})).ok());
}

}  // namespace
}  // namespace il
