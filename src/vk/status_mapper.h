// StatusMapper: turns what the backend reports for a pod (api::PodStatus) into the
// Kubernetes pod status, following the kubelet's rules (reference virtual-kubelet §1,
// interlink-upstream §2.9.3 minus its quirks):
//
//   - container statuses come from the backend by name; the backend's reasons are kept
//     (OOMKilled, DeadlineExceeded, ...); a terminated state without a reason gets the
//     kubelet's "Completed" (exit 0) or "Error"; containers the backend does not report
//     yet are Waiting/ContainerCreating (init: Waiting/PodInitializing);
//   - while init containers are incomplete, main containers wait with PodInitializing,
//     which makes kubectl print Init:n/m;
//   - phase by the kubelet's getPhase: Pending until a container runs (or all finished),
//     Running, Succeeded when all exited 0, Failed when one failed and restartPolicy
//     cannot restart it (init failures with restartPolicy Never fail the pod);
//   - conditions PodScheduled, Initialized, ContainersReady, Ready with the kubelet's
//     reasons; lastTransitionTime kept while a condition's status does not change;
//   - podIP / podIPs when the backend knows one, hostIP = the node's InternalIP,
//     startTime kept once set.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "api/types.h"

namespace il::vk {

// What the VK itself knows about a pod beyond the backend's report.
struct PodFacts {
  std::string host_ip;  // node InternalIP
  // Creation in the backend failed for good: phase Failed, reason ProviderFailed.
  std::optional<std::string> create_error;
  // The backend stopped reporting a pod it had: containers terminated 137.
  bool lost = false;
  // The pod cannot be sent yet (a missing ConfigMap/Secret): containers wait with this
  // reason (CreateContainerConfigError, FailedMount) and message, the pod stays Pending.
  std::string config_error_reason;
  std::string config_error_message;
  std::chrono::system_clock::time_point now;
};

// The full pod "status" object to write. `pod` is the current API object (spec and the
// status written last); `backend` is the latest report, if any.
boost::json::object MapPodStatus(const boost::json::value& pod,
                                 const std::optional<api::PodStatus>& backend,
                                 const PodFacts& facts);

// The status without volatile fields (times), to decide whether a PATCH is needed.
boost::json::value PodStatusFingerprint(const boost::json::object& status);

// The phase of a status object ("" when absent).
std::string PhaseOf(const boost::json::value& status);
bool IsTerminalPhase(std::string_view phase);

// kubectl's STATUS column for a pod (Init:1/2, PodInitializing, Running, Completed,
// Error, ...): used by tests and logs.
std::string KubectlStatus(const boost::json::value& pod);

}  // namespace il::vk
