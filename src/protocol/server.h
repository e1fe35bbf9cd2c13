// protocol::Server: the one HTTP service of the interLink protocol. It exposes an
// api::Backend on one hop (hop.h): bin/interlink serves the interLink API with it (over
// a stack of Backend wrappers), and every sidecar serves the plugin API with it.
//
//   /create (/submit)  /delete (/stop)  /status  /getLogs  /pinglink  /healthz  /metrics
//   /updateCache (interLink API only)
//   /status/watch (when the backend supports the status watch: api/status_watch.h; on
//   the plugin hop the ping reply then advertises it)
//
// Any method is accepted on every path; GET and DELETE may carry bodies (upstream does
// both). The InterLink-Http-Session header is propagated, or created when missing, on
// every reply and passed to the backend. Errors are Status values rendered once
// (core/http_status.h), so a code survives every hop.
//
// Authentication runs on the request head before any body is read (core/authenticator.h);
// only /healthz is open. Rejected requests are logged at a limited rate. /getLogs runs
// as a stream route: follow-mode logs never hold a request worker and are capped in
// total and per peer (429 beyond); so does the /status/watch long poll. Routes that take no body
// accept at most 4 KiB.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/stream_backend.h"
#include "core/authenticator.h"
#include "core/http.h"
#include "core/status.h"
#include "protocol/hop.h"

namespace il::protocol {

struct ServerOptions {
  std::string component = "sidecar";  // logger and metrics name
  Hop hop = Hop::kPlugin;
  std::string listen = "http://127.0.0.1:4000";  // http://, https:// or unix://
  http::TlsOptions tls;  // https: cert_file/key_file; ca_file -> client certificates required
  // Decides who may call (a token file, OIDC, client certificates). Null: nobody is
  // checked, which the caller allows only on loopback (listener_policy.h).
  std::shared_ptr<Authenticator> authenticator;
  size_t body_limit = 128u << 20;
  int worker_threads = 32;
  size_t max_connections = 2048;
  size_t max_connections_per_peer = 1024;
  size_t max_streams = 1024;
  size_t max_streams_per_peer = 512;
  // kInterlink: what /updateCache does with the UIDs it names (empty list = everything).
  std::function<void(const std::vector<std::string>& uids)> update_cache;
  // The streaming extension (/exec, /attach, /portforward; docs/plugin-protocol.md).
  // Null: those paths answer 404 and, on the plugin hop, the ping reply advertises
  // nothing. `streaming_operations` lists what the plugin hop advertises.
  api::StreamBackend* streams = nullptr;
  std::vector<std::string> streaming_operations = {"exec", "attach", "portforward"};
};

class Server {
 public:
  Server(ServerOptions options, api::Backend& backend);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  void Stop();
  std::string url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace il::protocol
