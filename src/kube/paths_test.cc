#include "kube/paths.h"

#include <gtest/gtest.h>

#include "kube/base64.h"

namespace il::kube {
namespace {

TEST(Paths, BuildsCoreAndGroupedResourcePaths) {
  EXPECT_EQ(PodPath("default", "x"), "/api/v1/namespaces/default/pods/x");
  EXPECT_EQ(PodStatusPath("ns", "p"), "/api/v1/namespaces/ns/pods/p/status");
  EXPECT_EQ(PodsPath(""), "/api/v1/pods");
  EXPECT_EQ(NodePath("vk"), "/api/v1/nodes/vk");
  EXPECT_EQ(NodeStatusPath("vk"), "/api/v1/nodes/vk/status");
  EXPECT_EQ(LeasePath("kube-node-lease", "vk"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vk");
  EXPECT_EQ(EventsPath("default"), "/api/v1/namespaces/default/events");
  EXPECT_EQ(ConfigMapPath("a", "b"), "/api/v1/namespaces/a/configmaps/b");
  EXPECT_EQ(SecretPath("a", "b"), "/api/v1/namespaces/a/secrets/b");
  EXPECT_EQ(ServiceAccountTokenPath("a", "default"),
            "/api/v1/namespaces/a/serviceaccounts/default/token");
}

TEST(Paths, EscapesNamesAndQueryValues) {
  EXPECT_EQ(PodPath("ns", "a/b c"), "/api/v1/namespaces/ns/pods/a%2Fb%20c");
  EXPECT_EQ(UrlEscape("spec.nodeName=vk-1,a!=b&c"), "spec.nodeName%3Dvk-1%2Ca%21%3Db%26c");
  EXPECT_EQ(WithQuery("/p", {{"a", "1"}, {"skip", ""}, {"b", "x y"}}), "/p?a=1&b=x%20y");
  EXPECT_EQ(WithQuery("/p?w=1", {{"a", "1"}}), "/p?w=1&a=1");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "-----BEGIN CERTIFICATE-----\n"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(*Base64Decode("aGVs\nbG8="), "hello");
  EXPECT_FALSE(Base64Decode("a").ok());
  EXPECT_FALSE(Base64Decode("a*bc").ok());
}

}  // namespace
}  // namespace il::kube
