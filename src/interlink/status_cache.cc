#include "interlink/status_cache.h"

#include "api/pod.h"

namespace il::interlink {

bool StatusCache::IsFinal(const api::PodStatus& s) {
  if (s.containers.empty()) return false;
  for (const auto* list : {&s.containers, &s.init_containers}) {
    for (const auto& c : *list) {
      if (!api::Find(c, {"state", "terminated"})) return false;
    }
  }
  return true;
}

Result<std::vector<api::PodStatus>> StatusCache::Get(const api::CallContext& ctx,
                                                     const std::vector<boost::json::value>& pods) {
  std::vector<boost::json::value> ask;
  {
    std::lock_guard l(mu_);
    if (pods.empty()) {
      std::vector<api::PodStatus> all;
      for (const auto& [uid, s] : entries_) all.push_back(s);
      return all;
    }
    for (const auto& p : pods) {
      auto it = entries_.find(api::PodUid(p));
      if (it == entries_.end() || !IsFinal(it->second)) ask.push_back(p);
    }
  }
  if (!ask.empty()) {
    IL_ASSIGN_OR_RETURN(auto fresh, backend_.GetStatus(ctx, ask));
    std::lock_guard l(mu_);
    // A pod the sidecar no longer reports must not be answered from a stale entry.
    for (const auto& p : ask) entries_.erase(api::PodUid(p));
    for (auto& s : fresh) {
      std::string uid = s.uid;
      entries_[uid] = std::move(s);
    }
  }
  std::vector<api::PodStatus> out;
  out.reserve(pods.size());
  std::lock_guard l(mu_);
  for (const auto& p : pods) {
    auto it = entries_.find(api::PodUid(p));
    if (it != entries_.end()) out.push_back(it->second);
  }
  return out;
}

void StatusCache::Invalidate(const std::string& uid) {
  std::lock_guard l(mu_);
  entries_.erase(uid);
}

void StatusCache::InvalidateAll() {
  std::lock_guard l(mu_);
  entries_.clear();
}

size_t StatusCache::size() const {
  std::lock_guard l(mu_);
  return entries_.size();
}

}  // namespace il::interlink
