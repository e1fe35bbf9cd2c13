// docker-sd: the interLink sidecar that runs pods as Docker containers (docs/docker-sidecar.md).
#include "sidecars/common/sidecar_main.h"
#include "sidecars/docker/docker_backend.h"
#include "sidecars/docker/docker_exec.h"
#include "sidecars/docker/docker_settings.h"

int main(int argc, char** argv) {
  il::sidecar::SidecarSpec spec;
  spec.name = "docker-sd";
  spec.service = "docker";
  spec.default_port = "4000";
  spec.make_backend =
      [](const il::InterLinkConfig& cfg) -> il::Result<std::unique_ptr<il::api::Backend>> {
    IL_ASSIGN_OR_RETURN(auto settings, il::docker::DockerSettingsFromConfig(cfg));
    IL_ASSIGN_OR_RETURN(auto backend, il::docker::DockerBackend::Create(settings));
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
