// InterlinkService: bin/interlink as a stack of Backends behind the protocol server.
//
//   protocol::Server (interLink API hop: authentication, limits, pod-data conversion of
//   /create from PodCreateRequests to RetrievedPodData)
//     -> StatusCache (batched, cached /status; /updateCache; delete tombstones)
//       -> protocol::Client (plugin hop: token or client certificate to the sidecar)
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <memory>
#include <string>

#include "interlink/status_cache.h"
#include "interlink/stream_gate.h"
#include "protocol/client.h"
#include "protocol/server.h"

namespace il::interlink {

struct InterlinkServiceOptions {
  protocol::ServerOptions server;  // hop is set to kInterlink
  protocol::ClientOptions plugin;  // hop is set to kPlugin
};

class InterlinkService {
 public:
  static Result<std::unique_ptr<InterlinkService>> Create(InterlinkServiceOptions options);
  ~InterlinkService();

  Status Start();
  void Stop();
  std::string url() const { return server_->url(); }
  StatusCache& cache() { return *cache_; }

 private:
  InterlinkService() = default;
  std::unique_ptr<protocol::Client> plugin_;
  std::unique_ptr<StatusCache> cache_;
  std::unique_ptr<StreamGate> streams_;  // exec, attach, port-forward to the plugin
  std::unique_ptr<protocol::Server> server_;
};

}  // namespace il::interlink
