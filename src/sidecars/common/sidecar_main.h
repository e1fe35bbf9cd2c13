// RunSidecar: the shared main() of every sidecar binary.
//
// As the seed documents, a sidecar needs no arguments: it reads InterLinkConfig.yaml
// (from INTERLINKCONFIGPATH, /etc/interlink or ./kustomizations) plus the environment
// overrides, and listens on SIDECARPORT / SidecarPort (or SidecarURL when that is a
// unix:// socket), else on its default port. Optional flags come on top:
//   --config PATH  --listen URL  --log-level LEVEL  --log-format text|json  --version
// It runs until SIGINT or SIGTERM, then stops cleanly.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/backend.h"
#include "core/config.h"

namespace il::sidecar {

struct SidecarSpec {
  std::string name;          // "mock-sd"
  std::string service;       // SidecarService value it serves: "mock", "docker", "slurm"
  std::string default_port;  // "4002"
  // Builds the backend from the loaded config; an error aborts start-up with its message.
  std::function<Result<std::unique_ptr<api::Backend>>(const InterLinkConfig&)> make_backend;
};

int RunSidecar(int argc, char** argv, const SidecarSpec& spec);

}  // namespace il::sidecar
