// BuildJobSpec against hostile pods and the admin policy (slurm_config.h SlurmPolicy).
#include "sidecars/slurm/job_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "api/pod.h"
#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/sbatch_flags.h"

namespace il::slurm {
namespace {
namespace json = boost::json;

SlurmConfig Config() {
  SlurmConfig c;
  c.data_root = "/data/il";
  c.runtime = Runtime::kPodman;
  return c;
}

api::RetrievedPodData Pod(const std::string& annotations, const std::string& spec_extra = "",
                          const std::string& image = "busybox") {
  api::RetrievedPodData d;
  d.pod = json::value{{"metadata",
                       {{"name", "p"},
                        {"namespace", "ns"},
                        {"uid", "u1"},
                        {"annotations", json::parse(annotations)}}},
                      {"spec", json::parse(R"({"containers":[{"name":"c","image":")" + image +
                                           R"(","command":["true"]}])" + spec_extra + "}")}};
  return d;
}

std::string Message(const Result<JobSpec>& r) { return r.ok() ? "" : r.status().message(); }

TEST(JobSpec, FortyThousandLetterImageIsHandledLinearly) {
  std::string image(40000, 'a');
  EXPECT_EQ(ResolveImage(image, "", Runtime::kApptainer), "docker://" + image);
  EXPECT_FALSE(HasUrlScheme(image));
  EXPECT_FALSE(HasUrlScheme(image + ":/"));
  EXPECT_TRUE(HasUrlScheme(image + "://x"));
  EXPECT_TRUE(HasUrlScheme("oras://r/x"));
  EXPECT_TRUE(HasUrlScheme("docker-archive+x.y://"));
  EXPECT_FALSE(HasUrlScheme("1x://y"));
  EXPECT_FALSE(HasUrlScheme("reg:5000/img"));
  auto spec = BuildJobSpec(Pod("{}", "", image), Config());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->containers[0].image, image);
}

TEST(JobSpec, RawShellAnnotationsAreRefusedByDefault) {
  for (const char* a : {"slurm-job.vk.io/pre-exec", "interlink.eu/wstunnel-client-commands",
                        "slurm-job.vk.io/podman-options", "slurm-job.vk.io/singularity-mounts",
                        "slurm-job.vk.io/mpi-flags", "slurm-job.vk.io/image-root"}) {
    auto r = BuildJobSpec(Pod(std::string(R"({")") + a + R"(":"x"})"), Config());
    ASSERT_FALSE(r.ok()) << a;
    EXPECT_NE(Message(r).find("HonouredAnnotations"), std::string::npos) << Message(r);
  }
  SlurmConfig c = Config();
  c.policy.honoured_annotations.push_back("slurm-job.vk.io/pre-exec");
  auto r = BuildJobSpec(Pod(R"({"slurm-job.vk.io/pre-exec":"echo hi"})"), c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pod_pre_exec, "echo hi");
}

TEST(JobSpec, RuntimeSwitchFollowsTheAllowList) {
  auto none = BuildJobSpec(Pod(R"({"slurm-job.vk.io/container-runtime":"none"})"), Config());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(Message(none).find("AllowedRuntimes"), std::string::npos);
  EXPECT_TRUE(
      BuildJobSpec(Pod(R"({"slurm-job.vk.io/container-runtime":"ch-run"})"), Config()).ok());
  SlurmConfig c = Config();
  c.policy.allowed_runtimes = {Runtime::kNone};
  EXPECT_TRUE(BuildJobSpec(Pod(R"({"slurm-job.vk.io/container-runtime":"none"})"), c).ok());
  // The admin's own runtime is always allowed.
  c.policy.allowed_runtimes = {};
  EXPECT_TRUE(BuildJobSpec(Pod(R"({"slurm-job.vk.io/container-runtime":"podman"})"), c).ok());
}

TEST(JobSpec, LockedSbatchOptionsCanNeverComeFromAPod) {
  for (const char* flags : {"--account=other",
                            "-A other",
                            "--qos=high",
                            "-q high",
                            "-p gpu",
                            "--partition=gpu",
                            "--reservation=r",
                            "--uid=0",
                            "--gid=0",
                            "--output=/etc/x",
                            "-o /tmp/x",
                            "--error=/x",
                            "--chdir=/",
                            "-D /",
                            "--export=ALL",
                            "--wrap=id",
                            "--acc=x",
                            "--outp=/x",
                            "-kA x",
                            "-Hp gpu",
                            "--job-name=x",
                            "-J x",
                            "--array=1-9",
                            "--wait",
                            "--time=1 --account=x"}) {
    auto r =
        BuildJobSpec(Pod(std::string(R"({"slurm-job.vk.io/flags":")") + flags + "\"}"), Config());
    ASSERT_FALSE(r.ok()) << flags;
    EXPECT_NE(Message(r).find("can never come from a pod"), std::string::npos)
        << flags << ": " << Message(r);
  }
  auto ok = BuildJobSpec(
      Pod(R"({"slurm-job.vk.io/flags":"--time=10 --constraint=a100 -N 1 -c 2 --mem-per-cpu=1G"})"),
      Config());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(JobSpec, SbatchAllowAndDenyLists) {
  SlurmConfig c = Config();
  auto clusters = BuildJobSpec(Pod(R"({"slurm-job.vk.io/flags":"--clusters=other"})"), c);
  ASSERT_FALSE(clusters.ok());  // denied by default
  EXPECT_NE(Message(clusters).find("SbatchOptionsDenyList"), std::string::npos);
  c.policy.sbatch_allow = {"time"};
  EXPECT_TRUE(BuildJobSpec(Pod(R"({"slurm-job.vk.io/flags":"--time=5"})"), c).ok());
  auto other = BuildJobSpec(Pod(R"({"slurm-job.vk.io/flags":"--constraint=x"})"), c);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(Message(other).find("SbatchOptionsAllowList"), std::string::npos);
  EXPECT_FALSE(BuildJobSpec(Pod(R"({"slurm-job.vk.io/flags":"-Z"})"), Config()).ok());
}

TEST(JobSpec, ChRunLeavesOutMountPointsTheImageLacks) {
  // ch-run cannot mkdir in its read-only image: the service-account token's mount point (every
  // pod through the vk has one) would stop the container. Kept: mount points the image has.
  namespace fs = std::filesystem;
  const std::string image = fs::temp_directory_path() / ("il-chimg-" + std::to_string(::getpid()));
  fs::create_directories(image + "/etc/app");
  SlurmConfig cfg = Config();
  cfg.runtime = Runtime::kCharliecloud;
  api::RetrievedPodData d;
  d.pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1"},"spec":{
      "volumes":[{"name":"a","emptyDir":{}},{"name":"t","emptyDir":{}}],
      "containers":[{"name":"c","image":")" +
                      image + R"(","command":["true"],"volumeMounts":[
        {"name":"a","mountPath":"/etc/app"},
        {"name":"t","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}]}})");
  auto job = BuildJobSpec(d, cfg);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_EQ(job->containers[0].mounts.size(), 1u);
  EXPECT_EQ(job->containers[0].mounts[0].target, "/etc/app");
  ASSERT_EQ(job->warnings.size(), 1u);
  EXPECT_NE(job->warnings[0].find("/var/run/secrets/kubernetes.io/serviceaccount"),
            std::string::npos);
  cfg.runtime = Runtime::kPodman;  // other runtimes create their mount points
  EXPECT_EQ(BuildJobSpec(d, cfg)->containers[0].mounts.size(), 2u);
  fs::remove_all(image);
}

TEST(JobSpec, HostPathOnlyBelowTheAllowList) {
  const std::string vol = R"(,"volumes":[{"name":"h","hostPath":{"path":"/gpfs/data/../../etc"}}])";
  auto refused = BuildJobSpec(Pod("{}", vol), Config());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(Message(refused).find("HostPathAllowList"), std::string::npos);
  SlurmConfig c = Config();
  c.policy.host_path_allow = {"/gpfs"};
  EXPECT_FALSE(BuildJobSpec(Pod("{}", vol), c).ok());  // /etc after normalising
  EXPECT_TRUE(
      BuildJobSpec(Pod("{}", R"(,"volumes":[{"name":"h","hostPath":{"path":"/gpfs/data"}}])"), c)
          .ok());
  EXPECT_FALSE(
      BuildJobSpec(Pod("{}", R"(,"volumes":[{"name":"h","hostPath":{"path":"/gpfsx"}}])"), c).ok());
}

TEST(SlurmPolicyConfig, ReadsTheKeysAndKeepsTheStateOutOfTheDataRoot) {
  InterLinkConfig ilc;
  ilc.data_root_folder = "/shared/il";
  ilc.sidecar_settings = {
      {"HonouredAnnotations", "- slurm-job.vk.io/flags\n- slurm-job.vk.io/pre-exec\n"},
      {"AllowedRuntimes", "[podman, none]"},
      {"SbatchOptionsAllowList", "[--time, mem]"},
      {"SbatchOptionsDenyList", "[]"},
      {"HostPathAllowList", "[/gpfs/, /scratch]"},
      {"StateFile", "/var/lib/x/state.db"}};
  auto c = SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->policy.honoured_annotations,
            (std::vector<std::string>{"slurm-job.vk.io/flags", "slurm-job.vk.io/pre-exec"}));
  EXPECT_EQ(c->policy.allowed_runtimes, (std::vector<Runtime>{Runtime::kPodman, Runtime::kNone}));
  EXPECT_EQ(c->policy.sbatch_allow, (std::vector<std::string>{"time", "mem"}));
  EXPECT_TRUE(c->policy.sbatch_deny.empty());
  EXPECT_EQ(c->policy.host_path_allow, (std::vector<std::string>{"/gpfs", "/scratch"}));

  ilc.sidecar_settings = {{"StateFile", "/shared/il/sub/state.db"}};
  auto inside = SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(inside.ok());
  EXPECT_NE(inside.status().message().find("DataRootFolder"), std::string::npos);
  ilc.sidecar_settings = {};
  auto def = SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->state_file, kDefaultSlurmStateFile);
  EXPECT_EQ(def->policy.honoured_annotations, DefaultHonouredAnnotations());
  ilc.sidecar_settings = {{"HonouredAnnotations", "[no.such/annotation]"}};
  EXPECT_FALSE(SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; }).ok());
}

TEST(SlurmPolicyConfig, NamespaceUsersAndRunAsCommand) {
  InterLinkConfig ilc;
  ilc.data_root_folder = "/shared/il";
  ilc.sidecar_settings = {{"NamespaceUsers", "team-a: alice\n'*': guest\n"},
                          {"RunAsCommand", "[sudo, -n, -u, '{user}', --]"}};
  auto c = SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*JobUser(*c, "team-a"), "alice");
  EXPECT_EQ(*JobUser(*c, "other"), "guest");
  EXPECT_EQ(AsUser(*c, std::string("alice"), {"sbatch", "x"}),
            (std::vector<std::string>{"sudo", "-n", "-u", "alice", "--", "sbatch", "x"}));
  EXPECT_EQ(AsUser(*c, std::nullopt, {"sbatch"}), std::vector<std::string>{"sbatch"});
  SlurmConfig plain;
  EXPECT_FALSE(JobUser(plain, "x")->has_value());
  plain.namespace_users = {{"a", "alice"}};
  EXPECT_FALSE(JobUser(plain, "b").ok());
  for (const char* bad : {"team-a: 'bad user'", "Bad_NS: alice", "[a, b]"}) {
    ilc.sidecar_settings = {{"NamespaceUsers", bad}};
    EXPECT_FALSE(SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; }).ok()) << bad;
  }
  ilc.sidecar_settings = {{"RunAsCommand", "sudo -u alice"}};
  EXPECT_FALSE(SlurmConfigFrom(ilc, [](const std::string&) { return std::nullopt; }).ok());
}

}  // namespace
}  // namespace il::slurm

namespace il::slurm {
namespace {

// Issue 13: pod names up to 253 characters; nothing slurm-sd derives grows with them.
TEST(JobSpec, LongPodNamesGiveBoundedJobNamesDirsAndContainerNames) {
  const std::string uid = "0b7e6a4e-3f7c-4a59-9a0a-2f6d7c0e9b11";
  std::set<std::string> dirs;
  for (size_t n : {63, 64, 200, 253}) {
    api::RetrievedPodData d = Pod("{}");
    auto& meta = d.pod.as_object()["metadata"].as_object();
    meta["name"] = std::string(n, 'p');
    meta["namespace"] = std::string(63, 'n');
    meta["uid"] = uid + std::to_string(n);
    d.pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["name"] =
        std::string(63, 'c');
    auto job = BuildJobSpec(d, Config());
    ASSERT_TRUE(job.ok()) << n << ": " << Message(job);
    std::string base = job->dir.substr(job->dir.rfind('/') + 1);
    EXPECT_LE(base.size(), kMaxFileNameLength);
    EXPECT_TRUE(dirs.insert(job->dir).second);
    EXPECT_LE(JobName(job->uid).size(), kMaxJobNameLength);
    EXPECT_LE(PodmanName(job->uid, job->containers[0].name).size(), 128u);
    EXPECT_EQ(job->name, std::string(n, 'p'));
  }
}

TEST(JobSpec, DerivedNamesOfOverlongUidsAreBoundedAndDistinct) {
  std::string a(128, 'u'), b(127, 'u');
  b += 'v';
  EXPECT_EQ(JobName("u1"), "il-u1");
  EXPECT_LE(JobName(a).size(), kMaxJobNameLength);
  EXPECT_NE(JobName(a), JobName(b));
  EXPECT_NE(PodmanName(a, std::string(63, 'c')), PodmanName(b, std::string(63, 'c')));
  EXPECT_LE(PodmanName(a, std::string(63, 'c')).size(), 128u);
  EXPECT_EQ(JobDir(Config(), "ns", "u1"), "/data/il/ns-u1");
}

}  // namespace
}  // namespace il::slurm
