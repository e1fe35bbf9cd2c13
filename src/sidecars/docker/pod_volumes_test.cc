#include "sidecars/docker/pod_volumes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace il::docker {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

PodSources Sources(const std::string& spec_json, const std::string& extra_cms = "[]",
                   const std::string& secrets = "[]", const std::string& projected = "[]") {
  api::RetrievedPodData d;
  d.pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1"},"spec":)" +
                      spec_json + "}");
  api::RetrievedContainer c;
  c.name = "c";
  c.config_maps = json::parse(extra_cms).as_array();
  c.secrets = json::parse(secrets).as_array();
  c.projected_volume_maps = json::parse(projected).as_array();
  d.containers.push_back(c);
  return *PodSources::Build(d);
}

const PlannedFile* FileAt(const VolumePlan& p, const std::string& path) {
  for (const auto& f : p.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

TEST(PlanVolumes, ConfigMapItemsKeysAndModes) {
  auto src = Sources(R"({"containers":[{"name":"c","image":"i","volumeMounts":[
      {"name":"all","mountPath":"/all"},{"name":"some","mountPath":"/some","readOnly":false}]}],
      "volumes":[{"name":"all","configMap":{"name":"cm","defaultMode":256}},
                 {"name":"some","configMap":{"name":"cm","items":[{"key":"a","path":"dir/x.conf","mode":384}]}}]})",
                     R"([{"metadata":{"name":"cm"},"data":{"a":"line1\nline2\n","b":"$B; 'q'"}}])");
  auto p = PlanVolumes(src, "/pods/u1", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_NE(FileAt(*p, "/pods/u1/volumes/all/a"), nullptr);
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/all/a")->content, "line1\nline2\n");
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/all/a")->mode, 0400);
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/all/b")->content, "$B; 'q'");
  ASSERT_NE(FileAt(*p, "/pods/u1/volumes/some/dir/x.conf"), nullptr);
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/some/dir/x.conf")->mode, 0600);
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/some/b"), nullptr);
  const auto& m = p->mounts.at("c");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].source, "/pods/u1/volumes/all");
  EXPECT_EQ(m[0].target, "/all");
  EXPECT_TRUE(m[0].read_only);
  EXPECT_TRUE(m[1].read_only);  // configMaps are always read-only
}

TEST(PlanVolumes, SecretsProjectedAndEmptyDir) {
  auto src = Sources(R"({"containers":[{"name":"c","image":"i","volumeMounts":[
      {"name":"s","mountPath":"/s"},{"name":"proj","mountPath":"/p"},{"name":"e","mountPath":"/e"},
      {"name":"e","mountPath":"/f","subPath":"sub"}]}],
      "volumes":[{"name":"s","secret":{"secretName":"sec"}},
                 {"name":"proj","projected":{"defaultMode":288,"sources":[]}},
                 {"name":"e","emptyDir":{}}]})",
                     "[]", R"([{"metadata":{"name":"sec"},"data":{"token":"YWJj"}}])",
                     R"([{"metadata":{"name":"proj"},"data":{"ca.crt":"CERT","namespace":"ns"}}])");
  auto p = PlanVolumes(src, "/pods/u1", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/s/token")->content, "abc");
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/s/token")->mode, 0644);
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/proj/ca.crt")->mode, 0440);
  bool empty_dir = false;
  for (const auto& d : p->dirs)
    empty_dir = empty_dir || (d.path == "/pods/u1/volumes/e" && d.mode == 0777);
  EXPECT_TRUE(empty_dir);
  const auto& m = p->mounts.at("c");
  EXPECT_FALSE(m[2].read_only);
  // Docker gets the pin (bind_source.h); the check names the path below the volume.
  EXPECT_EQ(m[3].source, "/pods/u1/pins/c/3");
  ASSERT_TRUE(m[3].check.has_value());
  EXPECT_EQ(*m[3].check, (BindCheck{"/pods/u1/volumes/e", "sub", true, "/pods/u1/pins/c/3"}));
}

TEST(PlanVolumes, ProjectedSourcesAreBuiltWhenInterLinkDidNotRenderThem) {
  auto src = Sources(
      R"({"containers":[{"name":"c","image":"i","volumeMounts":[{"name":"proj","mountPath":"/p"}]}],
      "volumes":[{"name":"proj","projected":{"sources":[
         {"configMap":{"name":"cm","items":[{"key":"a","path":"conf/a"}]}},
         {"downwardAPI":{"items":[{"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}},
         {"serviceAccountToken":{"path":"token"}}]}}]})",
      R"([{"metadata":{"name":"cm"},"data":{"a":"A"}}])");
  auto p = PlanVolumes(src, "/pods/u1", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/proj/conf/a")->content, "A");
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/proj/name")->content, "p");
  EXPECT_EQ(FileAt(*p, "/pods/u1/volumes/proj/token"), nullptr);
}

TEST(PlanVolumes, HostPathNeedsTheAllowList) {
  std::string spec =
      R"({"containers":[{"name":"c","image":"i","volumeMounts":[{"name":"h","mountPath":"/h"}]}],
      "volumes":[{"name":"h","hostPath":{"path":"/data/in/../x"}}]})";
  auto refused = PlanVolumes(Sources(spec), "/pods/u1", {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("HostPathAllowList"), std::string::npos);
  auto outside = PlanVolumes(Sources(spec), "/pods/u1", {"/data/in"});
  EXPECT_FALSE(outside.ok());  // /data/in/../x is /data/x
  auto ok = PlanVolumes(Sources(spec), "/pods/u1", {"/data"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->mounts.at("c")[0].source, "/pods/u1/pins/c/0");
  EXPECT_EQ(ok->mounts.at("c")[0].check->base + "/" + ok->mounts.at("c")[0].check->rel, "/data/x");
  EXPECT_FALSE(ok->mounts.at("c")[0].read_only);
}

TEST(PlanVolumes, RejectsHostileOrUnsupportedInput) {
  auto plan = [](const std::string& vol, const std::string& mount, const std::string& cms = "[]") {
    return PlanVolumes(Sources(R"({"containers":[{"name":"c","image":"i","volumeMounts":[)" +
                                   mount + R"(]}],"volumes":[)" + vol + "]}",
                               cms),
                       "/pods/u1", {});
  };
  EXPECT_FALSE(plan(R"({"name":"v","emptyDir":{}})", R"({"name":"v","mountPath":"rel"})").ok());
  EXPECT_FALSE(plan(R"({"name":"v","emptyDir":{}})",
                    R"({"name":"v","mountPath":"/x","subPath":"../../etc"})")
                   .ok());
  EXPECT_FALSE(plan(R"({"name":"v","emptyDir":{}})", R"({"name":"other","mountPath":"/x"})").ok());
  EXPECT_FALSE(plan(R"({"name":"v","persistentVolumeClaim":{"claimName":"c"}})",
                    R"({"name":"v","mountPath":"/x"})")
                   .ok());
  EXPECT_FALSE(
      plan(
          R"({"name":"v","configMap":{"name":"cm","items":[{"key":"a","path":"../../../etc/passwd"}]}})",
          R"({"name":"v","mountPath":"/x"})", R"([{"metadata":{"name":"cm"},"data":{"a":"x"}}])")
          .ok());
  auto missing =
      plan(R"({"name":"v","configMap":{"name":"nope"}})", R"({"name":"v","mountPath":"/x"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("configMap nope"), std::string::npos);
  EXPECT_TRUE(plan(R"({"name":"v","configMap":{"name":"nope","optional":true}})",
                   R"({"name":"v","mountPath":"/x"})")
                  .ok());
  // An unsupported volume nobody mounts is harmless.
  EXPECT_TRUE(plan(R"({"name":"v","nfs":{"server":"s","path":"/"}})", "").ok());
}

TEST(MountArg, QuotesFieldsSoCommasAndQuotesSurvive) {
  EXPECT_EQ(MountArg({"/a,b", "/x\"y", true, std::nullopt}),
            "--mount=type=bind,\"source=/a,b\",\"target=/x\"\"y\",readonly");
  EXPECT_EQ(MountArg({"/a", "/b", false, std::nullopt}),
            "--mount=type=bind,\"source=/a\",\"target=/b\"");
}

TEST(ApplyVolumePlan, WritesExactBytesAndModes) {
  std::string root = fs::temp_directory_path() / ("il-vol-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  VolumePlan p;
  p.dirs.push_back({root, 0700});
  p.dirs.push_back({root + "/e", 0777});
  p.files.push_back({root + "/v/sub/f", std::string("a\nb\0c", 5), 0400});
  ASSERT_TRUE(ApplyVolumePlan(p, {}).ok());
  std::ifstream in(root + "/v/sub/f", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), std::string("a\nb\0c", 5));
  struct stat st;
  ASSERT_EQ(::stat((root + "/v/sub/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
  ASSERT_EQ(::stat((root + "/e").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0777u);
  fs::remove_all(root);
}

TEST(ApplyVolumePlan, HostPathThroughASymlinkOutsideTheListIsRefused) {
  std::string root = fs::temp_directory_path() / ("il-vol-link-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root + "/allowed");
  fs::create_symlink("/etc", root + "/allowed/escape");
  VolumePlan p;
  p.host_paths.emplace_back(root + "/allowed/escape", "");
  Status s = ApplyVolumePlan(p, {root + "/allowed"});
  EXPECT_FALSE(s.ok());
  p.host_paths = {{root + "/allowed/new", "DirectoryOrCreate"}};
  p.dirs.push_back({root + "/allowed/new", 0755, false});
  EXPECT_TRUE(ApplyVolumePlan(p, {root + "/allowed"}).ok());
  EXPECT_TRUE(fs::is_directory(root + "/allowed/new"));
  // FileOrCreate makes the file, but not through a link planted at its name.
  p = VolumePlan();
  p.host_paths = {{root + "/allowed/new/f", "FileOrCreate"}};
  EXPECT_TRUE(ApplyVolumePlan(p, {root + "/allowed"}).ok());
  EXPECT_TRUE(fs::is_regular_file(root + "/allowed/new/f"));
  fs::create_symlink(root + "/outside-file", root + "/allowed/new/g");
  p.host_paths = {{root + "/allowed/new/g", "FileOrCreate"}};
  EXPECT_FALSE(ApplyVolumePlan(p, {root + "/allowed"}).ok());
  EXPECT_FALSE(fs::exists(root + "/outside-file"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace il::docker
