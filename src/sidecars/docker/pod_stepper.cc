#include "sidecars/docker/pod_stepper.h"

namespace il::docker {

namespace {

// Adds the action that brings container `i` into existence/running, if one is needed.
// Returns the observation (nullptr when absent).
const Observed* Launch(const PodPlan& plan, size_t i, const ObservedMap& observed,
                       std::vector<StepAction>* actions) {
  auto it = observed.find(plan.containers[i].docker_name);
  if (it == observed.end()) {
    actions->push_back({ActionKind::kRun, i});
    return nullptr;
  }
  const Observed& o = it->second;
  if (o.status == "created" && o.error.empty() && !o.started) {
    actions->push_back({ActionKind::kStart, i});
  }
  return &o;
}

}  // namespace

StepDecision NextStep(const PodPlan& plan, const ObservedMap& observed) {
  StepDecision d;
  bool sandbox_gone = false;
  for (size_t i = 0; i < plan.containers.size(); ++i) {
    const ContainerPlan& c = plan.containers[i];
    if (c.role == Role::kSandbox) {
      const Observed* o = Launch(plan, i, observed, &d.actions);
      sandbox_gone = o && o->Finished();
      continue;
    }
    if (sandbox_gone && observed.find(c.docker_name) == observed.end()) {
      d.stage = Stage::kFailed;
      d.failure = "the pod's sandbox container exited before " + c.name + " started";
      return d;
    }
    size_t before = d.actions.size();
    const Observed* o = Launch(plan, i, observed, &d.actions);
    if (c.role == Role::kApp) continue;
    // An init container: wait until it has run to completion.
    if (!o || d.actions.size() != before || !o->Finished()) return d;
    if (o->Succeeded()) continue;
    if (plan.restart_policy == "Never") {
      d.stage = Stage::kFailed;
      d.failure = "init container " + c.name + " failed with exit code " +
                  std::to_string(o->exit_code == 0 ? 128 : o->exit_code);
    }
    return d;  // OnFailure/Always: Docker restarts it (--restart=on-failure)
  }
  d.stage = Stage::kRunning;
  return d;
}

}  // namespace il::docker
