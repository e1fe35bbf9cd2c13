#include "core/sqlite.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "testing/assert_ok.h"
#include "testing/temp_dir.h"

namespace il::sqlite {
namespace {

std::vector<std::string> Names(Database& db) {
  std::vector<std::string> out;
  auto q = db.Prepare("SELECT name FROM t ORDER BY id");
  EXPECT_OK(q);
  EXPECT_OK(q->ForEachRow([&](const Statement::Row& r) { out.push_back(r.Text(0)); }));
  return out;
}

TEST(Sqlite, BindsRunsAndReadsBackEveryType) {
  auto db = Database::Open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, x REAL)"));
  auto put = (*db)->Prepare("INSERT INTO t (id, name, x) VALUES (?, ?, ?)");
  ASSERT_OK(put);
  const std::string nul("a\0b", 3);
  ASSERT_OK(put->Bind(1, int64_t{1} << 40).Bind(2, nul).Bind(3, 2.5).Run());
  ASSERT_OK(put->Bind(1, 2).Bind(2, "two").Bind(3, -1.0).Run());  // reusable after Run
  auto get = (*db)->Prepare("SELECT id, name, x FROM t ORDER BY id");
  ASSERT_OK(get);
  std::vector<std::tuple<int64_t, std::string, double>> rows;
  ASSERT_OK(get->ForEachRow(
      [&](const Statement::Row& r) { rows.emplace_back(r.Int64(0), r.Text(1), r.Double(2)); }));
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0], std::make_tuple(int64_t{2}, std::string("two"), -1.0));
  EXPECT_EQ(rows[1], std::make_tuple(int64_t{1} << 40, nul, 2.5));
}

TEST(Sqlite, TransactionRollsBackWhenTheBodyFails) {
  auto db = Database::Open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"));
  auto put = (*db)->Prepare("INSERT INTO t (id, name) VALUES (?, ?)");
  ASSERT_OK(put);
  ASSERT_OK((*db)->Transaction([&] { return put->Bind(1, 1).Bind(2, "kept").Run(); }));
  Status s = (*db)->Transaction([&] {
    IL_RETURN_IF_ERROR(put->Bind(1, 2).Bind(2, "undone").Run());
    return put->Bind(1, 1).Bind(2, "duplicate").Run();  // primary key taken
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(Names(**db), std::vector<std::string>{"kept"});
}

TEST(Sqlite, FileIsPrivateAndNeverASymlinkTarget) {
  testing::TempDir dir("sqlite");
  {
    auto db = Database::Open(dir.File("state.db"));
    ASSERT_OK(db);
    ASSERT_OK((*db)->Exec("CREATE TABLE t (id INTEGER)"));
  }
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(::symlink(dir.File("elsewhere").c_str(), dir.File("link.db").c_str()), 0);
  auto db = Database::Open(dir.File("link.db"));
  EXPECT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("link.db"), std::string::npos);
}

TEST(Sqlite, ALockHeldElsewhereIsUnavailableAfterTheBusyTimeout) {
  testing::TempDir dir("sqlite");
  OpenOptions quick;
  quick.busy_timeout = std::chrono::milliseconds(0);
  auto a = Database::Open(dir.File("db"), quick);
  auto b = Database::Open(dir.File("db"), quick);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK((*a)->Exec("CREATE TABLE t (id INTEGER)"));
  ASSERT_OK((*a)->Exec("BEGIN IMMEDIATE"));
  Status s = (*b)->Exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  ASSERT_OK((*a)->Exec("COMMIT"));
  EXPECT_OK((*b)->Exec("INSERT INTO t VALUES (1)"));
}

TEST(Sqlite, BadSqlIsAnErrorNamingTheFile) {
  auto db = Database::Open(":memory:");
  ASSERT_OK(db);
  auto q = (*db)->Prepare("SELEKT 1");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInternal);
  EXPECT_NE(q.status().message().find(":memory:"), std::string::npos);
}

}  // namespace
}  // namespace il::sqlite
