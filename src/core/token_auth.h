// Bearer-token authentication against a token file.
//
// The file is re-read when its modification time or size changes, so a rotated token
// (e.g. by a refresh sidecar) is picked up without a restart. No token configured means
// no check. A request without "Authorization: Bearer ..." is kUnauthenticated (401),
// a wrong token kPermissionDenied (403). Comparison is constant-time.
//
// Thread-safety: Check() is thread-safe.
#pragma once

#include <ctime>
#include <string>

#include "core/authenticator.h"
#include "core/http.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il {

class TokenAuth : public Authenticator {
 public:
  // Empty path disables authentication.
  explicit TokenAuth(std::string token_file) : path_(std::move(token_file)) {}
  bool enabled() const { return !path_.empty(); }
  Status Check(const http::Headers& headers) IL_EXCLUDES(mu_);
  // Authenticator: the caller is "token:<file name>" when its token matches.
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override { return "bearer token file " + path_; }
  // Reads a token file: trims whitespace. Empty or unreadable -> error.
  static Result<std::string> ReadTokenFile(const std::string& path);

 private:
  Status Reload() IL_REQUIRES(mu_);
  const std::string path_;
  Mutex mu_;
  std::string token_ IL_GUARDED_BY(mu_);
  timespec mtime_ IL_GUARDED_BY(mu_){};
  off_t size_ IL_GUARDED_BY(mu_) = -1;
};

}  // namespace il
