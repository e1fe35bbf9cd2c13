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
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
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
  Status RegisterOnce() IL_EXCLUDES(mu_);
  void PingOnce() IL_EXCLUDES(mu_);
  Status RenewLease() IL_EXCLUDES(mu_);
  // PATCHes the status if it changed or `force` (heartbeat).
  Status UpdateStatus(bool force) IL_EXCLUDES(mu_);

  NodeHealth health() const IL_EXCLUDES(mu_);
  ResourceMap capacity() const IL_EXCLUDES(mu_);
  std::string node_uid() const IL_EXCLUDES(mu_);

 private:
  Status UpdateMetadata(const std::vector<Taint>& taints, const std::string& ping_body)
      IL_REQUIRES(mu_);
  boost::json::object LeaseObject(std::chrono::system_clock::time_point now) const IL_REQUIRES(mu_);
  void PingLoop(const std::stop_token& stop);
  void HeartbeatLoop(const std::stop_token& stop);

  kube::KubeApi& kube_;
  InterlinkApi& interlink_;
  const VkConfig config_;
  const ResourceMap capacity_bounds_;  // what the admin configured caps the ping's resources
  mutable Mutex mu_;
  NodeState state_ IL_GUARDED_BY(mu_);
  boost::json::value node_ IL_GUARDED_BY(mu_);  // latest Node object from the API
  std::string node_uid_ IL_GUARDED_BY(mu_);
  boost::json::value lease_ IL_GUARDED_BY(mu_);  // latest Lease
  boost::json::value last_fingerprint_ IL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_status_patch_ IL_GUARDED_BY(mu_){};
  std::vector<std::string> managed_taint_keys_ IL_GUARDED_BY(mu_);
  std::string annotated_ping_body_ IL_GUARDED_BY(mu_);
  // Logged once until they change.
  std::vector<std::string> last_ping_warnings_ IL_GUARDED_BY(mu_);
  std::atomic<bool> ping_now_{false};
  Mutex wait_mu_;  // for cv_ only: guards no fields (ping_now_ is atomic)
  CondVar cv_;
  std::vector<std::jthread> threads_;
};

// Kubernetes MicroTime: RFC 3339 with exactly six fractional digits.
std::string MicroTime(std::chrono::system_clock::time_point t);

}  // namespace il::vk
