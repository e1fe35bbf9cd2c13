#include "sidecars/slurm/pod_state.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "api/pod.h"
#include "sidecars/slurm/job_files.h"
#include "sidecars/slurm/job_script.h"

namespace il::slurm {
namespace {

namespace json = boost::json;

constexpr auto kSignalSettleTime = std::chrono::seconds(10);

struct Termination {
  int code;
  std::string reason;
  std::string message;
};

// How the job ended, for containers that did not record their own end.
Termination JobTermination(const JobView& j) {
  const std::string id = "Slurm job " + j.job_id;
  int code = j.exit_code != 0 ? j.exit_code : (j.signal ? 128 + j.signal : 0);
  switch (j.state) {
    case JobState::kCompleted:
      return {code, code == 0 ? "Completed" : "Error", ""};
    case JobState::kFailed:
      return {code ? code : 1, "Error",
              id + " failed with exit code " + std::to_string(code ? code : 1)};
    case JobState::kCancelled:
      return {143, "SlurmJobCancelled", id + " was cancelled"};
    case JobState::kTimeout:
      return {143, "SlurmJobTimeout", "SLURM job reached its time limit and was terminated"};
    case JobState::kOutOfMemory:
      return {137, "OOMKilled", id + " ran out of memory"};
    case JobState::kNodeFail:
      return {137, "SlurmNodeFail", id + " ended because its node failed"};
    case JobState::kPreempted:
      return {143, "SlurmJobPreempted", id + " was preempted"};
    case JobState::kBootFail:
      return {1, "SlurmBootFail", id + " could not boot its node"};
    case JobState::kDeadline:
      return {143, "SlurmJobDeadline", id + " reached its deadline"};
    case JobState::kLost:
      return {1, "SlurmJobLost", id + " is no longer known to Slurm and left no exit status"};
    default:
      return {code ? code : 1, "Error",
              id + " ended in state " + std::string(JobStateName(j.state))};
  }
}

std::string WaitingReason(JobState s) {
  switch (s) {
    case JobState::kConfiguring:
      return "SlurmJobConfiguring";
    case JobState::kRequeued:
      return "SlurmJobRequeued";
    case JobState::kSuspended:
      return "SlurmJobSuspended";
    default:
      return "SlurmJobPending";
  }
}

// A container's own non-zero exit gets the job's reason when the job's end explains it
// (killed by the time limit, the OOM killer, a cancel).
std::string ReasonFor(int code, const JobView& j, const Termination& t) {
  if (code == 0) return "Completed";
  bool killed = code >= 128;
  if (j.state == JobState::kOutOfMemory) return "OOMKilled";
  if (killed && (j.state == JobState::kTimeout || j.state == JobState::kCancelled ||
                 j.state == JobState::kPreempted || j.state == JobState::kNodeFail ||
                 j.state == JobState::kDeadline)) {
    return t.reason;
  }
  return "Error";
}

// restartCount and lastState of a container the job restarted.
void AddRestarts(json::object& cs, const ProbeFiles& p, size_t message_cap, TimePoint fallback) {
  cs["restartCount"] = p.restarts;
  if (!p.last_exit_code) return;
  std::string msg = p.last_message;
  if (msg.size() > message_cap) msg.resize(message_cap);
  json::object last = api::TerminatedStatus(
      "", "", *p.last_exit_code, p.last_exit_code == 0 ? "Completed" : "Error", msg,
      p.last_started.value_or(fallback), p.last_finished.value_or(fallback));
  cs["lastState"] = last["state"];
}

}  // namespace

std::optional<TimePoint> ParseEpoch(std::string_view s) {
  std::string t(s);
  for (auto& c : t) {
    if (c == ',') c = '.';
  }
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\r')) t.pop_back();
  if (t.empty() || t.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  auto dot = t.find('.');
  long long secs = 0;
  long long micros = 0;
  try {
    secs = std::stoll(t.substr(0, dot));
    if (dot != std::string::npos && dot + 1 < t.size()) {
      std::string frac = (t.substr(dot + 1) + "000000").substr(0, 6);
      micros = std::stoll(frac);
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return TimePoint(std::chrono::seconds(secs)) + std::chrono::microseconds(micros);
}

std::optional<std::pair<int, std::optional<TimePoint>>> ParseStatusLine(std::string_view s) {
  std::istringstream in{std::string(s)};
  std::string code, when;
  if (!(in >> code) || code.find_first_not_of("0123456789") != std::string::npos ||
      code.size() > 6) {
    return std::nullopt;
  }
  in >> when;
  return std::make_pair(std::stoi(code), ParseEpoch(when));
}

ContainerFiles ReadContainerFiles(const std::string& dir, const ContainerRef& c) {
  ContainerFiles f;
  // The job can replace these files (job_files.h): small, regular, never through a link.
  const std::string base = std::string(ContainerKind(c.init)) + "-" + c.name;
  if (auto s = ReadSmallJobFile(dir, base + ".started")) f.started = ParseEpoch(*s);
  if (auto s = ReadSmallJobFile(dir, base + ".status")) {
    if (auto st = ParseStatusLine(*s)) {
      f.exit_code = st->first;
      f.finished = st->second;
      f.message = ReadSmallJobFile(dir, base + ".message");
    }
  }
  if (c.watched) f.probes = ReadProbeFiles(dir, c.name);
  return f;
}

std::optional<std::pair<int, std::optional<TimePoint>>> ReadJobStatusFile(const std::string& dir) {
  auto s = ReadSmallJobFile(dir, "job.status");
  if (!s) return std::nullopt;
  return ParseStatusLine(*s);
}

api::PodStatus BuildPodStatus(const std::string& uid, const std::string& ns,
                              const std::string& name, const JobView& job,
                              const std::vector<ContainerRef>& containers,
                              const std::vector<ContainerFiles>& files, TimePoint now) {
  api::PodStatus st;
  st.uid = uid;
  st.ns = ns;
  st.name = name;
  st.jid = job.job_id;
  const bool terminal = IsTerminal(job.state);
  const bool started = job.state == JobState::kRunning || job.state == JobState::kCompleting;
  const Termination term = JobTermination(job);
  bool inits_done = true;
  // The kubelet cuts each termination message to 12 KiB / number of containers.
  const size_t message_cap = 12288 / std::max<size_t>(1, containers.size());
  for (size_t i = 0; i < containers.size(); ++i) {
    const ContainerRef& c = containers[i];
    const ContainerFiles& f = i < files.size() ? files[i] : ContainerFiles{};
    TimePoint t_start = f.started.value_or(job.start.value_or(now));
    json::object cs;
    // A container killed by a signal while the job still runs is usually the first sign
    // of the job ending (cancel, time limit, OOM): keep it running briefly so it gets the
    // job's reason instead of flapping from "Error" to e.g. "SlurmJobTimeout".
    bool settling = f.exit_code && *f.exit_code >= 128 && !terminal && f.finished &&
                    now - *f.finished < kSignalSettleTime;
    if (f.exit_code && !settling) {
      TimePoint t_end = f.finished.value_or(job.end.value_or(now));
      std::string reason = ReasonFor(*f.exit_code, job, term);
      std::string msg = reason == term.reason ? term.message : "";
      if (f.probes.post_start == "failed") {
        reason = "PostStartHookError";
        msg = PostStartFailureMessage(c.name, f.probes);
      } else if (f.message && !f.message->empty()) {
        // The container's own words replace the job's generic "failed with exit code";
        // a Slurm reason (time limit, cancel, ...) stays in front of them.
        bool slurm_reason = reason != "Error" && reason != "Completed";
        if (slurm_reason && !msg.empty()) {
          msg += ": ";
          msg += *f.message;
        } else {
          msg = *f.message;
        }
      }
      if (msg.size() > message_cap) msg.resize(message_cap);
      cs = api::TerminatedStatus(c.name, c.image, *f.exit_code, reason, msg, t_start, t_end);
    } else if (terminal) {
      TimePoint t_end = job.end.value_or(now);
      std::string msg = term.message;
      if (!f.started) msg += (msg.empty() ? "" : "; ") + std::string("container did not start");
      cs = api::TerminatedStatus(c.name, c.image, term.code, term.reason, msg, t_start, t_end);
    } else if (started && f.probes.backoff_until) {
      std::string msg = "back-off " + std::to_string(f.probes.backoff_seconds);
      msg += "s restarting failed container=";
      msg += c.name;
      msg += " pod=";
      msg += name;
      msg += "_";
      msg += ns;
      msg += "(";
      msg += uid;
      msg += ")";
      cs = api::WaitingStatus(c.name, c.image, "CrashLoopBackOff", msg);
    } else if ((started || settling) && f.started && !PostStartDone(f.probes)) {
      // The kubelet shows the container as still being created until postStart returns.
      cs = api::WaitingStatus(c.name, c.image, "ContainerCreating", "");
    } else if ((started || settling) && f.started) {
      cs = api::RunningStatus(c.name, c.image, *f.started);
      cs["started"] = ProbeStarted(f.probes);
      cs["ready"] = ProbeReady(f.probes);
    } else if (started) {
      cs = api::WaitingStatus(c.name, c.image,
                              !c.init && !inits_done ? "PodInitializing" : "ContainerCreating", "");
    } else {
      std::string msg = "Slurm job " + job.job_id + " is " + std::string(JobStateName(job.state));
      if (job.state == JobState::kUnknown) msg = "Slurm job " + job.job_id + " submitted";
      if (!job.reason.empty() && job.reason != "None") msg += " (" + job.reason + ")";
      cs = api::WaitingStatus(c.name, c.image, WaitingReason(job.state), msg);
    }
    if (c.watched) {
      AppendProbeEvents(c.name, f.probes, st.events);
      AddRestarts(cs, f.probes, message_cap, t_start);
    }
    if (c.init) {
      if (!f.exit_code || *f.exit_code != 0) inits_done = false;
      st.init_containers.push_back(std::move(cs));
    } else {
      st.containers.push_back(std::move(cs));
    }
  }
  if (st.events.size() > api::kMaxStatusEvents)
    st.events.erase(
        st.events.begin(),
        st.events.begin() + static_cast<std::ptrdiff_t>(st.events.size() - api::kMaxStatusEvents));
  return st;
}

}  // namespace il::slurm
