// WebSocket (RFC 6455) over a ByteStream: the handshake key, frame encoding and decoding,
// and a message-level connection that answers pings and closes cleanly.
//
// Used for the kubelet API's exec/attach (v4/v5.channel.k8s.io) and for the streaming
// extension of the interLink protocol. Kept to what those need: no extensions
// (permessage-deflate is never negotiated), messages up to a size limit.
//
// Thread-safety: the Encode/Decode functions are pure. WebSocket: one thread calls Read;
// Send/Close may be called from any thread (writes are serialised).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/byte_stream.h"
#include "core/http.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il::http {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
std::string WebSocketAccept(std::string_view key);
// True when the request head asks for a WebSocket upgrade.
bool IsWebSocketUpgrade(const Headers& headers);

enum class WsOpcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10
};

struct WsFrame {
  bool fin = true;
  WsOpcode opcode = WsOpcode::kBinary;
  std::string payload;  // unmasked
};

// One frame; `mask` (client frames) applies a masking key derived from `mask_seed`.
std::string EncodeWsFrame(WsOpcode op, std::string_view payload, bool fin, bool mask,
                          uint32_t mask_seed = 0x5a17c3e1);

// Takes frames off the front of `*buffer`: nullopt when more bytes are needed; an error
// for reserved bits, oversize or fragmented control frames, or a frame larger than
// `max_payload`.
Result<std::optional<WsFrame>> DecodeWsFrame(std::string* buffer, size_t max_payload);

struct WsMessage {
  bool binary = true;
  std::string data;
};

class WebSocket {
 public:
  enum class Role { kServer, kClient };
  WebSocket(ByteStream& stream, Role role, size_t max_message = 32u << 20);

  // The next data message (fragments joined). Pings are answered on the way. nullopt
  // when the peer closed, the connection dropped or broke the protocol.
  std::optional<WsMessage> Read();
  bool Send(bool binary, std::string_view data);
  // Sends a close frame once (1000 normal), then the peer's close ends Read.
  void SendClose(uint16_t code = 1000, std::string_view reason = "");
  // When something was last read or written (idle timeouts).
  std::chrono::steady_clock::time_point last_activity() const;
  ByteStream& stream() { return stream_; }

 private:
  bool WriteFrame(WsOpcode op, std::string_view payload) IL_EXCLUDES(write_mu_);
  void Touch();

  ByteStream& stream_;
  const Role role_;
  const size_t max_message_;
  std::string inbuf_;
  Mutex write_mu_;  // also serialises writes to stream_
  bool close_sent_ IL_GUARDED_BY(write_mu_) = false;
  uint32_t seed_ IL_GUARDED_BY(write_mu_) = 0x2545f491;
  std::atomic<int64_t> last_activity_;
};

}  // namespace il::http
