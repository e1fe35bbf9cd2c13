// Authenticator: decides who a request comes from, from its headers, peer address and
// TLS client certificate alone (the body is not read yet when it runs, so an
// unauthenticated caller cannot make a server buffer a large body).
//
// kUnauthenticated (401) when no usable credential was presented, kPermissionDenied (403)
// when one was presented but is wrong or not allowed; any other error (a JWKS or
// TokenReview endpoint that cannot be reached) is answered as it is (503, 504...).
// Implementations: TokenAuth (a bearer token file), the OIDC JWT validator, the kubelet
// API's x509 + TokenReview authenticator, and AnyOf (the first that recognises the
// credential decides).
//
// Thread-safety: Authenticate() is called concurrently from request workers and may
// block (a JWKS fetch, a TokenReview call).
#pragma once

#include <memory>
#include <vector>

#include "core/http.h"
#include "core/status.h"

namespace il {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<http::Identity> Authenticate(const http::Request& head) = 0;
  // A short description for start-up logs ("bearer token file /etc/...", "OIDC issuer ...").
  virtual std::string Describe() const = 0;
};

// Tries each authenticator in order. The first that accepts wins; if none accepts, the
// most specific failure is returned (403 over 401: a credential was presented but
// refused). With no authenticators every request is kUnauthenticated.
class AnyOfAuthenticator : public Authenticator {
 public:
  explicit AnyOfAuthenticator(std::vector<std::unique_ptr<Authenticator>> list)
      : list_(std::move(list)) {}
  Result<http::Identity> Authenticate(const http::Request& head) override;
  std::string Describe() const override;
  bool empty() const { return list_.empty(); }

 private:
  std::vector<std::unique_ptr<Authenticator>> list_;
};

}  // namespace il

namespace il {

// Accepts callers whose TLS client certificate the server verified against its client
// CA (ServerOptions::tls.ca_file): the user is the certificate's CN, the groups its O.
class ClientCertAuthenticator : public Authenticator {
 public:
  Result<http::Identity> Authenticate(const http::Request& head) override {
    if (!head.client_cert.verified) {
      return Status(StatusCode::kUnauthenticated, "no verified client certificate");
    }
    return http::Identity{head.client_cert.common_name, head.client_cert.organizations, "x509"};
  }
  std::string Describe() const override { return "TLS client certificate"; }
};

}  // namespace il
