#include "sidecars/docker/probe_url.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {

const ProbeUrl kBase{"http", "10.0.0.5", 8080, "/app/healthz?x=1"};

std::string Resolve(std::string_view location) {
  auto r = ResolveLocation(kBase, location);
  return r.ok() ? r->String() : "error: " + r.status().message();
}

TEST(ProbeUrl, PrintsLikeGo) {
  EXPECT_EQ(kBase.String(), "http://10.0.0.5:8080/app/healthz?x=1");
  EXPECT_EQ((ProbeUrl{"https", "::1", 443, "/"}).String(), "https://[::1]:443/");
}

TEST(ResolveLocation, RelativeAbsoluteAndSchemeRelative) {
  EXPECT_EQ(Resolve("/ready"), "http://10.0.0.5:8080/ready");
  EXPECT_EQ(Resolve("ready?y=2#frag"), "http://10.0.0.5:8080/app/ready?y=2");
  EXPECT_EQ(Resolve("../a/./b/../c"), "http://10.0.0.5:8080/a/c");
  EXPECT_EQ(Resolve("?z"), "http://10.0.0.5:8080/app/healthz?z");
  EXPECT_EQ(Resolve("HTTPS://10.0.0.5/x"), "https://10.0.0.5:443/x");
  EXPECT_EQ(Resolve("http://user@[fe80::1]:81"), "http://[fe80::1]:81/");
  EXPECT_EQ(Resolve("//other.example:9090/p"), "http://other.example:9090/p");
  EXPECT_EQ(Resolve("  /spaced  "), "http://10.0.0.5:8080/spaced");
}

TEST(ResolveLocation, RejectsWhatGoCannotFollow) {
  EXPECT_EQ(Resolve("ftp://10.0.0.5/x"), "error: unsupported protocol scheme \"ftp\"");
  EXPECT_EQ(Resolve("http://10.0.0.5:99999/"), "error: invalid port \":99999\" after host");
  EXPECT_EQ(Resolve("http://[::1/"), "error: missing ']' in host");
  EXPECT_EQ(Resolve("http:///nohost"), "error: no host in the location");
}

TEST(ResponseHeader, CaseInsensitiveFirstMatchTrimmed) {
  std::string r = "HTTP/1.1 302 Found\r\nlocation:  /a \r\nLocation: /b\r\n\r\nLocation: /body";
  EXPECT_EQ(ResponseHeader(r, "Location"), "/a");
  EXPECT_EQ(ResponseHeader(r, "Content-Type"), "");
  EXPECT_EQ(ResponseHeader("garbage", "Location"), "");
}

TEST(ResponseBody, ContentLengthChunkedAndCap) {
  EXPECT_EQ(ResponseBody("HTTP/1.1 302 F\r\nContent-Length: 3\r\n\r\nabcdef", 100), "abc");
  EXPECT_EQ(ResponseBody("HTTP/1.1 302 F\r\n\r\nabcdef", 4), "abcd");
  EXPECT_EQ(ResponseBody("HTTP/1.1 302 F\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n2;ext\r\nde\r\n0\r\n\r\n",
                         100),
            "abcde");
  EXPECT_EQ(ResponseBody("HTTP/1.1 302 F\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nab", 100),
            "ab");
  EXPECT_EQ(ResponseBody("no blank line", 100), "");
}

}  // namespace
}  // namespace il::docker
