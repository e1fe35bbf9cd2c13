// SidecarServer: the HTTP face every sidecar shares. It serves the plugin API that
// interLink (ours or upstream's) calls, validates every input, maps Status values to
// HTTP in one place, and hands the work to a Backend.
//
//   /create  (/submit, seed alias)  RetrievedPodData -> CreateStruct
//   /delete  (/stop, seed alias)    v1.Pod           -> text
//   /status                          [v1.Pod]         -> [PodStatus]; [] -> PingResponse
//   /getLogs                         LogStruct        -> text stream
//   /pinglink                        -               -> PingResponse
//   /healthz, /metrics
// Any method is accepted on every path. With a token file configured, callers must send
// "Authorization: Bearer <token>" (401 without, 403 when wrong); /healthz stays open.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <memory>
#include <string>

#include "api/backend.h"
#include "core/http.h"
#include "core/metrics.h"
#include "core/status.h"

namespace il::http {
class HttpServer;
}

namespace il::sidecar {

struct SidecarServerOptions {
  std::string component = "sidecar";     // logger and metrics name
  std::string listen = "http://127.0.0.1:4000";
  http::TlsOptions tls;
  std::string token_file;                 // empty: no authentication
  size_t body_limit = 128u << 20;
  int worker_threads = 32;
};

class SidecarServer {
 public:
  SidecarServer(SidecarServerOptions options, api::Backend& backend);
  ~SidecarServer();
  Status Start();
  void Stop();
  std::string url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Derives the listen URL of a sidecar from the shared config: SidecarURL when it is a
// unix socket, else http://0.0.0.0:<port>.
std::string SidecarListenUrl(const std::string& sidecar_url, const std::string& port);

}  // namespace il::sidecar
