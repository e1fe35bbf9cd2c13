#include "vk/node_builder.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetString;

VkConfig Config() {
  VkConfig c;
  c.node_name = "vk-1";
  c.provider = "interlink";
  c.internal_ip = "127.0.0.5";
  c.kubelet_port = 10251;
  c.resources.cpu = "8";
  c.resources.memory = "16Gi";
  c.resources.pods = "110";
  c.resources.accelerators = {{"nvidia.com/gpu", "a100", "2"},
                              {"nvidia.com/gpu", "a100", "1"},
                              {"xilinx.com/fpga", "u250", "0"}};
  c.labels = {{"site", "cnaf"}};
  c.taints = {{"site", "cnaf", "NoExecute"}};
  return c;
}

const json::value* Condition(const json::object& status, const std::string& type) {
  for (const auto& c : status.at("conditions").as_array()) {
    if (GetString(c, {"type"}) == type) return &c;
  }
  return nullptr;
}

TEST(NodeBuilder, NodeObjectHasLabelsTaintsCapacityAddressAndPort) {
  VkConfig c = Config();
  NodeState s;
  s.capacity = InitialCapacity(c);
  json::value node = NodeObject(c, s, std::chrono::system_clock::now());
  EXPECT_EQ(GetString(node, {"metadata", "name"}), "vk-1");
  for (auto [k, v] : std::vector<std::pair<const char*, const char*>>{
           {"type", "virtual-kubelet"},
           {"kubernetes.io/role", "agent"},
           {"kubernetes.io/hostname", "vk-1"},
           {"kubernetes.io/os", "linux"},
           {"kubernetes.io/arch", "amd64"},
           {"virtual-node.interlink/type", "virtual-kubelet"},
           {"nvidia-gpu-type", "a100"},
           {"site", "cnaf"}}) {
    EXPECT_EQ(GetString(node, {"metadata", "labels", k}), v) << k;
  }
  const auto& taints = api::Find(node, {"spec", "taints"})->as_array();
  ASSERT_EQ(taints.size(), 3u);
  EXPECT_EQ(json::serialize(taints[0]),
            R"({"key":"virtual-node.interlink/no-schedule","effect":"NoSchedule","value":"true"})");
  EXPECT_EQ(GetString(taints[1], {"key"}), "virtual-kubelet.io/provider");
  EXPECT_EQ(GetString(taints[1], {"value"}), "interlink");
  EXPECT_EQ(GetString(taints[2], {"effect"}), "NoExecute");
  EXPECT_EQ(GetString(node, {"status", "capacity", "cpu"}), "8");
  EXPECT_EQ(GetString(node, {"status", "allocatable", "memory"}), "16Gi");
  EXPECT_EQ(GetString(node, {"status", "capacity", "nvidia.com/gpu"}), "3");
  EXPECT_EQ(api::Find(node, {"status", "capacity", "xilinx.com/fpga"}), nullptr);  // zero dropped
  const auto& addr = api::Find(node, {"status", "addresses"})->as_array();
  ASSERT_EQ(addr.size(), 1u);
  EXPECT_EQ(GetString(addr[0], {"type"}), "InternalIP");
  EXPECT_EQ(GetString(addr[0], {"address"}), "127.0.0.5");
  EXPECT_EQ(api::GetInt(node, {"status", "daemonEndpoints", "kubeletEndpoint", "Port"}), 10251);
}

TEST(NodeBuilder, NotReadyUntilTheFirstPingThenFollowsIt) {
  VkConfig c = Config();
  NodeState s;
  auto now = std::chrono::system_clock::now();
  auto st = NodeStatusJson(c, s, {}, now);
  EXPECT_EQ(GetString(*Condition(st, "Ready"), {"status"}), "False");
  s.health = HealthFromPing(200, Status::Ok(), "{}");
  st = NodeStatusJson(c, s, {}, now);
  EXPECT_EQ(GetString(*Condition(st, "Ready"), {"status"}), "True");
  EXPECT_EQ(GetString(*Condition(st, "InterlinkConnectivity"), {"reason"}),
            "InterlinkPingSuccessful");
  s.health = HealthFromPing(0, Unavailable("connection refused"), "");
  st = NodeStatusJson(c, s, {}, now);
  EXPECT_EQ(GetString(*Condition(st, "Ready"), {"reason"}), "InterlinkUnreachable");
  EXPECT_EQ(GetString(*Condition(st, "InterlinkConnectivity"), {"status"}), "False");
  s.health = HealthFromPing(502, Status(StatusCode::kBadGateway, "sidecar down"), "");
  st = NodeStatusJson(c, s, {}, now);
  EXPECT_EQ(GetString(*Condition(st, "Ready"), {"reason"}), "SidecarUnreachable");
}

TEST(NodeBuilder, TransitionTimeIsKeptWhileTheStatusDoesNotChange) {
  VkConfig c = Config();
  NodeState s;
  s.health = HealthFromPing(200, Status::Ok(), "");
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1000000000));
  auto first = NodeStatusJson(c, s, {}, t0);
  auto later = NodeStatusJson(c, s, first.at("conditions").as_array(), t0 + std::chrono::hours(1));
  EXPECT_EQ(GetString(*Condition(later, "Ready"), {"lastTransitionTime"}), api::Rfc3339(t0));
  EXPECT_EQ(GetString(*Condition(later, "Ready"), {"lastHeartbeatTime"}),
            api::Rfc3339(t0 + std::chrono::hours(1)));
  EXPECT_EQ(StatusFingerprint(first), StatusFingerprint(later));
  s.health = HealthFromPing(0, Unavailable("down"), "");
  auto down = NodeStatusJson(c, s, later.at("conditions").as_array(), t0 + std::chrono::hours(2));
  EXPECT_EQ(GetString(*Condition(down, "Ready"), {"lastTransitionTime"}),
            api::Rfc3339(t0 + std::chrono::hours(2)));
  EXPECT_NE(StatusFingerprint(first), StatusFingerprint(down));
}

TEST(NodeBuilder, PingResourcesUpdateOnlyTheFieldsPresent) {
  NodeState s;
  s.capacity = InitialCapacity(Config());
  auto p = api::ParsePingResponse(json::parse(
      R"({"status":"ok","resources":{"cpu":"256","pods":"5000",
          "accelerators":[{"resourceType":"nvidia.com/gpu","available":"8"},
                          {"resourceType":"amd.com/gpu","available":"bad"}]}})"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<std::string> warnings;
  EXPECT_TRUE(ApplyPing(*p, {}, &s, &warnings));
  EXPECT_EQ(s.capacity["cpu"], "256");
  EXPECT_EQ(s.capacity["memory"], "16Gi");  // not in the reply: unchanged
  EXPECT_EQ(s.capacity["pods"], "5000");
  EXPECT_EQ(s.capacity["nvidia.com/gpu"], "8");
  EXPECT_FALSE(s.capacity.count("amd.com/gpu"));
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_FALSE(ApplyPing(*p, {}, &s, &warnings));  // same again: no change
  auto bad = api::ParsePingResponse(json::parse(R"({"resources":{"pods":"1.5","memory":"-1Gi"}})"));
  ASSERT_TRUE(bad.ok());
  warnings.clear();
  EXPECT_FALSE(ApplyPing(*bad, {}, &s, &warnings));
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(NodeBuilder, OnlyWhatTheAdminConfiguredBoundsTheCapacity) {
  VkConfig c = Config();
  EXPECT_EQ(CapacityBounds(c), (ResourceMap{{"nvidia.com/gpu", "3"}}));  // defaults: no bound
  c.resources.configured = {"cpu", "memory"};
  EXPECT_EQ(CapacityBounds(c),
            (ResourceMap{{"cpu", "8"}, {"memory", "16Gi"}, {"nvidia.com/gpu", "3"}}));
}

// Upstream's #558: a ping replaced the configured capacity, even with zeros.
TEST(NodeBuilder, PingCannotRaiseTheCapacityAboveWhatTheAdminConfigured) {
  VkConfig c = Config();
  c.resources.configured = {"cpu", "memory"};
  NodeState s;
  s.capacity = InitialCapacity(c);
  auto p = api::ParsePingResponse(json::parse(
      R"({"status":"ok","resources":{"cpu":"256","memory":"8Gi","pods":"5000",
          "accelerators":[{"resourceType":"nvidia.com/gpu","available":"8"},
                          {"resourceType":"amd.com/gpu","available":2}]}})"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<std::string> warnings;
  EXPECT_TRUE(ApplyPing(*p, CapacityBounds(c), &s, &warnings));
  EXPECT_EQ(s.capacity["cpu"], "8");             // 256 reported, 8 configured
  EXPECT_EQ(s.capacity["memory"], "8Gi");        // below the bound: as reported
  EXPECT_EQ(s.capacity["pods"], "5000");         // not configured: no bound
  EXPECT_EQ(s.capacity["nvidia.com/gpu"], "3");  // configured 2 + 1
  EXPECT_EQ(s.capacity["amd.com/gpu"], "2");     // not configured: no bound
  EXPECT_TRUE(warnings.empty());
  // Units are compared as quantities, not as strings.
  auto milli = api::ParsePingResponse(
      json::parse(R"({"resources":{"cpu":"7500m","memory":"17179869184"}})"));
  ASSERT_TRUE(milli.ok());
  EXPECT_TRUE(ApplyPing(*milli, CapacityBounds(c), &s, &warnings));
  EXPECT_EQ(s.capacity["cpu"], "7500m");
  EXPECT_EQ(s.capacity["memory"], "17179869184");  // exactly 16Gi: not above the bound
}

TEST(NodeBuilder, PingZeroNegativeOrUnparsableResourcesAreIgnoredWithAWarning) {
  VkConfig c = Config();
  NodeState s;
  s.capacity = InitialCapacity(c);
  const ResourceMap before = s.capacity;
  auto p = api::ParsePingResponse(json::parse(
      R"({"status":"ok","resources":{"cpu":0,"memory":"0Gi","pods":"-5",
          "accelerators":[{"resourceType":"nvidia.com/gpu","available":"0"},
                          {"resourceType":"xilinx.com/fpga","available":"many"}]}})"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<std::string> warnings;
  EXPECT_FALSE(ApplyPing(*p, CapacityBounds(c), &s, &warnings));
  EXPECT_EQ(s.capacity, before);
  ASSERT_EQ(warnings.size(), 5u);
  EXPECT_EQ(warnings[0], "ping: ignoring cpu 0: not a positive quantity; keeping 8");
  auto junk = api::ParsePingResponse(
      json::parse(R"({"resources":{"cpu":"lots","memory":true,"pods":""}})"));
  ASSERT_TRUE(junk.ok());
  warnings.clear();
  EXPECT_FALSE(ApplyPing(*junk, CapacityBounds(c), &s, &warnings));
  EXPECT_EQ(s.capacity, before);
  EXPECT_EQ(warnings.size(), 3u);
  // A later good value is taken again.
  auto good = api::ParsePingResponse(json::parse(R"({"resources":{"cpu":"4"}})"));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(ApplyPing(*good, CapacityBounds(c), &s, &warnings));
  EXPECT_EQ(s.capacity["cpu"], "4");
}

TEST(NodeBuilder, PingTaintsReplaceConfiguredTaintsButNotSystemOnes) {
  VkConfig c = Config();
  NodeState s;
  auto p = api::ParsePingResponse(
      json::parse(R"({"taints":[{"key":"maintenance","value":"yes","effect":"NoExecute"},
                                {"key":"x","effect":"Whatever"}]})"));
  ASSERT_TRUE(p.ok());
  std::vector<std::string> warnings;
  EXPECT_TRUE(ApplyPing(*p, {}, &s, &warnings));
  auto t = DesiredTaints(c, s);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].key, kSystemTaintKey);
  EXPECT_EQ(t[1].key, kProviderTaintKey);
  EXPECT_EQ(t[2].key, "maintenance");
  EXPECT_EQ(t[3].effect, "NoSchedule");
  auto empty = api::ParsePingResponse(json::parse(R"({"taints":[]})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(ApplyPing(*empty, {}, &s, &warnings));
  EXPECT_EQ(DesiredTaints(c, s).size(), 2u);  // [] clears the non-system taints
}

TEST(NodeBuilder, MergeTaintsKeepsForeignTaintsAndDropsOldManagedOnes) {
  json::array current = json::parse(R"([
    {"key":"node.kubernetes.io/not-ready","effect":"NoExecute"},
    {"key":"maintenance","effect":"NoSchedule"},
    {"key":"virtual-node.interlink/no-schedule","value":"true","effect":"NoSchedule"}])")
                            .as_array();
  std::vector<Taint> desired = {{kSystemTaintKey, "true", "NoSchedule"}};
  auto out = MergeTaints(current, desired, {"maintenance"});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(GetString(out[0], {"key"}), kSystemTaintKey);
  EXPECT_EQ(GetString(out[1], {"key"}), "node.kubernetes.io/not-ready");
}

TEST(NodeBuilder, DisableTaintDropsTheProviderTaint) {
  VkConfig c = Config();
  c.disable_provider_taint = true;
  c.taints.clear();
  auto t = DesiredTaints(c, NodeState{});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].key, kSystemTaintKey);
}

}  // namespace
}  // namespace il::vk
