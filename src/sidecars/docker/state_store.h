// StateStore: docker-sd's persistent memory (SQLite), so a restart neither loses nor
// duplicates pods. One row per pod UID: its plan (the docker argv of every container) and
// its stage. Rows are written before any container of the pod is started and removed only
// after every container is gone. The file is created with mode 0600 (plans hold env values).
//
// The store also keeps this state's instance id, a random token put on every container as a
// label so reconciliation touches only containers that belong to this state.
//
// On disk through the shared SQLite helper (core/sqlite.h): a private file never opened
// through a symlink, WAL, busy timeout.
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/sqlite.h"
#include "core/status.h"

namespace il::docker {

struct PodRecord {
  std::string uid;
  std::string plan_json;  // ToJson(PodPlan)
  std::string stage;      // StageName()
  int64_t created_unix = 0;
  // What docker-sd did to the pod's containers that Docker does not remember (restarts it
  // made after probe kills, their last terminated states, postStart hooks already run):
  // JSON written by the backend (docker_backend_supervise.cc), "" when nothing happened.
  std::string runtime_json;
};

class StateStore {
 public:
  // Opens or creates the database (and its parent directory).
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& instance_id() const { return instance_id_; }

  // Inserts; kAlreadyExists when the UID is already stored.
  Status Insert(const PodRecord& r);
  Status SetStage(const std::string& uid, const std::string& stage);
  Status SetRuntime(const std::string& uid, const std::string& runtime_json);
  Status Remove(const std::string& uid);
  Result<std::vector<PodRecord>> LoadAll();

 private:
  StateStore() = default;
  Status Init() IL_REQUIRES(mu_);

  // Serialises use of the connection (core/sqlite.h: not thread-safe). db_ and
  // instance_id_ are set by Open() before the store is shared.
  Mutex mu_;
  std::unique_ptr<sqlite::Database> db_ IL_PT_GUARDED_BY(mu_);
  std::string instance_id_;
};

}  // namespace il::docker
