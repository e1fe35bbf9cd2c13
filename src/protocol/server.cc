#include "protocol/server.h"

#include <cctype>
#include <random>
#include <set>

#include "api/pod.h"
#include "api/pod_data.h"
#include "api/writer_log_sink.h"
#include "core/http_server.h"
#include "core/http_status.h"
#include "core/log.h"
#include "core/metrics.h"
#include "stream/hop_stream.h"

namespace il::protocol {
namespace json = boost::json;

namespace {

std::string NewSessionId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "Request-%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// The caller's session id if it is sane, else a new one.
std::string SessionOf(const http::Request& r) {
  std::string s = r.headers.Get(kSessionHeader);
  if (s.empty() || s.size() > 200) return NewSessionId();
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return NewSessionId();
  }
  return s;
}

const std::set<std::string>& KnownPaths() {
  static const std::set<std::string> k = {
      "/create",      "/submit",  "/delete",  "/stop", "/status", "/getLogs",     "/pinglink",
      "/updateCache", "/healthz", "/metrics", "/exec", "/attach", "/portforward", "/status/watch"};
  return k;
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions o, api::Backend& b)
      : opt_(std::move(o)),
        backend_(b),
        metrics_(opt_.component),
        log_(log::Logger(opt_.component)) {}

  using Method = void (Impl::*)(const http::Request&, http::ResponseWriter&,
                                const api::CallContext&);

  Status Start() {
    http::ServerOptions so;
    so.listen = opt_.listen;
    so.tls = opt_.tls;
    so.body_limit = opt_.body_limit;
    so.worker_threads = opt_.worker_threads;
    so.server_name = opt_.component;
    so.max_connections = opt_.max_connections;
    so.max_connections_per_peer = opt_.max_connections_per_peer;
    so.max_streams = opt_.max_streams;
    so.max_streams_per_peer = opt_.max_streams_per_peer;
    server_ = std::make_unique<http::HttpServer>(so);
    server_->SetFilter([this](http::Request& r, http::ResponseWriter& w) { return Admit(r, w); });
    server_->SetObserver([this](const http::Request& r, int status, std::chrono::microseconds d) {
      metrics_.ObserveRequest(KnownPaths().count(r.path) ? r.path : "other", r.method, status, d);
    });
    const http::RouteOptions no_body{kNoBodyLimit, false};
    Route("/create", &Impl::Create);
    Route("/delete", &Impl::Delete);
    Route("/status", &Impl::GetStatus);
    Route("/getLogs", &Impl::Logs, {0, true});
    Route("/pinglink", &Impl::Ping, no_body);
    if (opt_.hop == Hop::kPlugin) {
      Route("/submit", &Impl::Create);  // the seed's names
      Route("/stop", &Impl::Delete);
    } else {
      Route("/updateCache", &Impl::UpdateCache);
    }
    if (backend_.SupportsStatusWatch()) {
      // A long poll: it runs on a thread of its own (a stream route), never holding a
      // request worker, and counts against the stream limits (429 beyond them).
      Route(std::string(api::kStatusWatchPath), &Impl::WatchStatus, {kNoBodyLimit, true});
    }
    if (opt_.streams) {
      for (const char* p : {"/exec", "/attach", "/portforward"}) {
        server_->Handle(p,
                        [this](const http::Request& r, http::ResponseWriter& w) {
                          stream::ServeHopStream(
                              r, w, api::CallContext{SessionOf(r)}, *opt_.streams,
                              [this](const std::string& line) { audit_->info("audit: {}", line); });
                        },
                        {kNoBodyLimit, true});
      }
    }
    server_->Handle(
        "/healthz",
        [](const http::Request&, http::ResponseWriter& w) { w.Reply(200, "ok", "text/plain"); },
        no_body);
    server_->Handle(
        "/metrics",
        [this](const http::Request&, http::ResponseWriter& w) {
          w.Reply(200, metrics_.Render(), "text/plain; version=0.0.4");
        },
        no_body);
    IL_RETURN_IF_ERROR(server_->Start());
    log_->info("{} ({}) listening on {}; callers authenticated by {}", opt_.component,
               HopName(opt_.hop), server_->url(),
               opt_.authenticator ? opt_.authenticator->Describe()
                                  : std::string("nothing (local callers only)"));
    return Status::Ok();
  }

  void Route(const std::string& path, Method m, http::RouteOptions ro = {}) {
    server_->Handle(
        path,
        [this, m](const http::Request& r, http::ResponseWriter& w) {
          (this->*m)(r, w, api::CallContext{SessionOf(r)});
        },
        ro);
  }

  // Runs on the request head, before the body is read.
  bool Admit(http::Request& r, http::ResponseWriter& w) {
    // Replies carry the session the handler will use (same header value or a new one).
    std::string session = SessionOf(r);
    r.headers.Set(kSessionHeader, session);
    w.SetHeader(kSessionHeader, session);
    if (r.path == "/healthz" || !opt_.authenticator) return true;
    auto id = opt_.authenticator->Authenticate(r);
    if (!id.ok()) {
      if (limiter_.Allow()) {
        log_->warn("rejected {} {} from {}: {}", r.method, r.path, r.peer, id.status().message());
      }
      metrics_.CountUpstreamError("auth");
      w.ReplyError(id.status());
      return false;
    }
    r.identity = std::move(*id);
    return true;
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

  // Who asked, for the audit trail of creates and deletes.
  static std::string Caller(const http::Request& r) {
    if (r.identity.user.empty()) return "an unauthenticated local caller (" + r.peer + ")";
    return r.identity.user + " (" + r.identity.method + ", " + r.peer + ")";
  }

  Result<api::CreateResult> CreateOne(const http::Request& r, const api::CallContext& ctx,
                                      const api::RetrievedPodData& data) {
    auto res = backend_.Create(ctx, data);
    if (res.ok()) {
      log_->info("[{}] created {}/{} uid={} jid={} for {}", ctx.session,
                 api::PodNamespace(data.pod), api::PodName(data.pod), api::PodUid(data.pod),
                 res->pod_jid, Caller(r));
    }
    return res;
  }

  // One element of a /create body, as this hop sends it.
  Result<api::RetrievedPodData> DecodeCreate(const json::value& v) {
    if (opt_.hop == Hop::kInterlink) {
      IL_ASSIGN_OR_RETURN(auto req, api::ParsePodCreateRequests(v));
      return api::BuildPodData(req);
    }
    return api::ParseRetrievedPodData(v);
  }

  void Create(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    const json::value& v = *body;
    json::array out;
    auto one = [&](Result<api::RetrievedPodData> data) -> Status {
      if (!data.ok()) return data.status();
      IL_ASSIGN_OR_RETURN(auto res, CreateOne(r, ctx, *data));
      out.push_back(api::ToJson(res));
      return Status::Ok();
    };
    if (v.is_object() && v.as_object().contains("pods") && !v.as_object().contains("pod")) {
      // The seed's shape: {"pods": {"<name>": pod}}.
      auto pods = api::ParsePodList(v);
      if (!pods.ok()) return Fail(w, r, ctx, pods.status());
      for (const auto& p : *pods) {
        if (Status s = one(api::RetrievedPodData{p, {}, {}, {}}); !s.ok())
          return Fail(w, r, ctx, s);
      }
      return w.Reply(200, json::serialize(out));
    }
    if (v.is_array()) {  // the plugin SDK's list shape
      for (const auto& e : v.as_array()) {
        if (Status s = one(DecodeCreate(e)); !s.ok()) return Fail(w, r, ctx, s);
      }
      return w.Reply(200, json::serialize(out));
    }
    if (Status s = one(DecodeCreate(v)); !s.ok()) return Fail(w, r, ctx, s);
    w.Reply(200, json::serialize(out[0]));
  }

  void Delete(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    auto pods = api::ParsePodList(*body);
    if (!pods.ok()) return Fail(w, r, ctx, pods.status());
    if (pods->empty()) return Fail(w, r, ctx, InvalidArgument("no pod to delete"));
    std::string text;
    for (const auto& p : *pods) {
      if (Status s = backend_.Delete(ctx, p); !s.ok()) return Fail(w, r, ctx, s);
      log_->info("[{}] deleted {}/{} uid={} for {}", ctx.session, api::PodNamespace(p),
                 api::PodName(p), api::PodUid(p), Caller(r));
      text += "Pod " + api::PodNamespace(p) + "/" + api::PodName(p) + " deleted\n";
    }
    w.Reply(200, text, "text/plain; charset=utf-8");
  }

  void GetStatus(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    // Request-scoped arena for a (possibly 10,000-pod) body: nothing parsed from it
    // outlives this call.
    json::monotonic_resource arena;
    json::value v(&arena);  // on the arena too: a move between resources copies the tree
    if (!r.body.empty()) {
      auto body = api::ParseJson(r.body, &arena);
      if (!body.ok()) return Fail(w, r, ctx, body.status());
      v = std::move(*body);
    }
    auto pods = api::ParsePodList(v);
    if (!pods.ok()) return Fail(w, r, ctx, pods.status());
    // Upstream's plugins are pinged with GET /status []; the interLink API answers []
    // with every pod it knows (the backend decides).
    if (pods->empty() && opt_.hop == Hop::kPlugin) return Ping(r, w, ctx);
    auto st = backend_.GetStatus(ctx, *pods);
    if (!st.ok()) return Fail(w, r, ctx, st.status());
    w.Reply(200, json::serialize(api::ToJson(*st)));
  }

  void Logs(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto body = api::ParseJson(r.body);
    if (!body.ok()) return Fail(w, r, ctx, body.status());
    auto req = api::ParseLogRequest(*body);
    if (!req.ok()) return Fail(w, r, ctx, req.status());
    if (Status s = api::ValidateLogRequest(*req); !s.ok()) return Fail(w, r, ctx, s);
    api::WriterLogSink sink(w);
    Status s = backend_.GetLogs(ctx, *req, sink);
    if (!s.ok() && !sink.started()) return Fail(w, r, ctx, s);
    if (!sink.started()) w.Reply(200, "", "text/plain; charset=utf-8");
  }

  // GET /status/watch?since=<cursor>&timeout=<seconds> (api/status_watch.h).
  void WatchStatus(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto param = [&r](const char* k) {
      auto it = r.query.find(k);
      return it == r.query.end() ? std::string() : it->second;
    };
    std::string since = param("since");
    if (!api::IsWellFormedCursor(since)) {
      return Fail(w, r, ctx,
                  InvalidArgument("since is not a status watch cursor: '" + since.substr(0, 64) +
                                  "' (expected <epoch>.<seq> from an earlier reply, or empty)"));
    }
    auto timeout = api::ParseWatchTimeout(param("timeout"));
    if (!timeout.ok()) return Fail(w, r, ctx, timeout.status());
    const std::string want = param(api::kStatusWatchStatusesParam.data());
    auto c = backend_.WatchStatus(ctx, since, *timeout, [&w] { return w.ClientGone(); });
    if (!c.ok()) return Fail(w, r, ctx, c.status());
    if (want != "true" && want != "1") {
      c->with_statuses = false;
    } else if (opt_.hop == Hop::kPlugin && !c->with_statuses) {
      // The `statuses` feature: the sidecar's own statuses of the changed pods, asked by
      // UID (api/backend.h). Without them the caller asks /status, as in plain v1.
      std::vector<json::value> pods;
      pods.reserve(c->uids.size());
      for (const auto& uid : c->uids) pods.push_back(json::object{{"metadata", {{"uid", uid}}}});
      auto st = pods.empty() ? Result<std::vector<api::PodStatus>>(std::vector<api::PodStatus>{})
                             : backend_.GetStatus(ctx, pods);
      if (st.ok()) {
        c->statuses = std::move(*st);
        c->with_statuses = true;
      } else {
        log_->debug("[{}] status watch: statuses of {} pods: {}", ctx.session, pods.size(),
                    st.status().ToString());
      }
    }
    w.Reply(200, json::serialize(api::ToJson(*c)));
  }

  void Ping(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    auto p = backend_.Ping(ctx);
    if (!p.ok()) return Fail(w, r, ctx, p.status());
    // The interLink hop relays what its plugin advertised (the relay works only then).
    if (opt_.hop == Hop::kPlugin && backend_.SupportsStatusWatch()) {
      p->extensions[api::kStatusWatchExtension] = api::StatusWatchAdvertisement();
    }
    if (opt_.streams && opt_.hop == Hop::kPlugin) {
      json::array ops;
      for (const auto& o : opt_.streaming_operations) ops.emplace_back(o);
      p->extensions[api::kStreamingExtension] =
          json::object{{"version", api::kStreamingVersion}, {"operations", std::move(ops)}};
    }
    w.Reply(200, json::serialize(api::ToJson(*p)));
  }

  void UpdateCache(const http::Request& r, http::ResponseWriter& w, const api::CallContext& ctx) {
    std::string trimmed = r.body;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.pop_back();
    }
    std::vector<std::string> uids;
    if (!trimmed.empty()) {
      auto v = api::ParseJson(trimmed);
      if (!v.ok()) {
        // Upstream's server reads a bare UID.
        if (!api::IsSafeUid(trimmed)) {
          return Fail(w, r, ctx, InvalidArgument("body is neither a pod nor a UID"));
        }
        uids.push_back(trimmed);
      } else if (v->is_string()) {
        uids.emplace_back(v->as_string());
      } else {
        auto pods = api::ParsePodList(*v);
        if (!pods.ok()) return Fail(w, r, ctx, pods.status());
        for (const auto& p : *pods) uids.push_back(api::PodUid(p));
        if (uids.empty()) return w.Reply(200, "Updated cache", "text/plain");
      }
    }
    if (opt_.update_cache) opt_.update_cache(uids);
    w.Reply(200, "Updated cache", "text/plain");
  }

  ServerOptions opt_;
  api::Backend& backend_;
  Metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::logger> audit_ = log::Logger("audit");
  log::RateLimiter limiter_{std::chrono::seconds(5)};
  std::unique_ptr<http::HttpServer> server_;
};

Server::Server(ServerOptions o, api::Backend& b) : impl_(std::make_unique<Impl>(std::move(o), b)) {}
Server::~Server() { Stop(); }
Status Server::Start() { return impl_->Start(); }
void Server::Stop() {
  if (impl_->server_) impl_->server_->Stop();
}
std::string Server::url() const { return impl_->server_ ? impl_->server_->url() : ""; }

}  // namespace il::protocol
