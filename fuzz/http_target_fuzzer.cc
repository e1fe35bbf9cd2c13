// Fuzz target: the HTTP helpers that see raw request data (src/core/http.h):
// SplitTarget / UrlDecode on request targets, ParseEndpoint / EndpointFromUrlAndPort on
// URLs from config and environment, and TokenAuth::Check on the Authorization header.
//
// Input: first line = URL or target, rest = default port / header value.
// Properties: an endpoint ParseEndpoint accepts has a port of 1..5 digits and a
// non-empty host (tcp) or an absolute path (unix); SplitTarget never yields an empty
// query key.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/http.h"
#include "core/token_auth.h"
#include "fuzz/fuzz_check.h"

namespace {

void CheckEndpoint(const il::Result<il::http::Endpoint>& ep) {
  if (!ep.ok()) return;
  using Scheme = il::http::Endpoint::Scheme;
  if (ep->scheme == Scheme::kUnix) {
    FUZZ_CHECK(!ep->unix_path.empty() && ep->unix_path.front() == '/');
  } else {
    FUZZ_CHECK(!ep->port.empty() && ep->port.size() <= 5);
    FUZZ_CHECK(std::atoi(ep->port.c_str()) <= 65535);
  }
  (void)ep->ToString();
}

const std::string& TokenPath() {
  static const std::string p =
      (std::filesystem::temp_directory_path() / ("il-fuzz-token-" + std::to_string(getpid())))
          .string();
  return p;
}

void RemoveTokenFile() {
  std::error_code ec;
  std::filesystem::remove(TokenPath(), ec);
}

// One token file for the whole run, removed at exit.
il::TokenAuth& Auth() {
  static il::TokenAuth* auth = [] {
    std::ofstream(TokenPath()) << "s3cret-token\n";
    std::atexit(RemoveTokenFile);
    return new il::TokenAuth(TokenPath());
  }();
  return *auth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = il::fuzz::AsText(data, size);
  auto [first, rest] = il::fuzz::SplitFirstLine(in);

  std::string path;
  std::map<std::string, std::string> query;
  il::http::SplitTarget(in, &path, &query);
  for (const auto& [k, v] : query) FUZZ_CHECK(!k.empty());
  (void)il::http::UrlDecode(in, true);

  CheckEndpoint(il::http::ParseEndpoint(first, rest));
  CheckEndpoint(il::http::ParseEndpoint(in));
  CheckEndpoint(il::http::EndpointFromUrlAndPort(first, rest));

  il::http::Headers h;
  h.Set("Authorization", std::string(in));
  (void)Auth().Check(h);
  h.Set("authorization", std::string(rest));
  (void)h.Get("AUTHORIZATION");
  return 0;
}
