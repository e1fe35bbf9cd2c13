#include "interlink/api_server.h"

#include <atomic>
#include <random>
#include <set>

#include "api/pod.h"
#include "api/writer_log_sink.h"
#include "core/http_server.h"
#include "core/http_status.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/token_auth.h"
#include "interlink/pod_data.h"
#include "interlink/status_cache.h"

namespace il::interlink {
namespace json = boost::json;

namespace {

std::string NewSessionId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "Request-%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff), static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

const std::set<std::string>& KnownPaths() {
  static const std::set<std::string> k = {"/create", "/delete", "/status", "/getLogs",
                                          "/pinglink", "/updateCache", "/healthz", "/metrics"};
  return k;
}

}  // namespace

class ApiServer::Impl {
 public:
  Impl(ApiServerOptions o, api::Backend& b)
      : opt_(std::move(o)), backend_(b), cache_(b), auth_(opt_.token_file),
        metrics_("interlink"), log_(log::Logger("interlink")) {}

  Status Start() {
    http::ServerOptions so;
    so.listen = opt_.listen;
    so.tls = opt_.tls;
    so.body_limit = opt_.body_limit;
    so.worker_threads = opt_.worker_threads;
    so.server_name = "interlink";
    server_ = std::make_unique<http::HttpServer>(so);
    server_->SetFilter([this](const http::Request& r, http::ResponseWriter& w) {
      w.SetHeader("InterLink-Http-Session", Session(r));
      if (r.path == "/healthz") return true;
      if (Status s = auth_.Check(r.headers); !s.ok()) {
        if (limiter_.Allow()) log_->warn("rejected {} {} from {}: {}", r.method, r.path, r.peer, s.message());
        w.ReplyError(s);
        return false;
      }
      return true;
    });
    server_->SetObserver([this](const http::Request& r, int status, std::chrono::microseconds d) {
      metrics_.ObserveRequest(KnownPaths().count(r.path) ? r.path : "other", r.method, status, d);
    });
    Route("/create", &Impl::Create);
    Route("/delete", &Impl::Delete);
    Route("/status", &Impl::GetStatus);
    Route("/getLogs", &Impl::Logs);
    Route("/pinglink", &Impl::Ping);
    Route("/updateCache", &Impl::UpdateCache);
    server_->Handle("/healthz", [](const http::Request&, http::ResponseWriter& w) {
      w.Reply(200, "ok", "text/plain");
    });
    server_->Handle("/metrics", [this](const http::Request&, http::ResponseWriter& w) {
      w.Reply(200, metrics_.Render(), "text/plain; version=0.0.4");
    });
    IL_RETURN_IF_ERROR(server_->Start());
    log_->info("interLink API listening on {}{}", server_->url(),
               auth_.enabled() ? " (bearer token required)" : "");
    return Status::Ok();
  }

  using Method = void (Impl::*)(const http::Request&, http::ResponseWriter&, const api::CallContext&);
  void Route(const std::string& path, Method m) {
    server_->Handle(path, [this, m](const http::Request& r, http::ResponseWriter& w) {
      (this->*m)(r, w, api::CallContext{Session(r)});
    });
  }

  static std::string Session(const http::Request& r) {
    std::string s = r.headers.Get("InterLink-Http-Session");
    if (s.empty() || s.size() > 200) return NewSessionId();
    return s;
  }

  void Fail(http::ResponseWriter& w, const http::Request& r, const api::CallContext& ctx,
            const Status& s) {
    if (s.code() >= StatusCode::kInternal) {
      metrics_.CountUpstreamError(r.path);
      if (limiter_.Allow()) log_->error("[{}] {} failed: {}", ctx.session, r.path, s.ToString());
    } else {
      log_->info("[{}] {} rejected: {}", ctx.session, r.path, s.ToString());
    }
    w.ReplyError(s);
  }

  static Result<json::value> Body(const http::Request& r, bool allow_empty) {
    if (r.body.empty() && allow_empty) return json::value(nullptr);
    return api::ParseJson(r.body);
  }

  Result<api::CreateResult> CreateOne(const api::CallContext& ctx, const api::PodCreateRequests& req) {
    auto data = BuildPodData(req);
    cache_.Invalidate(api::PodUid(req.pod));
    auto res = backend_.Create(ctx, data);
    if (res.ok()) {
      log_->info("[{}] created {}/{} uid={} jid={}", ctx.session, api::PodNamespace(req.pod),
                 api::PodName(req.pod), api::PodUid(req.pod), res->pod_jid);
    }
    return res;
  }

  void Create(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = Body(r, false);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    const json::value& v = *body;
    if (v.is_object() && v.as_object().contains("pods") && !v.as_object().contains("pod")) {
      // The seed's shape: {"pods": {"<name>": pod}}.
      auto pods = api::ParsePodList(v);
      if (!pods.ok()) return Fail(w, r, ctx, pods.status());
      json::array out;
      for (const auto& p : *pods) {
        auto res = CreateOne(ctx, api::PodCreateRequests{p, {}, {}, {}, {}});
        if (!res.ok()) return Fail(w, r, ctx, res.status());
        out.push_back(api::ToJson(*res));
      }
      return w.Reply(200, json::serialize(out));
    }
    auto req = api::ParsePodCreateRequests(v);
    if (!req.ok()) return Fail(w, r, ctx, req.status());
    auto res = CreateOne(ctx, *req);
    if (!res.ok()) return Fail(w, r, ctx, res.status());
    w.Reply(200, json::serialize(api::ToJson(*res)));
  }

  void Delete(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = Body(r, false);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    auto pods = api::ParsePodList(*body);
    if (!pods.ok()) return Fail(w, r, ctx, pods.status());
    if (pods->empty()) return Fail(w, r, ctx, InvalidArgument("no pod to delete"));
    std::string text;
    for (const auto& p : *pods) {
      cache_.Invalidate(api::PodUid(p));
      if (Status s = backend_.Delete(ctx, p); !s.ok()) return Fail(w, r, ctx, s);
      log_->info("[{}] deleted {}/{} uid={}", ctx.session, api::PodNamespace(p), api::PodName(p),
                 api::PodUid(p));
      text += "Pod " + api::PodNamespace(p) + "/" + api::PodName(p) + " deleted\n";
    }
    w.Reply(200, text, "text/plain; charset=utf-8");
  }

  void GetStatus(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    // Request-scoped arena for the (possibly 10,000-pod) body; the cache keeps only what
    // the sidecar returned, which is parsed with the default resource.
    json::monotonic_resource arena;
    auto body = r.body.empty() ? Result<json::value>(json::value(nullptr)) : api::ParseJson(r.body, &arena);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    auto pods = api::ParsePodList(*body);
    if (!pods.ok()) return Fail(w, r, ctx, pods.status());
    auto st = cache_.Get(ctx, *pods);
    if (!st.ok()) return Fail(w, r, ctx, st.status());
    w.Reply(200, json::serialize(api::ToJson(*st)));
  }

  void Logs(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = Body(r, false);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    auto req = api::ParseLogRequest(*body);
    if (!req.ok()) return Fail(w, r, ctx, req.status());
    if (Status s = api::ValidateLogRequest(*req); !s.ok()) return Fail(w, r, ctx, s);
    api::WriterLogSink sink(w);
    Status s = backend_.GetLogs(ctx, *req, sink);
    if (!s.ok() && !sink.started()) return Fail(w, r, ctx, s);
    if (!sink.started()) w.Reply(200, "", "text/plain; charset=utf-8");
  }

  void Ping(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto p = backend_.Ping(ctx);
    if (!p.ok()) return Fail(w, r, ctx, p.status());
    w.Reply(200, json::serialize(api::ToJson(*p)));
  }

  void UpdateCache(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    std::string trimmed = r.body;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
    if (trimmed.empty()) {
      cache_.InvalidateAll();
      return w.Reply(200, "Updated cache", "text/plain");
    }
    auto v = api::ParseJson(trimmed);
    if (!v.ok()) {
      // Upstream's server reads a bare UID.
      if (!api::IsSafeUid(trimmed)) return Fail(w, r, ctx, InvalidArgument("body is neither a pod nor a UID"));
      cache_.Invalidate(trimmed);
      return w.Reply(200, "Updated cache", "text/plain");
    }
    if (v->is_string()) {
      cache_.Invalidate(std::string(v->as_string()));
      return w.Reply(200, "Updated cache", "text/plain");
    }
    auto pods = api::ParsePodList(*v);
    if (!pods.ok()) return Fail(w, r, ctx, pods.status());
    for (const auto& p : *pods) cache_.Invalidate(api::PodUid(p));
    w.Reply(200, "Updated cache", "text/plain");
  }

  ApiServerOptions opt_;
  api::Backend& backend_;
  StatusCache cache_;
  TokenAuth auth_;
  Metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  log::RateLimiter limiter_{std::chrono::seconds(5)};
  std::unique_ptr<http::HttpServer> server_;
};

ApiServer::ApiServer(ApiServerOptions o, api::Backend& b)
    : impl_(std::make_unique<Impl>(std::move(o), b)) {}
ApiServer::~ApiServer() { Stop(); }
Status ApiServer::Start() { return impl_->Start(); }
void ApiServer::Stop() {
  if (impl_->server_) impl_->server_->Stop();
}
std::string ApiServer::url() const { return impl_->server_ ? impl_->server_->url() : ""; }

}  // namespace il::interlink
