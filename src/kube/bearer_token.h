// BearerToken: the Authorization token of a KubeClient (private to src/kube).
//
// A static token, or a token file (service-account tokens are rotated by the kubelet) whose
// modification time is checked at most every `reload_interval`; the file is re-read when it
// changed. A failed re-read keeps the previous token. The token is never logged.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il::kube {

class BearerToken {
 public:
  // Fails when `file` is set but cannot be read.
  static Result<std::unique_ptr<BearerToken>> New(std::string token, std::string file,
                                                  std::chrono::milliseconds reload_interval,
                                                  std::shared_ptr<Clock> clock);
  // The current token ("" = none).
  std::string Get() IL_EXCLUDES(mu_);
  // Re-reads the file now; true when the token changed (false without a file).
  bool ForceReload() IL_EXCLUDES(mu_);

 private:
  BearerToken() = default;
  // Reads the file; false (token kept) on failure.
  bool ReadLocked() IL_REQUIRES(mu_);

  // Set by New() before the object is shared.
  std::string file_;
  std::chrono::milliseconds interval_{0};
  std::shared_ptr<Clock> clock_;

  Mutex mu_;
  std::string token_ IL_GUARDED_BY(mu_);
  Clock::TimePoint next_check_ IL_GUARDED_BY(mu_){};
  std::filesystem::file_time_type mtime_ IL_GUARDED_BY(mu_){};
};

}  // namespace il::kube
