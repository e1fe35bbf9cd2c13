#include "sidecars/docker/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace il::docker {
namespace {

// Finalizes a prepared statement on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  std::string Text(int col) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return t ? std::string(t, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : "";
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

std::string RandomId() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Internal("cannot create " + parent.string() + ": " + ec.message());
  {
    // Create it private before SQLite opens it.
    std::ofstream touch(path, std::ios::app);
    if (!touch) return Internal("cannot open state file " + path);
  }
  ::chmod(path.c_str(), 0600);
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal("cannot open state file " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<StateStore> s(new StateStore(db));
  Status st = s->Init();
  if (!st.ok()) return st.WithContext("state file " + path);
  return s;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("sqlite: " + m);
  }
  return Status::Ok();
}

Status StateStore::Init() {
  IL_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  IL_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  IL_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS pods (uid TEXT PRIMARY KEY, plan TEXT NOT NULL,"
           " stage TEXT NOT NULL, created INTEGER NOT NULL)"));
  // Added for probes and hooks (issue 13); older files get the column here.
  if (!Exec("SELECT runtime FROM pods LIMIT 0").ok()) {
    IL_RETURN_IF_ERROR(Exec("ALTER TABLE pods ADD COLUMN runtime TEXT NOT NULL DEFAULT ''"));
  }
  Stmt get(db_, "SELECT value FROM meta WHERE key='instance'");
  if (!get.ok()) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  if (sqlite3_step(get.get()) == SQLITE_ROW) {
    instance_id_ = get.Text(0);
    return Status::Ok();
  }
  instance_id_ = RandomId();
  Stmt put(db_, "INSERT INTO meta(key, value) VALUES('instance', ?)");
  put.Bind(1, instance_id_);
  if (sqlite3_step(put.get()) != SQLITE_DONE) {
    return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Status StateStore::Insert(const PodRecord& r) {
  MutexLock l(mu_);
  Stmt s(db_, "INSERT INTO pods(uid, plan, stage, created) VALUES(?, ?, ?, ?)");
  s.Bind(1, r.uid);
  s.Bind(2, r.plan_json);
  s.Bind(3, r.stage);
  s.Bind(4, r.created_unix);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_CONSTRAINT)
    return Status(StatusCode::kAlreadyExists, "pod " + r.uid + " is stored");
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite insert: ") + sqlite3_errmsg(db_));
  return Status::Ok();
}

Status StateStore::SetStage(const std::string& uid, const std::string& stage) {
  MutexLock l(mu_);
  Stmt s(db_, "UPDATE pods SET stage=? WHERE uid=?");
  s.Bind(1, stage);
  s.Bind(2, uid);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return Internal(std::string("sqlite update: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Status StateStore::SetRuntime(const std::string& uid, const std::string& runtime_json) {
  MutexLock l(mu_);
  Stmt s(db_, "UPDATE pods SET runtime=? WHERE uid=?");
  s.Bind(1, runtime_json);
  s.Bind(2, uid);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return Internal(std::string("sqlite update: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Status StateStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  Stmt s(db_, "DELETE FROM pods WHERE uid=?");
  s.Bind(1, uid);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return Internal(std::string("sqlite delete: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Result<std::vector<PodRecord>> StateStore::LoadAll() {
  MutexLock l(mu_);
  Stmt s(db_, "SELECT uid, plan, stage, created, runtime FROM pods ORDER BY created, uid");
  if (!s.ok()) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  std::vector<PodRecord> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back({s.Text(0), s.Text(1), s.Text(2), sqlite3_column_int64(s.get(), 3), s.Text(4)});
  }
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite read: ") + sqlite3_errmsg(db_));
  return out;
}

}  // namespace il::docker
