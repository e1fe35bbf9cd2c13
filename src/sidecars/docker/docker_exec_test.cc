#include "sidecars/docker/docker_exec.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {

using V = std::vector<std::string>;

TEST(DockerExec, ExecArgvHasInteractiveAndTtyFlagsOnlyWhenAsked) {
  api::ExecRequest r;
  r.command = {"sh", "-c", "echo hi"};
  EXPECT_EQ(DockerExecArgv("docker", "abc", r),
            (V{"docker", "exec", "abc", "sh", "-c", "echo hi"}));
  r.stdin = r.tty = true;
  EXPECT_EQ(DockerExecArgv("/usr/bin/docker", "abc", r),
            (V{"/usr/bin/docker", "exec", "-i", "-t", "abc", "sh", "-c", "echo hi"}));
}

TEST(DockerExec, AttachArgvNeverProxiesSignals) {
  api::ExecRequest r;
  r.attach = true;
  EXPECT_EQ(DockerAttachArgv("docker", "abc", r),
            (V{"docker", "attach", "--sig-proxy=false", "--no-stdin", "abc"}));
  r.stdin = true;
  EXPECT_EQ(DockerAttachArgv("docker", "abc", r),
            (V{"docker", "attach", "--sig-proxy=false", "abc"}));
}

TEST(DockerExec, ContainersAreFoundByTheirLabels) {
  EXPECT_EQ(DockerFindArgv("docker", "u1", "web"),
            (V{"docker", "ps", "-q", "--no-trunc", "--filter", "label=io.kubernetes.pod.uid=u1",
               "--filter", "label=io.kubernetes.container.name=web"}));
}

}  // namespace
}  // namespace il::docker
