// WsChannels: api::Channels over a WebSocket with the channel-byte framing of
// v4/v5.channel.k8s.io (first byte of each binary message = channel). Used for kubectl's
// WebSocket exec/attach and for both hops of the streaming extension.
//
// A reader thread of its own turns messages into a bounded queue, so CancelRead can
// unblock a consumer without touching the socket, and pings are answered while nobody
// reads. Text messages are taken as the base64 variant ('0'+channel, base64 data).
//
// Thread-safety: Read from one thread; Write/CancelRead/Close from any.
#pragma once

#include <deque>
#include <thread>

#include "api/stream_backend.h"
#include "core/mutex.h"
#include "core/websocket.h"

namespace il::stream {

class WsChannels : public api::Channels {
 public:
  // `ws` must outlive this object. `base64`: write text messages ('0'+channel, base64).
  explicit WsChannels(http::WebSocket& ws, bool base64 = false);
  ~WsChannels() override;  // Close()

  std::optional<api::ChannelMessage> Read() IL_EXCLUDES(mu_) override;
  bool Write(uint8_t channel, std::string_view data) override;
  void CancelRead() IL_EXCLUDES(mu_) override;
  // Sends close 1000 and closes the connection; joins the reader.
  void Close() IL_EXCLUDES(mu_);
  // True once the peer closed or the connection dropped.
  bool PeerGone() IL_EXCLUDES(mu_);

 private:
  void ReadLoop() IL_EXCLUDES(mu_);

  http::WebSocket& ws_;
  const bool base64_;
  Mutex mu_;
  CondVar cv_;
  std::deque<api::ChannelMessage> queue_ IL_GUARDED_BY(mu_);
  size_t queued_ IL_GUARDED_BY(mu_) = 0;
  bool eof_ IL_GUARDED_BY(mu_) = false;
  bool cancelled_ IL_GUARDED_BY(mu_) = false;
  bool closed_ IL_GUARDED_BY(mu_) = false;
  std::thread reader_;
};

}  // namespace il::stream
