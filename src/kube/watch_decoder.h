// WatchDecoder: incremental parser of a watch stream: newline-delimited JSON objects
// {"type":"ADDED","object":{...}} arriving in arbitrary chunks (a chunk may end mid-line
// or hold many lines). Input from the network: malformed lines are errors, never asserts.
//
// Thread-safety: none; one decoder per stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "kube/kube_api.h"

namespace il::kube {

// Parses one event line (without the newline).
Result<WatchEvent> ParseWatchEvent(std::string_view line);

class WatchDecoder {
 public:
  // A line longer than `max_line` bytes is an error (kPayloadTooLarge).
  explicit WatchDecoder(size_t max_line = 64u << 20) : max_line_(max_line) {}

  // Appends a chunk of the stream.
  void Feed(std::string_view chunk) { buf_.append(chunk); }
  // The next complete event, an error for a bad or oversize line, or nullopt when more
  // input is needed. Blank lines are skipped.
  std::optional<Result<WatchEvent>> Next();
  // Bytes buffered but not yet returned (a partial line).
  size_t pending() const { return buf_.size() - pos_; }

 private:
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace il::kube
