#include "vk/quantity.h"

#include <cmath>
#include <cstdlib>
#include <map>

namespace il::vk {

std::optional<long double> ParseQuantity(std::string_view s) {
  if (s.empty()) return std::nullopt;
  static const std::map<std::string, long double> kSuffix = {
      {"", 1},       {"n", 1e-9},  {"u", 1e-6},  {"m", 1e-3},  {"k", 1e3},
      {"M", 1e6},    {"G", 1e9},   {"T", 1e12},  {"P", 1e15},  {"E", 1e18},
      {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}};
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') ++i;
  size_t digits_start = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == digits_start) return std::nullopt;
  std::string number(s.substr(0, i));
  std::string suffix(s.substr(i));
  char* end = nullptr;
  long double v = std::strtold(number.c_str(), &end);
  if (!end || *end != '\0') return std::nullopt;
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string exp = suffix.substr(1);
    char* e2 = nullptr;
    long x = std::strtol(exp.c_str(), &e2, 10);
    if (exp.empty() || !e2 || *e2 != '\0') return std::nullopt;
    return v * std::pow(10.0L, static_cast<long double>(x));
  }
  auto it = kSuffix.find(suffix);
  if (it == kSuffix.end()) return std::nullopt;
  return v * it->second;
}

std::optional<std::string> DivideQuantity(std::string_view value, std::string_view divisor) {
  auto v = ParseQuantity(value);
  auto d = ParseQuantity(divisor.empty() ? "1" : divisor);
  if (!v || !d || *d == 0) return std::nullopt;
  long double q = std::ceil(*v / *d - 1e-9L);
  return std::to_string(static_cast<long long>(q));
}

}  // namespace il::vk
