#include "stream/hop_stream.h"

#include <random>
#include <thread>

#include "core/base64.h"
#include "core/http_status.h"
#include "core/websocket.h"
#include "stream/exec_status.h"
#include "stream/ws_channels.h"

namespace il::stream {

namespace {

bool Flag(const std::string& v) { return v == "1" || v == "true"; }

std::string NewWebSocketKey() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string raw(16, '\0');
  for (auto& c : raw) c = static_cast<char>(rng() & 0xff);
  return Base64Encode(raw);
}

// Opens the WebSocket of a hop; the reply's Status when it is refused.
Result<http::HttpClient::Upgraded> Open(http::HttpClient& client, http::ClientRequest request) {
  request.method = "GET";
  request.body.clear();
  request.headers.Set("Connection", "Upgrade");
  request.headers.Set("Upgrade", "websocket");
  request.headers.Set("Sec-WebSocket-Version", "13");
  request.headers.Set("Sec-WebSocket-Key", NewWebSocketKey());
  request.headers.Set("Sec-WebSocket-Protocol", std::string(kHopSubprotocol));
  IL_ASSIGN_OR_RETURN(auto up, client.Upgrade(request));
  if (up.response.status != 101 || !up.stream) {
    Status s = StatusFromUpstream(up.response.status, up.response.body);
    if (up.response.status == 404 || up.response.status == 405) {
      return Status(StatusCode::kUnimplemented,
                    "the plugin does not implement the streaming extension (" +
                        request.target.substr(0, request.target.find('?')) + " answered " +
                        std::to_string(up.response.status) + ")");
    }
    return s.ok() ? Status(StatusCode::kBadGateway,
                           "upgrade refused with HTTP " + std::to_string(up.response.status))
                  : s;
  }
  return up;
}

// Relays io -> remote on a thread of its own and remote -> io on the caller's; channel
// `result_channel` of the remote is handed to `on_result` instead of io.
void Relay(WsChannels& remote, api::Channels& io, uint8_t result_channel,
           const std::function<void(const std::string&)>& on_result) {
  std::atomic<bool> done{false};
  std::thread up([&] {
    while (auto m = io.Read()) {
      if (!remote.Write(m->channel, m->data)) break;
    }
    // The caller went away (not cancelled by us): end the remote side too.
    if (!done) remote.Close();
  });
  while (auto m = remote.Read()) {
    if (m->channel == result_channel) {
      on_result(m->data);
      continue;
    }
    if (!io.Write(m->channel, m->data)) break;
  }
  done = true;
  io.CancelRead();
  up.join();
  remote.Close();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> QueryPairs(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string k = http::UrlDecode(kv.substr(0, eq), true);
    std::string v = eq == std::string_view::npos ? "" : http::UrlDecode(kv.substr(eq + 1), true);
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

std::string ExecTarget(const api::ExecRequest& r) {
  std::string t = r.attach ? "/attach?" : "/exec?";
  t += "namespace=" + http::UrlEncode(r.namespace_) + "&pod=" + http::UrlEncode(r.pod_name) +
       "&uid=" + http::UrlEncode(r.pod_uid) + "&container=" + http::UrlEncode(r.container);
  for (const auto& c : r.command) t += "&command=" + http::UrlEncode(c);
  if (r.stdin) t += "&stdin=1";
  if (r.stdout) t += "&stdout=1";
  if (r.stderr) t += "&stderr=1";
  if (r.tty) t += "&tty=1";
  if (!r.user.empty()) t += "&user=" + http::UrlEncode(r.user);
  return t;
}

Result<api::ExecRequest> ParseExecTarget(std::string_view target, bool attach) {
  api::ExecRequest r;
  r.attach = attach;
  for (auto& [k, v] : QueryPairs(target)) {
    if (k == "namespace")
      r.namespace_ = v;
    else if (k == "pod")
      r.pod_name = v;
    else if (k == "uid")
      r.pod_uid = v;
    else if (k == "container")
      r.container = v;
    else if (k == "command")
      r.command.push_back(v);
    else if (k == "stdin")
      r.stdin = Flag(v);
    else if (k == "stdout")
      r.stdout = Flag(v);
    else if (k == "stderr")
      r.stderr = Flag(v);
    else if (k == "tty")
      r.tty = Flag(v);
    else if (k == "user")
      r.user = v;
  }
  if (r.namespace_.empty() || r.pod_name.empty() || r.container.empty()) {
    return InvalidArgument("namespace, pod and container are required");
  }
  if (!attach && r.command.empty()) return InvalidArgument("command is required");
  if (!r.stdin && !r.stdout && !r.stderr) {
    return InvalidArgument("you must specify at least 1 of stdin, stdout, stderr");
  }
  if (r.tty) r.stderr = false;
  return r;
}

std::string PortForwardTarget(const api::PortForwardRequest& r) {
  std::string t = "/portforward?namespace=" + http::UrlEncode(r.namespace_) +
                  "&pod=" + http::UrlEncode(r.pod_name) + "&uid=" + http::UrlEncode(r.pod_uid) +
                  "&port=" + std::to_string(r.port);
  if (!r.user.empty()) t += "&user=" + http::UrlEncode(r.user);
  return t;
}

Result<api::PortForwardRequest> ParsePortForwardTarget(std::string_view target) {
  api::PortForwardRequest r;
  for (auto& [k, v] : QueryPairs(target)) {
    if (k == "namespace")
      r.namespace_ = v;
    else if (k == "pod")
      r.pod_name = v;
    else if (k == "uid")
      r.pod_uid = v;
    else if (k == "user")
      r.user = v;
    else if (k == "port") {
      try {
        size_t pos = 0;
        long p = std::stol(v, &pos);
        if (pos != v.size() || p <= 0 || p > 65535) throw std::out_of_range("port");
        r.port = static_cast<uint16_t>(p);
      } catch (const std::exception&) {
        return InvalidArgument("port must be a number from 1 to 65535, got '" + v + "'");
      }
    }
  }
  if (r.namespace_.empty() || r.pod_name.empty())
    return InvalidArgument("namespace and pod are required");
  if (r.port == 0) return InvalidArgument("port is required");
  return r;
}

Result<int> RelayExec(http::HttpClient& client, http::ClientRequest request, api::Channels& io) {
  IL_ASSIGN_OR_RETURN(auto up, Open(client, std::move(request)));
  http::WebSocket ws(*up.stream, http::WebSocket::Role::kClient);
  WsChannels remote(ws);
  std::optional<Result<int>> result;
  Relay(remote, io, api::kChanStatus, [&](const std::string& s) { result = ParseExecStatus(s); });
  if (!result) return Unavailable("the exec stream ended without a result");
  return *result;
}

Status RelayPortForward(http::HttpClient& client, http::ClientRequest request, api::Channels& io) {
  IL_ASSIGN_OR_RETURN(auto up, Open(client, std::move(request)));
  http::WebSocket ws(*up.stream, http::WebSocket::Role::kClient);
  WsChannels remote(ws);
  std::string error;
  Relay(remote, io, 1, [&](const std::string& s) { error += s; });
  if (!error.empty()) return Unavailable(error);
  return Status::Ok();
}

std::unique_ptr<http::ByteStream> AcceptWebSocket(const http::Request& req, http::ResponseWriter& w,
                                                  std::string_view subprotocol) {
  if (!http::IsWebSocketUpgrade(req.headers) || req.headers.Get("Sec-WebSocket-Key").empty()) {
    w.ReplyError(InvalidArgument(req.path + " needs a WebSocket upgrade"));
    return nullptr;
  }
  w.SetHeader("Upgrade", "websocket");
  w.SetHeader("Connection", "Upgrade");
  w.SetHeader("Sec-WebSocket-Accept", http::WebSocketAccept(req.headers.Get("Sec-WebSocket-Key")));
  if (!subprotocol.empty()) w.SetHeader("Sec-WebSocket-Protocol", std::string(subprotocol));
  return w.Upgrade(101);
}

std::string AuditLine(std::string_view who, const api::ExecRequest& r) {
  std::string cmd;
  for (const auto& c : r.command) cmd += (cmd.empty() ? "" : " ") + c;
  return std::string(r.attach ? "attach" : "exec") + " user=" + std::string(who) +
         " pod=" + r.namespace_ + "/" + r.pod_name + " uid=" + r.pod_uid +
         " container=" + r.container + (r.attach ? "" : " command=[" + cmd + "]") +
         " stdin=" + (r.stdin ? "1" : "0") + " tty=" + (r.tty ? "1" : "0");
}

std::string AuditLine(std::string_view who, const api::PortForwardRequest& r) {
  return "portforward user=" + std::string(who) + " pod=" + r.namespace_ + "/" + r.pod_name +
         " uid=" + r.pod_uid + " port=" + std::to_string(r.port);
}

void ServeHopStream(const http::Request& req, http::ResponseWriter& w, const api::CallContext& ctx,
                    api::StreamBackend& backend,
                    const std::function<void(const std::string&)>& audit) {
  const bool pf = req.path == "/portforward";
  const bool attach = req.path == "/attach";
  // The caller authenticated on this hop; the user named by the previous hop is kept
  // for the record only.
  std::string who = req.identity.user.empty() ? "unauthenticated" : req.identity.user;
  if (Status s = backend.Check(ctx, req.path.substr(1)); !s.ok()) return w.ReplyError(s);
  if (pf) {
    auto r = ParsePortForwardTarget(req.target);
    if (!r.ok()) return w.ReplyError(r.status());
    if (!r->user.empty()) who += " for " + r->user;
    audit(AuditLine(who, *r));
    auto conn = AcceptWebSocket(req, w, kHopSubprotocol);
    if (!conn) return;
    http::WebSocket ws(*conn, http::WebSocket::Role::kServer);
    WsChannels io(ws);
    Status st = backend.PortForward(ctx, *r, io);
    io.CancelRead();
    if (!st.ok()) io.Write(1, st.message());
    io.Close();
    return;
  }
  auto r = ParseExecTarget(req.target, attach);
  if (!r.ok()) return w.ReplyError(r.status());
  if (!r->user.empty()) who += " for " + r->user;
  audit(AuditLine(who, *r));
  auto conn = AcceptWebSocket(req, w, kHopSubprotocol);
  if (!conn) return;
  http::WebSocket ws(*conn, http::WebSocket::Role::kServer);
  WsChannels io(ws);
  Result<int> result = backend.Exec(ctx, *r, io);
  io.CancelRead();
  io.Write(api::kChanStatus, ExecStatusJson(result, attach));
  io.Close();
}

}  // namespace il::stream
