// The two hops of the interLink protocol, and what differs between them on the wire.
//
//   kInterlink: virtual kubelet -> interLink API (reference/interlink-upstream.md §2.3)
//     POST /create (PodCreateRequests)   DELETE /delete (v1.Pod)   GET /status ([v1.Pod])
//     GET /getLogs (LogStruct)           POST /pinglink            /updateCache
//   kPlugin: interLink -> sidecar plugin (§2.4)
//     POST /create (RetrievedPodData)    POST /delete (v1.Pod)     GET /status ([v1.Pod])
//     GET /getLogs (LogStruct)           GET /status with [] = ping (also /pinglink)
//
// Everything else (headers, session ids, error bodies, status codes, authentication,
// limits) is the same on both hops and lives in one place: protocol::Server and
// protocol::Client.
#pragma once

#include <string_view>

namespace il::protocol {

enum class Hop { kInterlink, kPlugin };

inline std::string_view HopName(Hop h) {
  return h == Hop::kInterlink ? "interLink API" : "sidecar plugin";
}

// The header that carries a call's session id across every hop.
inline constexpr std::string_view kSessionHeader = "InterLink-Http-Session";

// Body limit of the routes that take no body (/pinglink, /healthz, /metrics).
inline constexpr size_t kNoBodyLimit = 4096;

}  // namespace il::protocol
