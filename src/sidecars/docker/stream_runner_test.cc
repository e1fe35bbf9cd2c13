#include "sidecars/docker/stream_runner.h"

#include <gtest/gtest.h>

#include <atomic>

namespace il::docker {
namespace {

TEST(PosixStreamRunner, DeliversBothStreamsAndTheExitCode) {
  PosixStreamRunner r;
  std::string out, err;
  auto rc = r.Stream(
      {"sh", "-c", "printf 'a\\n'; printf 'e\\n' >&2; exit 4"},
      [&](int s, std::string_view c) {
        (s == 1 ? out : err).append(c);
        return true;
      },
      nullptr, std::chrono::milliseconds(50));
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ(*rc, 4);
  EXPECT_EQ(out, "a\n");
  EXPECT_EQ(err, "e\n");
}

TEST(PosixStreamRunner, StopsAQuietProgramWhenAskedTo) {
  PosixStreamRunner r;
  std::atomic<int> polls{0};
  auto start = std::chrono::steady_clock::now();
  auto rc = r.Stream(
      {"sleep", "30"}, [](int, std::string_view) { return true; }, [&] { return ++polls > 3; },
      std::chrono::milliseconds(20));
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(PosixStreamRunner, StopsWhenTheConsumerRefusesOutput) {
  PosixStreamRunner r;
  int chunks = 0;
  auto rc = r.Stream(
      {"sh", "-c", "while true; do echo x; sleep 0.01; done"},
      [&](int, std::string_view) { return ++chunks < 3; }, nullptr, std::chrono::milliseconds(20));
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, -1);
  EXPECT_EQ(chunks, 3);
}

TEST(PosixStreamRunner, MissingProgramIsNotFound) {
  PosixStreamRunner r;
  auto rc = r.Stream(
      {"/no/such/program"}, [](int, std::string_view) { return true; }, nullptr,
      std::chrono::milliseconds(20));
  ASSERT_FALSE(rc.ok());
  EXPECT_EQ(rc.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace il::docker
