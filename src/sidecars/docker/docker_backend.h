// DockerBackend: il::api::Backend over the docker CLI (docs/docker-sidecar.md).
//
// Create plans the pod (pod_plan.h), writes its ConfigMap/Secret/projected files and emptyDirs
// (pod_volumes.h), records it in SQLite (state_store.h) and starts what can start at once: the
// sandbox, then the first init container or all app containers. A background worker advances
// pods through their init containers (woken by `docker events`, with a 1 s poll as fallback),
// retries containers that could not be created (missing image...) with back-off, finishes
// interrupted deletes and, once after start, removes containers of this state that no stored
// pod owns. GetStatus costs one `docker inspect` for all requested pods. Delete stops with
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
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "api/backend.h"
#include "core/log.h"
#include "core/process.h"
#include "sidecars/docker/container_status.h"
#include "sidecars/docker/docker_cli.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/docker/pod_plan.h"
#include "sidecars/docker/state_store.h"
#include "sidecars/docker/stream_runner.h"

namespace il::docker {

struct DockerBackendOptions {
  bool start_worker = true;  // false in unit tests, which call RunOnce() themselves
  std::chrono::milliseconds poll_interval{1000};
  // First retry delay after a container could not be created; doubles up to 5 minutes.
  std::chrono::milliseconds retry_backoff{5000};
};

class DockerBackend : public api::Backend {
 public:
  // Opens the state file and loads the stored pods. Docker need not be up yet.
  static Result<std::unique_ptr<DockerBackend>> Create(DockerSettings settings,
                                                       CommandRunner& runner, StreamRunner& streams,
                                                       DockerBackendOptions options = {});
  ~DockerBackend() override;

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const api::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext& ctx,
                                                const std::vector<api::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;

  // One round of background work (what the worker thread does every poll interval).
  void RunOnce();
  size_t pod_count() const;

 private:
  struct PodEntry {
    explicit PodEntry(PodPlan p) : plan(std::move(p)) {}
    const PodPlan plan;
    std::mutex op_mu;                     // serialises steps and delete of this pod
    std::atomic<bool> pin_warned{false};  // logged once that bind sources cannot be pinned

    mutable std::mutex mu;  // guards the fields below
    Stage stage = Stage::kPending;
    bool removed = false;
    std::map<std::string, CreateError> errors;  // by docker name
    int attempts = 0;
    std::chrono::steady_clock::time_point next_attempt{};
    bool all_finished = false;  // last inspect: no init/app container can run again
  };
  using EntryPtr = std::shared_ptr<PodEntry>;

  DockerBackend(DockerSettings settings, CommandRunner& runner, StreamRunner& streams,
                std::unique_ptr<StateStore> store, DockerBackendOptions options);
  Status LoadState();
  void StartWorker();

  EntryPtr Find(const std::string& uid) const;
  std::vector<EntryPtr> Snapshot() const;
  Stage StageOf(const PodEntry& e) const;
  Status SetStage(PodEntry& e, Stage s);

  // Starts what NextStep asks for; records creation errors. Caller holds e.op_mu.
  Status Step(PodEntry& e, const ObservedMap& observed);
  Status RunAction(PodEntry& e, const ContainerPlan& c, bool start_only);
  Status EnsureSandbox();
  // rm -f of every container, the pod dir, the row and the map entry. Caller holds e.op_mu.
  Status FinishDelete(PodEntry& e);
  Status DeleteUnknown(const std::string& uid);
  bool Reconcile();
  void Wake();
  void WorkerLoop();
  void EventsLoop();
  Status LogsWaitingError(const PodEntry& e, const ContainerPlan& c) const;

  const DockerSettings settings_;
  DockerCli cli_;
  StreamRunner& streams_;
  std::unique_ptr<StateStore> store_;
  const DockerBackendOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  log::RateLimiter worker_errors_{std::chrono::seconds(30)};

  mutable std::mutex pods_mu_;
  std::map<std::string, EntryPtr> pods_;

  std::mutex sandbox_mu_;
  std::atomic<bool> sandbox_ready_{false};
  std::atomic<bool> reconciled_{false};

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  std::atomic<bool> stop_{false};
  std::thread worker_, events_;
};

}  // namespace il::docker
