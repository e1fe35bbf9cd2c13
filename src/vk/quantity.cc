#include "vk/quantity.h"

#include <cmath>

#include "api/quantity.h"

namespace il::vk {

std::optional<std::string> DivideQuantity(std::string_view value, std::string_view divisor) {
  auto v = api::ParseQuantity(value);
  auto d = api::ParseQuantity(divisor.empty() ? "1" : divisor);
  if (!v.ok() || !d.ok() || *d == 0) return std::nullopt;
  long double q = std::ceil(*v / *d - 1e-9L);
  if (!std::isfinite(q) || q > 9e18L || q < -9e18L) return std::nullopt;  // no UB cast
  return std::to_string(static_cast<long long>(q));
}

}  // namespace il::vk
