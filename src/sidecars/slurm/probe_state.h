// What a job's probe loops and hooks wrote about one container (probe_script.h lists the
// files), read in slurm-sd's ordinary status pass, and how it shows in the pod status:
// `started`, `ready`, Running only after postStart, and the kubelet's events (Unhealthy,
// Killing, FailedPostStartHook, FailedPreStopHook) in PodStatus.events.
//
// Thread-safety: pure functions, except ReadProbeFiles which reads files.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sidecars/slurm/slurm_parsers.h"

namespace il::slurm {

struct ProbeResult {
  std::string result = "unknown";  // unknown | success | failure (the published result)
  int64_t failures = 0;            // failed or errored runs so far
  std::optional<TimePoint> when;   // of the last one
  std::string message;             // its event message ("Readiness probe failed: ...")
};

struct HookFailure {
  std::optional<TimePoint> when;
  std::string message;
};

struct ProbeFiles {
  std::optional<ProbeResult> startup, readiness, liveness;
  std::optional<std::string> post_start;  // pending | ok | failed (absent: no hook)
  std::optional<HookFailure> post_start_failure, pre_stop_failure;
  std::optional<std::string> killed;  // liveness | startup | poststart (the last kill)
  std::optional<TimePoint> killed_when;
  int64_t kills = 0;          // how many times the job killed the container
  bool will_restart = false;  // restartPolicy is not Never
  // Restarts (only of containers the job killed itself).
  int64_t restarts = 0;
  std::optional<TimePoint> backoff_until;  // waiting to restart (CrashLoopBackOff)
  int64_t backoff_seconds = 0;
  // The previous instance: exit code, start and end, termination message.
  std::optional<int> last_exit_code;
  std::optional<TimePoint> last_started, last_finished;
  std::string last_message;
};

// "<result> <failures> <epoch>\n<message>" -> ProbeResult; nullopt when malformed.
std::optional<ProbeResult> ParseProbeResult(std::string_view text);
// "failed <epoch>\n<message>" -> HookFailure; nullopt for anything else ("ok", "pending").
std::optional<HookFailure> ParseHookFailure(std::string_view text);
ProbeFiles ReadProbeFiles(const std::string& dir, const std::string& container);

// For a running container: `started` needs the startup probe's success (true without one),
// `ready` needs started and the readiness probe's success (true without one).
bool ProbeStarted(const ProbeFiles& f);
bool ProbeReady(const ProbeFiles& f);
// False while a postStart hook has not returned successfully (the container is then
// reported Waiting, as the kubelet does while the hook runs).
bool PostStartDone(const ProbeFiles& f);
// "PostStart hook for Container \"c\" failed: <output>".
std::string PostStartFailureMessage(const std::string& container, const ProbeFiles& f);

// Appends the container's events ({"container","type","reason","message","count",
// "lastTimestamp"}) to `events`.
void AppendProbeEvents(const std::string& container, const ProbeFiles& f,
                       boost::json::array& events);

}  // namespace il::slurm
