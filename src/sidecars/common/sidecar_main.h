// RunSidecar: the shared main() of every sidecar binary.
//
// As the seed documents, a sidecar needs no arguments: it reads InterLinkConfig.yaml
// (from INTERLINKCONFIGPATH, /etc/interlink or ./kustomizations) plus the environment
// overrides, and listens on the host of SidecarURL (default 127.0.0.1) at SIDECARPORT /
// SidecarPort, else its default port, or on SidecarURL when that is a unix:// socket.
// A non-loopback listener without SidecarTokenFile or client certificates refuses to
// start (docs/security.md). Optional flags come on top:
//   --config PATH  --listen URL  --log-level LEVEL  --log-format text|json  --version
// It runs until SIGINT or SIGTERM, then stops cleanly.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/backend.h"
#include "api/stream_backend.h"
#include "core/config.h"

namespace il::sidecar {

struct SidecarSpec {
  std::string name;          // "mock-sd"
  std::string service;       // SidecarService value it serves: "mock", "docker", "slurm"
  std::string default_port;  // "4002"
  // Builds the backend from the loaded config; an error aborts start-up with its message.
  std::function<Result<std::unique_ptr<api::Backend>>(const InterLinkConfig&)> make_backend;
  // Optional: exec, attach and port-forward (the streaming extension, advertised in the
  // ping reply when set). Gets the backend built above.
  std::function<Result<std::unique_ptr<api::StreamBackend>>(const InterLinkConfig&, api::Backend&)>
      make_streams;
};

int RunSidecar(int argc, char** argv, const SidecarSpec& spec);

}  // namespace il::sidecar
