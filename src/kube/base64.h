// Base64 decoding (standard alphabet, padding optional, whitespace ignored) for kubeconfig
// `-data` fields and Secret values.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace il::kube {

Result<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace il::kube
