#include "vk/status_mapper.h"

#include <algorithm>
#include <map>

#include "api/pod.h"

namespace il::vk {
namespace json = boost::json;
using api::GetInt;
using api::GetString;

namespace {

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const auto* f = o.if_contains(key);
  return f && f->is_object() ? &f->as_object() : nullptr;
}
// Not for objects: converting one to a value would make a temporary copy.
const json::object* ObjectAt(const json::value& v, std::string_view key) {
  return v.is_object() ? ObjectAt(v.as_object(), key) : nullptr;
}

// Backend container statuses by name.
std::map<std::string, const json::value*> ByName(const json::array& list) {
  std::map<std::string, const json::value*> m;
  for (const auto& c : list) m[GetString(c, {"name"})] = &c;
  return m;
}

// Previously written container statuses by name (for times we must keep stable).
std::map<std::string, const json::value*> PreviousByName(const json::value& pod,
                                                         std::string_view key) {
  const auto* f = api::Find(pod, {"status", key});
  return f && f->is_array() ? ByName(f->as_array()) : std::map<std::string, const json::value*>{};
}

std::string TimeOr(const json::object& o, std::string_view key, const json::value* prev_state,
                   std::string_view state_kind, const std::string& now) {
  if (auto* t = o.if_contains(key); t && t->is_string() && !t->as_string().empty()) {
    return std::string(t->as_string());
  }
  if (prev_state) {
    std::string p = GetString(*prev_state, {"state", state_kind, key});
    if (!p.empty()) return p;
  }
  return now;
}

struct Normalized {
  json::object status;
  enum Kind { kWaiting, kRunning, kTerminated } kind = kWaiting;
  int64_t exit_code = 0;
  bool had_failure_before = false;  // lastState terminated non-zero (restarting after failure)
  bool started = false;             // running, and the startup probe (if any) succeeded
  bool ready = false;               // started, and the readiness probe (if any) succeeded
};

// The reported boolean `key` of a container status; true when absent or not a boolean.
bool ReportedFlag(const json::value* reported, std::string_view key) {
  const auto* f =
      reported && reported->is_object() ? reported->as_object().if_contains(key) : nullptr;
  return !f || !f->is_bool() || f->as_bool();
}

Normalized NormalizeContainer(const json::value& spec, const json::value* reported,
                              const json::value* previous, const std::string& waiting_reason,
                              const std::string& now) {
  Normalized n;
  std::string name = GetString(spec, {"name"});
  json::object& o = n.status;
  o["name"] = name;
  std::string image = reported ? GetString(*reported, {"image"}) : "";
  o["image"] = image.empty() ? GetString(spec, {"image"}) : image;
  o["imageID"] = reported ? GetString(*reported, {"imageID"}) : "";
  if (reported) {
    if (auto id = GetString(*reported, {"containerID"}); !id.empty()) o["containerID"] = id;
  }
  o["restartCount"] = reported ? GetInt(*reported, {"restartCount"}) : 0;
  const json::object* state = reported ? ObjectAt(*reported, "state") : nullptr;
  const json::object* run = state ? ObjectAt(*state, "running") : nullptr;
  const json::object* term = state ? ObjectAt(*state, "terminated") : nullptr;
  const json::object* wait = state ? ObjectAt(*state, "waiting") : nullptr;
  if (term) {
    n.kind = Normalized::kTerminated;
    n.exit_code = GetInt(*term, {"exitCode"});
    json::object t;
    t["exitCode"] = n.exit_code;
    if (auto sig = GetInt(*term, {"signal"}); sig != 0) t["signal"] = sig;
    std::string reason = GetString(*term, {"reason"});
    t["reason"] = reason.empty() ? (n.exit_code == 0 ? "Completed" : "Error") : reason;
    if (auto m = GetString(*term, {"message"}); !m.empty()) t["message"] = m;
    t["startedAt"] = TimeOr(*term, "startedAt", previous, "terminated", now);
    t["finishedAt"] = TimeOr(*term, "finishedAt", previous, "terminated", now);
    if (auto id = GetString(*term, {"containerID"}); !id.empty()) t["containerID"] = id;
    o["state"] = json::object{{"terminated", t}};
  } else if (run) {
    n.kind = Normalized::kRunning;
    o["state"] = json::object{
        {"running", {{"startedAt", TimeOr(*run, "startedAt", previous, "running", now)}}}};
  } else {
    json::object w{{"reason", waiting_reason}};
    if (wait) {
      if (auto r = GetString(*wait, {"reason"}); !r.empty()) w["reason"] = r;
      if (auto m = GetString(*wait, {"message"}); !m.empty()) w["message"] = m;
    }
    o["state"] = json::object{{"waiting", w}};
  }
  if (reported) {
    if (const auto* last = ObjectAt(*reported, "lastState"); last && !last->empty()) {
      o["lastState"] = *last;
      if (const auto* lt = ObjectAt(*last, "terminated")) {
        n.had_failure_before = GetInt(*lt, {"exitCode"}) != 0;
      }
    }
  }
  if (!o.contains("lastState")) o["lastState"] = json::object{};
  // A plugin that runs probes says whether the container has started (startup probe) and is
  // ready (readiness probe); one that reports neither is taken as "running is ready".
  const bool running = n.kind == Normalized::kRunning;
  n.started = running && ReportedFlag(reported, "started");
  n.ready = n.started && ReportedFlag(reported, "ready");
  o["ready"] = n.ready;
  o["started"] = n.started;
  return n;
}

json::object Condition(const json::value& pod, const std::string& type, bool ok,
                       const std::string& reason, const std::string& message,
                       const std::string& now) {
  std::string s = ok ? "True" : "False";
  std::string transition = now;
  if (const auto* conds = api::Find(pod, {"status", "conditions"}); conds && conds->is_array()) {
    for (const auto& c : conds->as_array()) {
      if (GetString(c, {"type"}) == type && GetString(c, {"status"}) == s) {
        if (auto t = GetString(c, {"lastTransitionTime"}); !t.empty()) transition = t;
      }
    }
  }
  // Empty reason/message are explicit nulls: the strategic merge patch merges conditions
  // by type, so an omitted field would keep the previous value.
  json::object c{{"type", type},
                 {"status", s},
                 {"lastProbeTime", nullptr},
                 {"lastTransitionTime", transition}};
  c["reason"] = reason.empty() ? json::value(nullptr) : json::value(reason);
  c["message"] = message.empty() ? json::value(nullptr) : json::value(message);
  return c;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
  return s + "]";
}

}  // namespace

std::string PhaseOf(const json::value& status) { return GetString(status, {"phase"}); }

bool IsTerminalPhase(std::string_view phase) { return phase == "Succeeded" || phase == "Failed"; }

json::object MapPodStatus(const json::value& pod, const std::optional<api::PodStatus>& backend,
                          const PodFacts& facts) {
  const std::string now = api::Rfc3339(facts.now);
  std::string restart = GetString(pod, {"spec", "restartPolicy"});
  if (restart.empty()) restart = "Always";
  static const json::array kNone;
  auto reported_init = ByName(backend ? backend->init_containers : kNone);
  auto reported_main = ByName(backend ? backend->containers : kNone);
  auto prev_init = PreviousByName(pod, "initContainerStatuses");
  auto prev_main = PreviousByName(pod, "containerStatuses");
  auto find = [](auto& m, const std::string& k) -> const json::value* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : it->second;
  };

  // Init containers, in order.
  json::array init_out;
  int done = 0, failed_init = 0;
  std::vector<std::string> incomplete;
  for (const auto& spec : api::InitContainers(pod)) {
    std::string name = GetString(spec, {"name"});
    auto n = NormalizeContainer(spec, find(reported_init, name), find(prev_init, name),
                                "PodInitializing", now);
    if (n.kind == Normalized::kTerminated && n.exit_code == 0) {
      ++done;
    } else {
      incomplete.push_back(name);
      if ((n.kind == Normalized::kTerminated && n.exit_code != 0) ||
          (n.kind == Normalized::kWaiting && n.had_failure_before)) {
        ++failed_init;
      }
    }
    init_out.push_back(std::move(n.status));
  }
  const bool initialized = incomplete.empty();

  // Main containers.
  json::array main_out;
  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  std::vector<std::string> unready;
  for (const auto& spec : api::Containers(pod)) {
    std::string name = GetString(spec, {"name"});
    const json::value* rep = initialized ? find(reported_main, name) : nullptr;
    auto n = NormalizeContainer(spec, rep, find(prev_main, name),
                                initialized ? "ContainerCreating" : "PodInitializing", now);
    if (!facts.config_error_reason.empty() && !rep) {
      n.status["state"] = json::object{
          {"waiting",
           {{"reason", facts.config_error_reason}, {"message", facts.config_error_message}}}};
    }
    if (facts.create_error) {
      n.kind = Normalized::kWaiting;
      n.status["state"] = json::object{
          {"waiting", {{"reason", "ProviderFailed"}, {"message", *facts.create_error}}}};
    } else if (facts.lost && n.kind != Normalized::kTerminated) {
      n.kind = Normalized::kTerminated;
      n.exit_code = 137;
      n.status["state"] =
          json::object{{"terminated",
                        {{"exitCode", 137},
                         {"reason", "ContainerStatusUnknown"},
                         {"message", "The backend no longer reports this container"},
                         {"startedAt", now},
                         {"finishedAt", now}}}};
    }
    if (n.kind != Normalized::kRunning) {
      n.ready = n.started = false;
      n.status["ready"] = false;
      n.status["started"] = false;
    }
    switch (n.kind) {
      case Normalized::kRunning:
        ++running;
        break;
      case Normalized::kTerminated:
        ++stopped;
        if (n.exit_code == 0) ++succeeded;
        break;
      case Normalized::kWaiting:
        if (n.had_failure_before)
          ++stopped;
        else
          ++waiting;
        break;
    }
    if (!n.ready) unready.push_back(name);
    main_out.push_back(std::move(n.status));
  }

  // Phase (kubelet getPhase).
  std::string phase;
  std::string reason, message;
  if (facts.create_error) {
    phase = "Failed";
    reason = "ProviderFailed";
    message = *facts.create_error;
  } else if (facts.lost) {
    phase = "Failed";
    reason = "NotFound";
    message = "The backend no longer reports this pod";
  } else if (failed_init > 0 && restart == "Never") {
    phase = "Failed";
  } else if (!initialized || waiting > 0) {
    phase = "Pending";
  } else if (running > 0) {
    phase = "Running";
  } else if (stopped > 0) {
    if (restart == "Always")
      phase = "Running";
    else if (stopped == succeeded)
      phase = "Succeeded";
    else if (restart == "Never")
      phase = "Failed";
    else
      phase = "Running";
  } else {
    phase = "Pending";
  }
  const bool terminal = IsTerminalPhase(phase);

  json::array conds;
  conds.push_back(Condition(pod, "PodScheduled", true, "", "", now));
  conds.push_back(Condition(
      pod, "Initialized", initialized, initialized ? "" : "ContainersNotInitialized",
      initialized ? "" : "containers with incomplete status: " + JoinNames(incomplete), now));
  bool ready = unready.empty() && !terminal;
  std::string nr_reason = terminal ? "PodCompleted" : "ContainersNotReady";
  std::string nr_message = terminal ? "" : "containers with unready status: " + JoinNames(unready);
  conds.push_back(Condition(pod, "ContainersReady", ready, ready ? "" : nr_reason,
                            ready ? "" : nr_message, now));
  conds.push_back(
      Condition(pod, "Ready", ready, ready ? "" : nr_reason, ready ? "" : nr_message, now));

  json::object st{{"phase", phase}, {"conditions", conds}, {"hostIP", facts.host_ip}};
  if (!reason.empty()) st["reason"] = reason;
  if (!message.empty()) st["message"] = message;
  std::string start = GetString(pod, {"status", "startTime"});
  st["startTime"] = start.empty() ? now : start;
  std::string ip;
  if (backend && backend->pod_ip.is_string()) ip = std::string(backend->pod_ip.as_string());
  if (ip.empty()) ip = GetString(pod, {"status", "podIP"});
  if (!ip.empty()) {
    st["podIP"] = ip;
    st["podIPs"] = json::array{json::object{{"ip", ip}}};
  }
  if (!init_out.empty()) st["initContainerStatuses"] = std::move(init_out);
  st["containerStatuses"] = std::move(main_out);
  return st;
}

}  // namespace il::vk
