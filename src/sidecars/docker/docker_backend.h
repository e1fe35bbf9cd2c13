// DockerBackend: il::api::Backend over the Docker Engine API (docker_api.h; no `docker` CLI
// process, docs/docker-sidecar.md).
//
// Create plans the pod (pod_plan.h), writes its ConfigMap/Secret/projected files and emptyDirs
// (pod_volumes.h), records it in SQLite (state_store.h) and starts what can start at once: the
// sandbox, then the first init container or all app containers. A background worker advances
// pods through their init containers (woken by the API's event stream, with a 1 s poll as
// fallback),
// retries containers that could not be created (missing image...) with back-off, finishes
// interrupted deletes and, once after start, removes containers of this state that no stored
// pod owns. GetStatus costs one GET /containers/{name}/json per container over a pooled
// keep-alive connection. Delete stops with
// the pod's grace period, removes the containers and the pod's directory.
//
// A restart of docker-sd loses nothing: pods are reloaded from the state file and every step
// is derived from what Docker reports, so nothing is started twice.
//
// Thread-safety: all Backend methods are thread-safe. Operations on one pod are serialised;
// different pods proceed in parallel.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "api/backend.h"
#include "api/status_watch.h"
#include "core/log.h"
#include "core/mutex.h"
#include "sidecars/docker/container_status.h"
#include "sidecars/docker/docker_api.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/docker/handler_runner.h"
#include "sidecars/docker/pod_plan.h"
#include "sidecars/docker/prober.h"
#include "sidecars/docker/state_store.h"
#include "sidecars/docker/supervision.h"

namespace il::docker {

struct DockerBackendOptions {
  bool start_worker = true;  // false in unit tests, which call RunOnce() themselves
  std::chrono::milliseconds poll_interval{1000};
  // First retry delay after a container could not be created; doubles up to 5 minutes.
  std::chrono::milliseconds retry_backoff{5000};
  ProberOptions prober;  // probe threads (start_threads=false in unit tests)
  // Runs probe and hook handlers; nullptr: DockerHandlerRunner (docker exec, netns dial).
  HandlerRunner* handlers = nullptr;
};

// At most n containers created and started at once (DockerStartConcurrency). On an engine
// short of CPU, creating a burst's containers all together makes every one of them late;
// taking them a few at a time starts the first ones first, and the last no later.
// BasicLockable, for std::unique_lock. Thread-safe.
class StartSlots {
 public:
  // n <= 0: one per CPU of the engine's host: this machine's until AdoptEngineCpus.
  explicit StartSlots(int n);
  void lock() IL_EXCLUDES(mu_);
  void unlock() IL_EXCLUDES(mu_);
  int count() const IL_EXCLUDES(mu_);
  // The engine's CPU count (GET /info NCPU), which a remote DOCKER_HOST does not share with
  // this machine. Sets the count when it was not configured; ignores cpus <= 0. Holders
  // above a smaller count finish; no new one starts until they are under it. True when the
  // count changed.
  bool AdoptEngineCpus(int64_t cpus) IL_EXCLUDES(mu_);

 private:
  const bool configured_;
  mutable Mutex mu_;
  CondVar cv_;
  int count_ IL_GUARDED_BY(mu_);
  int held_ IL_GUARDED_BY(mu_) = 0;
};

class DockerBackend : public api::Backend, private ProberListener {
 public:
  // Opens the state file and loads the stored pods. Docker need not be up yet.
  static Result<std::unique_ptr<DockerBackend>> Create(DockerSettings settings,
                                                       const DockerBackendOptions& options = {});
  ~DockerBackend() override;

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const api::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext& ctx,
                                                const std::vector<api::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;
  // The status watch (docs/plugin-protocol.md): woken by Docker events (create, start, die,
  // oom, destroy of a container labelled with the pod's UID), by create and delete, by
  // creation errors, kubelet-style events and probe results docker-sd produces itself.
  bool SupportsStatusWatch() override { return true; }
  Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& gone) override;

  // One round of background work (what the worker thread does every poll interval).
  void RunOnce();
  size_t pod_count() const;
  // Containers created and started at once (DockerStartConcurrency, or the engine's CPUs).
  int start_concurrency() const { return start_slots_.count(); }
  Prober& prober() { return *prober_; }
  // The Engine API client (shared with exec, attach and port-forward: docker_exec.h).
  DockerApi& api() { return *api_; }
  // Waits for the kills and hooks running in the background (tests).
  void JoinTasks();

 private:
  struct PodEntry {
    explicit PodEntry(PodPlan p) : plan(std::move(p)) {}
    const PodPlan plan;
    // Serialises steps and delete of this pod; guards no fields (those are under `mu`), so
    // it stays a std::mutex for std::unique_lock's try_to_lock.
    std::mutex op_mu;
    std::atomic<bool> pin_warned{false};  // logged once that bind sources cannot be pinned

    mutable Mutex mu;
    Stage stage IL_GUARDED_BY(mu) = Stage::kPending;
    bool removed IL_GUARDED_BY(mu) = false;
    std::map<std::string, CreateError> errors IL_GUARDED_BY(mu);  // by docker name
    int attempts IL_GUARDED_BY(mu) = 0;
    std::chrono::steady_clock::time_point next_attempt IL_GUARDED_BY(mu){};
    // Last inspect: no init/app container can run again.
    bool all_finished IL_GUARDED_BY(mu) = false;

    // Probes, hooks and restarts docker-sd makes (docker_backend_supervise.cc).
    RuntimeMap runtime IL_GUARDED_BY(mu);       // persisted with the pod's row
    api::json::array events IL_GUARDED_BY(mu);  // api::PodStatus::events
    // Container -> instance in postStart.
    std::map<std::string, std::string> hook_running IL_GUARDED_BY(mu);
    // Fallback cache of termination messages read from the logs.
    std::map<std::string, std::pair<std::string, std::string>> logs_message IL_GUARDED_BY(mu);
  };
  using EntryPtr = std::shared_ptr<PodEntry>;

  DockerBackend(DockerSettings settings, std::unique_ptr<DockerApi> api,
                std::unique_ptr<StateStore> store, DockerBackendOptions options);
  Status LoadState();
  void StartWorker();

  EntryPtr Find(const std::string& uid) const IL_EXCLUDES(pods_mu_);
  std::vector<EntryPtr> Snapshot() const IL_EXCLUDES(pods_mu_);
  Stage StageOf(const PodEntry& e) const IL_EXCLUDES(e.mu);
  Status SetStage(PodEntry& e, Stage s);

  // Starts what NextStep asks for; records creation errors. Caller holds e.op_mu.
  Status Step(PodEntry& e, const ObservedMap& observed);
  Status RunAction(PodEntry& e, const ContainerPlan& c, bool start_only);
  Status EnsureSandbox();
  // Pull (as pull_policy asks), create and start; a CreateError when the pod's status should
  // show one, an error Status only when dockerd is unavailable.
  Result<std::optional<CreateError>> CreateAndStart(const PodEntry& e, const ContainerPlan& c,
                                                    const api::json::object& body);
  Status Pull(const PodEntry& e, const ContainerPlan& c);
  // rm -f of every container, the pod dir, the row and the map entry. Caller holds e.op_mu.
  Status FinishDelete(PodEntry& e);
  Status DeleteUnknown(const std::string& uid);
  // Engine API helpers. Inspect: absent names are missing from the map; kUnavailable when
  // the daemon is down. Stop/Remove ignore containers that do not exist.
  Result<ObservedMap> Inspect(const std::vector<std::string>& names);
  Status StopAll(const std::vector<std::string>& names, int64_t grace_seconds);
  Status RemoveAll(const std::vector<std::string>& names);
  bool Reconcile();
  void Wake() IL_EXCLUDES(wake_mu_);
  void WorkerLoop();
  void EventsLoop();
  // Sizes the start slots by the engine's CPUs (GET /info) when the count is not configured.
  void AdoptEngineInfo(const api::json::value& info);
  Status LogsWaitingError(const PodEntry& e, const ContainerPlan& c) const;

  // Supervision: probes, hooks, docker-sd's own restarts (docker_backend_supervise.cc).
  void WatchProbes(const PodEntry& e);
  bool Supervised(const PodEntry& e) const IL_REQUIRES(e.mu);
  void Supervise(const EntryPtr& e, const ObservedMap& observed);
  void Spawn(std::function<void()> task);
  void AddEvent(PodEntry& e, const std::string& container, const std::string& type,
                const std::string& reason, const std::string& message);
  Status PersistRuntime(PodEntry& e);
  HandlerTarget TargetOf(const PodEntry& e, const ContainerPlan& c,
                         const ObservedMap& observed) const;
  void RunPostStart(const EntryPtr& e, const ContainerPlan& c, const std::string& instance);
  // Kills a container as the kubelet does (Killing event, preStop, stop) and schedules the
  // restart restartPolicy asks for. Takes e.op_mu.
  void Kill(const EntryPtr& e, const ContainerPlan& c, const std::string& instance,
            const std::string& killing_message, int64_t grace, const std::string& waiting_reason,
            const std::string& waiting_message);
  Status RestartDue(PodEntry& e, const ContainerPlan& c, const Observed* o);
  // preStop hooks of the pod's running app containers, in parallel, within `grace`;
  // returns the seconds left for the stop (at least 2).
  int64_t RunPreStops(PodEntry& e, int64_t grace);
  void DecorateStatus(PodEntry& e, api::PodStatus& ps, const ObservedMap& observed);
  std::optional<std::string> TerminationMessage(PodEntry& e, const ContainerPlan& c,
                                                const Observed& o);
  // A `die` event of one of our containers: its exit is kept for lastState.
  void OnDieEvent(const api::json::value& event, std::chrono::system_clock::time_point at);
  void OnDie(const std::string& docker_name, int exit_code,
             std::chrono::system_clock::time_point at);
  // An `oom` event: kept so that the exit it caused reads OOMKilled (supervision.h).
  void OnOom(const std::string& docker_name, std::chrono::system_clock::time_point at);
  // Runs `update` on the runtime record of our container `docker_name` (under its pod's
  // mu) and persists it; nothing for a sandbox, a removed pod or a name we do not know.
  void UpdateRuntimeOf(const std::string& docker_name,
                       const std::function<void(ContainerRuntime&)>& update);
  void OnProbeEvent(const std::string& uid, const std::string& container, const std::string& reason,
                    const std::string& message) override;
  void OnProbeKill(const std::string& uid, const std::string& container, const api::Probe& probe,
                   const std::string& instance) override;
  void OnProbeResult(const std::string& uid, const std::string& container) override;
  // A Docker event of one of our containers: wakes the status watch for its pod.
  void OnContainerEvent(const api::json::value& event);

  const DockerSettings settings_;
  StartSlots start_slots_;  // around each container create+start and start
  std::unique_ptr<DockerApi> api_;
  std::unique_ptr<StateStore> store_;
  const DockerBackendOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  api::StatusChangeLog changes_;
  log::RateLimiter worker_errors_{std::chrono::seconds(30)};

  mutable Mutex pods_mu_;
  std::map<std::string, EntryPtr> pods_ IL_GUARDED_BY(pods_mu_);

  Mutex sandbox_mu_;  // one sandbox image import at a time; guards no fields
  std::atomic<bool> sandbox_ready_{false};
  std::atomic<bool> reconciled_{false};

  Mutex wake_mu_;
  CondVar wake_cv_;
  bool wake_ IL_GUARDED_BY(wake_mu_) = false;
  std::atomic<bool> stop_{false};
  std::thread worker_, events_;

  std::unique_ptr<HandlerRunner> own_handlers_;
  HandlerRunner* handlers_ = nullptr;
  std::unique_ptr<Prober> prober_;
  struct Task {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  Mutex tasks_mu_;
  std::vector<Task> tasks_
      IL_GUARDED_BY(tasks_mu_);  // kills and hooks in flight; finished ones are joined by Spawn
};

}  // namespace il::docker
