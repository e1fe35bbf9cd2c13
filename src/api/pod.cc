#include "api/pod.h"

#include <cstdio>
#include <ctime>

namespace il::api {

const json::value* Find(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(key);
    if (!cur) return nullptr;
  }
  return cur;
}

std::string GetString(const json::value& v, std::initializer_list<std::string_view> path) {
  const auto* f = Find(v, path);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

int64_t GetInt(const json::value& v, std::initializer_list<std::string_view> path, int64_t def) {
  const auto* f = Find(v, path);
  if (!f) return def;
  if (f->is_int64()) return f->as_int64();
  if (f->is_uint64()) return static_cast<int64_t>(f->as_uint64());
  if (f->is_double()) return static_cast<int64_t>(f->as_double());
  return def;
}

std::string PodName(const json::value& pod) { return GetString(pod, {"metadata", "name"}); }
std::string PodNamespace(const json::value& pod) {
  return GetString(pod, {"metadata", "namespace"});
}
std::string PodUid(const json::value& pod) { return GetString(pod, {"metadata", "uid"}); }

std::optional<std::string> Annotation(const json::value& pod, std::string_view key) {
  const auto* a = Find(pod, {"metadata", "annotations"});
  if (!a || !a->is_object()) return std::nullopt;
  const auto* v = a->as_object().if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

namespace {
const json::array& ArrayAt(const json::value& pod, std::string_view key) {
  static const json::array kEmpty;
  const auto* f = Find(pod, {"spec", key});
  return f && f->is_array() ? f->as_array() : kEmpty;
}
}  // namespace

const json::array& Containers(const json::value& pod) { return ArrayAt(pod, "containers"); }
const json::array& InitContainers(const json::value& pod) { return ArrayAt(pod, "initContainers"); }

int64_t GracePeriodSeconds(const json::value& pod) {
  if (const auto* f = Find(pod, {"metadata", "deletionGracePeriodSeconds"}); f && f->is_number()) {
    return GetInt(pod, {"metadata", "deletionGracePeriodSeconds"}, 30);
  }
  return GetInt(pod, {"spec", "terminationGracePeriodSeconds"}, 30);
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Rfc3339Nano(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  std::string s = Rfc3339(secs);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(ns));
  s.insert(s.size() - 1, frac);
  return s;
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  int Y, M, D, h, m, sec;
  if (s.size() < 20) return std::nullopt;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &Y, &M, &D, &h, &m, &sec) != 6) {
    return std::nullopt;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 ||
      sec > 60) {
    return std::nullopt;
  }
  // system_clock counts int64 nanoseconds: 1677-09-21 to 2262-04-11 (UBSan found the
  // overflow of a year-9999 stamp through the fuzz corpus).
  if (Y < 1678 || Y > 2261) return std::nullopt;
  size_t i = 19;
  long long nanos = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && std::isdigit(static_cast<unsigned char>(str[i]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (str[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    while (digits++ < 9) nanos *= 10;
  }
  long offset = 0;
  if (i < str.size() && (str[i] == 'Z' || str[i] == 'z')) {
    ++i;
  } else if (i + 6 == str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh, om;
    if (std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (int64_t{oh} * 3600 + int64_t{om} * 60) * (str[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != str.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  std::time_t tt = timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(tt - offset);
  return tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::nanoseconds(nanos));
}

json::object WaitingStatus(const std::string& name, const std::string& image,
                           const std::string& reason, const std::string& message) {
  json::object waiting{{"reason", reason}};
  if (!message.empty()) waiting["message"] = message;
  return json::object{{"name", name},
                      {"image", image},
                      {"imageID", ""},
                      {"ready", false},
                      {"restartCount", 0},
                      {"started", false},
                      {"state", json::object{{"waiting", std::move(waiting)}}}};
}

json::object RunningStatus(const std::string& name, const std::string& image,
                           std::chrono::system_clock::time_point started) {
  return json::object{
      {"name", name},
      {"image", image},
      {"imageID", ""},
      {"ready", true},
      {"restartCount", 0},
      {"started", true},
      {"state", json::object{{"running", json::object{{"startedAt", Rfc3339(started)}}}}}};
}

json::object TerminatedStatus(const std::string& name, const std::string& image, int exit_code,
                              const std::string& reason, const std::string& message,
                              std::chrono::system_clock::time_point started,
                              std::chrono::system_clock::time_point finished) {
  json::object term{{"exitCode", exit_code},
                    {"reason", reason.empty() ? (exit_code == 0 ? "Completed" : "Error") : reason},
                    {"startedAt", Rfc3339(started)},
                    {"finishedAt", Rfc3339(finished)}};
  if (!message.empty()) term["message"] = message;
  return json::object{{"name", name},
                      {"image", image},
                      {"imageID", ""},
                      {"ready", false},
                      {"restartCount", 0},
                      {"started", false},
                      {"state", json::object{{"terminated", std::move(term)}}}};
}

}  // namespace il::api
