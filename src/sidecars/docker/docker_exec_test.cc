#include "sidecars/docker/docker_exec.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "sidecars/docker/fake_docker_engine.h"

namespace il::docker {
namespace {

TEST(DockerExec, ExecConfigAttachesStdinOnlyWhenAskedAndMergesStderrOnATty) {
  api::ExecRequest r;
  r.command = {"sh", "-c", "echo hi; rm -rf /"};
  ExecConfig c = ExecConfigOf(r);
  EXPECT_EQ(c.cmd, r.command);  // one argv element each, no shell of ours
  EXPECT_FALSE(c.tty);
  EXPECT_FALSE(c.attach_stdin);
  EXPECT_TRUE(c.attach_stderr);
  r.stdin = r.tty = true;
  c = ExecConfigOf(r);
  EXPECT_TRUE(c.tty);
  EXPECT_TRUE(c.attach_stdin);
  EXPECT_FALSE(c.attach_stderr);  // a TTY has one stream
}

TEST(DockerExec, ContainersAreFoundByTheirLabels) {
  EXPECT_EQ(FindFilters("u1", "web"),
            (json::object{{"label", json::array{"io.kubernetes.pod.uid=u1",
                                                "io.kubernetes.container.name=web"}},
                          {"status", json::array{"running"}}}));
  EXPECT_EQ(FindFilters("u1", "").at("label"), json::array{"io.kubernetes.pod.uid=u1"});
}

// Channels of a caller that sends nothing and records what it receives.
class RecordingChannels : public api::Channels {
 public:
  std::optional<api::ChannelMessage> Read() override {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return cancelled_; });
    return std::nullopt;
  }
  bool Write(uint8_t channel, std::string_view data) override {
    std::lock_guard l(mu_);
    out_[channel].append(data);
    return true;
  }
  void CancelRead() override {
    std::lock_guard l(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  std::string out(uint8_t channel) {
    std::lock_guard l(mu_);
    return out_[channel];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  std::map<uint8_t, std::string> out_;
};

TEST(DockerExec, ExecRunsOverTheApiWithItsOutputAndExitCode) {
  FakeDockerEngine engine;
  engine.AddForeign("il-ns_p_c_u1",
                    {{"io.kubernetes.pod.uid", "u1"}, {"io.kubernetes.container.name", "c"}});
  engine.SetExecResponder([](const std::vector<std::string>& argv) {
    return FakeDockerEngine::ExecResult{argv.back() == "fail" ? 3 : 0, "out\n", "err\n"};
  });
  auto api = DockerApi::Create(DockerEndpoint{engine.url(), {}, ""});
  ASSERT_TRUE(api.ok());
  DockerStreams streams(**api);
  api::ExecRequest r;
  r.pod_uid = "u1";
  r.container = "c";
  r.command = {"sh", "-c", "fail"};
  RecordingChannels io;
  auto code = streams.Exec({}, r, io);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(io.out(api::kChanStdout), "out\n");
  EXPECT_EQ(io.out(api::kChanStderr), "err\n");
  auto call = engine.calls_with("exec").back();  // {"docker", "exec", <id>, argv...}
  EXPECT_EQ(call[2], engine.containers().at("il-ns_p_c_u1").id);
  EXPECT_EQ(std::vector<std::string>(call.begin() + 3, call.end()),
            (std::vector<std::string>{"sh", "-c", "fail"}));
  r.container = "other";
  RecordingChannels none;
  EXPECT_EQ(streams.Exec({}, r, none).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace il::docker
