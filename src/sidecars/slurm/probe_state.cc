#include "sidecars/slurm/probe_state.h"

#include <sstream>

#include "api/pod.h"
#include "sidecars/slurm/job_files.h"
#include "sidecars/slurm/pod_state.h"

namespace il::slurm {
namespace {

namespace json = boost::json;

std::pair<std::string_view, std::string_view> FirstLine(std::string_view text) {
  auto nl = text.find('\n');
  if (nl == std::string_view::npos) return {text, {}};
  std::string_view rest = text.substr(nl + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  return {text.substr(0, nl), rest};
}

json::object Event(const std::string& container, const char* type, const char* reason,
                   const std::string& message, int64_t count, std::optional<TimePoint> when) {
  json::object e{{"container", container},
                 {"type", type},
                 {"reason", reason},
                 {"message", message},
                 {"count", count}};
  if (when) e["lastTimestamp"] = api::Rfc3339(*when);
  return e;
}

}  // namespace

std::optional<ProbeResult> ParseProbeResult(std::string_view text) {
  auto [head, rest] = FirstLine(text);
  std::istringstream in{std::string(head)};
  ProbeResult r;
  std::string when;
  if (!(in >> r.result >> r.failures)) return std::nullopt;
  if (r.result != "unknown" && r.result != "success" && r.result != "failure") return std::nullopt;
  if (in >> when && when != "0") r.when = ParseEpoch(when);
  r.message = std::string(rest);
  return r;
}

std::optional<HookFailure> ParseHookFailure(std::string_view text) {
  auto [head, rest] = FirstLine(text);
  std::istringstream in{std::string(head)};
  std::string word, when;
  if (!(in >> word) || word != "failed") return std::nullopt;
  HookFailure h;
  if (in >> when) h.when = ParseEpoch(when);
  h.message = std::string(rest);
  return h;
}

ProbeFiles ReadProbeFiles(const std::string& dir, const std::string& container) {
  ProbeFiles f;
  const std::string base = "run-" + container;
  auto probe = [&](const char* type) -> std::optional<ProbeResult> {
    auto s = ReadSmallJobFile(dir, base + ".probe." + type);
    if (!s) return std::nullopt;
    if (auto r = ParseProbeResult(*s)) return r;
    return ProbeResult{};  // being written by hand? count it as "not yet"
  };
  f.startup = probe("startup");
  f.readiness = probe("readiness");
  f.liveness = probe("liveness");
  if (auto s = ReadSmallJobFile(dir, base + ".poststart")) {
    std::istringstream in(*s);
    std::string word;
    in >> word;
    f.post_start = word.empty() ? "pending" : word;
    f.post_start_failure = ParseHookFailure(*s);
  }
  if (auto s = ReadSmallJobFile(dir, base + ".prestop")) f.pre_stop_failure = ParseHookFailure(*s);
  if (auto s = ReadSmallJobFile(dir, base + ".killed")) {
    std::istringstream in(*s);
    std::string why, when;
    int64_t count = 1;
    int restart = 0;
    if (in >> why) {
      f.killed = why;
      if (in >> when) f.killed_when = ParseEpoch(when);
      if (in >> count) f.kills = count;
      if (in >> restart) f.will_restart = restart == 1;
      if (f.kills < 1) f.kills = 1;
    }
  }
  if (auto s = ReadSmallJobFile(dir, base + ".restarts")) {
    std::istringstream in(*s);
    in >> f.restarts;
    if (f.restarts < 0) f.restarts = 0;
  }
  if (auto s = ReadSmallJobFile(dir, base + ".backoff")) {
    std::istringstream in(*s);
    std::string until;
    if (in >> until >> f.backoff_seconds) f.backoff_until = ParseEpoch(until);
  }
  if (auto s = ReadSmallJobFile(dir, base + ".last-status")) {
    if (auto st = ParseStatusLine(*s)) {
      f.last_exit_code = st->first;
      f.last_finished = st->second;
      if (auto t = ReadSmallJobFile(dir, base + ".last-started")) f.last_started = ParseEpoch(*t);
      if (auto m = ReadSmallJobFile(dir, base + ".last-message")) f.last_message = *m;
    }
  }
  return f;
}

bool ProbeStarted(const ProbeFiles& f) { return !f.startup || f.startup->result == "success"; }

bool ProbeReady(const ProbeFiles& f) {
  return ProbeStarted(f) && (!f.readiness || f.readiness->result == "success");
}

std::string PostStartFailureMessage(const std::string& container, const ProbeFiles& f) {
  return "PostStart hook for Container \"" + container +
         "\" failed: " + (f.post_start_failure ? f.post_start_failure->message : std::string());
}

bool PostStartDone(const ProbeFiles& f) { return !f.post_start || *f.post_start == "ok"; }

void AppendProbeEvents(const std::string& container, const ProbeFiles& f, json::array& events) {
  for (const auto* p : {&f.startup, &f.readiness, &f.liveness}) {
    if (*p && (*p)->failures > 0 && !(*p)->message.empty())
      events.push_back(
          Event(container, "Warning", "Unhealthy", (*p)->message, (*p)->failures, (*p)->when));
  }
  if (f.post_start_failure)
    events.push_back(Event(container, "Warning", "FailedPostStartHook",
                           PostStartFailureMessage(container, f), 1, f.post_start_failure->when));
  if (f.backoff_until)
    events.push_back(Event(container, "Warning", "BackOff", "Back-off restarting failed container",
                           f.restarts + 1, f.backoff_until));
  if (f.pre_stop_failure)
    events.push_back(Event(
        container, "Warning", "FailedPreStopHook",
        "PreStop hook for Container \"" + container + "\" failed: " + f.pre_stop_failure->message,
        1, f.pre_stop_failure->when));
  if (f.killed) {
    std::string msg = *f.killed == "poststart"
                          ? "FailedPostStartHook"
                          : "Container " + container + " failed " + *f.killed + " probe";
    if (*f.killed != "poststart" && f.will_restart) msg += ", will be restarted";
    events.push_back(Event(container, "Normal", "Killing", msg, f.kills, f.killed_when));
  }
}

}  // namespace il::slurm
