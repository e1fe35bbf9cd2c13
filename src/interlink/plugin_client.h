// PluginClient: the Backend interface implemented over HTTP, i.e. interLink's client for
// a sidecar plugin (ours or upstream's), with upstream's methods and bodies:
//   POST /create  RetrievedPodData     POST /delete  v1.Pod
//   GET  /status  [v1.Pod] ([] = ping) GET  /getLogs LogStruct (streamed)
// The sidecar's non-2xx replies become Status values that keep its message: 4xx keep
// their code, 5xx become kBadGateway (502); an unreachable sidecar is kUnavailable (503)
// and a slow one kDeadlineExceeded (504).
//
// Thread-safety: thread-safe (HttpClient pools connections).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/backend.h"
#include "core/http.h"

namespace il::http {
class HttpClient;
}

namespace il::interlink {

struct PluginClientOptions {
  std::string url;         // http://host:port or unix:///path
  std::string token_file;  // bearer token for the sidecar (empty: none)
  http::TlsOptions tls;
  std::chrono::seconds timeout{120};
};

class PluginClient : public api::Backend {
 public:
  static Result<std::unique_ptr<PluginClient>> Create(PluginClientOptions options);
  ~PluginClient() override;

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext& ctx,
                                                const std::vector<boost::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;

 private:
  PluginClient(PluginClientOptions options, std::unique_ptr<http::HttpClient> client);
  Result<http::Response> Call(const api::CallContext& ctx, const std::string& method,
                              const std::string& path, std::string body);
  http::Headers BaseHeaders(const api::CallContext& ctx) const;

  PluginClientOptions opt_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace il::interlink
