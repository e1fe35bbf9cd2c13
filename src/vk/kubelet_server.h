// KubeletServer: the kubelet HTTPS API of the virtual node, on KubeletAddress:KubeletPort
// (what `kubectl logs` reaches through the API server):
//
//   GET /containerLogs/{ns}/{pod}/{container}  tailLines, limitBytes, sinceSeconds,
//       sinceTime, timestamps, previous, follow (chunked stream; ends when the client
//       goes away or the backend stream ends); validated as the kubelet does
//   GET /healthz, /pods (PodList of this node's pods), /runningpods/
//   GET /stats/summary, /metrics/resource: only what is really known (pod and container
//       start times, node capacity); no invented usage numbers
//   /exec, /attach, /portForward, /run: 501
//
// TLS: KubeletCertFile/KeyFile (or APISERVER_CERT_LOCATION/KEY_LOCATION), else a
// self-signed certificate made at start. With a client CA (KubeletHTTP.ClientCAFile or
// APISERVER_CA_CERT_LOCATION) every caller must present a certificate signed by it (the
// API server's kubelet client certificate); without one the API is open to anyone who
// can reach the port (as the virtual-kubelet library does), and a warning is logged.
//
// Thread-safety: Start/Stop from the owner; handlers run on the server's workers.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/types.h"
#include "core/http_server.h"
#include "core/status.h"
#include "kube/kube_api.h"
#include "vk/interlink_client.h"
#include "vk/node_builder.h"
#include "vk/pod_store.h"

namespace il::vk {

struct KubeletServerOptions {
  std::string address = "0.0.0.0";
  int port = 10250;
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  std::string node_name;
  std::string internal_ip = "127.0.0.1";
};

// Parses the kubelet's log query parameters; kInvalidArgument like the kubelet.
Result<api::ContainerLogOpts> ParseLogOptions(const std::map<std::string, std::string>& query);

class KubeletServer {
 public:
  KubeletServer(KubeletServerOptions options, kube::KubeApi& kube, InterlinkApi& interlink,
                PodStore& pods, std::function<ResourceMap()> capacity);
  ~KubeletServer();
  Status Start();
  void Stop();
  int port() const;
  bool self_signed() const { return self_signed_; }

  // Handlers (public for tests).
  void ServeLogs(const http::Request& req, http::ResponseWriter& w);
  void ServeStats(const http::Request& req, http::ResponseWriter& w);
  void ServeMetrics(const http::Request& req, http::ResponseWriter& w);
  void ServePods(const http::Request& req, http::ResponseWriter& w);

 private:
  KubeletServerOptions opt_;
  kube::KubeApi& kube_;
  InterlinkApi& interlink_;
  PodStore& pods_;
  std::function<ResourceMap()> capacity_;
  std::unique_ptr<http::HttpServer> server_;
  bool self_signed_ = false;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace il::vk
