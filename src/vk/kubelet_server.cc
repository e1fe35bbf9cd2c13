#include "vk/kubelet_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "api/pod.h"
#include "core/log.h"
#include "vk/self_signed.h"

namespace il::vk {
namespace json = boost::json;

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.kubelet");
  return l;
}

Result<bool> Bool(const std::map<std::string, std::string>& q, const char* key) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty() || it->second == "false" || it->second == "0")
    return false;
  if (it->second == "true" || it->second == "1") return true;
  return InvalidArgument(std::string(key) + " must be true or false, got '" + it->second + "'");
}

Result<int64_t> Int(const std::map<std::string, std::string>& q, const char* key, int64_t min,
                    int64_t def) {
  auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return def;
  try {
    size_t pos = 0;
    long long v = std::stoll(it->second, &pos);
    if (pos != it->second.size()) throw std::invalid_argument("trailing");
    if (v < min) {
      return InvalidArgument(std::string(key) + " must be >= " + std::to_string(min));
    }
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    return InvalidArgument(std::string(key) + " must be an integer, got '" + it->second + "'");
  }
}

}  // namespace

Result<api::ContainerLogOpts> ParseLogOptions(const std::map<std::string, std::string>& q) {
  api::ContainerLogOpts o;
  IL_ASSIGN_OR_RETURN(o.tail, Int(q, "tailLines", 0, -1));
  IL_ASSIGN_OR_RETURN(o.limit_bytes, Int(q, "limitBytes", 1, 0));
  IL_ASSIGN_OR_RETURN(o.since_seconds, Int(q, "sinceSeconds", 1, 0));
  IL_ASSIGN_OR_RETURN(o.timestamps, Bool(q, "timestamps"));
  IL_ASSIGN_OR_RETURN(o.follow, Bool(q, "follow"));
  IL_ASSIGN_OR_RETURN(o.previous, Bool(q, "previous"));
  if (auto it = q.find("sinceTime"); it != q.end() && !it->second.empty()) {
    if (!api::ParseRfc3339(it->second)) {
      return InvalidArgument("sinceTime must be RFC 3339, got '" + it->second + "'");
    }
    o.since_time = it->second;
  }
  if (o.since_seconds > 0 && !o.since_time.empty()) {
    return InvalidArgument("at most one of sinceTime or sinceSeconds may be specified");
  }
  return o;
}

KubeletServer::KubeletServer(KubeletServerOptions options, kube::KubeApi& kube,
                             InterlinkApi& interlink, PodStore& pods,
                             std::function<ResourceMap()> capacity)
    : opt_(std::move(options)),
      kube_(kube),
      interlink_(interlink),
      pods_(pods),
      capacity_(std::move(capacity)) {}

KubeletServer::~KubeletServer() { Stop(); }

namespace {

// Writes `content` to a new file only the owner can read (0600).
Status WritePrivateFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Internal("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 ? Status::Ok() : Internal("cannot write " + path);
}

// A private directory for key material the TLS layer reads from files at start.
class TempDir {
 public:
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  Result<std::string> Path() {
    if (path_.empty()) {
      char dir_template[] = "/tmp/vk-kubelet-XXXXXX";
      if (!::mkdtemp(dir_template)) return Internal("cannot create a temporary directory");
      path_ = dir_template;
    }
    return path_;
  }

 private:
  std::string path_;
};

void WarnIfOpen(const KubeletServerOptions& o, bool x509) {
  auto log = Log();
  if (o.auth.anonymous) {
    log->warn(
        "kubelet API: anonymous requests are allowed (KubeletHTTP.Authentication.Anonymous."
        "Enabled: true); they are authorized as system:anonymous");
  }
  if (o.auth.mode == KubeletAuthOptions::Mode::kAlwaysAllow) {
    log->warn(
        "kubelet API: authorization is off (KubeletHTTP.Authorization.Mode: AlwaysAllow): "
        "every authenticated caller{} can read every pod's logs",
        o.auth.anonymous ? ", and anyone reaching port " + std::to_string(o.port) + "," : "");
  }
  if (!x509) {
    log->warn(
        "kubelet API: no client CA (KubeletHTTP.ClientCAFile, APISERVER_CA_CERT_LOCATION, or a "
        "CA in the kubeconfig): the API server's kubelet client certificate cannot "
        "authenticate, so `kubectl logs` will get 401");
  }
  if (!x509 && !o.auth.webhook && !o.auth.anonymous) {
    log->warn(
        "kubelet API: no client CA and token webhook disabled: every request except "
        "/healthz will be refused with 401");
  }
}

}  // namespace

Status KubeletServer::Start() {
  http::ServerOptions so;
  std::string host =
      opt_.address.find(':') != std::string::npos ? "[" + opt_.address + "]" : opt_.address;
  so.listen = "https://" + host + ":" + std::to_string(opt_.port);
  so.tls.cert_file = opt_.cert_file;
  so.tls.key_file = opt_.key_file;
  so.worker_threads = 8;
  so.server_name = "interlink-vk";
  so.write_timeout = std::chrono::seconds(3600);  // follow streams
  TempDir tmp;                                    // removed once the server has loaded its files
  if (so.tls.cert_file.empty()) {
    IL_ASSIGN_OR_RETURN(PemPair pem, MakeSelfSignedCert(opt_.node_name, opt_.internal_ip));
    IL_ASSIGN_OR_RETURN(std::string dir, tmp.Path());
    so.tls.cert_file = dir + "/kubelet.crt";
    so.tls.key_file = dir + "/kubelet.key";
    IL_RETURN_IF_ERROR(WritePrivateFile(so.tls.cert_file, pem.cert));
    IL_RETURN_IF_ERROR(WritePrivateFile(so.tls.key_file, pem.key));
    self_signed_ = true;
  }
  so.tls.ca_file = opt_.client_ca_file;
  if (so.tls.ca_file.empty() && !opt_.client_ca_pem.empty()) {
    IL_ASSIGN_OR_RETURN(std::string dir, tmp.Path());
    so.tls.ca_file = dir + "/client-ca.crt";
    IL_RETURN_IF_ERROR(WritePrivateFile(so.tls.ca_file, opt_.client_ca_pem));
  }
  const bool x509 = !so.tls.ca_file.empty();
  so.client_cert_optional = x509;  // bearer tokens are accepted too
  WarnIfOpen(opt_, x509);
  auth_ = std::make_unique<KubeletAuthFilter>(kube_, opt_.auth, x509, opt_.node_name);
  server_ = std::make_unique<http::HttpServer>(so);
  server_->SetFilter([this](http::Request& r, http::ResponseWriter& w) { return (*auth_)(r, w); });
  RegisterRoutes();
  Status st = server_->Start();
  if (st.ok()) {
    Log()->info("kubelet API on https://{}:{} ({} certificate); callers authenticated by {}{}",
                opt_.address, server_->port(), self_signed_ ? "self-signed" : "configured",
                auth_->authenticator().Describe(),
                x509 ? " (client CA: " + opt_.client_ca_source + ")" : "");
  }
  return st;
}

namespace {
constexpr size_t kUpgradeBodyLimit = 4096;  // upgrades carry no body
}  // namespace

void KubeletServer::RegisterRoutes() {
  // Log reads (follow mode above all) are stream routes: they never hold a request
  // worker and are capped in total and per caller (429 beyond).
  server_->HandlePrefix(
      "/containerLogs/",
      [this](const http::Request& r, http::ResponseWriter& w) { ServeLogs(r, w); },
      http::RouteOptions{0, true});
  server_->Handle("/healthz", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(200, "ok", "text/plain");
  });
  server_->Handle("/pods",
                  [this](const http::Request& r, http::ResponseWriter& w) { ServePods(r, w); });
  server_->Handle("/pods/",
                  [this](const http::Request& r, http::ResponseWriter& w) { ServePods(r, w); });
  server_->Handle("/runningpods/",
                  [this](const http::Request& r, http::ResponseWriter& w) { ServePods(r, w); });
  for (const char* p : {"/stats/summary", "/stats/summary/"}) {
    server_->Handle(p,
                    [this](const http::Request& r, http::ResponseWriter& w) { ServeStats(r, w); });
  }
  for (const char* p : {"/metrics/resource", "/metrics/resource/"}) {
    server_->Handle(
        p, [this](const http::Request& r, http::ResponseWriter& w) { ServeMetrics(r, w); });
  }
  // exec, attach, port-forward: long-lived upgraded connections on stream threads
  // (kubelet_stream.h), authorized by the filter as nodes/proxy like the kubelet's.
  streams_ = std::make_unique<KubeletStreams>(opt_.streaming, pods_, interlink_.streams());
  for (const char* p : {"/exec/", "/attach/"}) {
    const bool attach = std::string_view(p) == "/attach/";
    server_->HandlePrefix(
        p,
        [this, attach](const http::Request& r, http::ResponseWriter& w) {
          streams_->ServeExec(r, w, attach);
        },
        http::RouteOptions{kUpgradeBodyLimit, true});
  }
  server_->HandlePrefix(
      "/portForward/",
      [this](const http::Request& r, http::ResponseWriter& w) { streams_->ServePortForward(r, w); },
      http::RouteOptions{kUpgradeBodyLimit, true});
  server_->HandlePrefix("/run/", [](const http::Request& r, http::ResponseWriter& w) {
    w.ReplyError(Status(StatusCode::kUnimplemented,
                        r.path + ": not implemented by the interLink virtual kubelet (use exec)"));
  });
}

void KubeletServer::Stop() {
  if (server_) server_->Stop();
}

int KubeletServer::port() const { return server_ ? server_->port() : 0; }

void KubeletServer::ServeLogs(const http::Request& req, http::ResponseWriter& w) {
  std::string rest = req.path.substr(std::string("/containerLogs/").size());
  std::vector<std::string> parts;
  for (size_t pos = 0; pos <= rest.size();) {
    auto slash = rest.find('/', pos);
    if (slash == std::string::npos) slash = rest.size();
    parts.push_back(rest.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return w.ReplyError(NotFound("expected /containerLogs/{namespace}/{pod}/{container}"));
  }
  const std::string &ns = parts[0], &name = parts[1], &container = parts[2];
  auto opts = ParseLogOptions(req.query);
  if (!opts.ok()) return w.ReplyError(opts.status());
  auto rec = pods_.FindByName(ns, name);
  if (!rec) return w.ReplyError(NotFound("pod " + ns + "/" + name + " is not on this node"));
  bool known = false;
  for (const auto* list : {&api::Containers(rec->view), &api::InitContainers(rec->view)}) {
    for (const auto& c : *list) known = known || api::GetString(c, {"name"}) == container;
  }
  if (!known) {
    return w.ReplyError(
        InvalidArgument("container " + container + " is not valid for pod " + name));
  }
  if (rec->backend != BackendState::kCreated && rec->backend != BackendState::kDeleted) {
    return w.ReplyError(InvalidArgument("container \"" + container + "\" in pod \"" + name +
                                        "\" is waiting to start: the backend does not run it"));
  }
  api::LogRequest lr{ns, rec->uid, name, container, *opts};
  if (opts->tail == 0 && !opts->follow) return w.Reply(200, "", "text/plain");
  if (opts->tail < 0) lr.opts.tail = 0;  // unset: everything
  // Upstream rejects Tail together with Bytes: apply the byte limit here instead.
  int64_t limit = 0;
  if (lr.opts.tail > 0 && lr.opts.limit_bytes > 0) {
    limit = lr.opts.limit_bytes;
    lr.opts.limit_bytes = 0;
  }
  bool began = false;
  int64_t sent = 0;
  if (opts->follow) began = w.BeginStream(200, "text/plain");  // the API server waits for headers
  auto on_data = [&](std::string_view chunk) {
    if (!began && !(began = w.BeginStream(200, "text/plain"))) return false;
    if (limit > 0) {
      chunk = chunk.substr(0, static_cast<size_t>(std::max<int64_t>(0, limit - sent)));
      sent += static_cast<int64_t>(chunk.size());
      if (!w.Write(chunk)) return false;
      return sent < limit;
    }
    return w.Write(chunk);
  };
  Status st = interlink_.GetLogs(lr, on_data, [&] { return w.ClientGone(); });
  if (!began) {
    if (st.ok()) return w.Reply(200, "", "text/plain");
    return w.ReplyError(st);
  }
  if (!st.ok() && sent == 0) w.Write("error: " + st.message() + "\n");
  w.Finish();
}

void KubeletServer::ServePods(const http::Request&, http::ResponseWriter& w) {
  // From the vk's own store: no List against the API server per request.
  json::array items;
  for (auto& v : pods_.Views()) items.push_back(std::move(v));
  json::object out{{"kind", "PodList"},
                   {"apiVersion", "v1"},
                   {"metadata", json::object{}},
                   {"items", std::move(items)}};
  w.Reply(200, json::serialize(out));
}

}  // namespace il::vk
