// DockerBackend's kubelet half: probes (prober.h), postStart/preStop hooks, the restarts
// docker-sd makes after a probe kill or a failed hook, termination messages and events.
//
// Everything is derived from what Docker reports plus PodEntry::runtime (persisted with the
// pod's row), so a restarted docker-sd neither restarts a container twice nor forgets a
// restart it owes.
#include <filesystem>
#include <fstream>

#include "api/pod.h"
#include "sidecars/docker/docker_backend.h"

namespace il::docker {
namespace json = boost::json;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PodKey(const PodPlan& p) { return p.name + "_" + p.ns + "(" + p.uid + ")"; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// The kubelet's hook failure text (lifecycle/handlers.go).
std::string HookFailure(const api::Handler& h, const std::string& container, const PodPlan& p,
                        const HandlerResult& r) {
  std::string what = h.kind == api::HandlerKind::kExec
                         ? "Exec lifecycle hook ([" + Join(h.command) + "])"
                     : h.kind == api::HandlerKind::kHttpGet ? "Http lifecycle hook (" + h.path + ")"
                                                            : "lifecycle hook";
  std::string error =
      h.kind == api::HandlerKind::kExec ? "command '" + Join(h.command) + "' failed" : r.output;
  std::string message = h.kind == api::HandlerKind::kExec ? r.output : "";
  return what + " for Container \"" + container + "\" in Pod \"" + PodKey(p) +
         "\" failed - error: " + error + ", message: \"" + message + "\"";
}

const ContainerPlan* AppNamed(const PodPlan& plan, const std::string& name) {
  for (const auto& c : plan.containers) {
    if (c.role == Role::kApp && c.name == name) return &c;
  }
  return nullptr;
}

api::Lifecycle LifecycleOf(const ContainerPlan& c) {
  if (c.supervision.is_null()) return {};
  auto l = api::ParseLifecycle(c.supervision);
  return l.ok() ? *l : api::Lifecycle{};
}

}  // namespace

void DockerBackend::WatchProbes(const PodEntry& e) {
  for (const auto& c : e.plan.containers) {
    if (c.role != Role::kApp || c.supervision.is_null()) continue;
    auto probes = api::ParseProbes(c.supervision);
    if (!probes.ok()) {
      log_->warn("pod {}/{} container {}: probes ignored: {}", e.plan.ns, e.plan.name, c.name,
                 probes.status().message());
      continue;
    }
    prober_->Watch(e.plan.uid, c.name, *probes);
  }
}

bool DockerBackend::Supervised(const PodEntry& e) const {
  for (const auto& c : e.plan.containers) {
    if (c.role == Role::kApp && !c.supervision.is_null()) return true;
  }
  for (const auto& [name, rt] : e.runtime) {
    if (rt.restart_at_ms > 0) return true;
  }
  return false;
}

void DockerBackend::Spawn(std::function<void()> task) {
  MutexLock l(tasks_mu_);
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->done->load()) {
      it->thread.join();  // already returned: does not block
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  tasks_.push_back({std::thread([task = std::move(task), done] {
                      task();
                      *done = true;
                    }),
                    done});
}

void DockerBackend::JoinTasks() {
  while (true) {
    std::vector<Task> tasks;
    {
      MutexLock l(tasks_mu_);
      tasks.swap(tasks_);
    }
    if (tasks.empty()) return;
    for (auto& t : tasks) t.thread.join();
  }
}

void DockerBackend::AddEvent(PodEntry& e, const std::string& container, const std::string& type,
                             const std::string& reason, const std::string& message) {
  {
    MutexLock l(e.mu);
    AddStatusEvent(e.events, container, type, reason, message, std::chrono::system_clock::now());
  }
  changes_.Notify(e.plan.uid);
}

Status DockerBackend::PersistRuntime(PodEntry& e) {
  std::string text;
  {
    MutexLock l(e.mu);
    if (e.removed) return Status::Ok();
    text = RuntimeToJson(e.runtime);
  }
  return store_->SetRuntime(e.plan.uid, text);
}

HandlerTarget DockerBackend::TargetOf(const PodEntry& e, const ContainerPlan& c,
                                      const ObservedMap& observed) const {
  HandlerTarget t{c.docker_name, 0, ""};
  if (auto it = observed.find(e.plan.NamespaceHolder()); it != observed.end()) {
    t.netns_pid = it->second.status == "running" ? it->second.pid : 0;
    t.pod_ip = it->second.ip;
  }
  return t;
}

void DockerBackend::Supervise(const EntryPtr& e, const ObservedMap& observed) {
  for (const auto& c : e->plan.containers) {
    if (c.role != Role::kApp) continue;
    auto it = observed.find(c.docker_name);
    const Observed* o = it == observed.end() ? nullptr : &it->second;
    bool running = o && o->status == "running";
    std::string instance = o ? o->Instance() : "";
    api::Lifecycle hooks = LifecycleOf(c);
    bool start_hook = false, hook_pending = false, restart_due = false;
    {
      MutexLock l(e->mu);
      if (e->removed || e->stage == Stage::kDeleting) return;
      ContainerRuntime& rt = e->runtime[c.name];
      hook_pending = hooks.post_start && running && rt.hooked != instance;
      start_hook = hook_pending && !e->hook_running.count(c.name);
      if (start_hook) e->hook_running[c.name] = instance;
      if (rt.restart_at_ms > 0) {
        if (running && instance != rt.killed_instance) {
          rt.restart_at_ms = 0;  // started meanwhile (by an earlier run of docker-sd)
        } else {
          restart_due = !running && NowMs() >= rt.restart_at_ms;
        }
      }
    }
    if (!c.supervision.is_null()) {
      ProbeSubject s{instance, running && !hook_pending, o ? o->started : std::nullopt,
                     TargetOf(*e, c, observed)};
      prober_->Observe(e->plan.uid, c.name, s);
    }
    if (start_hook) {
      Spawn([this, e, &c, instance] { RunPostStart(e, c, instance); });
    }
    if (restart_due) {
      std::unique_lock op(e->op_mu, std::try_to_lock);
      if (op.owns_lock()) {
        if (Status s = RestartDue(*e, c, o); !s.ok() && worker_errors_.Allow()) {
          log_->warn("pod {}/{} container {}: restart: {}", e->plan.ns, e->plan.name, c.name,
                     s.message());
        }
      }
    }
  }
}

Status DockerBackend::RestartDue(PodEntry& e, const ContainerPlan& c, const Observed* o) {
  // A new instance gets an empty termination file, as the kubelet creates one per instance.
  if (!c.termination_file.empty()) {
    std::ofstream(c.termination_file, std::ios::trunc);
  }
  if (Status s = api_->StartContainer(c.docker_name); !s.ok()) {
    if (s.code() == StatusCode::kUnavailable) return s;
    if (s.code() != StatusCode::kNotFound) {
      return Status(StatusCode::kBadGateway, "docker start failed: " + s.message());
    }
  }
  {
    MutexLock l(e.mu);
    ContainerRuntime& rt = e.runtime[c.name];
    rt.restart_base += (o ? o->restart_count : 0) + 1;  // a manual start resets Docker's count
    rt.restart_at_ms = 0;
    rt.last_restart_ms = NowMs();
  }
  log_->info("pod {}/{}: restarted container {}", e.plan.ns, e.plan.name, c.name);
  return PersistRuntime(e);
}

void DockerBackend::RunPostStart(const EntryPtr& e, const ContainerPlan& c,
                                 const std::string& instance) {
  api::Lifecycle hooks = LifecycleOf(c);
  HandlerResult r{Outcome::kSuccess, ""};
  if (hooks.post_start) {
    auto observed = Inspect({e->plan.NamespaceHolder()});
    HandlerTarget t = TargetOf(*e, c, observed.ok() ? *observed : ObservedMap{});
    // The kubelet gives exec hooks no timeout; an hour bounds a hung one.
    r = handlers_->Run(*hooks.post_start, t, std::chrono::hours(1), HandlerMode::kHook);
  }
  std::string failure;
  if (r.outcome != Outcome::kSuccess) {
    failure = HookFailure(*hooks.post_start, c.name, e->plan, r);
    AddEvent(*e, c.name, "Warning", "FailedPostStartHook", failure);
  }
  {
    MutexLock l(e->mu);
    e->runtime[c.name].hooked = instance;
    e->hook_running.erase(c.name);
  }
  (void)PersistRuntime(*e);
  if (!failure.empty()) {
    Kill(e, c, instance, "FailedPostStartHook", e->plan.grace_seconds, "PostStartHookError",
         failure);
  }
  Wake();
}

void DockerBackend::Kill(const EntryPtr& e, const ContainerPlan& c, const std::string& instance,
                         const std::string& killing_message, int64_t grace,
                         const std::string& waiting_reason, const std::string& waiting_message) {
  std::lock_guard op(e->op_mu);
  if (StageOf(*e) == Stage::kDeleting) return;
  auto before = Inspect({c.docker_name, e->plan.NamespaceHolder()});
  if (!before.ok()) return;
  auto it = before->find(c.docker_name);
  if (it == before->end() || it->second.status != "running" || it->second.Instance() != instance) {
    return;  // already gone or restarted
  }
  AddEvent(*e, c.name, "Normal", "Killing", killing_message);
  api::Lifecycle hooks = LifecycleOf(c);
  if (hooks.pre_stop && grace > 0) {
    auto start = std::chrono::steady_clock::now();
    HandlerResult r = handlers_->Run(*hooks.pre_stop, TargetOf(*e, c, *before),
                                     std::chrono::seconds(grace), HandlerMode::kHook);
    if (r.outcome != Outcome::kSuccess) {
      AddEvent(*e, c.name, "Warning", "FailedPreStopHook",
               HookFailure(*hooks.pre_stop, c.name, e->plan, r));
    }
    grace -=
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
            .count();
  }
  grace = std::max<int64_t>(grace, 2);
  if (!StopAll({c.docker_name}, grace).ok()) return;
  auto after = Inspect({c.docker_name});
  MutexLock l(e->mu);
  ContainerRuntime& rt = e->runtime[c.name];
  if (after.ok() && after->count(c.docker_name)) {
    json::value st = ContainerStatusOf(c, after->at(c.docker_name));
    if (const auto* t = api::Find(st, {"state", "terminated"}); t && t->is_object()) {
      RecordDeath(rt, t->as_object());
    }
  }
  if (e->plan.restart_policy != "Never") {
    auto delay = RestartDelay(rt, NowMs());
    rt.restart_at_ms = NowMs() + delay.count();
    rt.killed_instance = instance;
    rt.waiting_reason = waiting_reason;
    rt.waiting_message = waiting_message;
    if (delay.count() > 0 && waiting_reason == "CrashLoopBackOff") {
      rt.waiting_message = "back-off " + std::to_string(delay.count() / 1000) +
                           "s restarting failed container=" + c.name + " pod=" + PodKey(e->plan);
    }
  }
  (void)store_->SetRuntime(e->plan.uid, RuntimeToJson(e->runtime));
}

void DockerBackend::UpdateRuntimeOf(const std::string& docker_name,
                                    const std::function<void(ContainerRuntime&)>& update) {
  for (const auto& e : Snapshot()) {
    for (const auto& c : e->plan.containers) {
      if (c.docker_name != docker_name || c.role == Role::kSandbox) continue;
      {
        MutexLock l(e->mu);
        if (e->removed) return;
        update(e->runtime[c.name]);
      }
      (void)PersistRuntime(*e);
      return;
    }
  }
}

void DockerBackend::OnDie(const std::string& docker_name, int exit_code,
                          std::chrono::system_clock::time_point at) {
  UpdateRuntimeOf(docker_name, [&](ContainerRuntime& rt) {
    RecordDeath(rt, json::object{{"exitCode", exit_code},
                                 {"reason", DeathReason(rt, exit_code, at)},
                                 {"finishedAt", api::Rfc3339Nano(at)}});
  });
}

void DockerBackend::OnOom(const std::string& docker_name,
                          std::chrono::system_clock::time_point at) {
  UpdateRuntimeOf(docker_name, [&](ContainerRuntime& rt) {
    RecordOom(rt,
              std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  });
}

void DockerBackend::OnProbeEvent(const std::string& uid, const std::string& container,
                                 const std::string& reason, const std::string& message) {
  if (EntryPtr e = Find(uid)) AddEvent(*e, container, "Warning", reason, message);
}

void DockerBackend::OnProbeResult(const std::string& uid, const std::string&) {
  changes_.Notify(uid);
}

void DockerBackend::OnProbeKill(const std::string& uid, const std::string& container,
                                const api::Probe& probe, const std::string& instance) {
  EntryPtr e = Find(uid);
  const ContainerPlan* c = e ? AppNamed(e->plan, container) : nullptr;
  if (!c) return;
  std::string what = probe.type == api::ProbeType::kStartup ? "startup" : "liveness";
  std::string msg = "Container " + container + " failed " + what + " probe";
  if (e->plan.restart_policy != "Never") msg += ", will be restarted";
  int64_t grace = probe.termination_grace_period_seconds.value_or(e->plan.grace_seconds);
  Spawn([this, e, c, instance, msg, grace] {
    Kill(e, *c, instance, msg, grace, "CrashLoopBackOff", "");
    Wake();
  });
}

int64_t DockerBackend::RunPreStops(PodEntry& e, int64_t grace) {
  if (grace <= 0) return 0;
  std::vector<const ContainerPlan*> with_hook;
  for (const auto& c : e.plan.containers) {
    if (c.role == Role::kApp && LifecycleOf(c).pre_stop) with_hook.push_back(&c);
  }
  if (with_hook.empty()) return grace;
  std::vector<std::string> names = {e.plan.NamespaceHolder()};
  for (const auto* c : with_hook) names.push_back(c->docker_name);
  auto observed = Inspect(names);
  if (!observed.ok()) return grace;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> hooks;
  for (const auto* c : with_hook) {
    auto it = observed->find(c->docker_name);
    if (it == observed->end() || it->second.status != "running") continue;
    HandlerTarget t = TargetOf(e, *c, *observed);
    hooks.emplace_back([this, &e, c, t, grace] {
      auto h = *LifecycleOf(*c).pre_stop;
      HandlerResult r = handlers_->Run(h, t, std::chrono::seconds(grace), HandlerMode::kHook);
      if (r.outcome != Outcome::kSuccess) {
        AddEvent(e, c->name, "Warning", "FailedPreStopHook", HookFailure(h, c->name, e.plan, r));
      }
    });
  }
  for (auto& t : hooks) t.join();
  int64_t used =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  return std::max<int64_t>(grace - used, 2);
}

std::optional<std::string> DockerBackend::TerminationMessage(PodEntry& e, const ContainerPlan& c,
                                                             const Observed& o) {
  if (c.termination_file.empty() || !o.Finished()) return std::nullopt;
  auto text = ReadTerminationFile(c.termination_file);
  if (!text.ok()) return text.status().message();
  bool start_error = !o.error.empty() && !o.started;
  if (!text->empty() || !c.fallback_to_logs || o.exit_code == 0 || start_error) return *text;
  std::string key = o.Instance() + "/" + (o.finished ? api::Rfc3339Nano(*o.finished) : "");
  {
    MutexLock l(e.mu);
    auto it = e.logs_message.find(c.name);
    if (it != e.logs_message.end() && it->second.first == key) return it->second.second;
  }
  std::string out, err;
  LogsOptions tail;
  tail.tail = "80";
  Status s = api_->Logs(c.docker_name, tail, [&](int stream, std::string_view d) {
    (stream == 2 ? err : out).append(d);
    return out.size() + err.size() < (64u << 20);
  });
  if (!s.ok()) return std::nullopt;
  // Both streams, as the kubelet reads the log file; interleaving is not kept here.
  std::string logs = TailBytes(out + err, 2048);
  MutexLock l(e.mu);
  e.logs_message[c.name] = {key, logs};
  return logs;
}

void DockerBackend::DecorateStatus(PodEntry& e, api::PodStatus& ps, const ObservedMap& observed) {
  size_t app = 0, init = 0;
  for (const auto& c : e.plan.containers) {
    if (c.role == Role::kSandbox) continue;
    auto& list = c.role == Role::kInit ? ps.init_containers : ps.containers;
    size_t idx = c.role == Role::kInit ? init++ : app++;
    if (idx >= list.size()) continue;
    auto it = observed.find(c.docker_name);
    Overlay ov;
    if (it != observed.end()) ov.termination_message = TerminationMessage(e, c, it->second);
    ContainerRuntime rt;
    {
      MutexLock l(e.mu);
      if (auto r = e.runtime.find(c.name); r != e.runtime.end()) rt = r->second;
      if (c.role == Role::kApp && it != observed.end() && it->second.status == "running" &&
          LifecycleOf(c).post_start) {
        ov.post_start_pending = rt.hooked != it->second.Instance();
      }
    }
    ov.runtime = &rt;
    if (it != observed.end() && it->second.started) {
      ov.last_state = LastState(rt, *it->second.started);
    }
    if (c.role == Role::kApp) {
      if (auto res = prober_->Results(e.plan.uid, c.name)) {
        ov.started = res->started;
        ov.ready = res->ready;
      }
    }
    ApplyOverlay(list[idx].as_object(), ov);
  }
  MutexLock l(e.mu);
  ps.events = e.events;
}

}  // namespace il::docker
