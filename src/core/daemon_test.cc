#include "core/daemon.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace il {
namespace {

std::optional<int> Parse(std::vector<std::string> args, bool upstream, DaemonFlags* f) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseDaemonFlags(static_cast<int>(argv.size()), argv.data(),
                          {"test-sd", "test daemon", "1.2.3", upstream}, f);
}

TEST(DaemonFlags, GoStyleAndGnuStyleFlags) {
  DaemonFlags f;
  EXPECT_FALSE(Parse({"d", "-interlinkconfigpath=/etc/x.yaml", "--listen", "unix:///s",
                      "-log-level", "debug", "--log-format=json"},
                     false, &f)
                   .has_value());
  EXPECT_EQ(f.config_path, "/etc/x.yaml");
  EXPECT_EQ(f.listen, "unix:///s");
  EXPECT_EQ(f.log_level, "debug");
  EXPECT_EQ(f.log_format, "json");
  DaemonFlags g;
  EXPECT_FALSE(Parse({"d", "--config", "/c.yaml"}, false, &g).has_value());
  EXPECT_EQ(g.config_path, "/c.yaml");
}

TEST(DaemonFlags, UpstreamLogFlagsOnlyWhereDeclared) {
  DaemonFlags f;
  EXPECT_FALSE(Parse({"interlink", "-verbose", "-errorsonly"}, true, &f).has_value());
  EXPECT_TRUE(f.verbose);
  EXPECT_TRUE(f.errors_only);
  DaemonFlags g;
  auto done = Parse({"mock-sd", "-verbose"}, false, &g);
  ASSERT_TRUE(done.has_value());
  EXPECT_NE(*done, 0);
}

TEST(DaemonFlags, VersionAndHelpEndTheProcessSuccessfully) {
  DaemonFlags f;
  testing::internal::CaptureStdout();
  auto v = Parse({"d", "-version"}, false, &f);
  std::string out = testing::internal::GetCapturedStdout();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 0);
  EXPECT_EQ(out, "test-sd 1.2.3\n");
  testing::internal::CaptureStdout();
  auto h = Parse({"d", "--help"}, false, &f);
  testing::internal::GetCapturedStdout();
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(*h, 0);
  testing::internal::CaptureStderr();
  auto bad = Parse({"d", "--no-such-flag"}, false, &f);
  testing::internal::GetCapturedStderr();
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(*bad, 0);
}

TEST(DaemonLogging, FlagsBeatUpstreamFlagsBeatTheConfig) {
  DaemonFlags f;
  EXPECT_TRUE(StartLogging(f, "info", "text").ok());
  f.log_format = "yaml";
  EXPECT_FALSE(StartLogging(f, "info", "text").ok());
  f.log_format = "";
  EXPECT_FALSE(StartLogging(f, "info", "xml").ok());
  f.verbose = true;
  EXPECT_TRUE(StartLogging(f, "info", "text").ok());
}

}  // namespace
}  // namespace il
