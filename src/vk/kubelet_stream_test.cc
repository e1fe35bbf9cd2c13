#include "vk/kubelet_stream.h"

#include <gtest/gtest.h>

namespace il::vk {
namespace {

TEST(KubeletStream, ParsesExecAttachAndPortForwardPaths) {
  auto e = ParseStreamPath("/exec/ns/pod/c");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ns, "ns");
  EXPECT_EQ(e->pod, "pod");
  EXPECT_EQ(e->container, "c");
  EXPECT_EQ(e->uid, "");
  auto u = ParseStreamPath("/attach/ns/pod/uid-1/c");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, "uid-1");
  EXPECT_EQ(u->container, "c");
  auto pf = ParseStreamPath("/portForward/ns/pod");
  ASSERT_TRUE(pf.ok());
  EXPECT_EQ(pf->container, "");
  EXPECT_FALSE(ParseStreamPath("/exec/ns/pod").ok());
  EXPECT_FALSE(ParseStreamPath("/exec/ns//c").ok());
  EXPECT_FALSE(ParseStreamPath("/portForward/ns").ok());
}

TEST(KubeletStream, ExecQueryKeepsRepeatedCommandsAndDropsStderrWithTty) {
  auto r = ParseExecQuery(
      "/exec/a/b/c?command=sh&command=-c&command=echo%20hi&error=1&input=1&"
      "output=1&tty=1",
      false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_TRUE(r->stdin && r->stdout && r->tty);
  EXPECT_FALSE(r->stderr);
}

TEST(KubeletStream, ExecQueryNeedsAStreamAndACommand) {
  EXPECT_FALSE(ParseExecQuery("/exec/a/b/c?command=ls", false).ok());
  EXPECT_FALSE(ParseExecQuery("/exec/a/b/c?output=1", false).ok());
  EXPECT_TRUE(ParseExecQuery("/attach/a/b/c?output=1", true).ok());
}

TEST(KubeletStream, NegotiationFollowsTheClientsOrder) {
  http::Headers h;
  h.Add("X-Stream-Protocol-Version", "v5.channel.k8s.io");
  h.Add("X-Stream-Protocol-Version", "v4.channel.k8s.io");
  h.Add("X-Stream-Protocol-Version", "v3.channel.k8s.io");
  std::vector<std::string> ours = {"v3.channel.k8s.io", "v4.channel.k8s.io"};
  EXPECT_EQ(NegotiateProtocol(h, ours), "v4.channel.k8s.io");
  http::Headers commas;
  commas.Add("X-Stream-Protocol-Version", "v9, v3.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol(commas, ours), "v3.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol(http::Headers{}, ours), "");
}

}  // namespace
}  // namespace il::vk
