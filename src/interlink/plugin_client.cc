#include "interlink/plugin_client.h"

#include "api/pod.h"
#include "core/http_client.h"
#include "core/http_status.h"
#include "core/token_auth.h"

namespace il::interlink {
namespace json = boost::json;

Result<std::unique_ptr<PluginClient>> PluginClient::Create(PluginClientOptions o) {
  http::ClientOptions co;
  co.base_url = o.url;
  co.tls = o.tls;
  co.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.timeout);
  co.user_agent = "interlink-cpp";
  auto client = http::HttpClient::Create(co);
  if (!client.ok()) return client.status().WithContext("sidecar URL");
  return std::unique_ptr<PluginClient>(new PluginClient(std::move(o), std::move(client).value()));
}

PluginClient::PluginClient(PluginClientOptions o, std::unique_ptr<http::HttpClient> c)
    : opt_(std::move(o)), client_(std::move(c)) {}
PluginClient::~PluginClient() = default;

http::Headers PluginClient::BaseHeaders(const api::CallContext& ctx) const {
  http::Headers h;
  h.Set("Content-Type", "application/json");
  if (!ctx.session.empty()) h.Set("InterLink-Http-Session", ctx.session);
  if (!opt_.token_file.empty()) {
    // Re-read per call so a rotated token is used at once.
    if (auto t = TokenAuth::ReadTokenFile(opt_.token_file); t.ok()) {
      h.Set("Authorization", "Bearer " + *t);
    }
  }
  return h;
}

Result<http::Response> PluginClient::Call(const api::CallContext& ctx, const std::string& method,
                                          const std::string& path, std::string body) {
  http::ClientRequest r;
  r.method = method;
  r.target = path;
  r.headers = BaseHeaders(ctx);
  r.body = std::move(body);
  auto res = client_->Do(r);
  if (!res.ok()) return res.status().WithContext("sidecar " + path);
  if (Status s = StatusFromUpstream(res->status, res->body); !s.ok()) return s;
  return res;
}

Result<api::CreateResult> PluginClient::Create(const api::CallContext& ctx,
                                               const api::RetrievedPodData& data) {
  IL_ASSIGN_OR_RETURN(auto res, Call(ctx, "POST", "/create", json::serialize(api::ToJson(data))));
  auto v = api::ParseJson(res.body);
  if (!v.ok()) {
    // Older plugins answer with text; the pod is created but has no job id.
    return api::CreateResult{api::PodUid(data.pod), ""};
  }
  if (v->is_array() && !v->as_array().empty()) return api::ParseCreateResult(v->as_array()[0]);
  return api::ParseCreateResult(*v);
}

Status PluginClient::Delete(const api::CallContext& ctx, const json::value& pod) {
  auto res = Call(ctx, "POST", "/delete", json::serialize(pod));
  return res.ok() ? Status::Ok() : res.status();
}

Result<std::vector<api::PodStatus>> PluginClient::GetStatus(
    const api::CallContext& ctx, const std::vector<json::value>& pods) {
  // Serialized piecewise: no copy of 10,000 pods just to build an array.
  std::string body = "[";
  for (size_t i = 0; i < pods.size(); ++i) {
    if (i) body += ',';
    body += json::serialize(pods[i]);
  }
  body += ']';
  IL_ASSIGN_OR_RETURN(auto res, Call(ctx, "GET", "/status", std::move(body)));
  auto v = api::ParseJson(res.body);
  if (!v.ok()) return Status(StatusCode::kBadGateway, "sidecar /status reply: " + v.status().message());
  auto list = api::ParsePodStatusList(*v);
  if (!list.ok()) return Status(StatusCode::kBadGateway, "sidecar /status reply: " + list.status().message());
  return list;
}

Status PluginClient::GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                             api::LogSink& sink) {
  http::ClientRequest r;
  r.method = "GET";
  r.target = "/getLogs";
  r.headers = BaseHeaders(ctx);
  r.body = json::serialize(api::ToJson(request));
  // Follow streams may be silent for long; no idle limit then, but stop when the reader
  // leaves.
  r.timeout = request.opts.follow ? std::chrono::milliseconds(0)
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(opt_.timeout);
  int status = 0;
  std::string error_body;
  auto res = client_->Stream(
      r, [&](int s, const http::Headers&) { status = s; return true; },
      [&](std::string_view chunk) {
        if (status >= 300) {
          if (error_body.size() < 65536) error_body.append(chunk);
          return true;
        }
        return sink.Write(chunk);
      },
      [&] { return sink.Gone(); });
  if (!res.ok()) return res.status().WithContext("sidecar /getLogs");
  if (status >= 300) return StatusFromUpstream(status, error_body);
  return Status::Ok();
}

Result<api::PingResponse> PluginClient::Ping(const api::CallContext& ctx) {
  IL_ASSIGN_OR_RETURN(auto res, Call(ctx, "GET", "/status", "[]"));
  auto v = api::ParseJson(res.body);
  if (!v.ok()) {
    api::PingResponse p;
    p.status = res.body.substr(0, 256);
    return p;
  }
  return api::ParsePingResponse(*v);
}

}  // namespace il::interlink
