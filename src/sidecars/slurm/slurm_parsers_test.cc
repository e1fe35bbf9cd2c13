#include "sidecars/slurm/slurm_parsers.h"

#include <gtest/gtest.h>

namespace il::slurm {
namespace {

TEST(SlurmParsers, SbatchJobIdInAllShapes) {
  EXPECT_EQ(*ParseSbatchJobId("Submitted batch job 42\n"), "42");
  EXPECT_EQ(*ParseSbatchJobId("42\n"), "42");
  EXPECT_EQ(*ParseSbatchJobId("42;cluster1\n"), "42");
  EXPECT_EQ(*ParseSbatchJobId("sbatch: warning: something\n1234\n"), "1234");
  EXPECT_FALSE(ParseSbatchJobId("").ok());
  EXPECT_FALSE(ParseSbatchJobId("sbatch: error: nope").ok());
}

// Captured from Slurm 22.05 with SqueueArgs' format.
TEST(SlurmParsers, SqueueLines) {
  auto jobs = ParseSqueue(
      "4|FAILED|NonZeroExitCode|768|2026-11-24T23:04:56|2026-11-24T23:04:56|il-probe2\n"
      "3|RUNNING|None|0|2026-11-24T23:04:56|2027-11-24T23:04:56|il-a|b c\n"
      "5|PENDING|Resources|0|N/A|N/A|x\n"
      "6|CANCELLED|None|15|2026-11-24T23:04:56|2026-11-24T23:05:12|y\n"
      "garbage line\n");
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].job_id, "4");
  EXPECT_EQ(jobs[0].state, JobState::kFailed);
  EXPECT_EQ(jobs[0].exit_code, 3);
  EXPECT_TRUE(jobs[0].end.has_value());
  EXPECT_EQ(jobs[1].state, JobState::kRunning);
  EXPECT_EQ(jobs[1].name, "il-a|b c");
  EXPECT_FALSE(jobs[1].end.has_value());  // squeue's EndTime of a running job is its limit
  EXPECT_EQ(jobs[2].state, JobState::kPending);
  EXPECT_EQ(jobs[2].reason, "Resources");
  EXPECT_FALSE(jobs[2].start.has_value());
  EXPECT_EQ(jobs[3].signal, 15);
  EXPECT_EQ(jobs[3].exit_code, 0);
}

TEST(SlurmParsers, SqueueArgsAskForEveryStateOfTheGivenJobs) {
  auto a = SqueueArgs({"1", "2"});
  EXPECT_NE(std::find(a.begin(), a.end(), "--jobs=1,2"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--states=all"), a.end());
  EXPECT_TRUE(IsInvalidJobIdError("slurm_load_jobs error: Invalid job id specified"));
}

TEST(SlurmParsers, SacctLines) {
  auto jobs = ParseSacct(
      "10|COMPLETED|0:0|None|2026-01-01T10:00:00|2026-01-01T10:01:00|il-a\n"
      "11|CANCELLED by 1000|0:15|None|2026-01-01T10:00:00|2026-01-01T10:02:00|il-b\n"
      "11.batch|CANCELLED|0:15||2026-01-01T10:00:00|2026-01-01T10:02:00|batch\n"
      "12|OUT_OF_MEMORY|0:125|None|2026-01-01T10:00:00|2026-01-01T10:03:00|il-c\n"
      "13|TIMEOUT|0:0|TimeLimit|2026-01-01T10:00:00|2026-01-01T11:00:00|il-d\n");
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[1].state, JobState::kCancelled);
  EXPECT_EQ(jobs[1].signal, 15);
  EXPECT_EQ(jobs[2].state, JobState::kOutOfMemory);
  EXPECT_EQ(jobs[3].state, JobState::kTimeout);
  EXPECT_TRUE(IsAccountingDisabled("Slurm accounting storage is disabled\n"));
  EXPECT_FALSE(IsAccountingDisabled(""));
}

TEST(SlurmParsers, ScontrolShowJobOneLiner) {
  auto jobs = ParseScontrolJobs(
      "JobId=4 JobName=il-probe2 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode "
      "Dependency=(null) ExitCode=3:0 RunTime=00:00:00 StartTime=2026-11-24T23:04:56 "
      "EndTime=2026-11-24T23:04:56 WorkDir=/tmp/with space Command=(null)\n"
      "JobId=5 JobName=x JobState=PENDING Reason=Priority ExitCode=0:0 StartTime=Unknown "
      "EndTime=Unknown\n");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].state, JobState::kFailed);
  EXPECT_EQ(jobs[0].exit_code, 3);
  EXPECT_TRUE(jobs[0].end.has_value());
  EXPECT_EQ(jobs[1].reason, "Priority");
  EXPECT_FALSE(jobs[1].start.has_value());
}

TEST(SlurmParsers, EveryStateMaps) {
  struct Case {
    const char* text;
    JobState state;
    bool terminal;
  };
  for (const auto& c : std::vector<Case>{{"PENDING", JobState::kPending, false},
                                         {"PD", JobState::kPending, false},
                                         {"CONFIGURING", JobState::kConfiguring, false},
                                         {"RUNNING", JobState::kRunning, false},
                                         {"COMPLETING", JobState::kCompleting, false},
                                         {"COMPLETED", JobState::kCompleted, true},
                                         {"FAILED", JobState::kFailed, true},
                                         {"CANCELLED by 0", JobState::kCancelled, true},
                                         {"CANCELLED+", JobState::kCancelled, true},
                                         {"TIMEOUT", JobState::kTimeout, true},
                                         {"OUT_OF_MEMORY", JobState::kOutOfMemory, true},
                                         {"OOM", JobState::kOutOfMemory, true},
                                         {"NODE_FAIL", JobState::kNodeFail, true},
                                         {"NF", JobState::kNodeFail, true},
                                         {"PREEMPTED", JobState::kPreempted, true},
                                         {"BOOT_FAIL", JobState::kBootFail, true},
                                         {"DEADLINE", JobState::kDeadline, true},
                                         {"SUSPENDED", JobState::kSuspended, false},
                                         {"REQUEUED", JobState::kRequeued, false},
                                         {"SE", JobState::kSpecialExit, true},
                                         {"whatever", JobState::kUnknown, false}}) {
    EXPECT_EQ(ParseJobState(c.text), c.state) << c.text;
    EXPECT_EQ(IsTerminal(ParseJobState(c.text)), c.terminal) << c.text;
  }
}

TEST(SlurmParsers, SinfoCapacityCountsUsableNodesOnce) {
  auto c = ParseSinfoNodes(
      "n1|64|256000|gpu:a100:4(S:0-1)|mixed\n"
      "n1|64|256000|gpu:a100:4(S:0-1)|mixed\n"  // listed again for another partition
      "n2|32|128000|(null)|idle\n"
      "n3|32|128000|(null)|down*\n"
      "n4|32|128000|gpu:2,mps:100|drained\n"
      "n5|16|64000|gpu:1|allocated\n");
  EXPECT_EQ(c.nodes, 3);
  EXPECT_EQ(c.cpus, 112);
  EXPECT_EQ(c.memory_mib, 448000);
  EXPECT_EQ(c.gpus, 5);
  EXPECT_EQ(GpusInGres("gpu:2,mps:100"), 2);
  EXPECT_EQ(GpusInGres("(null)"), 0);
  EXPECT_EQ(GpusInGres("gpu:tesla:2,gpu:a100:1"), 3);
}

TEST(SlurmParsers, ExitCodesAndTimes) {
  EXPECT_EQ(ParseExitPair("3:0"), std::make_pair(3, 0));
  EXPECT_EQ(ParseExitPair("0:9"), std::make_pair(0, 9));
  EXPECT_EQ(ParseWaitStatus("768"), std::make_pair(3, 0));
  EXPECT_EQ(ParseWaitStatus("9"), std::make_pair(0, 9));
  EXPECT_EQ(ParseWaitStatus("N/A"), std::make_pair(0, 0));
  EXPECT_FALSE(ParseSlurmTime("Unknown"));
  EXPECT_FALSE(ParseSlurmTime("N/A"));
  auto t = ParseSlurmTime("2026-01-01T10:00:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(*ParseSlurmTime("2026-01-01T10:00:01") - *t, std::chrono::seconds(1));
  EXPECT_EQ(ParseIdNameLines("1|il-x\n2|il-y|z\nbad\n").size(), 2u);
}

}  // namespace
}  // namespace il::slurm
