#include "vk/interlink_client.h"

#include "protocol/listener_policy.h"

namespace il::vk {
namespace json = boost::json;

std::string InterlinkBaseUrl(const std::string& url, const std::string& port) {
  if (url.rfind("unix://", 0) == 0) return url;
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  auto scheme_end = u.find("://");
  std::string host = scheme_end == std::string::npos ? u : u.substr(scheme_end + 3);
  if (scheme_end == std::string::npos) u = "http://" + u;
  bool has_port = host.find(':') != std::string::npos && host.back() != ']';
  if (has_port || port.empty()) return u;
  return u + ":" + port;
}

Result<std::unique_ptr<InterlinkClient>> InterlinkClient::Create(
    const InterlinkClientOptions& options, std::string* warning) {
  std::string base = InterlinkBaseUrl(options.url, options.port);
  if (base.rfind("http://", 0) == 0 && !protocol::IsLocalUrl(base)) {
    if (!options.allow_plain_http) {
      return FailedPrecondition(
          "refusing to send the vk's token, pods' Secrets and service-account tokens over "
          "plain HTTP to " +
          base +
          ": use https:// (TLS) or a unix:// socket, or set "
          "AllowPlainHTTP: true in the vk's configuration if the network in between is trusted");
    }
    if (warning) {
      *warning =
          "AllowPlainHTTP is set: the vk's token and pods' Secrets travel unencrypted to " + base;
    }
  }
  protocol::ClientOptions co;
  co.hop = protocol::Hop::kInterlink;
  co.url = base;
  co.token_file = options.token_file;
  co.tls = options.tls;
  co.timeout = options.timeout;
  co.status_timeout = options.status_timeout;
  co.ping_timeout = options.ping_timeout;
  co.user_agent = "interlink-cpp-vk";
  IL_ASSIGN_OR_RETURN(auto client, protocol::Client::Create(co));
  return std::unique_ptr<InterlinkClient>(new InterlinkClient(std::move(client)));
}

Result<api::CreateResult> InterlinkClient::Create(const api::PodCreateRequests& request) {
  return client_->CreatePod({}, request);
}

Status InterlinkClient::Delete(const json::value& pod) { return client_->Delete({}, pod); }

Result<std::vector<api::PodStatus>> InterlinkClient::GetStatus(
    const std::vector<json::value>& pods) {
  return client_->GetStatus({}, pods);
}

Result<std::string> InterlinkClient::GetStatusText(const std::string& json_list) {
  return client_->GetStatusText({}, json_list);
}

namespace {
class CallbackSink : public api::LogSink {
 public:
  CallbackSink(const std::function<bool(std::string_view)>& on_data,
               const std::function<bool()>& cancelled)
      : on_data_(on_data), cancelled_(cancelled) {}
  bool Write(std::string_view chunk) override { return on_data_(chunk); }
  bool Gone() override { return cancelled_ && cancelled_(); }

 private:
  const std::function<bool(std::string_view)>& on_data_;
  const std::function<bool()>& cancelled_;
};
}  // namespace

Status InterlinkClient::GetLogs(const api::LogRequest& request,
                                const std::function<bool(std::string_view)>& on_data,
                                const std::function<bool()>& cancelled) {
  CallbackSink sink(on_data, cancelled);
  return client_->GetLogs({}, request, sink);
}

PingResult InterlinkClient::Ping() { return client_->PingRaw({}); }

}  // namespace il::vk
