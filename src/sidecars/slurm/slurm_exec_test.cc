#include "sidecars/slurm/slurm_exec.h"

#include <gtest/gtest.h>

#include "sidecars/slurm/container_command.h"

namespace il::slurm {
namespace {

using V = std::vector<std::string>;

TEST(SlurmExec, ParsesTheRunningJobAndItsFirstNode) {
  auto j = ParseRunningJob("42 vm\n");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->id, "42");
  EXPECT_EQ(j->node, "vm");
  EXPECT_EQ(ParseRunningJob("7 node[3-5,9]\n")->node, "node3");
  EXPECT_EQ(ParseRunningJob("7 a1,b[2-3]\n")->node, "a1");
  EXPECT_FALSE(ParseRunningJob(""));
}

api::ExecRequest Req(bool tty) {
  api::ExecRequest r;
  r.pod_uid = "u1";
  r.container = "main";
  r.command = {"sh", "-c", "echo hi"};
  r.stdin = true;
  r.tty = tty;
  return r;
}

TEST(SlurmExec, RuntimeNoneRunsTheCommandInTheAllocation) {
  SlurmConfig cfg;
  cfg.sbatch = {"/opt/slurm/bin/sbatch"};
  cfg.runtime = Runtime::kNone;
  auto argv = SlurmExecArgv(cfg, {"42", "vm"}, Req(false));
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(*argv, (V{"/opt/slurm/bin/srun", "--jobid=42", "--overlap", "--quiet", "-N1", "-n1",
                      "sh", "-c", "echo hi"}));
}

TEST(SlurmExec, PodmanExecsIntoTheContainerWithATty) {
  SlurmConfig cfg;
  cfg.runtime = Runtime::kPodman;
  auto argv = SlurmExecArgv(cfg, {"42", "vm"}, Req(true));
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(*argv,
            (V{"/usr/bin/srun", "--jobid=42", "--overlap", "--quiet", "-N1", "-n1", "--pty",
               "podman", "exec", "-i", "-t", PodmanName("u1", "main"), "sh", "-c", "echo hi"}));
}

TEST(SlurmExec, RuntimesWithoutAnInstanceAreRefusedClearly) {
  SlurmConfig cfg;
  cfg.runtime = Runtime::kApptainer;
  auto argv = SlurmExecArgv(cfg, {"42", "vm"}, Req(false));
  ASSERT_FALSE(argv.ok());
  EXPECT_EQ(argv.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace il::slurm
