// PodStatusFingerprint and KubectlStatus (declared in status_mapper.h).
#include <algorithm>

#include "api/pod.h"
#include "vk/status_mapper.h"

namespace il::vk {
namespace json = boost::json;
using api::GetInt;
using api::GetString;

namespace {

// A container state without times, numbers normalised to int64.
json::object StateFingerprint(const json::value& state) {
  json::object out;
  if (!state.is_object()) return out;
  for (const auto& [kind, v] : state.as_object()) {
    if (!v.is_object()) continue;
    json::object s;
    for (const char* k : {"reason", "message", "containerID"}) {
      if (auto x = GetString(v, {k}); !x.empty()) s[k] = x;
    }
    if (kind == "terminated") {
      s["exitCode"] = GetInt(v, {"exitCode"});
      s["signal"] = GetInt(v, {"signal"});
    }
    out[kind] = std::move(s);
  }
  return out;
}

bool Flag(const json::value& c, std::string_view key) {
  const auto* f = api::Find(c, {key});
  return f && f->is_bool() && f->as_bool();
}

json::array ContainersFingerprint(const json::value& status, std::string_view key) {
  json::array out;
  const auto* list = api::Find(status, {key});
  if (!list || !list->is_array()) return out;
  for (const auto& c : list->as_array()) {
    json::object f{{"name", GetString(c, {"name"})},
                   {"image", GetString(c, {"image"})},
                   {"restartCount", GetInt(c, {"restartCount"})},
                   {"ready", Flag(c, "ready")},
                   {"started", Flag(c, "started")}};
    if (const auto* s = api::Find(c, {"state"})) f["state"] = StateFingerprint(*s);
    if (const auto* s = api::Find(c, {"lastState"})) f["lastState"] = StateFingerprint(*s);
    if (auto id = GetString(c, {"containerID"}); !id.empty()) f["containerID"] = id;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const json::value& a, const json::value& b) {
    return GetString(a, {"name"}) < GetString(b, {"name"});
  });
  return out;
}

}  // namespace

json::value PodStatusFingerprint(const json::object& status) {
  json::value sv = status;
  json::object f;
  for (const char* k : {"phase", "reason", "message", "hostIP", "podIP"}) {
    if (auto x = GetString(sv, {k}); !x.empty()) f[k] = x;
  }
  json::array conds;
  if (const auto* cs = api::Find(sv, {"conditions"}); cs && cs->is_array()) {
    for (const auto& c : cs->as_array()) {
      std::string type = GetString(c, {"type"});
      if (type != "PodScheduled" && type != "Initialized" && type != "ContainersReady" &&
          type != "Ready") {
        continue;  // written by someone else; not ours to compare
      }
      conds.push_back(json::object{{"type", type},
                                   {"status", GetString(c, {"status"})},
                                   {"reason", GetString(c, {"reason"})},
                                   {"message", GetString(c, {"message"})}});
    }
  }
  std::sort(conds.begin(), conds.end(), [](const json::value& a, const json::value& b) {
    return GetString(a, {"type"}) < GetString(b, {"type"});
  });
  f["conditions"] = std::move(conds);
  f["containerStatuses"] = ContainersFingerprint(sv, "containerStatuses");
  f["initContainerStatuses"] = ContainersFingerprint(sv, "initContainerStatuses");
  f["hasStartTime"] = !GetString(sv, {"startTime"}).empty();
  return f;
}

std::string KubectlStatus(const json::value& pod) {
  std::string reason = GetString(pod, {"status", "phase"});
  if (auto r = GetString(pod, {"status", "reason"}); !r.empty()) reason = r;
  bool initializing = false;
  const auto* inits = api::Find(pod, {"status", "initContainerStatuses"});
  size_t n_init = api::InitContainers(pod).size();
  if (inits && inits->is_array()) {
    const auto& list = inits->as_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& c = list[i];
      const auto* term = api::Find(c, {"state", "terminated"});
      const auto* wait = api::Find(c, {"state", "waiting"});
      if (term && GetInt(*term, {"exitCode"}) == 0) continue;
      initializing = true;
      if (term) {
        std::string r = GetString(*term, {"reason"});
        reason = r.empty() ? "Init:ExitCode:" + std::to_string(GetInt(*term, {"exitCode"}))
                           : "Init:" + r;
      } else if (wait && !GetString(*wait, {"reason"}).empty() &&
                 GetString(*wait, {"reason"}) != "PodInitializing") {
        reason = "Init:" + GetString(*wait, {"reason"});
      } else {
        reason = "Init:" + std::to_string(i) + "/" + std::to_string(n_init);
      }
      break;
    }
  }
  if (!initializing) {
    bool has_running = false;
    const auto* mains = api::Find(pod, {"status", "containerStatuses"});
    if (mains && mains->is_array()) {
      const auto& list = mains->as_array();
      for (auto it = list.rbegin(); it != list.rend(); ++it) {
        const auto* term = api::Find(*it, {"state", "terminated"});
        const auto* wait = api::Find(*it, {"state", "waiting"});
        if (wait && !GetString(*wait, {"reason"}).empty()) {
          reason = GetString(*wait, {"reason"});
        } else if (term && !GetString(*term, {"reason"}).empty()) {
          reason = GetString(*term, {"reason"});
        } else if (term) {
          reason = "ExitCode:" + std::to_string(GetInt(*term, {"exitCode"}));
        } else if (api::Find(*it, {"state", "running"})) {
          has_running = true;
        }
      }
    }
    if (reason == "Completed" && has_running) reason = "Running";
  }
  if (api::Find(pod, {"metadata", "deletionTimestamp"})) reason = "Terminating";
  return reason;
}

}  // namespace il::vk
