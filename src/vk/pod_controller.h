// PodController: keeps the pods bound to this node and the backend in step.
//
//   watch  list+watch of pods with spec.nodeName=<node> (kube::WatchLoop) feeds the
//          PodStore and the work queue;
//   workers (a few threads) run Reconcile(uid): send new pods to /create (after gathering
//          ConfigMaps, Secrets, tokens and resolving env), write status changes with one
//          strategic-merge PATCH on pods/status, and finish deletions (/delete, then a
//          grace-0 DELETE with a UID precondition); failures back off per pod; a pod
//          whose backend status changed is queued in the urgent lane, before the
//          creates and deletes;
//   status every StatusSyncIntervalMs one batched /status call for all pods in the
//          backend; changed reports are queued for their PATCH. The interval stretches
//          when a round's CPU time would exceed status_cpu_budget of a core.
//   watch  when interLink's ping advertises the status watch (api/status_watch.h), a
//          long poll of /status/watch whose answer carries the changed pods' statuses
//          (a server without that feature: one /status call for just the pods it
//          names), applied at once; while it works the full round above runs only every
//          status_safety_interval (a safety net), so an idle node costs about one call
//          per watch timeout. A failed watch falls back to the fast full rounds at once.
//
// Restart safety: nothing is created until Adopt() has asked the backend which of the
// listed pods it already runs (those are adopted, not re-created) and has deleted from the
// backend the pods that vanished from Kubernetes meanwhile (the backend's own list and
// the StateFile).
//
// Thread-safety: Start/Stop from the owner; the step functions are thread-safe and are
// public so unit tests can drive them without threads.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "kube/kube_api.h"
#include "vk/event_recorder.h"
#include "vk/interlink_client.h"
#include "vk/object_source.h"
#include "vk/pod_resources.h"
#include "vk/pod_store.h"
#include "vk/state_file.h"
#include "vk/vk_config.h"
#include "vk/work_queue.h"

namespace il::vk {

struct PodControllerOptions {
  std::string node_name;
  std::string host_ip = "127.0.0.1";
  int workers = 8;
  std::chrono::milliseconds status_interval{500};
  // Share of one core the status loop may use: when a round costs more CPU than
  // status_interval * budget (tens of thousands of pods), the next one waits longer.
  double status_cpu_budget = 0.05;
  // The status watch: used when interLink advertises it (status_watch false: never).
  bool status_watch = true;
  std::chrono::milliseconds status_safety_interval{15000};
  std::chrono::milliseconds watch_timeout{30000};
  // A watch starts no sooner than this after the previous one started. Under a burst of
  // changes the answers then come at most this often, each naming every pod that changed
  // meanwhile, instead of one round trip on both hops per change or two; a change after
  // a quiet spell is still answered at once. 0: no pacing.
  std::chrono::milliseconds watch_min_interval{25};
  // Without a watch, how often interLink's ping is asked whether it has one now.
  std::chrono::milliseconds watch_probe_interval{30000};
  // A pod the backend stops reporting for this long is marked lost (Failed).
  std::chrono::seconds lost_grace{30};
  // Hold a new pod's first status while the backend says no more than "being created",
  // for up to 2 * status_interval + 100 ms after /create (one API write per pod fewer on
  // fast backends; see HoldFirstStatus). false: write it as soon as it is known.
  bool hold_first_status = true;
  CreateOptions create;
};

// The options the configuration sets (all but create.env.node_allocatable, which comes
// from the node controller): the one place each key reaches the controller.
PodControllerOptions PodControllerOptionsFrom(const VkConfig& cfg);

struct PodControllerStats {
  std::atomic<uint64_t> creates{0}, create_failures{0}, deletes{0}, status_patches{0},
      status_calls{0}, status_call_failures{0}, adopted{0}, orphans_deleted{0}, watch_calls{0},
      watch_wakes{0}, watch_status_calls{0}, watch_statuses{0};
};

class PodController {
 public:
  PodController(kube::KubeApi& kube, InterlinkApi& interlink, ObjectSource& objects,
                EventSink& events, StateFile& state, PodControllerOptions options);
  ~PodController();

  void Start();
  void Stop();
  // Called after each failed /status call (the node controller pings at once).
  void SetOnInterlinkError(std::function<void()> fn) { on_interlink_error_ = std::move(fn); }

  // --- steps (public for tests) ---
  void OnSync(const std::vector<boost::json::value>& items);
  void OnEvent(kube::WatchEventType type, const boost::json::value& pod);
  Status Reconcile(const std::string& uid);
  Status SyncStatuses();
  // Applies the statuses a watch answer carried for the pods it named, and asks /status
  // (one call) for those it carried none for. Unknown and deleted pods are skipped.
  Status SyncChanged(const api::StatusChanges& changes);
  // One watch step: probe or long-poll, then act on the answer. Returns how long to wait
  // before the next step (zero: at once).
  std::chrono::milliseconds WatchOnce(const std::stop_token& stop);
  bool watching() const { return watching_; }
  Status Adopt();
  bool adopted() const { return adopted_; }

  PodStore& store() { return store_; }
  WorkQueue& queue() { return queue_; }
  const PodControllerStats& stats() const { return stats_; }
  const PodControllerOptions& options() const { return opt_; }

 private:
  Status Create(const PodRecord& r);
  Status HandleDeletion(const PodRecord& r);
  Status HandleGone(const PodRecord& r);
  Status PatchStatus(const std::string& uid);
  // The same with the record just read from the store (spares a copy of it).
  Status PatchStatus(const PodRecord& r);
  // The time after /create by which the first status is written even if the backend
  // still reports the pod as being created (see HoldFirstStatus).
  std::chrono::milliseconds FirstStatusDelay() const;
  // True (and the pod re-queued for the end of FirstStatusDelay) while `desired` is the
  // first status of a pod just sent and says no more than "being created".
  bool HoldFirstStatus(const PodRecord& r, const boost::json::object& desired);
  void PatchJobId(const PodRecord& r);
  void Announce(const PodRecord& r, const boost::json::object& status);
  // Posts the backend's new events (the PodStatus `events` extension) on their containers.
  void RelayBackendEvents(const PodRecord& r);
  Status DeleteOrphan(const std::string& uid, const std::string& ns, const std::string& name);
  // A backend pod that Kubernetes no longer has (found by Adopt) is deleted by the work
  // queue like any pod work, retried with back-off until the plugin confirms it.
  Status ReconcileOrphan(const std::string& uid);
  void WorkerLoop(const std::stop_token& stop);
  void StatusLoop(const std::stop_token& stop);
  void WatchLoop(const std::stop_token& stop);
  void RequestFullSync();
  void WatchLoopThread(std::stop_token stop);

  kube::KubeApi& kube_;
  InterlinkApi& interlink_;
  ObjectSource& objects_;
  EventSink& events_;
  StateFile& state_;
  PodControllerOptions opt_;
  PodStore store_;
  WorkQueue queue_;
  PodControllerStats stats_;
  std::atomic<uint64_t> status_round_{0};
  std::atomic<bool> synced_{false};
  std::atomic<bool> adopted_{false};
  std::atomic<bool> watching_{false};            // the last watch call succeeded
  std::atomic<bool> full_sync_due_{false};       // run a full round now (watch reset or lost)
  bool watch_supported_ = false;                 // WatchLoop's thread only
  std::string watch_cursor_;                     // WatchLoop's thread only
  std::chrono::milliseconds watch_retry_{1000};  // WatchLoop's thread only
  struct OrphanRef {
    std::string ns, name;
  };
  Mutex orphans_mu_;
  std::map<std::string, OrphanRef> orphans_ IL_GUARDED_BY(orphans_mu_);  // by uid
  std::function<void()> on_interlink_error_;                             // set before Start()
  Mutex mu_;  // for cv_ only: guards no fields (synced_ is atomic)
  CondVar cv_;
  std::vector<std::jthread> threads_;
};

// Whether a /create or /delete error is worth retrying (interLink or the sidecar could not
// be reached, auth not ready, throttled) rather than a verdict on the pod.
bool IsTransient(const Status& s);

}  // namespace il::vk
