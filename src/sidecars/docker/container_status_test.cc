#include "sidecars/docker/container_status.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {
namespace json = boost::json;

// Trimmed real `docker inspect` output (docker 20.10).
constexpr char kInspect[] = R"([
 {"Id":"aaa","Name":"/il-ns_p_main_u1","Image":"sha256:img",
  "State":{"Status":"exited","Running":false,"OOMKilled":true,"ExitCode":137,"Error":"",
           "StartedAt":"2024-05-01T10:00:00.123456789Z","FinishedAt":"2024-05-01T10:00:05Z"},
  "RestartCount":0,"HostConfig":{"RestartPolicy":{"Name":"no"}},
  "NetworkSettings":{"IPAddress":"","Networks":{"none":{"IPAddress":""}}}},
 {"Id":"bbb","Name":"/il-ns_p_side_u1","Image":"sha256:img",
  "State":{"Status":"running","ExitCode":0,"Error":"","StartedAt":"2024-05-01T10:00:01Z",
           "FinishedAt":"0001-01-01T00:00:00Z"},
  "RestartCount":2,"HostConfig":{"RestartPolicy":{"Name":"always"}},
  "NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.5"}}}},
 {"Id":"ccc","Name":"/il-ns_p_init_u1","Image":"sha256:img",
  "State":{"Status":"created","ExitCode":127,
           "Error":"exec: \"/nope\": stat /nope: no such file or directory",
           "StartedAt":"0001-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"}}
])";

PodPlan Plan() {
  PodPlan p;
  p.uid = "u1";
  p.ns = "ns";
  p.name = "p";
  p.restart_policy = "Never";
  p.containers = {
      {Role::kInit, "init", "il-ns_p_init_u1", "img", {}, "", {}, {}, {}, nullptr, "", false},
      {Role::kApp, "main", "il-ns_p_main_u1", "img", {}, "", {}, {}, {}, nullptr, "", false},
      {Role::kApp, "side", "il-ns_p_side_u1", "img", {}, "", {}, {}, {}, nullptr, "", false},
      {Role::kApp, "gone", "il-ns_p_gone_u1", "img", {}, "", {}, {}, {}, nullptr, "", false}};
  return p;
}

const json::object& State(const json::value& s) { return s.at("state").as_object(); }

TEST(ParseInspect, ReadsStateTimesAndNetworks) {
  auto m = ParseInspect(kInspect);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 3u);
  const Observed& a = m->at("il-ns_p_main_u1");
  EXPECT_EQ(a.status, "exited");
  EXPECT_TRUE(a.oom_killed);
  EXPECT_EQ(a.exit_code, 137);
  EXPECT_TRUE(a.started.has_value());
  EXPECT_TRUE(a.Finished());
  EXPECT_FALSE(a.Succeeded());
  EXPECT_EQ(m->at("il-ns_p_side_u1").ip, "172.17.0.5");
  EXPECT_FALSE(m->at("il-ns_p_side_u1").finished.has_value());
  EXPECT_TRUE(m->at("il-ns_p_init_u1").Finished());  // start error
  EXPECT_TRUE(ParseInspect("[]")->empty());
  EXPECT_TRUE(ParseInspect("")->empty());
  EXPECT_FALSE(ParseInspect("not json").ok());
  EXPECT_FALSE(ParseInspect("{}").ok());
}

TEST(BuildPodStatus, MapsEveryDockerStateToAKubernetesOne) {
  auto m = ParseInspect(kInspect);
  ASSERT_TRUE(m.ok());
  auto s = BuildPodStatus(Plan(), Stage::kRunning, *m, {});
  EXPECT_EQ(s.uid, "u1");
  EXPECT_EQ(s.jid, "il-ns_p_init_u1");  // no sandbox: the first container holds the namespaces
  ASSERT_EQ(s.init_containers.size(), 1u);
  ASSERT_EQ(s.containers.size(), 3u);
  const auto& init = State(s.init_containers[0]).at("terminated");
  EXPECT_EQ(init.at("reason"), "StartError");
  EXPECT_EQ(init.at("exitCode"), 127);
  EXPECT_FALSE(init.as_object().contains("startedAt"));
  const auto& main = State(s.containers[0]).at("terminated");
  EXPECT_EQ(main.at("reason"), "OOMKilled");
  EXPECT_EQ(main.at("exitCode"), 137);
  EXPECT_EQ(main.at("startedAt"), "2024-05-01T10:00:00Z");
  EXPECT_EQ(main.at("finishedAt"), "2024-05-01T10:00:05Z");
  EXPECT_EQ(s.containers[0].at("containerID"), "docker://aaa");
  EXPECT_TRUE(State(s.containers[1]).contains("running"));
  EXPECT_EQ(s.containers[1].at("restartCount"), 2);
  EXPECT_EQ(s.containers[1].at("ready"), true);
  const auto& gone = State(s.containers[2]).at("terminated");
  EXPECT_EQ(gone.at("reason"), "ContainerStatusUnknown");
  EXPECT_EQ(gone.at("exitCode"), 137);
}

TEST(BuildPodStatus, AbsentContainersOfAStartingPodAreWaiting) {
  std::map<std::string, CreateError> errors{
      {"il-ns_p_side_u1", {"ErrImageNeverPull", "Container image \"img\" is not present"}}};
  auto s = BuildPodStatus(Plan(), Stage::kPending, {}, errors);
  EXPECT_EQ(State(s.init_containers[0]).at("waiting").at("reason"), "PodInitializing");
  EXPECT_EQ(State(s.containers[0]).at("waiting").at("reason"), "PodInitializing");
  EXPECT_EQ(State(s.containers[1]).at("waiting").at("reason"), "ErrImageNeverPull");
  EXPECT_EQ(State(s.containers[1]).at("waiting").at("message"),
            "Container image \"img\" is not present");
  EXPECT_TRUE(s.pod_ip.is_null());
}

TEST(BuildPodStatus, RestartingIsCrashLoopBackOffWithTheLastExit) {
  PodPlan p = Plan();
  Observed o;
  o.id = "x";
  o.status = "restarting";
  o.exit_code = 3;
  o.restart_count = 4;
  auto s = BuildPodStatus(p, Stage::kRunning, {{"il-ns_p_main_u1", o}}, {});
  EXPECT_EQ(State(s.containers[0]).at("waiting").at("reason"), "CrashLoopBackOff");
  EXPECT_EQ(s.containers[0].at("lastState").at("terminated").at("exitCode"), 3);
  EXPECT_EQ(s.containers[0].at("restartCount"), 4);
}

TEST(Stage, NamesRoundTrip) {
  for (Stage s : {Stage::kPending, Stage::kRunning, Stage::kFailed, Stage::kDeleting}) {
    EXPECT_EQ(ParseStage(StageName(s)), s);
  }
}

}  // namespace
}  // namespace il::docker
