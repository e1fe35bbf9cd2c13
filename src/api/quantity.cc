#include "api/quantity.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace il::api {
namespace {

struct Suffix {
  std::string_view text;
  long double factor;
};

constexpr Suffix kSuffixes[] = {{"Ki", 1024.0L},
                                {"Mi", 1048576.0L},
                                {"Gi", 1073741824.0L},
                                {"Ti", 1099511627776.0L},
                                {"Pi", 1125899906842624.0L},
                                {"Ei", 1152921504606846976.0L},
                                {"n", 1e-9L},
                                {"u", 1e-6L},
                                {"m", 1e-3L},
                                {"k", 1e3L},
                                {"M", 1e6L},
                                {"G", 1e9L},
                                {"T", 1e12L},
                                {"P", 1e15L},
                                {"E", 1e18L}};

Status Bad(std::string_view s) {
  return InvalidArgument("'" + std::string(s) + "' is not a Kubernetes quantity");
}

}  // namespace

Result<long double> ParseQuantity(std::string_view s) {
  if (s.empty() || s.size() > 64) return Bad(s);
  std::string_view num = s;
  long double factor = 1.0L;
  for (const auto& suf : kSuffixes) {
    if (s.size() > suf.text.size() && s.substr(s.size() - suf.text.size()) == suf.text) {
      num = s.substr(0, s.size() - suf.text.size());
      factor = suf.factor;
      break;
    }
  }
  // Digits with an optional sign, fraction and (only without a suffix) exponent.
  size_t i = 0;
  if (i < num.size() && (num[i] == '+' || num[i] == '-')) ++i;
  bool digits = false, exponent = false;
  for (; i < num.size(); ++i) {
    char c = num[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !exponent) {
      continue;
    } else if ((c == 'e' || c == 'E') && digits && !exponent && factor == 1.0L) {
      exponent = true;
      if (i + 1 < num.size() && (num[i + 1] == '+' || num[i + 1] == '-')) ++i;
    } else {
      return Bad(s);
    }
  }
  if (!digits) return Bad(s);
  std::string text(num);
  char* end = nullptr;
  long double v = std::strtold(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return Bad(s);
  return v * factor;
}

Result<int64_t> QuantityMilli(std::string_view s) {
  IL_ASSIGN_OR_RETURN(long double v, ParseQuantity(s));
  if (v < 0) return InvalidArgument("quantity '" + std::string(s) + "' is negative");
  long double m = std::ceil(v * 1000.0L - 1e-9L);
  if (m > 9.2e18L) return InvalidArgument("quantity '" + std::string(s) + "' is too large");
  return static_cast<int64_t>(m);
}

Result<int64_t> QuantityWhole(std::string_view s) {
  IL_ASSIGN_OR_RETURN(long double v, ParseQuantity(s));
  if (v < 0) return InvalidArgument("quantity '" + std::string(s) + "' is negative");
  long double w = std::ceil(v - 1e-12L);
  if (w > 9.2e18L) return InvalidArgument("quantity '" + std::string(s) + "' is too large");
  return static_cast<int64_t>(w);
}

}  // namespace il::api
