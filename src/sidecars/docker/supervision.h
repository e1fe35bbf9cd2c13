// What docker-sd adds to Docker's view of a pod's containers so that the status reads as a
// kubelet's would once docker-sd runs probes and hooks itself:
//
// - ContainerRuntime: per container, what Docker does not remember and docker-sd persists
//   (state_store.h, PodRecord::runtime_json): restarts docker-sd made after a probe kill or a
//   failed postStart (a manual `docker start` resets Docker's RestartCount, and Docker never
//   restarts a container that `docker stop` ended), the terminated state before such a
//   restart (lastState), the restart due with its back-off, and the instance whose postStart
//   hook already ran.
// - Overlay: applies that, the prober's started/ready and the termination message to the
//   container status ContainerStatusOf built from `docker inspect`.
// - StatusEvents: the PodStatus `events` list (api/types.h).
// - RestartDelay: the kubelet's back-off for the restarts docker-sd makes.
//
// Pure values and functions; thread-safety: none needed.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"

namespace il::docker {

struct ContainerRuntime {
  int restart_base = 0;  // added to Docker's RestartCount
  // Ended instances, oldest first (at most kMaxDeaths): Terminated states recorded at a kill
  // and from Docker's `die` events, since Docker keeps only the current state.
  api::json::array deaths;
  std::string hooked;           // instance whose postStart finished (or failed)
  int64_t restart_at_ms = 0;    // unix ms of the restart docker-sd owes; 0 = none
  std::string killed_instance;  // the instance docker-sd stopped for that restart
  std::string waiting_reason;   // shown while the restart is due
  std::string waiting_message;
  int backoff_step = 0;  // restarts made in a row (back-off exponent)
  int64_t last_restart_ms = 0;
  // Unix ms of Docker's `oom` events, oldest first (at most kMaxOoms). Docker sets
  // State.OOMKilled only when the kernel's OOM notice reaches it before the exit; under load
  // it can come after, and the kubelet's runtime (containerd's CRI) still says OOMKilled then.
  std::vector<int64_t> oom_ms;
};

inline constexpr size_t kMaxDeaths = 3;
inline constexpr size_t kMaxOoms = 3;
// How long after an exit an `oom` event is still taken as its cause.
inline constexpr std::chrono::seconds kOomLag{5};

// Adds one ended instance (a Terminated state with at least exitCode and finishedAt). An entry
// that finished within a second of it is the same death: the one with more fields is kept.
void RecordDeath(ContainerRuntime& rt, api::json::object terminated);
// Records an `oom` event; a recorded death it may have caused (exit non-zero, reason Error,
// finished at most kOomLag before it) becomes OOMKilled.
void RecordOom(ContainerRuntime& rt, int64_t at_ms);
// Whether an `oom` event fell in [from, until + kOomLag]; no `from`: any before that.
bool OomBetween(const ContainerRuntime& rt,
                std::optional<std::chrono::system_clock::time_point> from,
                std::chrono::system_clock::time_point until);
// The reason Docker's `die` event with `exit_code` at `at` gets: Completed, Error, or
// OOMKilled when an `oom` event came since the previous recorded death.
std::string DeathReason(const ContainerRuntime& rt, int exit_code,
                        std::chrono::system_clock::time_point at);
// lastState.terminated: the newest recorded death that finished before `started`, the start
// of the instance the status shows.
std::optional<api::json::object> LastState(const ContainerRuntime& rt,
                                           std::chrono::system_clock::time_point started);

using RuntimeMap = std::map<std::string, ContainerRuntime>;  // by container name
std::string RuntimeToJson(const RuntimeMap& m);
RuntimeMap RuntimeFromJson(const std::string& text);  // "" or malformed: empty

// The kubelet's restart back-off: the first restart at once, then 10 s doubling up to 300 s;
// back to the start when the previous restart is more than 10 minutes ago. Advances
// rt.backoff_step and returns the delay.
std::chrono::milliseconds RestartDelay(ContainerRuntime& rt, int64_t now_ms);

struct Overlay {
  std::optional<bool> started, ready;  // from the prober; nullopt: no probes
  bool post_start_pending = false;     // postStart of the running instance has not returned
  const ContainerRuntime* runtime = nullptr;
  std::optional<api::json::object> last_state;     // LastState(); used when Docker has none
  std::optional<std::string> termination_message;  // for state.terminated
};
void ApplyOverlay(api::json::object& status, const Overlay& o);

// Adds (or counts again) the event (container, reason, message); keeps the newest
// api::kMaxStatusEvents entries.
void AddStatusEvent(api::json::array& events, const std::string& container, const std::string& type,
                    const std::string& reason, const std::string& message,
                    std::chrono::system_clock::time_point now);

// The kubelet's termination message: the file's last 4096 bytes; with FallbackToLogsOnError
// and an empty file and a non-zero exit, the logs' last 2048 bytes (of their last 80 lines).
std::string TailBytes(const std::string& text, size_t n);
Result<std::string> ReadTerminationFile(const std::string& path);  // last 4096 bytes

}  // namespace il::docker
