// TokenRefresher: keeps the vk's bearer token file (VKTokenFile) fresh with the OAuth2
// client-credentials flow, for an interlink that validates OIDC tokens.
//
// Each round re-reads the client secret file, POSTs grant_type=client_credentials (with
// scope and audience when configured) to the token endpoint with HTTP Basic client
// authentication, and writes access_token to the token file atomically (a 0600 temp file
// in the same directory, fsync, rename), so the interLink client, which re-reads the file
// on every call, never sees a half-written token. The next round runs
// RefreshBeforeSeconds before the token expires (at half its lifetime when that is
// shorter; every 5 minutes when the IdP gives no expires_in); after a failure, rounds
// back off from 5 s to 5 min while the old token stays in place.
//
// The client secret and the tokens are never logged or put in a Status message.
//
// Thread-safety: Start/Stop from one thread; RefreshOnce is not to be called
// concurrently with a running Start loop.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/http_client.h"
#include "core/mutex.h"
#include "core/status.h"
#include "vk/vk_config.h"

namespace il::vk {

class TokenRefresher {
 public:
  // Checks the URL (https, or http on loopback only: the secret travels in it) and builds
  // the HTTP client. Nothing is fetched yet.
  static Result<std::unique_ptr<TokenRefresher>> Create(const OAuth2ClientConfig& config,
                                                        std::string token_file);
  ~TokenRefresher();

  // One round. On success returns the delay until the next round.
  Result<std::chrono::seconds> RefreshOnce();

  // Runs one round now (its Status is returned, so the caller can log it) and then keeps
  // refreshing on a background thread until Stop(). The thread runs even when the first
  // round fails.
  Status Start();
  void Stop();

  // When to refresh a token that expires in `expires_in` (0: unknown).
  static std::chrono::seconds NextDelay(std::chrono::seconds expires_in,
                                        std::chrono::seconds refresh_before);

 private:
  TokenRefresher(OAuth2ClientConfig config, std::string token_file, std::string target,
                 std::unique_ptr<http::HttpClient> client);
  void Loop(std::chrono::seconds first_delay) IL_EXCLUDES(mu_);

  const OAuth2ClientConfig config_;
  const std::string token_file_;
  const std::string target_;  // path + query of TokenURL
  const std::unique_ptr<http::HttpClient> client_;

  Mutex mu_;
  CondVar cv_;
  bool stop_ IL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Writes `content` to `path` atomically with mode 0600 (temp file + fsync + rename).
Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace il::vk
