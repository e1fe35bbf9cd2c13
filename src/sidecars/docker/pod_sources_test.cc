#include "sidecars/docker/pod_sources.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {
namespace json = boost::json;

api::RetrievedPodData Data() {
  api::RetrievedPodData d;
  d.pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1",
      "labels":{"b":"2","a":"x\"y"},"annotations":{"k":"v"}},
      "spec":{"nodeName":"vk","containers":[{"name":"c","image":"i",
      "resources":{"limits":{"cpu":"1500m","memory":"64Mi"}}}]}})");
  api::RetrievedContainer c;
  c.name = "c";
  c.config_maps.push_back(
      json::parse(R"({"metadata":{"name":"cm"},"data":{"k":"v\n"},"binaryData":{"b":"AAEC"}})"));
  c.secrets.push_back(json::parse(
      R"({"metadata":{"name":"s"},"data":{"pw":"czNjcjN0Cg=="},"stringData":{"plain":"p"}})"));
  c.projected_volume_maps.push_back(
      json::parse(R"({"metadata":{"name":"vol"},"data":{"a/b":"x"}})"));
  d.containers.push_back(c);
  return d;
}

TEST(PodSources, DecodesConfigMapsSecretsAndProjectedMaps) {
  auto s = PodSources::Build(Data());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_NE(s->ConfigMap("cm"), nullptr);
  EXPECT_EQ(s->ConfigMap("cm")->at("k"), "v\n");
  EXPECT_EQ(s->ConfigMap("cm")->at("b"), std::string("\0\1\2", 3));
  EXPECT_EQ(s->Secret("s")->at("pw"), "s3cr3t\n");
  EXPECT_EQ(s->Secret("s")->at("plain"), "p");
  EXPECT_EQ(s->Projected("vol")->at("a/b"), "x");
  EXPECT_EQ(s->ConfigMap("missing"), nullptr);
}

TEST(PodSources, RejectsSecretsThatAreNotBase64) {
  auto d = Data();
  d.containers[0].secrets[0].as_object()["data"].as_object()["pw"] = "not base64!";
  auto s = PodSources::Build(d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("secret s"), std::string::npos);
}

TEST(PodSources, AnswersDownwardApiFields) {
  auto s = PodSources::Build(Data());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s->FieldRef("metadata.name"), "p");
  EXPECT_EQ(*s->FieldRef("metadata.namespace"), "ns");
  EXPECT_EQ(*s->FieldRef("metadata.uid"), "u1");
  EXPECT_EQ(*s->FieldRef("metadata.labels"), "a=\"x\\\"y\"\nb=\"2\"");
  EXPECT_EQ(*s->FieldRef("metadata.annotations['k']"), "v");
  EXPECT_EQ(*s->FieldRef("spec.nodeName"), "vk");
  EXPECT_FALSE(s->FieldRef("spec.unknown").has_value());
  EXPECT_EQ(*s->ResourceField("c", "limits.cpu", ""), "2");
  EXPECT_EQ(*s->ResourceField("c", "limits.cpu", "1m"), "1500");
  EXPECT_EQ(*s->ResourceField("c", "limits.memory", "1Mi"), "64");
  EXPECT_FALSE(s->ResourceField("c", "requests.cpu", "").has_value());
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(*DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("a").ok());
  EXPECT_FALSE(DecodeBase64("a=b").ok());
}

}  // namespace
}  // namespace il::docker
