#include "core/http.h"

#include <gtest/gtest.h>

namespace il::http {
namespace {

TEST(Endpoint, ParsesSeedStyleUrlAndPort) {
  auto e = EndpointFromUrlAndPort("http://localhost", "3000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, "3000");
  EXPECT_EQ(e->ToString(), "http://localhost:3000");
}

TEST(Endpoint, PortInUrlWins) {
  auto e = ParseEndpoint("https://10.0.0.1:8443/x", "3000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->scheme, Endpoint::Scheme::kHttps);
  EXPECT_EQ(e->port, "8443");
}

TEST(Endpoint, UnixSocketsNeedAbsolutePaths) {
  auto e = ParseEndpoint("unix:///run/il.sock");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->unix_path, "/run/il.sock");
  EXPECT_TRUE(ParseEndpoint("http+unix:///x.sock").ok());
  EXPECT_FALSE(ParseEndpoint("unix://relative.sock").ok());
}

TEST(Endpoint, RejectsUnknownSchemesAndBadPorts) {
  EXPECT_FALSE(ParseEndpoint("ftp://x").ok());
  EXPECT_FALSE(ParseEndpoint("localhost:3000").ok());
  EXPECT_FALSE(ParseEndpoint("http://x:99999").ok());
  EXPECT_FALSE(ParseEndpoint("http://x:3a").ok());
  EXPECT_FALSE(ParseEndpoint("http://").ok());
}

TEST(Endpoint, ParsesBracketedIpv6) {
  auto e = ParseEndpoint("http://[::1]:3000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, "3000");
}

TEST(Target, SplitsPathAndDecodesQuery) {
  std::string path;
  std::map<std::string, std::string> q;
  SplitTarget(
      "/containerLogs/ns/p%20x/"
      "c?tailLines=10&follow=true&sinceTime=2024-01-01T00%3A00%3A00Z&a+b=c+d",
      &path, &q);
  EXPECT_EQ(path, "/containerLogs/ns/p x/c");
  EXPECT_EQ(q["tailLines"], "10");
  EXPECT_EQ(q["follow"], "true");
  EXPECT_EQ(q["sinceTime"], "2024-01-01T00:00:00Z");
  EXPECT_EQ(q["a b"], "c d");
}

TEST(Target, UrlEncodeKeepsOnlyUnreservedAndWhatTheCallerAllows) {
  EXPECT_EQ(UrlEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(UrlEncode("a b/c?d&e=f%+\xff"), "a%20b%2Fc%3Fd%26e%3Df%25%2B%FF");
  EXPECT_EQ(UrlEncode(std::string("\0\n", 2)), "%00%0A");
  EXPECT_EQ(UrlEncode("ns:x@y/z", ":@"), "ns:x@y%2Fz");  // '/' never survives a segment
  for (std::string s : {"sh -c 'echo $HOME'", "\xe2\x9c\x93 ok", "100%", "a+b c"}) {
    EXPECT_EQ(UrlDecode(UrlEncode(s), true), s) << s;
  }
}

TEST(Headers, AreCaseInsensitive) {
  Headers h;
  h.Set("Content-Type", "a");
  h.Set("content-type", "b");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "b");
  EXPECT_EQ(h.items().size(), 1u);
  EXPECT_FALSE(h.Has("x"));
}

}  // namespace
}  // namespace il::http
