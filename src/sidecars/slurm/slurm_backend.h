// SlurmBackend: api::Backend over a Slurm cluster; one pod = one batch job.
//
// create   renders the job script (BuildJobSpec + RenderJobScript), writes the job
//          directory, records the pod in the JobStore, then runs sbatch. Idempotent per
//          pod UID, also across restarts and concurrent calls. sbatch's warnings on
//          stderr are logged, not failures; a rejected job is kFailedPrecondition with
//          Slurm's message.
// status   one squeue call per refresh for all unfinished jobs (results reused for
//          StatusCacheSeconds), one sacct call for the jobs squeue no longer shows, and
//          when accounting is disabled the job.status file the script writes; per
//          container states from the container files (pod_state.h).
// logs     from the container files, with tail/since/timestamps/limitBytes/follow.
// delete   scancel (unless finished), then removes the job directory.
// ping     capacity of the partition's usable nodes from one sinfo call.
// Start-up: Open() loads the JobStore and cross-checks it with squeue.
// watch    the status watch (api/status_watch.h): while someone watches, a background
//          pass every max(StatusCacheSeconds, 1 s) runs the squeue refresh and reads the
//          job files of unfinished pods (ChangePass); a pod whose status differs from the
//          last pass is notified. Nobody watching: no pass.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <thread>

#include "api/backend.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/process.h"
#include "sidecars/slurm/job_spec.h"
#include "sidecars/slurm/job_store.h"
#include "sidecars/slurm/slurm_config.h"

namespace il::slurm {

namespace json = boost::json;

class SlurmBackend : public api::Backend {
 public:
  struct Options {
    std::chrono::milliseconds log_poll{250};  // follow-mode file polling
    std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
    // Run the watch's ChangePass in the background while someone watches (tests that
    // drive ChangePass themselves turn it off).
    bool background_watch_pass = true;
  };
  // Counts of Slurm CLI calls, for tests and benchmarks.
  struct Counters {
    int64_t sbatch = 0, squeue = 0, sacct = 0, scancel = 0, sinfo = 0;
  };

  static Result<std::unique_ptr<SlurmBackend>> Open(SlurmConfig cfg,
                                                    std::shared_ptr<CommandRunner> runner,
                                                    std::unique_ptr<JobStore> store,
                                                    Options options);
  static Result<std::unique_ptr<SlurmBackend>> Open(SlurmConfig cfg,
                                                    std::shared_ptr<CommandRunner> runner,
                                                    std::unique_ptr<JobStore> store) {
    return Open(std::move(cfg), std::move(runner), std::move(store), Options());
  }

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext& ctx,
                                                const std::vector<json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;

  bool SupportsStatusWatch() override { return true; }
  Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& gone) override;
  // One pass of the watch: refresh from Slurm, notify the pods whose status changed
  // (also new and deleted ones). The background pass calls it; tests call it directly.
  void ChangePass() IL_EXCLUDES(mu_, fingerprint_mu_);

  Counters counters() const IL_EXCLUDES(mu_);
  // Asks Slurm now, ignoring StatusCacheSeconds (tests, benchmarks).
  void RefreshNow();

 private:
  SlurmBackend(SlurmConfig cfg, std::shared_ptr<CommandRunner> runner,
               std::unique_ptr<JobStore> store, Options options);
  Status Recover();
  Status ResolveSubmitting(std::vector<PodRecord*>& submitting);
  void WarnAboutOrphans();
  Result<std::string> Submit(const PodRecord& rec, const std::string& script_path);
  Status WriteJobDir(const JobSpec& spec, const std::string& script);
  void Refresh(bool force) IL_EXCLUDES(refresh_mu_, mu_);
  Result<std::map<std::string, JobView>> QuerySlurm(const std::vector<std::string>& ids)
      IL_REQUIRES(refresh_mu_);
  // `settled`: the job is over and every container that started has its own exit code
  // (or job.status is written, or kExitWriteGrace has passed): the status is final.
  api::PodStatus StatusOf(const PodRecord& rec, bool* settled = nullptr);
  // How long after a job's end its containers may still be writing their exit codes (they
  // run their TERM traps after Slurm already calls the job CANCELLED).
  static constexpr std::chrono::seconds kExitWriteGrace{10};
  Result<CommandResult> RunSlurm(const std::vector<std::string>& base,
                                 const std::vector<std::string>& args, int64_t* counter,
                                 const std::string& working_dir = "");
  void StopWithPreStop(const PodRecord& rec, const std::optional<std::string>& user, int64_t grace);
  void PersistLocked(const PodRecord& rec) IL_REQUIRES(mu_);
  void WatchPassLoop(const std::stop_token& stop);

  SlurmConfig cfg_;
  std::shared_ptr<CommandRunner> runner_;
  std::unique_ptr<JobStore> store_;
  Options opt_;
  std::shared_ptr<spdlog::logger> log_;
  log::RateLimiter slurm_errors_{std::chrono::seconds(30)};

  mutable Mutex mu_;
  CondVar created_cv_;
  std::map<std::string, PodRecord> pods_ IL_GUARDED_BY(mu_);
  std::set<std::string> creating_ IL_GUARDED_BY(mu_);
  // Statuses that can no longer change.
  std::map<std::string, api::PodStatus> final_ IL_GUARDED_BY(mu_);
  // RunSlurm() gets a pointer to one of these and increments it under mu_.
  Counters counters_ IL_GUARDED_BY(mu_);

  Mutex refresh_mu_;  // one Slurm query at a time; later callers reuse its result
  TimePoint last_refresh_ IL_GUARDED_BY(refresh_mu_){};
  bool accounting_disabled_ IL_GUARDED_BY(refresh_mu_) = false;

  api::StatusChangeLog changes_;
  std::atomic<int64_t> last_watch_ns_{0};  // steady clock: when a watch last asked
  Mutex fingerprint_mu_;
  std::map<std::string, size_t> fingerprints_ IL_GUARDED_BY(fingerprint_mu_);  // by uid
  Mutex pass_mu_;                                                              // for pass_cv_ only
  CondVar pass_cv_;
  std::jthread watcher_;  // last: stopped and joined before the members it uses go
};

}  // namespace il::slurm
