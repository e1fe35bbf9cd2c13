// A self-signed serving certificate for the kubelet API when none is configured
// (CN system:node:<node>, SAN IP:<InternalIP> and DNS:<node>, serverAuth, one year),
// made with the OpenSSL API at start-up.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "core/status.h"

namespace il::vk {

struct PemPair {
  std::string cert;
  std::string key;
};

Result<PemPair> MakeSelfSignedCert(const std::string& node_name, const std::string& ip);

}  // namespace il::vk
