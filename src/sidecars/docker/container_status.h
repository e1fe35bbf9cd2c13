// From `docker inspect` output to Kubernetes container statuses.
//
// ParseInspect reads the JSON array `docker inspect` prints (only the containers that exist;
// missing names are just absent). BuildPodStatus maps every container of a plan:
//   running/paused -> running (startedAt); restarting -> waiting CrashLoopBackOff;
//   exited/dead -> terminated with exitCode, reason OOMKilled | Completed | Error, times;
//   created with a start error -> terminated StartError; created -> waiting ContainerCreating;
//   absent -> the recorded creation error (ErrImageNeverPull, ErrImagePull, ...), waiting
//   PodInitializing / ContainerCreating while the pod is still starting, or terminated 137
//   ContainerStatusUnknown once it should exist.
//
// Pure functions; thread-safety: none needed.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "api/types.h"
#include "core/status.h"
#include "sidecars/docker/pod_plan.h"

namespace il::docker {

using TimePoint = std::chrono::system_clock::time_point;

struct Observed {
  std::string id;
  std::string status;  // created | running | paused | restarting | removing | exited | dead
  std::string error;   // State.Error (start failures)
  std::string image_id;
  std::string ip;  // first non-empty IP address of its networks
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;
  int pid = 0;  // State.Pid of a running container (its namespaces are /proc/<pid>/ns/*)
  std::optional<TimePoint> started, finished;  // nullopt for Docker's zero time
  std::string restart_policy;                  // HostConfig.RestartPolicy.Name

  bool Active() const {
    return status == "running" || status == "paused" || status == "restarting";
  }
  // Exited (or failed to start) and will not run again by itself.
  bool Finished() const;
  bool Succeeded() const { return Finished() && exit_code == 0 && error.empty(); }
  // ID and startedAt: Docker keeps the ID across restarts, the start time changes.
  std::string Instance() const;
};

using ObservedMap = std::map<std::string, Observed>;  // by container name (no leading '/')

Result<ObservedMap> ParseInspect(std::string_view json_text);
// One container of GET /containers/{id}/json (the same object `docker inspect` prints).
Observed ObservedFromInspect(const api::json::value& container);

// Where a pod is in its life, as docker-sd drives it.
enum class Stage {
  kPending,   // containers still to be started (init containers running, or retrying)
  kRunning,   // every app container was started
  kFailed,    // an init container failed under restartPolicy Never; apps never start
  kDeleting,  // delete requested, not finished
};
std::string_view StageName(Stage s);
Stage ParseStage(std::string_view s);

// Why a container could not be created ("ErrImageNeverPull", docker's message).
struct CreateError {
  std::string reason;
  std::string message;
};

api::json::object ContainerStatusOf(const ContainerPlan& c, const Observed& o);

api::PodStatus BuildPodStatus(const PodPlan& plan, Stage stage, const ObservedMap& observed,
                              const std::map<std::string, CreateError>& errors);

}  // namespace il::docker
