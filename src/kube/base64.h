// Base64 for kubeconfig `-data` fields and Secret values: the shared implementation in
// core/base64.h, under the names this module has always used.
#pragma once

#include "core/base64.h"

namespace il::kube {
using ::il::Base64Decode;
using ::il::Base64Encode;
}  // namespace il::kube
