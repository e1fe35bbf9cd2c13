#include "sidecars/docker/supervision.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::docker {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

json::object RunningC() {
  return api::RunningStatus("c", "img", std::chrono::system_clock::time_point{});
}

TEST(RestartDelay, FirstAtOnceThenTenSecondsDoublingToFiveMinutes) {
  ContainerRuntime rt;
  int64_t now = 1'000'000'000;
  std::vector<int64_t> got;
  for (int i = 0; i < 9; ++i) {
    got.push_back(std::chrono::duration_cast<seconds>(RestartDelay(rt, now)).count());
    rt.last_restart_ms = now;
  }
  EXPECT_EQ(got, (std::vector<int64_t>{0, 10, 20, 40, 80, 160, 300, 300, 300}));
  EXPECT_EQ(RestartDelay(rt, now + int64_t{11} * 60 * 1000).count(), 0);  // quiet for 10 min: reset
}

TEST(RuntimeJson, RoundTrips) {
  RuntimeMap m;
  m["c"].restart_base = 3;
  m["c"].hooked = "id@t";
  m["c"].restart_at_ms = 42;
  RecordDeath(m["c"], json::object{{"exitCode", 137}, {"finishedAt", "2024-05-01T10:00:00Z"}});
  RuntimeMap back = RuntimeFromJson(RuntimeToJson(m));
  EXPECT_EQ(back["c"].restart_base, 3);
  EXPECT_EQ(back["c"].hooked, "id@t");
  EXPECT_EQ(back["c"].restart_at_ms, 42);
  ASSERT_EQ(back["c"].deaths.size(), 1u);
  EXPECT_EQ(api::GetInt(back["c"].deaths[0], {"exitCode"}), 137);
  EXPECT_TRUE(RuntimeFromJson("not json").empty());
}

TEST(ApplyOverlay, ProbeResultsSetStartedAndReady) {
  json::object s = RunningC();
  Overlay o;
  o.started = true;
  o.ready = false;
  ApplyOverlay(s, o);
  EXPECT_TRUE(s["started"].as_bool());
  EXPECT_FALSE(s["ready"].as_bool());
}

TEST(ApplyOverlay, PendingPostStartShowsContainerCreating) {
  json::object s = RunningC();
  Overlay o;
  o.post_start_pending = true;
  ApplyOverlay(s, o);
  EXPECT_EQ(api::GetString(s, {"state", "waiting", "reason"}), "ContainerCreating");
  EXPECT_FALSE(s["ready"].as_bool());
}

TEST(ApplyOverlay, OwedRestartShowsWaitingWithLastStateAndCount) {
  json::object s = api::TerminatedStatus("c", "img", 137, "", "", {}, {});
  s["restartCount"] = 0;
  ContainerRuntime rt;
  rt.restart_base = 1;
  rt.restart_at_ms = 5;
  rt.waiting_reason = "CrashLoopBackOff";
  rt.waiting_message = "back-off 10s restarting failed container=c pod=p_ns(u)";
  Overlay o;
  o.runtime = &rt;
  ApplyOverlay(s, o);
  EXPECT_EQ(api::GetString(s, {"state", "waiting", "reason"}), "CrashLoopBackOff");
  EXPECT_EQ(api::GetInt(s, {"lastState", "terminated", "exitCode"}), 137);
  EXPECT_EQ(api::GetInt(s, {"restartCount"}), 1);
}

TEST(ApplyOverlay, RecordedLastStateAfterARestart) {
  json::object s = RunningC();
  s["restartCount"] = 0;
  ContainerRuntime rt;
  rt.restart_base = 1;
  Overlay o;
  o.runtime = &rt;
  o.last_state = json::object{{"exitCode", 137}, {"reason", "Error"}};
  ApplyOverlay(s, o);
  EXPECT_EQ(api::GetInt(s, {"restartCount"}), 1);
  EXPECT_EQ(api::GetString(s, {"lastState", "terminated", "reason"}), "Error");
  EXPECT_TRUE(s["started"].as_bool());
}

TEST(ApplyOverlay, TerminationMessageFollowsDockersError) {
  json::object s = api::TerminatedStatus("c", "img", 1, "", "", {}, {});
  Overlay o;
  o.termination_message = "bye";
  ApplyOverlay(s, o);
  EXPECT_EQ(api::GetString(s, {"state", "terminated", "message"}), "bye");
  json::object e = api::TerminatedStatus("c", "img", 128, "StartError", "exec failed", {}, {});
  ApplyOverlay(e, o);
  EXPECT_EQ(api::GetString(e, {"state", "terminated", "message"}), "exec failed: bye");
}

TEST(AddStatusEvent, CountsRepeatsAndKeepsTheNewest) {
  json::array ev;
  auto t = std::chrono::system_clock::now();
  AddStatusEvent(ev, "c", "Warning", "Unhealthy", "Liveness probe failed: x", t);
  AddStatusEvent(ev, "c", "Normal", "Killing", "Container c failed liveness probe", t);
  AddStatusEvent(ev, "c", "Warning", "Unhealthy", "Liveness probe failed: x", t);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(api::GetString(ev[1], {"reason"}), "Unhealthy");
  EXPECT_EQ(api::GetInt(ev[1], {"count"}), 2);
  for (int i = 0; i < 30; ++i) {
    AddStatusEvent(ev, "c", "Warning", "Unhealthy", "m" + std::to_string(i), t);
  }
  EXPECT_EQ(ev.size(), api::kMaxStatusEvents);
  EXPECT_EQ(api::GetString(ev.back(), {"message"}), "m29");
}

TEST(RecordDeath, KeepsTheRicherOfOneDeathAndTheNewestFew) {
  ContainerRuntime rt;
  RecordDeath(rt, json::object{{"exitCode", 143}, {"finishedAt", "2024-05-01T10:00:05.300Z"}});
  RecordDeath(rt, json::object{{"exitCode", 143},
                               {"reason", "Error"},
                               {"startedAt", "2024-05-01T10:00:01Z"},
                               {"finishedAt", "2024-05-01T10:00:05Z"}});
  ASSERT_EQ(rt.deaths.size(), 1u);  // the die event and the kill's record are one death
  EXPECT_EQ(api::GetString(rt.deaths[0], {"startedAt"}), "2024-05-01T10:00:01Z");
  for (int i = 10; i < 15; ++i) {
    RecordDeath(rt, json::object{{"exitCode", i},
                                 {"finishedAt", "2024-05-01T10:00:" + std::to_string(i) + "Z"}});
  }
  EXPECT_EQ(rt.deaths.size(), kMaxDeaths);
  auto at = [](const char* t) { return *api::ParseRfc3339(t); };
  EXPECT_EQ(api::GetInt(*LastState(rt, at("2024-05-01T10:00:13.5Z")), {"exitCode"}), 13);
  EXPECT_EQ(api::GetInt(*LastState(rt, at("2024-05-01T10:01:00Z")), {"exitCode"}), 14);
  EXPECT_FALSE(LastState(rt, at("2024-05-01T10:00:11Z")).has_value());
}

int64_t Ms(const char* rfc3339) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             api::ParseRfc3339(rfc3339)->time_since_epoch())
      .count();
}

TEST(Oom, AnOomEventAfterTheExitStillMakesItOomKilled) {
  // Docker's State.OOMKilled missed the kill (its oom notice came after the exit); its own
  // `oom` event, a moment after the exit, makes the status OOMKilled as the kubelet's would.
  json::object s =
      api::TerminatedStatus("c", "img", 137, "", "", *api::ParseRfc3339("2024-05-01T10:00:00Z"),
                            *api::ParseRfc3339("2024-05-01T10:00:04Z"));
  ContainerRuntime rt;
  Overlay o;
  o.runtime = &rt;
  json::object before = s;
  ApplyOverlay(before, o);
  EXPECT_EQ(api::GetString(before, {"state", "terminated", "reason"}), "Error");
  RecordOom(rt, Ms("2024-05-01T10:00:06Z"));
  ApplyOverlay(s, o);
  EXPECT_EQ(api::GetString(s, {"state", "terminated", "reason"}), "OOMKilled");
  // Not an exit that ended before the oom's lag, nor one of an instance started after it.
  json::object late =
      api::TerminatedStatus("c", "img", 137, "", "", *api::ParseRfc3339("2024-05-01T09:59:00Z"),
                            *api::ParseRfc3339("2024-05-01T10:00:00.5Z"));
  ApplyOverlay(late, o);
  EXPECT_EQ(api::GetString(late, {"state", "terminated", "reason"}), "Error");
  json::object next =
      api::TerminatedStatus("c", "img", 1, "", "", *api::ParseRfc3339("2024-05-01T10:00:07Z"),
                            *api::ParseRfc3339("2024-05-01T10:00:08Z"));
  ApplyOverlay(next, o);
  EXPECT_EQ(api::GetString(next, {"state", "terminated", "reason"}), "Error");
  // A clean exit stays Completed.
  json::object ok =
      api::TerminatedStatus("c", "img", 0, "", "", *api::ParseRfc3339("2024-05-01T10:00:00Z"),
                            *api::ParseRfc3339("2024-05-01T10:00:04Z"));
  ApplyOverlay(ok, o);
  EXPECT_EQ(api::GetString(ok, {"state", "terminated", "reason"}), "Completed");
}

TEST(Oom, DeathsTakeTheOomOfTheirOwnInstance) {
  ContainerRuntime rt;
  auto at = [](const char* t) { return *api::ParseRfc3339(t); };
  EXPECT_EQ(DeathReason(rt, 0, at("2024-05-01T10:00:00Z")), "Completed");
  EXPECT_EQ(DeathReason(rt, 137, at("2024-05-01T10:00:00Z")), "Error");
  // The oom before the die event: the death reads OOMKilled.
  RecordOom(rt, Ms("2024-05-01T10:00:09.9Z"));
  EXPECT_EQ(DeathReason(rt, 137, at("2024-05-01T10:00:10Z")), "OOMKilled");
  RecordDeath(rt, json::object{{"exitCode", 137},
                               {"reason", DeathReason(rt, 137, at("2024-05-01T10:00:10Z"))},
                               {"finishedAt", "2024-05-01T10:00:10Z"}});
  // The next instance's exit is not blamed on that oom.
  EXPECT_EQ(DeathReason(rt, 137, at("2024-05-01T10:00:12Z")), "Error");
  RecordDeath(
      rt,
      json::object{{"exitCode", 137}, {"reason", "Error"}, {"finishedAt", "2024-05-01T10:00:12Z"}});
  // An oom after the die event fixes the recorded death (lastState), within the lag only.
  RecordOom(rt, Ms("2024-05-01T10:00:13Z"));
  EXPECT_EQ(api::GetString(rt.deaths.back(), {"reason"}), "OOMKilled");
  RecordDeath(
      rt,
      json::object{{"exitCode", 1}, {"reason", "Error"}, {"finishedAt", "2024-05-01T10:00:20Z"}});
  RecordOom(rt, Ms("2024-05-01T10:00:40Z"));
  EXPECT_EQ(api::GetString(rt.deaths.back(), {"reason"}), "Error");
  EXPECT_EQ(rt.oom_ms.size(), kMaxOoms);
  RuntimeMap m{{"c", rt}};
  EXPECT_EQ(RuntimeFromJson(RuntimeToJson(m))["c"].oom_ms, rt.oom_ms);
}

TEST(TailBytes, KeepsTheEnd) {
  EXPECT_EQ(TailBytes("abcdef", 3), "def");
  EXPECT_EQ(TailBytes("ab", 3), "ab");
}

}  // namespace
}  // namespace il::docker
