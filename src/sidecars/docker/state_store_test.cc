#include "sidecars/docker/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace il::docker {
namespace {

std::string TempDb(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("il-state-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return (dir / "sub" / "state.db").string();
}

TEST(StateStore, PersistsPodsAndTheInstanceIdAcrossReopen) {
  std::string path = TempDb("persist");
  std::string id;
  {
    auto s = StateStore::Open(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    id = (*s)->instance_id();
    EXPECT_EQ(id.size(), 16u);
    ASSERT_TRUE((*s)->Insert({"u1", "{\"plan\":1}", "pending", 10, ""}).ok());
    ASSERT_TRUE((*s)->Insert({"u2", "{}", "pending", 11, ""}).ok());
    EXPECT_EQ((*s)->Insert({"u1", "{}", "pending", 12, ""}).code(), StatusCode::kAlreadyExists);
    ASSERT_TRUE((*s)->SetStage("u1", "running").ok());
    ASSERT_TRUE((*s)->SetRuntime("u1", "{\"c\":{}}").ok());
    ASSERT_TRUE((*s)->Remove("u2").ok());
  }
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto s = StateStore::Open(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->instance_id(), id);
  auto rows = (*s)->LoadAll();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].uid, "u1");
  EXPECT_EQ((*rows)[0].plan_json, "{\"plan\":1}");
  EXPECT_EQ((*rows)[0].stage, "running");
  EXPECT_EQ((*rows)[0].runtime_json, "{\"c\":{}}");
  std::filesystem::remove_all(std::filesystem::path(path).parent_path().parent_path());
}

TEST(StateStore, UnopenablePathIsAnError) {
  auto s = StateStore::Open("/proc/no/such/dir/state.db");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace il::docker
