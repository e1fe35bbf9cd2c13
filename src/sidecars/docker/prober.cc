#include "sidecars/docker/prober.h"

#include <random>

namespace il::docker {

namespace {

constexpr int kMaxErrorRetries = 3;  // the kubelet's maxProbeRetries

std::string Key(const std::string& uid, const std::string& container) {
  return uid + "/" + container;
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
}

double RandomJitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::chrono::milliseconds Seconds(int64_t s) {
  return std::chrono::seconds(std::max<int64_t>(s, 1));
}

}  // namespace

Prober::Prober(HandlerRunner& runner, ProberListener& listener, ProberOptions options)
    : runner_(runner), listener_(listener), options_(std::move(options)) {
  if (!options_.start_threads) return;
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  for (size_t i = 0; i < std::max<size_t>(options_.workers, 1); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

Prober::~Prober() {
  {
    MutexLock l(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  jobs_cv_.NotifyAll();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& t : workers_) t.join();
}

void Prober::Watch(const std::string& uid, const std::string& container,
                   const api::ContainerProbes& probes) {
  if (probes.empty()) return;
  MutexLock l(mu_);
  std::string key = Key(uid, container);
  if (containers_.count(key)) return;
  Container& c = containers_[key];
  c.gen = next_gen_++;
  SysTime now = options_.now();
  for (const auto* p : {&probes.startup, &probes.readiness, &probes.liveness}) {
    if (!*p) continue;
    c.workers.emplace((*p)->type, Worker(**p));
    double j = options_.jitter ? options_.jitter() : RandomJitter();
    auto first = std::chrono::duration_cast<SysTime::duration>(Seconds((*p)->period_seconds) * j);
    heap_.push({now + first, key, (*p)->type, c.gen});
  }
  cv_.NotifyAll();
}

void Prober::Observe(const std::string& uid, const std::string& container, const ProbeSubject& s) {
  MutexLock l(mu_);
  auto it = containers_.find(Key(uid, container));
  if (it != containers_.end()) it->second.subject = s;
}

void Prober::Forget(const std::string& uid) {
  MutexLock l(mu_);
  std::string prefix = uid + "/";
  for (auto it = containers_.lower_bound(prefix);
       it != containers_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = containers_.erase(it);
  }
}

std::optional<Prober::Readiness> Prober::Results(const std::string& uid,
                                                 const std::string& container) const {
  MutexLock l(mu_);
  auto it = containers_.find(Key(uid, container));
  if (it == containers_.end()) return std::nullopt;
  const Container& c = it->second;
  auto published = [&](api::ProbeType t) -> std::optional<bool> {
    auto w = c.workers.find(t);
    if (w == c.workers.end()) return true;  // no such probe: counts as success
    if (w->second.instance != c.subject.instance) return std::nullopt;  // not probed yet
    return w->second.tracker.result();
  };
  Readiness r;
  r.started = c.subject.running && published(api::ProbeType::kStartup).value_or(false);
  r.ready = r.started && published(api::ProbeType::kReadiness).value_or(false);
  return r;
}

std::optional<Prober::Job> Prober::Evaluate(const Due& d, SysTime now) {
  auto it = containers_.find(d.key);
  if (it == containers_.end() || it->second.gen != d.gen) return std::nullopt;  // forgotten
  Container& c = it->second;
  Worker& w = c.workers.at(d.type);
  heap_.push({d.at + Seconds(w.probe.period_seconds), d.key, d.type, d.gen});
  const ProbeSubject& s = c.subject;
  if (s.instance.empty()) return std::nullopt;
  if (w.instance != s.instance) {  // first start or restart: initial values, hold cleared
    w.instance = s.instance;
    w.tracker.Reset();
    w.on_hold = false;
  }
  if (w.on_hold || w.busy || !s.running) return std::nullopt;
  if (s.started_at && now < *s.started_at + std::chrono::seconds(w.probe.initial_delay_seconds)) {
    return std::nullopt;
  }
  auto startup = c.workers.find(api::ProbeType::kStartup);
  bool started = startup == c.workers.end() || (startup->second.instance == s.instance &&
                                                startup->second.tracker.result() == true);
  if (d.type == api::ProbeType::kStartup ? started : !started) return std::nullopt;
  w.busy = true;
  return Job{d.key, d.type, w.probe, s.target, s.instance};
}

std::vector<Prober::Job> Prober::TakeDue(SysTime now) {
  std::vector<Job> jobs;
  while (!heap_.empty() && heap_.top().at <= now) {
    Due d = heap_.top();
    heap_.pop();
    if (auto j = Evaluate(d, now)) jobs.push_back(std::move(*j));
  }
  return jobs;
}

void Prober::Execute(const Job& j) {
  auto timeout = Seconds(j.probe.timeout_seconds);
  HandlerResult r;
  for (int i = 0; i < kMaxErrorRetries; ++i) {
    r = runner_.Run(j.probe.handler, j.target, timeout, HandlerMode::kProbe);
    if (r.outcome != Outcome::kError) break;
  }
  const std::string name = api::ProbeTypeName(j.type);
  std::optional<std::string> event;
  std::string reason = "Unhealthy";
  bool kill = false;
  bool flipped = false;
  {
    MutexLock l(mu_);
    auto it = containers_.find(j.key);
    if (it == containers_.end()) return;
    Worker& w = it->second.workers.at(j.type);
    w.busy = false;
    if (w.instance != j.instance) return;  // the container restarted meanwhile
    if (r.outcome == Outcome::kError) {
      event = name + " probe errored: " + r.output;
    } else {
      if (r.outcome == Outcome::kFailure) event = name + " probe failed: " + r.output;
      if (r.outcome == Outcome::kSuccess && r.warning) {
        reason = "ProbeWarning";
        event = name + " probe warning: " + r.output;
      }
      auto v = w.tracker.Record(r.outcome == Outcome::kSuccess);
      flipped = v != api::ProbeTracker::Verdict::kUnchanged;
      if (v == api::ProbeTracker::Verdict::kNowFailure && j.type != api::ProbeType::kReadiness) {
        w.on_hold = true;
        kill = true;
      }
    }
  }
  auto [uid, container] = SplitKey(j.key);
  if (event) listener_.OnProbeEvent(uid, container, reason, *event);
  if (flipped) listener_.OnProbeResult(uid, container);
  if (kill) listener_.OnProbeKill(uid, container, j.probe, j.instance);
}

size_t Prober::RunDue() {
  std::vector<Job> jobs;
  {
    MutexLock l(mu_);
    jobs = TakeDue(options_.now());
  }
  for (const auto& j : jobs) Execute(j);
  return jobs.size();
}

void Prober::SchedulerLoop() {
  MutexLock l(mu_);
  while (!stop_) {
    SysTime now = options_.now();
    std::vector<Job> jobs = TakeDue(now);
    for (auto& j : jobs) jobs_.push_back(std::move(j));
    if (!jobs.empty()) jobs_cv_.NotifyAll();
    auto wait = std::chrono::milliseconds(1000);
    if (!heap_.empty()) {
      wait = std::min(wait,
                      std::chrono::duration_cast<std::chrono::milliseconds>(heap_.top().at - now) +
                          std::chrono::milliseconds(1));
    }
    cv_.WaitFor(mu_, std::max(wait, std::chrono::milliseconds(1)));
  }
}

void Prober::WorkerLoop() {
  MutexLock l(mu_);
  while (true) {
    while (!stop_ && jobs_.empty()) jobs_cv_.Wait(mu_);
    if (stop_) return;
    Job j = std::move(jobs_.front());
    jobs_.pop_front();
    l.Unlock();
    Execute(j);
    l.Lock();
  }
}

}  // namespace il::docker
