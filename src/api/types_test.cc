#include "api/types.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/pod.h"

namespace il::api {
namespace {

json::value Fixture(const std::string& name) {
  std::ifstream in(std::string(IL_SOURCE_DIR) + "/test/data/wire/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = ParseJson(ss.str());
  EXPECT_TRUE(v.ok()) << name;
  return *v;
}

TEST(Wire, PodCreateRequestsRoundTripKeepsUnknownPodFields) {
  auto v = Fixture("pod_create_requests.json");
  auto r = ParsePodCreateRequests(v);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(PodUid(r->pod), "0b7e6a4e-3f7c-4a59-9a0a-2f6d7c0e9b11");
  EXPECT_EQ(r->jobscript_url, "http://builder:8080");
  EXPECT_EQ(ToJson(*r), v);
  EXPECT_TRUE(Find(ToJson(*r), {"pod", "spec", "someFutureField", "kept"})->as_bool());
}

TEST(Wire, RetrievedPodDataRoundTripsWithUpstreamKeys) {
  auto v = Fixture("retrieved_pod_data.json");
  auto d = ParseRetrievedPodData(v);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->containers.size(), 1u);
  EXPECT_EQ(d->containers[0].secrets.size(), 1u);
  EXPECT_EQ(d->job_script, "#!/bin/bash\necho hi\n");
  EXPECT_EQ(ToJson(*d), v);
}

TEST(Wire, PodStatusListRoundTripsAndAcceptsNull) {
  auto v = Fixture("pod_status_list.json");
  auto l = ParsePodStatusList(v);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].jid, "42");
  EXPECT_EQ(ToJson(*l), v);
  EXPECT_TRUE(ParsePodStatusList(json::value(nullptr))->empty());
  EXPECT_FALSE(ParsePodStatusList(json::object{}).ok());
}

TEST(Wire, PodStatusEventsExtensionRoundTripsAndIsOmittedWhenEmpty) {
  auto v = json::parse(R"({"name":"p","UID":"u","namespace":"n","JID":"1","containers":[],
    "initContainers":[],"events":[{"container":"c","type":"Warning","reason":"Unhealthy",
    "message":"Liveness probe failed: x","count":2,"lastTimestamp":"2026-01-01T00:00:00Z"}]})");
  auto s = ParsePodStatus(v);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(ToJson(*s), v);
  s->events.clear();
  EXPECT_FALSE(ToJson(*s).as_object().contains("events"));
  v.as_object()["events"] = "x";
  EXPECT_FALSE(ParsePodStatus(v).ok());
}

TEST(Wire, LogStructUsesBytesAndGoZeroTime) {
  auto v = Fixture("log_struct.json");
  auto r = ParseLogRequest(v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->opts.tail, 10);
  EXPECT_TRUE(r->opts.since_time.empty());
  EXPECT_EQ(ToJson(*r), v);
  EXPECT_TRUE(ValidateLogRequest(*r).ok());
}

TEST(Wire, PingResponseRoundTrips) {
  auto v = Fixture("ping_response.json");
  auto p = ParsePingResponse(v);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->has_taints);
  EXPECT_EQ(ToJson(*p), v);
}

TEST(Wire, CreateStructKeys) {
  CreateResult c{"u", "j"};
  EXPECT_EQ(json::serialize(ToJson(c)), R"({"PodUID":"u","PodJID":"j"})");
}

TEST(Validate, RejectsHostilePods) {
  auto pod = [](std::string name, std::string ns, std::string uid, std::string cname) {
    return json::value{
        {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}}},
        {"spec", {{"containers", json::array{json::object{{"name", cname}, {"image", "x"}}}}}}};
  };
  EXPECT_TRUE(ValidatePod(pod("ok", "default", "abc-123", "c")).ok());
  EXPECT_FALSE(ValidatePod(pod("../etc", "default", "abc", "c")).ok());
  EXPECT_FALSE(ValidatePod(pod("ok", "a;b", "abc", "c")).ok());
  EXPECT_FALSE(ValidatePod(pod("ok", "default", "../../x", "c")).ok());
  EXPECT_FALSE(ValidatePod(pod("ok", "default", "", "c")).ok());
  EXPECT_FALSE(ValidatePod(pod("ok", "default", "abc", "$(rm -rf)")).ok());
  EXPECT_FALSE(ValidatePod(json::value("string")).ok());
  EXPECT_FALSE(ValidatePod(json::object{}).ok());
}

TEST(Validate, LogRequestConflictsAndFormats) {
  LogRequest r{"default", "abc", "p", "c", {}};
  EXPECT_TRUE(ValidateLogRequest(r).ok());
  r.opts.tail = 1;
  r.opts.limit_bytes = 1;
  EXPECT_FALSE(ValidateLogRequest(r).ok());
  r.opts = {};
  r.opts.since_seconds = 5;
  r.opts.since_time = "2026-01-01T00:00:00Z";
  EXPECT_FALSE(ValidateLogRequest(r).ok());
  r.opts = {};
  r.opts.since_time = "yesterday";
  EXPECT_FALSE(ValidateLogRequest(r).ok());
  r.opts = {};
  r.ns = "Bad_NS";
  EXPECT_FALSE(ValidateLogRequest(r).ok());
}

TEST(Json, MalformedInputIsAnError) {
  EXPECT_FALSE(ParseJson("{").ok());
  EXPECT_FALSE(ParseJson(std::string(1000, '[')).ok());
}

// A request body is parsed into the request's arena (protocol/server.cc); the pods taken
// from it must not point into that arena, since a backend may keep them.
TEST(Wire, PodListIsOnTheDefaultResourceWhateverTheBodyIsOn) {
  const std::string pod = R"({"metadata":{"name":"p","namespace":"n","uid":"u"}})";
  for (const std::string& body :
       {"[" + pod + "," + pod + "]", pod, R"({"pods":{"n-p":)" + pod + "}}"}) {
    json::monotonic_resource arena;
    auto v = ParseJson(body, &arena);
    ASSERT_TRUE(v.ok()) << body;
    auto pods = ParsePodList(*v);
    ASSERT_TRUE(pods.ok()) << pods.status().ToString();
    ASSERT_FALSE(pods->empty());
    for (const auto& p : *pods) {
      EXPECT_EQ(p.storage().get(), json::storage_ptr().get()) << body;
      EXPECT_EQ(PodName(p), "p");
    }
  }
}

}  // namespace
}  // namespace il::api
