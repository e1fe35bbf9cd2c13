#include "sidecars/docker/quantity.h"

#include <gtest/gtest.h>

namespace il::docker {
namespace {

TEST(Quantity, CpuValuesBecomeMillicores) {
  EXPECT_EQ(*ParseMilli("500m"), 500);
  EXPECT_EQ(*ParseMilli("2"), 2000);
  EXPECT_EQ(*ParseMilli("0.25"), 250);
  EXPECT_EQ(*ParseMilli("1.5"), 1500);
  EXPECT_EQ(*ParseMilli("100u"), 1);  // rounded up like Kubernetes
}

TEST(Quantity, MemoryValuesBecomeBytes) {
  EXPECT_EQ(*ParseWhole("128Mi"), 134217728);
  EXPECT_EQ(*ParseWhole("1Gi"), 1073741824);
  EXPECT_EQ(*ParseWhole("1G"), 1000000000);
  EXPECT_EQ(*ParseWhole("1.5k"), 1500);
  EXPECT_EQ(*ParseWhole("2e3"), 2000);
  EXPECT_EQ(*ParseWhole("12345"), 12345);
}

TEST(Quantity, MalformedValuesAreRejected) {
  for (const char* bad : {"", "abc", "1Qi", "-1", "1.2.3", "Mi", "1e", "; rm -rf /", "1 Gi"}) {
    EXPECT_FALSE(ParseWhole(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace il::docker
