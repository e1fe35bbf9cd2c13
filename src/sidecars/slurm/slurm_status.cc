// SlurmBackend: status refresh (one squeue per cycle, sacct/job.status fallbacks) and
// start-up recovery.
#include <filesystem>

#include "api/pod.h"
#include "sidecars/slurm/job_spec.h"
#include "sidecars/slurm/slurm_backend.h"
#include "sidecars/slurm/slurm_parsers.h"

namespace il::slurm {
namespace {

JobView ViewOf(const JobInfo& j) {
  JobView v;
  v.job_id = j.job_id;
  v.state = j.state;
  v.reason = j.reason;
  v.exit_code = j.exit_code;
  v.signal = j.signal;
  v.start = j.start;
  v.end = j.end;
  return v;
}

bool Same(const JobView& a, const JobView& b) {
  return a.state == b.state && a.reason == b.reason && a.exit_code == b.exit_code &&
         a.signal == b.signal && a.start == b.start && a.end == b.end;
}

}  // namespace

Status SlurmBackend::Recover() {
  IL_ASSIGN_OR_RETURN(auto records, store_->LoadAll());
  std::vector<PodRecord*> submitting;
  size_t pods = 0;
  {
    MutexLock l(mu_);
    for (auto& r : records) pods_[r.uid] = std::move(r);
    for (auto& [uid, r] : pods_) {
      if (r.job.job_id.empty()) submitting.push_back(&r);
    }
    pods = pods_.size();
  }
  log_->info("state: {} pods from {}", pods, cfg_.state_file);
  if (!submitting.empty()) {
    // Slurm may be down right now: start anyway; Create retries for these pods.
    if (Status s = ResolveSubmitting(submitting); !s.ok()) log_->warn("{}", s.message());
  }
  WarnAboutOrphans();
  Refresh(true);
  return Status::Ok();
}

// Pods whose sbatch may or may not have happened before a crash: look for their job by
// name; if Slurm has none, the submission never happened and the pod is forgotten (the
// caller's create failed, so it will create again).
Status SlurmBackend::ResolveSubmitting(std::vector<PodRecord*>& submitting) {
  std::string names;
  for (auto* r : submitting) names += (names.empty() ? "" : ",") + JobName(r->uid);
  auto res = RunSlurm(cfg_.squeue,
                      {"--noheader", "--states=all", "--name=" + names, "--Format=JobID:|,Name:"},
                      &counters_.squeue);
  if (!res.ok() || res->exit_code != 0) {
    return Unavailable("cannot check pods interrupted during submission: " +
                       (res.ok() ? res->err : res.status().message()));
  }
  std::map<std::string, std::string> by_name;
  for (const auto& [id, name] : ParseIdNameLines(res->out)) by_name[name] = id;
  for (auto* r : submitting) {
    auto it = by_name.find(JobName(r->uid));
    if (it != by_name.end()) {
      PodRecord copy;
      {
        MutexLock l(mu_);
        r->job.job_id = it->second;
        copy = *r;
      }
      log_->info("pod {}/{} uid={}: found job {} submitted before a restart", r->ns, r->name,
                 r->uid, it->second);
      IL_RETURN_IF_ERROR(store_->Put(copy));
    } else {
      log_->warn("pod {}/{} uid={}: submission interrupted before sbatch; forgetting it", r->ns,
                 r->name, r->uid);
      std::error_code ec;
      std::filesystem::remove_all(r->dir, ec);
      const std::string uid = r->uid;  // r points into pods_
      IL_RETURN_IF_ERROR(store_->Remove(uid));
      MutexLock l(mu_);
      pods_.erase(uid);
    }
  }
  return Status::Ok();
}

// Jobs named like ours that we have no record of (e.g. a lost state file) are reported.
void SlurmBackend::WarnAboutOrphans() {
  auto res =
      RunSlurm(cfg_.squeue, {"--noheader", "--me", "--Format=JobID:|,Name:"}, &counters_.squeue);
  if (!res.ok() || res->exit_code != 0) return;
  std::set<std::string> known;
  {
    MutexLock l(mu_);
    for (const auto& [uid, r] : pods_) known.insert(JobName(uid));
  }
  for (const auto& [id, name] : ParseIdNameLines(res->out)) {
    if (name.rfind("il-", 0) == 0 && !known.count(name)) {
      log_->warn("Slurm job {} ({}) looks like an interLink pod this sidecar does not know", id,
                 name);
    }
  }
}

// squeue for all ids; sacct for those squeue no longer shows. Ids Slurm does not know
// are missing from the result.
Result<std::map<std::string, JobView>> SlurmBackend::QuerySlurm(
    const std::vector<std::string>& ids) {
  std::map<std::string, JobView> found;
  auto sq = RunSlurm(cfg_.squeue, SqueueArgs(ids), &counters_.squeue);
  if (!sq.ok() || (sq->exit_code != 0 && !IsInvalidJobIdError(sq->err))) {
    return Unavailable("squeue failed: " + (sq.ok() ? sq->err : sq.status().message()));
  }
  for (const auto& j : ParseSqueue(sq->out)) found[j.job_id] = ViewOf(j);
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    if (!found.count(id)) missing.push_back(id);
  }
  if (!missing.empty() && !accounting_disabled_) {
    auto sa = RunSlurm(cfg_.sacct, SacctArgs(missing), &counters_.sacct);
    if (sa.ok() && (IsAccountingDisabled(sa->out) || IsAccountingDisabled(sa->err))) {
      log_->info(
          "Slurm accounting is disabled: finished jobs are read from their job.status files");
      accounting_disabled_ = true;
    } else if (sa.ok() && sa->exit_code == 0) {
      for (const auto& j : ParseSacct(sa->out)) found[j.job_id] = ViewOf(j);
    }
  }
  return found;
}

void SlurmBackend::Refresh(bool force) {
  MutexLock rl(refresh_mu_);
  TimePoint now = opt_.now();
  if (!force && now - last_refresh_ < std::chrono::duration<double>(cfg_.status_cache_seconds))
    return;
  std::vector<std::string> ids;
  std::map<std::string, std::string> uid_of;
  {
    MutexLock l(mu_);
    for (const auto& [uid, r] : pods_) {
      if (r.job.job_id.empty() || IsTerminal(r.job.state)) continue;
      ids.push_back(r.job.job_id);
      uid_of[r.job.job_id] = uid;
    }
  }
  if (ids.empty()) {
    last_refresh_ = now;
    return;
  }
  auto queried = QuerySlurm(ids);
  if (!queried.ok()) {
    // Keep the last known states; the next call tries again.
    if (slurm_errors_.Allow()) log_->warn("{}", queried.status().message());
    return;
  }
  const auto& found = *queried;
  MutexLock l(mu_);
  for (const auto& [id, uid] : uid_of) {
    auto it = pods_.find(uid);
    if (it == pods_.end()) continue;  // deleted meanwhile
    PodRecord& rec = it->second;
    JobView v;
    if (auto f = found.find(id); f != found.end()) {
      v = f->second;
    } else if (auto js = ReadJobStatusFile(rec.dir)) {
      v = rec.job;
      v.state = js->first == 0 ? JobState::kCompleted : JobState::kFailed;
      v.exit_code = js->first;
      v.end = js->second ? js->second : std::optional<TimePoint>(now);
    } else {
      v = rec.job;
      v.state = JobState::kLost;
      v.end = now;
    }
    v.job_id = id;
    if (!Same(v, rec.job)) {
      rec.job = v;
      PersistLocked(rec);
    }
  }
  last_refresh_ = opt_.now();
}

void SlurmBackend::PersistLocked(const PodRecord& rec) {
  if (Status s = store_->Put(rec); !s.ok())
    log_->error("cannot record state of job {}: {}", rec.job.job_id, s.message());
}

void SlurmBackend::RefreshNow() { Refresh(true); }

api::PodStatus SlurmBackend::StatusOf(const PodRecord& rec, bool* settled) {
  std::vector<ContainerFiles> files(rec.containers.size());
  // Before the job starts no container can have written anything: skip the file reads
  // (they dominate the cost of a status cycle over many queued jobs).
  bool may_have_files = rec.job.state != JobState::kPending &&
                        rec.job.state != JobState::kUnknown &&
                        rec.job.state != JobState::kConfiguring;
  for (size_t i = 0; may_have_files && i < rec.containers.size(); ++i) {
    files[i] = ReadContainerFiles(rec.dir, rec.containers[i]);
  }
  const TimePoint now = opt_.now();
  JobView job = rec.job;
  bool final = IsTerminal(job.state);
  // Slurm calls a cancelled job CANCELLED at once, while its containers are still running
  // their TERM traps and writing their exit codes. A container that started and has not
  // written one yet is still running until the job script is done (job.status) or
  // kExitWriteGrace has passed: else its own exit code would be lost for the job's.
  if (final && job.end && now - *job.end < kExitWriteGrace && !ReadJobStatusFile(rec.dir)) {
    for (const auto& f : files) {
      if (f.started && !f.exit_code) {
        job.state = JobState::kCompleting;
        final = false;
        break;
      }
    }
  }
  if (settled) *settled = final;
  return BuildPodStatus(rec.uid, rec.ns, rec.name, job, rec.containers, files, now);
}

Result<std::vector<api::PodStatus>> SlurmBackend::GetStatus(const api::CallContext&,
                                                            const std::vector<json::value>& pods) {
  Refresh(false);
  std::vector<api::PodStatus> out;
  for (const auto& p : pods) {
    const std::string uid = api::PodUid(p);
    PodRecord rec;
    {
      MutexLock l(mu_);
      if (auto f = final_.find(uid); f != final_.end()) {
        out.push_back(f->second);
        continue;
      }
      auto it = pods_.find(uid);
      if (it == pods_.end()) continue;
      rec = it->second;
    }
    bool settled = false;
    api::PodStatus st = StatusOf(rec, &settled);
    if (settled) {
      MutexLock l(mu_);
      if (pods_.count(uid)) final_[uid] = st;
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace il::slurm
