// ASSERT_OK / EXPECT_OK: check that a Status or a Result<T> is OK, and print its error
// when it is not (instead of ASSERT_TRUE(x.ok()) << x.status().ToString() everywhere).
#pragma once

#include <gtest/gtest.h>

#include <type_traits>

#include "core/status.h"

namespace il::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

inline ::testing::AssertionResult IsOk(const char* expr, const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is " << s.ToString();
}

}  // namespace il::testing

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::il::testing::IsOk, ::il::testing::StatusOf(expr))
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::il::testing::IsOk, ::il::testing::StatusOf(expr))
