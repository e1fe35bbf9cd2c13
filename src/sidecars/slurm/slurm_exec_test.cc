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

JobSpec Job(Runtime rt, std::string binary) {
  JobSpec job;
  job.uid = "u1";
  job.runtime = rt;
  job.runtime_binary = std::move(binary);
  return job;
}

ContainerSpec Main() {
  ContainerSpec c;
  c.name = "main";
  c.image = "/images/alpine";
  c.command = {"sleep", "infinity"};  // never part of an exec
  c.working_dir = "/srv";
  c.env = {{"GREETING", "it's \"$HOME\"\n"}};
  c.mounts = {{"/jobs/d/cm", "/etc/app", true}};
  return c;
}

// What an exec runs, through the exec file written at create time.
V Argv(const SlurmConfig& cfg, const JobSpec& job, bool tty,
       const std::optional<std::string>& user = std::nullopt) {
  auto cc = ParseExecFile(RenderExecFile(job, Main()));
  EXPECT_TRUE(cc.ok()) << cc.status().ToString();
  return SlurmExecArgv(cfg, {"42", "vm"}, user, cc.ok() ? *cc : ContainerCommand{}, Req(tty));
}

TEST(SlurmExec, RuntimeNoneRunsTheCommandOnTheNodeWithTheContainersEnvAndDirectory) {
  SlurmConfig cfg;
  cfg.sbatch = {"/opt/slurm/bin/sbatch"};
  EXPECT_EQ(Argv(cfg, Job(Runtime::kNone, ""), false),
            (V{"/opt/slurm/bin/srun", "--jobid=42", "--overlap", "--quiet", "-N1", "-n1", "env",
               "-C", "/srv", "--", "GREETING=it's \"$HOME\"\n", "sh", "-c", "echo hi"}));
}

TEST(SlurmExec, PodmanExecsIntoTheContainerWithATty) {
  SlurmConfig cfg;
  EXPECT_EQ(Argv(cfg, Job(Runtime::kPodman, "podman"), true),
            (V{"/usr/bin/srun", "--jobid=42", "--overlap", "--quiet", "-N1", "-n1", "--pty",
               "podman", "exec", "-i", "-t", PodmanName("u1", "main"), "sh", "-c", "echo hi"}));
}

TEST(SlurmExec, ApptainerRunsTheSameImageWithTheContainersMountsAndEnv) {
  SlurmConfig cfg;
  EXPECT_EQ(Argv(cfg, Job(Runtime::kApptainer, "apptainer"), false),
            (V{"/usr/bin/srun", "--jobid=42", "--overlap", "--quiet", "-N1", "-n1", "env", "--",
               "APPTAINERENV_GREETING=it's \"$HOME\"\n", "apptainer", "exec", "--pwd", "/srv",
               "--bind", "/jobs/d/cm:/etc/app:ro", "/images/alpine", "sh", "-c", "echo hi"}));
}

TEST(SlurmExec, ChRunJoinsTheSameImageAsTheProbesDo) {
  SlurmConfig cfg;
  EXPECT_EQ(Argv(cfg, Job(Runtime::kCharliecloud, "ch-run"), true, "alice"),
            (V{"/usr/sbin/runuser",
               "-u",
               "alice",
               "--",
               "/usr/bin/srun",
               "--jobid=42",
               "--overlap",
               "--quiet",
               "-N1",
               "-n1",
               "--pty",
               "env",
               "--",
               "GREETING=it's \"$HOME\"\n",
               "ch-run",
               "-c",
               "/srv",
               "-b",
               "/jobs/d/cm:/etc/app",
               "/images/alpine",
               "--",
               "sh",
               "-c",
               "echo hi"}));
}

TEST(SlurmExec, DamagedExecFilesAreRefused) {
  EXPECT_FALSE(ParseExecFile("").ok());
  EXPECT_FALSE(ParseExecFile(R"({"env":[],"argv":[1]})").ok());
  EXPECT_FALSE(ParseExecFile(R"({"env":[],"argv":["podman"],"flagsAt":5})").ok());
  EXPECT_TRUE(ParseExecFile(R"({"env":[],"argv":[]})").ok());
}

}  // namespace
}  // namespace il::slurm
