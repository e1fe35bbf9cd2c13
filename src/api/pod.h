// Typed read-only views of Kubernetes objects held as JSON, and builders for the
// container statuses sidecars report.
//
// Accessors return empty values for missing fields; they never throw.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace il::api {
namespace json = boost::json;

// Field lookup by path: Get(pod, {"metadata", "name"}); nullptr when absent.
const json::value* Find(const json::value& v, std::initializer_list<std::string_view> path);
std::string GetString(const json::value& v, std::initializer_list<std::string_view> path);
int64_t GetInt(const json::value& v, std::initializer_list<std::string_view> path, int64_t def = 0);

std::string PodName(const json::value& pod);
std::string PodNamespace(const json::value& pod);
std::string PodUid(const json::value& pod);
// metadata.annotations[key], or nullopt.
std::optional<std::string> Annotation(const json::value& pod, std::string_view key);
// spec.containers / spec.initContainers (empty array when absent).
const json::array& Containers(const json::value& pod);
const json::array& InitContainers(const json::value& pod);
// spec.terminationGracePeriodSeconds, else metadata.deletionGracePeriodSeconds, else 30.
int64_t GracePeriodSeconds(const json::value& pod);

// RFC 3339 UTC timestamp of a time point, as Kubernetes writes it.
std::string Rfc3339(std::chrono::system_clock::time_point t);
std::string Rfc3339Nano(std::chrono::system_clock::time_point t);
// Parses RFC 3339 (with optional fraction and Z or +hh:mm); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);

// V1ContainerStatus builders.
json::object WaitingStatus(const std::string& name, const std::string& image,
                           const std::string& reason, const std::string& message);
json::object RunningStatus(const std::string& name, const std::string& image,
                           std::chrono::system_clock::time_point started);
json::object TerminatedStatus(const std::string& name, const std::string& image, int exit_code,
                              const std::string& reason, const std::string& message,
                              std::chrono::system_clock::time_point started,
                              std::chrono::system_clock::time_point finished);

}  // namespace il::api
