#include "interlink/status_cache.h"

#include <set>
#include <string_view>

#include "api/pod.h"

namespace il::interlink {

namespace {
// A tombstone only has to outlive a /status call that was in flight at the delete.
constexpr auto kTombstoneLife = std::chrono::minutes(10);
constexpr size_t kMaxTombstones = 100000;
}  // namespace

bool StatusCache::IsFinal(const api::PodStatus& s, const boost::json::value& pod) {
  if (s.containers.empty()) return false;
  // Under Always (the default, also when the query omits it) a terminated container is
  // restarted by the backend (docker-sd after a liveness kill): never final. Under
  // OnFailure only when every app container exited 0.
  std::string policy = api::GetString(pod, {"spec", "restartPolicy"});
  if (policy != "Never" && policy != "OnFailure") return false;
  for (const auto* list : {&s.containers, &s.init_containers}) {
    for (const auto& c : *list) {
      if (!api::Find(c, {"state", "terminated"})) return false;
      if (policy == "OnFailure" && list == &s.containers &&
          api::GetInt(c, {"state", "terminated", "exitCode"}, 1) != 0) {
        return false;
      }
    }
  }
  return true;
}

Result<api::CreateResult> StatusCache::Create(const api::CallContext& ctx,
                                              const api::RetrievedPodData& data) {
  std::string uid = api::PodUid(data.pod);
  {
    MutexLock l(mu_);
    entries_.erase(uid);
    deleted_.erase(uid);
  }
  return next_.Create(ctx, data);
}

void StatusCache::Tombstone(const std::string& uid) {
  auto now = std::chrono::steady_clock::now();
  if (deleted_.size() >= kMaxTombstones) {
    std::erase_if(deleted_, [&](const auto& kv) { return now - kv.second > kTombstoneLife; });
    if (deleted_.size() >= kMaxTombstones) deleted_.erase(deleted_.begin());
  }
  deleted_[uid] = now;
}

Status StatusCache::Delete(const api::CallContext& ctx, const boost::json::value& pod) {
  std::string uid = api::PodUid(pod);
  {
    MutexLock l(mu_);
    entries_.erase(uid);
    Tombstone(uid);
  }
  return next_.Delete(ctx, pod);
}

Result<std::vector<api::PodStatus>> StatusCache::GetStatus(
    const api::CallContext& ctx, const std::vector<boost::json::value>& pods) {
  std::vector<boost::json::value> ask;
  {
    MutexLock l(mu_);
    if (pods.empty()) {
      std::vector<api::PodStatus> all;
      for (const auto& [uid, s] : entries_) all.push_back(s);
      return all;
    }
    for (const auto& p : pods) {
      auto it = entries_.find(api::PodUid(p));
      if (it == entries_.end() || !IsFinal(it->second, p)) ask.push_back(p);
    }
  }
  std::map<std::string, api::PodStatus> live;  // answered now, not cached (tombstoned)
  if (!ask.empty()) {
    IL_ASSIGN_OR_RETURN(auto fresh, next_.GetStatus(ctx, ask));
    MutexLock l(mu_);
    // A pod the sidecar no longer reports must not be answered from a stale entry.
    for (const auto& p : ask) entries_.erase(api::PodUid(p));
    for (auto& s : fresh) {
      std::string uid = s.uid;
      if (deleted_.count(uid)) {
        live[uid] = std::move(s);
      } else {
        entries_[uid] = std::move(s);
      }
    }
  }
  std::vector<api::PodStatus> out;
  out.reserve(pods.size());
  MutexLock l(mu_);
  for (const auto& p : pods) {
    std::string uid = api::PodUid(p);
    if (auto it = entries_.find(uid); it != entries_.end()) {
      out.push_back(it->second);
    } else if (auto lt = live.find(uid); lt != live.end()) {
      out.push_back(std::move(lt->second));
    }
  }
  return out;
}

Result<api::StatusChanges> StatusCache::WatchStatus(const api::CallContext& ctx,
                                                    const std::string& since,
                                                    std::chrono::milliseconds timeout,
                                                    const std::function<bool()>& gone) {
  auto c = next_.WatchStatus(ctx, since, timeout, gone);
  if (!c.ok()) return c;
  if (c->reset) {
    Invalidate({});
  } else if (!c->uids.empty()) {
    MutexLock l(mu_);
    std::set<std::string_view> named(c->uids.begin(), c->uids.end());
    for (const auto& uid : c->uids) entries_.erase(uid);
    // The plugin's statuses of the changed pods (the `statuses` feature) are as fresh as a
    // /status would be: cached like its answer, except for deleted pods (tombstones) and
    // pods the answer does not name (the vk ignores those too).
    for (const auto& s : c->statuses) {
      if (named.count(s.uid) && !deleted_.count(s.uid)) entries_[s.uid] = s;
    }
  }
  return c;
}

void StatusCache::Invalidate(const std::vector<std::string>& uids) {
  MutexLock l(mu_);
  if (uids.empty()) {
    entries_.clear();
    return;
  }
  for (const auto& uid : uids) entries_.erase(uid);
}

size_t StatusCache::size() const {
  MutexLock l(mu_);
  return entries_.size();
}

}  // namespace il::interlink
