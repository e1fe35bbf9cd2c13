#include "sidecars/common/sidecar_server.h"

#include <set>

#include "api/pod.h"
#include "api/writer_log_sink.h"
#include "core/http_server.h"
#include "core/http_status.h"
#include "core/log.h"
#include "core/token_auth.h"

namespace il::sidecar {
namespace json = boost::json;

namespace {

std::string SessionOf(const http::Request& r) {
  return r.headers.Get("InterLink-Http-Session");
}

}  // namespace

std::string SidecarListenUrl(const std::string& sidecar_url, const std::string& port) {
  if (sidecar_url.rfind("unix://", 0) == 0) return sidecar_url;
  return "http://0.0.0.0:" + port;
}

class SidecarServer::Impl {
 public:
  Impl(SidecarServerOptions o, api::Backend& b)
      : opt_(std::move(o)), backend_(b), auth_(opt_.token_file), metrics_(opt_.component),
        log_(log::Logger(opt_.component)) {}

  Status Start() {
    http::ServerOptions so;
    so.listen = opt_.listen;
    so.tls = opt_.tls;
    so.body_limit = opt_.body_limit;
    so.worker_threads = opt_.worker_threads;
    so.server_name = opt_.component;
    server_ = std::make_unique<http::HttpServer>(so);
    server_->SetFilter([this](const http::Request& r, http::ResponseWriter& w) {
      if (std::string s = SessionOf(r); !s.empty()) w.SetHeader("InterLink-Http-Session", s);
      if (r.path == "/healthz") return true;
      Status s = auth_.Check(r.headers);
      if (!s.ok()) {
        log_->warn("rejected {} {} from {}: {}", r.method, r.path, r.peer, s.message());
        w.ReplyError(s);
        return false;
      }
      return true;
    });
    server_->SetObserver([this](const http::Request& r, int status, std::chrono::microseconds d) {
      static const std::set<std::string> kKnown = {"/create", "/submit", "/delete", "/stop",
                                                   "/status", "/getLogs", "/pinglink",
                                                   "/healthz", "/metrics"};
      metrics_.ObserveRequest(kKnown.count(r.path) ? r.path : "other", r.method, status, d);
    });
    auto create = [this](const http::Request& r, http::ResponseWriter& w) { Create(r, w); };
    auto del = [this](const http::Request& r, http::ResponseWriter& w) { Delete(r, w); };
    server_->Handle("/create", create);
    server_->Handle("/submit", create);
    server_->Handle("/delete", del);
    server_->Handle("/stop", del);
    server_->Handle("/status", [this](const http::Request& r, http::ResponseWriter& w) { GetStatus(r, w); });
    server_->Handle("/getLogs", [this](const http::Request& r, http::ResponseWriter& w) { Logs(r, w); });
    server_->Handle("/pinglink", [this](const http::Request& r, http::ResponseWriter& w) { Ping(r, w); });
    server_->Handle("/healthz", [](const http::Request&, http::ResponseWriter& w) {
      w.Reply(200, "ok", "text/plain");
    });
    server_->Handle("/metrics", [this](const http::Request&, http::ResponseWriter& w) {
      w.Reply(200, metrics_.Render(), "text/plain; version=0.0.4");
    });
    IL_RETURN_IF_ERROR(server_->Start());
    log_->info("{} listening on {}{}", opt_.component, server_->url(),
               auth_.enabled() ? " (bearer token required)" : "");
    return Status::Ok();
  }

  void ReplyJson(http::ResponseWriter& w, const json::value& v) {
    w.Reply(200, json::serialize(v), "application/json");
  }

  void Fail(http::ResponseWriter& w, const http::Request& r, const Status& s) {
    if (s.code() >= StatusCode::kInternal) {
      metrics_.CountUpstreamError(r.path);
      log_->error("{} failed: {}", r.path, s.ToString());
    } else {
      log_->info("{} rejected: {}", r.path, s.ToString());
    }
    w.ReplyError(s);
  }

  Result<api::CreateResult> CreateOne(const api::CallContext& ctx, const json::value& v) {
    IL_ASSIGN_OR_RETURN(auto data, api::ParseRetrievedPodData(v));
    auto res = backend_.Create(ctx, data);
    if (res.ok()) {
      log_->info("created pod {}/{} uid={} jid={}", api::PodNamespace(data.pod),
                 api::PodName(data.pod), res->pod_uid, res->pod_jid);
    }
    return res;
  }

  void Create(const http::Request& r, http::ResponseWriter& w) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, body.status());
    api::CallContext ctx{SessionOf(r)};
    const json::value& v = *body;
    // Seed shape {"pods": {...}} and the plugin SDK's list shape are accepted too.
    if (v.is_object() && v.as_object().contains("pods") && !v.as_object().contains("pod")) {
      auto pods = api::ParsePodList(v);
      if (!pods.ok()) return Fail(w, r, pods.status());
      json::array out;
      for (const auto& p : *pods) {
        auto res = CreateOne(ctx, json::object{{"pod", p}, {"container", json::array()}});
        if (!res.ok()) return Fail(w, r, res.status());
        out.push_back(api::ToJson(*res));
      }
      return ReplyJson(w, out);
    }
    if (v.is_array()) {
      json::array out;
      for (const auto& e : v.as_array()) {
        auto res = CreateOne(ctx, e);
        if (!res.ok()) return Fail(w, r, res.status());
        out.push_back(api::ToJson(*res));
      }
      return ReplyJson(w, out);
    }
    auto res = CreateOne(ctx, v);
    if (!res.ok()) return Fail(w, r, res.status());
    ReplyJson(w, api::ToJson(*res));
  }

  void Delete(const http::Request& r, http::ResponseWriter& w) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, body.status());
    auto pods = api::ParsePodList(*body);
    if (!pods.ok()) return Fail(w, r, pods.status());
    if (pods->empty()) return Fail(w, r, InvalidArgument("no pod to delete"));
    api::CallContext ctx{SessionOf(r)};
    std::string done;
    for (const auto& p : *pods) {
      Status s = backend_.Delete(ctx, p);
      if (!s.ok()) return Fail(w, r, s);
      log_->info("deleted pod {}/{} uid={}", api::PodNamespace(p), api::PodName(p), api::PodUid(p));
      done += "Pod " + api::PodNamespace(p) + "/" + api::PodName(p) + " deleted\n";
    }
    w.Reply(200, done, "text/plain; charset=utf-8");
  }

  void GetStatus(const http::Request& r, http::ResponseWriter& w) {
    // Request-scoped arena: everything parsed here dies with this call.
    json::monotonic_resource arena;
    json::value v;
    if (!r.body.empty()) {
      auto body = api::ParseJson(r.body, &arena);
      if (!body.ok()) return Fail(w, r, body.status());
      v = std::move(*body);
    }
    auto pods = api::ParsePodList(v);
    if (!pods.ok()) return Fail(w, r, pods.status());
    api::CallContext ctx{SessionOf(r)};
    if (pods->empty()) return Ping(r, w);  // upstream's ping path
    auto st = backend_.GetStatus(ctx, *pods);
    if (!st.ok()) return Fail(w, r, st.status());
    ReplyJson(w, api::ToJson(*st));
  }

  void Logs(const http::Request& r, http::ResponseWriter& w) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, body.status());
    auto req = api::ParseLogRequest(*body);
    if (!req.ok()) return Fail(w, r, req.status());
    if (Status s = api::ValidateLogRequest(*req); !s.ok()) return Fail(w, r, s);
    api::WriterLogSink sink(w);
    Status s = backend_.GetLogs(api::CallContext{SessionOf(r)}, *req, sink);
    if (!s.ok() && !sink.started()) return Fail(w, r, s);
    if (!sink.started()) w.Reply(200, "", "text/plain; charset=utf-8");
  }

  void Ping(const http::Request& r, http::ResponseWriter& w) {
    auto p = backend_.Ping(api::CallContext{SessionOf(r)});
    if (!p.ok()) return Fail(w, r, p.status());
    ReplyJson(w, api::ToJson(*p));
  }

  SidecarServerOptions opt_;
  api::Backend& backend_;
  TokenAuth auth_;
  Metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<http::HttpServer> server_;
};

SidecarServer::SidecarServer(SidecarServerOptions o, api::Backend& b)
    : impl_(std::make_unique<Impl>(std::move(o), b)) {}
SidecarServer::~SidecarServer() { Stop(); }
Status SidecarServer::Start() { return impl_->Start(); }
void SidecarServer::Stop() {
  if (impl_->server_) impl_->server_->Stop();
}
std::string SidecarServer::url() const { return impl_->server_ ? impl_->server_->url() : ""; }

}  // namespace il::sidecar
