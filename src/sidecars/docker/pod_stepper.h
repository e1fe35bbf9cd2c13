// NextStep: what to start next for a pod, given what Docker reports about its containers.
//
// The sandbox first, then init containers one at a time, each to successful completion, then
// all app containers. A failed init container under restartPolicy Never fails the pod; under
// OnFailure/Always Docker restarts it (--restart=on-failure) and the pod waits. The decision
// depends only on the observed state, so it is safe to repeat after a crash or a restart of
// docker-sd: nothing that exists is started twice.
//
// Pure function; thread-safety: none needed.
#pragma once

#include <string>
#include <vector>

#include "sidecars/docker/container_status.h"
#include "sidecars/docker/pod_plan.h"

namespace il::docker {

enum class ActionKind {
  kRun,    // docker run (the container does not exist)
  kStart,  // docker start (created, never started, no error)
};

struct StepAction {
  ActionKind kind;
  size_t index;  // into PodPlan::containers
};

struct StepDecision {
  std::vector<StepAction> actions;  // in order; stop at the first failure
  Stage stage = Stage::kPending;    // the pod's stage once every action succeeded
  std::string failure;              // why, when stage == kFailed
};

StepDecision NextStep(const PodPlan& plan, const ObservedMap& observed);

}  // namespace il::docker
