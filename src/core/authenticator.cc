#include "core/authenticator.h"

namespace il {

Result<http::Identity> AnyOfAuthenticator::Authenticate(const http::Request& head) {
  Status worst(StatusCode::kUnauthenticated, "no credentials");
  for (const auto& a : list_) {
    auto r = a->Authenticate(head);
    if (r.ok()) return r;
    const Status& s = r.status();
    if (s.code() == StatusCode::kUnauthenticated) continue;
    // A refusal or an infrastructure error is more telling than "no credentials".
    if (worst.code() == StatusCode::kUnauthenticated) worst = s;
  }
  return worst;
}

std::string AnyOfAuthenticator::Describe() const {
  if (list_.empty()) return "nothing (every request refused)";
  std::string out;
  for (const auto& a : list_) {
    if (!out.empty()) out += " or ";
    out += a->Describe();
  }
  return out;
}

}  // namespace il
