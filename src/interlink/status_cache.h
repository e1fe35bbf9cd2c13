// StatusCache: answers interLink /status for many pods with at most one sidecar call.
//
// Pods whose last known state is final (every container terminated) are answered from
// the cache; all others, and pods never seen, go to the sidecar in ONE batched GET
// /status. Entries are dropped on /delete and /updateCache. An empty request returns
// every cached entry, as upstream does.
//
// Thread-safety: thread-safe; the sidecar call runs outside the lock.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/backend.h"

namespace il::interlink {

class StatusCache {
 public:
  explicit StatusCache(api::Backend& backend) : backend_(backend) {}

  Result<std::vector<api::PodStatus>> Get(const api::CallContext& ctx,
                                          const std::vector<boost::json::value>& pods);
  void Invalidate(const std::string& uid);
  void InvalidateAll();
  size_t size() const;

  // True when every container and init container of `s` has terminated.
  static bool IsFinal(const api::PodStatus& s);

 private:
  api::Backend& backend_;
  mutable std::mutex mu_;
  std::map<std::string, api::PodStatus> entries_;
};

}  // namespace il::interlink
