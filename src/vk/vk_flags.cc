// Command-line flags of bin/vk: the seed's node-cli flags (reference §1.8) plus --config.
#include <CLI/CLI.hpp>

#include "vk/vk_config.h"

namespace il::vk {

Result<VkFlags> ParseVkFlags(int argc, const char* const* argv) {
  VkFlags f;
  CLI::App app{"vk: the interLink virtual kubelet"};
  app.option_defaults()->always_capture_default(false);
  app.add_option("--nodename", f.node_name, "Kubernetes node name (default virtual-kubelet)");
  app.add_option("--provider", f.provider, "Provider: knoc or interlink");
  app.add_option("--provider-config", f.provider_config,
                 "knoc-cfg.json: {\"<node>\": {\"cpu\",\"memory\",\"pods\"}}");
  app.add_option("--startup-timeout", f.startup_timeout,
                 "How long to wait for the API server at start (Go duration; 0 = forever)");
  app.add_option("--kubeconfig", f.kubeconfig, "kubeconfig path (default: in-cluster)");
  app.add_option("--config", f.config,
                 "InterLinkConfig.yaml with the VK keys (default $INTERLINKCONFIGPATH)");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error");
  app.add_option("--klog.v", f.klog_v, "klog verbosity (>= 4 means debug)");
  app.add_option("--pod-sync-workers", f.pod_sync_workers, "Pod worker threads (default 16)");
  app.add_flag("--disable-taint", f.disable_taint,
               "Do not add the virtual-kubelet.io/provider taint");
  // Accepted for compatibility with the seed's node-cli; they have no effect here.
  std::string ignored;
  bool ignored_flag = false;
  for (const char* name : {"--namespace", "--cluster-domain", "--os", "--metrics-addr", "--taint",
                           "--full-resync-period", "--trace-exporter", "--trace-service-name",
                           "--trace-sample-rate", "--klog.log_dir", "--klog.log_file"}) {
    app.add_option(name, ignored, "(accepted, no effect)")->group("Compatibility");
  }
  app.add_flag("--klog.logtostderr", ignored_flag, "(accepted; logs go to stderr)");
  app.add_flag("--enable-node-lease", ignored_flag, "(always on)")->group("Compatibility");
  app.add_flag("--klog.alsologtostderr", ignored_flag, "(accepted)")->group("Compatibility");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return FailedPrecondition(app.help());
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(e.what());
  }
  return f;
}

}  // namespace il::vk
