// DockerStreams: docker-sd's exec, attach and port-forward (the streaming extension).
//
//   exec:         an Engine API exec (POST /containers/{id}/exec, then /exec/{id}/start on a
//                 hijacked connection: frames demultiplexed, raw with a TTY); kubectl's
//                 resizes become POST /exec/{id}/resize; the exit code comes from
//                 GET /exec/{id}/json.
//   attach:       POST /containers/{id}/attach (hijacked; no signal proxying), resizes to
//                 POST /containers/{id}/resize; the exit code is the container's.
//   port-forward: a TCP connection to 127.0.0.1:<port> made inside the pod's network
//                 namespace (the il-pause sandbox's, via setns), so it works for every
//                 DockerNetwork, "none" included. Needs CAP_SYS_ADMIN (docker-sd runs as
//                 root beside dockerd).
// Containers are found by their labels (io.kubernetes.pod.uid, io.kubernetes.container.name)
// with GET /containers/json;
// port-forward uses the sandbox ("POD"), or the pod's only container when it has none.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>

#include "api/stream_backend.h"
#include "sidecars/docker/docker_api.h"

namespace il::docker {

// The exec create body for a request (pure, tested).
ExecConfig ExecConfigOf(const api::ExecRequest& r);
// GET /containers/json filters for a pod's running container (`container` empty: any).
api::json::object FindFilters(const std::string& pod_uid, const std::string& container);

class DockerStreams : public api::StreamBackend {
 public:
  explicit DockerStreams(DockerApi& api) : api_(api) {}
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

 private:
  // The running container's id; kNotFound when there is none.
  Result<std::string> Find(const std::string& pod_uid, const std::string& container);

  DockerApi& api_;
};

// A TCP socket created inside the network namespace of process `pid` and connected to
// 127.0.0.1:port there.
Result<int> DialInNetns(int pid, uint16_t port);

}  // namespace il::docker
