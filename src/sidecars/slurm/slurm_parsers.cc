#include "sidecars/slurm/slurm_parsers.h"

#include <ctime>
#include <map>
#include <set>

#include "core/numbers.h"

namespace il::slurm {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(
        s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto l : Split(s, '\n')) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

std::optional<long> ToLong(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t DigitsAt(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && IsDigit(s[pos + n])) ++n;
  return n;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// "<digits>" or "<digits>;<cluster>" (sbatch --parsable); returns the digits.
std::optional<std::string_view> ParsableLine(std::string_view line) {
  size_t n = DigitsAt(line, 0);
  if (n == 0) return std::nullopt;
  if (n < line.size()) {
    if (line[n] != ';') return std::nullopt;
    for (size_t i = n + 1; i < line.size(); ++i) {
      if (IsSpace(line[i])) return std::nullopt;
    }
  }
  return line.substr(0, n);
}

// GPUs in one gres entry starting at `e`: "gpu:N" or "gpu:<type>:N" (anything after N, such
// as "(S:0-1)", is ignored); 0 for other resources.
int64_t GpusInEntry(std::string_view e) {
  if (e.substr(0, 4) != "gpu:") return 0;
  std::string_view rest = e.substr(4);
  size_t t = 0;  // a type name: no ':', ',', '(' or ')'
  while (t < rest.size() && std::string_view(":,()").find(rest[t]) == std::string_view::npos) ++t;
  std::string_view digits;
  if (t > 0 && t < rest.size() && rest[t] == ':' && DigitsAt(rest, t + 1) > 0) {
    digits = rest.substr(t + 1, DigitsAt(rest, t + 1));
  } else {
    digits = rest.substr(0, DigitsAt(rest, 0));
  }
  if (digits.empty()) return 0;
  return ParseInt64(std::string(digits)).value_or(0);
}

std::string Join(const std::vector<std::string>& v, char sep) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s.push_back(sep);
    s += x;
  }
  return s;
}

}  // namespace

JobState ParseJobState(std::string_view s) {
  static const std::map<std::string_view, JobState> kStates = {
      {"PENDING", JobState::kPending},
      {"PD", JobState::kPending},
      {"CONFIGURING", JobState::kConfiguring},
      {"CF", JobState::kConfiguring},
      {"RUNNING", JobState::kRunning},
      {"R", JobState::kRunning},
      {"COMPLETING", JobState::kCompleting},
      {"CG", JobState::kCompleting},
      {"SUSPENDED", JobState::kSuspended},
      {"S", JobState::kSuspended},
      {"STOPPED", JobState::kSuspended},
      {"ST", JobState::kSuspended},
      {"REQUEUED", JobState::kRequeued},
      {"RQ", JobState::kRequeued},
      {"REQUEUE_FED", JobState::kRequeued},
      {"RF", JobState::kRequeued},
      {"REQUEUE_HOLD", JobState::kRequeued},
      {"RH", JobState::kRequeued},
      {"RESIZING", JobState::kResizing},
      {"RS", JobState::kResizing},
      {"SIGNALING", JobState::kRunning},
      {"SI", JobState::kRunning},
      {"STAGE_OUT", JobState::kCompleting},
      {"SO", JobState::kCompleting},
      {"RESV_DEL_HOLD", JobState::kPending},
      {"RD", JobState::kPending},
      {"COMPLETED", JobState::kCompleted},
      {"CD", JobState::kCompleted},
      {"FAILED", JobState::kFailed},
      {"F", JobState::kFailed},
      {"CANCELLED", JobState::kCancelled},
      {"CA", JobState::kCancelled},
      {"TIMEOUT", JobState::kTimeout},
      {"TO", JobState::kTimeout},
      {"OUT_OF_MEMORY", JobState::kOutOfMemory},
      {"OOM", JobState::kOutOfMemory},
      {"NODE_FAIL", JobState::kNodeFail},
      {"NF", JobState::kNodeFail},
      {"PREEMPTED", JobState::kPreempted},
      {"PR", JobState::kPreempted},
      {"BOOT_FAIL", JobState::kBootFail},
      {"BF", JobState::kBootFail},
      {"DEADLINE", JobState::kDeadline},
      {"DL", JobState::kDeadline},
      {"REVOKED", JobState::kRevoked},
      {"RV", JobState::kRevoked},
      {"SPECIAL_EXIT", JobState::kSpecialExit},
      {"SE", JobState::kSpecialExit},
  };
  // sacct writes "CANCELLED by 1000"; some versions append '+'.
  auto end = s.find_first_of(" +");
  auto word = s.substr(0, end);
  auto it = kStates.find(word);
  return it == kStates.end() ? JobState::kUnknown : it->second;
}

std::string_view JobStateName(JobState s) {
  switch (s) {
    case JobState::kUnknown:
      return "UNKNOWN";
    case JobState::kPending:
      return "PENDING";
    case JobState::kConfiguring:
      return "CONFIGURING";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kCompleting:
      return "COMPLETING";
    case JobState::kSuspended:
      return "SUSPENDED";
    case JobState::kRequeued:
      return "REQUEUED";
    case JobState::kResizing:
      return "RESIZING";
    case JobState::kCompleted:
      return "COMPLETED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
    case JobState::kTimeout:
      return "TIMEOUT";
    case JobState::kOutOfMemory:
      return "OUT_OF_MEMORY";
    case JobState::kNodeFail:
      return "NODE_FAIL";
    case JobState::kPreempted:
      return "PREEMPTED";
    case JobState::kBootFail:
      return "BOOT_FAIL";
    case JobState::kDeadline:
      return "DEADLINE";
    case JobState::kRevoked:
      return "REVOKED";
    case JobState::kSpecialExit:
      return "SPECIAL_EXIT";
    case JobState::kLost:
      return "LOST";
  }
  return "UNKNOWN";
}

bool IsTerminal(JobState s) {
  switch (s) {
    case JobState::kCompleted:
    case JobState::kFailed:
    case JobState::kCancelled:
    case JobState::kTimeout:
    case JobState::kOutOfMemory:
    case JobState::kNodeFail:
    case JobState::kPreempted:
    case JobState::kBootFail:
    case JobState::kDeadline:
    case JobState::kRevoked:
    case JobState::kSpecialExit:
    case JobState::kLost:
      return true;
    default:
      return false;
  }
}

Result<std::string> ParseSbatchJobId(std::string_view out) {
  static constexpr std::string_view kSubmitted = "Submitted batch job ";
  for (size_t p = out.find(kSubmitted); p != std::string_view::npos;
       p = out.find(kSubmitted, p + 1)) {
    size_t start = p + kSubmitted.size();
    if (size_t n = DigitsAt(out, start); n > 0) return std::string(out.substr(start, n));
  }
  for (auto l : Lines(out)) {
    if (auto id = ParsableLine(l)) return std::string(*id);
  }
  return InvalidArgument("no job id in sbatch output: '" + std::string(out.substr(0, 200)) + "'");
}

std::vector<std::string> SqueueArgs(const std::vector<std::string>& job_ids) {
  // Name goes last: it is the only field a user can fill with '|'.
  return {"--noheader", "--states=all", "--jobs=" + Join(job_ids, ','),
          "--Format=JobID:|,State:|,Reason:|,exit_code:|,StartTime:|,EndTime:|,Name:"};
}

std::vector<JobInfo> ParseSqueue(std::string_view out) {
  std::vector<JobInfo> jobs;
  for (auto l : Lines(out)) {
    auto f = Split(l, '|');
    if (f.size() < 7 || !ToLong(f[0].substr(0, f[0].find('_')))) continue;
    JobInfo j;
    j.job_id = std::string(f[0]);
    j.state = ParseJobState(f[1]);
    j.reason = std::string(f[2]);
    std::tie(j.exit_code, j.signal) = ParseWaitStatus(f[3]);
    j.start = ParseSlurmTime(f[4]);
    j.end = ParseSlurmTime(f[5]);
    std::string_view name = l.substr(f[0].size() + f[1].size() + f[2].size() + f[3].size() +
                                     f[4].size() + f[5].size() + 6);
    j.name = std::string(name);
    if (IsTerminal(j.state) == false) j.end.reset();  // squeue shows the limit as EndTime
    jobs.push_back(std::move(j));
  }
  return jobs;
}

std::vector<std::pair<std::string, std::string>> ParseIdNameLines(std::string_view out) {
  std::vector<std::pair<std::string, std::string>> r;
  for (auto l : Lines(out)) {
    auto bar = l.find('|');
    if (bar == std::string_view::npos || !ToLong(l.substr(0, bar))) continue;
    r.emplace_back(std::string(l.substr(0, bar)), std::string(l.substr(bar + 1)));
  }
  return r;
}

bool IsInvalidJobIdError(std::string_view err) {
  return err.find("Invalid job id specified") != std::string_view::npos;
}

std::vector<std::string> SacctArgs(const std::vector<std::string>& job_ids) {
  return {"--noheader", "--parsable2", "--allocations", "--jobs=" + Join(job_ids, ','),
          "--format=JobID,State,ExitCode,Reason,Start,End,JobName"};
}

std::vector<JobInfo> ParseSacct(std::string_view out) {
  std::vector<JobInfo> jobs;
  for (auto l : Lines(out)) {
    auto f = Split(l, '|');
    if (f.size() < 7 || !ToLong(f[0])) continue;  // skips steps ("42.batch") and junk
    JobInfo j;
    j.job_id = std::string(f[0]);
    j.state = ParseJobState(f[1]);
    std::tie(j.exit_code, j.signal) = ParseExitPair(f[2]);
    j.reason = std::string(f[3]);
    j.start = ParseSlurmTime(f[4]);
    j.end = ParseSlurmTime(f[5]);
    j.name = std::string(f[6]);
    jobs.push_back(std::move(j));
  }
  return jobs;
}

bool IsAccountingDisabled(std::string_view text) {
  return text.find("accounting storage is disabled") != std::string_view::npos;
}

std::vector<JobInfo> ParseScontrolJobs(std::string_view out) {
  std::vector<JobInfo> jobs;
  for (auto l : Lines(out)) {
    std::map<std::string, std::string> kv;
    std::string last;
    for (auto w : Split(l, ' ')) {
      if (w.empty()) continue;
      auto eq = w.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        if (!last.empty()) kv[last] += " " + std::string(w);  // value with spaces
        continue;
      }
      last = std::string(w.substr(0, eq));
      kv[last] = std::string(w.substr(eq + 1));
    }
    if (!kv.count("JobId") || !ToLong(kv["JobId"])) continue;
    JobInfo j;
    j.job_id = kv["JobId"];
    j.name = kv["JobName"];
    j.state = ParseJobState(kv["JobState"]);
    j.reason = kv["Reason"];
    std::tie(j.exit_code, j.signal) = ParseExitPair(kv["ExitCode"]);
    j.start = ParseSlurmTime(kv["StartTime"]);
    j.end = IsTerminal(j.state) ? ParseSlurmTime(kv["EndTime"]) : std::nullopt;
    jobs.push_back(std::move(j));
  }
  return jobs;
}

std::vector<std::string> SinfoArgs(const std::string& partition) {
  std::vector<std::string> a = {"--noheader", "--Node", "--format=%N|%c|%m|%G|%T"};
  if (!partition.empty()) a.push_back("--partition=" + partition);
  return a;
}

int64_t GpusInGres(std::string_view gres) {
  int64_t total = 0;
  // Entries are comma-separated, but "(S:0-1)" socket lists may hold commas too: an entry
  // starts at the beginning or after any comma. Counts come from sinfo output: a malformed
  // or absurd one must not end the process.
  for (size_t start = 0;;) {
    total = SaturatingAdd(total, GpusInEntry(gres.substr(start)));
    size_t comma = gres.find(',', start);
    if (comma == std::string_view::npos) return total;
    start = comma + 1;
  }
}

Capacity ParseSinfoNodes(std::string_view out) {
  Capacity c;
  std::set<std::string> seen;
  for (auto l : Lines(out)) {
    auto f = Split(l, '|');
    if (f.size() < 5 || !seen.insert(std::string(f[0])).second) continue;
    std::string_view state = f[4];
    if (state.rfind("down", 0) == 0 || state.rfind("drain", 0) == 0 ||
        state.rfind("fail", 0) == 0 || state.rfind("inval", 0) == 0 ||
        state.rfind("future", 0) == 0) {
      continue;
    }
    auto cpus = ToLong(f[1]);
    auto mem = ToLong(f[2]);
    if (!cpus) continue;
    c.cpus += *cpus;
    c.memory_mib += mem.value_or(0);
    c.gpus += GpusInGres(f[3]);
    ++c.nodes;
  }
  return c;
}

std::optional<TimePoint> ParseSlurmTime(std::string_view s) {
  std::tm tm{};
  std::string str(s);
  if (str.size() < 19 ||
      std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::pair<int, int> ParseExitPair(std::string_view s) {
  auto colon = s.find(':');
  auto code = ToLong(s.substr(0, colon));
  auto sig = colon == std::string_view::npos ? std::optional<long>(0) : ToLong(s.substr(colon + 1));
  return {static_cast<int>(code.value_or(0) & 0xff), static_cast<int>(sig.value_or(0) & 0x7f)};
}

std::pair<int, int> ParseWaitStatus(std::string_view s) {
  auto v = ToLong(s);
  if (!v) return {0, 0};
  return {static_cast<int>((*v >> 8) & 0xff), static_cast<int>(*v & 0x7f)};
}

}  // namespace il::slurm
