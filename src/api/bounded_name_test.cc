#include "api/bounded_name.h"

#include <gtest/gtest.h>

#include <set>

#include "api/k8s_validation.h"

namespace il::api {
namespace {

TEST(BoundedName, NamesThatFitAreUnchanged) {
  EXPECT_EQ(BoundedName("abc", 20), "abc");
  EXPECT_EQ(BoundedName(std::string(20, 'a'), 20), std::string(20, 'a'));
  EXPECT_EQ(BoundedName("ns_pod_", "uid", 20), "ns_pod_uid");
}

TEST(BoundedName, LongNamesAreCutAndHashedToAtMostMax) {
  std::string s(253, 'a');
  std::string b = BoundedName(s, 63);
  EXPECT_EQ(b.size(), 63u);
  EXPECT_EQ(b.substr(0, 50), std::string(50, 'a'));
  EXPECT_EQ(b[50], '-');
  EXPECT_EQ(b.substr(51), NameHash(s));
  EXPECT_EQ(BoundedName(s, 63), b) << "stable";
}

TEST(BoundedName, NamesSharingALongPrefixDoNotCollide) {
  // Upstream #536: names cut to a fixed prefix collided.
  std::string a = std::string(252, 'x') + "1", b = std::string(252, 'x') + "2";
  EXPECT_NE(BoundedName(a, 60), BoundedName(b, 60));
  EXPECT_NE(BoundedName(a, "_uid", 60), BoundedName(b, "_uid", 60));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i)
    seen.insert(BoundedName(std::string(100, 'p') + std::to_string(i), 40));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(BoundedName, TailIsKeptVerbatim) {
  std::string tail = "_0b7e6a4e-3f7c-4a59-9a0a-2f6d7c0e9b11";
  std::string b = BoundedName(std::string(200, 'n'), tail, 100);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(b.substr(b.size() - tail.size()), tail);
  // A tail too long to keep: the whole is bounded instead.
  EXPECT_EQ(BoundedName("h", std::string(200, 't'), 50).size(), 50u);
}

TEST(BoundedName, CutDropsTrailingSeparatorsSoDnsNamesStayValid) {
  // The cut lands right after a dot: "a...a." must not become "a.-hash".
  std::string s;
  while (s.size() < 253) s += s.size() % 10 == 9 ? '.' : 'a';
  for (size_t max = kMinBoundedName; max <= 80; ++max) {
    std::string b = BoundedName(s, max);
    EXPECT_LE(b.size(), max);
    EXPECT_TRUE(IsDnsSubdomain(b)) << max << " " << b;
  }
  EXPECT_TRUE(IsDnsSubdomain(BoundedName(std::string(100, '-'), 20))) << "only hash left";
}

}  // namespace
}  // namespace il::api
