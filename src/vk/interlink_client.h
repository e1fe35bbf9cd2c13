// InterlinkApi: the virtual kubelet's view of the interLink API server (reference §2.3),
// and InterlinkClient, its implementation over il::http::HttpClient.
//
// Every call sends `Authorization: Bearer <VKTokenFile contents>` (the file is re-read per
// call, so a refreshed token is picked up), `Content-Type: application/json` and
// `InterLink-Http-Session: <Op>#<n>`. Endpoints: unix:///path, http://host:port,
// https://host:port (server CA, insecure mode, or mTLS client certificate). Methods and
// bodies are upstream's: POST /create, DELETE /delete (pod JSON), GET /status (JSON list
// of pods, all of them in one call), GET /getLogs (streamed), POST /pinglink.
//
// Error mapping: connection failures and interLink's 503/504 -> kUnavailable /
// kDeadlineExceeded (retry later); any other non-2xx keeps the code and the sidecar's
// message (StatusFromHttp), e.g. a rejected pod -> kBadGateway / kInvalidArgument.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/types.h"
#include "core/http_client.h"
#include "core/status.h"

namespace il::vk {

// What /pinglink answered.
struct PingResult {
  int http_status = 0;  // 0: interLink unreachable
  std::string body;
  Status status;                              // OK for 2xx
  std::optional<api::PingResponse> response;  // when the body parses as a PingResponse
};

class InterlinkApi {
 public:
  virtual ~InterlinkApi() = default;
  virtual Result<api::CreateResult> Create(const api::PodCreateRequests& request) = 0;
  // kNotFound when the backend does not know the pod.
  virtual Status Delete(const boost::json::value& pod) = 0;
  // One batched call for all pods; an empty list asks for everything interLink knows.
  virtual Result<std::vector<api::PodStatus>> GetStatus(
      const std::vector<boost::json::value>& pods) = 0;
  // The same with the list already serialised ("[pod,pod,...]"), answering the reply's
  // text (a JSON list of PodStatus objects, or null): the pod controller keeps each pod's
  // entry serialised and parses only the reply entries that changed (status_scan.h), so
  // a sync of 10,000 running pods builds no per-pod JSON.
  virtual Result<std::string> GetStatusText(const std::string& json_list) {
    auto v = api::ParseJson(json_list);
    if (!v.ok() || !v->is_array()) return InvalidArgument("status body must be a JSON list");
    IL_ASSIGN_OR_RETURN(auto list, GetStatus(std::vector<boost::json::value>(v->as_array().begin(),
                                                                             v->as_array().end())));
    return boost::json::serialize(api::ToJson(list));
  }
  // Streams log bytes to `on_data` (return false to stop); `cancelled` is polled while
  // idle. An error is returned only when nothing was streamed.
  virtual Status GetLogs(const api::LogRequest& request,
                         const std::function<bool(std::string_view)>& on_data,
                         const std::function<bool()>& cancelled) = 0;
  virtual PingResult Ping() = 0;
};

struct InterlinkClientOptions {
  std::string url = "http://127.0.0.1";  // InterlinkURL
  std::string port = "3000";             // InterlinkPort (ignored for unix://)
  std::string token_file;                // VKTokenFile; empty: no Authorization header
  http::TlsOptions tls;                  // CA / insecure / client cert for https
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds status_timeout{30000};
  std::chrono::milliseconds ping_timeout{10000};
};

class InterlinkClient : public InterlinkApi {
 public:
  static Result<std::unique_ptr<InterlinkClient>> Create(InterlinkClientOptions options);

  Result<api::CreateResult> Create(const api::PodCreateRequests& request) override;
  Status Delete(const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(
      const std::vector<boost::json::value>& pods) override;
  Result<std::string> GetStatusText(const std::string& json_list) override;
  Status GetLogs(const api::LogRequest& request,
                 const std::function<bool(std::string_view)>& on_data,
                 const std::function<bool()>& cancelled) override;
  PingResult Ping() override;

  const std::string& base_url() const { return base_url_; }

 private:
  InterlinkClient(InterlinkClientOptions options, std::string base_url,
                  std::unique_ptr<http::HttpClient> client,
                  std::unique_ptr<http::HttpClient> log_client);
  // Builds the common headers; fails when the token file is set but unreadable.
  Result<http::ClientRequest> NewRequest(const char* method, const char* path, const char* op,
                                         std::string body);
  Result<http::Response> Call(const http::ClientRequest& req);

  InterlinkClientOptions opt_;
  std::string base_url_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::HttpClient> log_client_;  // streams must not hold pooled connections
  std::atomic<uint64_t> seq_{0};
};

// Joins InterlinkURL and InterlinkPort the way upstream does: unix:// as is, otherwise
// host:port unless the URL already has a port.
std::string InterlinkBaseUrl(const std::string& url, const std::string& port);

}  // namespace il::vk
