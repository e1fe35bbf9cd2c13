#include "vk/status_scan.h"

#include <gtest/gtest.h>

namespace il::vk {
namespace {

TEST(ScanStatusList, SplitsEntriesAndFindsTopLevelUids) {
  std::string text = R"( [ {"name":"a","UID":"u-1","containers":[{"name":"c","UID":"nested",
      "state":{"waiting":{"message":"a \"UID\":\"x\" ] } text"}}}]} ,
      {"containers":[],"UID":"u-2"}, {"name":"no uid"} ] )";
  std::vector<ScannedEntry> e;
  ASSERT_TRUE(ScanStatusList(text, &e).ok());
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].uid, "u-1");
  EXPECT_EQ(e[0].text.front(), '{');
  EXPECT_EQ(e[0].text.back(), '}');
  EXPECT_NE(e[0].text.find("text"), std::string_view::npos);
  EXPECT_EQ(e[1].uid, "u-2");
  EXPECT_EQ(e[1].text, R"({"containers":[],"UID":"u-2"})");
  EXPECT_EQ(e[2].uid, "");
}

TEST(ScanStatusList, NullAndEmptyAreEmpty) {
  std::vector<ScannedEntry> e;
  EXPECT_TRUE(ScanStatusList("null", &e).ok());
  EXPECT_TRUE(ScanStatusList(" [ ] ", &e).ok());
  EXPECT_TRUE(e.empty());
}

TEST(ScanStatusList, RejectsWhatIsNotAListOfObjects) {
  std::vector<ScannedEntry> e;
  for (const char* bad :
       {"", "{}", "[1]", "[{\"UID\":\"a\"}", "[{\"UID\":\"a}]", "[{}] x", "[{},]", "[{\"a\":[}]"}) {
    EXPECT_FALSE(ScanStatusList(bad, &e).ok()) << bad;
  }
}

TEST(ScanStatusList, FlagsEscapedUids) {
  std::vector<ScannedEntry> e;
  ASSERT_TRUE(ScanStatusList(R"([{"UID":"a\u0062"}])", &e).ok());
  EXPECT_TRUE(e[0].uid_escaped);
}

}  // namespace
}  // namespace il::vk
