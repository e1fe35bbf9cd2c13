#include "sidecars/docker/handler_runner.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>

#include "sidecars/docker/netns_dial.h"

namespace il::docker {

namespace {

constexpr size_t kMaxOutput = 10 * 1024;

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
  std::vector<std::string> args = {"exec", t.docker_name};
  args.insert(args.end(), h.command.begin(), h.command.end());
  auto r = cli_.Run(args, timeout);
  if (!r.ok()) return {Outcome::kError, r.status().message()};
  if (r->timed_out) {
    std::string cmd;
    for (const auto& a : h.command) cmd += (cmd.empty() ? "" : " ") + a;
    return Fail("command \"" + cmd + "\" timed out");
  }
  if (DaemonDown(*r)) return {Outcome::kError, CleanStderr(r->err)};
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
      return {Outcome::kError, "gRPC probes are not supported by docker-sd"};
    case api::HandlerKind::kTcpSocket:
    case api::HandlerKind::kHttpGet:
      break;
  }
  if (!h.port_error.empty()) return Fail(h.port_error);
  // Hooks ignore the scheme (kubelet 1.20: always plain HTTP).
  bool tls = h.kind == api::HandlerKind::kHttpGet && mode == HandlerMode::kProbe &&
             Lower(h.scheme) == "https";
  auto where = Destination(h, t);
  if (!where.ok()) return {Outcome::kError, where.status().message()};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fd = DialTcp(where->pid, where->host, h.port, timeout);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kPermissionDenied) {
      return {Outcome::kError, fd.status().message()};
    }
    return Fail(fd.status().message());
  }
  if (h.kind == api::HandlerKind::kTcpSocket) return {Outcome::kSuccess, ""};
  std::string url =
      (tls ? "https://" : "http://") + where->host + ":" + std::to_string(h.port) + h.path;
  Result<std::string> resp = std::string();
  if (tls) {
    resp = TlsExchange(fd->get(), where->host, ProbeRequest(h, where->host, mode), 64 * 1024,
                       deadline);
  } else if (Status s = WriteAll(fd->get(), ProbeRequest(h, where->host, mode), deadline);
             !s.ok()) {
    return Fail("Get \"" + url + "\": " + s.message());
  } else {
    resp = ReadUpTo(fd->get(), 64 * 1024, deadline);
  }
  if (!resp.ok()) return Fail("Get \"" + url + "\": " + resp.status().message());
  int code = ResponseStatus(*resp);
  if (code < 0) return Fail("Get \"" + url + "\": malformed HTTP response");
  if (mode == HandlerMode::kHook || (code >= 200 && code < 400)) {
    return {Outcome::kSuccess, ""};
  }
  return Fail("HTTP probe failed with statuscode: " + std::to_string(code));
}

}  // namespace il::docker
