// KubeletServer: the kubelet HTTPS API of the virtual node, on KubeletAddress:KubeletPort
// (what `kubectl logs` reaches through the API server):
//
//   GET /containerLogs/{ns}/{pod}/{container}  tailLines, limitBytes, sinceSeconds,
//       sinceTime, timestamps, previous, follow (chunked stream; ends when the client
//       goes away or the backend stream ends); validated as the kubelet does
//   GET /healthz, /pods (PodList of this node's pods, from the vk's own store),
//       /runningpods/
//   GET /stats/summary, /metrics/resource: only what is really known (pod and container
//       start times, node capacity); no invented usage numbers
//   /exec, /attach, /portForward, /run: 501
//
// TLS: KubeletCertFile/KeyFile (or APISERVER_CERT_LOCATION/KEY_LOCATION), else a
// self-signed certificate made at start.
//
// Every request but /healthz is authenticated and authorized as the kubelet does
// (vk/kubelet_auth.h): a client certificate signed by the client CA (optional at the TLS
// layer), or a bearer token checked with a TokenReview; then a SubjectAccessReview on
// nodes/{log,stats,metrics,proxy}. Anonymous callers get 401, refused ones 403. Only
// KubeletHTTP.Authentication / Authorization settings open it up (with a warning).
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
#include "vk/kubelet_auth.h"
#include "vk/kubelet_stream.h"
#include "vk/node_builder.h"
#include "vk/pod_store.h"

namespace il::vk {

struct KubeletServerOptions {
  std::string address = "0.0.0.0";
  int port = 10250;
  std::string cert_file;
  std::string key_file;
  // Client CA for x509 authentication (see ResolveClientCa): a file, or inline PEM that
  // is written to a private temporary file for the TLS layer. Neither: no x509.
  std::string client_ca_file;
  std::string client_ca_pem;
  std::string client_ca_source;  // for the start-up log
  KubeletAuthOptions auth;
  std::string node_name;
  std::string internal_ip = "127.0.0.1";
  StreamingOptions streaming;  // exec, attach, port-forward
};

// Parses the kubelet's log query parameters; kInvalidArgument like the kubelet.
Result<api::ContainerLogOpts> ParseLogOptions(const std::map<std::string, std::string>& query);

class KubeletServer {
 public:
  // `kube` answers the TokenReviews and SubjectAccessReviews (nothing else).
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
  void RegisterRoutes();
  std::unique_ptr<KubeletStreams> streams_;

  KubeletServerOptions opt_;
  kube::KubeApi& kube_;
  InterlinkApi& interlink_;
  PodStore& pods_;
  std::function<ResourceMap()> capacity_;
  std::unique_ptr<KubeletAuthFilter> auth_;
  std::unique_ptr<http::HttpServer> server_;
  bool self_signed_ = false;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace il::vk
