// JWKS: the public keys of an OIDC identity provider (RFC 7517 JSON Web Key Set), read
// from a file or fetched from a URL, cached, and refreshed when needed.
//
// Only RSA (n, e) and EC P-256 (x, y) signing keys are kept; keys for encryption
// ("use":"enc"), of other types or curves, or that fail validation are skipped.
//
// A JwksKeySet loads its source on first use and then:
//   - re-reads a file when its inode, size or modification time changes;
//   - re-fetches a URL when the copy is older than JwksOptions::max_age;
//   - re-fetches when a token names a kid it does not know (the IdP rotated its keys),
//     at most once per JwksOptions::min_refresh_interval, so tokens with made-up kids
//     cannot make us hammer the IdP.
// A failed refresh keeps the keys already loaded.
//
// Thread-safety: JwksKeySet is thread-safe. One fetch runs at a time, without the lock:
// lookups that the cached keys answer never wait for the IdP; lookups that need the
// fetch (first load, unknown kid) wait for it (bounded by the HTTP timeout).
// JwksSource::Fetch runs on one thread at a time, concurrently with Changed().
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/jwt.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il {

struct Jwk {
  std::string kid;  // may be empty
  jwt::PublicKey key;
};

// Parses a JWKS document ({"keys": [...]}). Unusable keys are skipped (their reasons
// appended to `skipped` when given). Not a JWKS document -> kInvalidArgument.
Result<std::vector<Jwk>> ParseJwks(std::string_view json,
                                   std::vector<std::string>* skipped = nullptr);

// Where a key set comes from.
class JwksSource {
 public:
  virtual ~JwksSource() = default;
  // The current document. Unreachable or unreadable -> kUnavailable.
  virtual Result<std::string> Fetch() = 0;
  // Cheap check whether the document changed since the last Fetch (a file's stat);
  // sources that cannot tell cheaply return false.
  virtual bool Changed() = 0;
  virtual std::string Describe() const = 0;
};

// A local file (for example one a config-management tool keeps in sync).
std::unique_ptr<JwksSource> MakeJwksFileSource(std::string path);
// An http(s) URL. Plain http is refused unless the host is loopback (a JWKS fetched
// over an open network could be replaced in transit). `ca_file` empty: system CAs.
Result<std::unique_ptr<JwksSource>> MakeJwksUrlSource(
    const std::string& url, const std::string& ca_file,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

struct JwksOptions {
  // Fewest seconds between two fetches caused by unknown kids or failures.
  std::chrono::seconds min_refresh_interval{10};
  // A document older than this is fetched again on the next lookup (0: never).
  std::chrono::seconds max_age{3600};
};

class JwksKeySet {
 public:
  JwksKeySet(std::unique_ptr<JwksSource> source, JwksOptions options,
             std::shared_ptr<Clock> clock = RealClock());

  // Keys that may have signed a token with this kid and alg: the key with that kid, or,
  // when the token names no kid, every key of that algorithm. Refreshes as described
  // above. No such key -> kNotFound; keys never loaded (or the refresh a lookup needed
  // failed) -> kUnavailable.
  Result<std::vector<jwt::PublicKey>> Find(std::string_view kid, std::string_view alg)
      IL_EXCLUDES(mu_);

  std::string Describe() const { return source_->Describe(); }
  // Number of fetches attempted so far (for tests and metrics).
  int fetches() const IL_EXCLUDES(mu_);

 private:
  // Fetches and installs the document; releases mu_ during the fetch.
  void Load(std::chrono::system_clock::time_point now) IL_REQUIRES(mu_);
  // A refresh one caller needs: waits for the fetch in flight, or runs one if allowed.
  void RefreshLocked(std::chrono::system_clock::time_point now) IL_REQUIRES(mu_);
  bool MayFetchLocked(std::chrono::system_clock::time_point now) const IL_REQUIRES(mu_);
  std::vector<jwt::PublicKey> MatchLocked(std::string_view kid, std::string_view alg) const
      IL_REQUIRES(mu_);

  const std::unique_ptr<JwksSource> source_;
  const JwksOptions options_;
  const std::shared_ptr<Clock> clock_;  // wall time: key ages, fetch intervals

  mutable Mutex mu_;
  CondVar fetched_;                           // signalled when a fetch ends
  bool fetching_ IL_GUARDED_BY(mu_) = false;  // one fetch at a time
  std::vector<Jwk> keys_ IL_GUARDED_BY(mu_);
  bool loaded_ IL_GUARDED_BY(mu_) = false;
  Status last_error_ IL_GUARDED_BY(mu_);
  std::optional<std::chrono::system_clock::time_point> last_attempt_ IL_GUARDED_BY(mu_);
  std::chrono::system_clock::time_point loaded_at_ IL_GUARDED_BY(mu_){};
  int fetches_ IL_GUARDED_BY(mu_) = 0;
};

}  // namespace il
