// DockerStreams: docker-sd's exec, attach and port-forward (the streaming extension).
//
//   exec:         docker exec -i [-t] <container> <command...>; with a TTY the CLI runs
//                 on a pseudo-terminal of ours, whose size follows kubectl's resizes
//                 (the CLI passes them on to the container's TTY).
//   attach:       docker attach --sig-proxy=false [--no-stdin] <container>.
//   port-forward: a TCP connection to 127.0.0.1:<port> made inside the pod's network
//                 namespace (the il-pause sandbox's, via setns), so it works for every
//                 DockerNetwork, "none" included. Needs CAP_SYS_ADMIN (docker-sd runs as
//                 root beside dockerd).
// Containers are found by their labels (io.kubernetes.pod.uid, io.kubernetes.container.name);
// port-forward uses the sandbox ("POD"), or the pod's only container when it has none.
//
// Thread-safety: thread-safe.
#pragma once

#include <string>

#include "api/stream_backend.h"
#include "core/process.h"

namespace il::docker {

// argv builders (pure, tested).
std::vector<std::string> DockerExecArgv(const std::string& docker, const std::string& container,
                                        const api::ExecRequest& r);
std::vector<std::string> DockerAttachArgv(const std::string& docker, const std::string& container,
                                          const api::ExecRequest& r);
// `container` empty: any running container of the pod.
std::vector<std::string> DockerFindArgv(const std::string& docker, const std::string& pod_uid,
                                        const std::string& container);

class DockerStreams : public api::StreamBackend {
 public:
  DockerStreams(std::string docker_path, CommandRunner& runner)
      : docker_(std::move(docker_path)), runner_(runner) {}
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

 private:
  // The running container's id; kNotFound when there is none.
  Result<std::string> Find(const std::string& pod_uid, const std::string& container);

  std::string docker_;
  CommandRunner& runner_;
};

// A TCP socket created inside the network namespace of process `pid` and connected to
// 127.0.0.1:port there.
Result<int> DialInNetns(int pid, uint16_t port);

}  // namespace il::docker
