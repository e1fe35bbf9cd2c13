#include "core/token_auth.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace il {

Result<std::string> TokenAuth::ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("cannot read token file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  auto b = t.find_first_not_of(" \t\r\n");
  auto e = t.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return FailedPrecondition("token file " + path + " is empty");
  return t.substr(b, e - b + 1);
}

Status TokenAuth::Reload() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return Unavailable("token file " + path_ + " is missing");
  }
  if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
      st.st_size == size_ && !token_.empty()) {
    return Status::Ok();
  }
  auto t = ReadTokenFile(path_);
  if (!t.ok()) return t.status();
  token_ = *t;
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  return Status::Ok();
}

Status TokenAuth::Check(const http::Headers& headers) {
  if (!enabled()) return Status::Ok();
  std::string auth = headers.Get("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
    return Status(StatusCode::kUnauthenticated, "missing bearer token");
  }
  std::string given = auth.substr(kBearer.size());
  MutexLock lock(mu_);
  if (auto s = Reload(); !s.ok()) {
    // Fail closed: without a readable token nobody gets in.
    return Status(StatusCode::kPermissionDenied, "server token unavailable: " + s.message());
  }
  if (given.size() != token_.size() ||
      CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    return Status(StatusCode::kPermissionDenied, "invalid bearer token");
  }
  return Status::Ok();
}

Result<http::Identity> TokenAuth::Authenticate(const http::Request& head) {
  if (!enabled()) return Status(StatusCode::kUnauthenticated, "no token file configured");
  IL_RETURN_IF_ERROR(Check(head.headers));
  return http::Identity{"token:" + path_.substr(path_.find_last_of('/') + 1), {}, "token"};
}

}  // namespace il
