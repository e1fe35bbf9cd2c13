// KubeletStreams: the kubelet API's /exec, /attach and /portForward, served as the
// kubelet serves them behind the API server (reference kubelet-streaming.md §2-§4), and
// carried to the backend over the streaming extension (api/stream_backend.h).
//
// Transports towards kubectl / the API server:
//   SPDY/3.1 (POST, X-Stream-Protocol-Version): remotecommand v4, v3, v2, channel.k8s.io
//     and portforward.k8s.io; what kubectl <= 1.29 speaks and newer ones fall back to.
//   WebSocket (GET): v5/v4.channel.k8s.io, channel.k8s.io and their base64 forms for
//     exec and attach; SPDY/3.1+portforward.k8s.io (SPDY tunnelled in binary messages,
//     kubectl >= 1.31) for port-forward.
// The exit code goes back on the error stream as a metav1.Status (v4 and later).
//
// Every accepted request is written to the audit log (logger "audit"): who (the
// authenticated identity), which pod and container, which command; never stdin data.
//
// Thread-safety: Serve* run concurrently on the HTTP server's stream threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/stream_backend.h"
#include "core/http.h"
#include "core/http_server.h"
#include "core/status.h"
#include "vk/pod_store.h"

namespace il::vk {

struct StreamingOptions {
  // kubelet streamingConnectionIdleTimeout: a connection with no frame either way for
  // this long is closed.
  std::chrono::seconds idle_timeout{4 * 3600};
  // How long the client has to open all the streams of a request (kubelet: 30 s).
  std::chrono::seconds creation_timeout{30};
};

// What a /exec, /attach or /portForward path names.
struct StreamTarget {
  std::string ns, pod, uid, container;  // uid only when the path carries it
};
Result<StreamTarget> ParseStreamPath(std::string_view path);

// The kubelet's exec/attach query: command (repeated), input, output, error, tty.
Result<api::ExecRequest> ParseExecQuery(std::string_view target, bool attach);

// The first protocol of the client's X-Stream-Protocol-Version lines (each may hold a
// comma-separated list) that `supported` contains; empty when none.
std::string NegotiateProtocol(const http::Headers& headers,
                              const std::vector<std::string>& supported);

class KubeletStreams {
 public:
  KubeletStreams(StreamingOptions options, PodStore& pods, api::StreamBackend* backend);
  void ServeExec(const http::Request& req, http::ResponseWriter& w, bool attach);
  void ServePortForward(const http::Request& req, http::ResponseWriter& w);

 private:
  // The pod of a request, or the kubelet's error for it.
  Result<PodRecord> FindPod(const StreamTarget& t);
  void ExecSpdy(const http::Request& req, http::ResponseWriter& w, const api::ExecRequest& er,
                const std::string& protocol);
  void ExecWebSocket(const http::Request& req, http::ResponseWriter& w, const api::ExecRequest& er);
  void PortForwardSpdy(http::ByteStream& conn, const api::PortForwardRequest& base);

  StreamingOptions opt_;
  PodStore& pods_;
  api::StreamBackend* backend_;
};

}  // namespace il::vk
