#include "sidecars/docker/supervision.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "api/pod.h"

namespace il::docker {
namespace json = boost::json;

std::string RuntimeToJson(const RuntimeMap& m) {
  json::object out;
  for (const auto& [name, r] : m) {
    json::object o{{"restartBase", r.restart_base},     {"hooked", r.hooked},
                   {"restartAtMs", r.restart_at_ms},    {"killedInstance", r.killed_instance},
                   {"waitingReason", r.waiting_reason}, {"waitingMessage", r.waiting_message},
                   {"backoffStep", r.backoff_step},     {"lastRestartMs", r.last_restart_ms}};
    if (!r.deaths.empty()) o["deaths"] = r.deaths;
    if (!r.oom_ms.empty()) o["oomMs"] = json::value_from(r.oom_ms);
    out[name] = std::move(o);
  }
  return json::serialize(out);
}

RuntimeMap RuntimeFromJson(const std::string& text) {
  RuntimeMap m;
  if (text.empty()) return m;
  auto v = api::ParseJson(text);
  if (!v.ok() || !v->is_object()) return m;
  for (const auto& [name, o] : v->as_object()) {
    ContainerRuntime r;
    r.restart_base = static_cast<int>(api::GetInt(o, {"restartBase"}));
    r.hooked = api::GetString(o, {"hooked"});
    r.restart_at_ms = api::GetInt(o, {"restartAtMs"});
    r.killed_instance = api::GetString(o, {"killedInstance"});
    r.waiting_reason = api::GetString(o, {"waitingReason"});
    r.waiting_message = api::GetString(o, {"waitingMessage"});
    r.backoff_step = static_cast<int>(api::GetInt(o, {"backoffStep"}));
    r.last_restart_ms = api::GetInt(o, {"lastRestartMs"});
    if (const auto* d = api::Find(o, {"deaths"}); d && d->is_array()) {
      for (const auto& x : d->as_array()) {
        if (x.is_object()) r.deaths.push_back(x);
      }
    }
    if (const auto* d = api::Find(o, {"oomMs"}); d && d->is_array()) {
      for (const auto& x : d->as_array()) {
        if (x.is_int64() && r.oom_ms.size() < kMaxOoms) r.oom_ms.push_back(x.as_int64());
      }
    }
    m[std::string(name)] = std::move(r);
  }
  return m;
}

namespace {

std::optional<std::chrono::system_clock::time_point> FinishedAt(const json::value& t) {
  return api::ParseRfc3339(api::GetString(t, {"finishedAt"}));
}

}  // namespace

void RecordDeath(ContainerRuntime& rt, json::object terminated) {
  auto at = FinishedAt(terminated);
  if (!at) return;
  for (auto& d : rt.deaths) {
    auto other = FinishedAt(d);
    if (other && (*other - *at < std::chrono::seconds(1)) &&
        (*at - *other < std::chrono::seconds(1))) {
      if (terminated.size() > d.as_object().size()) d = std::move(terminated);
      return;
    }
  }
  rt.deaths.push_back(std::move(terminated));
  std::sort(rt.deaths.begin(), rt.deaths.end(), [](const json::value& a, const json::value& b) {
    return FinishedAt(a) < FinishedAt(b);
  });
  while (rt.deaths.size() > kMaxDeaths) rt.deaths.erase(rt.deaths.begin());
}

namespace {

std::chrono::system_clock::time_point FromMs(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace

void RecordOom(ContainerRuntime& rt, int64_t at_ms) {
  rt.oom_ms.push_back(at_ms);
  std::sort(rt.oom_ms.begin(), rt.oom_ms.end());
  while (rt.oom_ms.size() > kMaxOoms) rt.oom_ms.erase(rt.oom_ms.begin());
  if (rt.deaths.empty()) return;
  auto& last = rt.deaths.back().as_object();
  auto finished = FinishedAt(last);
  const auto at = FromMs(at_ms);
  if (finished && *finished <= at && at - *finished <= kOomLag &&
      api::GetString(last, {"reason"}) == "Error") {
    last["reason"] = "OOMKilled";
  }
}

bool OomBetween(const ContainerRuntime& rt,
                std::optional<std::chrono::system_clock::time_point> from,
                std::chrono::system_clock::time_point until) {
  return std::any_of(rt.oom_ms.begin(), rt.oom_ms.end(), [&](int64_t ms) {
    auto at = FromMs(ms);
    return (!from || *from <= at) && at <= until + kOomLag;
  });
}

std::string DeathReason(const ContainerRuntime& rt, int exit_code,
                        std::chrono::system_clock::time_point at) {
  if (exit_code == 0) return "Completed";
  std::optional<std::chrono::system_clock::time_point> since;  // the previous death's end
  for (auto it = rt.deaths.rbegin(); it != rt.deaths.rend() && !since; ++it) {
    auto f = FinishedAt(*it);
    if (f && at - *f >= std::chrono::seconds(1)) since = f;  // else: this death, seen again
  }
  return OomBetween(rt, since, at) ? "OOMKilled" : "Error";
}

std::optional<json::object> LastState(const ContainerRuntime& rt,
                                      std::chrono::system_clock::time_point started) {
  for (auto it = rt.deaths.rbegin(); it != rt.deaths.rend(); ++it) {
    auto at = FinishedAt(*it);
    if (at && *at <= started) return it->as_object();
  }
  return std::nullopt;
}

std::chrono::milliseconds RestartDelay(ContainerRuntime& rt, int64_t now_ms) {
  constexpr int64_t kResetMs = int64_t{10} * 60 * 1000;
  if (rt.last_restart_ms > 0 && now_ms - rt.last_restart_ms > kResetMs) rt.backoff_step = 0;
  int step = rt.backoff_step++;
  if (step == 0) return std::chrono::milliseconds(0);
  int64_t s = 10LL << std::min(step - 1, 5);
  return std::chrono::seconds(std::min<int64_t>(s, 300));
}

void ApplyOverlay(json::object& status, const Overlay& o) {
  const ContainerRuntime* rt = o.runtime;
  if (rt && rt->restart_base > 0) {
    status["restartCount"] = api::GetInt(status, {"restartCount"}) + rt->restart_base;
  }
  if (o.last_state && !status.contains("lastState")) {
    status["lastState"] = json::object{{"terminated", *o.last_state}};
  }
  json::object& state = status["state"].as_object();
  if (auto* t = state.if_contains("terminated"); t && t->is_object() && rt) {
    // Docker missed the OOM kill its own `oom` event reported (see ContainerRuntime::oom_ms).
    auto& term = t->as_object();
    auto started = api::ParseRfc3339(api::GetString(term, {"startedAt"}));
    auto finished = api::ParseRfc3339(api::GetString(term, {"finishedAt"}));
    if (api::GetString(term, {"reason"}) == "Error" && started && finished &&
        OomBetween(*rt, started, *finished)) {
      term["reason"] = "OOMKilled";
    }
  }
  if (state.contains("terminated") && o.termination_message) {
    auto& t = state["terminated"].as_object();
    std::string err = api::GetString(t, {"message"});
    std::string msg = *o.termination_message;
    if (!err.empty() && !msg.empty()) msg = err + ": " + msg;
    if (!msg.empty()) t["message"] = msg;
  }
  if (state.contains("terminated") && rt && rt->restart_at_ms > 0) {
    // A restart docker-sd owes: the kubelet shows Waiting (CrashLoopBackOff while backing off)
    // with the ended instance as lastState.
    status["lastState"] = json::object{{"terminated", state["terminated"]}};
    json::object w{
        {"reason", rt->waiting_reason.empty() ? "CrashLoopBackOff" : rt->waiting_reason}};
    if (!rt->waiting_message.empty()) w["message"] = rt->waiting_message;
    status["state"] = json::object{{"waiting", std::move(w)}};
    status["started"] = false;
    status["ready"] = false;
    return;
  }
  if (state.contains("running")) {
    if (o.post_start_pending) {
      status["state"] = json::object{{"waiting", json::object{{"reason", "ContainerCreating"}}}};
      status["started"] = false;
      status["ready"] = false;
      return;
    }
    if (o.started) status["started"] = *o.started;
    if (o.ready) status["ready"] = *o.ready && o.started.value_or(true);
    return;
  }
  status["started"] = false;
  status["ready"] = false;
}

void AddStatusEvent(json::array& events, const std::string& container, const std::string& type,
                    const std::string& reason, const std::string& message,
                    std::chrono::system_clock::time_point now) {
  std::string ts = api::Rfc3339(now);
  for (auto it = events.begin(); it != events.end(); ++it) {
    const json::value& e = *it;
    if (api::GetString(e, {"container"}) == container && api::GetString(e, {"reason"}) == reason &&
        api::GetString(e, {"message"}) == message) {
      json::value moved = std::move(*it);
      events.erase(it);
      auto& o = moved.as_object();
      o["count"] = api::GetInt(moved, {"count"}) + 1;
      o["lastTimestamp"] = ts;
      events.push_back(std::move(moved));  // newest last
      return;
    }
  }
  events.push_back(json::object{{"container", container},
                                {"type", type},
                                {"reason", reason},
                                {"message", message},
                                {"count", 1},
                                {"lastTimestamp", ts}});
  while (events.size() > api::kMaxStatusEvents) events.erase(events.begin());
}

std::string TailBytes(const std::string& text, size_t n) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

Result<std::string> ReadTerminationFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return Internal("Error on reading termination log " + path + ": " + strerror(errno));
  }
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t start = st.st_size > 4096 ? st.st_size - 4096 : 0;
    out.resize(static_cast<size_t>(st.st_size - start));
    ssize_t n = ::pread(fd, out.data(), out.size(), start);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  return out;
}

}  // namespace il::docker
