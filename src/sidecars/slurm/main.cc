// slurm-sd: the interLink sidecar that runs pods as Slurm batch jobs (docs/slurm-sidecar.md).
#include <filesystem>

#include "sidecars/common/sidecar_main.h"
#include "sidecars/slurm/slurm_backend.h"

int main(int argc, char** argv) {
  il::sidecar::SidecarSpec spec;
  spec.name = "slurm-sd";
  spec.service = "slurm";
  spec.default_port = "4001";
  spec.make_backend =
      [](const il::InterLinkConfig& c) -> il::Result<std::unique_ptr<il::api::Backend>> {
    IL_ASSIGN_OR_RETURN(auto cfg, il::slurm::SlurmConfigFrom(c));
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_root, ec);
    IL_ASSIGN_OR_RETURN(auto store, il::slurm::JobStore::Open(cfg.state_file));
    auto runner = std::make_shared<il::PosixCommandRunner>();
    IL_ASSIGN_OR_RETURN(auto backend,
                        il::slurm::SlurmBackend::Open(std::move(cfg), runner, std::move(store)));
    return std::unique_ptr<il::api::Backend>(std::move(backend));
  };
  return il::sidecar::RunSidecar(argc, argv, spec);
}
