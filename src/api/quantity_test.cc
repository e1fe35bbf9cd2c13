#include "api/quantity.h"

#include <gtest/gtest.h>

namespace il::api {
namespace {

TEST(Quantity, ParsesDecimalBinaryAndExponentForms) {
  EXPECT_EQ(*QuantityMilli("500m"), 500);
  EXPECT_EQ(*QuantityMilli("2"), 2000);
  EXPECT_EQ(*QuantityMilli("1.5"), 1500);
  EXPECT_EQ(*QuantityMilli("0.001"), 1);
  EXPECT_EQ(*QuantityWhole("128Mi"), 134217728);
  EXPECT_EQ(*QuantityWhole("1Gi"), 1073741824);
  EXPECT_EQ(*QuantityWhole("512M"), 512000000);
  EXPECT_EQ(*QuantityWhole("1e3"), 1000);
  EXPECT_EQ(*QuantityWhole("1.5k"), 1500);
  EXPECT_EQ(*QuantityWhole("100m"), 1) << "rounded up";
  EXPECT_EQ(*QuantityWhole("800Gi"), 858993459200);
}

TEST(Quantity, RejectsMalformedAndNegative) {
  for (const char* bad : {"", "abc", "1.2.3x", "Gi", "1Gb", "--1", "1e", "1 Gi", "1e3Gi"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
  EXPECT_FALSE(QuantityMilli("-1").ok());
  EXPECT_FALSE(QuantityWhole("1e30").ok());
}

}  // namespace
}  // namespace il::api
