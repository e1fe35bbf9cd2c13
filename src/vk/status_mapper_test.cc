#include "vk/status_mapper.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetInt;
using api::GetString;

json::value Pod(const std::string& restart = "Never", int inits = 0) {
  json::object spec{
      {"restartPolicy", restart},
      {"containers", json::array{json::object{{"name", "main"}, {"image", "busybox"}},
                                 json::object{{"name", "side"}, {"image", "alpine"}}}}};
  json::array init;
  for (int i = 0; i < inits; ++i) {
    init.push_back(json::object{{"name", "init" + std::to_string(i)}, {"image", "busybox"}});
  }
  if (inits) spec["initContainers"] = init;
  return json::object{{"metadata", {{"name", "p"}, {"namespace", "default"}, {"uid", "u1"}}},
                      {"spec", spec},
                      {"status", {{"phase", "Pending"}}}};
}

json::object Running(const std::string& name) {
  return {{"name", name}, {"state", {{"running", {{"startedAt", "2024-01-01T00:00:00Z"}}}}}};
}
json::object Terminated(const std::string& name, int code, const std::string& reason = "") {
  json::object t{{"exitCode", code},
                 {"startedAt", "2024-01-01T00:00:00Z"},
                 {"finishedAt", "2024-01-01T00:00:05Z"}};
  if (!reason.empty()) t["reason"] = reason;
  return {{"name", name}, {"state", {{"terminated", t}}}};
}

api::PodStatus Report(json::array containers, json::array init = {}) {
  api::PodStatus s;
  s.uid = "u1";
  s.containers = std::move(containers);
  s.init_containers = std::move(init);
  return s;
}

PodFacts Facts() {
  PodFacts f;
  f.host_ip = "127.0.0.1";
  f.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return f;
}

std::string Cond(const json::object& st, const std::string& type) {
  for (const auto& c : st.at("conditions").as_array()) {
    if (GetString(c, {"type"}) == type) return GetString(c, {"status"});
  }
  return "";
}

json::value WithStatus(json::value pod, const json::object& st) {
  pod.as_object()["status"] = st;
  return pod;
}

TEST(StatusMapper, PendingWithContainerCreatingUntilTheBackendReports) {
  auto st = MapPodStatus(Pod(), std::nullopt, Facts());
  EXPECT_EQ(PhaseOf(st), "Pending");
  const auto& cs = st.at("containerStatuses").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(GetString(cs[0], {"state", "waiting", "reason"}), "ContainerCreating");
  EXPECT_EQ(GetString(cs[0], {"image"}), "busybox");
  EXPECT_EQ(Cond(st, "PodScheduled"), "True");
  EXPECT_EQ(Cond(st, "Initialized"), "True");
  EXPECT_EQ(Cond(st, "Ready"), "False");
  EXPECT_EQ(GetString(st, {"hostIP"}), "127.0.0.1");
  EXPECT_EQ(KubectlStatus(WithStatus(Pod(), st)), "ContainerCreating");
}

TEST(StatusMapper, PendingWhileOnlySomeContainersRun) {
  auto st = MapPodStatus(Pod(), Report({Running("main")}), Facts());
  EXPECT_EQ(PhaseOf(st), "Pending");  // "side" has not started yet
}

TEST(StatusMapper, RunningAndReadyWhenAllContainersRun) {
  auto st = MapPodStatus(Pod(), Report({Running("main"), Running("side")}), Facts());
  EXPECT_EQ(PhaseOf(st), "Running");
  EXPECT_EQ(Cond(st, "Ready"), "True");
  EXPECT_EQ(Cond(st, "ContainersReady"), "True");
  const auto& cs = st.at("containerStatuses").as_array();
  EXPECT_TRUE(api::Find(cs[0], {"ready"})->as_bool());
  EXPECT_EQ(GetString(cs[0], {"state", "running", "startedAt"}), "2024-01-01T00:00:00Z");
}

TEST(StatusMapper, ProbeResultsReportedByThePluginDecideStartedAndReady) {
  auto main = Running("main");
  main["started"] = true;
  main["ready"] = false;  // readiness probe not yet passed
  auto side = Running("side");
  side["started"] = false;  // startup probe not yet passed: cannot be ready either
  side["ready"] = true;
  auto st = MapPodStatus(Pod("Always"), Report({main, side}), Facts());
  EXPECT_EQ(GetString(st, {"phase"}), "Running");
  const auto& cs = st.at("containerStatuses").as_array();
  EXPECT_TRUE(cs[0].at("started").as_bool());
  EXPECT_FALSE(cs[0].at("ready").as_bool());
  EXPECT_FALSE(cs[1].at("started").as_bool());
  EXPECT_FALSE(cs[1].at("ready").as_bool());
  EXPECT_EQ(Cond(st, "Ready"), "False");
  EXPECT_EQ(Cond(st, "ContainersReady"), "False");
  for (const auto& c : st.at("conditions").as_array()) {
    if (GetString(c, {"type"}) == "Ready") {
      EXPECT_EQ(GetString(c, {"message"}), "containers with unready status: [main side]");
    }
  }
  main["ready"] = true;
  side["started"] = true;
  st = MapPodStatus(Pod("Always"), Report({main, side}), Facts());
  EXPECT_EQ(Cond(st, "Ready"), "True");
  // A reported ready=true never makes a terminated container ready.
  auto done = Terminated("main", 0);
  done["ready"] = true;
  st = MapPodStatus(Pod("Always"), Report({done, side}), Facts());
  EXPECT_FALSE(st.at("containerStatuses").as_array()[0].at("ready").as_bool());
}

TEST(StatusMapper, SucceededWhenAllExitZero) {
  auto st = MapPodStatus(Pod(), Report({Terminated("main", 0), Terminated("side", 0)}), Facts());
  EXPECT_EQ(PhaseOf(st), "Succeeded");
  const auto& cs = st.at("containerStatuses").as_array();
  EXPECT_EQ(GetString(cs[0], {"state", "terminated", "reason"}), "Completed");
  EXPECT_EQ(Cond(st, "Ready"), "False");
  EXPECT_EQ(KubectlStatus(WithStatus(Pod(), st)), "Completed");
}

TEST(StatusMapper, FailedWithTheExitCodeAndThePluginsReasonKept) {
  auto st = MapPodStatus(
      Pod(), Report({Terminated("main", 137, "OOMKilled"), Terminated("side", 3)}), Facts());
  EXPECT_EQ(PhaseOf(st), "Failed");
  const auto& cs = st.at("containerStatuses").as_array();
  EXPECT_EQ(GetInt(cs[0], {"state", "terminated", "exitCode"}), 137);
  EXPECT_EQ(GetString(cs[0], {"state", "terminated", "reason"}), "OOMKilled");
  EXPECT_EQ(GetInt(cs[1], {"state", "terminated", "exitCode"}), 3);
  EXPECT_EQ(GetString(cs[1], {"state", "terminated", "reason"}), "Error");
}

TEST(StatusMapper, RestartPolicyDecidesThePhaseOfStoppedContainers) {
  auto failed = Report({Terminated("main", 1), Terminated("side", 0)});
  EXPECT_EQ(PhaseOf(MapPodStatus(Pod("Always"), failed, Facts())), "Running");
  EXPECT_EQ(PhaseOf(MapPodStatus(Pod("OnFailure"), failed, Facts())), "Running");
  auto ok = Report({Terminated("main", 0), Terminated("side", 0)});
  EXPECT_EQ(PhaseOf(MapPodStatus(Pod("OnFailure"), ok, Facts())), "Succeeded");
}

TEST(StatusMapper, InitContainersGiveInitCountsAndMainContainersWait) {
  json::value pod = Pod("Never", 2);
  auto st = MapPodStatus(pod, Report({}, {Terminated("init0", 0), Running("init1")}), Facts());
  EXPECT_EQ(PhaseOf(st), "Pending");
  EXPECT_EQ(Cond(st, "Initialized"), "False");
  const auto& init = st.at("initContainerStatuses").as_array();
  ASSERT_EQ(init.size(), 2u);
  const auto& main = st.at("containerStatuses").as_array();
  EXPECT_EQ(GetString(main[0], {"state", "waiting", "reason"}), "PodInitializing");
  EXPECT_EQ(KubectlStatus(WithStatus(pod, st)), "Init:1/2");
  // Before anything ran: Init:0/2.
  auto none = MapPodStatus(pod, std::nullopt, Facts());
  EXPECT_EQ(KubectlStatus(WithStatus(pod, none)), "Init:0/2");
  // All init done, mains running.
  auto done = MapPodStatus(
      pod,
      Report({Running("main"), Running("side")}, {Terminated("init0", 0), Terminated("init1", 0)}),
      Facts());
  EXPECT_EQ(PhaseOf(done), "Running");
  EXPECT_EQ(Cond(done, "Initialized"), "True");
}

TEST(StatusMapper, FailedInitContainerFailsAPodThatNeverRestarts) {
  json::value pod = Pod("Never", 2);
  auto st = MapPodStatus(pod, Report({}, {Terminated("init0", 2)}), Facts());
  EXPECT_EQ(PhaseOf(st), "Failed");
  EXPECT_EQ(KubectlStatus(WithStatus(pod, st)), "Init:Error");
  auto again = MapPodStatus(Pod("Always", 2), Report({}, {Terminated("init0", 2)}), Facts());
  EXPECT_EQ(PhaseOf(again), "Pending");
}

TEST(StatusMapper, CreationFailureIsFailedProviderFailedWithTheMessage) {
  PodFacts f = Facts();
  f.create_error = "quota exceeded";
  auto st = MapPodStatus(Pod(), std::nullopt, f);
  EXPECT_EQ(PhaseOf(st), "Failed");
  EXPECT_EQ(GetString(st, {"reason"}), "ProviderFailed");
  EXPECT_EQ(GetString(st, {"message"}), "quota exceeded");
  EXPECT_EQ(KubectlStatus(WithStatus(Pod(), st)), "ProviderFailed");
}

TEST(StatusMapper, LostPodsFailWithContainerStatusUnknown) {
  PodFacts f = Facts();
  f.lost = true;
  auto st = MapPodStatus(Pod("Always"), Report({Running("main"), Running("side")}), f);
  EXPECT_EQ(PhaseOf(st), "Failed");
  const auto& cs = st.at("containerStatuses").as_array();
  EXPECT_EQ(GetInt(cs[0], {"state", "terminated", "exitCode"}), 137);
}

TEST(StatusMapper, MissingConfigKeepsThePodPendingWithTheReason) {
  PodFacts f = Facts();
  f.config_error_reason = "CreateContainerConfigError";
  f.config_error_message = "configmap \"cfg\" not found";
  auto st = MapPodStatus(Pod(), std::nullopt, f);
  EXPECT_EQ(PhaseOf(st), "Pending");
  EXPECT_EQ(KubectlStatus(WithStatus(Pod(), st)), "CreateContainerConfigError");
}

TEST(StatusMapper, PodIpFromTheBackendAndTimesKeptFromThePreviousStatus) {
  auto rep =
      Report({Running("main"), {{"name", "side"}, {"state", {{"running", json::object{}}}}}});
  rep.pod_ip = "10.0.0.7";
  auto st = MapPodStatus(Pod(), rep, Facts());
  EXPECT_EQ(GetString(st, {"podIP"}), "10.0.0.7");
  EXPECT_EQ(GetString(st.at("podIPs").as_array()[0], {"ip"}), "10.0.0.7");
  // A later mapping at another time keeps startTime, transition times and startedAt.
  PodFacts later = Facts();
  later.now += std::chrono::minutes(5);
  auto again = MapPodStatus(WithStatus(Pod(), st), rep, later);
  EXPECT_EQ(json::serialize(again), json::serialize(st));
  EXPECT_EQ(PodStatusFingerprint(again), PodStatusFingerprint(st));
}

TEST(StatusMapper, ConditionsClearReasonAndMessageExplicitly) {
  // Conditions are merged by type in a strategic merge patch: an omitted reason would
  // survive from the NotReady condition into the Ready one.
  auto st = MapPodStatus(Pod(), Report({Running("main"), Running("side")}), Facts());
  for (const auto& c : st.at("conditions").as_array()) {
    ASSERT_TRUE(c.as_object().contains("reason")) << json::serialize(c);
    ASSERT_TRUE(c.as_object().contains("message")) << json::serialize(c);
    if (GetString(c, {"status"}) == "True") {
      EXPECT_TRUE(c.at("reason").is_null());
    }
  }
}

TEST(StatusMapper, FingerprintIgnoresTimesAndForeignConditions) {
  auto st = MapPodStatus(Pod(), Report({Running("main"), Running("side")}), Facts());
  json::object other = st;
  other["conditions"].as_array().push_back(
      json::object{{"type", "example.com/gate"}, {"status", "True"}});
  other["startTime"] = "2030-01-01T00:00:00Z";
  other["qosClass"] = "BestEffort";
  EXPECT_EQ(PodStatusFingerprint(st), PodStatusFingerprint(other));
  other["phase"] = "Failed";
  EXPECT_NE(PodStatusFingerprint(st), PodStatusFingerprint(other));
  // started flips (a startup probe passing) are changes worth a patch.
  json::object flipped = st;
  flipped["containerStatuses"].as_array()[0].as_object()["started"] = false;
  EXPECT_NE(PodStatusFingerprint(st), PodStatusFingerprint(flipped));
}

}  // namespace
}  // namespace il::vk
