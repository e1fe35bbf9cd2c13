// Env resolution and volume gathering, against the in-memory API server.
#include "vk/pod_resources.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "kube/base64.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"
#include "vk/env_resolver.h"
#include "vk/quantity.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetString;

class PodResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.Seed(kube::ConfigMapPath("ns", "cfg"),
              json::parse(R"({"metadata":{"name":"cfg","namespace":"ns"},
                              "data":{"greeting":"hello","mode":"fast","bad-key!":"x"}})"));
    api_.Seed(kube::SecretPath("ns", "sec"),
              json::object{{"metadata", {{"name", "sec"}, {"namespace", "ns"}}},
                           {"data",
                            {{"password", kube::Base64Encode("s3cr=t\n")},
                             {"blob", kube::Base64Encode(std::string("\xff\x00\x01", 3))}}}});
    api_.Seed(kube::ServiceAccountPath("ns", "default"),
              json::parse(R"({"metadata":{"name":"default","namespace":"ns"}})"));
    api_.Seed(kube::ConfigMapPath("ns", "kube-root-ca.crt"),
              json::parse(R"({"metadata":{"name":"kube-root-ca.crt","namespace":"ns"},
                              "data":{"ca.crt":"CLUSTER CA"}})"));
    options_.env.host_ip = "127.0.0.1";
    options_.env.node_allocatable = {{"cpu", "8"}, {"memory", "16Gi"}};
  }

  json::value PodWith(const std::string& container_json, const std::string& volumes = "[]") {
    return json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"uid-1",
        "labels":{"app":"x","tier":"b"},"annotations":{"note":"n"}},
      "spec":{"nodeName":"vk","serviceAccountName":"default","containers":[)" +
                       container_json + R"(],"volumes":)" + volumes + "}}");
  }

  std::map<std::string, std::string> Env(const json::value& pod, int container = 0) {
    std::map<std::string, std::string> m;
    const auto* env = api::Find(api::Containers(pod)[container], {"env"});
    if (!env) return m;
    for (const auto& e : env->as_array()) m[GetString(e, {"name"})] = GetString(e, {"value"});
    return m;
  }

  kube::FakeKubeApi api_;
  KubeObjectSource source_{api_};
  CreateOptions options_;
};

TEST_F(PodResourcesTest, ResolvesValueFromEnvFromAndExpansion) {
  json::value pod = PodWith(R"JSON({"name":"c","image":"i",
    "command":["echo","$(GREETING)"],"args":["$(PASS)","$(NOPE)"],
    "resources":{"limits":{"memory":"1Gi"}},
    "envFrom":[{"configMapRef":{"name":"cfg"},"prefix":"CFG_"},{"secretRef":{"name":"sec"}}],
    "env":[{"name":"CFG_mode","value":"explicit wins"},
           {"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"greeting"}}},
           {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"sec","key":"password"}}},
           {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"nope","key":"k","optional":true}}},
           {"name":"NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
           {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
           {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
           {"name":"HOST","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}},
           {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
           {"name":"MEM_MI","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
           {"name":"CPUS","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
           {"name":"MSG","value":"$(GREETING) $(NAME) $$(NAME) $(UNKNOWN)"}]})JSON");
  std::vector<std::string> warnings;
  ASSERT_TRUE(ResolveEnv(pod, source_, options_.env, &warnings).ok());
  auto env = Env(pod);
  EXPECT_EQ(env["CFG_greeting"], "hello");
  EXPECT_EQ(env["CFG_mode"], "explicit wins");
  EXPECT_FALSE(env.count("CFG_bad-key!"));
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(env["password"], "s3cr=t\n");
  EXPECT_EQ(env["GREETING"], "hello");
  EXPECT_EQ(env["PASS"], "s3cr=t\n");
  EXPECT_FALSE(env.count("OPT"));
  EXPECT_EQ(env["NAME"], "p");
  EXPECT_EQ(env["APP"], "x");
  EXPECT_EQ(env["NODE"], "vk");
  EXPECT_EQ(env["HOST"], "127.0.0.1");
  EXPECT_EQ(env["MEM_MI"], "1024");
  EXPECT_EQ(env["CPUS"], "8");  // no limit: the node's allocatable
  EXPECT_EQ(env["MSG"], "hello p $(NAME) $(UNKNOWN)");
  // status.podIP is not known before the backend runs the pod: left as valueFrom.
  bool kept = false;
  for (const auto& e : api::Find(api::Containers(pod)[0], {"env"})->as_array()) {
    if (GetString(e, {"name"}) == "IP") kept = api::Find(e, {"valueFrom"}) != nullptr;
  }
  EXPECT_TRUE(kept);
  EXPECT_EQ(api::Find(api::Containers(pod)[0], {"envFrom"}), nullptr);
  EXPECT_EQ(json::serialize(*api::Find(api::Containers(pod)[0], {"command"})),
            R"(["echo","hello"])");
  EXPECT_EQ(json::serialize(*api::Find(api::Containers(pod)[0], {"args"})),
            R"JSON(["s3cr=t\n","$(NOPE)"])JSON");
}

TEST_F(PodResourcesTest, MissingRequiredRefIsAFailedPreconditionNotACrash) {
  json::value pod = PodWith(R"({"name":"c","image":"i",
    "env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"missing","key":"k"}}}]})");
  std::string reason;
  std::vector<std::string> warnings;
  auto r = BuildCreateRequest(pod, source_, options_, &reason, &warnings);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reason, "CreateContainerConfigError");
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
  json::value key = PodWith(R"({"name":"c","image":"i",
    "env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nokey"}}}]})");
  EXPECT_EQ(BuildCreateRequest(key, source_, options_, &reason, &warnings).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(PodResourcesTest, AddsKubernetesServiceVariablesWhenConfigured) {
  options_.env.kubernetes_api_addr = "10.0.0.1";
  options_.env.kubernetes_api_port = "6443";
  json::value pod =
      PodWith(R"({"name":"c","image":"i","env":[{"name":"KUBERNETES_SERVICE_PORT","value":"1"}]})");
  std::vector<std::string> warnings;
  ASSERT_TRUE(ResolveEnv(pod, source_, options_.env, &warnings).ok());
  auto env = Env(pod);
  EXPECT_EQ(env["KUBERNETES_SERVICE_HOST"], "10.0.0.1");
  EXPECT_EQ(env["KUBERNETES_SERVICE_PORT"], "1");  // the pod's own value wins
  EXPECT_EQ(env["KUBERNETES_PORT"], "tcp://10.0.0.1:6443");
}

TEST_F(PodResourcesTest, GathersConfigMapsSecretsAndProjectedVolumes) {
  json::value pod = PodWith(R"({"name":"c","image":"i"})", R"([
    {"name":"v-cfg","configMap":{"name":"cfg"}},
    {"name":"v-sec","secret":{"secretName":"sec"}},
    {"name":"v-opt","configMap":{"name":"absent","optional":true}},
    {"name":"v-empty","emptyDir":{}},
    {"name":"kube-api-access","projected":{"sources":[
      {"serviceAccountToken":{"path":"token","expirationSeconds":3607,"audience":"api"}},
      {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
      {"secret":{"name":"sec"}},
      {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"fieldPath":"metadata.namespace"}}]}}]}},
    {"name":"podinfo","downwardAPI":{"items":[
      {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
      {"path":"mem","resourceFieldRef":{"containerName":"c","resource":"limits.memory","divisor":"1Mi"}}]}}])");
  std::string reason;
  std::vector<std::string> warnings;
  auto r = BuildCreateRequest(pod, source_, options_, &reason, &warnings);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->configmaps.size(), 1u);
  EXPECT_EQ(GetString(r->configmaps[0], {"data", "greeting"}), "hello");
  ASSERT_EQ(r->secrets.size(), 1u);
  EXPECT_EQ(GetString(r->secrets[0], {"metadata", "name"}), "sec");
  ASSERT_EQ(r->projected_volumes_maps.size(), 2u);
  const auto& access = r->projected_volumes_maps[0];
  EXPECT_EQ(GetString(access, {"metadata", "name"}), "kube-api-access");
  EXPECT_EQ(GetString(access, {"data", "token"}).rfind("fake-token-", 0), 0u);
  EXPECT_EQ(GetString(access, {"data", "ca.crt"}), "CLUSTER CA");
  EXPECT_EQ(GetString(access, {"data", "password"}), "s3cr=t\n");
  EXPECT_EQ(GetString(access, {"binaryData", "blob"}),
            kube::Base64Encode(std::string("\xff\x00\x01", 3)));
  EXPECT_EQ(GetString(access, {"data", "namespace"}), "ns");
  const auto& info = r->projected_volumes_maps[1];
  EXPECT_EQ(GetString(info, {"data", "labels"}), "app=\"x\"\ntier=\"b\"\n");
  EXPECT_EQ(GetString(info, {"data", "mem"}), "16384");  // no limit: node allocatable
  // The TokenRequest was bound to the pod with the requested lifetime and audience.
  auto calls = api_.calls("CREATE");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(api::GetInt(calls[0].body, {"spec", "expirationSeconds"}), 3607);
  EXPECT_EQ(GetString(calls[0].body, {"spec", "boundObjectRef", "uid"}), "uid-1");
  // The downwardAPI volume is sent as a projected volume; status is not sent.
  const auto& vols = api::Find(r->pod, {"spec", "volumes"})->as_array();
  EXPECT_NE(api::Find(vols[5], {"projected", "sources"}), nullptr);
  EXPECT_EQ(api::Find(vols[5], {"downwardAPI"}), nullptr);
  EXPECT_EQ(api::Find(r->pod, {"status"}), nullptr);
}

TEST_F(PodResourcesTest, KubernetesApiCaCrtReplacesTheRootCa) {
  options_.kube_root_ca = "MY CA";
  json::value pod = PodWith(R"({"name":"c","image":"i"})", R"([
    {"name":"kube-api-access","projected":{"sources":[{"configMap":{"name":"kube-root-ca.crt"}}]}}])");
  std::string reason;
  std::vector<std::string> warnings;
  auto r = BuildCreateRequest(pod, source_, options_, &reason, &warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(GetString(r->projected_volumes_maps[0], {"data", "ca.crt"}), "MY CA");
}

TEST_F(PodResourcesTest, MissingRequiredVolumeIsFailedMount) {
  json::value pod =
      PodWith(R"({"name":"c","image":"i"})", R"([{"name":"v","secret":{"secretName":"absent"}}])");
  std::string reason;
  std::vector<std::string> warnings;
  auto r = BuildCreateRequest(pod, source_, options_, &reason, &warnings);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reason, "FailedMount");
  EXPECT_NE(r.status().message().find("absent"), std::string::npos);
}

TEST_F(PodResourcesTest, DisableProjectedVolumesSkipsThem) {
  options_.disable_projected_volumes = true;
  json::value pod = PodWith(R"({"name":"c","image":"i"})", R"([
    {"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}])");
  std::string reason;
  std::vector<std::string> warnings;
  auto r = BuildCreateRequest(pod, source_, options_, &reason, &warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->projected_volumes_maps.empty());
  EXPECT_TRUE(api_.calls("CREATE").empty());
}

TEST(EnvResolver, HugeResourceValuesAreNotConverted) {
  EXPECT_EQ(DivideQuantity("1Ei", "1"), std::optional<std::string>("1152921504606846976"));
  EXPECT_EQ(DivideQuantity("1e30", "1"), std::nullopt);
  EXPECT_EQ(DivideQuantity("1", "0"), std::nullopt);
  EXPECT_EQ(DivideQuantity("1500m", ""), std::optional<std::string>("2"));
}

TEST(EnvResolver, ExpandVarsAndNames) {
  EXPECT_EQ(ExpandVars("a$(X)b$$(X)$(", {{"X", "1"}}), "a1b$(X)$(");
  EXPECT_TRUE(IsEnvVarName("A_b.c-1"));
  EXPECT_FALSE(IsEnvVarName("1abc"));
  EXPECT_FALSE(IsEnvVarName("a b"));
}

}  // namespace
}  // namespace il::vk
