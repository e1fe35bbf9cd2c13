#include "sidecars/docker/handler_runner.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>

#include "sidecars/docker/grpc_health.h"
#include "sidecars/docker/netns_dial.h"
#include "sidecars/docker/probe_url.h"

namespace il::docker {

namespace {

constexpr size_t kMaxOutput = size_t{10} * 1024;

std::string Cap(std::string s) {
  if (s.size() > kMaxOutput) s.resize(kMaxOutput);
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Where {
  int pid;
  std::string host;
};

// Where a network handler connects: the pod's namespace (its IP, else loopback) unless the
// handler names a host.
Result<Where> Destination(const api::Handler& h, const HandlerTarget& t) {
  if (!h.host.empty()) return Where{0, h.host};
  if (t.netns_pid > 0) return Where{t.netns_pid, t.pod_ip.empty() ? "127.0.0.1" : t.pod_ip};
  if (!t.pod_ip.empty()) return Where{0, t.pod_ip};
  return Unavailable("the pod's network namespace is not known yet (its container is not running)");
}

HandlerResult Fail(std::string text) { return {Outcome::kFailure, Cap(std::move(text))}; }

// A connection that could not be made: a failure, except when docker-sd itself lacks the
// privilege to enter the namespace (an error: the check never ran).
HandlerResult DialFailure(const Status& s) {
  if (s.code() == StatusCode::kPermissionDenied) return {Outcome::kError, s.message()};
  return Fail(s.message());
}

std::chrono::milliseconds Left(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()));
}

// One request and its response over TLS on a connected non-blocking socket. Certificates are
// not verified, as the kubelet's HTTPS probes do not verify them.
Result<std::string> TlsExchange(int fd, const std::string& host, std::string_view request,
                                size_t max, std::chrono::steady_clock::time_point deadline) {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c) SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  if (!ctx) return Internal("cannot create a TLS context");
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return Internal("cannot create a TLS session");
  if (host.find_first_not_of("0123456789.:") != std::string::npos) {
    SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  }
  auto wait = [&](int rc) -> Status {
    int err = SSL_get_error(ssl.get(), rc);
    short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
      char buf[256] = "connection closed";
      if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof(buf));
      ERR_clear_error();
      return Unavailable(std::string("tls: ") + buf);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) == 0) {
      return Status(StatusCode::kDeadlineExceeded, "context deadline exceeded");
    }
    return Status::Ok();
  };
  for (int rc; (rc = SSL_connect(ssl.get())) != 1;) IL_RETURN_IF_ERROR(wait(rc));
  for (size_t done = 0; done < request.size();) {
    int n = SSL_write(ssl.get(), request.data() + done, static_cast<int>(request.size() - done));
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else {
      IL_RETURN_IF_ERROR(wait(n));
    }
  }
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    int n = SSL_read(ssl.get(), buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl.get(), n);
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && !out.empty())) break;
    IL_RETURN_IF_ERROR(wait(n));
  }
  ERR_clear_error();
  return out;
}

// One GET of `url`, dialled from the namespace of `pid`: the raw response (at most 64 KiB).
// Errors carry the text the kubelet reports (dial errors as they are; others "Get "url": ...").
Result<std::string> Fetch(int pid, const ProbeUrl& url, const api::Handler& h, HandlerMode mode,
                          std::chrono::steady_clock::time_point deadline) {
  IL_ASSIGN_OR_RETURN(Fd fd, DialTcp(pid, url.host, url.port, Left(deadline)));
  api::Handler req = h;
  req.path = url.target;
  req.port = url.port;
  std::string request = ProbeRequest(req, url.host, mode);
  auto get = [&](const Status& s) {
    return Status(s.code(), "Get \"" + url.String() + "\": " + s.message());
  };
  Result<std::string> resp = std::string();
  if (url.scheme == "https") {
    resp = TlsExchange(fd.get(), url.host, request, size_t{64} * 1024, deadline);
  } else if (Status s = WriteAll(fd.get(), request, deadline); !s.ok()) {
    return get(s);
  } else {
    resp = ReadUpTo(fd.get(), size_t{64} * 1024, deadline);
  }
  if (!resp.ok()) return get(resp.status());
  return resp;
}

bool IsRedirect(int code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// httpGet, following redirects as the kubelet's client does (probes only): to the same host
// name, at most 10 requests; a redirect elsewhere (or a 3xx that is not followed) ends with that
// response, which counts as success with a ProbeWarning carrying its body.
HandlerResult HttpGet(const api::Handler& h, const Where& where,
                      std::chrono::steady_clock::time_point deadline, HandlerMode mode) {
  // Hooks ignore the scheme (kubelet 1.20: always plain HTTP).
  bool tls = mode == HandlerMode::kProbe && Lower(h.scheme) == "https";
  std::string path = h.path.empty() || h.path.front() != '/' ? "/" + h.path : h.path;
  ProbeUrl url{tls ? "https" : "http", where.host, h.port, path};
  api::Handler req = h;
  for (int requests = 1;; ++requests) {
    auto resp = Fetch(where.pid, url, req, mode, deadline);
    if (!resp.ok()) return DialFailure(resp.status());
    int code = ResponseStatus(*resp);
    if (code < 0) return Fail("Get \"" + url.String() + "\": malformed HTTP response");
    if (mode == HandlerMode::kHook) return {Outcome::kSuccess, ""};
    std::string location = IsRedirect(code) ? ResponseHeader(*resp, "Location") : "";
    if (location.empty() && code >= 301 && code <= 303) {
      return Fail("Get \"" + url.String() + "\": " + std::to_string(code) +
                  " response missing Location header");
    }
    if (!location.empty()) {
      auto next = ResolveLocation(url, location);
      if (!next.ok()) return Fail("Get \"" + location + "\": " + next.status().message());
      if (next->host == where.host) {
        if (requests >= 10) return Fail("Get \"" + location + "\": stopped after 10 redirects");
        if (location.find("//") != std::string::npos) {  // absolute: Host from the new URL
          std::erase_if(req.headers, [](const auto& kv) { return Lower(kv.first) == "host"; });
        }
        url = std::move(*next);
        continue;
      }
    }
    if (code >= 200 && code < 300) return {Outcome::kSuccess, ""};
    if (code >= 300 && code < 400) {
      HandlerResult r{Outcome::kSuccess, ResponseBody(*resp, kMaxOutput)};
      r.warning = true;
      return r;
    }
    return Fail("HTTP probe failed with statuscode: " + std::to_string(code));
  }
}

}  // namespace

std::string ProbeRequest(const api::Handler& h, const std::string& host, HandlerMode mode) {
  std::string path = h.path.empty() ? "/" : h.path;
  if (path.front() != '/') path.insert(0, "/");
  std::string host_header = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  host_header += ":" + std::to_string(h.port);
  std::string ua = "kube-probe/1.20", accept = "*/*", extra;
  bool has_accept = true;
  if (mode == HandlerMode::kProbe) {
    for (const auto& [k, v] : h.headers) {
      std::string lk = Lower(k);
      if (lk == "host") {
        host_header = v;
      } else if (lk == "user-agent") {
        ua = v;
      } else if (lk == "accept") {
        accept = v;
        has_accept = !v.empty();
      } else if (k.find_first_of("\r\n:") == std::string::npos &&
                 v.find_first_of("\r\n") == std::string::npos) {
        extra += k + ": " + v + "\r\n";
      }
    }
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host_header + "\r\n";
  req += "User-Agent: " + ua + "\r\n";
  if (has_accept) req += "Accept: " + accept + "\r\n";
  req += extra + "Connection: close\r\n\r\n";
  return req;
}

int ResponseStatus(std::string_view r) {
  if (r.substr(0, 5) != "HTTP/") return -1;
  auto sp = r.find(' ');
  if (sp == std::string_view::npos || sp + 4 > r.size()) return -1;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(r[i]))) return -1;
    code = code * 10 + (r[i] - '0');
  }
  return code;
}

HandlerResult DockerHandlerRunner::Exec(const api::Handler& h, const HandlerTarget& t,
                                        std::chrono::milliseconds timeout) {
  if (h.command.empty()) return Fail("exec handler has no command");
  ExecConfig config;
  config.cmd = h.command;
  auto r = api_.RunExec(t.docker_name, config, timeout, kMaxOutput);
  if (!r.ok()) {
    // dockerd down: an error (retried, no verdict); the container gone or stopped: a failure.
    if (r.status().code() == StatusCode::kUnavailable)
      return {Outcome::kError, r.status().message()};
    return Fail(r.status().message());
  }
  if (r->timed_out) {
    std::string cmd;
    for (const auto& a : h.command) cmd += (cmd.empty() ? "" : " ") + a;
    return Fail("command \"" + cmd + "\" timed out");
  }
  if (r->exit_code == 0) return {Outcome::kSuccess, Cap(r->out + r->err)};
  return Fail(r->out + r->err);
}

HandlerResult DockerHandlerRunner::Run(const api::Handler& h, const HandlerTarget& t,
                                       std::chrono::milliseconds timeout, HandlerMode mode) {
  switch (h.kind) {
    case api::HandlerKind::kExec:
      return Exec(h, t, timeout);
    case api::HandlerKind::kSleep:
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(std::chrono::seconds(h.sleep_seconds), timeout));
      return {Outcome::kSuccess, ""};
    case api::HandlerKind::kGrpc:
    case api::HandlerKind::kTcpSocket:
    case api::HandlerKind::kHttpGet:
      break;
  }
  if (!h.port_error.empty()) return Fail(h.port_error);
  auto where = Destination(h, t);
  if (!where.ok()) return {Outcome::kError, where.status().message()};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (h.kind == api::HandlerKind::kHttpGet) return HttpGet(h, *where, deadline, mode);
  auto fd = DialTcp(where->pid, where->host, h.port, timeout);
  if (!fd.ok()) return DialFailure(fd.status());
  if (h.kind == api::HandlerKind::kTcpSocket) return {Outcome::kSuccess, ""};
  std::string authority =
      where->host.find(':') != std::string::npos ? "[" + where->host + "]" : where->host;
  authority += ":" + std::to_string(h.port);  // grpc-go's :authority for a host:port target
  Status s = GrpcHealthCheck(fd->get(), authority, h.grpc_service, deadline, timeout);
  if (s.ok()) return {Outcome::kSuccess, ""};
  return Fail(s.message());
}

}  // namespace il::docker
