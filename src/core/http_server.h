// HttpServer: an HTTP/1.1 server on TCP, TLS (optionally mTLS) or a unix socket.
//
// Connections are Asio coroutines on one I/O thread; handlers run on a pool of worker
// threads so that a slow backend (a CLI call, a sidecar round trip) never stalls other
// connections. A handler answers through a ResponseWriter, either at once (Reply) or as
// a chunked stream (BeginStream / Write / Finish) for follow-mode logs.
//
// Any method reaches the handler of a path (upstream accepts GET and DELETE with bodies);
// the handler decides. Bodies larger than `body_limit` get 413, malformed requests 400,
// unknown paths 404, all with the JSON error body from http_status.h. Nothing a client
// sends can stop the process.
//
// Thread-safety: Handle() before Start(); Start/Stop from one thread; handlers run
// concurrently on the worker pool.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/byte_stream.h"
#include "core/http.h"
#include "core/status.h"

namespace il::http {

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void SetHeader(std::string_view name, std::string value) = 0;
  // Sends a complete response. Later calls are ignored.
  virtual void Reply(int status, std::string body,
                     std::string content_type = "application/json") = 0;
  // Sends a Status as the JSON error body with the mapped HTTP code.
  virtual void ReplyError(const Status& status) = 0;
  // Starts a chunked response. False if the client is gone.
  virtual bool BeginStream(int status, std::string content_type) = 0;
  // Sends one chunk (empty chunks are skipped). False if the client is gone.
  virtual bool Write(std::string_view chunk) = 0;
  // Ends the stream (also done automatically when the handler returns).
  virtual void Finish() = 0;
  // Whether the peer has closed its side; cheap, for follow loops that idle.
  virtual bool ClientGone() = 0;
  virtual bool replied() const = 0;
  // Answers `status` (101 Switching Protocols) with the headers set so far and hands the
  // connection over as a byte stream (WebSocket, SPDY). Null when a reply was already
  // sent or the client is gone. The stream must not outlive the handler; the server
  // closes the connection when the handler returns.
  virtual std::unique_ptr<ByteStream> Upgrade(int status = 101) {
    (void)status;
    return nullptr;
  }
};

using Handler = std::function<void(const Request&, ResponseWriter&)>;

struct RouteOptions {
  // Largest body this route accepts; 0 = ServerOptions::body_limit. Routes that take no
  // body (ping, healthz, metrics) set a small one.
  size_t body_limit = 0;
  // A long-lived response (follow-mode logs, exec): the handler runs on a thread of its
  // own, never on a request worker, and counts against max_streams and
  // max_streams_per_peer (beyond them: 429).
  bool stream = false;
};

struct ServerOptions {
  // http://host:port, https://host:port or unix:///path. Port 0 picks a free port.
  std::string listen = "http://127.0.0.1:0";
  TlsOptions tls;                  // for https: cert_file/key_file; ca_file enables mTLS
  size_t body_limit = 128u << 20;  // bytes
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds write_timeout{60};
  int worker_threads = 16;
  // Mode of the unix socket file (0660 keeps it to the owner's group).
  unsigned unix_socket_mode = 0660;
  // With tls.ca_file: verify a client certificate when one is presented, but do not
  // require one (the kubelet API also takes bearer tokens). Request::client_cert tells.
  bool client_cert_optional = false;
  // Open connections, in total and per peer address; beyond them a new connection is
  // answered 503 and closed.
  size_t max_connections = 2048;
  size_t max_connections_per_peer = 1024;
  // Concurrent stream routes (RouteOptions::stream), in total and per peer address.
  size_t max_streams = 1024;
  size_t max_streams_per_peer = 512;
  std::string server_name = "interlink-cpp";
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact path.
  void Handle(std::string path, Handler handler, RouteOptions route = {});
  // Registers a handler for every path starting with `prefix`.
  void HandlePrefix(std::string prefix, Handler handler, RouteOptions route = {});
  // Called once the request head is read and BEFORE the body is read (Request::body is
  // empty), on a worker thread, so it may block (TokenReview, a JWKS fetch). It
  // authenticates and authorizes: it may set Request::identity, or reply (401, 403) and
  // return false, in which case the body is never read and the connection is closed.
  void SetFilter(std::function<bool(Request&, ResponseWriter&)> filter);
  // Called after each request with path, method, status and duration (metrics).
  void SetObserver(std::function<void(const Request&, int status, std::chrono::microseconds)> fn);

  // Binds and starts serving in background threads.
  Status Start();
  // Stops accepting, closes connections, joins threads, removes the unix socket.
  void Stop();
  // The bound TCP port (after Start), 0 for unix sockets.
  int port() const;
  // The URL clients can use, e.g. http://127.0.0.1:41234.
  std::string url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace il::http
