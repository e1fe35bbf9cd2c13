// The job-script part that runs probes and lifecycle hooks beside each app container
// (pure; golden-tested through job_script_golden_test.cc).
//
// For a container with probes or hooks the script writes, in the job directory:
//   run-<c>.pid              pid of the container's process (written by _il_run)
//   run-<c>.poststart        "pending" before the start, then "ok", or
//                            "failed <epoch>\n<message>" (the container is then killed)
//   run-<c>.probe.<type>     "<result> <failures> <epoch of the last one>\n<event message>"
//                            per probe (type startup|readiness|liveness; result
//                            unknown|success|failure); written before the container
//                            starts and whenever it changes
//   run-<c>.killed           "<liveness|startup|poststart> <epoch> <kills so far> <restart 0|1>"
//                            when the job killed it (and run-<c>.kill, consumed by a restart)
//   run-<c>.prestop          "failed <epoch>\n<message>" when a preStop hook failed
// slurm-sd reads them in its status pass (probe_state.h).
//
// Each probe is a bash loop following the kubelet's prober worker: initialDelaySeconds from
// the container's start, one run every periodSeconds under `timeout timeoutSeconds`,
// successThreshold/failureThreshold, readiness and liveness held back until the startup
// probe succeeded. A liveness or startup failure kills the container the kubelet's way
// (_il_kill: preStop within terminationGracePeriodSeconds, SIGTERM, SIGKILL after the rest
// of the grace period, at least 2 s). Under restartPolicy Always/OnFailure such a container
// (and only such a one: a container that exits by itself ends as before) is started again
// by _il_run after the kubelet's back-off, with
//   run-<c>.restarts          the restart count
//   run-<c>.backoff           "<epoch until> <seconds>" while waiting (CrashLoopBackOff)
//   run-<c>.last-status, .last-started, .last-message   the previous instance (lastState)
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "sidecars/slurm/job_spec.h"

namespace il::slurm {

// True when the container needs the watcher (probes or lifecycle hooks).
bool HasProbeWork(const ContainerSpec& c);
// Shell functions and the per-pod action table; empty when no app container needs them.
std::string RenderProbeFunctions(const JobSpec& job);
// Lines before the container is launched (initial state files), and after it (the watcher,
// in the background). Empty when the container has neither probes nor hooks.
std::string RenderProbePrepare(const ContainerSpec& c);
std::string RenderProbeWatch(const ContainerSpec& c);

}  // namespace il::slurm
