// Prober: runs the startup, liveness and readiness probes of the pods' app containers as the
// kubelet's prober workers do (reference/kubelet-behaviour-and-docker-api.md §2.1), with one
// scheduler thread (a timer heap of every (pod, container, probe)) and a small pool of
// threads that run the handlers, so at most `workers` probes (docker exec processes, HTTP or
// TCP connections) run at once however many pods there are.
//
// Per probe: the first run comes after a random part of periodSeconds (jitter), then every
// periodSeconds; nothing runs until the container has run for initialDelaySeconds (from its
// startedAt); readiness and liveness wait for the startup probe's success; thresholds via
// api::ProbeTracker; a handler error is retried up to 3 times in the tick, then the tick is
// ignored; a published liveness/startup failure calls Listener::OnKill once and holds the
// probe until the container runs again. Docker keeps a container's ID across restarts, so
// an "instance" here is the ID and startedAt together: a new instance resets the probe.
//
// The backend feeds what Docker reports (Observe, about once a second) and reads the
// results for the status (Results). Nothing is persisted: after a restart of docker-sd the
// probes start over from what Docker reports, as the kubelet's do after its own restart.
//
// Thread-safety: all public methods are thread-safe. Listener callbacks run on pool threads
// without the prober's lock held.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "api/probe.h"
#include "core/mutex.h"
#include "sidecars/docker/handler_runner.h"

namespace il::docker {

using SysTime = std::chrono::system_clock::time_point;

// One app container as Docker reports it.
struct ProbeSubject {
  std::string instance;  // container ID + "@" + startedAt; "" when absent
  bool running = false;
  std::optional<SysTime> started_at;
  HandlerTarget target;
};

class ProberListener {
 public:
  virtual ~ProberListener() = default;
  // An event the kubelet would post ("Warning", "Unhealthy", "Liveness probe failed: ...").
  virtual void OnProbeEvent(const std::string& uid, const std::string& container,
                            const std::string& reason, const std::string& message) = 0;
  // A liveness or startup probe failed failureThreshold times for this instance.
  virtual void OnProbeKill(const std::string& uid, const std::string& container,
                           const api::Probe& probe, const std::string& instance) = 0;
  // A probe's published result flipped (the container's started/ready changed).
  virtual void OnProbeResult(const std::string& uid, const std::string& container) {
    (void)uid, (void)container;
  }
};

struct ProberOptions {
  size_t workers = 4;         // handler threads (bounded concurrency of probe runs)
  bool start_threads = true;  // false in unit tests: call RunDue() instead
  std::function<SysTime()> now = [] { return std::chrono::system_clock::now(); };
  std::function<double()> jitter;  // in [0,1); default: random
};

class Prober {
 public:
  Prober(HandlerRunner& runner, ProberListener& listener, ProberOptions options = {});
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Declares a container's probes (no-op when already watched or when it has none).
  void Watch(const std::string& uid, const std::string& container,
             const api::ContainerProbes& probes) IL_EXCLUDES(mu_);
  void Observe(const std::string& uid, const std::string& container, const ProbeSubject& s)
      IL_EXCLUDES(mu_);
  void Forget(const std::string& uid) IL_EXCLUDES(mu_);  // stops every probe of the pod

  struct Readiness {
    bool started = false;
    bool ready = false;
  };
  // nullopt when the container has no probes (then: started = ready = running).
  std::optional<Readiness> Results(const std::string& uid, const std::string& container) const
      IL_EXCLUDES(mu_);

  // Test mode: runs every probe due at options.now(), inline, and returns how many ran.
  size_t RunDue() IL_EXCLUDES(mu_);

 private:
  struct Worker {
    api::Probe probe;
    api::ProbeTracker tracker;
    std::string instance;  // the instance the tracker counts for
    bool on_hold = false;
    bool busy = false;
    explicit Worker(const api::Probe& p) : probe(p), tracker(p) {}
  };
  struct Container {
    ProbeSubject subject;
    std::map<api::ProbeType, Worker> workers;
    uint64_t gen = 0;
  };
  struct Due {
    SysTime at;
    std::string key;
    api::ProbeType type;
    uint64_t gen;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  struct Job {
    std::string key;
    api::ProbeType type;
    api::Probe probe;
    HandlerTarget target;
    std::string instance;
  };

  // Pops due timers; returns jobs to run.
  std::vector<Job> TakeDue(SysTime now) IL_REQUIRES(mu_);
  std::optional<Job> Evaluate(const Due& d, SysTime now) IL_REQUIRES(mu_);
  void Execute(const Job& j) IL_EXCLUDES(mu_);
  void SchedulerLoop();
  void WorkerLoop();

  HandlerRunner& runner_;
  ProberListener& listener_;
  const ProberOptions options_;

  mutable Mutex mu_;
  CondVar cv_, jobs_cv_;
  // Key: uid + "/" + container.
  std::map<std::string, Container> containers_ IL_GUARDED_BY(mu_);
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_ IL_GUARDED_BY(mu_);
  std::deque<Job> jobs_ IL_GUARDED_BY(mu_);
  uint64_t next_gen_ IL_GUARDED_BY(mu_) = 1;
  bool stop_ IL_GUARDED_BY(mu_) = false;
  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace il::docker
