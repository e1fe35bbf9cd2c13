#include "sidecars/docker/pod_stepper.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {

PodPlan Plan(std::string restart = "Never") {
  PodPlan p;
  p.uid = "u";
  p.restart_policy = std::move(restart);
  p.containers = {{Role::kSandbox, "POD", "s", "pause", {}, "", {}, {}, {}, nullptr, "", false},
                  {Role::kInit, "i1", "i1", "img", {}, "", {}, {}, {}, nullptr, "", false},
                  {Role::kInit, "i2", "i2", "img", {}, "", {}, {}, {}, nullptr, "", false},
                  {Role::kApp, "a", "a", "img", {}, "", {}, {}, {}, nullptr, "", false},
                  {Role::kApp, "b", "b", "img", {}, "", {}, {}, {}, nullptr, "", false}};
  return p;
}

Observed Running() {
  Observed o;
  o.status = "running";
  o.started = std::chrono::system_clock::now();
  return o;
}
Observed Exited(int code) {
  Observed o = Running();
  o.status = "exited";
  o.exit_code = code;
  return o;
}

std::vector<size_t> Runs(const StepDecision& d) {
  std::vector<size_t> out;
  for (const auto& a : d.actions) {
    if (a.kind == ActionKind::kRun) out.push_back(a.index);
  }
  return out;
}

TEST(NextStep, NewPodStartsTheSandboxAndTheFirstInitContainer) {
  auto d = NextStep(Plan(), {});
  EXPECT_EQ(Runs(d), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(d.stage, Stage::kPending);
}

TEST(NextStep, InitContainersRunOneAfterAnotherToCompletion) {
  auto p = Plan();
  EXPECT_TRUE(NextStep(p, {{"s", Running()}, {"i1", Running()}}).actions.empty());
  EXPECT_EQ(Runs(NextStep(p, {{"s", Running()}, {"i1", Exited(0)}})), (std::vector<size_t>{2}));
  auto d = NextStep(p, {{"s", Running()}, {"i1", Exited(0)}, {"i2", Exited(0)}});
  EXPECT_EQ(Runs(d), (std::vector<size_t>{3, 4}));
  EXPECT_EQ(d.stage, Stage::kRunning);
}

TEST(NextStep, FailingInitContainerFailsThePodUnderNever) {
  auto d = NextStep(Plan(), {{"s", Running()}, {"i1", Exited(3)}});
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.stage, Stage::kFailed);
  EXPECT_NE(d.failure.find("exit code 3"), std::string::npos);
  // OnFailure: Docker restarts it; the pod keeps waiting.
  auto w = NextStep(Plan("OnFailure"), {{"s", Running()}, {"i1", Exited(3)}});
  EXPECT_EQ(w.stage, Stage::kPending);
  EXPECT_TRUE(w.actions.empty());
}

TEST(NextStep, StartErrorOfAnInitContainerIsAFailure) {
  Observed o;
  o.status = "created";
  o.exit_code = 127;
  o.error = "exec: not found";
  EXPECT_EQ(NextStep(Plan(), {{"s", Running()}, {"i1", o}}).stage, Stage::kFailed);
}

TEST(NextStep, CreatedButNeverStartedContainersAreStartedNotRecreated) {
  Observed created;
  created.status = "created";
  auto d = NextStep(Plan(), {{"s", Running()}, {"i1", created}});
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].kind, ActionKind::kStart);
  EXPECT_EQ(d.actions[0].index, 1u);
}

TEST(NextStep, NothingIsStartedTwice) {
  ObservedMap all{
      {"s", Running()}, {"i1", Exited(0)}, {"i2", Exited(0)}, {"a", Exited(1)}, {"b", Running()}};
  auto d = NextStep(Plan(), all);
  EXPECT_TRUE(d.actions.empty());
  EXPECT_EQ(d.stage, Stage::kRunning);
}

TEST(NextStep, DeadSandboxFailsAPodThatIsStillStarting) {
  auto d = NextStep(Plan(), {{"s", Exited(137)}});
  EXPECT_EQ(d.stage, Stage::kFailed);
}

TEST(NextStep, PodWithoutSandboxOrInitStartsEverything) {
  PodPlan p;
  p.containers = {{Role::kApp, "a", "a", "img", {}, "", {}, {}, {}, nullptr, "", false}};
  auto d = NextStep(p, {});
  EXPECT_EQ(Runs(d), (std::vector<size_t>{0}));
  EXPECT_EQ(d.stage, Stage::kRunning);
}

}  // namespace
}  // namespace il::docker
