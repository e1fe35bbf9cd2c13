#include "sidecars/slurm/job_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace il::slurm {
namespace {

namespace json = boost::json;

double ToEpoch(const std::optional<TimePoint>& t) {
  if (!t) return -1;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

std::optional<TimePoint> FromEpoch(double d) {
  if (d < 0) return std::nullopt;
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(d)));
}

std::string ContainersJson(const std::vector<ContainerRef>& cs) {
  json::array a;
  for (const auto& c : cs)
    a.push_back(json::object{
        {"name", c.name}, {"image", c.image}, {"init", c.init}, {"watched", c.watched}});
  return json::serialize(a);
}

std::vector<ContainerRef> ParseContainers(const std::string& text) {
  std::vector<ContainerRef> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    if (!e.is_object()) continue;
    ContainerRef c;
    if (auto* n = e.as_object().if_contains("name"); n && n->is_string()) c.name = n->as_string();
    if (auto* i = e.as_object().if_contains("image"); i && i->is_string()) c.image = i->as_string();
    if (auto* b = e.as_object().if_contains("init"); b && b->is_bool()) c.init = b->as_bool();
    if (auto* w = e.as_object().if_contains("watched"); w && w->is_bool()) c.watched = w->as_bool();
    out.push_back(std::move(c));
  }
  return out;
}

std::string Text(sqlite3_stmt* s, int col) {
  const unsigned char* t = sqlite3_column_text(s, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

// Finalises a statement when it goes out of scope.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  std::unique_ptr<JobStore> st(new JobStore());
  if (!path.empty() && path != ":memory:") {
    // Created private before SQLite opens it (it never follows a planted symlink here).
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot open state database " + path + ": " + strerror(errno));
    ::fchmod(fd, 0600);
    ::close(fd);
  }
  if (sqlite3_open_v2(path.c_str(), &st->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = st->db_ ? sqlite3_errmsg(st->db_) : "out of memory";
    return Internal("cannot open state database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(st->db_, 5000);
  IL_RETURN_IF_ERROR(st->Exec("PRAGMA journal_mode=WAL"));
  IL_RETURN_IF_ERROR(st->Exec("PRAGMA synchronous=NORMAL"));
  IL_RETURN_IF_ERROR(st->Exec(
      "CREATE TABLE IF NOT EXISTS pods (uid TEXT PRIMARY KEY, namespace TEXT NOT NULL, "
      "name TEXT NOT NULL, dir TEXT NOT NULL, containers TEXT NOT NULL, job_id TEXT NOT NULL, "
      "state TEXT NOT NULL, reason TEXT NOT NULL, exit_code INTEGER NOT NULL, "
      "signal INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL, "
      "created REAL NOT NULL)"));
  return st;
}

JobStore::~JobStore() { sqlite3_close(db_); }

Status JobStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("state database: " + msg);
  }
  return Status::Ok();
}

Status JobStore::Put(const PodRecord& r) {
  MutexLock l(mu_);
  Stmt st;
  const char* sql =
      "INSERT OR REPLACE INTO pods (uid, namespace, name, dir, containers, job_id, state, reason, "
      "exit_code, signal, start_time, end_time, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  std::string containers = ContainersJson(r.containers);
  std::string state(JobStateName(r.job.state));
  sqlite3_bind_text(st.s, 1, r.uid.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, r.ns.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, r.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, r.dir.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 5, containers.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 6, r.job.job_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 7, state.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 8, r.job.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st.s, 9, r.job.exit_code);
  sqlite3_bind_int(st.s, 10, r.job.signal);
  sqlite3_bind_double(st.s, 11, ToEpoch(r.job.start));
  sqlite3_bind_double(st.s, 12, ToEpoch(r.job.end));
  sqlite3_bind_double(st.s, 13, ToEpoch(r.created));
  if (sqlite3_step(st.s) != SQLITE_DONE) {
    return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Status JobStore::Remove(const std::string& uid) {
  MutexLock l(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "DELETE FROM pods WHERE uid = ?", -1, &st.s, nullptr) != SQLITE_OK) {
    return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  sqlite3_bind_text(st.s, 1, uid.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) {
    return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Result<std::vector<PodRecord>> JobStore::LoadAll() {
  MutexLock l(mu_);
  Stmt st;
  const char* sql =
      "SELECT uid, namespace, name, dir, containers, job_id, state, reason, exit_code, signal, "
      "start_time, end_time, created FROM pods ORDER BY created";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  std::vector<PodRecord> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    PodRecord r;
    r.uid = Text(st.s, 0);
    r.ns = Text(st.s, 1);
    r.name = Text(st.s, 2);
    r.dir = Text(st.s, 3);
    r.containers = ParseContainers(Text(st.s, 4));
    r.job.job_id = Text(st.s, 5);
    std::string state = Text(st.s, 6);
    r.job.state = state == "LOST" ? JobState::kLost : ParseJobState(state);
    r.job.reason = Text(st.s, 7);
    r.job.exit_code = sqlite3_column_int(st.s, 8);
    r.job.signal = sqlite3_column_int(st.s, 9);
    r.job.start = FromEpoch(sqlite3_column_double(st.s, 10));
    r.job.end = FromEpoch(sqlite3_column_double(st.s, 11));
    r.created = FromEpoch(sqlite3_column_double(st.s, 12)).value_or(TimePoint{});
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Internal(std::string("state database: ") + sqlite3_errmsg(db_));
  return out;
}

}  // namespace il::slurm
