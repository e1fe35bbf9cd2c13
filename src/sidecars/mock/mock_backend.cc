#include "sidecars/mock/mock_backend.h"

#include <algorithm>
#include <mutex>

#include "api/log_filter.h"
#include "api/pod.h"
#include "core/log.h"
#include "sidecars/mock/mock_timeline.h"

namespace il::mock {
namespace json = boost::json;
using std::chrono::system_clock;

namespace {

const ContainerPlan* FindContainer(const MockPlan& plan, const std::string& name) {
  if (name.empty()) {
    // Like kubectl: with no name, a pod with a single container means that one.
    return plan.containers.size() == 1 ? &plan.containers[0] : nullptr;
  }
  for (const auto* list : {&plan.containers, &plan.init_containers}) {
    for (const auto& c : *list) {
      if (c.name == name) return &c;
    }
  }
  return nullptr;
}

}  // namespace

const std::vector<config::Key<MockOptions>>& MockKeys() {
  using O = MockOptions;
  using config::SetString;
  const auto& k = config::MakeKey<O>;
  // An empty value keeps the default.
  static const std::vector<config::Key<O>> keys = {
      k("MockStateFile", {}, {}, "string", "<DataRootFolder>/mock-sd.sqlite", "SQLite state",
        SetString(&O::state_file, true)),
      k("MockCapacityCPU", {}, {}, "string", "64", "cpu the node reports",
        SetString(&O::capacity_cpu, true)),
      k("MockCapacityMemory", {}, {}, "string", "256Gi", "memory the node reports",
        SetString(&O::capacity_memory, true)),
      k("MockCapacityPods", {}, {}, "string", "10000", "pods the node reports",
        SetString(&O::capacity_pods, true)),
  };
  return keys;
}

Result<MockOptions> MockOptionsFromConfig(const InterLinkConfig& cfg) {
  MockOptions o;
  IL_RETURN_IF_ERROR(config::ApplyText(MockKeys(), cfg.sidecar_settings, "mock-sd", &o));
  if (o.state_file.empty()) o.state_file = cfg.data_root_folder + "/mock-sd.sqlite";
  return o;
}

Result<std::unique_ptr<MockBackend>> MockBackend::Open(MockOptions options,
                                                       std::unique_ptr<StateStore> store,
                                                       std::shared_ptr<Clock> clock) {
  IL_ASSIGN_OR_RETURN(StoredState state, store->Load());
  std::unique_ptr<MockBackend> b(
      new MockBackend(std::move(options), std::move(store), std::move(clock)));
  WriterMutexLock l(b->mu_);  // not shared yet; taken for the analysis
  b->next_seq_ = state.next_seq;
  auto logger = log::Logger("mock-sd");
  for (auto& p : state.pods) {
    auto pod = api::ParseJson(p.pod_json);
    Result<MockPlan> plan = pod.ok() ? ParseMockPlan(*pod) : Result<MockPlan>(pod.status());
    if (!plan.ok()) {
      logger->warn("dropping stored pod uid={} jid={}: {}", p.uid, p.jid, plan.status().message());
      continue;
    }
    auto e = std::make_shared<Entry>();
    e->uid = p.uid;
    e->jid = p.jid;
    e->name = api::PodName(*pod);
    e->ns = api::PodNamespace(*pod);
    e->created = system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(p.created_ns)));
    e->pod = std::move(*pod);
    e->plan = std::move(*plan);
    b->pods_[p.uid] = std::move(e);
  }
  if (!b->pods_.empty()) logger->info("restored {} pods from the state store", b->pods_.size());
  for (const auto& [uid, e] : b->pods_) b->ScheduleWakes(*e);
  MockBackend* raw = b.get();
  b->waker_ = std::jthread([raw](const std::stop_token& st) { raw->WakerLoop(st); });
  return b;
}

MockBackend::EntryPtr MockBackend::Find(const std::string& uid) const {
  ReaderMutexLock l(mu_);
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : it->second;
}

size_t MockBackend::pod_count() const {
  ReaderMutexLock l(mu_);
  return pods_.size();
}

Result<api::CreateResult> MockBackend::Create(const api::CallContext&,
                                              const api::RetrievedPodData& data) {
  IL_RETURN_IF_ERROR(api::ValidatePod(data.pod));
  const std::string uid = api::PodUid(data.pod);
  if (EntryPtr e = Find(uid)) return api::CreateResult{uid, e->jid};
  IL_ASSIGN_OR_RETURN(MockPlan plan, ParseMockPlan(data.pod));
  if (!plan.create_error.empty()) return FailedPrecondition(plan.create_error);

  WriterMutexLock l(mu_);
  if (auto it = pods_.find(uid); it != pods_.end()) return api::CreateResult{uid, it->second->jid};
  auto e = std::make_shared<Entry>();
  e->uid = uid;
  e->name = api::PodName(data.pod);
  e->ns = api::PodNamespace(data.pod);
  e->created = clock_->WallNow();
  e->pod = data.pod;
  e->plan = std::move(plan);
  StoredPod sp;
  sp.seq = next_seq_++;
  sp.uid = uid;
  sp.jid = e->jid = "mock-" + std::to_string(sp.seq);
  sp.created_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(e->created.time_since_epoch()).count();
  sp.pod_json = json::serialize(data.pod);
  IL_RETURN_IF_ERROR(store_->Insert(sp));
  ScheduleWakes(*e);
  pods_[uid] = std::move(e);
  changes_.Notify(uid);
  return api::CreateResult{uid, sp.jid};
}

Status MockBackend::Delete(const api::CallContext&, const json::value& pod) {
  const std::string uid = api::PodUid(pod);
  WriterMutexLock l(mu_);
  if (!pods_.count(uid)) {
    return NotFound("pod " + api::PodNamespace(pod) + "/" + api::PodName(pod) + " (uid " + uid +
                    ") not found");
  }
  IL_RETURN_IF_ERROR(store_->Remove(uid));
  pods_.erase(uid);
  changes_.Notify(uid);  // its stale wakes notify too: harmless, the pod is gone
  return Status::Ok();
}

api::PodStatus MockBackend::StatusOf(const Entry& e, system_clock::time_point now) const {
  api::PodStatus s;
  s.name = e.name;
  s.uid = e.uid;
  s.ns = e.ns;
  s.jid = e.jid;
  for (const auto& c : e.plan.init_containers) {
    s.init_containers.push_back(ContainerStatusAt(e.plan, c, e.created, now));
  }
  for (const auto& c : e.plan.containers) {
    s.containers.push_back(ContainerStatusAt(e.plan, c, e.created, now));
  }
  if (!e.plan.pod_ip.empty()) s.pod_ip = json::string(e.plan.pod_ip);
  return s;
}

Result<std::vector<api::PodStatus>> MockBackend::GetStatus(const api::CallContext&,
                                                           const std::vector<json::value>& pods) {
  const auto now = clock_->WallNow();
  std::vector<api::PodStatus> out;
  out.reserve(pods.size());
  ReaderMutexLock l(mu_);
  for (const auto& p : pods) {
    auto it = pods_.find(api::PodUid(p));
    if (it != pods_.end()) out.push_back(StatusOf(*it->second, now));
  }
  return out;
}

Status MockBackend::GetLogs(const api::CallContext&, const api::LogRequest& r, api::LogSink& sink) {
  EntryPtr e = Find(r.pod_uid);
  const ContainerPlan* c = e ? FindContainer(e->plan, r.container) : nullptr;
  const std::string where = e ? e->ns + "/" + e->name : r.ns + "/" + r.pod_name;
  if (!c) return NotFound("container " + r.container + " not found in pod " + where);
  if (r.opts.previous) {
    return NotFound("previous terminated container " + c->name + " in pod " + where + " not found");
  }
  const auto now = clock_->WallNow();
  auto lines = LogLinesAt(*c, e->created, now);
  std::string out = api::RenderLogs(lines, r.opts, now);
  if (!out.empty() && !sink.Write(out)) return Status::Ok();
  if (!r.opts.follow) return Status::Ok();
  FollowState st{lines.size(), out.size(), api::SinceCutoff(r.opts, now), now};
  return Follow(e, *c, r.opts, st, sink);
}

Status MockBackend::Follow(const EntryPtr& e, const ContainerPlan& c,
                           const api::ContainerLogOpts& opts, FollowState st, api::LogSink& sink) {
  const size_t limit = opts.limit_bytes > 0 ? static_cast<size_t>(opts.limit_bytes) : 0;
  for (;;) {
    Phase ph = PhaseAt(e->plan, c, e->created, st.now);
    if (ph == Phase::kTerminated || ph == Phase::kNever) return Status::Ok();
    if (limit && st.bytes >= limit) return Status::Ok();
    clock_->SleepFor(opt_.follow_poll);
    if (sink.Gone()) return Status::Ok();
    if (Find(e->uid) != e) return Status::Ok();  // deleted (or deleted and re-created)
    st.now = clock_->WallNow();
    auto lines = LogLinesAt(c, e->created, st.now);
    for (size_t i = st.lines; i < lines.size(); ++i) {
      if (lines[i].time < st.cutoff) continue;
      std::string s = api::FormatLogLine(lines[i], opts.timestamps);
      if (limit && st.bytes + s.size() > limit) s.resize(limit - st.bytes);
      st.bytes += s.size();
      if (!sink.Write(s)) return Status::Ok();
      if (limit && st.bytes >= limit) return Status::Ok();
    }
    st.lines = lines.size();
  }
}

MockBackend::~MockBackend() {
  waker_.request_stop();
  wake_cv_.NotifyAll();
  if (waker_.joinable()) waker_.join();
}

std::vector<Offset> MockBackend::ChangeOffsets(const MockPlan& plan) {
  std::vector<Offset> out{plan.pending};
  for (const auto* list : {&plan.init_containers, &plan.containers}) {
    for (const auto& c : *list) {
      if (!c.start) continue;
      out.push_back(*c.start);
      if (c.run) out.push_back(*c.start + *c.run);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void MockBackend::ScheduleWakes(const Entry& e) {
  const auto now = clock_->WallNow();
  bool earliest = false;
  {
    MutexLock l(wake_mu_);
    for (Offset o : ChangeOffsets(e.plan)) {
      auto t = e.created + std::chrono::duration_cast<system_clock::duration>(o);
      if (t <= now) continue;  // in the past: the create's own notification covers it
      earliest = earliest || wakes_.empty() || t < wakes_.begin()->first;
      wakes_.emplace(t, e.uid);
    }
  }
  if (earliest) wake_cv_.NotifyAll();
}

system_clock::time_point MockBackend::FireDue() {
  const auto now = clock_->WallNow();
  std::vector<std::string> due;
  system_clock::time_point next = system_clock::time_point::max();
  {
    MutexLock l(wake_mu_);
    auto end = wakes_.upper_bound(now);
    for (auto it = wakes_.begin(); it != end; ++it) due.push_back(it->second);
    wakes_.erase(wakes_.begin(), end);
    if (!wakes_.empty()) next = wakes_.begin()->first;
  }
  changes_.Notify(due);
  return next;
}

void MockBackend::WakerLoop(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    const auto next = FireDue();
    // The mock's clock is a system clock (and a fake one in tests): look again at least
    // every second rather than trusting one long wait.
    auto wait = std::chrono::milliseconds(1000);
    if (next != system_clock::time_point::max()) {
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_->WallNow()) +
               std::chrono::milliseconds(1);
      wait = std::clamp(d, std::chrono::milliseconds(1), wait);
    }
    MutexLock l(wake_mu_);
    if (!wakes_.empty() && wakes_.begin()->first < next) continue;  // an earlier one came
    wake_cv_.WaitFor(wake_mu_, stop, wait);
  }
}

Result<api::StatusChanges> MockBackend::WatchStatus(const api::CallContext&,
                                                    const std::string& since,
                                                    std::chrono::milliseconds timeout,
                                                    const std::function<bool()>& gone) {
  return changes_.Wait(since, timeout, gone);
}

Result<api::PingResponse> MockBackend::Ping(const api::CallContext&) {
  api::PingResponse p;
  p.status = "ok";
  p.resources = json::object{
      {"cpu", opt_.capacity_cpu}, {"memory", opt_.capacity_memory}, {"pods", opt_.capacity_pods}};
  return p;
}

}  // namespace il::mock
