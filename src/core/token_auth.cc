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

Result<std::string> TokenFile::Get() {
  struct stat st {};
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  const auto now = std::chrono::steady_clock::now();
  MutexLock lock(mu_);
  if (!exists) {
    token_.clear();  // a file recreated with the same stat() is read again
    return Unavailable("token file " + path_ + " is missing");
  }
  const bool same = !token_.empty() && st.st_ino == st_.st_ino && st.st_dev == st_.st_dev &&
                    st.st_size == st_.st_size && st.st_mtim.tv_sec == st_.st_mtim.tv_sec &&
                    st.st_mtim.tv_nsec == st_.st_mtim.tv_nsec;
  // The once-a-second re-read covers a rewrite that leaves all of these alone (same size,
  // within one tick of a coarse file system clock).
  if (same && now - read_at_ < std::chrono::seconds(1)) return token_;
  auto t = TokenAuth::ReadTokenFile(path_);
  if (!t.ok()) {
    token_.clear();
    return t.status();
  }
  token_ = *t;
  st_ = st;
  read_at_ = now;
  return token_;
}

Status TokenAuth::Check(const http::Headers& headers) {
  if (!enabled()) return Status::Ok();
  std::string auth = headers.Get("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
    return Status(StatusCode::kUnauthenticated, "missing bearer token");
  }
  std::string given = auth.substr(kBearer.size());
  auto token = file_.Get();
  if (!token.ok()) {
    // Fail closed: without a readable token nobody gets in.
    return Status(StatusCode::kPermissionDenied,
                  "server token unavailable: " + token.status().message());
  }
  if (given.size() != token->size() ||
      CRYPTO_memcmp(given.data(), token->data(), token->size()) != 0) {
    return Status(StatusCode::kPermissionDenied, "invalid bearer token");
  }
  return Status::Ok();
}

Result<http::Identity> TokenAuth::Authenticate(const http::Request& head) {
  if (!enabled()) return Status(StatusCode::kUnauthenticated, "no token file configured");
  IL_RETURN_IF_ERROR(Check(head.headers));
  const std::string& path = file_.path();
  return http::Identity{"token:" + path.substr(path.find_last_of('/') + 1), {}, "token"};
}

}  // namespace il
