// ByteStream: a blocking, full-duplex byte connection, what an HTTP connection becomes
// after `101 Switching Protocols` (WebSocket, SPDY/3.1). The server hands one to a
// handler from ResponseWriter::Upgrade; HttpClient::Upgrade returns one to a caller.
//
// Thread-safety: one thread may Read while another Writes; Close may be called from any
// thread at any time and makes a blocked Read return 0 and later Writes fail.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace il::http {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Blocks until at least one byte arrived; 0 at end of stream, on error or after Close.
  virtual size_t Read(char* buf, size_t size) = 0;
  // Writes all of `data`; false when the connection is gone.
  virtual bool Write(std::string_view data) = 0;
  // Half-closes the sending side where the transport allows it (TCP, not TLS).
  virtual void ShutdownWrite() = 0;
  // Closes the connection.
  virtual void Close() = 0;
};

}  // namespace il::http
