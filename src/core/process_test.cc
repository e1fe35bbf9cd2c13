#include "core/process.h"

#include <gtest/gtest.h>

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

TEST(ArgvToString, QuotesWhatAShellWouldSplit) {
  EXPECT_EQ(ArgvToString({"docker", "run", "a b", "it's"}), "docker run 'a b' 'it'\\''s'");
}

}  // namespace
}  // namespace il
