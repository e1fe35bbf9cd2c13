// mock-sd: the interLink sidecar with a simulated backend (docs/mock-sidecar.md).
// Like every sidecar it needs no arguments: configuration comes from
// InterLinkConfig.yaml and the environment (sidecars/common/sidecar_main.h).
#include "core/log.h"
#include "core/private_path.h"
#include "sidecars/common/sidecar_main.h"
#include "sidecars/mock/mock_backend.h"
#include "sidecars/mock/mock_exec.h"

namespace {

il::Result<std::unique_ptr<il::api::Backend>> MakeBackend(const il::InterLinkConfig& cfg) {
  IL_ASSIGN_OR_RETURN(il::mock::MockOptions opt, il::mock::MockOptionsFromConfig(cfg));
  if (opt.state_file != ":memory:") {
    // Its directory is created 0700; one another user owns or may write refuses start.
    IL_RETURN_IF_ERROR(il::CheckPrivateFile(opt.state_file));
  }
  IL_ASSIGN_OR_RETURN(auto store, il::mock::SqliteStateStore::Open(opt.state_file));
  il::log::Logger("mock-sd")->info("state in {}", opt.state_file);
  IL_ASSIGN_OR_RETURN(
      auto backend, il::mock::MockBackend::Open(std::move(opt), std::move(store), il::RealClock()));
  return std::unique_ptr<il::api::Backend>(std::move(backend));
}

}  // namespace

int main(int argc, char** argv) {
  il::sidecar::SidecarSpec spec;
  spec.name = "mock-sd";
  spec.service = "mock";
  spec.default_port = "4002";
  spec.make_backend = MakeBackend;
  spec.make_streams = [](const il::InterLinkConfig&, il::api::Backend&) {
    return il::Result<std::unique_ptr<il::api::StreamBackend>>(
        std::make_unique<il::mock::MockStreams>());
  };
  return il::sidecar::RunSidecar(argc, argv, spec);
}
