// HandlerRunner: runs one probe or lifecycle-hook action (api::Handler) against a container
// of a pod, as the kubelet's prober and hook runner do (reference/kubelet-behaviour-and-
// docker-api.md §2.2, §3.3).
//
// DockerHandlerRunner: `exec` is an Engine API exec in the container (argv vector, no shell;
// create, start on a hijacked connection, exit code from exec inspect) with the timeout; `httpGet`,
// `tcpSocket` and `grpc` connect from inside the pod's network namespace (netns_dial.h) to the
// pod's IP, or to 127.0.0.1 when the pod has none (DockerNetwork "none"); an explicit `host` is
// dialled from docker-sd's own namespace, as the kubelet dials from the node. HTTPS does not verify
// certificates (as the kubelet). Probe `httpGet` follows redirects to the same host name (at most
// 10 requests); a redirect elsewhere is a success with `warning` set (the kubelet's ProbeWarning);
// hooks never follow. `grpc` is one grpc.health.v1.Health/Check over h2c (grpc_health.h). `sleep`
// (hooks) waits.
//
// Thread-safety: Run is thread-safe; each call blocks its caller until done or timed out.
#pragma once

#include <chrono>
#include <string>

#include "api/probe.h"
#include "sidecars/docker/docker_api.h"

namespace il::docker {

struct HandlerTarget {
  std::string docker_name;  // the container (exec)
  int netns_pid = 0;        // a process in the pod's network namespace; 0 = unknown
  std::string pod_ip;       // "" when the pod has no address (loopback-only namespace)
};

enum class Outcome {
  kSuccess,
  kFailure,  // the check ran and failed (counts towards failureThreshold)
  kError,    // the check could not run (the kubelet retries and then ignores the tick)
};

struct HandlerResult {
  Outcome outcome = Outcome::kError;
  std::string output;  // exec: stdout+stderr; http: the failure text; at most 10 KiB
  // kSuccess that the kubelet reports as a warning (event ProbeWarning, message `output`):
  // an httpGet probe whose redirect was not followed; `output` is the response body.
  bool warning = false;
};

enum class HandlerMode {
  kProbe,  // http: 200-399 succeeds
  kHook,   // http: any response succeeds; scheme and headers ignored (kubelet 1.20)
};

class HandlerRunner {
 public:
  virtual ~HandlerRunner() = default;
  virtual HandlerResult Run(const api::Handler& h, const HandlerTarget& target,
                            std::chrono::milliseconds timeout, HandlerMode mode) = 0;
};

class DockerHandlerRunner : public HandlerRunner {
 public:
  // Exec handlers run as Engine API execs (create, start hijacked, inspect for the code).
  explicit DockerHandlerRunner(DockerApi& api) : api_(api) {}
  HandlerResult Run(const api::Handler& h, const HandlerTarget& target,
                    std::chrono::milliseconds timeout, HandlerMode mode) override;

 private:
  HandlerResult Exec(const api::Handler& h, const HandlerTarget& t,
                     std::chrono::milliseconds timeout);
  DockerApi& api_;
};

// The HTTP/1.1 GET request a probe sends (kubelet headers: User-Agent kube-probe/1.20,
// Accept */* unless given, Host from a "Host" entry). Pure; exposed for tests.
std::string ProbeRequest(const api::Handler& h, const std::string& host, HandlerMode mode);
// The status code of a raw HTTP response, or -1 when it has no status line.
int ResponseStatus(std::string_view response);

}  // namespace il::docker
