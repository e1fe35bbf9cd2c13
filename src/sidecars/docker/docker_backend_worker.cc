// DockerBackend's background half: stepping pods, retries, reconciliation, worker threads.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/pod.h"
#include "sidecars/docker/bind_source.h"
#include "sidecars/docker/docker_backend.h"
#include "sidecars/docker/pod_stepper.h"
#include "sidecars/docker/sandbox_image.h"

namespace il::docker {

namespace {

std::chrono::steady_clock::duration Backoff(std::chrono::milliseconds first, int attempts) {
  auto d = first * (1 << std::min(attempts, 6));
  return std::min<std::chrono::steady_clock::duration>(d, std::chrono::minutes(5));
}

// The container's environment (pod_plan.h): a JSON array of "NAME=value".
Result<json::array> LoadEnv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return FailedPrecondition("cannot read the environment file " + path);
  auto v = api::ParseJson(ss.str());
  if (!v.ok() || !v->is_array()) {
    return FailedPrecondition("environment file " + path + " is malformed");
  }
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) return FailedPrecondition("environment file " + path + " is malformed");
  }
  return v->as_array();
}

bool Contains(const std::string& s, std::string_view what) {
  return s.find(what) != std::string::npos;
}

// A failed pull as the kubelet reports it.
CreateError PullError(const Status& s) {
  if (Contains(s.message(), "invalid reference format")) {
    return {"InvalidImageName", s.message()};
  }
  return {"ErrImagePull", s.message()};
}

}  // namespace

Status DockerBackend::EnsureSandbox() {
  if (sandbox_ready_) return Status::Ok();
  MutexLock l(sandbox_mu_);
  if (sandbox_ready_) return Status::Ok();
  IL_RETURN_IF_ERROR(EnsureSandboxImage(*api_, settings_.pause_image, settings_.pause_binary));
  sandbox_ready_ = true;
  return Status::Ok();
}

Status DockerBackend::RunAction(PodEntry& e, const ContainerPlan& c, bool start_only) {
  if (c.role == Role::kSandbox) {
    Status s = EnsureSandbox();
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) {
      MutexLock l(e.mu);
      for (const auto& x : e.plan.containers) {
        e.errors[x.docker_name] = {"CreateContainerError", "pod sandbox: " + s.message()};
      }
      return s;
    }
  }
  // What a bind source resolves to may have changed since the last start (a container of
  // the pod replaced a directory by a symlink): check again, every time.
  // Pinning it (bind_source.h) makes Docker, and its own restarts, use what was checked.
  for (const auto& check : c.bind_checks) {
    Status s = Status::Ok();
    if (check.pin.empty()) {
      s = CheckBindSource(check);
    } else if (auto pinned = PinBindSource(check); !pinned.ok()) {
      s = pinned.status();
    } else if (!pinned->mounted && !e.pin_warned.exchange(true)) {
      log_->warn(
          "pod {}/{} uid={}: cannot pin bind sources ({}); Docker's own restarts of its "
          "containers re-resolve subPath/hostPath sources without a check (docs/security.md)",
          e.plan.ns, e.plan.name, e.plan.uid, pinned->why);
    }
    if (!s.ok()) {
      MutexLock l(e.mu);
      e.errors[c.docker_name] = {"CreateContainerConfigError", s.message()};
      return s;
    }
  }
  if (start_only) {
    // A failed start (exit 126/127) is in the container's State.Error, which the status
    // reports; a container gone meanwhile is run again by the next step.
    Status s = Status::Ok();
    {
      std::lock_guard slot(start_slots_);
      s = api_->StartContainer(c.docker_name);
    }
    if (s.code() == StatusCode::kUnavailable) return s;
    MutexLock l(e.mu);
    e.errors.erase(c.docker_name);
    return Status::Ok();
  }
  if (!c.legacy_run_args.empty()) {
    // Planned by a docker-sd that ran `docker run`: started by name while it exists (the
    // step starts it), never created again from that argv.
    MutexLock l(e.mu);
    e.errors[c.docker_name] = {
        "CreateContainerConfigError",
        "the container was planned by an older docker-sd (docker run) and is gone; delete "
        "and create the pod again"};
    return FailedPrecondition(e.errors[c.docker_name].message);
  }
  json::object body = c.create_body;
  if (!c.env_file.empty()) {
    auto env = LoadEnv(c.env_file);
    if (!env.ok()) {
      MutexLock l(e.mu);
      e.errors[c.docker_name] = {"CreateContainerConfigError", env.status().message()};
      return env.status();
    }
    body["Env"] = std::move(*env);
  }
  IL_ASSIGN_OR_RETURN(std::optional<CreateError> failed, CreateAndStart(e, c, body));
  MutexLock l(e.mu);
  if (!failed) {
    e.errors.erase(c.docker_name);
    if (c.role == Role::kSandbox) {
      for (const auto& x : e.plan.containers) e.errors.erase(x.docker_name);
    }
    return Status::Ok();
  }
  if (c.role == Role::kSandbox) {
    sandbox_ready_ = false;  // the image may have been removed: import it again next time
    for (const auto& x : e.plan.containers) {
      e.errors[x.docker_name] = {failed->reason, "pod sandbox: " + failed->message};
    }
  } else {
    e.errors[c.docker_name] = *failed;
  }
  return Status(StatusCode::kFailedPrecondition, failed->reason + ": " + failed->message);
}

Status DockerBackend::Pull(const PodEntry& e, const ContainerPlan& c) {
  // Progress goes to docker-sd's log: each layer's state changes, not every byte count.
  std::map<std::string, std::string> last;
  return api_->PullImage(c.image, [&](const json::value& v) {
    std::string status = api::GetString(v, {"status"}), id = api::GetString(v, {"id"});
    if (status.empty() || last[id] == status) return;
    last[id] = status;
    log_->info("pod {}/{} uid={}: container {}: pulling {}: {}{}", e.plan.ns, e.plan.name,
               e.plan.uid, c.name, c.image, id.empty() ? "" : id + ": ", status);
  });
}

Result<std::optional<CreateError>> DockerBackend::CreateAndStart(const PodEntry& e,
                                                                 const ContainerPlan& c,
                                                                 const json::object& body) {
  if (c.pull_policy == "Always") {
    Status s = Pull(e, c);
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) return std::optional<CreateError>(PullError(s));
  }
  // Create and start in one of the start slots; a pull (minutes, maybe) is not in one.
  std::unique_lock slot(start_slots_);
  auto id = api_->CreateContainer(c.docker_name, body);
  if (!id.ok() && id.status().code() == StatusCode::kNotFound && c.pull_policy == "IfNotPresent") {
    slot.unlock();
    Status s = Pull(e, c);
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) return std::optional<CreateError>(PullError(s));
    slot.lock();
    id = api_->CreateContainer(c.docker_name, body);
  }
  if (!id.ok()) {
    const Status& s = id.status();
    switch (s.code()) {
      case StatusCode::kUnavailable:
        return s;
      case StatusCode::kAlreadyExists:
        return std::optional<CreateError>();  // created before (the step starts it)
      case StatusCode::kNotFound:
        if (c.pull_policy == "Never") {
          return std::optional<CreateError>(CreateError{
              "ErrImageNeverPull",
              "Container image \"" + c.image + "\" is not present with pull policy of Never"});
        }
        return std::optional<CreateError>(PullError(s));
      default:
        if (Contains(s.message(), "invalid reference format")) {
          return std::optional<CreateError>(CreateError{"InvalidImageName", s.message()});
        }
        return std::optional<CreateError>(CreateError{"CreateContainerError", s.message()});
    }
  }
  // A failed start (executable not found...) stays in the container's State.Error, which
  // the status reports, as `docker run`'s exit codes 126/127 did.
  Status s = api_->StartContainer(c.docker_name);
  slot.unlock();
  if (s.code() == StatusCode::kUnavailable) return s;
  if (!s.ok()) {
    log_->info("pod {}/{} uid={}: container {}: start: {}", e.plan.ns, e.plan.name, e.plan.uid,
               c.name, s.message());
  }
  return std::optional<CreateError>();
}

Status DockerBackend::Step(PodEntry& e, const ObservedMap& observed) {
  StepDecision d = NextStep(e.plan, observed);
  for (const auto& a : d.actions) {
    const ContainerPlan& c = e.plan.containers[a.index];
    Status s = RunAction(e, c, a.kind == ActionKind::kStart);
    if (s.code() == StatusCode::kUnavailable) return s;
    if (!s.ok()) {
      MutexLock l(e.mu);
      auto delay = Backoff(options_.retry_backoff, e.attempts++);
      e.next_attempt = std::chrono::steady_clock::now() + delay;
      log_->warn("pod {}/{} uid={}: container {}: {} (retry in {}s)", e.plan.ns, e.plan.name,
                 e.plan.uid, c.name, s.message(),
                 std::chrono::duration_cast<std::chrono::seconds>(delay).count());
      changes_.Notify(e.plan.uid);  // the status shows the creation error
      return Status::Ok();
    }
  }
  {
    MutexLock l(e.mu);
    e.attempts = 0;
  }
  if (d.stage == Stage::kFailed) {
    log_->info("pod {}/{} uid={} failed: {}", e.plan.ns, e.plan.name, e.plan.uid, d.failure);
  }
  if (StageOf(e) != d.stage) changes_.Notify(e.plan.uid);
  return SetStage(e, d.stage);
}

Status DockerBackend::FinishDelete(PodEntry& e) {
  IL_RETURN_IF_ERROR(RemoveAll(e.plan.DockerNames()));
  // Pins first: removing the directory recursively would cross into the pinned volumes.
  IL_RETURN_IF_ERROR(UnpinBelow(settings_.PodDir(e.plan.uid)));
  std::error_code ec;
  std::filesystem::remove_all(settings_.PodDir(e.plan.uid), ec);
  if (ec) log_->warn("cannot remove {}: {}", settings_.PodDir(e.plan.uid), ec.message());
  IL_RETURN_IF_ERROR(store_->Remove(e.plan.uid));
  {
    MutexLock l(e.mu);
    e.removed = true;
  }
  {
    MutexLock l(pods_mu_);
    pods_.erase(e.plan.uid);
  }
  changes_.Notify(e.plan.uid);
  return Status::Ok();
}

bool DockerBackend::Reconcile() {
  auto list = api_->ListContainers(
      {{"label",
        json::array{json::string(std::string(kLabelInstance) + "=" + store_->instance_id())}}});
  if (!list.ok()) return false;
  std::vector<std::string> orphans;
  std::set<std::string> known_uids;
  {
    MutexLock l(pods_mu_);
    for (const auto& [uid, e] : pods_) known_uids.insert(uid);
  }
  for (const auto& c : *list) {
    std::string uid;
    if (const auto* labels = api::Find(c, {"Labels"}); labels && labels->is_object()) {
      uid = api::GetString(*labels, {kLabelPodUid});
    }
    if (!known_uids.count(uid)) orphans.push_back(api::GetString(c, {"Id"}));
  }
  if (!orphans.empty()) {
    log_->warn("removing {} container(s) that no stored pod owns", orphans.size());
    if (!RemoveAll(orphans).ok()) return false;
  }
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(settings_.data_dir + "/pods", ec)) {
    std::string uid = d.path().filename().string();
    if (known_uids.count(uid) || Find(uid)) continue;
    if (Status s = UnpinBelow(d.path().string()); !s.ok()) {
      log_->warn("keeping {}: {}", d.path().string(), s.message());
      continue;
    }
    std::filesystem::remove_all(d.path(), ec);
  }
  log_->info("reconciled with docker: {} stored pod(s), {} orphan container(s) removed",
             known_uids.size(), orphans.size());
  return true;
}

void DockerBackend::RunOnce() {
  if (!reconciled_ && Reconcile()) reconciled_ = true;
  auto now = std::chrono::steady_clock::now();
  std::vector<EntryPtr> pending, deleting, supervised;
  std::vector<std::string> names;
  for (auto& e : Snapshot()) {
    MutexLock l(e->mu);
    if (e->removed) continue;
    if (e->stage == Stage::kDeleting) {
      deleting.push_back(e);
    } else if (e->stage == Stage::kPending && e->next_attempt <= now) {
      for (const auto& c : e->plan.containers) names.push_back(c.docker_name);
      pending.push_back(e);
    } else if (e->stage == Stage::kRunning && Supervised(*e)) {
      // Probes, hooks and owed restarts need Docker's view every round: one more name
      // list in the same `docker inspect`.
      for (const auto& c : e->plan.containers) names.push_back(c.docker_name);
      supervised.push_back(e);
    }
  }
  for (auto& e : deleting) {
    std::unique_lock op(e->op_mu, std::try_to_lock);
    if (!op.owns_lock()) continue;
    if (Status s = FinishDelete(*e); !s.ok() && worker_errors_.Allow()) {
      log_->warn("finishing delete of uid={}: {}", e->plan.uid, s.message());
    }
  }
  if (pending.empty() && supervised.empty()) return;
  auto observed = Inspect(names);
  if (!observed.ok()) {
    if (worker_errors_.Allow()) log_->warn("advancing pods: {}", observed.status().message());
    return;
  }
  for (auto& e : pending) {
    std::unique_lock op(e->op_mu, std::try_to_lock);
    if (!op.owns_lock() || StageOf(*e) != Stage::kPending) continue;
    if (Status s = Step(*e, *observed); !s.ok() && worker_errors_.Allow()) {
      log_->warn("advancing pod uid={}: {}", e->plan.uid, s.message());
    }
  }
  for (auto& e : supervised) Supervise(e, *observed);
  for (auto& e : pending) {
    bool supervise;
    {
      MutexLock l(e->mu);
      supervise = e->stage == Stage::kRunning && Supervised(*e);
    }
    if (supervise) Supervise(e, *observed);
  }
}

void DockerBackend::Wake() {
  {
    MutexLock l(wake_mu_);
    wake_ = true;
  }
  wake_cv_.NotifyAll();
}

void DockerBackend::StartWorker() {
  worker_ = std::thread([this] { WorkerLoop(); });
  events_ = std::thread([this] { EventsLoop(); });
}

void DockerBackend::WorkerLoop() {
  while (!stop_) {
    RunOnce();
    MutexLock l(wake_mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.poll_interval;
    while (!wake_ && !stop_) {
      if (!wake_cv_.WaitUntil(wake_mu_, deadline)) break;
    }
    wake_ = false;
  }
}

void DockerBackend::OnDieEvent(const json::value& ev, std::chrono::system_clock::time_point at) {
  std::string name = api::GetString(ev, {"Actor", "Attributes", "name"});
  std::string code = api::GetString(ev, {"Actor", "Attributes", "exitCode"});
  if (name.empty() || code.empty()) return;
  try {
    OnDie(name, std::stoi(code), at);
  } catch (const std::exception&) {
    // A malformed exit code: the event still woke the worker.
  }
}

void DockerBackend::OnContainerEvent(const json::value& ev) {
  std::string action = api::GetString(ev, {"Action"});
  if (action.empty()) action = api::GetString(ev, {"status"});
  const int64_t nanos = api::GetInt(ev, {"timeNano"});
  const std::chrono::system_clock::time_point at(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(nanos)));
  if (action == "die" && nanos > 0) OnDieEvent(ev, at);
  if (action == "oom" && nanos > 0) OnOom(api::GetString(ev, {"Actor", "Attributes", "name"}), at);
  // After the record above, so that the status it wakes already shows it.
  std::string uid = api::GetString(ev, {"Actor", "Attributes", kLabelPodUid});
  if (!uid.empty()) changes_.Notify(uid);
  if (action == "die") Wake();  // an init container may have finished: step the pod now
}

void DockerBackend::EventsLoop() {
  // Our containers' lifecycle events: each wakes the status watch of its pod; a death also
  // wakes the worker (OnContainerEvent). After a broken stream, `since` resumes just after
  // the last event seen (or where the broken stream began), so nothing is missed or repeated.
  auto unix_nanos = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto since_arg = [](int64_t nanos) {
    std::string frac = std::to_string(nanos % 1000000000);
    return std::to_string(nanos / 1000000000) + "." + std::string(9 - frac.size(), '0') + frac;
  };
  const json::object filters{{"type", json::array{"container"}},
                             {"event", json::array{"create", "start", "die", "oom", "destroy"}},
                             {"label", json::array{json::string(std::string(kLabelInstance) + "=" +
                                                                store_->instance_id())}}};
  int64_t since = unix_nanos();
  while (!stop_) {
    auto started = std::chrono::steady_clock::now();
    // Each (re)connection: the engine's CPUs size the start slots before the first ping.
    if (auto info = api_->Info(); info.ok()) AdoptEngineInfo(*info);
    int64_t last = 0;
    Status s = api_->Events(
        filters,
        [this, &last](const json::value& ev) {
          last = std::max<int64_t>(last, api::GetInt(ev, {"timeNano"}));
          OnContainerEvent(ev);
          return !stop_.load();
        },
        [this] { return stop_.load(); }, since_arg(since));
    if (stop_) break;
    if (!s.ok() && worker_errors_.Allow()) log_->warn("docker events: {}", s.message());
    if (last > 0) since = last + 1;  // else nothing was seen: replay from the same point
    // Failed at once (daemon down?): the worker's poll covers us; try again shortly.
    if (std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
      MutexLock l(wake_mu_);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!stop_) {
        if (!wake_cv_.WaitUntil(wake_mu_, deadline)) break;
      }
    }
  }
}

}  // namespace il::docker
