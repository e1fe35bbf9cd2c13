// KubeletServer's /stats/summary and /metrics/resource: start times and nothing else,
// because the backend does not report usage (no invented numbers).
#include <sstream>

#include "api/pod.h"
#include "vk/kubelet_server.h"

namespace il::vk {
namespace json = boost::json;

namespace {

// Container name -> start time, from the status we last wrote.
std::vector<std::pair<std::string, std::string>> ContainerStarts(const json::value& view) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto* list = api::Find(view, {"status", "containerStatuses"});
  if (!list || !list->is_array()) return out;
  for (const auto& c : list->as_array()) {
    std::string t = api::GetString(c, {"state", "running", "startedAt"});
    if (t.empty()) t = api::GetString(c, {"state", "terminated", "startedAt"});
    if (!t.empty()) out.emplace_back(api::GetString(c, {"name"}), t);
  }
  return out;
}

std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void KubeletServer::ServeStats(const http::Request&, http::ResponseWriter& w) {
  json::array pods;
  for (const auto& view : pods_.Views()) {
    std::string start = api::GetString(view, {"status", "startTime"});
    if (start.empty()) continue;
    json::array containers;
    for (const auto& [name, t] : ContainerStarts(view)) {
      containers.push_back(json::object{{"name", name}, {"startTime", t}});
    }
    pods.push_back(json::object{{"podRef",
                                 {{"name", api::PodName(view)},
                                  {"namespace", api::PodNamespace(view)},
                                  {"uid", api::PodUid(view)}}},
                                {"startTime", start},
                                {"containers", std::move(containers)}});
  }
  json::object summary{{"node",
                        {{"nodeName", opt_.node_name},
                         {"startTime", api::Rfc3339(started_)},
                         {"systemContainers", json::array{}}}},
                       {"pods", std::move(pods)}};
  w.Reply(200, json::serialize(summary));
}

void KubeletServer::ServeMetrics(const http::Request&, http::ResponseWriter& w) {
  std::ostringstream out;
  out << "# HELP container_start_time_seconds [ALPHA] Start time of the container since unix "
         "epoch in seconds\n# TYPE container_start_time_seconds gauge\n";
  for (const auto& view : pods_.Views()) {
    for (const auto& [name, t] : ContainerStarts(view)) {
      auto tp = api::ParseRfc3339(t);
      if (!tp) continue;
      double secs = std::chrono::duration<double>(tp->time_since_epoch()).count();
      out << "container_start_time_seconds{container=\"" << Label(name) << "\",namespace=\""
          << Label(api::PodNamespace(view)) << "\",pod=\"" << Label(api::PodName(view)) << "\"} "
          << std::fixed << secs << "\n";
    }
  }
  out << "# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, "
         "0 otherwise\n# TYPE scrape_error gauge\nscrape_error 0\n";
  w.Reply(200, out.str(), "text/plain; version=0.0.4");
}

}  // namespace il::vk
