// The wire form of the streaming extension on the interLink protocol's hops
// (docs/plugin-protocol.md, "Streaming extension v1"):
//
//   GET /exec | /attach | /portforward ?<query>   Upgrade: websocket
//   Sec-WebSocket-Protocol: v5.channel.k8s.io     (+ the hop's usual Authorization)
//
// then messages framed as v5.channel.k8s.io (api/stream_backend.h channels), and for
// exec/attach the result as a metav1.Status JSON on channel 3 before the close.
//
// This file holds the query encoding, the client side (open the WebSocket, relay a
// caller's Channels) and the server side (answer the upgrade, run a StreamBackend).
//
// Thread-safety: functions are thread-safe; each call uses its own connection.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/stream_backend.h"
#include "core/http.h"
#include "core/http_client.h"
#include "core/http_server.h"

namespace il::stream {

inline constexpr std::string_view kHopSubprotocol = "v5.channel.k8s.io";

// Every key=value of a target's query, repeated keys kept, in order, decoded.
std::vector<std::pair<std::string, std::string>> QueryPairs(std::string_view target);

std::string ExecTarget(const api::ExecRequest& r);
Result<api::ExecRequest> ParseExecTarget(std::string_view target, bool attach);
std::string PortForwardTarget(const api::PortForwardRequest& r);
Result<api::PortForwardRequest> ParsePortForwardTarget(std::string_view target);

// Client: opens the WebSocket with `request` (target and auth headers already set; the
// upgrade headers are added) and relays `io` until the remote side ends. A refused
// upgrade becomes the Status its reply carries.
Result<int> RelayExec(http::HttpClient& client, http::ClientRequest request, api::Channels& io);
Status RelayPortForward(http::HttpClient& client, http::ClientRequest request, api::Channels& io);

// Server: answers a WebSocket upgrade with the v5 subprotocol. Null (and an error reply
// sent) when the request is no WebSocket upgrade.
std::unique_ptr<http::ByteStream> AcceptWebSocket(const http::Request& req, http::ResponseWriter& w,
                                                  std::string_view subprotocol);
// Serves one /exec, /attach or /portforward request of a hop with `backend`. `audit`
// gets one line per accepted request (who, pod, container, command).
void ServeHopStream(const http::Request& req, http::ResponseWriter& w, const api::CallContext& ctx,
                    api::StreamBackend& backend,
                    const std::function<void(const std::string&)>& audit);

// The audit line for a request (never stdin data).
std::string AuditLine(std::string_view who, const api::ExecRequest& r);
std::string AuditLine(std::string_view who, const api::PortForwardRequest& r);

}  // namespace il::stream
