// InterlinkApi: the virtual kubelet's view of the interLink API server (reference §2.3),
// and InterlinkClient, its implementation over il::http::HttpClient.
//
// InterlinkClient speaks the interLink API hop through protocol::Client (headers, token
// file re-read per call, session ids, methods and bodies, status codes that survive
// every hop: see protocol/client.h). Endpoints: unix:///path, http://host:port,
// https://host:port (server CA, insecure mode, or mTLS client certificate).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/status_watch.h"
#include "api/types.h"
#include "core/http_client.h"
#include "core/status.h"
#include "protocol/client.h"

namespace il::vk {

// What /pinglink answered (http_status 0: interLink unreachable).
using PingResult = protocol::PingReply;

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
  // The status watch (api/status_watch.h), when interLink's ping advertises it: answers
  // the UIDs whose status changed after `since`, or none at `timeout`. `cancelled` ends
  // the wait early (the vk stopping). kUnimplemented / kNotFound: not available.
  virtual Result<api::StatusChanges> WatchStatus(const std::string& since,
                                                 std::chrono::milliseconds timeout,
                                                 const std::function<bool()>& cancelled) {
    (void)since, (void)timeout, (void)cancelled;
    return Status(StatusCode::kUnimplemented, "no status watch");
  }
  // exec, attach and port-forward (the streaming extension); null when not available.
  virtual api::StreamBackend* streams() { return nullptr; }
};

struct InterlinkClientOptions {
  std::string url = "http://127.0.0.1";  // InterlinkURL
  std::string port = "3000";             // InterlinkPort (ignored for unix://)
  std::string token_file;                // VKTokenFile; empty: no Authorization header
  http::TlsOptions tls;                  // CA / insecure / client cert for https
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds status_timeout{30000};
  std::chrono::milliseconds ping_timeout{10000};
  // The vk sends its token, pods' Secrets and service-account tokens to interLink: over
  // plain http:// that is only allowed to a loopback address unless this is set
  // (AllowPlainHTTP in the vk's config), which logs a warning.
  bool allow_plain_http = false;
};

// The vk's side of the interLink API hop: protocol::Client (the one client of the
// protocol) behind the InterlinkApi seam the controllers and their fakes use.
class InterlinkClient : public InterlinkApi {
 public:
  // Fails when the URL is plain http:// to a non-loopback host and allow_plain_http is
  // not set. `warning` receives what to log when it is set.
  static Result<std::unique_ptr<InterlinkClient>> Create(const InterlinkClientOptions& options,
                                                         std::string* warning = nullptr);

  Result<api::CreateResult> Create(const api::PodCreateRequests& request) override;
  Status Delete(const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(
      const std::vector<boost::json::value>& pods) override;
  Result<std::string> GetStatusText(const std::string& json_list) override;
  Status GetLogs(const api::LogRequest& request,
                 const std::function<bool(std::string_view)>& on_data,
                 const std::function<bool()>& cancelled) override;
  PingResult Ping() override;
  Result<api::StatusChanges> WatchStatus(const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& cancelled) override {
    return client_->WatchStatus({}, since, timeout, cancelled);
  }
  api::StreamBackend* streams() override { return client_.get(); }

  const std::string& base_url() const { return client_->url(); }

 private:
  explicit InterlinkClient(std::unique_ptr<protocol::Client> client) : client_(std::move(client)) {}
  std::unique_ptr<protocol::Client> client_;
};

// Joins InterlinkURL and InterlinkPort the way upstream does: unix:// as is, otherwise
// host:port unless the URL already has a port.
std::string InterlinkBaseUrl(const std::string& url, const std::string& port);

}  // namespace il::vk
