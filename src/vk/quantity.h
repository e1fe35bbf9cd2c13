// The kubelet's rendering of a resourceFieldRef (env value or downward-API file) on top
// of api/quantity.h.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace il::vk {

// ceil(value / divisor) as an integer string (divisor "" = "1"); nullopt when either
// quantity is malformed or the divisor is 0.
std::optional<std::string> DivideQuantity(std::string_view value, std::string_view divisor);

}  // namespace il::vk
