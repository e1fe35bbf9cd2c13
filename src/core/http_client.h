// HttpClient: a blocking HTTP/1.1 client over TCP, TLS (optionally mTLS) or a unix
// socket, with keep-alive connection reuse, timeouts, body-size limits and streamed
// response bodies (watch streams, follow-mode logs).
//
// Each call blocks the calling thread; each pooled connection owns a private
// io_context, so calls from different threads run in parallel without sharing one.
// Errors come back as Status: connection failures kUnavailable, timeouts
// kDeadlineExceeded, oversize bodies kPayloadTooLarge. A non-2xx reply is NOT an error
// here: the caller gets the Response and decides (see StatusFromHttp).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/byte_stream.h"
#include "core/http.h"
#include "core/status.h"

namespace il::http {

struct ClientOptions {
  std::string base_url;  // http://h:p, https://h:p, unix:///path
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{5000};
  // Whole-request deadline for Do(); for Stream() the longest silence between chunks.
  std::chrono::milliseconds timeout{60000};
  size_t max_body = 512u << 20;
  size_t max_idle_connections = 64;
  std::string user_agent = "interlink-cpp";
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  // overrides ClientOptions::timeout
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(ClientOptions options);
  ~HttpClient();

  Result<Response> Do(const ClientRequest& request);

  // Streams the response body. `on_head(status, headers)` runs once; returning false
  // stops. `on_data(chunk)` runs per chunk; returning false stops (the connection is
  // dropped). `cancelled()` is polled about twice a second while waiting for data.
  // Returns the HTTP status. A zero timeout in the request means "no idle limit".
  Result<int> Stream(const ClientRequest& request,
                     const std::function<bool(int, const Headers&)>& on_head,
                     const std::function<bool(std::string_view)>& on_data,
                     const std::function<bool()>& cancelled = {});

  // An upgrade (WebSocket, SPDY) on a new connection of its own: sends `request` and
  // reads the reply head. On 101 `stream` carries the connection from then on; any other
  // status comes back with its body (at most 64 KiB) and no stream.
  struct Upgraded {
    Response response;
    std::unique_ptr<ByteStream> stream;
  };
  Result<Upgraded> Upgrade(const ClientRequest& request);

  const Endpoint& endpoint() const;

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace il::http
