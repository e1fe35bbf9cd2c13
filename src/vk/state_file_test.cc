#include "vk/state_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace il::vk {
namespace {

TEST(StateFile, RemembersPodsAcrossReopenAndIgnoresATornLine) {
  char dir[] = "/tmp/vk-state-test-XXXXXX";
  std::string path = std::string(::mkdtemp(dir)) + "/sub/state";
  {
    StateFile s;
    ASSERT_TRUE(s.Open(path).ok());
    s.Add("u1", "ns", "a");
    s.Add("u2", "ns", "b");
    s.Remove("u1");
  }
  { std::ofstream(path, std::ios::app) << "+ u3 ns"; }  // torn write from a kill -9
  StateFile s;
  ASSERT_TRUE(s.Open(path).ok());
  auto e = s.Entries();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e.at("u2").name, "b");
  std::filesystem::remove_all(dir);
}

TEST(StateFile, DisabledIsANoOp) {
  StateFile s;
  s.Add("u", "ns", "n");
  EXPECT_TRUE(s.Entries().empty());
}

}  // namespace
}  // namespace il::vk
