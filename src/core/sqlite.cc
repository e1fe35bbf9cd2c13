#include "core/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace il::sqlite {
namespace {

StatusCode CodeOf(int rc) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return StatusCode::kFailedPrecondition;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Statement::Statement(Statement&& o) noexcept
    : db_(o.db_), s_(std::exchange(o.s_, nullptr)), bind_error_(std::move(o.bind_error_)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = std::exchange(o.s_, nullptr);
    bind_error_ = std::move(o.bind_error_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(s_); }

Statement& Statement::Bind(int index, std::string_view text) {
  if (sqlite3_bind_text(s_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) !=
          SQLITE_OK &&
      bind_error_.ok()) {
    bind_error_ = db_->Error("bind");
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  if (sqlite3_bind_int64(s_, index, value) != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = db_->Error("bind");
  }
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  if (sqlite3_bind_double(s_, index, value) != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = db_->Error("bind");
  }
  return *this;
}

void Statement::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  bind_error_ = Status::Ok();
}

Status Statement::Run() {
  return ForEachRow([](const Row&) {});
}

Status Statement::ForEachRow(const std::function<void(const Row&)>& row) {
  if (!bind_error_.ok()) {
    Status s = bind_error_;
    Reset();
    return s;
  }
  int rc;
  while ((rc = sqlite3_step(s_)) == SQLITE_ROW) row(Row(s_));
  // The error must be read before the reset (which would report it again, not clear it).
  Status s = rc == SQLITE_DONE ? Status::Ok() : db_->Error("step");
  Reset();
  return s;
}

std::string Statement::Row::Text(int column) const {
  const unsigned char* t = sqlite3_column_text(s_, column);
  if (t == nullptr) return "";
  return {reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, column))};
}

int64_t Statement::Row::Int64(int column) const { return sqlite3_column_int64(s_, column); }

double Statement::Row::Double(int column) const { return sqlite3_column_double(s_, column); }

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const OpenOptions& options) {
  std::unique_ptr<Database> db(new Database());
  db->path_ = path.empty() ? ":memory:" : path;
  if (db->path_ != ":memory:" && options.file_mode != 0) {
    // Created private before SQLite opens it (it never follows a planted symlink here).
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, options.file_mode);
    if (fd < 0) return Internal("cannot open database " + path + ": " + std::strerror(errno));
    ::fchmod(fd, options.file_mode);
    ::close(fd);
  }
  if (sqlite3_open_v2(db->path_.c_str(), &db->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return db->Error("open");
  }
  sqlite3_busy_timeout(db->db_, static_cast<int>(options.busy_timeout.count()));
  if (options.wal) {
    IL_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  }
  return db;
}

Database::~Database() { sqlite3_close(db_); }

Status Database::Error(std::string_view what) const {
  if (db_ == nullptr)
    return Internal("database " + path_ + ": " + std::string(what) + ": no memory");
  return Status(CodeOf(sqlite3_extended_errcode(db_)),
                "database " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status(CodeOf(rc), "database " + path_ + ": " + msg);
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  return Statement(this, s);
}

Status Database::Transaction(const std::function<Status()>& body) {
  IL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = body();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");
  return s;
}

}  // namespace il::sqlite
