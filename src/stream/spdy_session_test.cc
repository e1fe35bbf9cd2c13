#include "stream/spdy_session.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "stream/fd_stream.h"

namespace il::stream {
namespace {

// The client side of a SPDY connection, written with the framing functions.
class TestClient {
 public:
  explicit TestClient(http::ByteStream& s) : s_(s) {}
  void Open(uint32_t id, const SpdyHeaders& h, bool fin = false) {
    auto z = comp_.Compress(EncodeHeaderBlock(h));
    ASSERT_TRUE(z.ok());
    ASSERT_TRUE(s_.Write(SpdySynStream(id, *z, fin)));
  }
  SpdyFrame Next() {
    char buf[4096];
    for (;;) {
      auto f = DecodeSpdyFrame(&buf_, 1 << 24);
      EXPECT_TRUE(f.ok());
      if (f.ok() && f->has_value()) return std::move(**f);
      size_t n = s_.Read(buf, sizeof(buf));
      if (n == 0) return SpdyFrame{true, SpdyType::kGoAway, 0, 0xff, ""};
      buf_.append(buf, n);
    }
  }
  http::ByteStream& s_;
  HeaderCompressor comp_;
  std::string buf_;
};

TEST(SpdySession, RepliesToStreamsDeliversDataAndEchoesPings) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  FdStream server_end(fds[0]), client_end(fds[1]);
  SpdySession session(server_end);
  std::shared_ptr<SpdyStream> got;
  std::mutex mu;
  std::condition_variable cv;
  std::thread serve([&] {
    session.Serve([&](std::shared_ptr<SpdyStream> s) {
      std::lock_guard lock(mu);
      if (s->header("streamtype") == "bogus") return false;
      got = std::move(s);
      cv.notify_all();
      return true;
    });
  });
  TestClient c(client_end);
  c.Open(1, {{"streamtype", "stdin"}});
  SpdyFrame reply = c.Next();
  ASSERT_TRUE(reply.control);
  EXPECT_EQ(reply.type, SpdyType::kSynReply);
  EXPECT_EQ(ReadU32(reply.payload, 0), 1u);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return got != nullptr; });
  }
  ASSERT_TRUE(client_end.Write(SpdyDataFrame(1, "hello", false)));
  ASSERT_TRUE(client_end.Write(SpdyDataFrame(1, "", true)));
  EXPECT_EQ(got->Read(), "hello");
  EXPECT_EQ(got->Read(), std::nullopt);  // FIN

  ASSERT_TRUE(client_end.Write(SpdyPing(1)));
  SpdyFrame pong = c.Next();
  EXPECT_EQ(pong.type, SpdyType::kPing);
  EXPECT_EQ(ReadU32(pong.payload, 0), 1u);

  // A stream the handler refuses is reset.
  c.Open(3, {{"streamtype", "bogus"}});
  EXPECT_EQ(c.Next().type, SpdyType::kSynReply);
  SpdyFrame rst = c.Next();
  EXPECT_EQ(rst.type, SpdyType::kRstStream);

  ASSERT_TRUE(got->Write("out"));
  got->Finish();
  SpdyFrame data = c.Next();
  EXPECT_FALSE(data.control);
  EXPECT_EQ(data.payload, "out");
  SpdyFrame fin = c.Next();
  EXPECT_EQ(fin.flags & kSpdyFlagFin, kSpdyFlagFin);

  session.GoAwayAndClose();
  serve.join();
  EXPECT_EQ(c.Next().type, SpdyType::kGoAway);
}

TEST(SpdySession, ConnectionEndEndsEveryStream) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  FdStream server_end(fds[0]), client_end(fds[1]);
  SpdySession session(server_end);
  std::shared_ptr<SpdyStream> got;
  std::thread serve([&] {
    session.Serve([&](std::shared_ptr<SpdyStream> s) {
      got = std::move(s);
      return true;
    });
  });
  TestClient c(client_end);
  c.Open(1, {{"streamtype", "error"}});
  c.Next();
  client_end.Close();
  serve.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->Read(), std::nullopt);
}

}  // namespace
}  // namespace il::stream
