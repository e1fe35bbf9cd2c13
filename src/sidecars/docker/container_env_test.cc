#include "sidecars/docker/container_env.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {
namespace json = boost::json;

PodSources Src() {
  api::RetrievedPodData d;
  d.pod = json::parse(R"J({"metadata":{"name":"p","namespace":"ns","uid":"u1"},
      "spec":{"containers":[{"name":"c","image":"i","resources":{"limits":{"memory":"32Mi"}}}]}})J");
  api::RetrievedContainer c;
  c.config_maps.push_back(
      json::parse(R"J({"metadata":{"name":"cm"},"data":{"A":"from-cm","B":"b"}})J"));
  c.secrets.push_back(json::parse(R"J({"metadata":{"name":"s"},"data":{"PW":"cHc="}})J"));
  d.containers.push_back(c);
  return *PodSources::Build(d);
}

TEST(ResolveEnv, KeepsHostileValuesExactly) {
  auto c = json::parse(R"J({"name":"c","env":[
      {"name":"Q","value":"it's \"quoted\"; echo $HOME `id` ${X} \\ done"},
      {"name":"NL","value":"line1\nline2\n"},{"name":"EMPTY","value":""},{"name":"NOVALUE"}]})J");
  auto env = ResolveEnv(c, Src());
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(*env, (EnvList{{"Q", "it's \"quoted\"; echo $HOME `id` ${X} \\ done"},
                           {"NL", "line1\nline2\n"},
                           {"EMPTY", ""},
                           {"NOVALUE", ""}}));
}

TEST(ResolveEnv, EnvFromThenEnvWithLaterEntriesWinning) {
  auto c = json::parse(R"J({"name":"c",
      "envFrom":[{"configMapRef":{"name":"cm"}},{"prefix":"S_","secretRef":{"name":"s"}},
                 {"configMapRef":{"name":"absent","optional":true}}],
      "env":[{"name":"A","value":"explicit"},
             {"name":"K","valueFrom":{"configMapKeyRef":{"name":"cm","key":"B"}}},
             {"name":"P","valueFrom":{"secretKeyRef":{"name":"s","key":"PW"}}},
             {"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
             {"name":"M","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
             {"name":"O","valueFrom":{"secretKeyRef":{"name":"s","key":"none","optional":true}}}]})J");
  auto env = ResolveEnv(c, Src());
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(*env, (EnvList{{"A", "explicit"},
                           {"B", "b"},
                           {"S_PW", "pw"},
                           {"K", "b"},
                           {"P", "pw"},
                           {"N", "ns"},
                           {"M", "32"}}));
}

TEST(ResolveEnv, MissingReferencesAndBadNamesAreErrors) {
  EXPECT_EQ(
      ResolveEnv(
          json::parse(
              R"J({"name":"c","env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cm","key":"nope"}}}]})J"),
          Src())
          .status()
          .code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ResolveEnv(json::parse(R"J({"name":"c","envFrom":[{"secretRef":{"name":"nope"}}]})J"), Src())
          .status()
          .code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(ResolveEnv(json::parse(R"J({"name":"c","env":[{"name":"A=B","value":"x"}]})J"), Src())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(ResolveEnv, DoesNotExpandReferencesAgain) {
  // The virtual kubelet already expanded $(VAR); a second pass would turn "$$" into "$".
  auto c = json::parse(R"J({"name":"c","env":[{"name":"A","value":"1"},
      {"name":"B","value":"$(A)-$$(A)-$$"}]})J");
  auto env = ResolveEnv(c, Src());
  ASSERT_TRUE(env.ok());
  EXPECT_EQ((*env)[1].second, "$(A)-$$(A)-$$");
}

}  // namespace
}  // namespace il::docker
