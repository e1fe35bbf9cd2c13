// StateStore: where the mock sidecar keeps its pods so they survive a restart.
//
// The backend keeps everything it answers from in memory and writes through to the
// store on create and delete only; the store is read once, at start-up. SqliteStateStore
// is the real one (a file in WAL mode, or ":memory:" for unit tests).
//
// Thread-safety: SqliteStateStore serialises its calls internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/sqlite.h"
#include "core/status.h"

namespace il::mock {

struct StoredPod {
  int64_t seq = 0;  // the n of the JID "mock-<n>"
  std::string uid;
  std::string jid;
  int64_t created_ns = 0;  // creation time, nanoseconds since the Unix epoch
  std::string pod_json;    // the pod as created
};

struct StoredState {
  std::vector<StoredPod> pods;  // by seq
  int64_t next_seq = 1;         // never reused, even after deletes
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual Result<StoredState> Load() = 0;
  // Stores the pod and advances next_seq past its seq, atomically.
  virtual Status Insert(const StoredPod& pod) = 0;
  // Removes the pod; a missing uid is not an error.
  virtual Status Remove(const std::string& uid) = 0;
};

class SqliteStateStore : public StateStore {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" for a private one.
  static Result<std::unique_ptr<SqliteStateStore>> Open(const std::string& path);
  ~SqliteStateStore() override = default;
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  Result<StoredState> Load() override;
  Status Insert(const StoredPod& pod) override;
  Status Remove(const std::string& uid) override;

 private:
  SqliteStateStore() = default;

  // Serialises use of the connection and its statements (core/sqlite.h: not thread-safe).
  // Set in Open() before the store is shared; the statements go before the database.
  Mutex mu_;
  std::unique_ptr<sqlite::Database> db_ IL_PT_GUARDED_BY(mu_);
  std::optional<sqlite::Statement> insert_ IL_GUARDED_BY(mu_);
  std::optional<sqlite::Statement> bump_ IL_GUARDED_BY(mu_);
  std::optional<sqlite::Statement> remove_ IL_GUARDED_BY(mu_);
  std::optional<sqlite::Statement> select_ IL_GUARDED_BY(mu_);
  std::optional<sqlite::Statement> next_ IL_GUARDED_BY(mu_);
};

}  // namespace il::mock
