// Pure functions that render the virtual node: the Node object registered at start, its
// status (capacity, conditions, addresses, daemon endpoint), its taints, and how an
// interLink ping reply changes them (reference §2.9.1: ping resources update only the
// fields present; ping taints, when present even as [], replace the non-system taints).
// Unlike upstream (their #558), what the admin configured is an upper bound on the ping's
// resources, and a zero or malformed value in a ping never replaces a good one.
//
// Thread-safety: pure functions over values.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "vk/vk_config.h"

namespace il::vk {

inline constexpr char kSystemTaintKey[] = "virtual-node.interlink/no-schedule";
inline constexpr char kProviderTaintKey[] = "virtual-kubelet.io/provider";
inline constexpr char kPingAnnotation[] = "interlink.virtual-kubelet.io/ping-response";
inline constexpr char kKubeletVersion[] = "v1.20.2-interlink-cpp";

// The node's resources: "cpu", "memory", "pods", "nvidia.com/gpu", ...
using ResourceMap = std::map<std::string, std::string>;

// What the ping loop learned; drives Ready and InterlinkConnectivity.
struct NodeHealth {
  bool pinged = false;  // false until the first ping finished
  bool ok = false;
  std::string reason;   // Ready reason when not ok: InterlinkUnreachable, SidecarUnreachable, ...
  std::string message;  // human readable, from the ping
};

// Everything the node status depends on besides the config.
struct NodeState {
  NodeHealth health;
  ResourceMap capacity;
  std::vector<Taint> ping_taints;
  bool has_ping_taints = false;  // the ping reply carried "taints"
  std::string ping_body;         // for the ping-response annotation
};

ResourceMap InitialCapacity(const VkConfig& c);
// Labels put on the node (system ones, accelerator models, NodeLabels).
std::map<std::string, std::string> NodeLabels(const VkConfig& c);
// System taints plus NodeTaints, or plus the ping's taints when it sent some.
std::vector<Taint> DesiredTaints(const VkConfig& c, const NodeState& s);
// Taints to write given the node's current ones: keeps foreign taints (e.g. the node
// lifecycle controller's not-ready taint), replaces the ones this VK manages.
boost::json::array MergeTaints(const boost::json::array& current, const std::vector<Taint>& desired,
                               const std::vector<std::string>& managed_keys);
boost::json::object TaintJson(const Taint& t);

// The admin's upper bounds on what a ping may set: cpu/memory/pods the admin configured
// (Resources or knoc-cfg.json; the defaults are no bound) and every accelerator type
// configured with a total Available above zero. Other resources are unbounded.
ResourceMap CapacityBounds(const VkConfig& c);
// Applies a ping reply: resources (only fields present, each capped at its bound; a zero,
// negative or unparsable value is skipped and reported in `warnings`, keeping the current
// value, so a plugin that leaves its resources unset cannot zero the node) and taints.
// Returns whether anything changed.
bool ApplyPing(const api::PingResponse& p, const ResourceMap& bounds, NodeState* s,
               std::vector<std::string>* warnings);
// Turns a ping outcome into NodeHealth.
NodeHealth HealthFromPing(int http_status, const Status& status, const std::string& body);

// The status object (capacity, allocatable, conditions, addresses, daemonEndpoints,
// nodeInfo). Conditions keep their lastTransitionTime from `previous` (the node's current
// status.conditions) when unchanged; every condition gets lastHeartbeatTime = now.
boost::json::object NodeStatusJson(const VkConfig& c, const NodeState& s,
                                   const boost::json::array& previous_conditions,
                                   std::chrono::system_clock::time_point now);
// The whole Node object for POST /api/v1/nodes.
boost::json::object NodeObject(const VkConfig& c, const NodeState& s,
                               std::chrono::system_clock::time_point now);
// The status with heartbeat times removed: two of these compare equal when nothing but
// the heartbeat changed.
boost::json::value StatusFingerprint(const boost::json::object& status);

}  // namespace il::vk
