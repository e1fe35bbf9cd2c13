#include "sidecars/mock/mock_plan.h"

#include <gtest/gtest.h>

#include "sidecars/mock/mock_test_util.h"

namespace il::mock {
namespace {
using namespace std::chrono_literals;
using testing::MakePod;
using testing::PodSpec;

Status PlanError(std::map<std::string, std::string> ann) {
  PodSpec s;
  s.annotations = std::move(ann);
  s.init_containers = {"setup"};
  auto p = ParseMockPlan(MakePod(s));
  return p.ok() ? Status::Ok() : p.status();
}

TEST(MockPlan, DefaultsWithoutAnnotations) {
  PodSpec s;
  s.init_containers = {"a", "b"};
  s.containers = {"main", "side"};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pending, 200ms);
  ASSERT_EQ(p->init_containers.size(), 2u);
  EXPECT_EQ(*p->init_containers[0].start, 200ms);
  EXPECT_EQ(*p->init_containers[0].run, 200ms);
  EXPECT_EQ(*p->init_containers[1].start, 400ms);
  EXPECT_EQ(*p->containers[0].start, 600ms);
  EXPECT_EQ(*p->containers[1].start, 600ms);
  EXPECT_EQ(*p->containers[0].run, 1s);
  EXPECT_EQ(p->containers[0].exit_code, 0);
  EXPECT_FALSE(p->containers[0].lines.has_value());
  EXPECT_EQ(p->containers[0].image, "busybox:main");
  EXPECT_TRUE(p->pod_ip.empty());
  EXPECT_TRUE(p->create_error.empty());
}

TEST(MockPlan, PerContainerValuesOverridePodDefaults) {
  PodSpec s;
  s.containers = {"main", "side"};
  s.init_containers = {"setup"};
  s.annotations = {
      {"run-seconds", "2"},    {"run-seconds.side", "0.5"}, {"exit-code", "3"},
      {"exit-code.side", "0"}, {"init-run-seconds", "1"},   {"pending-seconds", "0"},
      {"logs.main", "a\nb\n"}, {"pod-ip", "10.1.2.3"},      {"log-interval-seconds.side", "0.25"}};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p->init_containers[0].run, 1s);
  EXPECT_EQ(p->init_containers[0].exit_code, 0) << "pod-wide exit-code is for app containers";
  EXPECT_EQ(*p->containers[0].run, 2s);
  EXPECT_EQ(*p->containers[1].run, 500ms);
  EXPECT_EQ(p->containers[0].exit_code, 3);
  EXPECT_EQ(p->containers[1].exit_code, 0);
  EXPECT_EQ(*p->containers[0].lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p->containers[0].tick_interval, 0ms);
  EXPECT_EQ(p->containers[1].tick_interval, 250ms);
  EXPECT_EQ(p->pod_ip, "10.1.2.3");
}

TEST(MockPlan, FailingInitContainerBlocksEverythingAfterIt) {
  PodSpec s;
  s.init_containers = {"a", "b"};
  s.annotations = {{"exit-code.a", "1"}, {"run-seconds.a", "3"}};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->init_containers[0].run, 3s);
  EXPECT_TRUE(p->init_containers[0].start.has_value());
  EXPECT_FALSE(p->init_containers[1].start.has_value());
  EXPECT_FALSE(p->containers[0].start.has_value());
}

TEST(MockPlan, RunForeverHasNoEnd) {
  PodSpec s;
  s.annotations = {{"run-forever", "true"}};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->containers[0].run.has_value());
  EXPECT_EQ(p->containers[0].log_span, 1s);
}

TEST(MockPlan, EchoCommandBecomesTheLog) {
  PodSpec s;
  s.commands["main"] = boost::json::array{"/bin/echo", "hello", "world"};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->containers[0].lines, std::vector<std::string>{"hello world"});
}

TEST(MockPlan, CreateErrorIsCarried) {
  PodSpec s;
  s.annotations = {{"create-error", "quota exceeded"}};
  auto p = ParseMockPlan(MakePod(s));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->create_error, "quota exceeded");
}

TEST(MockPlan, BadValuesAreInvalidArgumentNamingTheAnnotation) {
  struct Case {
    std::string key, value;
  };
  for (const Case& c : std::vector<Case>{{"pending-seconds", "soon"},
                                         {"run-seconds", "-1"},
                                         {"run-seconds.main", "1e9"},
                                         {"init-run-seconds", "nan"},
                                         {"exit-code", "256"},
                                         {"exit-code.main", "1.5"},
                                         {"log-interval-seconds", "0.001"},
                                         {"run-forever", "yes"},
                                         {"pod-ip", "10.0.0.300"},
                                         {"run-secs", "1"},
                                         {"logs", "x"},
                                         {"exit-code.nosuch", "1"},
                                         {"pending-seconds.main", "1"}}) {
    Status s = PlanError({{c.key, c.value}});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.key;
    EXPECT_NE(s.message().find("mock.interlink.io/" + c.key), std::string::npos) << s.message();
  }
  EXPECT_TRUE(PlanError({{"exit-code.setup", "2"}, {"run-seconds.setup", "0"}}).ok());
}

TEST(MockPlan, ParseSecondsAcceptsFractionsOnly) {
  EXPECT_EQ(*ParseSeconds("0.25"), 250ms);
  EXPECT_EQ(*ParseSeconds("3"), 3s);
  EXPECT_FALSE(ParseSeconds(""));
  EXPECT_FALSE(ParseSeconds("1s"));
  EXPECT_FALSE(ParseSeconds("inf"));
}

}  // namespace
}  // namespace il::mock
