#include "vk/interlink_client.h"

#include "core/http_status.h"
#include "core/token_auth.h"

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

Result<std::unique_ptr<InterlinkClient>> InterlinkClient::Create(InterlinkClientOptions options) {
  std::string base = InterlinkBaseUrl(options.url, options.port);
  http::ClientOptions co;
  co.base_url = base;
  co.tls = options.tls;
  co.timeout = options.timeout;
  co.max_idle_connections = 32;
  co.user_agent = "interlink-cpp-vk";
  IL_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(co));
  co.max_idle_connections = 0;
  IL_ASSIGN_OR_RETURN(auto log_client, http::HttpClient::Create(co));
  return std::unique_ptr<InterlinkClient>(new InterlinkClient(
      std::move(options), std::move(base), std::move(client), std::move(log_client)));
}

InterlinkClient::InterlinkClient(InterlinkClientOptions options, std::string base_url,
                                 std::unique_ptr<http::HttpClient> client,
                                 std::unique_ptr<http::HttpClient> log_client)
    : opt_(std::move(options)),
      base_url_(std::move(base_url)),
      client_(std::move(client)),
      log_client_(std::move(log_client)) {}

Result<http::ClientRequest> InterlinkClient::NewRequest(const char* method, const char* path,
                                                        const char* op, std::string body) {
  http::ClientRequest req;
  req.method = method;
  req.target = path;
  req.body = std::move(body);
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("InterLink-Http-Session",
                  std::string(op) + "#" + std::to_string(seq_.fetch_add(1) % 100000));
  if (!opt_.token_file.empty()) {
    auto token = TokenAuth::ReadTokenFile(opt_.token_file);
    if (!token.ok()) {
      // A missing token is a deployment problem that may be fixed at any time: retry.
      return Unavailable("cannot read VKTokenFile " + opt_.token_file + ": " +
                         token.status().message());
    }
    req.headers.Set("Authorization", "Bearer " + *token);
  }
  return req;
}

Result<http::Response> InterlinkClient::Call(const http::ClientRequest& req) {
  auto resp = client_->Do(req);
  if (!resp.ok()) {
    return resp.status().WithContext("interLink " + base_url_ + req.target);
  }
  if (resp->status < 200 || resp->status >= 300) {
    return StatusFromHttp(resp->status, resp->body).WithContext("interLink " + req.target);
  }
  return resp;
}

Result<api::CreateResult> InterlinkClient::Create(const api::PodCreateRequests& request) {
  IL_ASSIGN_OR_RETURN(auto req,
                      NewRequest("POST", "/create", "CreatePod", json::serialize(ToJson(request))));
  IL_ASSIGN_OR_RETURN(auto resp, Call(req));
  auto v = api::ParseJson(resp.body);
  if (!v.ok()) {
    return Status(StatusCode::kBadGateway,
                  "interLink /create: reply is not a CreateStruct: " + v.status().message());
  }
  return api::ParseCreateResult(*v);
}

Status InterlinkClient::Delete(const json::value& pod) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest("DELETE", "/delete", "DeletePod", json::serialize(pod)));
  return Call(req).status();
}

Result<std::vector<api::PodStatus>> InterlinkClient::GetStatus(
    const std::vector<json::value>& pods) {
  json::array list;
  list.reserve(pods.size());
  for (const auto& p : pods) list.push_back(p);
  IL_ASSIGN_OR_RETURN(std::string text, GetStatusText(json::serialize(list)));
  auto v = api::ParseJson(text);
  if (!v.ok()) {
    return Status(StatusCode::kBadGateway, "interLink /status: " + v.status().message());
  }
  if (v->is_null()) return std::vector<api::PodStatus>{};
  return api::ParsePodStatusList(*v);
}

Result<std::string> InterlinkClient::GetStatusText(const std::string& json_list) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest("GET", "/status", "GetStatus", json_list));
  req.timeout = opt_.status_timeout;
  IL_ASSIGN_OR_RETURN(auto resp, Call(req));
  return std::move(resp.body);
}

Status InterlinkClient::GetLogs(const api::LogRequest& request,
                                const std::function<bool(std::string_view)>& on_data,
                                const std::function<bool()>& cancelled) {
  IL_ASSIGN_OR_RETURN(auto req,
                      NewRequest("GET", "/getLogs", "GetLogs", json::serialize(ToJson(request))));
  // Follow streams may idle for long; only a finite read without follow has a deadline.
  req.timeout = request.opts.follow ? std::chrono::milliseconds(0) : opt_.timeout;
  int status = 0;
  std::string error_body;
  bool wrote = false;
  auto r = log_client_->Stream(
      req,
      [&](int s, const http::Headers&) {
        status = s;
        return true;
      },
      [&](std::string_view chunk) {
        if (status >= 200 && status < 300) {
          wrote = true;
          return on_data(chunk);
        }
        if (error_body.size() < 4096) error_body.append(chunk.substr(0, 4096));
        return true;
      },
      cancelled);
  if (!r.ok()) return wrote ? Status::Ok() : r.status().WithContext("interLink /getLogs");
  if (status < 200 || status >= 300) {
    return StatusFromHttp(status, error_body).WithContext("interLink /getLogs");
  }
  return Status::Ok();
}

PingResult InterlinkClient::Ping() {
  PingResult out;
  auto req = NewRequest("POST", "/pinglink", "PingInterLink", "");
  if (!req.ok()) {
    out.status = req.status();
    return out;
  }
  req->timeout = opt_.ping_timeout;
  auto resp = client_->Do(*req);
  if (!resp.ok()) {
    out.status = resp.status().WithContext("interLink " + base_url_);
    return out;
  }
  out.http_status = resp->status;
  out.body = resp->body.substr(0, size_t{64} * 1024);
  out.status = StatusFromHttp(resp->status, resp->body);
  if (out.status.ok()) {
    if (auto v = api::ParseJson(resp->body); v.ok() && v->is_object()) {
      if (auto p = api::ParsePingResponse(*v); p.ok()) out.response = std::move(*p);
    }
  }
  return out;
}

}  // namespace il::vk
