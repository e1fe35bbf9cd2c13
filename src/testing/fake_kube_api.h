// FakeKubeApi: an in-memory KubeApi for unit tests of the code above the client (the
// virtual kubelet's node, lease and pod controllers). It behaves like a small API server:
//
// - Objects live at their object paths (PodPath("ns","p")); a collection path lists the
//   objects directly below it, and the all-namespaces form (PodsPath("")) spans namespaces.
// - Create fills metadata.uid / resourceVersion / creationTimestamp / namespace (and
//   generateName); a duplicate is AlreadyExists. Update checks metadata.resourceVersion
//   (stale -> Conflict). Patch applies merge patches (strategic merge is treated as a plain
//   merge patch: lists are replaced) and JSON patches (add / replace / remove / test).
//   ".../status" paths change only the object's status.
// - Delete honours preconditions (Conflict). A pod bound to a node (spec.nodeName) deleted
//   with a non-zero grace period only gets deletionTimestamp, like the real API; grace 0
//   removes it.
// - POST to ".../serviceaccounts/{sa}/token" answers a TokenRequest (the SA must exist).
// - POST to a path given to ReactToCreate (TokenReview, SubjectAccessReview) is answered
//   by that function and stores nothing.
// - List honours labelSelector (k=v, k!=v, k) and fieldSelector (dotted.path=v, !=).
// - Watch replays events after the given resourceVersion, then blocks for new ones until
//   stop / CloseWatches(); a resourceVersion older than Compact() gives 410 Gone.
// Every call is recorded; FailNext() injects errors.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/kube_api.h"

namespace il::kube {

class FakeKubeApi : public KubeApi {
 public:
  struct Call {
    std::string verb;  // GET, LIST, CREATE, UPDATE, PATCH, DELETE, WATCH
    std::string path;
    boost::json::value body;  // the object / patch / DeleteOptions sent, null otherwise
  };

  // Stores `object` at `path` as if created (no call recorded), emitting ADDED.
  boost::json::value Seed(const std::string& path, boost::json::value object);
  // The next `times` calls of `verb` ("" = any) on `path` ("" = any) fail with `status`.
  void FailNext(const std::string& verb, const std::string& path, Status status, int times = 1);
  // Answers every Create on `path` with `reactor(body)` instead of storing the object
  // (review APIs). The call is recorded first; FailNext still applies. The reactor runs
  // without the fake's lock held, so it may block.
  using Reactor = std::function<Result<boost::json::value>(const boost::json::value& body)>;
  void ReactToCreate(const std::string& path, Reactor reactor);
  // Makes watches from a resourceVersion at or before the current one fail with 410 Gone.
  void Compact();
  // Ends every open watch (as if the connection dropped); they return OK.
  void CloseWatches();

  std::optional<boost::json::value> Object(const std::string& path) const;
  std::vector<Call> calls() const;
  std::vector<Call> calls(const std::string& verb) const;
  void ClearCalls();

  Result<boost::json::value> Get(const std::string& path) override;
  Result<boost::json::value> List(const std::string& path,
                                  const ListOptions& options = {}) override;
  Result<boost::json::value> Create(const std::string& path,
                                    const boost::json::value& object) override;
  Result<boost::json::value> Update(const std::string& path,
                                    const boost::json::value& object) override;
  Result<boost::json::value> Patch(const std::string& path, PatchType type,
                                   const boost::json::value& patch) override;
  Result<boost::json::value> Delete(const std::string& path,
                                    const DeleteOptions& options = {}) override;
  Status Watch(const std::string& path, const WatchParams& params,
               const std::function<bool(WatchEvent)>& on_event,
               const std::stop_token& stop) override;

 private:
  struct Event {
    int64_t rv;
    std::string path;
    WatchEvent event;
  };
  struct Failure {
    std::string verb, path;
    Status status;
    int times;
  };

  Status RecordLocked(const std::string& verb, const std::string& path, boost::json::value body);
  boost::json::value StoreLocked(const std::string& path, boost::json::value obj,
                                 WatchEventType type);
  Result<boost::json::value> WriteLocked(const std::string& path, boost::json::value next);
  Result<boost::json::value> TokenRequestLocked(const std::string& path,
                                                const boost::json::value& request);
  Result<boost::json::value> RemoveLocked(const std::string& path, const DeleteOptions& o);

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, boost::json::value> objects_;
  std::vector<Event> events_;
  std::vector<Call> calls_;
  std::vector<Failure> failures_;
  std::map<std::string, Reactor> reactors_;
  int64_t rv_ = 1;
  int64_t compacted_rv_ = 0;
  int64_t uid_seq_ = 0;
  int64_t close_generation_ = 0;
};

}  // namespace il::kube
