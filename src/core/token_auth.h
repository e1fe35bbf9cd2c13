// Bearer tokens kept in files: TokenFile (the one reader, for the servers that check a
// token and the clients that send one) and TokenAuth (bearer-token authentication).
//
// A TokenFile is re-read when the file changes (inode, size or modification time) and at
// least once a second, so a rotated token (e.g. by a refresh sidecar, or renamed into
// place) is picked up without a restart, while a client sending it with every request
// costs one stat() per request, not a read. For TokenAuth no token configured means no
// check. A request without "Authorization: Bearer ..." is kUnauthenticated (401),
// a wrong token kPermissionDenied (403). Comparison is constant-time.
//
// Thread-safety: Check() is thread-safe.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <string>

#include "core/authenticator.h"
#include "core/http.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il {

class TokenFile {
 public:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // The token (whitespace trimmed). A missing, unreadable or empty file is an error, every
  // time: a token that was read before is not used once its file is gone.
  Result<std::string> Get() IL_EXCLUDES(mu_);

 private:
  const std::string path_;
  Mutex mu_;
  std::string token_ IL_GUARDED_BY(mu_);
  struct stat st_ IL_GUARDED_BY(mu_) {};
  std::chrono::steady_clock::time_point read_at_ IL_GUARDED_BY(mu_);
};

class TokenAuth : public Authenticator {
 public:
  // Empty path disables authentication.
  explicit TokenAuth(std::string token_file) : file_(std::move(token_file)) {}
  bool enabled() const { return !file_.path().empty(); }
  Status Check(const http::Headers& headers);
  // Authenticator: the caller is "token:<file name>" when its token matches.
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override { return "bearer token file " + file_.path(); }
  // Reads a token file: trims whitespace. Empty or unreadable -> error.
  static Result<std::string> ReadTokenFile(const std::string& path);

 private:
  TokenFile file_;
};

}  // namespace il
