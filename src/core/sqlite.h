// SQLite helper: the one way the project's state stores talk to SQLite (mock-sd's pod
// table, slurm-sd's job table, docker-sd's pod table).
//
//   auto db = sqlite::Database::Open(path);          // private file, WAL, busy timeout
//   IL_RETURN_IF_ERROR((*db)->Exec("CREATE TABLE IF NOT EXISTS ..."));
//   IL_ASSIGN_OR_RETURN(auto put, (*db)->Prepare("INSERT INTO t VALUES (?, ?)"));
//   IL_RETURN_IF_ERROR(put.Bind(1, uid).Bind(2, int64_t{7}).Run());
//   IL_RETURN_IF_ERROR((*db)->Transaction([&] { ...; return Status::Ok(); }));
//
// Errors come back as Status: SQLITE_BUSY/LOCKED (the busy timeout ran out) as
// kUnavailable, a constraint violation as kFailedPrecondition, anything else as
// kInternal; each message names the database file and the failed step.
//
// Thread-safety: a Database and its Statements are NOT thread-safe (the connection is
// opened without SQLite's own mutex); a store serialises its calls with its own Mutex.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace il::sqlite {

struct OpenOptions {
  // Create the file with this mode (O_NOFOLLOW: never through a planted symlink) before
  // SQLite opens it, and force the mode on an existing file. 0 leaves it to SQLite/umask.
  mode_t file_mode = 0600;
  // How long a statement waits for a lock held by another connection.
  std::chrono::milliseconds busy_timeout{5000};
  // WAL + synchronous=NORMAL: a committed write survives a crash of the process
  // (kill -9); only a power loss may lose the last transactions.
  bool wal = true;
};

class Database;

// A prepared statement. Bind parameters (1-based), then Run (no rows) or ForEachRow;
// both reset the statement and clear its bindings afterwards, so it can be reused.
class Statement {
 public:
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Text is copied (SQLITE_TRANSIENT): the argument may go before the statement runs.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, int64_t{value}); }
  Statement& Bind(int index, double value);

  // Runs a statement that returns no rows (INSERT, UPDATE, DELETE, ...).
  Status Run();

  // Column readers, valid inside ForEachRow's callback (0-based columns).
  class Row {
   public:
    std::string Text(int column) const;  // "" for NULL
    int64_t Int64(int column) const;
    double Double(int column) const;

   private:
    friend class Statement;
    explicit Row(sqlite3_stmt* s) : s_(s) {}
    sqlite3_stmt* s_;
  };
  // Calls `row` for each result row, in order.
  Status ForEachRow(const std::function<void(const Row&)>& row);

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  void Reset();
  Database* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  Status bind_error_;  // the first failed Bind, reported by Run/ForEachRow
};

class Database {
 public:
  // Opens or creates the database at `path`; ":memory:" (or "") for a private one.
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const OpenOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements without parameters (schema, pragmas).
  Status Exec(const std::string& sql);
  Result<Statement> Prepare(std::string_view sql);
  // Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back when `body` or the commit
  // fails, and returns that failure.
  Status Transaction(const std::function<Status()>& body);

  const std::string& path() const { return path_; }
  // The status for a failed step: the code of the last error and its message.
  Status Error(std::string_view what) const;

 private:
  Database() = default;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace il::sqlite
