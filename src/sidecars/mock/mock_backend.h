// MockBackend: a real sidecar backend whose "cluster" is simulated. Pods move
// Pending -> Running -> Succeeded/Failed on a timeline computed from their creation time
// and annotations (mock_plan.h, mock_timeline.h); nothing runs. Used by tests,
// benchmarks and demos; see docs/mock-sidecar.md.
//
// Everything it answers from is in memory (a map by pod UID), so a status call for
// 10,000 pods takes milliseconds; create and delete write through to a StateStore, which
// is read back at start-up, so pods and their timelines survive a restart.
//
// The status watch (api/status_watch.h): the timeline says when each pod will change, so
// create schedules a wake-up at each of those moments and a waker thread notifies the
// change log when they come (FireDue); create and delete notify at once.
//
// Thread-safety: all Backend methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/backend.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/mutex.h"
#include "sidecars/mock/mock_plan.h"
#include "sidecars/mock/state_store.h"

namespace il::mock {

struct MockOptions {
  std::string state_file;                 // MockStateFile; default <DataRootFolder>/mock-sd.sqlite
  std::string capacity_cpu = "64";        // MockCapacityCPU
  std::string capacity_memory = "256Gi";  // MockCapacityMemory
  std::string capacity_pods = "10000";    // MockCapacityPods
  // How often a follow-mode log stream looks for new lines.
  std::chrono::milliseconds follow_poll{100};
};

// mock-sd's own keys (the "mock-sd" component of daemon/config_catalog.h), kept as text
// in InterLinkConfig::sidecar_settings by the loader and read through these setters.
const std::vector<config::Key<MockOptions>>& MockKeys();
// Reads the Mock* sidecar settings of the config (kInvalidArgument for a key not of mock-sd).
Result<MockOptions> MockOptionsFromConfig(const InterLinkConfig& cfg);

class MockBackend : public api::Backend {
 public:
  // Loads the pods kept in `store`. A stored pod that no longer parses is dropped with a
  // warning rather than failing the start.
  static Result<std::unique_ptr<MockBackend>> Open(MockOptions options,
                                                   std::unique_ptr<StateStore> store,
                                                   std::shared_ptr<Clock> clock);

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(
      const api::CallContext& ctx, const std::vector<boost::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override;
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override;
  bool SupportsStatusWatch() override { return true; }
  Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& gone) override;

  size_t pod_count() const;
  ~MockBackend() override;
  // Notifies the pods whose scheduled changes are due at the clock's now; answers when
  // the next one is due (max() when none). The waker thread calls it; tests with a
  // FakeClock call it after Advance.
  std::chrono::system_clock::time_point FireDue() IL_EXCLUDES(wake_mu_);
  api::StatusChangeLog& changes() { return changes_; }

  // The moments (offsets from creation) at which a pod with this plan changes status.
  static std::vector<Offset> ChangeOffsets(const MockPlan& plan);

 private:
  struct Entry {
    std::string uid, name, ns, jid;
    std::chrono::system_clock::time_point created;
    boost::json::value pod;
    MockPlan plan;
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  MockBackend(MockOptions options, std::unique_ptr<StateStore> store, std::shared_ptr<Clock> clock)
      : opt_(std::move(options)), store_(std::move(store)), clock_(std::move(clock)) {}
  EntryPtr Find(const std::string& uid) const IL_EXCLUDES(mu_);
  api::PodStatus StatusOf(const Entry& e, std::chrono::system_clock::time_point now) const;
  // Where a follow-mode stream stands: lines and bytes written, the since cutoff, and
  // the simulated time of the last look.
  struct FollowState {
    size_t lines;
    size_t bytes;
    std::chrono::system_clock::time_point cutoff;
    std::chrono::system_clock::time_point now;
  };
  Status Follow(const EntryPtr& e, const ContainerPlan& c, const api::ContainerLogOpts& opts,
                FollowState st, api::LogSink& sink);
  void ScheduleWakes(const Entry& e) IL_EXCLUDES(wake_mu_);
  void WakerLoop(const std::stop_token& stop) IL_EXCLUDES(wake_mu_);

  MockOptions opt_;
  std::unique_ptr<StateStore> store_;
  std::shared_ptr<Clock> clock_;
  mutable SharedMutex mu_;
  std::unordered_map<std::string, EntryPtr> pods_ IL_GUARDED_BY(mu_);  // by UID
  int64_t next_seq_ IL_GUARDED_BY(mu_) = 1;
  api::StatusChangeLog changes_;
  Mutex wake_mu_;
  CondVar wake_cv_;
  std::multimap<std::chrono::system_clock::time_point, std::string> wakes_
      IL_GUARDED_BY(wake_mu_);  // when -> uid
  std::jthread waker_;          // last: stopped and joined first
};

}  // namespace il::mock
