#include "sidecars/mock/mock_timeline.h"

#include <gtest/gtest.h>

#include "sidecars/mock/mock_test_util.h"

namespace il::mock {
namespace {
using namespace std::chrono_literals;
using testing::MakePod;
using testing::PodSpec;
namespace json = boost::json;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'700'000'000));

MockPlan Plan(const PodSpec& s) {
  auto p = ParseMockPlan(MakePod(s));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : MockPlan{};
}

std::string StateOf(const json::object& st) {
  const auto& state = st.at("state").as_object();
  return std::string(state.begin()->key());
}
std::string Reason(const json::object& st) {
  const auto& state = st.at("state").as_object();
  return std::string(state.begin()->value().as_object().at("reason").as_string());
}

std::vector<std::string> Texts(const std::vector<api::LogLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

TEST(MockTimeline, PendingThenRunningThenSucceeded) {
  MockPlan p = Plan({});
  const auto& c = p.containers[0];
  auto st = ContainerStatusAt(p, c, kT0, kT0 + 100ms);
  EXPECT_EQ(StateOf(st), "waiting");
  EXPECT_EQ(Reason(st), "ContainerCreating");
  st = ContainerStatusAt(p, c, kT0, kT0 + 200ms);
  EXPECT_EQ(StateOf(st), "running");
  EXPECT_EQ(st["ready"], true);
  st = ContainerStatusAt(p, c, kT0, kT0 + 1200ms);
  EXPECT_EQ(StateOf(st), "terminated");
  const auto& term = st["state"].as_object()["terminated"].as_object();
  EXPECT_EQ(term.at("exitCode"), 0);
  EXPECT_EQ(term.at("reason"), "Completed");
  EXPECT_EQ(term.at("startedAt"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(term.at("finishedAt"), "2023-11-14T22:13:21Z");
}

TEST(MockTimeline, NonZeroExitCodeIsAnError) {
  PodSpec s;
  s.containers = {"ok", "bad"};
  s.annotations = {{"exit-code.bad", "42"}, {"run-seconds.bad", "2"}};
  MockPlan p = Plan(s);
  auto ok = ContainerStatusAt(p, p.containers[0], kT0, kT0 + 1500ms);
  auto bad = ContainerStatusAt(p, p.containers[1], kT0, kT0 + 1500ms);
  EXPECT_EQ(StateOf(ok), "terminated");
  EXPECT_EQ(StateOf(bad), "running");
  bad = ContainerStatusAt(p, p.containers[1], kT0, kT0 + 2200ms);
  EXPECT_EQ(bad["state"].as_object()["terminated"].as_object()["exitCode"], 42);
  EXPECT_EQ(Reason(bad), "Error");
}

TEST(MockTimeline, InitContainersRunOneAfterAnotherBeforeApps) {
  PodSpec s;
  s.init_containers = {"a", "b"};
  s.annotations = {{"pending-seconds", "0"}, {"run-seconds.b", "1"}};
  MockPlan p = Plan(s);
  const auto& a = p.init_containers[0];
  const auto& b = p.init_containers[1];
  const auto& m = p.containers[0];
  EXPECT_EQ(PhaseAt(p, a, kT0, kT0 + 100ms), Phase::kRunning);
  EXPECT_EQ(PhaseAt(p, b, kT0, kT0 + 100ms), Phase::kWaiting);
  EXPECT_EQ(Reason(ContainerStatusAt(p, b, kT0, kT0 + 100ms)), "PodInitializing");
  EXPECT_EQ(Reason(ContainerStatusAt(p, m, kT0, kT0 + 100ms)), "PodInitializing");
  EXPECT_EQ(PhaseAt(p, a, kT0, kT0 + 300ms), Phase::kTerminated);
  EXPECT_EQ(PhaseAt(p, b, kT0, kT0 + 300ms), Phase::kRunning);
  EXPECT_EQ(PhaseAt(p, m, kT0, kT0 + 1100ms), Phase::kWaiting);
  EXPECT_EQ(PhaseAt(p, m, kT0, kT0 + 1200ms), Phase::kRunning);
  EXPECT_EQ(PhaseAt(p, m, kT0, kT0 + 2200ms), Phase::kTerminated);
}

TEST(MockTimeline, FailedInitContainerLeavesTheRestWaitingForever) {
  PodSpec s;
  s.init_containers = {"a", "b"};
  s.annotations = {{"exit-code.a", "7"}};
  MockPlan p = Plan(s);
  auto later = kT0 + 1h;
  auto a = ContainerStatusAt(p, p.init_containers[0], kT0, later);
  EXPECT_EQ(a["state"].as_object()["terminated"].as_object()["exitCode"], 7);
  EXPECT_EQ(Reason(ContainerStatusAt(p, p.init_containers[1], kT0, later)), "PodInitializing");
  EXPECT_EQ(Reason(ContainerStatusAt(p, p.containers[0], kT0, later)), "PodInitializing");
  EXPECT_TRUE(LogLinesAt(p.containers[0], kT0, later).empty());
}

TEST(MockTimeline, RunForeverNeverTerminates) {
  PodSpec s;
  s.annotations = {{"run-forever", "true"}};
  MockPlan p = Plan(s);
  EXPECT_EQ(PhaseAt(p, p.containers[0], kT0, kT0 + 24h), Phase::kRunning);
}

TEST(MockTimeline, DefaultLogsSayStartedAndExited) {
  PodSpec s;
  s.annotations = {{"exit-code", "3"}};
  MockPlan p = Plan(s);
  const auto& c = p.containers[0];
  EXPECT_TRUE(LogLinesAt(c, kT0, kT0 + 100ms).empty());
  EXPECT_EQ(Texts(LogLinesAt(c, kT0, kT0 + 500ms)), std::vector<std::string>{"main started"});
  auto lines = LogLinesAt(c, kT0, kT0 + 2s);
  EXPECT_EQ(Texts(lines), (std::vector<std::string>{"main started", "main exited with code 3"}));
  EXPECT_EQ(lines[0].time, kT0 + 200ms);
  EXPECT_EQ(lines[1].time, kT0 + 1200ms);
}

TEST(MockTimeline, ExplicitLinesAreSpreadOverTheRun) {
  PodSpec s;
  s.annotations = {{"logs.main", "one\ntwo\nthree\nfour"}, {"pending-seconds", "0"}};
  MockPlan p = Plan(s);
  auto lines = LogLinesAt(p.containers[0], kT0, kT0 + 10s);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].time, kT0);
  EXPECT_EQ(lines[1].time, kT0 + 250ms);
  EXPECT_EQ(lines[3].time, kT0 + 750ms);
  EXPECT_EQ(Texts(LogLinesAt(p.containers[0], kT0, kT0 + 600ms)),
            (std::vector<std::string>{"one", "two", "three"}));
}

TEST(MockTimeline, TicksInterleaveWithOtherLines) {
  PodSpec s;
  s.annotations = {{"log-interval-seconds", "0.4"}, {"pending-seconds", "0"}};
  MockPlan p = Plan(s);
  EXPECT_EQ(
      Texts(LogLinesAt(p.containers[0], kT0, kT0 + 5s)),
      (std::vector<std::string>{"main started", "tick 1", "tick 2", "main exited with code 0"}));
  EXPECT_EQ(Texts(LogLinesAt(p.containers[0], kT0, kT0 + 500ms)),
            (std::vector<std::string>{"main started", "tick 1"}));
}

TEST(MockTimeline, EchoOutputIsTheOnlyLine) {
  PodSpec s;
  s.commands["main"] = json::array{"echo", "hi", "there"};
  MockPlan p = Plan(s);
  EXPECT_EQ(Texts(LogLinesAt(p.containers[0], kT0, kT0 + 5s)),
            std::vector<std::string>{"hi there"});
}

}  // namespace
}  // namespace il::mock
