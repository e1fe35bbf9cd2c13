// docker-sd: the interLink sidecar that runs pods as Docker containers (docs/docker-sidecar.md).
#include "core/process.h"
#include "sidecars/common/sidecar_main.h"
#include "sidecars/docker/docker_backend.h"
#include "sidecars/docker/docker_exec.h"
#include "sidecars/docker/docker_settings.h"
#include "sidecars/docker/stream_runner.h"

int main(int argc, char** argv) {
  static il::PosixCommandRunner runner;
  static il::docker::PosixStreamRunner streams;
  il::sidecar::SidecarSpec spec;
  spec.name = "docker-sd";
  spec.service = "docker";
  spec.default_port = "4000";
  spec.make_backend =
      [](const il::InterLinkConfig& cfg) -> il::Result<std::unique_ptr<il::api::Backend>> {
    IL_ASSIGN_OR_RETURN(auto settings, il::docker::DockerSettingsFromConfig(cfg));
    IL_ASSIGN_OR_RETURN(auto backend, il::docker::DockerBackend::Create(settings, runner, streams));
    return std::unique_ptr<il::api::Backend>(std::move(backend));
  };
  spec.make_streams =
      [](const il::InterLinkConfig&,
         il::api::Backend& backend) -> il::Result<std::unique_ptr<il::api::StreamBackend>> {
    auto* docker = dynamic_cast<il::docker::DockerBackend*>(&backend);
    if (!docker) return il::Internal("docker-sd streams need the docker backend");
    // exec, attach and port-forward share the backend's Engine API client.
    return std::unique_ptr<il::api::StreamBackend>(
        std::make_unique<il::docker::DockerStreams>(docker->api()));
  };
  return il::sidecar::RunSidecar(argc, argv, spec);
}
