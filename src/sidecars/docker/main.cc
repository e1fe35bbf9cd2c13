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
  spec.make_streams = [](const il::InterLinkConfig& cfg,
                         il::api::Backend&) -> il::Result<std::unique_ptr<il::api::StreamBackend>> {
    IL_ASSIGN_OR_RETURN(auto settings, il::docker::DockerSettingsFromConfig(cfg));
    return std::unique_ptr<il::api::StreamBackend>(
        std::make_unique<il::docker::DockerStreams>(settings.docker_path, runner));
  };
  return il::sidecar::RunSidecar(argc, argv, spec);
}
