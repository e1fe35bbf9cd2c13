#include "api/probe.h"

#include <gtest/gtest.h>

namespace il::api {
namespace {

json::value C(std::string_view text) { return json::parse(text); }

TEST(ParseProbes, NoneIsEmpty) {
  auto r = ParseProbes(C(R"({"name":"c"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ParseProbes, DefaultsAreTheKubelets) {
  auto r = ParseProbes(C(R"({"name":"c","livenessProbe":{"exec":{"command":["cat","/x"]}}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->liveness);
  const Probe& p = *r->liveness;
  EXPECT_EQ(p.handler.kind, HandlerKind::kExec);
  EXPECT_EQ(p.handler.command, (std::vector<std::string>{"cat", "/x"}));
  EXPECT_EQ(p.period_seconds, 10);
  EXPECT_EQ(p.timeout_seconds, 1);
  EXPECT_EQ(p.success_threshold, 1);
  EXPECT_EQ(p.failure_threshold, 3);
  EXPECT_EQ(p.initial_delay_seconds, 0);
  EXPECT_STREQ(ProbeTypeName(p.type), "Liveness");
}

TEST(ParseProbes, HttpGetWithNamedPortAndHeaders) {
  auto r = ParseProbes(C(R"({"name":"c","ports":[{"name":"web","containerPort":8080}],
    "readinessProbe":{"httpGet":{"path":"/healthz","port":"web","scheme":"HTTPS",
      "httpHeaders":[{"name":"X-A","value":"1"},{"name":"X-A","value":"2"}]},
      "periodSeconds":2,"successThreshold":2,"failureThreshold":1,"timeoutSeconds":5}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Probe& p = *r->readiness;
  EXPECT_EQ(p.handler.kind, HandlerKind::kHttpGet);
  EXPECT_EQ(p.handler.port, 8080);
  EXPECT_EQ(p.handler.path, "/healthz");
  EXPECT_EQ(p.handler.scheme, "HTTPS");
  ASSERT_EQ(p.handler.headers.size(), 2u);
  EXPECT_EQ(p.handler.headers[1].second, "2");
  EXPECT_EQ(p.period_seconds, 2);
  EXPECT_EQ(p.success_threshold, 2);
  EXPECT_EQ(p.timeout_seconds, 5);
}

TEST(ParseProbes, UnknownNamedPortFailsAtRunTimeNotParseTime) {
  auto r = ParseProbes(C(R"({"name":"c","startupProbe":{"tcpSocket":{"port":"nope"}}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->startup->handler.port, 0);
  EXPECT_EQ(r->startup->handler.port_error, "couldn't find port: nope");
  auto n = ParseProbes(C(R"({"name":"c","startupProbe":{"tcpSocket":{"port":"8081"}}})"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->startup->handler.port, 8081);
  auto big = ParseProbes(C(R"({"name":"c","startupProbe":{"tcpSocket":{"port":70000}}})"));
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->startup->handler.port_error.empty());
}

TEST(ParseProbes, ControlCharactersFailEveryRunInsteadOfReachingARequest) {
  const char* bad[] = {
      R"({"readinessProbe":{"httpGet":{"port":80,"path":"/x\r\nX-Evil: 1"}}})",
      R"({"readinessProbe":{"httpGet":{"port":80,"host":"a\nb"}}})",
      R"({"readinessProbe":{"httpGet":{"port":80,"httpHeaders":[{"name":"A","value":"1\r\nB"}]}}})",
      R"({"lifecycle":{"preStop":{"httpGet":{"path":"/\u0000"}}}})",
  };
  for (const char* text : bad) {
    auto v = C(text);
    auto p = ParseProbes(v);
    auto l = ParseLifecycle(v);
    ASSERT_TRUE(p.ok() && l.ok()) << text;
    const Handler& h = p->readiness ? p->readiness->handler : *l->pre_stop;
    EXPECT_EQ(h.port_error, "invalid control character in URL or header") << text;
  }
}

TEST(ParseProbes, Grpc) {
  auto r = ParseProbes(C(R"({"name":"c","livenessProbe":{"grpc":{"port":9000,"service":"s"}}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->liveness->handler.kind, HandlerKind::kGrpc);
  EXPECT_EQ(r->liveness->handler.port, 9000);
  EXPECT_EQ(r->liveness->handler.grpc_service, "s");
  EXPECT_FALSE(ParseProbes(C(R"({"livenessProbe":{"grpc":{"port":"x"}}})")).ok());
}

TEST(ParseProbes, RejectsWhatTheApiServerRejects) {
  for (const char* bad : {
           R"({"livenessProbe":{}})",
           R"({"livenessProbe":{"exec":{"command":["a"]},"tcpSocket":{"port":1}}})",
           R"({"livenessProbe":{"exec":{"command":[1]}}})",
           R"({"livenessProbe":{"exec":{"command":[]}}})",
           R"({"livenessProbe":{"exec":{"command":["a"]},"periodSeconds":0}})",
           R"({"livenessProbe":{"exec":{"command":["a"]},"successThreshold":2}})",
           R"({"readinessProbe":{"exec":{"command":["a"]},"failureThreshold":-1}})",
           R"({"readinessProbe":{"sleep":{"seconds":1}}})",
           R"({"readinessProbe":{"httpGet":{"port":1,"scheme":"FTP"}}})",
       }) {
    EXPECT_FALSE(ParseProbes(C(bad)).ok()) << bad;
  }
}

TEST(ParseLifecycle, Hooks) {
  auto r = ParseLifecycle(C(R"({"name":"c","lifecycle":{
      "postStart":{"exec":{"command":["sh","-c","touch /x"]}},
      "preStop":{"httpGet":{"path":"/stop"}}}})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->post_start);
  EXPECT_EQ(r->post_start->command.size(), 3u);
  ASSERT_TRUE(r->pre_stop);
  EXPECT_EQ(r->pre_stop->kind, HandlerKind::kHttpGet);
  EXPECT_EQ(r->pre_stop->port, 80);  // a hook's missing port means 80
  auto s = ParseLifecycle(C(R"({"lifecycle":{"preStop":{"sleep":{"seconds":3}}}})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->pre_stop->sleep_seconds, 3);
  EXPECT_TRUE(ParseLifecycle(C(R"({"name":"c"})"))->empty());
  EXPECT_FALSE(ParseLifecycle(C(R"({"lifecycle":{"postStart":{}}})")).ok());
}

TEST(ProbeTracker, ThresholdsAndFlips) {
  Probe p;
  p.success_threshold = 2;
  p.failure_threshold = 3;
  ProbeTracker t(p);
  EXPECT_FALSE(t.result());
  EXPECT_EQ(t.Record(true), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(true), ProbeTracker::Verdict::kNowSuccess);
  EXPECT_EQ(t.Record(true), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(false), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(false), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(true), ProbeTracker::Verdict::kUnchanged);  // run broken
  EXPECT_EQ(t.Record(false), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(false), ProbeTracker::Verdict::kUnchanged);
  EXPECT_EQ(t.Record(false), ProbeTracker::Verdict::kNowFailure);
  EXPECT_EQ(t.result(), false);
  t.Reset();
  EXPECT_FALSE(t.result());
}

}  // namespace
}  // namespace il::api
