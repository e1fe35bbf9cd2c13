#include "vk/node_controller.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "kube/api_error.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"
#include "vk/fake_interlink.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetString;

class NodeControllerTest : public ::testing::Test {
 protected:
  NodeControllerTest() {
    config_.node_name = "vk-1";
    config_.kubelet_port = 10251;
    config_.lease_duration_seconds = 40;
  }
  json::value Node() { return *api_.Object(kube::NodePath("vk-1")); }
  std::string Ready() {
    auto node = Node();
    for (const auto& c : api::Find(node, {"status", "conditions"})->as_array()) {
      if (GetString(c, {"type"}) == "Ready")
        return GetString(c, {"status"}) + "/" + GetString(c, {"reason"});
    }
    return "";
  }

  VkConfig config_;
  kube::FakeKubeApi api_;
  FakeInterlink il_;
};

TEST_F(NodeControllerTest, RegistersTheNodeNotReadyUntilPinged) {
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  EXPECT_EQ(GetString(Node(), {"metadata", "labels", "type"}), "virtual-kubelet");
  EXPECT_EQ(Ready(), "False/KubeletNotReady");
  nc.PingOnce();
  EXPECT_EQ(Ready(), "True/KubeletReady");
  EXPECT_EQ(GetString(Node(), {"metadata", "annotations", kPingAnnotation}), R"({"status":"ok"})");
}

TEST_F(NodeControllerTest, UnreachableInterlinkMakesTheNodeNotReadyAndBackReady) {
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  nc.PingOnce();
  il_.ping = PingResult{0, "", Unavailable("connection refused"), std::nullopt};
  nc.PingOnce();
  EXPECT_EQ(Ready(), "False/InterlinkUnreachable");
  il_.ping = PingResult{502, "", Status(StatusCode::kBadGateway, "sidecar down"), std::nullopt};
  nc.PingOnce();
  EXPECT_EQ(Ready(), "False/SidecarUnreachable");
  il_.ping = PingResult{200, "{}", Status::Ok(), std::nullopt};
  nc.PingOnce();
  EXPECT_EQ(Ready(), "True/KubeletReady");
}

TEST_F(NodeControllerTest, PingResponseUpdatesCapacityAndTaints) {
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  std::string body = R"({"status":"ok","resources":{"cpu":"64","pods":"1000"},
                         "taints":[{"key":"maintenance","effect":"NoSchedule"}]})";
  il_.ping = PingResult{200, body, Status::Ok(), *api::ParsePingResponse(json::parse(body))};
  nc.PingOnce();
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "cpu"}), "64");
  EXPECT_EQ(GetString(Node(), {"status", "allocatable", "pods"}), "1000");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "memory"}), "100Gi");
  bool found = false;
  auto node = Node();
  for (const auto& t : api::Find(node, {"spec", "taints"})->as_array()) {
    found = found || GetString(t, {"key"}) == "maintenance";
  }
  EXPECT_TRUE(found);
}

TEST_F(NodeControllerTest, ConfiguredCapacityIsAnUpperBoundAndZerosAreIgnored) {
  config_.resources.cpu = "32";
  config_.resources.memory = "64Gi";
  config_.resources.configured = {"cpu", "memory"};
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  auto ping = [&](const std::string& body) {
    il_.ping = PingResult{200, body, Status::Ok(), *api::ParsePingResponse(json::parse(body))};
    nc.PingOnce();
  };
  ping(R"({"status":"ok","resources":{"cpu":"48","memory":"16Gi","pods":"1000"}})");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "cpu"}), "32");
  EXPECT_EQ(GetString(Node(), {"status", "allocatable", "memory"}), "16Gi");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "pods"}), "1000");
  ping(R"({"status":"ok","resources":{"cpu":"0","memory":"0","pods":0}})");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "cpu"}), "32");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "memory"}), "16Gi");
  EXPECT_EQ(GetString(Node(), {"status", "capacity", "pods"}), "1000");
  EXPECT_EQ(nc.capacity().at("pods"), "1000");
}

TEST_F(NodeControllerTest, ExistingNodeKeepsForeignTaintsAndGetsOurLabels) {
  api_.Seed(kube::NodePath("vk-1"), json::parse(R"({"metadata":{"labels":{"mine":"yes"}},
      "spec":{"taints":[{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"}]}})"));
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  auto node = Node();
  EXPECT_EQ(GetString(node, {"metadata", "labels", "mine"}), "yes");
  EXPECT_EQ(GetString(node, {"metadata", "labels", "kubernetes.io/role"}), "agent");
  std::vector<std::string> keys;
  for (const auto& t : api::Find(node, {"spec", "taints"})->as_array())
    keys.push_back(GetString(t, {"key"}));
  EXPECT_EQ(keys, (std::vector<std::string>{kSystemTaintKey, kProviderTaintKey,
                                            "node.kubernetes.io/unreachable"}));
}

TEST_F(NodeControllerTest, LeaseIsCreatedWithOwnerAndRenewed) {
  NodeController nc(api_, il_, config_);
  EXPECT_FALSE(nc.RenewLease().ok());  // no node yet
  ASSERT_TRUE(nc.RegisterOnce().ok());
  ASSERT_TRUE(nc.RenewLease().ok());
  auto lease = *api_.Object(kube::LeasePath("kube-node-lease", "vk-1"));
  EXPECT_EQ(GetString(lease, {"spec", "holderIdentity"}), "vk-1");
  EXPECT_EQ(api::GetInt(lease, {"spec", "leaseDurationSeconds"}), 40);
  const auto& owner = api::Find(lease, {"metadata", "ownerReferences"})->as_array()[0];
  EXPECT_EQ(GetString(owner, {"kind"}), "Node");
  EXPECT_EQ(GetString(owner, {"uid"}), nc.node_uid());
  std::string first = GetString(lease, {"spec", "renewTime"});
  EXPECT_EQ(first.size(), std::string("2024-01-01T00:00:00.000000Z").size());
  ASSERT_TRUE(nc.RenewLease().ok());
  EXPECT_EQ(api_.calls("UPDATE").size(), 1u);
  // A conflicting writer: re-read and retry.
  api_.FailNext("UPDATE", "", kube::MakeApiStatus(409, "Conflict", "stale lease"));
  EXPECT_TRUE(nc.RenewLease().ok());
}

TEST_F(NodeControllerTest, StatusIsPatchedOnlyOnChangeOrHeartbeat) {
  NodeController nc(api_, il_, config_);
  ASSERT_TRUE(nc.RegisterOnce().ok());
  nc.PingOnce();
  api_.ClearCalls();
  nc.PingOnce();  // nothing changed
  EXPECT_TRUE(api_.calls("PATCH").empty());
  ASSERT_TRUE(nc.UpdateStatus(true).ok());
  EXPECT_EQ(api_.calls("PATCH").size(), 1u);
}

TEST(MicroTime, HasSixFractionalDigits) {
  auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1700000000123456LL));
  EXPECT_EQ(MicroTime(t), "2023-11-14T22:13:20.123456Z");
}

}  // namespace
}  // namespace il::vk
