#include "core/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace il {
namespace {

TEST(PosixCommandRunner, PassesArgumentsLiterallyWithoutAShell) {
  PosixCommandRunner r;
  auto res = r.Run({"printf", "%s|", "a b", "$HOME", "x;y", "'q'"});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->exit_code, 0);
  EXPECT_EQ(res->out, "a b|$HOME|x;y|'q'|");
}

TEST(PosixCommandRunner, ReportsExitCodeStderrAndStdin) {
  PosixCommandRunner r;
  CommandOptions o;
  o.stdin_data = "hello\nworld\n";
  auto res = r.Run({"sh", "-c", "cat; echo oops >&2; exit 3"}, o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 3);
  EXPECT_EQ(res->out, "hello\nworld\n");
  EXPECT_EQ(res->err, "oops\n");
}

TEST(PosixCommandRunner, MissingProgramIsNotFound) {
  PosixCommandRunner r;
  auto res = r.Run({"/nonexistent/program"});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kNotFound);
}

TEST(PosixCommandRunner, KillsOnTimeout) {
  PosixCommandRunner r;
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto res = r.Run({"sleep", "10"}, o);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->timed_out);
}

TEST(PosixCommandRunner, AddsEnvironmentOverrides) {
  PosixCommandRunner r;
  CommandOptions o;
  o.env_overrides["IL_TEST_VAR"] = "v a;l";
  auto res = r.Run({"sh", "-c", "printf %s \"$IL_TEST_VAR\""}, o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "v a;l");
}

TEST(Spawn, ChildGetsOnlyItsThreeFds) {
  // An fd of the parent without close-on-exec: the spawner must close it anyway.
  const int leak = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leak, 3);
  PosixCommandRunner r;
  auto res = r.Run({"sh", "-c", "ls /proc/$$/fd"});
  ::close(leak);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "0\n1\n2\n") << "fd " << leak << " leaked into the child";
}

TEST(Spawn, UnsetStdioIsDevNullAndWorkingDirApplies) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  SpawnOptions so;
  so.stdout_fd = out[1];
  so.working_dir = "/";
  so.env_overrides["IL_SPAWN_VAR"] = "x";
  auto child = Spawn({"sh", "-c", "cat; pwd; printf %s \"$IL_SPAWN_VAR\""}, so);
  ::close(out[1]);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) got.append(buf, n);
  ::close(out[0]);
  EXPECT_EQ(ExitCodeOf(child->Wait()), 0);
  EXPECT_EQ(got, "/\nx");
}

TEST(Spawn, KillReachesTheWholeProcessGroup) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  SpawnOptions so;
  so.stdout_fd = out[1];
  // The grandchild holds stdout open: EOF comes only when it dies too.
  auto child = Spawn({"sh", "-c", "sleep 30 & echo started; wait"}, so);
  ::close(out[1]);
  ASSERT_TRUE(child.ok());
  char buf[64];
  ASSERT_GT(::read(out[0], buf, sizeof buf), 0);
  child->Kill(SIGKILL);
  EXPECT_EQ(ExitCodeOf(child->Wait()), 128 + SIGKILL);
  EXPECT_EQ(::read(out[0], buf, sizeof buf), 0) << "the grandchild survived";
  ::close(out[0]);
}

TEST(Spawn, MissingProgramIsNotFound) {
  auto child = Spawn({"/nonexistent/program"}, {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kNotFound);
}

TEST(ArgvToString, QuotesWhatAShellWouldSplit) {
  EXPECT_EQ(ArgvToString({"docker", "run", "a b", "it's"}), "docker run 'a b' 'it'\\''s'");
}

}  // namespace
}  // namespace il
