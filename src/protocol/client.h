// protocol::Client: the one client of the interLink protocol. It implements api::Backend
// over HTTP on one hop (hop.h): the virtual kubelet talks to interLink with it, and
// interLink talks to its sidecar (ours or upstream's) with it.
//
// Every call sends Content-Type: application/json, the session header (the caller's, or
// "<Op>#<n>"), and "Authorization: Bearer <token file contents>" when a token file is set
// (core/token_auth.h TokenFile: re-read when it changes and at least once a second, so a
// rotated token is used at once; an unreadable file fails the call with kUnavailable
// instead of sending it without credentials). TLS: a CA to verify
// the server, a client certificate for mTLS.
//
// Errors keep their code across the hop (core/http_status.h): a reply carrying our JSON
// error body keeps the code it names; a foreign (upstream) reply maps by HTTP status, its
// 5xx becoming kBadGateway. An unreachable server is kUnavailable, a slow one
// kDeadlineExceeded.
//
// Thread-safety: thread-safe (HttpClient pools connections; log streams get their own).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "api/backend.h"
#include "api/stream_backend.h"
#include "core/http.h"
#include "core/http_client.h"
#include "protocol/hop.h"

namespace il {
class TokenFile;
}  // namespace il

namespace il::protocol {

struct ClientOptions {
  Hop hop = Hop::kPlugin;
  std::string url;         // http://host:port, https://host:port or unix:///path
  std::string token_file;  // bearer token to send (empty: none)
  http::TlsOptions tls;    // ca_file / insecure_skip_verify / cert_file+key_file (mTLS)
  std::chrono::milliseconds timeout{120000};
  std::chrono::milliseconds status_timeout{30000};
  std::chrono::milliseconds ping_timeout{10000};
  size_t max_idle_connections = 32;
  std::string user_agent = "interlink-cpp";
};

// The raw answer of a ping, for callers that report it (the vk's node conditions).
struct PingReply {
  int http_status = 0;                        // 0: not reachable
  std::string body;                           // first 64 KiB
  Status status;                              // OK for 2xx
  std::optional<api::PingResponse> response;  // when the body parses as one
};

class Client : public api::Backend, public api::StreamBackend {
 public:
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client() override;

  // api::Backend. On the interLink hop Create sends the flat PodCreateRequests
  // (api::FlattenPodData); CreatePod sends one as it is.
  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(
      const api::CallContext& ctx, const std::vector<boost::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;
  // The status watch of the next hop. Whether it has one is in its ping reply
  // (api::SupportsStatusWatch); a server without it answers 404 (kNotFound). Always asks
  // for the `statuses` feature; a server without it answers `with_statuses` false.
  bool SupportsStatusWatch() override { return true; }
  Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& gone) override;

  // api::StreamBackend: a WebSocket to the next hop (stream/hop_stream.h).
  Result<int> Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                   api::Channels& io) override;
  Status PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                     api::Channels& io) override;

  Result<api::CreateResult> CreatePod(const api::CallContext& ctx,
                                      const api::PodCreateRequests& request);
  // GET /status with an already serialised list; answers the reply's text.
  Result<std::string> GetStatusText(const api::CallContext& ctx, std::string json_list);
  PingReply PingRaw(const api::CallContext& ctx);

  const std::string& url() const { return opt_.url; }

 private:
  Client(ClientOptions options, std::unique_ptr<http::HttpClient> client,
         std::unique_ptr<http::HttpClient> stream_client);
  Result<http::ClientRequest> NewRequest(const api::CallContext& ctx, const char* op,
                                         const char* method, const char* path, std::string body);
  Result<http::Response> Call(const http::ClientRequest& req);
  Result<api::CreateResult> SendCreate(const api::CallContext& ctx, std::string body);

  ClientOptions opt_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::HttpClient> stream_client_;  // streams must not hold pooled connections
  std::unique_ptr<TokenFile> token_;                 // null without a token file
  std::atomic<uint64_t> seq_{0};
};

}  // namespace il::protocol
