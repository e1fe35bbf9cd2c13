#include "sidecars/slurm/probe_state.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "sidecars/slurm/pod_state.h"

namespace il::slurm {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1800000000));

JobView Running() {
  JobView j;
  j.job_id = "7";
  j.state = JobState::kRunning;
  j.start = kT0;
  return j;
}

ContainerFiles Started() {
  ContainerFiles f;
  f.started = kT0;
  return f;
}

TEST(ProbeState, ParsesResultFiles) {
  auto r = ParseProbeResult("failure 4 1800000010.5\nReadiness probe failed: HTTP 503\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, "failure");
  EXPECT_EQ(r->failures, 4);
  EXPECT_EQ(r->message, "Readiness probe failed: HTTP 503");
  ASSERT_TRUE(r->when);
  auto u = ParseProbeResult("unknown 0 0\n\n");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->when);
  EXPECT_FALSE(ParseProbeResult("bogus 1 2"));
  EXPECT_FALSE(ParseProbeResult(""));
  EXPECT_FALSE(ParseHookFailure("ok\n"));
  auto h = ParseHookFailure("failed 1800000000\nexit 3");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->message, "exit 3");
}

TEST(ProbeState, StartedAndReadyFollowTheProbes) {
  ProbeFiles f;
  EXPECT_TRUE(ProbeStarted(f));
  EXPECT_TRUE(ProbeReady(f));
  f.startup = ProbeResult{};
  f.readiness = ProbeResult{};
  EXPECT_FALSE(ProbeStarted(f));
  EXPECT_FALSE(ProbeReady(f));
  f.readiness->result = "success";
  EXPECT_FALSE(ProbeReady(f)) << "readiness is gated by the startup probe";
  f.startup->result = "success";
  EXPECT_TRUE(ProbeStarted(f));
  EXPECT_TRUE(ProbeReady(f));
  f.readiness->result = "failure";
  EXPECT_FALSE(ProbeReady(f));
}

TEST(ProbeState, RunningContainerCarriesStartedAndReady) {
  std::vector<ContainerRef> refs = {{"a", "img", false, true}};
  std::vector<ContainerFiles> files = {Started()};
  files[0].probes.readiness = ProbeResult{"unknown", 2, kT0, "Readiness probe failed: x"};
  auto st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(5));
  const auto& cs = st.containers.at(0);
  EXPECT_TRUE(cs.at("state").as_object().contains("running"));
  EXPECT_EQ(cs.at("started"), true);
  EXPECT_EQ(cs.at("ready"), false);
  ASSERT_EQ(st.events.size(), 1u);
  EXPECT_EQ(st.events[0].at("reason"), "Unhealthy");
  EXPECT_EQ(st.events[0].at("count"), 2);
  EXPECT_EQ(st.events[0].at("type"), "Warning");
  EXPECT_EQ(st.events[0].at("container"), "a");
  files[0].probes.readiness->result = "success";
  st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(5));
  EXPECT_EQ(st.containers.at(0).at("ready"), true);
}

TEST(ProbeState, PostStartKeepsTheContainerWaitingThenKillsIt) {
  std::vector<ContainerRef> refs = {{"a", "img", false, true}};
  std::vector<ContainerFiles> files = {Started()};
  files[0].probes.post_start = "pending";
  auto st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(5));
  EXPECT_EQ(api::GetString(st.containers.at(0), {"state", "waiting", "reason"}),
            "ContainerCreating");
  files[0].probes.post_start = "failed";
  files[0].probes.post_start_failure = HookFailure{kT0, "exit status 3"};
  files[0].probes.killed = "poststart";
  files[0].exit_code = 143;
  files[0].finished = kT0;
  st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(15));
  EXPECT_EQ(api::GetString(st.containers.at(0), {"state", "terminated", "reason"}),
            "PostStartHookError");
  EXPECT_NE(
      api::GetString(st.containers.at(0), {"state", "terminated", "message"}).find("exit status 3"),
      std::string::npos);
  ASSERT_EQ(st.events.size(), 2u);
  EXPECT_EQ(st.events[0].at("reason"), "FailedPostStartHook");
  EXPECT_EQ(st.events[1].at("reason"), "Killing");
}

TEST(ProbeState, LivenessKillGivesAKillingEvent) {
  ProbeFiles f;
  f.liveness = ProbeResult{"failure", 3, kT0, "Liveness probe failed: boom"};
  f.killed = "liveness";
  boost::json::array ev;
  AppendProbeEvents("web", f, ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].at("message"), "Container web failed liveness probe");
  f.will_restart = true;
  f.kills = 2;
  ev.clear();
  AppendProbeEvents("web", f, ev);
  EXPECT_EQ(ev[1].at("message"), "Container web failed liveness probe, will be restarted");
  EXPECT_EQ(ev[1].at("count"), 2);
  EXPECT_EQ(ev[1].at("type"), "Normal");
}

TEST(ProbeState, RestartedContainerShowsBackOffCountAndLastState) {
  std::vector<ContainerRef> refs = {{"a", "img", false, true}};
  std::vector<ContainerFiles> files(1);
  files[0].probes.restarts = 2;
  files[0].probes.backoff_until = kT0 + seconds(20);
  files[0].probes.backoff_seconds = 20;
  files[0].probes.last_exit_code = 143;
  files[0].probes.last_started = kT0;
  files[0].probes.last_finished = kT0 + seconds(3);
  auto st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(5));
  const auto& cs = st.containers.at(0);
  EXPECT_EQ(api::GetString(cs, {"state", "waiting", "reason"}), "CrashLoopBackOff");
  EXPECT_EQ(api::GetString(cs, {"state", "waiting", "message"}),
            "back-off 20s restarting failed container=a pod=p_ns(u)");
  EXPECT_EQ(cs.at("restartCount"), 2);
  EXPECT_EQ(api::GetInt(cs, {"lastState", "terminated", "exitCode"}), 143);
  EXPECT_EQ(api::GetString(cs, {"lastState", "terminated", "reason"}), "Error");
  files[0].probes.backoff_until.reset();
  files[0].started = kT0 + seconds(25);
  st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(30));
  EXPECT_TRUE(st.containers.at(0).at("state").as_object().contains("running"));
  EXPECT_EQ(st.containers.at(0).at("restartCount"), 2);
}

TEST(ProbeState, TerminationMessageIsCutPerContainer) {
  std::vector<ContainerRef> refs = {{"a", "img", false, false}, {"b", "img", false, false}};
  std::vector<ContainerFiles> files = {Started(), Started()};
  files[0].exit_code = 1;
  files[0].finished = kT0;
  files[0].message = std::string(10000, 'x');
  files[1].exit_code = 0;
  files[1].finished = kT0;
  files[1].message = "done";
  auto st = BuildPodStatus("u", "ns", "p", Running(), refs, files, kT0 + seconds(15));
  EXPECT_EQ(api::GetString(st.containers.at(0), {"state", "terminated", "message"}).size(), 6144u);
  EXPECT_EQ(api::GetString(st.containers.at(1), {"state", "terminated", "message"}), "done");
}

}  // namespace
}  // namespace il::slurm
