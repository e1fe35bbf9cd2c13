// RenderJobScript: the sbatch script of one pod, from its JobSpec. Pure: the same spec
// gives the same bytes (golden-tested per feature in test/data/slurm/).
//
// Every value that comes from the pod is written through ShellQuote; the only raw shell
// text is the administrator's CommandPrefix/PreExec and the pod annotations that are
// shell by definition (slurm-job.vk.io/pre-exec, interlink.eu/wstunnel-client-commands).
//
// The script runs init containers one after the other (the first failure ends the
// job with its exit code), then all app containers concurrently, and exits with the
// highest app exit code. Each container writes, in the job directory:
//   <kind>-<name>.started  "<epoch seconds>"             when it starts
//   <kind>-<name>.out/.err "<epoch seconds> <line>" per line of stdout / stderr
//   <kind>-<name>.status   "<exit code> <epoch seconds>" when it ends
//   <kind>-<name>.pid      pid of the container's process
//   <kind>-<name>.termination-log, .message  terminationMessagePath's file and the message
// (kind = init | run), and the job writes job.status "<exit code> <epoch>" at its end.
// Probes and lifecycle hooks add the files listed in probe_script.h.
// Timestamps use bash's $EPOCHREALTIME (microseconds; whole seconds on bash < 5).
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "sidecars/slurm/job_spec.h"

namespace il::slurm {

std::string RenderJobScript(const JobSpec& job);

// "init" or "run": the file prefix of a container's files.
inline const char* ContainerKind(bool init) { return init ? "init" : "run"; }

}  // namespace il::slurm
