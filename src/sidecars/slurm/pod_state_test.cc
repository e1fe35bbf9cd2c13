#include "sidecars/slurm/pod_state.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::slurm {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1800000000));

std::vector<ContainerRef> Refs() {
  return {{"init", "busybox", true}, {"a", "busybox", false}, {"b", "busybox", false}};
}

std::string StateKey(const boost::json::value& cs) {
  const auto& st = cs.at("state").as_object();
  return std::string(st.begin()->key());
}

std::string Reason(const boost::json::value& cs) {
  return api::GetString(cs.at("state").as_object().begin()->value(), {"reason"});
}

int64_t ExitCode(const boost::json::value& cs) {
  return api::GetInt(cs, {"state", "terminated", "exitCode"}, -1);
}

JobView Job(JobState s, int exit = 0, int sig = 0) {
  JobView j;
  j.job_id = "7";
  j.state = s;
  j.exit_code = exit;
  j.signal = sig;
  j.start = kT0;
  if (IsTerminal(s)) j.end = kT0 + seconds(60);
  return j;
}

TEST(PodState, PendingJobWaitsWithSlurmsReason) {
  JobView j = Job(JobState::kPending);
  j.reason = "Resources";
  auto st = BuildPodStatus("u", "ns", "p", j, Refs(), {}, kT0);
  ASSERT_EQ(st.containers.size(), 2u);
  ASSERT_EQ(st.init_containers.size(), 1u);
  EXPECT_EQ(st.jid, "7");
  EXPECT_EQ(StateKey(st.containers[0]), "waiting");
  EXPECT_EQ(Reason(st.containers[0]), "SlurmJobPending");
  EXPECT_NE(api::GetString(st.containers[0], {"state", "waiting", "message"}).find("Resources"),
            std::string::npos);
  EXPECT_EQ(Reason(BuildPodStatus("u", "ns", "p", Job(JobState::kConfiguring), Refs(), {}, kT0)
                       .containers[0]),
            "SlurmJobConfiguring");
}

TEST(PodState, RunningJobShowsEachContainerFromItsFiles) {
  std::vector<ContainerFiles> f(3);
  f[0].started = kT0;
  f[0].exit_code = 0;
  f[0].finished = kT0 + seconds(1);
  f[1].started = kT0 + seconds(2);
  auto st = BuildPodStatus("u", "ns", "p", Job(JobState::kRunning), Refs(), f, kT0 + seconds(5));
  EXPECT_EQ(StateKey(st.init_containers[0]), "terminated");
  EXPECT_EQ(Reason(st.init_containers[0]), "Completed");
  EXPECT_EQ(StateKey(st.containers[0]), "running");
  EXPECT_EQ(StateKey(st.containers[1]), "waiting");
  EXPECT_EQ(Reason(st.containers[1]), "ContainerCreating");
}

TEST(PodState, AppContainersWaitForInitContainers) {
  std::vector<ContainerFiles> f(3);
  f[0].started = kT0;
  auto st = BuildPodStatus("u", "ns", "p", Job(JobState::kRunning), Refs(), f, kT0);
  EXPECT_EQ(StateKey(st.init_containers[0]), "running");
  EXPECT_EQ(Reason(st.containers[0]), "PodInitializing");
}

TEST(PodState, CompletedJobUsesPerContainerExitCodes) {
  std::vector<ContainerFiles> f(3);
  for (auto& x : f) x.started = kT0;
  f[0].exit_code = 0;
  f[1].exit_code = 0;
  f[2].exit_code = 3;
  auto st = BuildPodStatus("u", "ns", "p", Job(JobState::kFailed, 3), Refs(), f, kT0);
  EXPECT_EQ(ExitCode(st.containers[0]), 0);
  EXPECT_EQ(Reason(st.containers[0]), "Completed");
  EXPECT_EQ(ExitCode(st.containers[1]), 3);
  EXPECT_EQ(Reason(st.containers[1]), "Error");
}

TEST(PodState, FailedInitLeavesAppContainersTerminatedWithTheJobsCode) {
  std::vector<ContainerFiles> f(3);
  f[0].started = kT0;
  f[0].exit_code = 4;
  auto st = BuildPodStatus("u", "ns", "p", Job(JobState::kFailed, 4), Refs(), f, kT0);
  EXPECT_EQ(ExitCode(st.init_containers[0]), 4);
  EXPECT_EQ(ExitCode(st.containers[0]), 4);
  EXPECT_NE(
      api::GetString(st.containers[0], {"state", "terminated", "message"}).find("did not start"),
      std::string::npos);
}

TEST(PodState, TerminalJobStatesMapToReasons) {
  struct Case {
    JobState s;
    int exit;
    int sig;
    int code;
    const char* reason;
  };
  for (const auto& c : std::vector<Case>{{JobState::kTimeout, 0, 15, 143, "SlurmJobTimeout"},
                                         {JobState::kOutOfMemory, 0, 9, 137, "OOMKilled"},
                                         {JobState::kCancelled, 0, 15, 143, "SlurmJobCancelled"},
                                         {JobState::kNodeFail, 0, 0, 137, "SlurmNodeFail"},
                                         {JobState::kPreempted, 0, 0, 143, "SlurmJobPreempted"},
                                         {JobState::kFailed, 2, 0, 2, "Error"},
                                         {JobState::kLost, 0, 0, 1, "SlurmJobLost"},
                                         {JobState::kCompleted, 0, 0, 0, "Completed"}}) {
    std::vector<ContainerFiles> f(3);
    f[0].exit_code = 0;
    f[1].started = kT0;  // killed before writing its status
    auto st = BuildPodStatus("u", "ns", "p", Job(c.s, c.exit, c.sig), Refs(), f, kT0);
    SCOPED_TRACE(std::string(JobStateName(c.s)));
    EXPECT_EQ(StateKey(st.containers[0]), "terminated");
    EXPECT_EQ(ExitCode(st.containers[0]), c.code);
    EXPECT_EQ(Reason(st.containers[0]), c.reason);
  }
}

TEST(PodState, KilledContainerGetsTheJobsReason) {
  std::vector<ContainerFiles> f(3);
  f[1].exit_code = 143;
  f[2].exit_code = 1;
  auto st = BuildPodStatus("u", "ns", "p", Job(JobState::kTimeout, 0, 15), Refs(), f, kT0);
  EXPECT_EQ(Reason(st.containers[0]), "SlurmJobTimeout");
  EXPECT_EQ(Reason(st.containers[1]), "Error");
  f[1].exit_code = 137;
  EXPECT_EQ(Reason(BuildPodStatus("u", "ns", "p", Job(JobState::kOutOfMemory), Refs(), f, kT0)
                       .containers[0]),
            "OOMKilled");
}

TEST(PodState, SignalledContainerWaitsBrieflyForTheJobsReason) {
  std::vector<ContainerFiles> f(3);
  f[0].exit_code = 0;
  f[1].started = kT0;
  f[1].exit_code = 143;
  f[1].finished = kT0 + seconds(1);
  auto running =
      BuildPodStatus("u", "ns", "p", Job(JobState::kRunning), Refs(), f, kT0 + seconds(2));
  EXPECT_EQ(StateKey(running.containers[0]), "running");
  auto later =
      BuildPodStatus("u", "ns", "p", Job(JobState::kRunning), Refs(), f, kT0 + seconds(12));
  EXPECT_EQ(StateKey(later.containers[0]), "terminated");
  EXPECT_EQ(Reason(later.containers[0]), "Error");
  auto ended =
      BuildPodStatus("u", "ns", "p", Job(JobState::kCancelled), Refs(), f, kT0 + seconds(2));
  EXPECT_EQ(Reason(ended.containers[0]), "SlurmJobCancelled");
}

TEST(PodState, ParsesFileContents) {
  auto t = ParseEpoch("1800000000.250000\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, kT0 + std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseEpoch("1800000000,5"), kT0 + std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseEpoch("1800000000"), kT0);
  EXPECT_FALSE(ParseEpoch("x"));
  auto s = ParseStatusLine("137 1800000000.000001\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->first, 137);
  EXPECT_TRUE(s->second);
  EXPECT_EQ(ParseStatusLine("0\n")->first, 0);
  EXPECT_FALSE(ParseStatusLine(""));
  EXPECT_FALSE(ParseStatusLine("abc 1"));
}

}  // namespace
}  // namespace il::slurm
