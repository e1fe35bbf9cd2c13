// NodeController: the virtual node's life in the API server.
//
//   Register   GET the Node; create it (labels, taints, capacity, InternalIP, daemon port)
//              or bring an existing one up to date (our labels and taints; foreign taints
//              are kept); retried until --startup-timeout.
//   ping       every PingIntervalSeconds (and at once after a failed status call) POST
//              /pinglink: Ready and InterlinkConnectivity follow the answer (NotReady with
//              InterlinkUnreachable / SidecarUnreachable / ...), capacity and taints follow
//              the PingResponse (capacity up to what the admin configured; zero or bad
//              values are ignored with a warning); a change is PATCHed at once.
//   heartbeat  the Lease kube-node-lease/<node> (owner: the Node) is renewed every
//              LeaseDurationSeconds/4; the node status is PATCHed when it changes and at
//              least every minute.
//
// The lease reflects that the VK itself is alive; backend health is carried by Ready, so
// an unreachable backend makes the node NotReady instead of silently Unknown.
//
// Thread-safety: Start/Stop from the owner; step functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "kube/kube_api.h"
#include "vk/interlink_client.h"
#include "vk/node_builder.h"
#include "vk/vk_config.h"

namespace il::vk {

class NodeController {
 public:
  NodeController(kube::KubeApi& kube, InterlinkApi& interlink, VkConfig config);
  ~NodeController();

  // Blocks until the node exists in the API (or the startup timeout passes, 0 = forever).
  Status Register(std::chrono::seconds timeout, const std::stop_token& stop = {});
  void Start();
  void Stop();
  // Asks the ping loop to ping now (e.g. after a failed status call).
  void PingSoon();

  // --- steps (public for tests) ---
  Status RegisterOnce();
  void PingOnce();
  Status RenewLease();
  // PATCHes the status if it changed or `force` (heartbeat).
  Status UpdateStatus(bool force);

  NodeHealth health() const;
  ResourceMap capacity() const;
  std::string node_uid() const;

 private:
  Status UpdateMetadata(const std::vector<Taint>& taints, const std::string& ping_body);
  boost::json::object LeaseObject(std::chrono::system_clock::time_point now) const;
  void PingLoop(const std::stop_token& stop);
  void HeartbeatLoop(const std::stop_token& stop);

  kube::KubeApi& kube_;
  InterlinkApi& interlink_;
  const VkConfig config_;
  const ResourceMap capacity_bounds_;  // what the admin configured caps the ping's resources
  mutable std::mutex mu_;
  NodeState state_;
  boost::json::value node_;  // latest Node object from the API
  std::string node_uid_;
  boost::json::value lease_;  // latest Lease
  boost::json::value last_fingerprint_;
  std::chrono::steady_clock::time_point last_status_patch_{};
  std::vector<std::string> managed_taint_keys_;
  std::string annotated_ping_body_;
  std::vector<std::string> last_ping_warnings_;  // logged once until they change
  std::atomic<bool> ping_now_{false};
  std::mutex wait_mu_;  // for cv_ only
  std::condition_variable_any cv_;
  std::vector<std::jthread> threads_;
};

// Kubernetes MicroTime: RFC 3339 with exactly six fractional digits.
std::string MicroTime(std::chrono::system_clock::time_point t);

}  // namespace il::vk
