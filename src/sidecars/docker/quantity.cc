#include "sidecars/docker/quantity.h"

#include <cctype>
#include <cmath>
#include <string>

namespace il::docker {
namespace {

struct Suffix {
  std::string_view name;
  long double factor;
};

constexpr Suffix kSuffixes[] = {
    {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
    {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L},
    {"n", 1e-9L}, {"u", 1e-6L}, {"m", 1e-3L}, {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L},
    {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L}};

Result<long double> Parse(std::string_view q) {
  auto bad = [&] { return InvalidArgument("'" + std::string(q) + "' is not a valid quantity"); };
  if (q.empty() || q.size() > 64) return bad();
  size_t i = 0;
  if (q[i] == '+') ++i;
  size_t digits_start = i;
  bool dot = false;
  while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || (q[i] == '.' && !dot))) {
    dot = dot || q[i] == '.';
    ++i;
  }
  std::string number(q.substr(digits_start, i - digits_start));
  if (number.empty() || number == ".") return bad();
  long double value = std::stold(number);
  std::string_view rest = q.substr(i);
  if (!rest.empty() && (rest[0] == 'e' || rest[0] == 'E') && rest.size() > 1 &&
      (std::isdigit(static_cast<unsigned char>(rest[1])) || rest[1] == '-' || rest[1] == '+')) {
    size_t j = 1;
    if (rest[j] == '-' || rest[j] == '+') ++j;
    size_t exp_start = j;
    while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j;
    if (j == exp_start || j != rest.size() || j - exp_start > 3) return bad();
    return value * std::pow(10.0L, std::stold(std::string(rest.substr(1))));
  }
  if (rest.empty()) return value;
  for (const auto& s : kSuffixes) {
    if (rest == s.name) return value * s.factor;
  }
  return bad();
}

Result<int64_t> Scaled(std::string_view q, long double scale) {
  IL_ASSIGN_OR_RETURN(long double v, Parse(q));
  long double r = std::ceil(v * scale - 1e-9L);
  if (r > 9.2e18L) return InvalidArgument("'" + std::string(q) + "' is too large");
  return static_cast<int64_t>(r);
}

}  // namespace

Result<int64_t> ParseMilli(std::string_view quantity) { return Scaled(quantity, 1000.0L); }
Result<int64_t> ParseWhole(std::string_view quantity) { return Scaled(quantity, 1.0L); }

}  // namespace il::docker
