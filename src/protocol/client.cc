#include "protocol/client.h"

#include "api/pod_data.h"
#include "core/http_client.h"
#include "core/http_status.h"
#include "core/token_auth.h"
#include "stream/hop_stream.h"

namespace il::protocol {
namespace json = boost::json;

Result<std::unique_ptr<Client>> Client::Create(ClientOptions o) {
  http::ClientOptions co;
  co.base_url = o.url;
  co.tls = o.tls;
  co.timeout = o.timeout;
  co.max_idle_connections = o.max_idle_connections;
  co.user_agent = o.user_agent;
  auto client = http::HttpClient::Create(co);
  if (!client.ok()) return client.status().WithContext(std::string(HopName(o.hop)) + " URL");
  co.max_idle_connections = 0;
  IL_ASSIGN_OR_RETURN(auto stream_client, http::HttpClient::Create(co));
  return std::unique_ptr<Client>(
      new Client(std::move(o), std::move(client).value(), std::move(stream_client)));
}

Client::Client(ClientOptions o, std::unique_ptr<http::HttpClient> c,
               std::unique_ptr<http::HttpClient> sc)
    : opt_(std::move(o)),
      client_(std::move(c)),
      stream_client_(std::move(sc)),
      token_(opt_.token_file.empty() ? nullptr : std::make_unique<TokenFile>(opt_.token_file)) {}
Client::~Client() = default;

Result<http::ClientRequest> Client::NewRequest(const api::CallContext& ctx, const char* op,
                                               const char* method, const char* path,
                                               std::string body) {
  http::ClientRequest req;
  req.method = method;
  req.target = path;
  req.body = std::move(body);
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set(kSessionHeader,
                  !ctx.session.empty()
                      ? ctx.session
                      : std::string(op) + "#" + std::to_string(seq_.fetch_add(1) % 100000));
  if (token_) {
    auto token = token_->Get();
    if (!token.ok()) {
      // A deployment problem that may be fixed at any time: fail (retry later), never
      // send the call without credentials.
      return Unavailable("cannot read the token file " + opt_.token_file + ": " +
                         token.status().message());
    }
    req.headers.Set("Authorization", "Bearer " + *token);
  }
  return req;
}

Result<http::Response> Client::Call(const http::ClientRequest& req) {
  auto resp = client_->Do(req);
  if (!resp.ok())
    return resp.status().WithContext(std::string(HopName(opt_.hop)) + " " + opt_.url + req.target);
  if (Status s = StatusFromUpstream(resp->status, resp->body); !s.ok()) {
    return s.WithContext(std::string(HopName(opt_.hop)) + " " + req.target);
  }
  return resp;
}

Result<api::CreateResult> Client::SendCreate(const api::CallContext& ctx, std::string body) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest(ctx, "CreatePod", "POST", "/create", std::move(body)));
  IL_ASSIGN_OR_RETURN(auto res, Call(req));
  auto v = api::ParseJson(res.body);
  if (!v.ok()) {
    return Status(StatusCode::kBadGateway,
                  "/create reply is not a CreateStruct: " + v.status().message());
  }
  if (v->is_array()) {
    if (v->as_array().empty()) return Status(StatusCode::kBadGateway, "/create replied []");
    return api::ParseCreateResult(v->as_array()[0]);
  }
  return api::ParseCreateResult(*v);
}

Result<api::CreateResult> Client::Create(const api::CallContext& ctx,
                                         const api::RetrievedPodData& data) {
  if (opt_.hop == Hop::kInterlink) return CreatePod(ctx, api::FlattenPodData(data));
  return SendCreate(ctx, json::serialize(api::ToJson(data)));
}

Result<api::CreateResult> Client::CreatePod(const api::CallContext& ctx,
                                            const api::PodCreateRequests& request) {
  if (opt_.hop == Hop::kPlugin) return Create(ctx, api::BuildPodData(request));
  return SendCreate(ctx, json::serialize(api::ToJson(request)));
}

Status Client::Delete(const api::CallContext& ctx, const json::value& pod) {
  // Upstream's vk sends DELETE to interLink, and interLink POST to its plugin.
  IL_ASSIGN_OR_RETURN(auto req,
                      NewRequest(ctx, "DeletePod", opt_.hop == Hop::kInterlink ? "DELETE" : "POST",
                                 "/delete", json::serialize(pod)));
  return Call(req).status();
}

Result<std::string> Client::GetStatusText(const api::CallContext& ctx, std::string json_list) {
  IL_ASSIGN_OR_RETURN(auto req,
                      NewRequest(ctx, "GetStatus", "GET", "/status", std::move(json_list)));
  req.timeout = opt_.status_timeout;
  IL_ASSIGN_OR_RETURN(auto resp, Call(req));
  return std::move(resp.body);
}

Result<std::vector<api::PodStatus>> Client::GetStatus(const api::CallContext& ctx,
                                                      const std::vector<json::value>& pods) {
  // Serialised piecewise: no copy of 10,000 pods just to build an array.
  std::string body = "[";
  for (size_t i = 0; i < pods.size(); ++i) {
    if (i) body += ',';
    body += json::serialize(pods[i]);
  }
  body += ']';
  IL_ASSIGN_OR_RETURN(std::string text, GetStatusText(ctx, std::move(body)));
  auto v = api::ParseJson(text);
  if (!v.ok()) return Status(StatusCode::kBadGateway, "/status reply: " + v.status().message());
  if (v->is_null()) return std::vector<api::PodStatus>{};
  auto list = api::ParsePodStatusList(*v);
  if (!list.ok())
    return Status(StatusCode::kBadGateway, "/status reply: " + list.status().message());
  return list;
}

Status Client::GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                       api::LogSink& sink) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest(ctx, "GetLogs", "GET", "/getLogs",
                                           json::serialize(api::ToJson(request))));
  // Follow streams may be silent for long: no idle limit then, but stop when the reader
  // leaves.
  req.timeout = request.opts.follow ? std::chrono::milliseconds(0) : opt_.timeout;
  int status = 0;
  std::string error_body;
  bool wrote = false;
  auto r = stream_client_->Stream(
      req,
      [&](int s, const http::Headers&) {
        status = s;
        return true;
      },
      [&](std::string_view chunk) {
        if (status >= 200 && status < 300) {
          wrote = true;
          return sink.Write(chunk);
        }
        if (error_body.size() < 65536) error_body.append(chunk.substr(0, 65536));
        return true;
      },
      [&] { return sink.Gone(); });
  if (!r.ok()) return wrote ? Status::Ok() : r.status().WithContext("/getLogs");
  return StatusFromUpstream(status, error_body);
}

Result<api::StatusChanges> Client::WatchStatus(const api::CallContext& ctx,
                                               const std::string& since,
                                               std::chrono::milliseconds timeout,
                                               const std::function<bool()>& gone) {
  // A cursor is hex, digits and a dot; anything else cannot be ours: start afresh.
  std::string target = std::string(api::kStatusWatchPath) +
                       "?since=" + (api::IsWellFormedCursor(since) ? since : std::string()) +
                       "&timeout=" + std::to_string(timeout.count() / 1000) + "." +
                       std::to_string(1000 + timeout.count() % 1000).substr(1) + "&" +
                       std::string(api::kStatusWatchStatusesParam) + "=true";
  IL_ASSIGN_OR_RETURN(auto req, NewRequest(ctx, "WatchStatus", "GET", target.c_str(), ""));
  req.timeout = timeout + opt_.status_timeout;  // the longest silence
  // Streamed, so that `gone` (the caller stopping) ends the wait: the connection is closed
  // then. An answered watch leaves its connection to the pool: the next watch, asked at
  // once, does not connect again.
  int status = 0;
  std::string body;
  auto r = client_->Stream(
      req,
      [&](int s, const http::Headers&) {
        status = s;
        return true;
      },
      [&](std::string_view chunk) {
        body.append(chunk);
        return body.size() < (64u << 20);
      },
      [&] { return gone && gone(); });
  if (!r.ok()) {
    return r.status().WithContext(std::string(HopName(opt_.hop)) + " " + opt_.url +
                                  std::string(api::kStatusWatchPath));
  }
  if (gone && gone()) return Status(StatusCode::kUnavailable, "status watch cancelled");
  if (Status s = StatusFromUpstream(status, body); !s.ok()) {
    return s.WithContext(std::string(HopName(opt_.hop)) + " " + std::string(api::kStatusWatchPath));
  }
  auto v = api::ParseJson(body);
  if (!v.ok())
    return Status(StatusCode::kBadGateway, "/status/watch reply: " + v.status().message());
  auto c = api::ParseStatusChanges(*v);
  if (!c.ok())
    return Status(StatusCode::kBadGateway, "/status/watch reply: " + c.status().message());
  return c;
}

PingReply Client::PingRaw(const api::CallContext& ctx) {
  PingReply out;
  // Upstream plugins are pinged with GET /status [], the interLink API at /pinglink.
  auto req = opt_.hop == Hop::kInterlink ? NewRequest(ctx, "PingInterLink", "POST", "/pinglink", "")
                                         : NewRequest(ctx, "Ping", "GET", "/status", "[]");
  if (!req.ok()) {
    out.status = req.status();
    return out;
  }
  req->timeout = opt_.ping_timeout;
  auto resp = client_->Do(*req);
  if (!resp.ok()) {
    out.status = resp.status().WithContext(std::string(HopName(opt_.hop)) + " " + opt_.url);
    return out;
  }
  out.http_status = resp->status;
  out.body = resp->body.substr(0, size_t{64} * 1024);
  out.status = StatusFromUpstream(resp->status, resp->body);
  if (out.status.ok()) {
    if (auto v = api::ParseJson(resp->body); v.ok() && v->is_object()) {
      if (auto p = api::ParsePingResponse(*v); p.ok()) out.response = std::move(*p);
    }
  }
  return out;
}

Result<api::PingResponse> Client::Ping(const api::CallContext& ctx) {
  PingReply r = PingRaw(ctx);
  if (!r.status.ok()) return r.status;
  if (r.response) return std::move(*r.response);
  // Older plugins answer with text.
  api::PingResponse p;
  p.status = r.body.substr(0, 256);
  return p;
}

Result<int> Client::Exec(const api::CallContext& ctx, const api::ExecRequest& request,
                         api::Channels& io) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest(ctx, request.attach ? "Attach" : "Exec", "GET",
                                           stream::ExecTarget(request).c_str(), ""));
  req.timeout = opt_.timeout;
  return stream::RelayExec(*stream_client_, std::move(req), io);
}

Status Client::PortForward(const api::CallContext& ctx, const api::PortForwardRequest& request,
                           api::Channels& io) {
  IL_ASSIGN_OR_RETURN(auto req, NewRequest(ctx, "PortForward", "GET",
                                           stream::PortForwardTarget(request).c_str(), ""));
  req.timeout = opt_.timeout;
  return stream::RelayPortForward(*stream_client_, std::move(req), io);
}

}  // namespace il::protocol
