// Fuzz target: what the virtual kubelet does with interLink's replies
// (src/vk/node_builder.h, src/vk/status_mapper.h): a /pinglink reply applied to the
// node (capacity, accelerators, taints), and a /status reply mapped onto a pod's
// Kubernetes status. Both come over the network from interLink and the sidecar.
//
// Properties: no crash; the node's capacity stays positive and within what the admin
// configured; every mapped status has a phase, and mapping is deterministic (the same
// inputs give the same fingerprint).
#include <boost/json.hpp>
#include <chrono>

#include "api/quantity.h"
#include "api/types.h"
#include "fuzz/fuzz_check.h"
#include "vk/node_builder.h"
#include "vk/status_mapper.h"

namespace {

namespace json = boost::json;

const json::value& TestPod() {
  static const json::value pod = json::parse(R"({
    "metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
    "spec": {"restartPolicy": "Never",
             "initContainers": [{"name": "init", "image": "busybox"}],
             "containers": [{"name": "main", "image": "busybox"}, {"name": "side", "image": "x"}]},
    "status": {"phase": "Pending"}})");
  return pod;
}

void Ping(const json::value& v, const std::string& body) {
  auto ping = il::api::ParsePingResponse(v);
  if (!ping.ok()) return;
  il::vk::VkConfig config;
  config.resources.cpu = "8";
  config.resources.memory = "16Gi";
  config.resources.configured = {"cpu", "memory"};
  config.resources.accelerators = {{"nvidia.com/gpu", "a100", "4"}};
  const il::vk::ResourceMap bounds = il::vk::CapacityBounds(config);
  il::vk::NodeState state;
  state.capacity = il::vk::InitialCapacity(config);
  std::vector<std::string> warnings;
  (void)il::vk::ApplyPing(*ping, bounds, &state, &warnings);
  for (const auto& [name, value] : state.capacity) {
    auto q = il::api::ParseQuantity(value);
    FUZZ_CHECK(q.ok() && *q > 0);  // a ping never zeroes nor corrupts the node
    if (auto b = bounds.find(name); b != bounds.end()) {
      FUZZ_CHECK(*q <= *il::api::ParseQuantity(b->second));  // nor exceeds the admin's bound
    }
  }
  (void)il::vk::HealthFromPing(200, il::Status::Ok(), body);
}

void Status(const json::value& v) {
  auto list = il::api::ParsePodStatusList(v);
  if (!list.ok()) return;
  il::vk::PodFacts facts;
  facts.host_ip = "10.0.0.1";
  facts.now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 50));
  for (const auto& s : *list) {
    json::object a = il::vk::MapPodStatus(TestPod(), s, facts);
    json::object b = il::vk::MapPodStatus(TestPod(), s, facts);
    FUZZ_CHECK(!il::vk::PhaseOf(a).empty());
    FUZZ_CHECK(il::vk::PodStatusFingerprint(a) == il::vk::PodStatusFingerprint(b));
    json::value updated = TestPod();
    updated.as_object()["status"] = a;
    (void)il::vk::KubectlStatus(updated);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = il::fuzz::AsText(data, size);
  auto v = il::api::ParseJson(text);
  if (!v.ok()) return 0;
  Ping(*v, std::string(text));
  Status(*v);
  return 0;
}
