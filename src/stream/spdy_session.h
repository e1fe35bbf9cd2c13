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
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/byte_stream.h"
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
  std::optional<std::string> Read();
  // DATA frames of at most 32 KiB; false when the connection is gone.
  bool Write(std::string_view data);
  // DATA+FIN, once.
  void Finish();
  // RST_STREAM CANCEL unless already finished.
  void Reset();
  void CancelRead();

 private:
  friend class SpdySession;
  void Deliver(std::string data);  // reader thread; may wait for room
  void EndInput();

  SpdySession& session_;
  const uint32_t id_;
  const SpdyHeaders headers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool input_done_ = false;
  bool finished_ = false;
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
  bool WriteRaw(const std::string& frame);
  void HandleControl(const SpdyFrame& f,
                     const std::function<bool(std::shared_ptr<SpdyStream>)>& on_stream);
  std::shared_ptr<SpdyStream> Find(uint32_t id);
  void Touch();

  http::ByteStream& conn_;
  std::mutex write_mu_;
  HeaderCompressor compressor_;  // under write_mu_
  HeaderDecompressor decompressor_;
  std::mutex streams_mu_;
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_;
  uint32_t last_stream_ = 0;
  bool goaway_sent_ = false;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> last_activity_;
};

}  // namespace il::stream
