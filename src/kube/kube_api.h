// KubeApi: the Kubernetes transport seam. Resource-agnostic REST verbs over API paths
// (e.g. "/api/v1/namespaces/default/pods/x", see kube/paths.h) that return the object
// JSON as boost::json::value, plus a single watch request. KubeClient implements it over
// HTTP; tests of higher layers (the virtual kubelet) can implement it in memory.
//
// Errors: non-2xx replies become il::Status via kube/api_error.h (use IsNotFound,
// IsGone, IsAlreadyExists, IsConflict to tell the cases apart).
//
// Thread-safety: implementations must be thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "core/status.h"

namespace il::kube {

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kJsonPatch,       // application/json-patch+json (RFC 6902; the patch is an array)
};
std::string_view PatchContentType(PatchType type);

struct ListOptions {
  std::string label_selector;  // e.g. "app=x,tier!=db"
  std::string field_selector;  // e.g. "spec.nodeName=vk-1"
  // "" = most recent (quorum read); "0" = any cached version; else at least this one.
  std::string resource_version;
  int64_t limit = 0;           // page size; 0 = no paging
  std::string continue_token;  // from a previous page's metadata.continue
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;  // 0 = immediate
  std::string precondition_uid;                 // delete only this incarnation
  std::string precondition_resource_version;    // delete only this version
  std::string propagation_policy;               // "", "Foreground", "Background", "Orphan"
};

struct WatchParams {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // watch changes after this version ("" = from now)
  int timeout_seconds = 0;       // server closes the watch after this; 0 = server default
  bool allow_bookmarks = true;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view WatchEventTypeName(WatchEventType type);  // "ADDED", ...

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object; for kError a Kubernetes Status object (code 410 = resourceVersion too old).
  boost::json::value object;
};

// Implementations repeat the default arguments of List and Delete in their overrides.
class KubeApi {
 public:
  virtual ~KubeApi() = default;

  // GET an object.
  virtual Result<boost::json::value> Get(const std::string& path) = 0;
  // GET a collection (one page when options.limit > 0; see ListAll for every page).
  virtual Result<boost::json::value> List(const std::string& path,
                                          const ListOptions& options = {}) = 0;
  // POST `object` to a collection path; returns the created object.
  virtual Result<boost::json::value> Create(const std::string& path,
                                            const boost::json::value& object) = 0;
  // PUT `object` (with metadata.resourceVersion for optimistic concurrency: a stale one
  // gives IsConflict) to an object or subresource path; returns the stored object.
  virtual Result<boost::json::value> Update(const std::string& path,
                                            const boost::json::value& object) = 0;
  // PATCH an object or subresource (e.g. PodStatusPath); returns the patched object.
  virtual Result<boost::json::value> Patch(const std::string& path, PatchType type,
                                           const boost::json::value& patch) = 0;
  // DELETE an object; returns the API's reply (the object while it is terminating, or a
  // Status). A failed precondition gives IsConflict.
  virtual Result<boost::json::value> Delete(const std::string& path,
                                            const DeleteOptions& options = {}) = 0;
  // One watch request on a collection path. Calls `on_event` for each event in order until
  // the server ends the stream (returns OK), `on_event` returns false (OK), `stop` is
  // requested (OK), or the request/stream fails (the error). Bookmark and ERROR events are
  // passed through; see WatchLoop for the list+watch loop that handles them.
  virtual Status Watch(const std::string& path, const WatchParams& params,
                       const std::function<bool(WatchEvent)>& on_event,
                       const std::stop_token& stop) = 0;
};

// Lists every page (following metadata.continue) and returns one list object whose
// "items" hold all of them and whose metadata.resourceVersion is the first page's (the
// snapshot the pages belong to). A 410 mid-way (expired continue token) restarts once
// without paging.
Result<boost::json::value> ListAll(KubeApi& api, const std::string& path,
                                   const ListOptions& options = {});

}  // namespace il::kube
