#include "sidecars/docker/container_status.h"

#include "api/pod.h"

namespace il::docker {
namespace json = boost::json;

namespace {

std::optional<TimePoint> DockerTime(const std::string& s) {
  if (s.empty() || s.rfind("0001-01-01", 0) == 0) return std::nullopt;
  return api::ParseRfc3339(s);
}

std::string FirstIp(const json::value& c) {
  if (auto ip = api::GetString(c, {"NetworkSettings", "IPAddress"}); !ip.empty()) return ip;
  const auto* nets = api::Find(c, {"NetworkSettings", "Networks"});
  if (!nets || !nets->is_object()) return "";
  for (const auto& [name, n] : nets->as_object()) {
    if (auto ip = api::GetString(n, {"IPAddress"}); !ip.empty()) return ip;
  }
  return "";
}

json::object Decorate(json::object s, const ContainerPlan& c, const Observed& o) {
  s["containerID"] = "docker://" + o.id;
  s["imageID"] = o.image_id;
  s["image"] = c.image;
  s["restartCount"] = o.restart_count;
  return s;
}

json::object Unknown(const ContainerPlan& c) {
  json::object term{{"exitCode", 137},
                    {"reason", "ContainerStatusUnknown"},
                    {"message", "The container could not be located when the pod was terminated"}};
  return json::object{{"name", c.name},
                      {"image", c.image},
                      {"imageID", ""},
                      {"ready", false},
                      {"restartCount", 0},
                      {"started", false},
                      {"state", json::object{{"terminated", std::move(term)}}}};
}

json::object Terminated(const ContainerPlan& c, const Observed& o) {
  bool start_error = !o.error.empty() && !o.started;
  int code = start_error && o.exit_code == 0 ? 128 : o.exit_code;
  std::string reason = start_error ? "StartError" : o.oom_killed ? "OOMKilled" : "";
  TimePoint started = o.started.value_or(TimePoint{});
  TimePoint finished = o.finished.value_or(started);
  auto s = api::TerminatedStatus(c.name, c.image, code, reason, o.error, started, finished);
  if (!o.started) {
    s["state"].as_object()["terminated"].as_object().erase("startedAt");
    if (!o.finished) s["state"].as_object()["terminated"].as_object().erase("finishedAt");
  }
  return s;
}

}  // namespace

bool Observed::Finished() const {
  if (status == "exited" || status == "dead" || status == "removing") return true;
  return status == "created" && !error.empty();
}

std::string Observed::Instance() const {
  return id + "@" + (started ? api::Rfc3339Nano(*started) : std::string());
}

Observed ObservedFromInspect(const json::value& c) {
  Observed o;
  o.id = api::GetString(c, {"Id"});
  o.status = api::GetString(c, {"State", "Status"});
  o.error = api::GetString(c, {"State", "Error"});
  o.image_id = api::GetString(c, {"Image"});
  o.ip = FirstIp(c);
  o.exit_code = static_cast<int>(api::GetInt(c, {"State", "ExitCode"}));
  const auto* oom = api::Find(c, {"State", "OOMKilled"});
  o.oom_killed = oom && oom->is_bool() && oom->as_bool();
  o.restart_count = static_cast<int>(api::GetInt(c, {"RestartCount"}));
  o.pid = static_cast<int>(api::GetInt(c, {"State", "Pid"}));
  o.started = DockerTime(api::GetString(c, {"State", "StartedAt"}));
  o.finished = DockerTime(api::GetString(c, {"State", "FinishedAt"}));
  o.restart_policy = api::GetString(c, {"HostConfig", "RestartPolicy", "Name"});
  return o;
}

Result<ObservedMap> ParseInspect(std::string_view text) {
  ObservedMap out;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  auto v = api::ParseJson(text);
  if (!v.ok()) return v.status().WithContext("docker inspect output");
  if (!v->is_array()) return InvalidArgument("docker inspect output is not a JSON array");
  for (const auto& c : v->as_array()) {
    std::string name = api::GetString(c, {"Name"});
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (name.empty()) continue;
    out[name] = ObservedFromInspect(c);
  }
  return out;
}

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kPending:
      return "pending";
    case Stage::kRunning:
      return "running";
    case Stage::kFailed:
      return "failed";
    case Stage::kDeleting:
      return "deleting";
  }
  return "pending";
}

Stage ParseStage(std::string_view s) {
  if (s == "running") return Stage::kRunning;
  if (s == "failed") return Stage::kFailed;
  if (s == "deleting") return Stage::kDeleting;
  return Stage::kPending;
}

json::object ContainerStatusOf(const ContainerPlan& c, const Observed& o) {
  if (o.status == "running" || o.status == "paused") {
    return Decorate(api::RunningStatus(c.name, c.image, o.started.value_or(TimePoint{})), c, o);
  }
  if (o.status == "restarting") {
    auto s = api::WaitingStatus(c.name, c.image, "CrashLoopBackOff",
                                "back-off restarting failed container " + c.name);
    s["lastState"] =
        json::object{{"terminated", Terminated(c, o)["state"].as_object()["terminated"]}};
    return Decorate(std::move(s), c, o);
  }
  if (o.Finished()) return Decorate(Terminated(c, o), c, o);
  return Decorate(api::WaitingStatus(c.name, c.image, "ContainerCreating", ""), c, o);
}

api::PodStatus BuildPodStatus(const PodPlan& plan, Stage stage, const ObservedMap& observed,
                              const std::map<std::string, CreateError>& errors) {
  api::PodStatus ps;
  ps.name = plan.name;
  ps.uid = plan.uid;
  ps.ns = plan.ns;
  ps.jid = plan.NamespaceHolder();
  ps.pod_ip = nullptr;
  if (auto it = observed.find(plan.NamespaceHolder());
      it != observed.end() && !it->second.ip.empty()) {
    ps.pod_ip = it->second.ip;
  }
  bool has_init = !plan.WithRole(Role::kInit).empty();
  for (const auto& c : plan.containers) {
    if (c.role == Role::kSandbox) continue;
    json::object s;
    if (auto it = observed.find(c.docker_name); it != observed.end()) {
      s = ContainerStatusOf(c, it->second);
    } else if (auto e = errors.find(c.docker_name); e != errors.end()) {
      s = api::WaitingStatus(c.name, c.image, e->second.reason, e->second.message);
    } else if (stage == Stage::kRunning || stage == Stage::kDeleting) {
      s = Unknown(c);
    } else {
      bool initializing = c.role == Role::kInit || has_init;
      s = api::WaitingStatus(c.name, c.image,
                             initializing ? "PodInitializing" : "ContainerCreating", "");
    }
    (c.role == Role::kInit ? ps.init_containers : ps.containers).push_back(std::move(s));
  }
  return ps;
}

}  // namespace il::docker
