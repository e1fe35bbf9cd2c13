#include "sidecars/docker/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/sqlite.h"
#include "testing/assert_ok.h"
#include "testing/temp_dir.h"

namespace il::docker {
namespace {

TEST(StateStore, PersistsPodsAndTheInstanceIdAcrossReopen) {
  testing::TempDir dir("docker-state");
  std::string path = dir.File("sub/state.db");  // the parent directory is created
  std::string id;
  {
    auto s = StateStore::Open(path);
    ASSERT_OK(s);
    id = (*s)->instance_id();
    EXPECT_EQ(id.size(), 16u);
    ASSERT_OK((*s)->Insert({"u1", "{\"plan\":1}", "pending", 10, ""}));
    ASSERT_OK((*s)->Insert({"u2", "{}", "pending", 11, ""}));
    EXPECT_EQ((*s)->Insert({"u1", "{}", "pending", 12, ""}).code(), StatusCode::kAlreadyExists);
    ASSERT_OK((*s)->SetStage("u1", "running"));
    ASSERT_OK((*s)->SetRuntime("u1", "{\"c\":{}}"));
    ASSERT_OK((*s)->Remove("u2"));
  }
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto s = StateStore::Open(path);
  ASSERT_OK(s);
  EXPECT_EQ((*s)->instance_id(), id);
  auto rows = (*s)->LoadAll();
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].uid, "u1");
  EXPECT_EQ((*rows)[0].plan_json, "{\"plan\":1}");
  EXPECT_EQ((*rows)[0].stage, "running");
  EXPECT_EQ((*rows)[0].created_unix, 10);
  EXPECT_EQ((*rows)[0].runtime_json, "{\"c\":{}}");
}

// A file written before the runtime column (issue 13) gets it, and its rows and instance
// id load unchanged.
TEST(StateStore, FileWithoutTheRuntimeColumnStillLoads) {
  testing::TempDir dir("docker-state");
  std::string path = dir.File("state.db");
  {
    auto db = sqlite::Database::Open(path);
    ASSERT_OK(db);
    ASSERT_OK((*db)->Exec(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE pods (uid TEXT PRIMARY KEY, plan TEXT NOT NULL,"
        " stage TEXT NOT NULL, created INTEGER NOT NULL);"
        "INSERT INTO meta(key, value) VALUES('instance', '0123456789abcdef');"
        "INSERT INTO pods(uid, plan, stage, created) VALUES('old', '{\"x\":1}', 'running', 5)"));
  }
  auto s = StateStore::Open(path);
  ASSERT_OK(s);
  EXPECT_EQ((*s)->instance_id(), "0123456789abcdef");
  auto rows = (*s)->LoadAll();
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].uid, "old");
  EXPECT_EQ((*rows)[0].plan_json, "{\"x\":1}");
  EXPECT_EQ((*rows)[0].stage, "running");
  EXPECT_EQ((*rows)[0].created_unix, 5);
  EXPECT_EQ((*rows)[0].runtime_json, "");
  EXPECT_OK((*s)->SetRuntime("old", "{}"));
}

TEST(StateStore, UnopenablePathIsAnError) {
  auto s = StateStore::Open("/proc/no/such/dir/state.db");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace il::docker
