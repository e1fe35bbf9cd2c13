// WriterLogSink: a LogSink over an HTTP ResponseWriter. The chunked response starts
// with the first byte of log, so a backend error before any output can still become a
// proper HTTP error status.
#pragma once

#include "api/backend.h"
#include "core/http_server.h"

namespace il::api {

class WriterLogSink : public LogSink {
 public:
  explicit WriterLogSink(http::ResponseWriter& w) : w_(w) {}
  bool Write(std::string_view chunk) override {
    if (!started_) {
      started_ = true;
      if (!w_.BeginStream(200, "text/plain; charset=utf-8")) return false;
    }
    return w_.Write(chunk);
  }
  bool Gone() override { return w_.ClientGone(); }
  bool started() const { return started_; }

 private:
  http::ResponseWriter& w_;
  bool started_ = false;
};

}  // namespace il::api
