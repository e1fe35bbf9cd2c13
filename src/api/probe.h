// Probes and lifecycle hooks of a container spec, as the kubelet reads them
// (reference/kubelet-behaviour-and-docker-api.md, "Probes" and "Lifecycle hooks").
//
// ParseProbes/ParseLifecycle read `startupProbe`, `livenessProbe`, `readinessProbe` and
// `lifecycle.postStart/preStop` of one container into plain values that the sidecars run
// (docker-sd in-process, slurm-sd in the job script). The API server has already defaulted
// and validated the fields; absent fields get the kubelet's defaults here too, so a pod
// sent by hand behaves the same. A named port is resolved against the container's `ports`;
// an unknown name is not an error at parse time (the kubelet accepts the pod too): the
// handler carries `port_error` and every run of it fails with the kubelet's message.
//
// ProbeTracker applies thresholds to a probe's results, as the kubelet's prober worker does.
//
// Thread-safety: plain values; ProbeTracker is not thread-safe (one per probe worker).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace il::api {
namespace json = boost::json;

enum class HandlerKind { kExec, kHttpGet, kTcpSocket, kGrpc, kSleep };

// One probe or hook action.
struct Handler {
  HandlerKind kind = HandlerKind::kExec;
  std::vector<std::string> command;  // exec: argv, no shell
  // httpGet / tcpSocket / grpc
  std::string scheme = "HTTP";  // httpGet: HTTP or HTTPS (HTTPS does not verify certificates)
  std::string host;             // empty = the pod's IP
  std::string path = "/";       // httpGet
  int port = 0;                 // resolved number; 0 when port_error is set
  std::string port_error;       // why every run fails: the port could not be resolved, or a
                                // control character in the path, host, service or a header
  std::vector<std::pair<std::string, std::string>> headers;  // httpGet.httpHeaders, in order
  std::string grpc_service;                                  // grpc.service, may be empty
  int64_t sleep_seconds = 0;                                 // sleep (hooks only)
};

enum class ProbeType { kStartup, kLiveness, kReadiness };

// "Startup", "Liveness", "Readiness": the word the kubelet's events and messages use.
const char* ProbeTypeName(ProbeType t);

struct Probe {
  ProbeType type = ProbeType::kLiveness;
  Handler handler;
  int64_t initial_delay_seconds = 0;
  int64_t period_seconds = 10;
  int64_t timeout_seconds = 1;
  int64_t success_threshold = 1;  // always 1 for liveness and startup
  int64_t failure_threshold = 3;
  std::optional<int64_t> termination_grace_period_seconds;  // probe-level override
};

struct ContainerProbes {
  std::optional<Probe> startup, liveness, readiness;
  bool empty() const { return !startup && !liveness && !readiness; }
};

struct Lifecycle {
  std::optional<Handler> post_start, pre_stop;
  bool empty() const { return !post_start && !pre_stop; }
};

// kInvalidArgument (naming the field) only for shapes the API server would reject too:
// no handler or two handlers, a non-string command element, a negative or zero period.
Result<ContainerProbes> ParseProbes(const json::value& container);
Result<Lifecycle> ParseLifecycle(const json::value& container);

// The kubelet's prober state for one probe: consecutive results against the thresholds.
class ProbeTracker {
 public:
  explicit ProbeTracker(const Probe& p)
      : success_threshold_(p.success_threshold), failure_threshold_(p.failure_threshold) {}
  enum class Verdict { kUnchanged, kNowSuccess, kNowFailure };
  // Records one run's outcome; says when the probe's published result flips.
  Verdict Record(bool ok);
  // The published result: nullopt until the first threshold is crossed (the kubelet's
  // initial value is "failure" for readiness and startup, "success" for liveness).
  std::optional<bool> result() const { return result_; }
  // Forget history (after a container restart).
  void Reset();

 private:
  int64_t success_threshold_, failure_threshold_;
  int64_t successes_ = 0, failures_ = 0;
  std::optional<bool> result_;
};

}  // namespace il::api
