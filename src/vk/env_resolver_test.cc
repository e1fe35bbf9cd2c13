// Env resolution with hostile inputs: everything here comes from a pod spec or a ConfigMap
// a pod author controls, so it must cost linear time and never crash the vk.
#include "vk/env_resolver.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetString;

TEST(EnvResolver, EnvVarNameFollowsTheKubeletRule) {
  EXPECT_TRUE(IsEnvVarName("A_b.c-1"));
  EXPECT_TRUE(IsEnvVarName("_x"));
  EXPECT_TRUE(IsEnvVarName(".x"));
  EXPECT_FALSE(IsEnvVarName(""));
  EXPECT_FALSE(IsEnvVarName("1abc"));
  EXPECT_FALSE(IsEnvVarName("a b"));
  EXPECT_FALSE(IsEnvVarName("a=b"));
  EXPECT_FALSE(IsEnvVarName("\xc3\xa9t\xc3\xa9"));
}

TEST(EnvResolver, FortyThousandCharacterNamesAreCheckedWithoutRecursion) {
  std::string good(40000, 'A');
  EXPECT_TRUE(IsEnvVarName(good));
  std::string bad = good + "!";
  EXPECT_FALSE(IsEnvVarName(bad));
}

TEST(EnvResolver, HugeEnvFromPrefixExpandsOrIsSkippedWithoutCrashing) {
  kube::FakeKubeApi api;
  api.Seed(kube::ConfigMapPath("ns", "cfg"),
           json::parse(R"({"metadata":{"name":"cfg","namespace":"ns"},
                           "data":{"k":"v","bad key":"x"}})"));
  KubeObjectSource source(api);
  std::string prefix(40000, 'P');
  json::value pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u"},
      "spec":{"containers":[{"name":"c","image":"i","envFrom":[
        {"prefix":")" + prefix + R"(","configMapRef":{"name":"cfg"}}]}]}})");
  std::vector<std::string> warnings;
  ASSERT_TRUE(ResolveEnv(pod, source, EnvOptions{}, &warnings).ok());
  const auto& env = api::Find(api::Containers(pod)[0], {"env"})->as_array();
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(GetString(env[0], {"name"}), prefix + "k");
  EXPECT_EQ(GetString(env[0], {"value"}), "v");
  EXPECT_EQ(warnings.size(), 1u);  // "bad key" skipped
}

TEST(EnvResolver, FieldPathSubscriptsParseByHand) {
  json::value pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u",
      "labels":{"app":"x"},"annotations":{"a.b/c":"n"}}})");
  EXPECT_EQ(ResolveFieldPath(pod, "metadata.labels['app']", ""), "x");
  EXPECT_EQ(ResolveFieldPath(pod, "metadata.annotations['a.b/c']", ""), "n");
  EXPECT_EQ(ResolveFieldPath(pod, "metadata.labels['none']", ""), "");
  EXPECT_FALSE(ResolveFieldPath(pod, "metadata.labels['a'b']", "").has_value());
  EXPECT_FALSE(ResolveFieldPath(pod, "metadata.labels['app'", "").has_value());
  EXPECT_FALSE(ResolveFieldPath(pod, "metadata.labels[", "").has_value());
  std::string huge = "metadata.labels['" + std::string(40000, '[') + "']";
  EXPECT_EQ(ResolveFieldPath(pod, huge, ""), "");
  EXPECT_FALSE(
      ResolveFieldPath(pod, "metadata.labels['" + std::string(40000, '\''), "").has_value());
}

}  // namespace
}  // namespace il::vk
