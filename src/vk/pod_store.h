// PodStore: the virtual kubelet's memory of the pods bound to its node, keyed by UID.
//
// For each pod it keeps a compact view of the API object (the fields the controllers
// read: metadata, container names and images, restart policy, grace periods and the
// status last written), the full spec serialised once for /create and /delete, where the
// pod stands in the backend, and the backend's latest report. Keeping views small is what
// lets one VK hold 10,000 pods in little memory.
//
// Thread-safety: all methods are thread-safe; records are returned as copies.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il::vk {

enum class BackendState {
  kNone,      // never sent to the backend (or not known to it)
  kCreating,  // /create in flight or to be retried
  kCreated,   // the backend has it
  kFailed,    // /create was rejected for good
  kDeleted,   // /delete done
};

// An immutable JSON value shared by the copies of a record: copying a record (every
// reconcile takes one) costs a reference count, not a copy of the tree. Assigning a new
// value replaces it for this record only.
class SharedJson {
 public:
  SharedJson() : v_(Empty()) {}
  SharedJson(boost::json::value v)  // NOLINT(google-explicit-constructor): a value
      : v_(std::make_shared<const boost::json::value>(std::move(v))) {}
  operator const boost::json::value&() const { return *v_; }  // NOLINT(google-explicit-constructor)
  const boost::json::value& get() const { return *v_; }

 private:
  static const std::shared_ptr<const boost::json::value>& Empty() {
    static const auto* empty =
        new std::shared_ptr<const boost::json::value>(std::make_shared<const boost::json::value>());
    return *empty;
  }
  std::shared_ptr<const boost::json::value> v_;
};

struct PodRecord {
  std::string uid, ns, name;
  SharedJson view;           // TrimPod() of the latest API object we saw or wrote
  std::string full;          // the pod for /create (no status, no managedFields); dropped
                             // once the backend has it
  std::string status_query;  // StatusQueryPod(), serialised: this pod's /status entry
  bool api_deleted = false;  // gone from the API
  BackendState backend = BackendState::kNone;
  std::string job_id;
  std::string create_error;         // when kFailed
  std::string config_error_reason;  // why the pod cannot be sent yet (missing ref)
  std::string config_error_message;
  std::optional<api::PodStatus> reported;               // latest backend report
  std::chrono::steady_clock::time_point reported_at{};  // when `reported` last changed
  std::chrono::steady_clock::time_point sent_at{};      // when /create succeeded
  std::chrono::steady_clock::time_point last_seen{};    // last time the backend reported it
  bool seen = false;                                    // the backend reported it at least once
  bool lost = false;                                    // the backend stopped reporting it
  bool job_id_written = false;
  std::set<std::string> started;  // containers announced with a Started event
  // Backend events already posted: "container|reason|message" -> the count seen (the
  // PodStatus `events` extension).
  std::map<std::string, int64_t> relayed_events;
  bool deletion_started = false;
  bool terminal = false;        // phase Succeeded or Failed in Kubernetes (from the view)
  size_t report_hash = 0;       // hash of the last report's text
  uint64_t asked_round = 0;     // last status round that asked the backend about it
  uint64_t answered_round = 0;  // last status round whose reply had it
  std::chrono::steady_clock::time_point observed_at{};  // when the VK first saw the pod
};

// The compact view kept per pod.
boost::json::value TrimPod(const boost::json::value& pod);
// The pod as listed in /status calls: metadata (name, namespace, uid, annotations), the
// container names and images, and status.phase; enough for interLink's cache and
// upstream plugins, a fraction of the full object.
boost::json::value StatusQueryPod(const PodRecord& r);
// resourceVersion a is newer than b (numeric compare; unknown formats count as newer).
bool NewerVersion(const std::string& a, const std::string& b);
// The pod sent to /delete: the full pod while we still have it, else the compact view
// (metadata, containers, restart policy and grace period) without its status.
boost::json::value BackendPod(const PodRecord& r);

class PodStore {
 public:
  // Records the API's version of a pod. Returns false when `pod` is older than what we
  // hold (a late watch event after our own PATCH) or the very version we hold (the watch's
  // echo of our PATCH, whose reply UpdateView applied): nothing to reconcile.
  bool Upsert(const boost::json::value& pod);
  // Replaces the view with the object a PATCH returned.
  void UpdateView(const std::string& uid, const boost::json::value& pod);
  void MarkDeleted(const std::string& uid);
  std::optional<PodRecord> Get(const std::string& uid) const;
  // The live (not deleted) pod with this namespace and name.
  std::optional<PodRecord> FindByName(const std::string& ns, const std::string& name) const;
  // Runs `fn` on the record under the lock; false when the uid is unknown.
  bool Update(const std::string& uid, const std::function<void(PodRecord&)>& fn);
  void Erase(const std::string& uid);
  std::vector<std::string> Uids() const;
  // A status round: selects the pods whose status the backend is asked for (sent or
  // being sent, still in the API, not terminal in Kubernetes), marks them with `round`
  // and returns their serialised JSON list for interLink ("[]" when there are none:
  // check `*count`). No per-pod allocation: this runs every StatusSyncIntervalMs.
  std::string BeginStatusRound(uint64_t round, size_t* count);
  // The pods of `uids` in /status form (start-up adoption).
  std::vector<boost::json::value> StatusQuery(const std::vector<std::string>& uids) const;
  // Records a status reply (of round `round`, 0 = outside rounds): returns the uids whose
  // report changed. Stored reports are copied out of the reply's memory resource.
  std::vector<std::string> ApplyReports(const std::vector<api::PodStatus>& reports,
                                        std::chrono::steady_clock::time_point now,
                                        uint64_t round = 0);
  // The same for the reply's text (a JSON list of PodStatus objects): entries whose text
  // is unchanged since the last round are skipped without parsing; others are parsed and
  // compared. Malformed entries are skipped and counted in `*malformed`; a reply that is
  // not a list is an error.
  Result<std::vector<std::string>> ApplyReportsText(std::string_view reply,
                                                    std::chrono::steady_clock::time_point now,
                                                    uint64_t round, size_t* malformed);
  // Pods asked in `round` but missing from its reply: marks the ones missing for longer
  // than `grace` lost and returns them.
  std::vector<std::string> MarkMissing(uint64_t round, std::chrono::steady_clock::time_point now,
                                       std::chrono::seconds grace);
  // Every view (for the kubelet API's /pods).
  std::vector<boost::json::value> Views() const;
  size_t size() const;

 private:
  mutable Mutex mu_;
  std::map<std::string, PodRecord> pods_ IL_GUARDED_BY(mu_);
};

}  // namespace il::vk
