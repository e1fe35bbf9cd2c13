#include "sidecars/docker/docker_cli.h"

#include <gtest/gtest.h>

#include "core/fake_command_runner.h"

namespace il::docker {
namespace {

CommandResult Failed(int code, std::string err) {
  CommandResult r;
  r.exit_code = code;
  r.err = std::move(err);
  return r;
}

TEST(ClassifyRunFailure, RecognisesDockerMessages) {
  std::vector<std::string> never = {"run", "--pull=never", "--", "img"};
  std::vector<std::string> always = {"run", "--pull=always", "--", "img"};
  auto f = ClassifyRunFailure(
      Failed(125,
             "docker: Error response from daemon: No such image: img.\nSee 'docker run --help'.\n"),
      "img", never);
  EXPECT_EQ(f.kind, RunFailure::kCreateError);
  EXPECT_EQ(f.error.reason, "ErrImageNeverPull");
  f = ClassifyRunFailure(
      Failed(125,
             "Unable to find image 'img:1' locally\ndocker: Error response from daemon: Get "
             "\"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such "
             "host.\n"
             "See 'docker run --help'.\n"),
      "img", always);
  EXPECT_EQ(f.error.reason, "ErrImagePull");
  EXPECT_EQ(f.error.message.find("Unable"), std::string::npos);
  EXPECT_NE(f.error.message.find("registry-1.docker.io"), std::string::npos);
  EXPECT_EQ(ClassifyRunFailure(Failed(125,
                                      "docker: Error response from daemon: Conflict. The container "
                                      "name \"/x\" is already in use by container \"abc\"."),
                               "img", always)
                .kind,
            RunFailure::kExists);
  EXPECT_EQ(
      ClassifyRunFailure(
          Failed(127,
                 "docker: Error response from daemon: failed to create shim task: exec: \"/nope\""),
          "img", always)
          .kind,
      RunFailure::kStartFailed);
  EXPECT_EQ(ClassifyRunFailure(Failed(1,
                                      "Cannot connect to the Docker daemon at "
                                      "unix:///var/run/docker.sock. Is the docker daemon running?"),
                               "img", always)
                .kind,
            RunFailure::kDaemonDown);
  f = ClassifyRunFailure(
      Failed(125, "docker: Error response from daemon: Minimum memory limit allowed is 6MB."),
      "img", always);
  EXPECT_EQ(f.error.reason, "CreateContainerError");
  EXPECT_EQ(f.error.message, "Error response from daemon: Minimum memory limit allowed is 6MB");
  // An argument after "--" that looks like the flag does not count.
  EXPECT_EQ(ClassifyRunFailure(Failed(125, "No such image: img"), "img",
                               {"run", "--pull=always", "--", "img", "--pull=never"})
                .error.reason,
            "ErrImagePull");
}

TEST(DockerCli, InspectIsOneCallAndToleratesMissingNames) {
  FakeCommandRunner fake;
  fake.SetResponder(
      [](const std::vector<std::string>&, const CommandOptions&) -> Result<CommandResult> {
        CommandResult r;
        r.exit_code = 1;
        r.out = R"([{"Id":"1","Name":"/a","State":{"Status":"running"}}])";
        r.err = "Error: No such container: b\n";
        return r;
      });
  DockerCli cli(fake, "/usr/bin/docker");
  auto m = cli.Inspect({"a", "b"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->size(), 1u);
  ASSERT_EQ(fake.calls().size(), 1u);
  EXPECT_EQ(fake.calls()[0],
            (std::vector<std::string>{"/usr/bin/docker", "inspect", "--type=container", "a", "b"}));
}

TEST(DockerCli, InspectReportsADaemonThatIsDown) {
  FakeCommandRunner fake;
  fake.SetResponder(
      [](const std::vector<std::string>&, const CommandOptions&) -> Result<CommandResult> {
        return Failed(1,
                      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
                      "docker daemon running?\n");
      });
  DockerCli cli(fake, "docker");
  auto m = cli.Inspect({"a"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnavailable);
}

TEST(DockerCli, MissingBinaryIsUnavailableNamingDockerPath) {
  PosixCommandRunner real;
  DockerCli cli(real, "/no/such/docker");
  auto r = cli.Run({"version"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("DockerPath"), std::string::npos);
}

TEST(DockerCli, ForEachIgnoresContainersThatAreAlreadyGone) {
  FakeCommandRunner fake;
  fake.SetResponder(
      [](const std::vector<std::string>&, const CommandOptions&) -> Result<CommandResult> {
        return Failed(1, "Error: No such container: b\n");
      });
  DockerCli cli(fake, "docker");
  EXPECT_TRUE(cli.ForEach("rm", {"--force"}, {"a", "b"}, std::chrono::seconds(5)).ok());
  fake.SetResponder([](const std::vector<std::string>&,
                       const CommandOptions&) -> Result<CommandResult> {
    return Failed(1, "Error response from daemon: removal of container a is already in progress\n");
  });
  EXPECT_EQ(cli.ForEach("rm", {"--force"}, {"a"}, std::chrono::seconds(5)).code(),
            StatusCode::kBadGateway);
  EXPECT_TRUE(cli.ForEach("rm", {}, {}, std::chrono::seconds(5)).ok());
}

}  // namespace
}  // namespace il::docker
