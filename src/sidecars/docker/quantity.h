// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1G", "2e3") as Docker wants them.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace il::docker {

// The quantity in thousandths ("500m" -> 500, "2" -> 2000, "1Ki" -> 1024000). Rounds up, as
// Kubernetes does for CPU. kInvalidArgument for malformed or negative values.
Result<int64_t> ParseMilli(std::string_view quantity);
// The quantity as a whole number, rounded up ("128Mi" -> 134217728, "1.5k" -> 1500).
Result<int64_t> ParseWhole(std::string_view quantity);

}  // namespace il::docker
