#include "sidecars/mock/state_store.h"

#include <gtest/gtest.h>

#include "testing/assert_ok.h"
#include "testing/temp_dir.h"

namespace il::mock {
namespace {

StoredPod Pod(int64_t seq, const std::string& uid) {
  return StoredPod{seq, uid, "mock-" + std::to_string(seq), 1'000'000'000 * seq, "{\"x\":1}"};
}

TEST(SqliteStateStore, InMemoryStoreStartsEmpty) {
  auto st = SqliteStateStore::Open(":memory:");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto s = (*st)->Load();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->pods.empty());
  EXPECT_EQ(s->next_seq, 1);
}

TEST(SqliteStateStore, InsertRemoveAndLoad) {
  auto st = std::move(SqliteStateStore::Open(":memory:")).value();
  ASSERT_TRUE(st->Insert(Pod(1, "a")).ok());
  ASSERT_TRUE(st->Insert(Pod(2, "b")).ok());
  ASSERT_TRUE(st->Remove("a").ok());
  ASSERT_TRUE(st->Remove("nosuch").ok());
  auto s = st->Load();
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->pods.size(), 1u);
  EXPECT_EQ(s->pods[0].uid, "b");
  EXPECT_EQ(s->pods[0].jid, "mock-2");
  EXPECT_EQ(s->pods[0].created_ns, 2'000'000'000);
  EXPECT_EQ(s->pods[0].pod_json, "{\"x\":1}");
  EXPECT_EQ(s->next_seq, 3);
}

TEST(SqliteStateStore, FileSurvivesReopenAndNeverReusesSequence) {
  testing::TempDir dir("mock-store");
  const std::string path = dir.File("state.sqlite");
  {
    auto st = std::move(SqliteStateStore::Open(path)).value();
    ASSERT_OK(st->Insert(Pod(1, "a")));
    ASSERT_OK(st->Insert(Pod(2, "b")));
    ASSERT_OK(st->Remove("b"));
  }
  {
    auto st = std::move(SqliteStateStore::Open(path)).value();
    auto s = st->Load();
    ASSERT_OK(s);
    ASSERT_EQ(s->pods.size(), 1u);
    EXPECT_EQ(s->pods[0].uid, "a");
    EXPECT_EQ(s->next_seq, 3) << "the deleted pod's number is not handed out again";
  }
}

TEST(SqliteStateStore, UnopenablePathIsAnError) {
  auto st = SqliteStateStore::Open("/nonexistent-dir/x/state.sqlite");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kInternal);
  EXPECT_NE(st.status().message().find("/nonexistent-dir/x/state.sqlite"), std::string::npos);
}

}  // namespace
}  // namespace il::mock
