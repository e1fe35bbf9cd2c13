// Pure parsers of Slurm CLI output (sbatch, squeue, sacct, scontrol, sinfo) and the
// job-state vocabulary. Input comes from another program, so nothing here asserts:
// malformed lines are skipped or reported as kInvalidArgument.
//
// The exact command lines these parsers expect are built by the functions beside them
// (SqueueArgs, SacctArgs, ...), so format and parser change together.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::slurm {

using TimePoint = std::chrono::system_clock::time_point;

enum class JobState {
  kUnknown,  // not (yet) reported
  kPending,
  kConfiguring,
  kRunning,
  kCompleting,
  kSuspended,
  kRequeued,
  kResizing,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kOutOfMemory,
  kNodeFail,
  kPreempted,
  kBootFail,
  kDeadline,
  kRevoked,
  kSpecialExit,
  kLost,  // our own: Slurm forgot the job and it left no job.status file
};

// Long names ("RUNNING", "CANCELLED by 0") and squeue's compact codes ("R", "CD").
JobState ParseJobState(std::string_view s);
std::string_view JobStateName(JobState s);
bool IsTerminal(JobState s);

struct JobInfo {
  std::string job_id;
  std::string name;
  JobState state = JobState::kUnknown;
  std::string reason;  // squeue/scontrol Reason ("Resources", "None", ...)
  int exit_code = 0;   // of the batch script
  int signal = 0;      // that ended it, 0 if none
  std::optional<TimePoint> start, end;
};

// "Submitted batch job 42", "42" or "42;cluster" (--parsable), possibly after warnings.
Result<std::string> ParseSbatchJobId(std::string_view out);

// squeue for a set of job ids, all states, one line per job (see ParseSqueue).
std::vector<std::string> SqueueArgs(const std::vector<std::string>& job_ids);
std::vector<JobInfo> ParseSqueue(std::string_view out);
// Lines "<id>|<name>" (squeue --Format=JobID:|,Name:) -> pairs.
std::vector<std::pair<std::string, std::string>> ParseIdNameLines(std::string_view out);
// True when squeue's error only says that none of the ids is known any more.
bool IsInvalidJobIdError(std::string_view err);

std::vector<std::string> SacctArgs(const std::vector<std::string>& job_ids);
std::vector<JobInfo> ParseSacct(std::string_view out);
// "Slurm accounting storage is disabled" (no slurmdbd).
bool IsAccountingDisabled(std::string_view text);

// scontrol show job -o: one job per line, Key=Value words.
std::vector<JobInfo> ParseScontrolJobs(std::string_view out);

struct Capacity {
  int64_t cpus = 0;
  int64_t memory_mib = 0;
  int64_t gpus = 0;
  int nodes = 0;
};
// sinfo -h -N -o '%N|%c|%m|%G|%T' (a node may appear once per partition). Nodes that
// are down, drained or failing do not count.
std::vector<std::string> SinfoArgs(const std::string& partition);
Capacity ParseSinfoNodes(std::string_view out);
// GPUs in a GRES string: "gpu:4", "gpu:a100:2(S:0-1),mps:100" -> 4, 2.
int64_t GpusInGres(std::string_view gres);

// Slurm times are local ("2026-11-24T23:04:56"); "Unknown", "N/A", "None" -> nullopt.
std::optional<TimePoint> ParseSlurmTime(std::string_view s);
// "3:0" -> {3, 0}; squeue's raw wait status "768" -> {3, 0}, "15" -> {0, 15}.
std::pair<int, int> ParseExitPair(std::string_view s);
std::pair<int, int> ParseWaitStatus(std::string_view s);

}  // namespace il::slurm
