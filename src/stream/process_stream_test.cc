#include "stream/process_stream.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>

#include "core/mutex.h"

namespace il::stream {
namespace {

// Channels with a scripted caller side: Read hands out `input`, then reports the caller
// gone; what the process writes is collected per channel.
class ScriptedChannels : public api::Channels {
 public:
  explicit ScriptedChannels(std::deque<api::ChannelMessage> input) : input_(std::move(input)) {}
  std::optional<api::ChannelMessage> Read() override {
    MutexLock l(mu_);
    if (input_.empty()) {
      // Stay "connected" until the process ends (CancelRead), like a real caller.
      while (!cancelled_) cancel_cv_.Wait(mu_);
      return std::nullopt;
    }
    auto m = std::move(input_.front());
    input_.pop_front();
    return m;
  }
  bool Write(uint8_t channel, std::string_view data) override {
    MutexLock l(mu_);
    out_[channel] += data;
    return true;
  }
  void CancelRead() override {
    MutexLock l(mu_);
    cancelled_ = true;
    cancel_cv_.NotifyAll();
  }
  std::string Out(uint8_t channel) {
    MutexLock l(mu_);
    return out_[channel];
  }

 private:
  Mutex mu_;
  std::deque<api::ChannelMessage> input_ IL_GUARDED_BY(mu_);
  std::map<uint8_t, std::string> out_ IL_GUARDED_BY(mu_);
  CondVar cancel_cv_;
  bool cancelled_ IL_GUARDED_BY(mu_) = false;
};

api::ChannelMessage Msg(uint8_t ch, std::string data) {
  api::ChannelMessage m;
  m.channel = ch;
  m.data = std::move(data);
  return m;
}

TEST(RunProcessStream, PipesStdinToTheProcessAndItsOutputBack) {
  ScriptedChannels io(
      {Msg(api::kChanStdin, "hello\n"), Msg(api::kChanClose, std::string(1, '\0'))});
  auto code = RunProcessStream({"sh", "-c", "cat; echo err >&2; exit 4"}, false, io);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 4);
  EXPECT_EQ(io.Out(api::kChanStdout), "hello\n");
  EXPECT_EQ(io.Out(api::kChanStderr), "err\n");
}

TEST(RunProcessStream, TtyIsTheControllingTerminal) {
  ScriptedChannels io({});
  // `tty` names the terminal on stdin; /dev/tty opens only with a controlling terminal.
  auto code = RunProcessStream({"sh", "-c", "tty && : </dev/tty && echo ctty"}, true, io);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << io.Out(api::kChanStdout);
  EXPECT_NE(io.Out(api::kChanStdout).find("/dev/pts/"), std::string::npos);
  EXPECT_NE(io.Out(api::kChanStdout).find("ctty"), std::string::npos);
}

TEST(RunProcessStream, MissingProgramIsAnError) {
  ScriptedChannels io({});
  auto code = RunProcessStream({"/nonexistent/program"}, false, io);
  EXPECT_FALSE(code.ok());
}

}  // namespace
}  // namespace il::stream
