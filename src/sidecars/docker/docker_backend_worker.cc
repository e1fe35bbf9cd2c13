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

constexpr auto kRunTimeout = std::chrono::minutes(10);  // includes an image pull

std::chrono::steady_clock::duration Backoff(std::chrono::milliseconds first, int attempts) {
  auto d = first * (1 << std::min(attempts, 6));
  return std::min<std::chrono::steady_clock::duration>(d, std::chrono::minutes(5));
}

// The variables a container takes from the docker CLI's environment (pod_plan.h).
Result<std::map<std::string, std::string>> LoadEnvJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return FailedPrecondition("cannot read the environment file " + path);
  auto v = api::ParseJson(ss.str());
  if (!v.ok() || !v->is_object())
    return FailedPrecondition("environment file " + path + " is malformed");
  std::map<std::string, std::string> env;
  for (const auto& [k, x] : v->as_object()) {
    if (x.is_string()) env[std::string(k)] = std::string(x.as_string());
  }
  return env;
}

}  // namespace

Status DockerBackend::EnsureSandbox() {
  if (sandbox_ready_) return Status::Ok();
  MutexLock l(sandbox_mu_);
  if (sandbox_ready_) return Status::Ok();
  IL_RETURN_IF_ERROR(EnsureSandboxImage(cli_, settings_.pause_image, settings_.pause_binary));
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
  std::vector<std::string> args =
      start_only ? std::vector<std::string>{"start", c.docker_name} : c.run_args;
  std::map<std::string, std::string> env;
  if (!start_only && !c.env_json_file.empty()) {
    auto loaded = LoadEnvJson(c.env_json_file);
    if (!loaded.ok()) {
      MutexLock l(e.mu);
      e.errors[c.docker_name] = {"CreateContainerConfigError", loaded.status().message()};
      return loaded.status();
    }
    env = std::move(*loaded);
  }
  IL_ASSIGN_OR_RETURN(CommandResult r, cli_.Run(args, kRunTimeout, "", env));
  ClassifiedFailure f{RunFailure::kExists, {}};
  if (r.exit_code != 0) f = ClassifyRunFailure(r, c.image, c.run_args);
  if (r.exit_code != 0 && f.kind == RunFailure::kDaemonDown) {
    return Unavailable("docker daemon unavailable: " + CleanStderr(r.err));
  }
  MutexLock l(e.mu);
  if (r.exit_code == 0 || f.kind != RunFailure::kCreateError) {
    e.errors.erase(c.docker_name);
    if (c.role == Role::kSandbox) {
      for (const auto& x : e.plan.containers) e.errors.erase(x.docker_name);
    }
    return Status::Ok();
  }
  if (c.role == Role::kSandbox) {
    sandbox_ready_ = false;  // the image may have been removed: import it again next time
    for (const auto& x : e.plan.containers) {
      e.errors[x.docker_name] = {f.error.reason, "pod sandbox: " + f.error.message};
    }
  } else {
    e.errors[c.docker_name] = f.error;
  }
  return Status(StatusCode::kFailedPrecondition, f.error.reason + ": " + f.error.message);
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
  return SetStage(e, d.stage);
}

Status DockerBackend::FinishDelete(PodEntry& e) {
  IL_RETURN_IF_ERROR(
      cli_.ForEach("rm", {"--force", "--volumes"}, e.plan.DockerNames(), std::chrono::minutes(2)));
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
  MutexLock l(pods_mu_);
  pods_.erase(e.plan.uid);
  return Status::Ok();
}

bool DockerBackend::Reconcile() {
  auto r = cli_.Run({"ps", "--all", "--no-trunc",
                     "--filter=label=" + std::string(kLabelInstance) + "=" + store_->instance_id(),
                     "--format={{.Names}}\t{{.Label \"" + std::string(kLabelPodUid) + "\"}}"});
  if (!r.ok() || r->exit_code != 0) return false;
  std::vector<std::string> orphans;
  std::set<std::string> known_uids;
  {
    MutexLock l(pods_mu_);
    for (const auto& [uid, e] : pods_) known_uids.insert(uid);
  }
  for (size_t p = 0; p < r->out.size();) {
    size_t nl = r->out.find('\n', p);
    if (nl == std::string::npos) nl = r->out.size();
    std::string line = r->out.substr(p, nl - p);
    p = nl + 1;
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    if (!known_uids.count(line.substr(tab + 1))) orphans.push_back(line.substr(0, tab));
  }
  if (!orphans.empty()) {
    log_->warn("removing {} container(s) that no stored pod owns", orphans.size());
    if (!cli_.ForEach("rm", {"--force", "--volumes"}, orphans, std::chrono::minutes(2)).ok()) {
      return false;
    }
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
  auto observed = cli_.Inspect(names);
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

void DockerBackend::OnDieLine(const std::string& line) {
  // name \t exitCode \t TimeNano
  auto t1 = line.find('\t');
  auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
  if (t2 == std::string::npos) return;
  try {
    int code = std::stoi(line.substr(t1 + 1, t2 - t1 - 1));
    int64_t nanos = std::stoll(line.substr(t2 + 1));
    OnDie(line.substr(0, t1), code,
          std::chrono::system_clock::time_point(
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::nanoseconds(nanos))));
  } catch (const std::exception&) {
    // Not what the format asked for (an old CLI?): the event still woke the worker.
  }
}

void DockerBackend::EventsLoop() {
  // A container of ours died: an init container may have finished. Wake the worker at once
  // instead of waiting for the next poll. Each `docker events` runs for a bounded window
  // (--until), so one orphaned by a killed docker-sd ends by itself; --since makes the
  // windows overlap-free without gaps.
  constexpr int64_t kWindowSeconds = 30;
  auto unix_now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t since = unix_now();
  while (!stop_) {
    int64_t until = std::max(since, unix_now()) + kWindowSeconds;
    std::vector<std::string> argv = {
        cli_.binary(),
        "events",
        "--filter=type=container",
        "--filter=event=die",
        "--filter=label=" + std::string(kLabelInstance) + "=" + store_->instance_id(),
        "--format={{.Actor.Attributes.name}}\t{{index .Actor.Attributes \"exitCode\"}}\t"
        "{{.TimeNano}}",
        "--since=" + std::to_string(since),
        "--until=" + std::to_string(until)};
    auto started = std::chrono::steady_clock::now();
    std::string partial;
    auto r = streams_.Stream(
        argv,
        [this, &partial](int stream, std::string_view chunk) {
          if (stream != 1) return !stop_.load();
          partial.append(chunk);
          for (size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
            OnDieLine(partial.substr(0, nl));
            partial.erase(0, nl + 1);
          }
          Wake();
          return !stop_.load();
        },
        [this] { return stop_.load(); }, std::chrono::milliseconds(250));
    if (r.ok() && *r == 0) {
      since = until;
      continue;
    }
    // Failed (daemon down?): the worker's poll covers us; try again shortly.
    if (std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
      MutexLock l(wake_mu_);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!stop_) {
        if (!wake_cv_.WaitUntil(wake_mu_, deadline)) break;
      }
    }
    since = unix_now();
  }
}

}  // namespace il::docker
