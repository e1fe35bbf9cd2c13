#include "protocol/listener_policy.h"

#include <gtest/gtest.h>

namespace il::protocol {
namespace {

TEST(ListenerPolicy, LoopbackHosts) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "a.localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h :
       {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.example.com", "", "interlink"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
  EXPECT_TRUE(IsLocalUrl("unix:///var/run/il.sock"));
  EXPECT_TRUE(IsLocalUrl("http://127.0.0.1:3000"));
  EXPECT_FALSE(IsLocalUrl("http://0.0.0.0:3000"));
}

TEST(ListenerPolicy, AnOpenNonLoopbackListenerRefusesToStartNamingTheKeys) {
  std::string warning;
  ListenerCheck c{"interlink", "http://0.0.0.0:3000", false,
                  false,       "VKTokenFile",         "AllowUnauthenticatedListen"};
  Status s = CheckListener(c, &warning);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("VKTokenFile"), std::string::npos);
  EXPECT_NE(s.message().find("AllowUnauthenticatedListen"), std::string::npos);
  c.authenticated = true;
  EXPECT_TRUE(CheckListener(c, &warning).ok());
  EXPECT_TRUE(warning.empty());
  c.authenticated = false;
  c.allow_unauthenticated = true;
  EXPECT_TRUE(CheckListener(c, &warning).ok());
  EXPECT_NE(warning.find("WITHOUT authentication"), std::string::npos);
  warning.clear();
  c.allow_unauthenticated = false;
  c.listen_url = "http://127.0.0.1:3000";
  EXPECT_TRUE(CheckListener(c, &warning).ok());
  EXPECT_TRUE(warning.empty());
}

TEST(ListenerPolicy, NothingConfiguredGivesNoAuthenticator) {
  auto a = MakeListenerAuthenticator({});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, nullptr);
  auto missing = MakeListenerAuthenticator({"/nonexistent/token", false, nullptr, {}});
  EXPECT_FALSE(missing.ok()) << "an unreadable token file fails at start";
}

}  // namespace
}  // namespace il::protocol
