#include "sidecars/mock/state_store.h"

#include <algorithm>

namespace il::mock {

namespace {
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS pods ("
    "  uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, jid TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL, pod TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);";
}  // namespace

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path) {
  std::unique_ptr<SqliteStateStore> st(new SqliteStateStore());
  MutexLock l(st->mu_);
  // WAL (the default): a committed create survives a crash of the process (kill -9).
  IL_ASSIGN_OR_RETURN(st->db_, sqlite::Database::Open(path));
  IL_RETURN_IF_ERROR(st->db_->Exec(kSchema));
  IL_ASSIGN_OR_RETURN(
      st->insert_,
      st->db_->Prepare(
          "INSERT OR REPLACE INTO pods (uid, seq, jid, created_ns, pod) VALUES (?, ?, ?, ?, ?)"));
  IL_ASSIGN_OR_RETURN(st->bump_,
                      st->db_->Prepare("INSERT INTO meta (key, value) VALUES ('next_seq', ?) "
                                       "ON CONFLICT(key) DO UPDATE SET value = "
                                       "max(value, excluded.value)"));
  IL_ASSIGN_OR_RETURN(st->remove_, st->db_->Prepare("DELETE FROM pods WHERE uid = ?"));
  IL_ASSIGN_OR_RETURN(st->select_, st->db_->Prepare("SELECT seq, uid, jid, created_ns, pod "
                                                    "FROM pods ORDER BY seq"));
  IL_ASSIGN_OR_RETURN(st->next_, st->db_->Prepare("SELECT value FROM meta WHERE key = 'next_seq'"));
  l.Unlock();
  return st;
}

Result<StoredState> SqliteStateStore::Load() {
  MutexLock l(mu_);
  StoredState out;
  IL_RETURN_IF_ERROR(select_->ForEachRow([&out](const sqlite::Statement::Row& r) {
    StoredPod p;
    p.seq = r.Int64(0);
    p.uid = r.Text(1);
    p.jid = r.Text(2);
    p.created_ns = r.Int64(3);
    p.pod_json = r.Text(4);
    out.next_seq = std::max(out.next_seq, p.seq + 1);
    out.pods.push_back(std::move(p));
  }));
  IL_RETURN_IF_ERROR(next_->ForEachRow([&out](const sqlite::Statement::Row& r) {
    out.next_seq = std::max(out.next_seq, r.Int64(0));
  }));
  return out;
}

Status SqliteStateStore::Insert(const StoredPod& p) {
  MutexLock l(mu_);
  // Taken under mu_ here: the analysis does not follow the lock into the lambda.
  sqlite::Statement& insert = *insert_;
  sqlite::Statement& bump = *bump_;
  return db_->Transaction([&] {
    IL_RETURN_IF_ERROR(insert.Bind(1, p.uid)
                           .Bind(2, p.seq)
                           .Bind(3, p.jid)
                           .Bind(4, p.created_ns)
                           .Bind(5, p.pod_json)
                           .Run());
    return bump.Bind(1, p.seq + 1).Run();
  });
}

Status SqliteStateStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  return remove_->Bind(1, uid).Run();
}

}  // namespace il::mock
