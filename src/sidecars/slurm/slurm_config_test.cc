#include "sidecars/slurm/slurm_config.h"

#include <gtest/gtest.h>

namespace il::slurm {
namespace {

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

Result<SlurmConfig> From(const std::string& yaml, const EnvLookup& env = NoEnv) {
  IL_ASSIGN_OR_RETURN(auto c,
                      ParseConfig(yaml, "test.yaml", env, {config::InfoOf(SlurmKeys()), {}}));
  return SlurmConfigFrom(c, env);
}

TEST(SlurmConfig, DefaultsAreUsable) {
  auto c = From("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sbatch, std::vector<std::string>{"/usr/bin/sbatch"});
  EXPECT_EQ(c->runtime, Runtime::kSingularity);
  EXPECT_TRUE(c->shared_fs);
  EXPECT_EQ(c->state_file, kDefaultSlurmStateFile);  // never inside DataRootFolder
  EXPECT_EQ(c->default_cpus, 1);
}

TEST(SlurmConfig, ReadsSeedAndSidecarKeys) {
  auto c = From(
      "SbatchPath: \"ssh login01 /usr/bin/sbatch\"\nScancelPath: /opt/slurm/bin/scancel\n"
      "DataRootFolder: /scratch/il/\nPartition: gpu\nAccount: a1\nTimeLimit: \"10:00\"\n"
      "ContainerRuntime: podman\nSharedFS: false\nDefaultCPUs: 2\nDefaultMemory: 4Gi\n"
      "SingularityDefaultOptions:\n  - --nv\n  - --bind\n  - /a:/b\nStatusCacheSeconds: 2.5\n"
      "CommandPrefix: module load x\nTsocks: true\nTsocksPath: /lib/t.so\nTsocksLoginNode: "
      "login\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sbatch, (std::vector<std::string>{"ssh", "login01", "/usr/bin/sbatch"}));
  EXPECT_EQ(c->scancel, std::vector<std::string>{"/opt/slurm/bin/scancel"});
  EXPECT_EQ(c->data_root, "/scratch/il");
  EXPECT_EQ(c->partition, "gpu");
  EXPECT_EQ(c->runtime, Runtime::kPodman);
  EXPECT_FALSE(c->shared_fs);
  EXPECT_EQ(c->default_memory, "4Gi");
  EXPECT_EQ(c->singularity_options, (std::vector<std::string>{"--nv", "--bind", "/a:/b"}));
  EXPECT_DOUBLE_EQ(c->status_cache_seconds, 2.5);
  EXPECT_TRUE(c->tsocks);
  EXPECT_EQ(c->tsocks_login_node, "login");
}

// They moved from interlink's keys to slurm-sd's (issue 11): names, variables and the
// seed's meaning stay.
TEST(SlurmConfig, TheSeedsSlurmKeysAreSlurmSds) {
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "SBATCHPATH") return std::string("/env/sbatch --wrapped");
    if (k == "SCANCELPATH") return std::string("");  // empty: the file's value stays
    if (k == "TSOCKS") return std::string("true");
    if (k == "TSOCKSPATH") return std::string("/env/libtsocks.so");
    return std::nullopt;
  };
  auto c = From(
      "SbatchPath: /file/sbatch\nScancelPath: /file/scancel\nSqueuePath: \"\"\n"
      "SacctPath: /a/sacct\nSinfoPath: /a/sinfo\nScontrolPath: /a/scontrol\n"
      "BashPath: /opt/bash5\nCommandPrefix: \"module load x\"\nTsocksLoginNode: login\n"
      "TsocksConfig: /etc/tsocks.conf\n",
      env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sbatch, (std::vector<std::string>{"/env/sbatch", "--wrapped"}));
  EXPECT_EQ(c->scancel, std::vector<std::string>{"/file/scancel"});
  EXPECT_EQ(c->squeue, std::vector<std::string>{"/usr/bin/squeue"});  // empty: default
  EXPECT_EQ(c->sacct, std::vector<std::string>{"/a/sacct"});
  EXPECT_EQ(c->sinfo, std::vector<std::string>{"/a/sinfo"});
  EXPECT_EQ(c->scontrol, std::vector<std::string>{"/a/scontrol"});
  EXPECT_EQ(c->bash_path, "/opt/bash5");
  EXPECT_EQ(c->command_prefix, "module load x");
  EXPECT_TRUE(c->tsocks);
  EXPECT_EQ(c->tsocks_path, "/env/libtsocks.so");

  auto bad_tsocks = From("", [](const std::string& k) -> std::optional<std::string> {
    if (k == "TSOCKS") return std::string("yes please");
    return std::nullopt;
  });
  ASSERT_FALSE(bad_tsocks.ok());
  EXPECT_NE(bad_tsocks.status().message().find("Tsocks"), std::string::npos)
      << bad_tsocks.status().message();
  auto no_path = From("Tsocks: true\nTsocksLoginNode: login\n");
  ASSERT_FALSE(no_path.ok());
  EXPECT_NE(no_path.status().message().find("TsocksPath"), std::string::npos);
  EXPECT_FALSE(From("BashPath: \"/bin/bash\\n/evil\"\n").ok());
}

TEST(SlurmConfig, StateFileFromTheFileIsHonoured) {
  // StateFile is a key of the VK too; the sidecar must still get it (it used to be dropped).
  auto c = From("DataRootFolder: /shared/jobs\nStateFile: /var/lib/sd/state.db\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state_file, "/var/lib/sd/state.db");
  EXPECT_FALSE(From("DataRootFolder: /shared/jobs\nStateFile: /shared/jobs/x.db\n").ok());
}

TEST(SlurmConfig, SharedFsEnvironmentOverridesTheFile) {
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "SHARED_FS") return std::string("false");
    return std::nullopt;
  };
  auto c = From("SharedFS: true\n", env);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->shared_fs);
}

TEST(SlurmConfig, RejectsBadValues) {
  EXPECT_FALSE(From("ContainerRuntime: docker\n").ok());
  EXPECT_FALSE(From("DataRootFolder: relative/dir\n").ok());
  EXPECT_FALSE(From("DataRootFolder: /a:b\n").ok());
  EXPECT_FALSE(From("DefaultCPUs: many\n").ok());
  EXPECT_FALSE(From("DefaultMemory: lots\n").ok());
  EXPECT_FALSE(From("SharedFS: maybe\n").ok());
  EXPECT_FALSE(From("SbatchPath: \"'unterminated\"\n").ok());
  EXPECT_FALSE(From("Tsocks: true\nTsocksPath: /x.so\n").ok());  // no login node
}

TEST(SlurmConfig, RuntimeNamesRoundTrip) {
  for (auto r : {Runtime::kSingularity, Runtime::kApptainer, Runtime::kPodman,
                 Runtime::kCharliecloud, Runtime::kNone}) {
    EXPECT_EQ(*ParseRuntime(RuntimeName(r)), r);
  }
  EXPECT_EQ(*ParseRuntime("charliecloud"), Runtime::kCharliecloud);
  EXPECT_EQ(*ParseRuntime("host"), Runtime::kNone);
}

}  // namespace
}  // namespace il::slurm
