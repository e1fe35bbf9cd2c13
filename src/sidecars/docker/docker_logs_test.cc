#include "sidecars/docker/docker_logs.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::docker {
namespace {

api::ContainerLogOpts Opts() { return {}; }

TEST(LogsRequest, TranslatesKubeletOptions) {
  auto now = *api::ParseRfc3339("2024-05-01T10:00:00Z");
  auto o = Opts();
  auto q = LogsRequest(o, now);
  EXPECT_FALSE(q.follow);
  EXPECT_TRUE(q.timestamps);  // merged by time
  EXPECT_EQ(q.tail, "");
  EXPECT_EQ(q.since, "");
  o.tail = 5;
  o.since_seconds = 60;
  q = LogsRequest(o, now);
  EXPECT_EQ(q.tail, "5");
  EXPECT_EQ(q.since, "1714557540.000000000");
  o = Opts();
  o.follow = true;
  q = LogsRequest(o, now);
  EXPECT_TRUE(q.follow);
  EXPECT_FALSE(q.timestamps);
  o.timestamps = true;
  o.since_time = "2024-05-01T09:00:00.5Z";
  q = LogsRequest(o, now);
  EXPECT_TRUE(q.timestamps);
  EXPECT_EQ(q.since, "1714554000.500000000");
}

TEST(MergeDockerLogs, InterleavesStdoutAndStderrByTime) {
  std::string out = "2024-05-01T10:00:00.1Z out1\n2024-05-01T10:00:00.3Z out2 with  spaces\n";
  std::string err = "2024-05-01T10:00:00.2Z err1\n";
  auto now = *api::ParseRfc3339("2024-05-01T10:00:10Z");
  EXPECT_EQ(MergeDockerLogs(out, err, Opts(), now), "out1\nerr1\nout2 with  spaces\n");
  auto o = Opts();
  o.timestamps = true;
  EXPECT_EQ(MergeDockerLogs(out, err, o, now),
            "2024-05-01T10:00:00.100000000Z out1\n2024-05-01T10:00:00.200000000Z err1\n"
            "2024-05-01T10:00:00.300000000Z out2 with  spaces\n");
  o = Opts();
  o.tail = 1;
  EXPECT_EQ(MergeDockerLogs(out, err, o, now), "out2 with  spaces\n");
  o = Opts();
  o.limit_bytes = 7;
  EXPECT_EQ(MergeDockerLogs(out, err, o, now), "out1\ner");
}

// A followed stream delivering `chunks` (stream, bytes) as DockerApi::Logs would.
struct FakeStreams {
  std::vector<std::pair<int, std::string>> chunks;
  LogSource source() const {
    return [this](const StreamDemuxer::Sink& out, const std::function<bool()>& stop) {
      for (const auto& [s, c] : chunks) {
        if (stop && stop()) return Status::Ok();
        if (!out(s, c)) return Status::Ok();
      }
      return Status::Ok();
    };
  }
};

class StringSink : public api::LogSink {
 public:
  std::string data;
  int writes_until_gone = -1;  // the reader leaves after that many writes
  bool Write(std::string_view c) override {
    data.append(c);
    return writes_until_gone < 0 || --writes_until_gone > 0;
  }
  bool Gone() override { return writes_until_gone == 0; }
};

TEST(FollowLogs, CopiesWholeLinesAsTheyArrive) {
  FakeStreams fs;
  fs.chunks = {{1, "a"}, {2, "err line\n"}, {1, "b\nc"}, {1, "\n"}, {1, "partial"}};
  StringSink sink;
  ASSERT_TRUE(FollowLogs(fs.source(), Opts(), sink).ok());
  EXPECT_EQ(sink.data, "err line\nab\nc\npartial");
}

TEST(FollowLogs, StopsAtLimitBytes) {
  FakeStreams fs;
  fs.chunks = {{1, "12345\n"}, {1, "67890\n"}, {1, "never\n"}};
  StringSink sink;
  auto o = Opts();
  o.limit_bytes = 8;
  ASSERT_TRUE(FollowLogs(fs.source(), o, sink).ok());
  EXPECT_EQ(sink.data, "12345\n67");
}

TEST(FollowLogs, StopsWhenTheReaderIsGone) {
  FakeStreams fs;
  fs.chunks = {{1, "1\n"}, {1, "2\n"}, {1, "3\n"}};
  StringSink sink;
  sink.writes_until_gone = 1;
  ASSERT_TRUE(FollowLogs(fs.source(), Opts(), sink).ok());
  EXPECT_EQ(sink.data, "1\n");
}

}  // namespace
}  // namespace il::docker
