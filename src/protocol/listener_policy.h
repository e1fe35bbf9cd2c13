// ListenerPolicy: "closed by default" for every listener of the system.
//
// A listener on a loopback address (127.0.0.0/8, ::1, localhost) or a unix socket may run
// without authentication: only local users reach it (a unix socket's file mode decides
// which). A listener on any other address must authenticate its callers (a bearer token
// file, OIDC, or TLS client certificates); without one it refuses to start, naming the
// keys to set, unless the operator set the explicit escape hatch (a proxy in front that
// authenticates, say).
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/authenticator.h"
#include "core/config.h"
#include "core/status.h"

namespace il::protocol {

// True for 127.0.0.0/8, ::1, [::1], "localhost" and "*.localhost".
bool IsLoopbackHost(std::string_view host);

// True when `url` (http://h:p, https://h:p, unix:///path) only accepts local callers.
bool IsLocalUrl(std::string_view url);

struct ListenerCheck {
  std::string component;               // "interlink", "docker-sd"
  std::string listen_url;              // where it will listen
  bool authenticated = false;          // a token file, OIDC or client certificates are configured
  bool allow_unauthenticated = false;  // the explicit escape hatch
  std::string keys_hint;               // which keys turn authentication on, for the error message
  std::string escape_key;              // the key that allows an open listener
};

// OK when the listener may start; kFailedPrecondition with an actionable message when
// not. Sets *warning when it may start but the operator should know (an open listener
// allowed by the escape hatch).
Status CheckListener(const ListenerCheck& check, std::string* warning);

// What a listener accepts as credentials.
struct ListenerAuthConfig {
  std::string token_file;            // a bearer token file (VKTokenFile, SidecarTokenFile)
  bool client_certs = false;         // the listener verifies client certificates (a client CA)
  const OidcConfig* oidc = nullptr;  // OIDC bearer JWTs (interlink only)
  std::vector<std::string> trusted_proxies;  // X-Forwarded-User from these (interlink only)
};

// The authenticator for a listener: any of the configured credentials is accepted.
// Null when nothing is configured (CheckListener then decides whether that is allowed).
Result<std::shared_ptr<Authenticator>> MakeListenerAuthenticator(const ListenerAuthConfig& config);

struct ServerOptions;

// Everything a daemon's main does to secure its protocol listener (so->listen and so->tls
// already set): builds the authenticator from `auth`, applies CheckListener (naming
// `keys_hint` when it refuses) and the config's body, worker and connection limits.
// *warning receives what to log when the escape hatch opened the listener.
Status SecureListener(const InterLinkConfig& cfg, const ListenerAuthConfig& auth,
                      const std::string& keys_hint, ServerOptions* so, std::string* warning);

}  // namespace il::protocol
