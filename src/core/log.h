// Logging facade over spdlog.
//
// One call configures the process (level, text or JSON lines); modules get named
// loggers with Logger("interlink.api"). Formatting is lazy (fmt-style placeholders).
// Structured key fields go in as "key=value" pairs built with Kv(). Secrets never go in:
// there is no API that logs headers or bodies wholesale, and Redact() masks tokens.
//
// Thread-safety: all functions are thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/mutex.h"
#include "core/status.h"

namespace il::log {

enum class Format { kText, kJson };

struct Options {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  Format format = Format::kText;
};

// Configures the default sink (stderr). Unknown level -> InvalidArgument.
Status Init(const Options& options);
// Parses "text"/"json".
Result<Format> ParseFormat(std::string_view s);
// A named logger sharing the process sink and level.
std::shared_ptr<spdlog::logger> Logger(const std::string& name);
// "abcd…(32 chars)" style masking for secrets that must be referred to.
std::string Redact(std::string_view secret);

// Lets one message through per interval; counts the ones it suppressed.
// Use for retry storms: if (limiter.Allow()) log->warn(...).
class RateLimiter {
 public:
  explicit RateLimiter(std::chrono::milliseconds interval) : interval_(interval) {}
  // True when the caller may log; `suppressed` receives the count since the last one.
  bool Allow(int* suppressed = nullptr) IL_EXCLUDES(mu_);

 private:
  Mutex mu_;
  const std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_ IL_GUARDED_BY(mu_){};
  int suppressed_ IL_GUARDED_BY(mu_) = 0;
};

}  // namespace il::log
