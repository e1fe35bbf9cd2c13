#include "sidecars/docker/docker_api.h"

#include <sys/stat.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "api/pod.h"
#include "core/http.h"

namespace il::docker {
namespace {

constexpr auto kLongCall = std::chrono::minutes(10);  // create/pull/import

bool FileExists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Filters(const json::object& filters) {
  return filters.empty() ? "" : "filters=" + http::UrlEncode(json::serialize(filters));
}

std::string Flag(bool b) { return b ? "1" : "0"; }

// Splits "repo[:tag]" / "repo@digest" into what POST /images/create wants.
std::pair<std::string, std::string> SplitReference(const std::string& ref) {
  if (size_t at = ref.find('@'); at != std::string::npos) {
    return {ref.substr(0, at), ref.substr(at + 1)};
  }
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return {ref.substr(0, colon), ref.substr(colon + 1)};
  }
  return {ref, "latest"};
}

// Reads JSON objects separated by newlines from a byte stream that may cut them anywhere.
class LineSplitter {
 public:
  // False when `on_line` asked to stop.
  template <class F>
  bool Feed(std::string_view data, F&& on_line) {
    buf_.append(data);
    size_t start = 0;
    for (size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!on_line(std::string_view(buf_).substr(start, nl - start))) return false;
    }
    buf_.erase(0, start);
    return true;
  }
  std::string rest() const { return buf_; }

 private:
  std::string buf_;
};

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
}

Result<DockerEndpoint> ResolveDockerEndpoint(std::string_view configured, const EnvLookup& env) {
  DockerEndpoint ep;
  std::string host = configured.empty() ? env("DOCKER_HOST") : std::string(configured);
  ep.pinned_version = env("DOCKER_API_VERSION");
  if (host.empty()) return ep;
  if (host.rfind("unix://", 0) == 0) {
    if (host.size() <= 7 || host[7] != '/') {
      return InvalidArgument("docker host " + host + ": unix:// needs an absolute path");
    }
    ep.url = host;
    return ep;
  }
  if (host.rfind("tcp://", 0) != 0) {
    return InvalidArgument("docker host " + host + ": only unix:// and tcp:// are supported");
  }
  std::string hostport = host.substr(6);
  if (size_t slash = hostport.find('/'); slash != std::string::npos) {
    if (hostport.substr(slash) != "/") {
      return InvalidArgument("docker host " + host + ": a base path is not supported");
    }
    hostport.erase(slash);
  }
  if (hostport.empty()) return InvalidArgument("docker host " + host + ": no host");
  std::string verify = env("DOCKER_TLS_VERIFY");
  std::string cert_path = env("DOCKER_CERT_PATH");
  if (verify.empty() && cert_path.empty()) {
    ep.url = "http://" + hostport;
    return ep;
  }
  if (cert_path.empty()) cert_path = env("HOME") + "/.docker";
  ep.url = "https://" + hostport;
  ep.tls.insecure_skip_verify = verify.empty();
  if (!ep.tls.insecure_skip_verify) {
    ep.tls.ca_file = cert_path + "/ca.pem";
    if (!FileExists(ep.tls.ca_file)) {
      return InvalidArgument("DOCKER_TLS_VERIFY is set but " + ep.tls.ca_file + " does not exist");
    }
  }
  if (FileExists(cert_path + "/cert.pem") && FileExists(cert_path + "/key.pem")) {
    ep.tls.cert_file = cert_path + "/cert.pem";
    ep.tls.key_file = cert_path + "/key.pem";
  }
  return ep;
}

Status ApiStatus(int http_status, std::string_view body, std::string_view what) {
  std::string msg;
  if (auto v = api::ParseJson(body); v.ok() && v->is_object()) {
    msg = api::GetString(*v, {"message"});
  }
  if (msg.empty()) msg = Trim(body.substr(0, 4096));
  if (msg.empty()) msg = "HTTP " + std::to_string(http_status);
  std::string text = std::string(what) + ": " + msg;
  switch (http_status) {
    case 400:
      return InvalidArgument(text);
    case 401:
      return {StatusCode::kUnauthenticated, text};
    case 403:
      return {StatusCode::kPermissionDenied, text};
    case 404:
      return NotFound(text);
    case 409:
      return FailedPrecondition(text);
    case 503:
      return Unavailable(text);
    default:
      return Internal(text);
  }
}

int CompareApiVersions(std::string_view a, std::string_view b) {
  auto parse = [](std::string_view v) {
    int major = 0, minor = 0;
    size_t dot = v.find('.');
    auto num = [](std::string_view s) {
      int n = 0;
      for (char c : s) {
        if (c < '0' || c > '9' || n > 100000) return 0;
        n = n * 10 + (c - '0');
      }
      return n;
    };
    major = num(v.substr(0, dot));
    if (dot != std::string_view::npos) minor = num(v.substr(dot + 1));
    return std::pair{major, minor};
  };
  auto pa = parse(a), pb = parse(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

bool StreamDemuxer::Feed(std::string_view data, const Sink& sink) {
  while (!data.empty()) {
    if (remaining_ == 0) {
      size_t take = std::min(data.size(), 8 - header_.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < 8) return true;
      auto b = [&](int i) { return static_cast<size_t>(static_cast<unsigned char>(header_[i])); };
      stream_ = static_cast<int>(b(0)) == 0 ? 1 : static_cast<int>(b(0));
      remaining_ = b(4) << 24 | b(5) << 16 | b(6) << 8 | b(7);
      header_.clear();
      continue;
    }
    size_t take = std::min(data.size(), remaining_);
    remaining_ -= take;
    if (!sink(stream_, data.substr(0, take))) return false;
    data.remove_prefix(take);
  }
  return true;
}

Result<std::unique_ptr<DockerApi>> DockerApi::Create(DockerEndpoint endpoint) {
  http::ClientOptions o;
  o.base_url = endpoint.url;
  o.tls = endpoint.tls;
  o.timeout = std::chrono::seconds(60);
  o.user_agent = "interlink-docker-sd";
  o.max_idle_connections = 16;
  IL_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(std::move(o)));
  return std::unique_ptr<DockerApi>(new DockerApi(std::move(endpoint), std::move(client)));
}

DockerApi::DockerApi(DockerEndpoint endpoint, std::unique_ptr<http::HttpClient> client)
    : endpoint_(std::move(endpoint)), client_(std::move(client)) {}
DockerApi::~DockerApi() = default;

Result<std::string> DockerApi::Version() {
  {
    MutexLock l(version_mu_);
    if (!version_.empty()) return version_;
  }
  std::string v = endpoint_.pinned_version;
  if (v.empty()) {
    IL_ASSIGN_OR_RETURN(json::value sv, ServerVersion());
    std::string server = api::GetString(sv, {"ApiVersion"});
    if (server.empty())
      return Internal("dockerd at " + endpoint_.url + ": /version has no ApiVersion");
    v = CompareApiVersions(server, kDockerApiNewest) < 0 ? server : std::string(kDockerApiNewest);
  }
  if (CompareApiVersions(v, kDockerApiOldest) < 0) {
    return FailedPrecondition("dockerd at " + endpoint_.url + " speaks Engine API " + v +
                              "; docker-sd needs " + std::string(kDockerApiOldest) +
                              " or newer (Docker 20.10)");
  }
  MutexLock l(version_mu_);
  version_ = v;
  return v;
}

Result<std::string> DockerApi::Prefix() {
  IL_ASSIGN_OR_RETURN(std::string v, Version());
  return "/v" + v;
}

Result<http::Response> DockerApi::Call(const std::string& method, const std::string& path,
                                       std::string body,
                                       std::optional<std::chrono::milliseconds> timeout) {
  IL_ASSIGN_OR_RETURN(std::string prefix, Prefix());
  http::ClientRequest r;
  r.method = method;
  r.target = prefix + path;
  if (!body.empty()) r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  r.timeout = timeout;
  auto res = client_->Do(r);
  if (!res.ok()) return res.status().WithContext("dockerd at " + endpoint_.url);
  return res;
}

Result<json::value> DockerApi::ServerVersion() {
  http::ClientRequest r;
  r.target = "/version";
  auto res = client_->Do(r);
  if (!res.ok()) return res.status().WithContext("dockerd at " + endpoint_.url);
  if (res->status != 200) return ApiStatus(res->status, res->body, "GET /version");
  return api::ParseJson(res->body);
}

Result<json::value> DockerApi::Info() {
  IL_ASSIGN_OR_RETURN(auto res, Call("GET", "/info"));
  if (res.status != 200) return ApiStatus(res.status, res.body, "docker info");
  return api::ParseJson(res.body);
}

Result<std::string> DockerApi::CreateContainer(const std::string& name, const json::object& body) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/containers/create?name=" + http::UrlEncode(name),
                                     json::serialize(body), kLongCall));
  if (res.status == 409) {
    return Status(StatusCode::kAlreadyExists, ApiStatus(409, res.body, "create " + name).message());
  }
  if (res.status != 201) return ApiStatus(res.status, res.body, "create " + name);
  IL_ASSIGN_OR_RETURN(json::value v, api::ParseJson(res.body));
  std::string id = api::GetString(v, {"Id"});
  if (id.empty()) return Internal("create " + name + ": no Id in the reply");
  return id;
}

Status DockerApi::StartContainer(const std::string& id) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/containers/" + http::UrlEncode(id) + "/start", "",
                                     std::chrono::minutes(5)));
  if (res.status == 204 || res.status == 304) return Status();
  return ApiStatus(res.status, res.body, "start " + id);
}

Result<json::value> DockerApi::InspectContainer(const std::string& id) {
  IL_ASSIGN_OR_RETURN(auto res, Call("GET", "/containers/" + http::UrlEncode(id) + "/json"));
  if (res.status != 200) return ApiStatus(res.status, res.body, "inspect " + id);
  return api::ParseJson(res.body);
}

Status DockerApi::StopContainer(const std::string& id, int64_t timeout_seconds) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST",
                                     "/containers/" + http::UrlEncode(id) +
                                         "/stop?t=" + std::to_string(timeout_seconds),
                                     "", std::chrono::seconds(timeout_seconds + 60)));
  if (res.status == 204 || res.status == 304) return Status();
  return ApiStatus(res.status, res.body, "stop " + id);
}

Status DockerApi::KillContainer(const std::string& id, const std::string& signal) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/containers/" + http::UrlEncode(id) +
                                                 "/kill?signal=" + http::UrlEncode(signal)));
  if (res.status == 204) return Status();
  return ApiStatus(res.status, res.body, "kill " + id);
}

Status DockerApi::RemoveContainer(const std::string& id, bool force, bool volumes) {
  IL_ASSIGN_OR_RETURN(auto res, Call("DELETE",
                                     "/containers/" + http::UrlEncode(id) +
                                         "?force=" + Flag(force) + "&v=" + Flag(volumes),
                                     "", std::chrono::minutes(2)));
  if (res.status == 204) return Status();
  return ApiStatus(res.status, res.body, "remove " + id);
}

Status DockerApi::ResizeContainer(const std::string& id, int rows, int cols) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/containers/" + http::UrlEncode(id) +
                                                 "/resize?h=" + std::to_string(rows) +
                                                 "&w=" + std::to_string(cols)));
  if (res.status == 200 || res.status == 204) return Status();
  return ApiStatus(res.status, res.body, "resize " + id);
}

Result<json::array> DockerApi::ListContainers(const json::object& filters, bool all) {
  std::string q = "/containers/json?all=" + Flag(all);
  if (!filters.empty()) q += "&" + Filters(filters);
  IL_ASSIGN_OR_RETURN(auto res, Call("GET", q));
  if (res.status != 200) return ApiStatus(res.status, res.body, "list containers");
  IL_ASSIGN_OR_RETURN(json::value v, api::ParseJson(res.body));
  if (!v.is_array()) return Internal("list containers: the reply is not a JSON array");
  return std::move(v.as_array());
}

Status DockerApi::StreamJsonLines(const std::string& method, const std::string& path,
                                  http::Headers headers, std::string body,
                                  const std::function<bool(const json::value&)>& on_object,
                                  const std::function<bool()>& cancelled, std::string_view what) {
  IL_ASSIGN_OR_RETURN(std::string prefix, Prefix());
  http::ClientRequest r;
  r.method = method;
  r.target = prefix + path;
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.timeout = std::chrono::milliseconds(0);  // no idle limit: events can be rare
  int status = 0;
  std::string error_body;
  Status parse_error;
  LineSplitter lines;
  auto on_line = [&](std::string_view line) {
    if (Trim(line).empty()) return true;
    auto v = api::ParseJson(line);
    if (!v.ok()) {
      parse_error = v.status().WithContext(what);
      return false;
    }
    return on_object(*v);
  };
  auto res = client_->Stream(
      r, [&](int s, const http::Headers&) { return (status = s), true; },
      [&](std::string_view chunk) {
        if (status != 200) {
          error_body.append(chunk.substr(0, 65536 - std::min<size_t>(65536, error_body.size())));
          return true;
        }
        return lines.Feed(chunk, on_line);
      },
      cancelled);
  if (!res.ok()) {
    if (cancelled && cancelled()) return Status();
    return res.status().WithContext("dockerd at " + endpoint_.url);
  }
  if (status != 200) return ApiStatus(status, error_body, what);
  if (!parse_error.ok()) return parse_error;
  std::string rest = lines.rest();
  if (!Trim(rest).empty()) on_line(rest);
  return parse_error;
}

Status DockerApi::Events(const json::object& filters,
                         const std::function<bool(const json::value&)>& on_event,
                         const std::function<bool()>& cancelled, const std::string& since) {
  std::string q = "/events?" + Filters(filters);
  if (!since.empty()) q += "&since=" + http::UrlEncode(since);
  return StreamJsonLines("GET", q, {}, "", on_event, cancelled, "docker events");
}

Status DockerApi::Logs(const std::string& id, const LogsOptions& o, const StreamDemuxer::Sink& sink,
                       const std::function<bool()>& cancelled) {
  IL_ASSIGN_OR_RETURN(std::string prefix, Prefix());
  http::ClientRequest r;
  r.target = prefix + "/containers/" + http::UrlEncode(id) +
             "/logs?stdout=" + Flag(o.stdout_stream) + "&stderr=" + Flag(o.stderr_stream) +
             "&follow=" + Flag(o.follow) + "&timestamps=" + Flag(o.timestamps) +
             "&tail=" + http::UrlEncode(o.tail.empty() ? "all" : o.tail);
  if (!o.since.empty()) r.target += "&since=" + http::UrlEncode(o.since);
  if (o.follow) r.timeout = std::chrono::milliseconds(0);
  int status = 0;
  std::string error_body;
  StreamDemuxer demux;
  bool stopped = false;
  auto res = client_->Stream(
      r, [&](int s, const http::Headers&) { return (status = s), true; },
      [&](std::string_view chunk) {
        if (status != 200) {
          if (error_body.size() < 65536) error_body.append(chunk);
          return true;
        }
        bool more = o.tty ? sink(1, chunk) : demux.Feed(chunk, sink);
        stopped = !more;
        return more;
      },
      cancelled);
  if (!res.ok()) {
    if (stopped || (cancelled && cancelled())) return Status();
    return res.status().WithContext("dockerd at " + endpoint_.url);
  }
  if (status != 200) return ApiStatus(status, error_body, "logs of " + id);
  return Status();
}

Result<json::value> DockerApi::InspectImage(const std::string& name) {
  IL_ASSIGN_OR_RETURN(auto res, Call("GET", "/images/" + http::UrlEncode(name) + "/json"));
  if (res.status != 200) return ApiStatus(res.status, res.body, "image inspect " + name);
  return api::ParseJson(res.body);
}

Status DockerApi::PullImage(const std::string& reference,
                            const std::function<void(const json::value&)>& progress) {
  auto [repo, tag] = SplitReference(reference);
  Status in_stream;
  Status s = StreamJsonLines(
      "POST", "/images/create?fromImage=" + http::UrlEncode(repo) + "&tag=" + http::UrlEncode(tag),
      {}, "",
      [&](const json::value& v) {
        if (std::string err = api::GetString(v, {"error"}); !err.empty()) {
          in_stream = Internal("pull " + reference + ": " + err);
          return false;
        }
        if (progress) progress(v);
        return true;
      },
      {}, "pull " + reference);
  IL_RETURN_IF_ERROR(s);
  return in_stream;
}

Status DockerApi::ImportImage(std::string tar, const std::string& repo, const std::string& tag,
                              const std::vector<std::string>& changes) {
  std::string q =
      "/images/create?fromSrc=-&repo=" + http::UrlEncode(repo) + "&tag=" + http::UrlEncode(tag);
  for (const auto& c : changes) q += "&changes=" + http::UrlEncode(c);
  http::Headers h;
  h.Set("Content-Type", "application/x-tar");
  Status in_stream;
  Status s = StreamJsonLines(
      "POST", q, std::move(h), std::move(tar),
      [&](const json::value& v) {
        if (std::string err = api::GetString(v, {"error"}); !err.empty()) {
          in_stream = Internal("import " + repo + ":" + tag + ": " + err);
          return false;
        }
        return true;
      },
      {}, "import " + repo + ":" + tag);
  IL_RETURN_IF_ERROR(s);
  return in_stream;
}

Result<std::string> DockerApi::CreateExec(const std::string& container, const ExecConfig& c) {
  if (c.cmd.empty()) return InvalidArgument("exec in " + container + ": empty command");
  json::object body{{"AttachStdin", c.attach_stdin},
                    {"AttachStdout", c.attach_stdout},
                    {"AttachStderr", c.attach_stderr},
                    {"Tty", c.tty}};
  json::array cmd, env;
  for (const auto& a : c.cmd) cmd.emplace_back(a);
  for (const auto& e : c.env) env.emplace_back(e);
  body["Cmd"] = std::move(cmd);
  if (!env.empty()) body["Env"] = std::move(env);
  if (!c.user.empty()) body["User"] = c.user;
  if (!c.working_dir.empty()) body["WorkingDir"] = c.working_dir;
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/containers/" + http::UrlEncode(container) + "/exec",
                                     json::serialize(body)));
  if (res.status != 201) return ApiStatus(res.status, res.body, "exec in " + container);
  IL_ASSIGN_OR_RETURN(json::value v, api::ParseJson(res.body));
  std::string id = api::GetString(v, {"Id"});
  if (id.empty()) return Internal("exec in " + container + ": no Id in the reply");
  return id;
}

Result<std::unique_ptr<http::ByteStream>> DockerApi::Hijack(const std::string& path,
                                                            std::string body) {
  IL_ASSIGN_OR_RETURN(std::string prefix, Prefix());
  http::ClientRequest r;
  r.method = "POST";
  r.target = prefix + path;
  r.headers.Set("Connection", "Upgrade");
  r.headers.Set("Upgrade", "tcp");
  if (!body.empty()) r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  IL_ASSIGN_OR_RETURN(auto up, client_->Upgrade(r));
  if (!up.stream) {
    if (up.response.status == 200) {
      return Internal(path + ": dockerd answered 200 instead of switching protocols");
    }
    return ApiStatus(up.response.status, up.response.body, path);
  }
  return std::move(up.stream);
}

Result<std::unique_ptr<http::ByteStream>> DockerApi::StartExec(const std::string& exec_id,
                                                               bool tty) {
  json::object body{{"Detach", false}, {"Tty", tty}};
  return Hijack("/exec/" + http::UrlEncode(exec_id) + "/start", json::serialize(body));
}

Status DockerApi::ResizeExec(const std::string& exec_id, int rows, int cols) {
  IL_ASSIGN_OR_RETURN(auto res, Call("POST", "/exec/" + http::UrlEncode(exec_id) +
                                                 "/resize?h=" + std::to_string(rows) +
                                                 "&w=" + std::to_string(cols)));
  if (res.status == 200 || res.status == 201 || res.status == 204) return Status();
  return ApiStatus(res.status, res.body, "exec resize");
}

Result<ExecState> DockerApi::InspectExec(const std::string& exec_id) {
  IL_ASSIGN_OR_RETURN(auto res, Call("GET", "/exec/" + http::UrlEncode(exec_id) + "/json"));
  if (res.status != 200) return ApiStatus(res.status, res.body, "exec inspect");
  IL_ASSIGN_OR_RETURN(json::value v, api::ParseJson(res.body));
  ExecState st;
  const auto* running = api::Find(v, {"Running"});
  st.running = running && running->is_bool() && running->as_bool();
  if (const auto* code = api::Find(v, {"ExitCode"}); code && code->is_int64()) {
    st.exit_code = static_cast<int>(code->as_int64());
  }
  st.pid = static_cast<int>(api::GetInt(v, {"Pid"}));
  return st;
}

Result<ExecOutput> DockerApi::RunExec(const std::string& container, const ExecConfig& config,
                                      std::chrono::milliseconds timeout, size_t max_output) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  IL_ASSIGN_OR_RETURN(std::string id, CreateExec(container, config));
  IL_ASSIGN_OR_RETURN(auto stream, StartExec(id, config.tty));
  // A watchdog closes the stream at the deadline: Read() has no timeout of its own.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, timed_out = false;
  std::thread watchdog([&] {
    std::unique_lock l(mu);
    if (!cv.wait_until(l, deadline, [&] { return done; })) {
      timed_out = true;
      stream->Close();
    }
  });
  ExecOutput out;
  StreamDemuxer demux;
  auto sink = [&](int s, std::string_view d) {
    std::string& dst = s == 2 ? out.err : out.out;
    dst.append(d.substr(0, max_output - std::min(max_output, dst.size())));
    return true;
  };
  char buf[16384];
  for (size_t n; (n = stream->Read(buf, sizeof buf)) > 0;) {
    std::string_view chunk(buf, n);
    if (config.tty) {
      sink(1, chunk);
    } else {
      demux.Feed(chunk, sink);
    }
  }
  {
    std::lock_guard l(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  stream.reset();
  if (timed_out) {
    out.timed_out = true;
    out.exit_code = -1;
    return out;
  }
  // The stream ends when the process does; the exit code may lag a little (the kubelet
  // polled up to 5 times).
  for (int i = 0; i < 50; ++i) {
    IL_ASSIGN_OR_RETURN(ExecState st, InspectExec(id));
    if (!st.running && st.exit_code) {
      out.exit_code = *st.exit_code;
      return out;
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  out.timed_out = true;
  out.exit_code = -1;
  return out;
}

Result<std::unique_ptr<http::ByteStream>> DockerApi::Attach(const std::string& container,
                                                            const AttachOptions& o) {
  return Hijack("/containers/" + http::UrlEncode(container) + "/attach?stream=1&stdin=" +
                    Flag(o.stdin_stream) + "&stdout=" + Flag(o.stdout_stream) +
                    "&stderr=" + Flag(o.stderr_stream) + "&logs=" + Flag(o.logs),
                "");
}

}  // namespace il::docker
