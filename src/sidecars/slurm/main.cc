// slurm-sd: the interLink sidecar that runs pods as Slurm batch jobs (docs/slurm-sidecar.md).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/private_path.h"
#include "sidecars/common/sidecar_main.h"
#include "sidecars/slurm/slurm_backend.h"
#include "sidecars/slurm/slurm_exec.h"

namespace {

// `name` in slurm-sd's own directory, when it is there; else "".
std::string BesideUs(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  auto path = self.parent_path() / name;
  return ::access(path.c_str(), X_OK) == 0 ? path.string() : "";
}

}  // namespace

int main(int argc, char** argv) {
  il::sidecar::SidecarSpec spec;
  spec.name = "slurm-sd";
  spec.service = "slurm";
  spec.default_port = "4001";
  spec.make_backend =
      [](const il::InterLinkConfig& c) -> il::Result<std::unique_ptr<il::api::Backend>> {
    IL_ASSIGN_OR_RETURN(auto cfg, il::slurm::SlurmConfigFrom(c));
    if (cfg.grpc_probe_path.empty()) cfg.grpc_probe_path = BesideUs("il-grpc-probe");
    // Job directories hold Secrets and the files slurm-sd reads back; the state database
    // says what to cancel: both private to this user, refused when someone else's.
    // With NamespaceUsers each job directory belongs to its tenant (0700): the root may then
    // be traversed (0711) but not listed by them.
    const unsigned root_mode = cfg.namespace_users.empty() ? 0700 : 0711;
    IL_RETURN_IF_ERROR(il::EnsurePrivateDir(cfg.data_root, root_mode));
    if (!cfg.namespace_users.empty()) ::chmod(cfg.data_root.c_str(), root_mode);
    IL_RETURN_IF_ERROR(il::CheckPrivateFile(cfg.state_file));
    IL_ASSIGN_OR_RETURN(auto store, il::slurm::JobStore::Open(cfg.state_file));
    auto runner = std::make_shared<il::PosixCommandRunner>();
    IL_ASSIGN_OR_RETURN(auto backend,
                        il::slurm::SlurmBackend::Open(std::move(cfg), runner, std::move(store)));
    return std::unique_ptr<il::api::Backend>(std::move(backend));
  };
  spec.make_streams =
      [](const il::InterLinkConfig& c,
         il::api::Backend& backend) -> il::Result<std::unique_ptr<il::api::StreamBackend>> {
    static il::PosixCommandRunner runner;
    IL_ASSIGN_OR_RETURN(auto cfg, il::slurm::SlurmConfigFrom(c));
    return std::unique_ptr<il::api::StreamBackend>(
        std::make_unique<il::slurm::SlurmStreams>(std::move(cfg), runner, backend));
  };
  return il::sidecar::RunSidecar(argc, argv, spec);
}
