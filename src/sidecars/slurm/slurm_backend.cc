#include "sidecars/slurm/slurm_backend.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "api/pod.h"
#include "api/probe.h"
#include "sidecars/slurm/job_script.h"
#include "sidecars/slurm/probe_script.h"
#include "sidecars/slurm/slurm_exec.h"
#include "sidecars/slurm/slurm_parsers.h"

namespace il::slurm {
namespace {

namespace fs = std::filesystem;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Never through a symlink a job (of an earlier life of this directory) may have left.
Status WriteFile(const std::string& path, const std::string& content, int mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    return Internal("cannot create " + fs::path(path).parent_path().string() + ": " + ec.message());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(mode & 0700));
  if (fd < 0) return Internal("cannot write " + path + ": " + strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == content.size() && ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Internal("cannot write " + path);
  return Status::Ok();
}

// Hands a freshly written job directory (nothing of the job's yet) to the Unix user its job
// runs as: owner of every entry, the directory itself 0700 (other tenants cannot enter).
Status GiveToUser(const std::string& dir, const std::string& user) {
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return FailedPrecondition("Unix user " + user + " (NamespaceUsers) does not exist");
  }
  auto own = [&](const std::string& p) { return ::lchown(p.c_str(), pw.pw_uid, pw.pw_gid) == 0; };
  std::error_code ec;
  bool ok = own(dir);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    ok = own(it->path().string()) && ok;
  }
  if (ec || !ok || ::chmod(dir.c_str(), 0700) != 0) {
    return Internal("cannot give job directory " + dir + " to user " + user);
  }
  return Status::Ok();
}

// Removes a job directory; a follow-mode reader may briefly hold files, so try twice.
void RemoveDir(const std::string& dir, spdlog::logger& log) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) fs::remove_all(dir, ec);
  if (ec) log.warn("cannot remove job directory {}: {}", dir, ec.message());
}

}  // namespace

SlurmBackend::SlurmBackend(SlurmConfig cfg, std::shared_ptr<CommandRunner> runner,
                           std::unique_ptr<JobStore> store, Options options)
    : cfg_(std::move(cfg)),
      runner_(std::move(runner)),
      store_(std::move(store)),
      opt_(std::move(options)),
      log_(log::Logger("slurm-sd")) {}

Result<std::unique_ptr<SlurmBackend>> SlurmBackend::Open(SlurmConfig cfg,
                                                         std::shared_ptr<CommandRunner> runner,
                                                         std::unique_ptr<JobStore> store,
                                                         Options options) {
  std::error_code ec;
  fs::create_directories(cfg.data_root, ec);
  if (ec) return Internal("cannot create DataRootFolder " + cfg.data_root + ": " + ec.message());
  std::unique_ptr<SlurmBackend> b(
      new SlurmBackend(std::move(cfg), std::move(runner), std::move(store), std::move(options)));
  IL_RETURN_IF_ERROR(b->Recover());
  if (b->opt_.background_watch_pass) {
    SlurmBackend* raw = b.get();
    b->watcher_ = std::jthread([raw](const std::stop_token& st) { raw->WatchPassLoop(st); });
  }
  return b;
}

Result<CommandResult> SlurmBackend::RunSlurm(const std::vector<std::string>& base,
                                             const std::vector<std::string>& args, int64_t* counter,
                                             const std::string& working_dir) {
  std::vector<std::string> argv = base;
  argv.insert(argv.end(), args.begin(), args.end());
  {
    MutexLock l(mu_);
    ++*counter;
  }
  CommandOptions o;
  o.timeout = std::chrono::seconds(60);
  o.working_dir = working_dir;
  auto r = runner_->Run(argv, o);
  if (!r.ok()) return Unavailable("cannot run " + argv[0] + ": " + r.status().message());
  if (r->timed_out) return Unavailable(argv[0] + " did not answer within 60 s");
  return r;
}

Status SlurmBackend::WriteJobDir(const JobSpec& spec, const std::string& script) {
  std::error_code ec;
  fs::create_directories(spec.dir, ec);
  if (ec) return Internal("cannot create job directory " + spec.dir + ": " + ec.message());
  ::chmod(spec.dir.c_str(), 0700);  // it holds the pod's secrets
  if (!spec.embed_files) {
    for (const auto& d : spec.dirs) {
      if (d.rfind(spec.dir + "/", 0) == 0) fs::create_directories(d, ec);  // not hostPaths
    }
    for (const auto& f : spec.files) IL_RETURN_IF_ERROR(WriteFile(f.path, f.content, f.mode));
  }
  for (const auto& c : spec.containers) {  // how kubectl exec runs beside it (slurm_exec.h)
    IL_RETURN_IF_ERROR(
        WriteFile(spec.dir + "/" + ExecFileName(c.name), RenderExecFile(spec, c), 0600));
  }
  return WriteFile(spec.dir + "/job.slurm", script, 0755);
}

Result<std::string> SlurmBackend::Submit(const PodRecord& rec, const std::string& script_path) {
  IL_ASSIGN_OR_RETURN(auto user, JobUser(cfg_, rec.ns));
  IL_ASSIGN_OR_RETURN(CommandResult r,
                      RunSlurm(AsUser(cfg_, user, cfg_.sbatch), {"--parsable", script_path},
                               &counters_.sbatch, rec.dir));
  if (r.exit_code != 0) {
    std::string msg = Trim(r.err.empty() ? r.out : r.err);
    return FailedPrecondition(
        "Slurm rejected the job for pod " + rec.ns + "/" + rec.name + ": " +
        (msg.empty() ? "sbatch exited with " + std::to_string(r.exit_code) : msg));
  }
  if (!Trim(r.err).empty()) {
    log_->warn("sbatch warnings for pod {}/{} uid={}: {}", rec.ns, rec.name, rec.uid, Trim(r.err));
  }
  auto id = ParseSbatchJobId(r.out);
  if (!id.ok()) return Internal(id.status().message());
  return *id;
}

Result<api::CreateResult> SlurmBackend::Create(const api::CallContext&,
                                               const api::RetrievedPodData& data) {
  const std::string uid = api::PodUid(data.pod);
  {
    MutexLock l(mu_);
    while (creating_.count(uid)) created_cv_.Wait(mu_);
    if (auto it = pods_.find(uid); it != pods_.end() && it->second.job.job_id.empty()) {
      // Recorded before a crash, and Slurm could not be asked at start-up: ask now.
      std::vector<PodRecord*> pending = {&it->second};
      creating_.insert(uid);  // keeps Delete and other Creates away from the record
      l.Unlock();
      Status s = ResolveSubmitting(pending);
      l.Lock();
      creating_.erase(uid);
      created_cv_.NotifyAll();
      if (!s.ok()) return s;
    }
    if (auto it = pods_.find(uid); it != pods_.end()) {
      log_->info("pod {}/{} uid={} exists as job {}; not submitting again", it->second.ns,
                 it->second.name, uid, it->second.job.job_id);
      return api::CreateResult{uid, it->second.job.job_id};
    }
    creating_.insert(uid);
  }
  struct Done {
    SlurmBackend* b;
    std::string uid;
    ~Done() {
      MutexLock l(b->mu_);
      b->creating_.erase(uid);
      b->created_cv_.NotifyAll();
    }
  } done{this, uid};

  IL_ASSIGN_OR_RETURN(JobSpec spec, BuildJobSpec(data, cfg_));
  IL_ASSIGN_OR_RETURN(auto user, JobUser(cfg_, spec.ns));
  for (const auto& w : spec.warnings)
    log_->warn("pod {}/{} uid={}: {}", spec.ns, spec.name, uid, w);
  PodRecord rec;
  rec.uid = uid;
  rec.ns = spec.ns;
  rec.name = spec.name;
  rec.dir = spec.dir;
  rec.created = opt_.now();
  for (const auto& c : spec.containers)
    rec.containers.push_back({c.name, c.image, c.init, HasProbeWork(c)});
  Status s = WriteJobDir(spec, RenderJobScript(spec));
  if (s.ok() && user) s = GiveToUser(spec.dir, *user);
  if (s.ok()) s = store_->Put(rec);  // job id "" = submitting: resolved at start-up if we crash
  if (!s.ok()) {
    RemoveDir(spec.dir, *log_);
    return s;
  }
  auto jid = Submit(rec, spec.dir + "/job.slurm");
  if (!jid.ok()) {
    (void)store_->Remove(uid);
    RemoveDir(spec.dir, *log_);
    return jid.status();
  }
  rec.job.job_id = *jid;
  if (Status p = store_->Put(rec); !p.ok())
    log_->error("cannot record job {}: {}", *jid, p.message());
  MutexLock l(mu_);
  pods_[uid] = rec;
  log_->info("pod {}/{} uid={} submitted as Slurm job {}", rec.ns, rec.name, uid, *jid);
  return api::CreateResult{uid, *jid};
}

namespace {

// The grace period of a pod whose app containers have a preStop hook (kubelet: the delete's
// deletionGracePeriodSeconds, else terminationGracePeriodSeconds, else 30); nullopt when
// there is no hook to run.
std::optional<int64_t> PreStopGrace(const json::value& pod) {
  bool any = false;
  for (const auto& c : api::Containers(pod)) {
    auto l = api::ParseLifecycle(c);
    any = any || (l.ok() && l->pre_stop);
  }
  if (!any) return std::nullopt;
  for (auto path :
       {std::initializer_list<std::string_view>{"metadata", "deletionGracePeriodSeconds"},
        std::initializer_list<std::string_view>{"spec", "terminationGracePeriodSeconds"}}) {
    if (const auto* g = api::Find(pod, path); g && g->is_int64() && g->as_int64() >= 0)
      return g->as_int64();
  }
  return 30;
}

}  // namespace

// preStop hooks run inside the job: the batch shell alone gets USR1 (`scancel --batch`
// leaves its children alone), its trap runs each container's preStop and stops the
// container within the grace period, and the job ends. We wait for its job.status (the
// grace period plus 10 s at most) before the ordinary scancel.
void SlurmBackend::StopWithPreStop(const PodRecord& rec, const std::optional<std::string>& user,
                                   int64_t grace) {
  auto r = RunSlurm(AsUser(cfg_, user, cfg_.scancel), {"--batch", "--signal=USR1", rec.job.job_id},
                    &counters_.scancel);
  if (!r.ok() || r->exit_code != 0) {
    log_->warn("job {}: cannot signal the job for its preStop hooks: {}", rec.job.job_id,
               r.ok() ? Trim(r->err) : r.status().message());
    return;
  }
  // Capped below interlink's SidecarTimeoutSeconds (120 s by default).
  const int64_t wait = std::min<int64_t>(std::max<int64_t>(grace, 2) + 10, 100);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadJobStatusFile(rec.dir)) {
      log_->info("job {}: containers stopped after their preStop hooks", rec.job.job_id);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  log_->warn("job {}: still running {} s after the preStop signal; cancelling", rec.job.job_id,
             wait);
}

Status SlurmBackend::Delete(const api::CallContext&, const json::value& pod) {
  const std::string uid = api::PodUid(pod);
  PodRecord rec;
  {
    MutexLock l(mu_);
    while (creating_.count(uid)) created_cv_.Wait(mu_);
    auto it = pods_.find(uid);
    if (it == pods_.end())
      return NotFound("pod " + api::PodNamespace(pod) + "/" + api::PodName(pod) + " uid " + uid +
                      " is unknown");
    rec = it->second;
  }
  if (!rec.job.job_id.empty() && !IsTerminal(rec.job.state)) {
    IL_ASSIGN_OR_RETURN(auto user, JobUser(cfg_, rec.ns));
    if (rec.job.state == JobState::kRunning) {
      if (auto grace = PreStopGrace(pod)) StopWithPreStop(rec, user, *grace);
    }
    IL_ASSIGN_OR_RETURN(CommandResult r, RunSlurm(AsUser(cfg_, user, cfg_.scancel),
                                                  {rec.job.job_id}, &counters_.scancel));
    std::string err = Trim(r.err);
    bool gone = err.find("Invalid job id") != std::string::npos ||
                err.find("already completing or completed") != std::string::npos;
    if (r.exit_code != 0 && !gone)
      return Unavailable("scancel " + rec.job.job_id + " failed: " + err);
    log_->info("cancelled Slurm job {} of pod {}/{} uid={}", rec.job.job_id, rec.ns, rec.name, uid);
  }
  RemoveDir(rec.dir, *log_);
  Status s = store_->Remove(uid);
  MutexLock l(mu_);
  pods_.erase(uid);
  final_.erase(uid);
  return s;
}

Result<api::PingResponse> SlurmBackend::Ping(const api::CallContext&) {
  IL_ASSIGN_OR_RETURN(CommandResult r,
                      RunSlurm(cfg_.sinfo, SinfoArgs(cfg_.partition), &counters_.sinfo));
  if (r.exit_code != 0) return Unavailable("sinfo failed: " + Trim(r.err));
  Capacity c = ParseSinfoNodes(r.out);
  api::PingResponse p;
  p.status = c.nodes > 0 ? "ok" : "warning";
  p.resources["cpu"] = std::to_string(c.cpus);
  p.resources["memory"] = std::to_string(c.memory_mib) + "Mi";
  json::array acc;
  if (c.gpus > 0)
    acc.push_back(
        json::object{{"resourceType", "nvidia.com/gpu"}, {"available", std::to_string(c.gpus)}});
  p.resources["accelerators"] = std::move(acc);
  return p;
}

SlurmBackend::Counters SlurmBackend::counters() const {
  MutexLock l(mu_);
  return counters_;
}

}  // namespace il::slurm
