#include "sidecars/slurm/resources.h"

#include <cmath>
#include <string>

#include "api/pod.h"

namespace il::slurm {
namespace {

namespace json = boost::json;

// Splits "1.5Gi" into the number 1.5 and the suffix "Gi".
Result<std::pair<long double, std::string>> SplitQuantity(std::string_view q) {
  std::string s(q);
  if (s.empty()) return InvalidArgument("empty quantity");
  size_t i = 0;
  if (s[i] == '+') ++i;
  size_t start = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == start) return InvalidArgument("quantity '" + s + "' does not start with a number");
  std::string num = s.substr(start, i - start);
  std::string suffix = s.substr(i);
  // Decimal exponent form: 1e9, 2E3.
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
    size_t j = 1;
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    bool digits = j < suffix.size();
    for (size_t k = j; k < suffix.size(); ++k)
      digits = digits && std::isdigit(static_cast<unsigned char>(suffix[k]));
    if (digits) {
      num += suffix;
      suffix.clear();
    }
  }
  try {
    size_t used = 0;
    long double v = std::stold(num, &used);
    if (used != num.size() || v < 0 || !std::isfinite(static_cast<double>(v)))
      throw std::invalid_argument("x");
    return std::make_pair(v, suffix);
  } catch (const std::exception&) {
    return InvalidArgument("quantity '" + s + "' is not a number");
  }
}

Result<long double> Multiplier(const std::string& suffix, const std::string& q) {
  static const std::pair<const char*, long double> kTable[] = {{"", 1.0L},
                                                               {"m", 1e-3L},
                                                               {"k", 1e3L},
                                                               {"M", 1e6L},
                                                               {"G", 1e9L},
                                                               {"T", 1e12L},
                                                               {"P", 1e15L},
                                                               {"E", 1e18L},
                                                               {"Ki", 1024.0L},
                                                               {"Mi", 1048576.0L},
                                                               {"Gi", 1073741824.0L},
                                                               {"Ti", 1099511627776.0L},
                                                               {"Pi", 1125899906842624.0L},
                                                               {"Ei", 1152921504606846976.0L}};
  for (const auto& [s, m] : kTable) {
    if (suffix == s) return m;
  }
  return InvalidArgument("quantity '" + q + "' has an unknown suffix '" + suffix + "'");
}

Result<long double> ParseValue(std::string_view q) {
  IL_ASSIGN_OR_RETURN(auto parts, SplitQuantity(q));
  IL_ASSIGN_OR_RETURN(long double m, Multiplier(parts.second, std::string(q)));
  long double v = parts.first * m;
  if (v > 9e18L) return InvalidArgument("quantity '" + std::string(q) + "' is too large");
  return v;
}

// One container's value for a resource: limits first, then requests.
const json::value* ResourceOf(const json::value& c, std::string_view key) {
  if (const auto* l = api::Find(c, {"resources", "limits", key})) return l;
  return api::Find(c, {"resources", "requests", key});
}

Result<std::optional<int64_t>> ContainerValue(const json::value& c, std::string_view key,
                                              Result<int64_t> (*parse)(std::string_view)) {
  const json::value* v = ResourceOf(c, key);
  if (!v) return std::optional<int64_t>();
  std::string text;
  if (v->is_string()) {
    text = std::string(v->as_string());
  } else if (v->is_int64() || v->is_uint64() || v->is_double()) {
    text = json::serialize(*v);
  } else {
    return InvalidArgument("container " + api::GetString(c, {"name"}) + ": resource " +
                           std::string(key) + " must be a quantity");
  }
  auto r = parse(text);
  if (!r.ok()) {
    return r.status().WithContext("container " + api::GetString(c, {"name"}) + ": " +
                                  std::string(key));
  }
  return std::optional<int64_t>(*r);
}

Result<int64_t> ParseCount(std::string_view q) {
  IL_ASSIGN_OR_RETURN(long double v, ParseValue(q));
  return static_cast<int64_t>(std::ceil(v));
}

// max(largest init container, sum of app containers); nullopt when nobody set it.
Result<std::optional<int64_t>> Effective(const json::value& pod, std::string_view key,
                                         Result<int64_t> (*parse)(std::string_view)) {
  std::optional<int64_t> init_max, app_sum;
  for (const auto& c : api::InitContainers(pod)) {
    IL_ASSIGN_OR_RETURN(auto v, ContainerValue(c, key, parse));
    if (v) init_max = std::max(init_max.value_or(0), *v);
  }
  for (const auto& c : api::Containers(pod)) {
    IL_ASSIGN_OR_RETURN(auto v, ContainerValue(c, key, parse));
    if (v) app_sum = app_sum.value_or(0) + *v;
  }
  if (!init_max && !app_sum) return std::optional<int64_t>();
  return std::optional<int64_t>(std::max(init_max.value_or(0), app_sum.value_or(0)));
}

}  // namespace

Result<int64_t> ParseCpuMillis(std::string_view q) {
  IL_ASSIGN_OR_RETURN(long double v, ParseValue(q));
  return static_cast<int64_t>(std::ceil(v * 1000.0L - 1e-6L));
}

Result<int64_t> ParseBytes(std::string_view q) {
  IL_ASSIGN_OR_RETURN(long double v, ParseValue(q));
  return static_cast<int64_t>(std::ceil(v - 1e-9L));
}

Result<PodResources> ComputePodResources(const json::value& pod) {
  PodResources r;
  IL_ASSIGN_OR_RETURN(r.cpu_millis, Effective(pod, "cpu", &ParseCpuMillis));
  IL_ASSIGN_OR_RETURN(r.memory_bytes, Effective(pod, "memory", &ParseBytes));
  IL_ASSIGN_OR_RETURN(auto nv, Effective(pod, "nvidia.com/gpu", &ParseCount));
  IL_ASSIGN_OR_RETURN(auto amd, Effective(pod, "amd.com/gpu", &ParseCount));
  if (nv || amd) r.gpus = nv.value_or(0) + amd.value_or(0);
  return r;
}

int64_t BytesToMiB(int64_t bytes) { return std::max<int64_t>(1, (bytes + 1048575) / 1048576); }

int64_t MillisToCpus(int64_t millis) { return std::max<int64_t>(1, (millis + 999) / 1000); }

}  // namespace il::slurm
