#include "sidecars/docker/prober.h"

#include <gtest/gtest.h>

#include <map>

namespace il::docker {
namespace {

using std::chrono::seconds;

// Answers by the handler's first command word; counts the runs.
class FakeHandlers : public HandlerRunner {
 public:
  std::map<std::string, Outcome> answer;
  std::map<std::string, int> runs;
  std::map<std::string, std::string> warning;  // a success with this warning text
  HandlerResult Run(const api::Handler& h, const HandlerTarget&, std::chrono::milliseconds,
                    HandlerMode) override {
    std::string k = h.command.empty() ? "" : h.command[0];
    ++runs[k];
    if (auto w = warning.find(k); w != warning.end()) {
      HandlerResult r{Outcome::kSuccess, w->second};
      r.warning = true;
      return r;
    }
    auto it = answer.find(k);
    Outcome o = it == answer.end() ? Outcome::kSuccess : it->second;
    return {o, o == Outcome::kSuccess ? "" : k + " said no"};
  }
};

class Recorder : public ProberListener {
 public:
  std::vector<std::string> events;
  std::vector<std::string> kills;
  void OnProbeEvent(const std::string&, const std::string& c, const std::string& reason,
                    const std::string& message) override {
    events.push_back(c + " " + reason + " " + message);
  }
  void OnProbeKill(const std::string&, const std::string& c, const api::Probe& p,
                   const std::string& instance) override {
    kills.push_back(c + " " + api::ProbeTypeName(p.type) + " " + instance);
  }
};

api::Probe ExecProbe(api::ProbeType t, const std::string& cmd, int64_t failure = 1) {
  api::Probe p;
  p.type = t;
  p.handler.kind = api::HandlerKind::kExec;
  p.handler.command = {cmd};
  p.period_seconds = 1;
  p.failure_threshold = failure;
  return p;
}

class ProberTest : public ::testing::Test {
 protected:
  ProberTest() {
    ProberOptions o;
    o.start_threads = false;
    o.now = [this] { return now_; };
    o.jitter = [] { return 0.0; };
    prober_ = std::make_unique<Prober>(handlers_, listener_, o);
  }
  void Running(const std::string& instance) {
    prober_->Observe("u", "c", {instance, true, start_, {"d", 0, ""}});
  }
  void Tick() {
    now_ += seconds(1);
    prober_->RunDue();
  }
  Prober::Readiness Results() { return prober_->Results("u", "c").value(); }

  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
  std::chrono::system_clock::time_point now_ = start_;
  FakeHandlers handlers_;
  Recorder listener_;
  std::unique_ptr<Prober> prober_;
};

TEST_F(ProberTest, WarningCountsAsSuccessAndPostsAProbeWarning) {
  api::ContainerProbes ps;
  ps.readiness = ExecProbe(api::ProbeType::kReadiness, "ready");
  prober_->Watch("u", "c", ps);
  Running("id@1");
  handlers_.warning["ready"] = "<a href=\"http://elsewhere/\">Found</a>";
  Tick();
  EXPECT_TRUE(Results().ready);
  ASSERT_EQ(listener_.events.size(), 1u);
  EXPECT_EQ(listener_.events[0],
            "c ProbeWarning Readiness probe warning: <a href=\"http://elsewhere/\">Found</a>");
}

TEST_F(ProberTest, ContainerWithoutProbesIsNotWatched) {
  prober_->Watch("u", "c", {});
  EXPECT_FALSE(prober_->Results("u", "c").has_value());
}

TEST_F(ProberTest, ReadinessFlipsBothWays) {
  api::ContainerProbes ps;
  ps.readiness = ExecProbe(api::ProbeType::kReadiness, "ready");
  prober_->Watch("u", "c", ps);
  Running("id@1");
  EXPECT_TRUE(Results().started);
  EXPECT_FALSE(Results().ready);  // not probed yet: the kubelet's initial Failure
  Tick();
  EXPECT_TRUE(Results().ready);
  handlers_.answer["ready"] = Outcome::kFailure;
  Tick();
  EXPECT_FALSE(Results().ready);
  ASSERT_FALSE(listener_.events.empty());
  EXPECT_EQ(listener_.events.back(), "c Unhealthy Readiness probe failed: ready said no");
  handlers_.answer["ready"] = Outcome::kSuccess;
  Tick();
  EXPECT_TRUE(Results().ready);
  EXPECT_TRUE(listener_.kills.empty());  // readiness never kills
}

TEST_F(ProberTest, StartupProbeGatesTheOthers) {
  api::ContainerProbes ps;
  ps.startup = ExecProbe(api::ProbeType::kStartup, "startup", 5);
  ps.readiness = ExecProbe(api::ProbeType::kReadiness, "ready");
  ps.liveness = ExecProbe(api::ProbeType::kLiveness, "live");
  prober_->Watch("u", "c", ps);
  Running("id@1");
  handlers_.answer["startup"] = Outcome::kFailure;
  Tick();
  Tick();
  EXPECT_EQ(handlers_.runs["startup"], 2);
  EXPECT_EQ(handlers_.runs["ready"], 0);
  EXPECT_EQ(handlers_.runs["live"], 0);
  EXPECT_FALSE(Results().started);
  handlers_.answer["startup"] = Outcome::kSuccess;
  Tick();
  EXPECT_TRUE(Results().started);
  Tick();
  EXPECT_EQ(handlers_.runs["startup"], 3);  // stops once started
  EXPECT_GE(handlers_.runs["ready"], 1);
  EXPECT_GE(handlers_.runs["live"], 1);
  EXPECT_TRUE(Results().ready);
}

TEST_F(ProberTest, LivenessFailureKillsOnceThenHoldsUntilANewInstance) {
  api::ContainerProbes ps;
  ps.liveness = ExecProbe(api::ProbeType::kLiveness, "live", 2);
  prober_->Watch("u", "c", ps);
  Running("id@1");
  handlers_.answer["live"] = Outcome::kFailure;
  Tick();
  EXPECT_TRUE(listener_.kills.empty());  // threshold 2
  Tick();
  ASSERT_EQ(listener_.kills.size(), 1u);
  EXPECT_EQ(listener_.kills[0], "c Liveness id@1");
  Tick();
  Tick();
  EXPECT_EQ(handlers_.runs["live"], 2);  // on hold
  Running("id@2");                       // restarted
  Tick();
  Tick();
  EXPECT_EQ(handlers_.runs["live"], 4);
  EXPECT_EQ(listener_.kills.size(), 2u);
}

TEST_F(ProberTest, InitialDelayCountsFromStartedAt) {
  api::ContainerProbes ps;
  ps.readiness = ExecProbe(api::ProbeType::kReadiness, "ready");
  ps.readiness->initial_delay_seconds = 3;
  prober_->Watch("u", "c", ps);
  Running("id@1");
  Tick();
  Tick();
  EXPECT_EQ(handlers_.runs["ready"], 0);
  Tick();
  EXPECT_EQ(handlers_.runs["ready"], 1);
}

TEST_F(ProberTest, ErrorsAreRetriedThenIgnored) {
  api::ContainerProbes ps;
  ps.liveness = ExecProbe(api::ProbeType::kLiveness, "live");
  prober_->Watch("u", "c", ps);
  Running("id@1");
  handlers_.answer["live"] = Outcome::kError;
  Tick();
  EXPECT_EQ(handlers_.runs["live"], 3);
  EXPECT_TRUE(listener_.kills.empty());
  ASSERT_EQ(listener_.events.size(), 1u);
  EXPECT_EQ(listener_.events[0], "c Unhealthy Liveness probe errored: live said no");
}

TEST_F(ProberTest, NotRunningOrForgottenIsNotProbed) {
  api::ContainerProbes ps;
  ps.readiness = ExecProbe(api::ProbeType::kReadiness, "ready");
  prober_->Watch("u", "c", ps);
  prober_->Observe("u", "c", {"id@1", false, start_, {}});
  Tick();
  EXPECT_EQ(handlers_.runs["ready"], 0);
  EXPECT_FALSE(Results().started);
  Running("id@1");
  prober_->Forget("u");
  Tick();
  EXPECT_EQ(handlers_.runs["ready"], 0);
  EXPECT_FALSE(prober_->Results("u", "c").has_value());
}

}  // namespace
}  // namespace il::docker
