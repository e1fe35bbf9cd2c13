// Kubernetes resource quantities ("100m", "1.5", "2Gi", "1e3", "500M") parsed once, for
// every module that turns pod resources into backend settings (docker --cpus/--memory,
// Slurm --cpus-per-task/--mem, the VK's resourceFieldRef and capacity).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace il::api {

// The value in base units (cores, bytes, count). kInvalidArgument when malformed.
Result<long double> ParseQuantity(std::string_view s);
// Thousandths of the base unit, rounded up ("500m" -> 500, "2" -> 2000). Negative values
// are kInvalidArgument.
Result<int64_t> QuantityMilli(std::string_view s);
// The whole base-unit value rounded up ("128Mi" -> 134217728, "1.5k" -> 1500, "100m" -> 1).
// Negative values are kInvalidArgument.
Result<int64_t> QuantityWhole(std::string_view s);

}  // namespace il::api
