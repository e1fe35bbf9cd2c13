#include "core/base64.h"

#include <gtest/gtest.h>

namespace il {
namespace {

TEST(Base64, RoundTripsBinaryAndWrapsLinesForHeredocs) {
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
  EXPECT_EQ(*Base64Decode(Base64Encode(bin)), bin);
  std::string wrapped = Base64Encode(bin, 76);
  EXPECT_EQ(wrapped.find('\n'), 76u);
  EXPECT_EQ(wrapped.back(), '\n');
  EXPECT_EQ(*Base64Decode(wrapped), bin);
}

TEST(Base64, AcceptsMissingPaddingAndUrlSafeRejectsGarbage) {
  EXPECT_EQ(*Base64Decode("aGVsbG8"), "hello");
  EXPECT_EQ(*Base64Decode("aGVs\nbG8="), "hello");
  EXPECT_EQ(*Base64Decode("_-8="), "\xff\xef");
  EXPECT_FALSE(Base64Decode("a").ok());
  EXPECT_FALSE(Base64Decode("a*bc").ok());
  EXPECT_FALSE(Base64Decode("a=b").ok());
}

TEST(Base64Url, RoundTripsWithoutPaddingInTheUrlSafeAlphabet) {
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(255 - i));
  for (size_t n = 0; n < 8; ++n) {
    std::string part = bin.substr(0, n);
    std::string enc = Base64UrlEncode(part);
    EXPECT_EQ(enc.find_first_of("+/=\n"), std::string::npos) << enc;
    EXPECT_EQ(*Base64UrlDecode(enc), part);
  }
  EXPECT_EQ(Base64UrlEncode("\xff\xef"), "_-8");
}

TEST(Base64Url, RejectsPaddingStandardAlphabetWhitespaceAndNonCanonicalBits) {
  EXPECT_EQ(*Base64UrlDecode("aGVsbG8"), "hello");
  EXPECT_FALSE(Base64UrlDecode("aGVsbG8=").ok());
  EXPECT_FALSE(Base64UrlDecode("a+8").ok());
  EXPECT_FALSE(Base64UrlDecode("a/8").ok());
  EXPECT_FALSE(Base64UrlDecode("aGVs bG8").ok());
  EXPECT_FALSE(Base64UrlDecode("a").ok());
  EXPECT_FALSE(Base64UrlDecode("aGVsbG9").ok());  // "hello" with a non-zero trailing bit
}

}  // namespace
}  // namespace il
