#include "sidecars/docker/state_store.h"

#include <cstdio>
#include <filesystem>
#include <random>

namespace il::docker {
namespace {

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
  std::unique_ptr<StateStore> s(new StateStore());
  MutexLock l(s->mu_);
  // A private file (0600, created before SQLite opens it, never through a symlink), WAL.
  auto db = sqlite::Database::Open(path);
  if (!db.ok()) return db.status().WithContext("state file " + path);
  s->db_ = std::move(*db);
  Status st = s->Init();
  if (!st.ok()) return st.WithContext("state file " + path);
  l.Unlock();
  return s;
}

StateStore::~StateStore() = default;

Status StateStore::Init() {
  IL_RETURN_IF_ERROR(
      db_->Exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS pods (uid TEXT PRIMARY KEY, plan TEXT NOT NULL,"
                " stage TEXT NOT NULL, created INTEGER NOT NULL)"));
  sqlite::Database& db = *db_;  // under mu_: the analysis does not follow it into the lambda
  return db.Transaction([&]() -> Status {
    // Added for probes and hooks (issue 13); older files get the column here.
    if (!db.Exec("SELECT runtime FROM pods LIMIT 0").ok()) {
      IL_RETURN_IF_ERROR(db.Exec("ALTER TABLE pods ADD COLUMN runtime TEXT NOT NULL DEFAULT ''"));
    }
    IL_ASSIGN_OR_RETURN(auto get, db.Prepare("SELECT value FROM meta WHERE key='instance'"));
    bool found = false;
    IL_RETURN_IF_ERROR(get.ForEachRow([&](const sqlite::Statement::Row& r) {
      instance_id_ = r.Text(0);
      found = true;
    }));
    if (found) return Status::Ok();
    instance_id_ = RandomId();
    IL_ASSIGN_OR_RETURN(auto put, db.Prepare("INSERT INTO meta(key, value) VALUES('instance', ?)"));
    return put.Bind(1, instance_id_).Run();
  });
}

Status StateStore::Insert(const PodRecord& r) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("INSERT INTO pods(uid, plan, stage, created) VALUES(?, ?, ?, ?)"));
  Status st = s.Bind(1, r.uid).Bind(2, r.plan_json).Bind(3, r.stage).Bind(4, r.created_unix).Run();
  if (st.code() == StatusCode::kFailedPrecondition) {  // the UID's primary key
    return Status(StatusCode::kAlreadyExists, "pod " + r.uid + " is stored");
  }
  return st;
}

Status StateStore::SetStage(const std::string& uid, const std::string& stage) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE pods SET stage=? WHERE uid=?"));
  return s.Bind(1, stage).Bind(2, uid).Run();
}

Status StateStore::SetRuntime(const std::string& uid, const std::string& runtime_json) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE pods SET runtime=? WHERE uid=?"));
  return s.Bind(1, runtime_json).Bind(2, uid).Run();
}

Status StateStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM pods WHERE uid=?"));
  return s.Bind(1, uid).Run();
}

Result<std::vector<PodRecord>> StateStore::LoadAll() {
  MutexLock l(mu_);
  IL_ASSIGN_OR_RETURN(
      auto s,
      db_->Prepare("SELECT uid, plan, stage, created, runtime FROM pods ORDER BY created, uid"));
  std::vector<PodRecord> out;
  IL_RETURN_IF_ERROR(s.ForEachRow([&out](const sqlite::Statement::Row& r) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int64(3), r.Text(4)});
  }));
  return out;
}

}  // namespace il::docker
