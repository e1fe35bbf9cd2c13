// Kubernetes resource quantities ("100m", "1.5", "2Gi", "1e3") as numbers, for
// resourceFieldRef env values and downward-API files.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace il::vk {

// The value in base units (cores, bytes); nullopt when malformed.
std::optional<long double> ParseQuantity(std::string_view s);

// The kubelet's rendering of a resourceFieldRef: ceil(value / divisor) as an integer
// string (divisor "" = "1"). nullopt when either quantity is malformed or divisor is 0.
std::optional<std::string> DivideQuantity(std::string_view value, std::string_view divisor);

}  // namespace il::vk
