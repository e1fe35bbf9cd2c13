#include "sidecars/mock/mock_exec.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <mutex>

namespace il::mock {
namespace {

// The caller's side: scripted input, then "gone" (Read returns nullopt).
class Script : public api::Channels {
 public:
  std::deque<api::ChannelMessage> in;
  std::map<uint8_t, std::string> out;
  std::optional<api::ChannelMessage> Read() override {
    std::lock_guard lock(mu_);
    if (in.empty()) return std::nullopt;
    auto m = in.front();
    in.pop_front();
    return m;
  }
  bool Write(uint8_t ch, std::string_view d) override {
    std::lock_guard lock(mu_);
    out[ch].append(d);
    return true;
  }
  void CancelRead() override {}

 private:
  std::mutex mu_;
};

api::ExecRequest Cmd(std::vector<std::string> argv, bool tty = false) {
  api::ExecRequest r;
  r.command = std::move(argv);
  r.stdout = true;
  r.stdin = true;
  r.tty = tty;
  r.stderr = !tty;
  return r;
}

const std::string kEof(1, '\0');

TEST(MockExec, EchoPrintsItsArguments) {
  MockStreams m;
  Script io;
  auto code = m.Exec({}, Cmd({"echo", "hi", "there"}), io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(io.out[1], "hi there\n");
}

TEST(MockExec, WcCountsStdinUntilItCloses) {
  MockStreams m;
  Script io;
  io.in = {{0, "abc"}, {0, "de"}, {255, kEof}};
  auto code = m.Exec({}, Cmd({"wc", "-c"}), io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(io.out[1], "5\n");
}

TEST(MockExec, ShellExitCodeIsReturned) {
  MockStreams m;
  Script io;
  auto code = m.Exec({}, Cmd({"sh", "-c", "exit 7"}), io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 7);
}

TEST(MockExec, UnknownCommandIs127OnStderr) {
  MockStreams m;
  Script io;
  auto code = m.Exec({}, Cmd({"nope"}), io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 127);
  EXPECT_NE(io.out[2].find("command not found"), std::string::npos);
}

TEST(MockExec, TtyShellAnswersSttySizeWithTheLatestResize) {
  MockStreams m;
  Script io;
  io.in = {{4, R"({"Width":120,"Height":40})"}, {0, "stty size\r"}, {0, "exit 3\r"}};
  auto code = m.Exec({}, Cmd({"sh"}, true), io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 3);
  EXPECT_NE(io.out[1].find("40 120\r\n"), std::string::npos);
}

TEST(MockExec, AttachTicksUntilTheCallerLeaves) {
  MockStreams m({std::chrono::milliseconds(1), "127.0.0.1"});
  Script io;
  api::ExecRequest r;
  r.attach = true;
  r.stdout = true;
  auto code = m.Exec({}, r, io);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(io.out[1].rfind("tick 1\n", 0), 0u);
}

}  // namespace
}  // namespace il::mock
