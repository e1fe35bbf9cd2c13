// Golden tests of generated job scripts: test/data/slurm/<case>.json holds a config
// (YAML text) and the RetrievedPodData; <case>.golden is the expected script and, on a
// shared filesystem, <case>.files.golden the volume files the sidecar writes.
// Regenerate with: IL_UPDATE_GOLDEN=1 build/.../slurm_sd_test --gtest_filter='JobScriptGolden*'
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "sidecars/slurm/job_script.h"
#include "sidecars/slurm/job_spec.h"
#include "testing/assert_ok.h"
#include "testing/golden.h"

namespace il::slurm {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(IL_SOURCE_DIR) / "test/data/slurm";

Result<JobSpec> SpecFor(const fs::path& json_file) {
  IL_ASSIGN_OR_RETURN(auto v, api::ParseJson(testing::ReadFile(json_file)));
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  IL_ASSIGN_OR_RETURN(auto ilc,
                      ParseConfig(std::string(v.at("config").as_string()), json_file.string(), env,
                                  {config::InfoOf(SlurmKeys()), {}}));
  IL_ASSIGN_OR_RETURN(auto cfg, SlurmConfigFrom(ilc, env));
  IL_ASSIGN_OR_RETURN(auto data, api::ParseRetrievedPodData(v.at("data")));
  return BuildJobSpec(data, cfg);
}

std::string FilesListing(const JobSpec& spec) {
  std::string out;
  for (const auto& f : spec.files) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", f.mode);
    out +=
        "== " + f.path + " (mode " + mode + ", " + std::to_string(f.content.size()) + " bytes)\n";
    out += f.content + "\n";
  }
  return out;
}

TEST(JobScriptGolden, EveryCaseMatchesItsGolden) {
  int cases = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".json") continue;
    ++cases;
    SCOPED_TRACE(e.path().filename().string());
    auto spec = SpecFor(e.path());
    ASSERT_OK(spec);
    fs::path stem = e.path();
    stem.replace_extension("");
    EXPECT_TRUE(testing::MatchesGolden(stem.string() + ".golden", RenderJobScript(*spec)));
    if (!spec->embed_files && !spec->files.empty()) {
      EXPECT_TRUE(testing::MatchesGolden(stem.string() + ".files.golden", FilesListing(*spec)));
    }
  }
  EXPECT_GE(cases, 9);
}

TEST(JobScriptGolden, ScriptsAreValidBash) {
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".golden" || e.path().string().find(".files.") != std::string::npos)
      continue;
    SCOPED_TRACE(e.path().filename().string());
    std::string cmd = "/bin/bash -n '" + e.path().string() + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[512];
    std::string out;
    while (fgets(buf, sizeof(buf), p)) out += buf;
    EXPECT_EQ(pclose(p), 0) << out;
  }
}

TEST(JobScriptGolden, RenderingIsDeterministic) {
  auto spec = SpecFor(kDir / "podman_init_and_env.json");
  ASSERT_OK(spec);
  EXPECT_EQ(RenderJobScript(*spec), RenderJobScript(*spec));
}

}  // namespace
}  // namespace il::slurm
