// ApiServer: the interLink REST API the virtual kubelet calls, forwarding to one sidecar
// through a Backend (normally a PluginClient).
//
//   /create      PodCreateRequests (or the seed's {"pods":{...}})  -> CreateStruct
//   /delete      v1.Pod                                             -> text
//   /status      [v1.Pod] (or {"pods":{...}})                       -> [PodStatus]
//   /getLogs     LogStruct                                          -> text stream
//   /pinglink    -                                                  -> PingResponse
//   /updateCache v1.Pod, [v1.Pod], a UID string, or nothing (= all)-> text
//   /healthz (no auth), /metrics
// Any method is accepted on every path; GET and DELETE may carry bodies. The
// InterLink-Http-Session header is propagated (or created) on every call. With a token
// file, requests need "Authorization: Bearer <token>": 401 without, 403 when wrong.
//
// Thread-safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <memory>
#include <string>

#include "api/backend.h"
#include "core/http.h"
#include "core/status.h"

namespace il::interlink {

struct ApiServerOptions {
  std::string listen = "http://127.0.0.1:3000";
  http::TlsOptions tls;     // https: cert/key; ca_file -> mTLS
  std::string token_file;   // VKTokenFile; empty = no bearer check
  size_t body_limit = 128u << 20;
  int worker_threads = 32;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, api::Backend& backend);
  ~ApiServer();
  Status Start();
  void Stop();
  std::string url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace il::interlink
