#include "sidecars/docker/docker_backend.h"

#include <filesystem>

#include "api/pod.h"
#include "core/private_path.h"
#include "sidecars/docker/bind_source.h"
#include "sidecars/docker/docker_logs.h"
#include "sidecars/docker/pod_sources.h"
#include "sidecars/docker/pod_volumes.h"

namespace il::docker {
namespace json = boost::json;

namespace {

int64_t GraceSeconds(const json::value& pod) {
  int64_t g = api::GracePeriodSeconds(pod);
  return std::clamp<int64_t>(g, 0, 3600);
}

std::string PodRef(const PodPlan& p) { return p.ns + "/" + p.name + " (uid " + p.uid + ")"; }

}  // namespace

Result<std::unique_ptr<DockerBackend>> DockerBackend::Create(DockerSettings settings,
                                                             const DockerBackendOptions& options) {
  // Private by default, and refused when another user could have prepared them: the state
  // file holds the create bodies docker-sd replays as root.
  IL_RETURN_IF_ERROR(
      EnsurePrivateDir(std::filesystem::path(settings.data_dir).parent_path().string()));
  IL_RETURN_IF_ERROR(EnsurePrivateDir(settings.data_dir));
  IL_RETURN_IF_ERROR(CheckPrivateFile(settings.state_file));
  IL_ASSIGN_OR_RETURN(DockerEndpoint endpoint,
                      ResolveDockerEndpoint(settings.docker_host, ProcessEnv()));
  IL_ASSIGN_OR_RETURN(auto api, DockerApi::Create(std::move(endpoint)));
  IL_ASSIGN_OR_RETURN(auto store, StateStore::Open(settings.state_file));
  std::unique_ptr<DockerBackend> b(
      new DockerBackend(std::move(settings), std::move(api), std::move(store), options));
  IL_RETURN_IF_ERROR(b->LoadState());
  if (options.start_worker) b->StartWorker();
  return b;
}

StartSlots::StartSlots(int n)
    : configured_(n > 0),
      count_(n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {}

void StartSlots::lock() {
  MutexLock l(mu_);
  while (held_ >= count_) cv_.Wait(mu_);
  ++held_;
}

void StartSlots::unlock() {
  MutexLock l(mu_);
  --held_;
  cv_.NotifyOne();
}

int StartSlots::count() const {
  MutexLock l(mu_);
  return count_;
}

bool StartSlots::AdoptEngineCpus(int64_t cpus) {
  if (configured_ || cpus <= 0) return false;
  const int n = static_cast<int>(std::min<int64_t>(cpus, 1024));  // DockerStartConcurrency's cap
  MutexLock l(mu_);
  if (n == count_) return false;
  count_ = n;
  cv_.NotifyAll();
  return true;
}

DockerBackend::DockerBackend(DockerSettings settings, std::unique_ptr<DockerApi> api,
                             std::unique_ptr<StateStore> store, DockerBackendOptions options)
    : settings_(std::move(settings)),
      start_slots_(settings_.start_concurrency),
      api_(std::move(api)),
      store_(std::move(store)),
      options_(std::move(options)),
      log_(log::Logger("docker-sd")) {
  handlers_ = options_.handlers;
  if (!handlers_) {
    own_handlers_ = std::make_unique<DockerHandlerRunner>(*api_);
    handlers_ = own_handlers_.get();
  }
  prober_ =
      std::make_unique<Prober>(*handlers_, static_cast<ProberListener&>(*this), options_.prober);
}

DockerBackend::~DockerBackend() {
  stop_ = true;
  Wake();
  if (worker_.joinable()) worker_.join();
  if (events_.joinable()) events_.join();
  prober_.reset();  // no more kills are queued after this
  JoinTasks();
}

Status DockerBackend::LoadState() {
  IL_ASSIGN_OR_RETURN(auto rows, store_->LoadAll());
  MutexLock l(pods_mu_);
  for (const auto& r : rows) {
    auto v = api::ParseJson(r.plan_json);
    auto plan = v.ok() ? PodPlanFromJson(*v) : Result<PodPlan>(v.status());
    if (!plan.ok()) {
      log_->error("state file: pod uid={} has an unreadable plan ({}); ignoring it", r.uid,
                  plan.status().message());
      continue;
    }
    auto e = std::make_shared<PodEntry>(std::move(*plan));
    Stage stage = ParseStage(r.stage);
    {
      MutexLock el(e->mu);  // not shared yet; taken for the analysis
      e->stage = stage;
      e->runtime = RuntimeFromJson(r.runtime_json);
    }
    if (stage != Stage::kDeleting) WatchProbes(*e);
    pods_[r.uid] = e;
  }
  log_->info("state {}: {} pod(s), instance {}; {} container start(s) at once",
             settings_.state_file, pods_.size(), store_->instance_id(), start_slots_.count());
  return Status::Ok();
}

size_t DockerBackend::pod_count() const {
  MutexLock l(pods_mu_);
  return pods_.size();
}

DockerBackend::EntryPtr DockerBackend::Find(const std::string& uid) const {
  MutexLock l(pods_mu_);
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : it->second;
}

std::vector<DockerBackend::EntryPtr> DockerBackend::Snapshot() const {
  MutexLock l(pods_mu_);
  std::vector<EntryPtr> out;
  out.reserve(pods_.size());
  for (const auto& [uid, e] : pods_) out.push_back(e);
  return out;
}

Stage DockerBackend::StageOf(const PodEntry& e) const {
  MutexLock l(e.mu);
  return e.stage;
}

Status DockerBackend::SetStage(PodEntry& e, Stage s) {
  {
    MutexLock l(e.mu);
    if (e.stage == s) return Status::Ok();
    e.stage = s;
  }
  return store_->SetStage(e.plan.uid, std::string(StageName(s)));
}

Result<api::CreateResult> DockerBackend::Create(const api::CallContext&,
                                                const api::RetrievedPodData& data) {
  IL_RETURN_IF_ERROR(api::ValidatePod(data.pod));
  const std::string uid = api::PodUid(data.pod);
  if (auto e = Find(uid)) return api::CreateResult{uid, e->plan.NamespaceHolder()};
  IL_ASSIGN_OR_RETURN(PodSources src, PodSources::Build(data));
  const std::string dir = settings_.PodDir(uid);
  IL_ASSIGN_OR_RETURN(VolumePlan volumes, PlanVolumes(src, dir, settings_.host_path_allow_list));
  IL_ASSIGN_OR_RETURN(PodPlan plan, BuildPodPlan(src, volumes, settings_, store_->instance_id()));
  auto e = std::make_shared<PodEntry>(std::move(plan));
  std::unique_lock op(e->op_mu);
  {
    MutexLock l(pods_mu_);
    auto [it, inserted] = pods_.emplace(uid, e);
    if (!inserted) return api::CreateResult{uid, it->second->plan.NamespaceHolder()};
  }
  auto forget = [&] {
    MutexLock l(pods_mu_);
    pods_.erase(uid);
    std::error_code ec;
    // Never recursively through a pin (bind_source.h) left by an earlier run.
    if (UnpinBelow(dir).ok()) std::filesystem::remove_all(dir, ec);
  };
  // Environment files (the create bodies' Env) go beside the volumes, in the pod's private
  // directory (0700).
  volumes.dirs.push_back({dir + "/env", 0700});
  volumes.files.insert(volumes.files.end(), e->plan.env_files.begin(), e->plan.env_files.end());
  volumes.files.insert(volumes.files.end(), e->plan.termination_files.begin(),
                       e->plan.termination_files.end());
  if (Status s = ApplyVolumePlan(volumes, settings_.host_path_allow_list); !s.ok()) {
    forget();
    return s.WithContext("pod " + PodRef(e->plan));
  }
  PodRecord rec{uid, json::serialize(ToJson(e->plan)), std::string(StageName(Stage::kPending)),
                std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count(),
                ""};
  if (Status s = store_->Insert(rec); !s.ok()) {
    forget();
    return s;
  }
  WatchProbes(*e);
  Status s = Step(*e, {});
  if (s.code() == StatusCode::kUnavailable) {
    prober_->Forget(uid);
    // Docker is down: undo, so the caller's retry starts from scratch.
    (void)RemoveAll(e->plan.DockerNames());
    (void)store_->Remove(uid);
    forget();
    return s;
  }
  changes_.Notify(uid);
  log_->debug("created pod {} as {} container(s), stage {}", PodRef(e->plan),
              e->plan.containers.size(), StageName(StageOf(*e)));
  return api::CreateResult{uid, e->plan.NamespaceHolder()};
}

Status DockerBackend::Delete(const api::CallContext&, const json::value& pod) {
  const std::string uid = api::PodUid(pod);
  if (!api::IsSafeUid(uid)) return InvalidArgument("pod uid '" + uid + "' is malformed");
  EntryPtr e = Find(uid);
  if (!e) return DeleteUnknown(uid);
  std::lock_guard op(e->op_mu);
  {
    MutexLock l(e->mu);
    if (e->removed) return Status::Ok();
  }
  IL_RETURN_IF_ERROR(SetStage(*e, Stage::kDeleting));
  prober_->Forget(uid);
  bool finished;
  {
    MutexLock l(e->mu);
    finished = e->all_finished;
  }
  std::vector<std::string> names = e->plan.DockerNames();
  if (!finished) {
    int64_t grace = GraceSeconds(pod);
    // preStop first, inside the grace period; the stop gets what is left (at least 2 s).
    grace = RunPreStops(*e, grace);
    std::vector<std::string> order(names.rbegin(), names.rend());  // apps first, sandbox last
    IL_RETURN_IF_ERROR(StopAll(order, grace));
  }
  IL_RETURN_IF_ERROR(FinishDelete(*e));
  log_->debug("deleted pod {}", PodRef(e->plan));
  return Status::Ok();
}

Status DockerBackend::DeleteUnknown(const std::string& uid) {
  IL_ASSIGN_OR_RETURN(
      json::array list,
      api_->ListContainers(
          {{"label", json::array{json::string(std::string(kLabelPodUid) + "=" + uid),
                                 json::string(std::string(kLabelInstance) + "=" +
                                              store_->instance_id())}}}));
  std::vector<std::string> ids;
  for (const auto& c : list) {
    if (std::string id = api::GetString(c, {"Id"}); !id.empty()) ids.push_back(id);
  }
  if (ids.empty()) return NotFound("pod uid " + uid + " is unknown to docker-sd");
  log_->warn("removing {} container(s) of unknown pod uid={}", ids.size(), uid);
  return RemoveAll(ids);
}

Result<ObservedMap> DockerBackend::Inspect(const std::vector<std::string>& names) {
  // One GET per container on a pooled keep-alive connection (no process, ~1 ms each).
  ObservedMap out;
  for (const auto& n : names) {
    if (out.count(n)) continue;
    auto v = api_->InspectContainer(n);
    if (v.ok()) {
      out[n] = ObservedFromInspect(*v);
    } else if (v.status().code() != StatusCode::kNotFound) {
      return v.status();
    }
  }
  return out;
}

Status DockerBackend::StopAll(const std::vector<std::string>& names, int64_t grace_seconds) {
  for (const auto& n : names) {
    Status s = api_->StopContainer(n, grace_seconds);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Status DockerBackend::RemoveAll(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    Status s = api_->RemoveContainer(n, /*force=*/true, /*volumes=*/true);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Result<std::vector<api::PodStatus>> DockerBackend::GetStatus(const api::CallContext&,
                                                             const std::vector<json::value>& pods) {
  std::vector<EntryPtr> entries;
  std::vector<Stage> stages;  // as they were before `docker inspect` ran
  std::vector<std::string> names;
  for (const auto& p : pods) {
    if (EntryPtr e = Find(api::PodUid(p))) {
      for (const auto& c : e->plan.containers) names.push_back(c.docker_name);
      stages.push_back(StageOf(*e));
      entries.push_back(std::move(e));
    }
  }
  std::vector<api::PodStatus> out;
  if (entries.empty()) return out;
  IL_ASSIGN_OR_RETURN(ObservedMap observed, Inspect(names));
  bool pending = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const EntryPtr& e = entries[i];
    api::PodStatus ps;
    {
      MutexLock l(e->mu);
      if (e->removed) continue;
      // A pod that was still pending when Docker was asked may have had its containers
      // created since: judged by the newer stage, a container the snapshot missed would
      // read as lost (ContainerStatusUnknown), a terminal state the vk keeps for good.
      Stage stage = stages[i] == Stage::kPending ? Stage::kPending : e->stage;
      ps = BuildPodStatus(e->plan, stage, observed, e->errors);
    }
    DecorateStatus(*e, ps, observed);
    out.push_back(std::move(ps));
    MutexLock l(e->mu);
    pending = pending || e->stage == Stage::kPending;
    bool finished = true;
    for (const auto& c : e->plan.containers) {
      if (c.role == Role::kSandbox) continue;
      auto it = observed.find(c.docker_name);
      bool final = it != observed.end() && it->second.Finished() &&
                   (it->second.restart_policy.empty() || it->second.restart_policy == "no" ||
                    (it->second.restart_policy == "on-failure" && it->second.Succeeded()));
      finished = finished && final;
    }
    e->all_finished = finished;
  }
  if (pending) Wake();
  return out;
}

Status DockerBackend::LogsWaitingError(const PodEntry& e, const ContainerPlan& c) const {
  std::string reason = c.role == Role::kInit || !e.plan.WithRole(Role::kInit).empty()
                           ? "PodInitializing"
                           : "ContainerCreating";
  {
    MutexLock l(e.mu);
    if (auto it = e.errors.find(c.docker_name); it != e.errors.end()) reason = it->second.reason;
  }
  return InvalidArgument("container \"" + c.name + "\" in pod \"" + e.plan.name +
                         "\" is waiting to start: " + reason);
}

Status DockerBackend::GetLogs(const api::CallContext&, const api::LogRequest& req,
                              api::LogSink& sink) {
  EntryPtr e = Find(req.pod_uid);
  if (!e)
    return NotFound("pod " + req.ns + "/" + req.pod_name + " (uid " + req.pod_uid +
                    ") is unknown to docker-sd");
  const ContainerPlan* c = nullptr;
  auto apps = e->plan.WithRole(Role::kApp);
  if (req.container.empty()) {
    if (apps.size() != 1) {
      std::string names;
      for (const auto* a : apps) names += (names.empty() ? "" : " ") + a->name;
      return InvalidArgument("a container name must be specified for pod " + e->plan.name +
                             ", choose one of: [" + names + "]");
    }
    c = apps.front();
  } else {
    for (const auto& x : e->plan.containers) {
      if (x.role != Role::kSandbox && x.name == req.container) c = &x;
    }
  }
  if (!c) return NotFound("container " + req.container + " is not part of pod " + e->plan.name);
  if (req.opts.previous) {
    return InvalidArgument("previous terminated container \"" + c->name + "\" in pod \"" +
                           e->plan.name + "\" not found");
  }
  IL_ASSIGN_OR_RETURN(ObservedMap obs, Inspect({c->docker_name}));
  auto it = obs.find(c->docker_name);
  if (it == obs.end() || (it->second.status == "created" && it->second.error.empty())) {
    return LogsWaitingError(*e, *c);
  }
  auto now = std::chrono::system_clock::now();
  LogsOptions q = LogsRequest(req.opts, now);
  const auto* tty = c->create_body.if_contains("Tty");
  q.tty = (tty && tty->is_bool() && tty->as_bool()) ||
          std::find(c->legacy_run_args.begin(), c->legacy_run_args.end(), "--tty") !=
              c->legacy_run_args.end();
  const std::string name = c->docker_name;
  if (req.opts.follow) {
    return FollowLogs(
        [&](const StreamDemuxer::Sink& out, const std::function<bool()>& stop) {
          return api_->Logs(name, q, out, stop);
        },
        req.opts, sink);
  }
  std::string out, err;
  Status s = api_->Logs(name, q, [&](int stream, std::string_view data) {
    (stream == 2 ? err : out).append(data);
    return true;
  });
  if (s.code() == StatusCode::kUnavailable) {
    return Unavailable("docker daemon unavailable: " + s.message());
  }
  if (!s.ok()) return Status(StatusCode::kBadGateway, "docker logs failed: " + s.message());
  std::string text = MergeDockerLogs(out, err, req.opts, now);
  if (!text.empty()) sink.Write(text);
  return Status::Ok();
}

Result<api::StatusChanges> DockerBackend::WatchStatus(const api::CallContext&,
                                                      const std::string& since,
                                                      std::chrono::milliseconds timeout,
                                                      const std::function<bool()>& gone) {
  return changes_.Wait(since, timeout, gone);
}

void DockerBackend::AdoptEngineInfo(const json::value& info) {
  if (start_slots_.AdoptEngineCpus(api::GetInt(info, {"NCPU"}))) {
    log_->info("starting at most {} containers at once: the engine's CPUs", start_slots_.count());
  }
}

Result<api::PingResponse> DockerBackend::Ping(const api::CallContext&) {
  auto info = api_->Info();
  if (!info.ok()) return Unavailable("docker daemon unavailable: " + info.status().message());
  api::PingResponse p;
  p.status = "ok";
  AdoptEngineInfo(*info);
  int64_t cpus = api::GetInt(*info, {"NCPU"}), mem = api::GetInt(*info, {"MemTotal"});
  if (cpus > 0) p.resources["cpu"] = std::to_string(cpus);
  if (mem > 0) p.resources["memory"] = std::to_string(mem / 1024) + "Ki";
  return p;
}

}  // namespace il::docker
