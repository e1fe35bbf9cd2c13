// JobStore: the Slurm sidecar's persistent state (SQLite), so a restart of slurm-sd
// finds every pod's job again and never submits a second job for a known pod UID.
//
// One row per pod: identity, job directory, Slurm job id ("" while sbatch runs: a row
// left like that by a crash is resolved at start-up by looking for the job in squeue),
// the containers (for status and logs), and the last job state seen, so that finished
// jobs need no more Slurm calls.
//
// Thread-safety: all methods are safe to call concurrently (one connection, a mutex).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/sqlite.h"
#include "core/status.h"
#include "sidecars/slurm/pod_state.h"

namespace il::slurm {

struct PodRecord {
  std::string uid, ns, name;
  std::string dir;
  std::vector<ContainerRef> containers;  // init containers first
  JobView job;                           // job.job_id empty while submitting
  TimePoint created{};
};

class JobStore {
 public:
  // Opens or creates the database (":memory:" for tests): a 0600 file, WAL mode.
  static Result<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore() = default;
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  Status Put(const PodRecord& r);  // insert or replace
  Status Remove(const std::string& uid);
  Result<std::vector<PodRecord>> LoadAll();

 private:
  JobStore() = default;
  // Serialises use of the connection (core/sqlite.h: not thread-safe). Set in Open()
  // before the store is shared.
  Mutex mu_;
  std::unique_ptr<sqlite::Database> db_ IL_PT_GUARDED_BY(mu_);
};

}  // namespace il::slurm
