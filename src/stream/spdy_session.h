// SpdySession: the server side of a SPDY/3.1 connection as the kubelet runs it after
// `101 Switching Protocols` (reference kubelet-streaming.md §1.7): the client opens every
// stream, we reply to each SYN_STREAM with an empty header block, echo pings, ignore
// SETTINGS and WINDOW_UPDATE (spdystream has no flow control), and end with GOAWAY.
//
// Serve() is the reader loop and runs on one thread; SpdyStream methods are called from
// others. Input per stream is queued up to a bound; beyond it the reader waits (the
// only back-pressure SPDY between Go peers has is TCP's).
//
// Thread-safety: as above; every public method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/byte_stream.h"
#include "core/mutex.h"
#include "stream/spdy_frame.h"

namespace il::stream {

class SpdySession;

class SpdyStream {
 public:
  SpdyStream(SpdySession& session, uint32_t id, SpdyHeaders headers);
  uint32_t id() const { return id_; }
  const SpdyHeaders& headers() const { return headers_; }
  std::string header(std::string_view name) const { return HeaderValue(headers_, name); }

  // The next DATA payload; nullopt once the client finished (FIN), reset the stream, the
  // connection ended, or CancelRead was called.
  std::optional<std::string> Read() IL_EXCLUDES(mu_);
  // DATA frames of at most 32 KiB; false when the connection is gone.
  bool Write(std::string_view data);
  // DATA+FIN, once.
  void Finish();
  // RST_STREAM CANCEL unless already finished.
  void Reset();
  void CancelRead();

 private:
  friend class SpdySession;
  void Deliver(std::string data) IL_EXCLUDES(mu_);  // reader thread; may wait for room
  void EndInput() IL_EXCLUDES(mu_);

  SpdySession& session_;
  const uint32_t id_;
  const SpdyHeaders headers_;
  Mutex mu_;
  CondVar cv_;
  std::deque<std::string> queue_ IL_GUARDED_BY(mu_);
  size_t queued_ IL_GUARDED_BY(mu_) = 0;
  bool input_done_ IL_GUARDED_BY(mu_) = false;
  bool finished_ IL_GUARDED_BY(mu_) = false;
};

class SpdySession {
 public:
  explicit SpdySession(http::ByteStream& conn);

  // Reads frames until the connection ends or breaks the protocol. `on_stream` gets
  // each new stream after its SYN_REPLY went out; returning false resets it instead.
  void Serve(const std::function<bool(std::shared_ptr<SpdyStream>)>& on_stream);
  // Sends GOAWAY (after everything queued) and closes the connection.
  void GoAwayAndClose();
  // Closes the connection at once (idle timeout, shutdown).
  void Close();
  std::chrono::steady_clock::time_point last_activity() const;

 private:
  friend class SpdyStream;
  bool WriteRaw(const std::string& frame) IL_EXCLUDES(write_mu_);
  void HandleControl(const SpdyFrame& f,
                     const std::function<bool(std::shared_ptr<SpdyStream>)>& on_stream);
  std::shared_ptr<SpdyStream> Find(uint32_t id) IL_EXCLUDES(streams_mu_);
  void Touch();

  http::ByteStream& conn_;
  Mutex write_mu_;  // also serialises writes to conn_
  HeaderCompressor compressor_ IL_GUARDED_BY(write_mu_);
  HeaderDecompressor decompressor_;  // reader thread (Serve) only
  Mutex streams_mu_;
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_ IL_GUARDED_BY(streams_mu_);
  // Written by the reader thread, read by GoAwayAndClose from another.
  uint32_t last_stream_ IL_GUARDED_BY(write_mu_) = 0;
  bool goaway_sent_ IL_GUARDED_BY(write_mu_) = false;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> last_activity_;
};

}  // namespace il::stream
