// FakeApiServer: a scripted stand-in for kube-apiserver in unit tests, on 127.0.0.1 with
// an OS-chosen port. Tests register handlers per "METHOD /path" (query ignored for routing)
// and inspect the requests received. Unrouted requests get a Kubernetes 404 Status.
//
// Thread-safety: register routes before the client runs; requests() is thread-safe.
//
// Lifetime: a handler runs on a server worker and may still be running after it replied,
// since the reply is what lets the client (and so the test body) go on. A handler that
// captures the test's locals by reference must be done with them before it replies: no
// lock_guard on a test-local mutex held across Reply (its unlock would write into the
// stack of a returned test body), no counter bumped after Reply. The server is stopped
// only when the fixture (or the FakeApiServer) is destroyed, after the test's locals.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/http_server.h"

namespace il::kube {

inline std::string KubeStatusBody(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":)" + std::to_string(code) +
         R"(,"reason":")" + reason + R"(","message":")" + message + "\"}";
}

class FakeApiServer {
 public:
  explicit FakeApiServer(http::TlsOptions tls = {}) {
    http::ServerOptions o;
    o.listen = tls.cert_file.empty() ? "http://127.0.0.1:0" : "https://127.0.0.1:0";
    o.tls = std::move(tls);
    server_ = std::make_unique<http::HttpServer>(o);
    server_->HandlePrefix("/", [this](const http::Request& r, http::ResponseWriter& w) {
      http::Handler h;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
        auto it = routes_.find(r.method + " " + r.path);
        if (it != routes_.end()) h = it->second;
      }
      if (h) return h(r, w);
      w.Reply(404, KubeStatusBody(404, "NotFound", r.path + " not found"));
    });
  }
  ~FakeApiServer() { server_->Stop(); }

  void On(const std::string& method, const std::string& path, http::Handler h) {
    std::lock_guard lock(mu_);
    routes_[method + " " + path] = std::move(h);
  }
  Status Start() { return server_->Start(); }
  std::string url() const { return server_->url(); }
  std::vector<http::Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::map<std::string, http::Handler> routes_;
  std::vector<http::Request> requests_;
};

}  // namespace il::kube
