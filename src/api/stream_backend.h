// StreamBackend: exec, attach and port-forward, the streaming extension of the interLink
// protocol (docs/plugin-protocol.md, "Streaming extension"). Like Backend it is one
// interface on both sides of the wire: a sidecar implements it, protocol::Client
// implements it over a WebSocket to the next hop, and the vk calls it with the streams
// of kubectl's connection.
//
// The streams are messages on numbered channels, as v5.channel.k8s.io frames them:
//   exec/attach: 0 stdin (in), 1 stdout (out), 2 stderr (out), 4 resize (in, JSON
//                {"Width":W,"Height":H}), 255 close (in, one byte: the channel, 0 = end
//                of stdin). Channel 3 (status) belongs to the transport: Exec's result.
//   port-forward: 0 data (both ways), 255 close (in, [0] = no more data from the client).
//
// Thread-safety: implementations must be thread-safe; Channels is read by one thread
// and written by one (or more, serialised by the implementation).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/backend.h"
#include "core/status.h"

namespace il::api {

inline constexpr uint8_t kChanStdin = 0;
inline constexpr uint8_t kChanStdout = 1;
inline constexpr uint8_t kChanStderr = 2;
inline constexpr uint8_t kChanStatus = 3;
inline constexpr uint8_t kChanResize = 4;
inline constexpr uint8_t kChanClose = 255;
inline constexpr uint8_t kChanData = 0;

struct ChannelMessage {
  uint8_t channel = 0;
  std::string data;
};

class Channels {
 public:
  virtual ~Channels() = default;
  // The next message from the caller's side; nullopt when it is gone or CancelRead ran.
  virtual std::optional<ChannelMessage> Read() = 0;
  // False when the caller's side is gone.
  virtual bool Write(uint8_t channel, std::string_view data) = 0;
  // Makes a blocked (and every later) Read return nullopt; writing still works.
  virtual void CancelRead() = 0;
};

struct ExecRequest {
  bool attach = false;  // attach to the container's main process instead of running one
  std::string namespace_;
  std::string pod_name;
  std::string pod_uid;
  std::string container;
  std::vector<std::string> command;  // exec only
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  std::string user;  // who asked (for the audit log of the next hop); never trusted for authz
};

struct PortForwardRequest {
  std::string namespace_;
  std::string pod_name;
  std::string pod_uid;
  uint16_t port = 0;
  std::string user;
};

// The capability a plugin advertises in its ping reply (PingResponse::extensions).
inline constexpr std::string_view kStreamingExtension = "interlink-cpp.io/streaming";
inline constexpr std::string_view kStreamingVersion = "v1";

class StreamBackend {
 public:
  virtual ~StreamBackend() = default;
  // Whether `op` ("exec", "attach", "portforward") can be served at all; checked before
  // the caller's connection is upgraded, so a refusal reaches it as a plain HTTP error.
  virtual Status Check(const CallContext& ctx, std::string_view op) {
    (void)ctx;
    (void)op;
    return Status::Ok();
  }
  // Runs the command (or attaches) with `io` until it ends. The exit code, or an error
  // when it could not run (unknown pod or container, not supported).
  virtual Result<int> Exec(const CallContext& ctx, const ExecRequest& request, Channels& io) = 0;
  // Connects to the pod's port and copies both ways until either side ends.
  virtual Status PortForward(const CallContext& ctx, const PortForwardRequest& request,
                             Channels& io) = 0;
};

}  // namespace il::api
