#include "sidecars/mock/state_store.h"

#include <sqlite3.h>

namespace il::mock {

namespace {
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS pods ("
    "  uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, jid TEXT NOT NULL,"
    "  created_ns INTEGER NOT NULL, pod TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

// Resets a statement after use, whatever path the caller leaves by.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

std::string Column(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i)) : "";
}
}  // namespace

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path) {
  std::unique_ptr<SqliteStateStore> st(new SqliteStateStore());
  st->path_ = path;
  int rc =
      sqlite3_open_v2(path.c_str(), &st->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return st->Error("cannot open");
  sqlite3_busy_timeout(st->db_, 5000);
  // WAL + NORMAL: a committed create survives a crash of the process (kill -9).
  IL_RETURN_IF_ERROR(st->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  IL_RETURN_IF_ERROR(st->Exec(kSchema));
  IL_RETURN_IF_ERROR(st->Prepare(
      "INSERT OR REPLACE INTO pods (uid, seq, jid, created_ns, pod) VALUES (?, ?, ?, ?, ?)",
      &st->insert_));
  IL_RETURN_IF_ERROR(
      st->Prepare("INSERT INTO meta (key, value) VALUES ('next_seq', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                  &st->bump_));
  IL_RETURN_IF_ERROR(st->Prepare("DELETE FROM pods WHERE uid = ?", &st->remove_));
  IL_RETURN_IF_ERROR(
      st->Prepare("SELECT seq, uid, jid, created_ns, pod FROM pods ORDER BY seq", &st->select_));
  IL_RETURN_IF_ERROR(st->Prepare("SELECT value FROM meta WHERE key = 'next_seq'", &st->next_));
  return st;
}

SqliteStateStore::~SqliteStateStore() {
  for (sqlite3_stmt* s : {insert_, bump_, remove_, select_, next_}) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

Status SqliteStateStore::Error(const std::string& what) {
  return Internal("mock state " + path_ + ": " + what + ": " +
                  (db_ ? sqlite3_errmsg(db_) : "out of memory"));
}

Status SqliteStateStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("mock state " + path_ + ": " + msg);
  }
  return Status::Ok();
}

Status SqliteStateStore::Prepare(const char* sql, sqlite3_stmt** stmt) {
  if (sqlite3_prepare_v2(db_, sql, -1, stmt, nullptr) != SQLITE_OK) return Error("prepare");
  return Status::Ok();
}

Result<StoredState> SqliteStateStore::Load() {
  MutexLock l(mu_);
  StoredState out;
  {
    StmtUse q(select_);
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      StoredPod p;
      p.seq = sqlite3_column_int64(q.get(), 0);
      p.uid = Column(q.get(), 1);
      p.jid = Column(q.get(), 2);
      p.created_ns = sqlite3_column_int64(q.get(), 3);
      p.pod_json = Column(q.get(), 4);
      out.next_seq = std::max(out.next_seq, p.seq + 1);
      out.pods.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE) return Error("load pods");
  }
  StmtUse q(next_);
  int rc = sqlite3_step(q.get());
  if (rc == SQLITE_ROW) {
    out.next_seq = std::max(out.next_seq, static_cast<int64_t>(sqlite3_column_int64(q.get(), 0)));
  } else if (rc != SQLITE_DONE) {
    return Error("load counter");
  }
  return out;
}

Status SqliteStateStore::Insert(const StoredPod& p) {
  MutexLock l(mu_);
  IL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [this](const char* what) {
    Status s = Error(what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    StmtUse q(insert_);
    sqlite3_bind_text(q.get(), 1, p.uid.data(), static_cast<int>(p.uid.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q.get(), 2, p.seq);
    sqlite3_bind_text(q.get(), 3, p.jid.data(), static_cast<int>(p.jid.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q.get(), 4, p.created_ns);
    sqlite3_bind_text(q.get(), 5, p.pod_json.data(), static_cast<int>(p.pod_json.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(q.get()) != SQLITE_DONE) return fail("insert pod");
  }
  {
    StmtUse q(bump_);
    sqlite3_bind_int64(q.get(), 1, p.seq + 1);
    if (sqlite3_step(q.get()) != SQLITE_DONE) return fail("advance counter");
  }
  if (Status s = Exec("COMMIT"); !s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Status::Ok();
}

Status SqliteStateStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  StmtUse q(remove_);
  sqlite3_bind_text(q.get(), 1, uid.data(), static_cast<int>(uid.size()), SQLITE_STATIC);
  if (sqlite3_step(q.get()) != SQLITE_DONE) return Error("delete pod");
  return Status::Ok();
}

}  // namespace il::mock
