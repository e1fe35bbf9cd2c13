// From Slurm's view of a job plus the files its containers wrote to the pod's status:
// the state mapping of the Slurm sidecar (pure; see docs/slurm-sidecar.md).
//
//   PENDING, CONFIGURING, REQUEUED, SUSPENDED  -> containers Waiting, reason SlurmJob<State>,
//                                                 message with Slurm's reason
//   RUNNING, COMPLETING                        -> per container: Terminated when its
//                                                 .status file exists, Running when it
//                                                 started, else Waiting (PodInitializing /
//                                                 ContainerCreating); a container killed by a
//                                                 signal stays Running for up to 10 s so it
//                                                 gets the job's final reason
//   terminal states                            -> every container Terminated: its own exit
//                                                 code when it wrote one, else the job's
//                                                 (TIMEOUT -> SlurmJobTimeout, OUT_OF_MEMORY
//                                                 -> OOMKilled, CANCELLED -> SlurmJobCancelled,
//                                                 NODE_FAIL -> SlurmNodeFail, PREEMPTED ->
//                                                 SlurmJobPreempted, FAILED -> Error)
//
// Thread-safety: pure functions, except ReadContainerFiles / ReadJobStatusFile which
// read files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "sidecars/slurm/probe_state.h"
#include "sidecars/slurm/slurm_parsers.h"

namespace il::slurm {

struct ContainerRef {
  std::string name;
  std::string image;
  bool init = false;
  bool watched = false;  // probes or hooks: the job writes the probe_state.h files
};

// What the job wrote for one container.
struct ContainerFiles {
  std::optional<TimePoint> started;
  std::optional<int> exit_code;
  std::optional<TimePoint> finished;
  std::optional<std::string> message;  // the termination message (<kind>-<c>.message)
  ProbeFiles probes;                   // only read for watched containers
};

// Slurm's (or the job.status file's) last word about the job.
struct JobView {
  std::string job_id;
  JobState state = JobState::kUnknown;
  std::string reason;
  int exit_code = 0;
  int signal = 0;
  std::optional<TimePoint> start, end;
};

// "1732488296.123456" (or with ',' as bash writes under some locales) -> time.
std::optional<TimePoint> ParseEpoch(std::string_view s);
// .status / job.status content "<exit code> <epoch>" -> {code, time}.
std::optional<std::pair<int, std::optional<TimePoint>>> ParseStatusLine(std::string_view s);

ContainerFiles ReadContainerFiles(const std::string& dir, const ContainerRef& c);
std::optional<std::pair<int, std::optional<TimePoint>>> ReadJobStatusFile(const std::string& dir);

// The pod status: `files` is parallel to `containers` (init containers first).
api::PodStatus BuildPodStatus(const std::string& uid, const std::string& ns,
                              const std::string& name, const JobView& job,
                              const std::vector<ContainerRef>& containers,
                              const std::vector<ContainerFiles>& files, TimePoint now);

}  // namespace il::slurm
