#include "vk/kubelet_stream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>

#include "core/base64.h"
#include "core/http_client.h"
#include "core/http_server.h"
#include "core/websocket.h"
#include "stream/fd_stream.h"
#include "stream/spdy_frame.h"
#include "stream/ws_channels.h"

namespace il::vk {
namespace {

TEST(KubeletStream, ParsesExecAttachAndPortForwardPaths) {
  auto e = ParseStreamPath("/exec/ns/pod/c");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ns, "ns");
  EXPECT_EQ(e->pod, "pod");
  EXPECT_EQ(e->container, "c");
  EXPECT_EQ(e->uid, "");
  auto u = ParseStreamPath("/attach/ns/pod/uid-1/c");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, "uid-1");
  EXPECT_EQ(u->container, "c");
  auto pf = ParseStreamPath("/portForward/ns/pod");
  ASSERT_TRUE(pf.ok());
  EXPECT_EQ(pf->container, "");
  EXPECT_FALSE(ParseStreamPath("/exec/ns/pod").ok());
  EXPECT_FALSE(ParseStreamPath("/exec/ns//c").ok());
  EXPECT_FALSE(ParseStreamPath("/portForward/ns").ok());
}

TEST(KubeletStream, ExecQueryKeepsRepeatedCommandsAndDropsStderrWithTty) {
  auto r = ParseExecQuery(
      "/exec/a/b/c?command=sh&command=-c&command=echo%20hi&error=1&input=1&"
      "output=1&tty=1",
      false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_TRUE(r->stdin && r->stdout && r->tty);
  EXPECT_FALSE(r->stderr);
}

TEST(KubeletStream, ExecQueryNeedsAStreamAndACommand) {
  EXPECT_FALSE(ParseExecQuery("/exec/a/b/c?command=ls", false).ok());
  EXPECT_FALSE(ParseExecQuery("/exec/a/b/c?output=1", false).ok());
  EXPECT_TRUE(ParseExecQuery("/attach/a/b/c?output=1", true).ok());
}

TEST(KubeletStream, NegotiationFollowsTheClientsOrder) {
  http::Headers h;
  h.Add("X-Stream-Protocol-Version", "v5.channel.k8s.io");
  h.Add("X-Stream-Protocol-Version", "v4.channel.k8s.io");
  h.Add("X-Stream-Protocol-Version", "v3.channel.k8s.io");
  std::vector<std::string> ours = {"v3.channel.k8s.io", "v4.channel.k8s.io"};
  EXPECT_EQ(NegotiateProtocol(h, ours), "v4.channel.k8s.io");
  http::Headers commas;
  commas.Add("X-Stream-Protocol-Version", "v9, v3.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol(commas, ours), "v3.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol(http::Headers{}, ours), "");
}

// --- exec end to end on loopback: a kubectl-like SPDY client and a WebSocket client ---

// Copies stdin to stdout until stdin ends, then exits 3.
class CatBackend : public api::StreamBackend {
 public:
  Result<int> Exec(const api::CallContext&, const api::ExecRequest& r, api::Channels& io) override {
    command = r.command;
    while (auto m = io.Read()) {
      if (m->channel == api::kChanClose) break;
      if (m->channel == api::kChanStdin && m->data == "quit") break;
      if (m->channel == api::kChanStdin) io.Write(api::kChanStdout, m->data);
    }
    return 3;
  }
  Status PortForward(const api::CallContext&, const api::PortForwardRequest&,
                     api::Channels&) override {
    return Unavailable("no");
  }
  std::vector<std::string> command;
};

class StreamsOnLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pod = boost::json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u1"},
      "spec":{"nodeName":"vk","containers":[{"name":"main","image":"i"}]}})");
    store_.Upsert(pod);
    store_.Update("u1", [](PodRecord& r) { r.backend = BackendState::kCreated; });
    streams_ = std::make_unique<KubeletStreams>(options_, store_, &backend_);
    server_.HandlePrefix("/exec/",
                         [this](const http::Request& r, http::ResponseWriter& w) {
                           streams_->ServeExec(r, w, false);
                         },
                         {4096, true});
    ASSERT_TRUE(server_.Start().ok());
  }
  void TearDown() override { server_.Stop(); }

  StreamingOptions options_;
  PodStore store_;
  CatBackend backend_;
  std::unique_ptr<KubeletStreams> streams_;
  http::HttpServer server_{http::ServerOptions{}};
};

TEST_F(StreamsOnLoopback, SpdyExecCarriesStdinStdoutAndTheExitCode) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server_.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  stream::FdStream conn(fd);
  ASSERT_TRUE(conn.Write(
      "POST /exec/ns/p/main?command=cat&input=1&output=1&error=1 HTTP/1.1\r\nHost: x\r\n"
      "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v5.channel.k8s.io\r\n"
      "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n"));
  std::string buf;
  char chunk[4096];
  while (buf.find("\r\n\r\n") == std::string::npos) {
    size_t n = conn.Read(chunk, sizeof(chunk));
    ASSERT_GT(n, 0u);
    buf.append(chunk, n);
  }
  ASSERT_EQ(buf.rfind("HTTP/1.1 101", 0), 0u) << buf;
  EXPECT_NE(buf.find("v4.channel.k8s.io"), std::string::npos) << buf;
  buf.erase(0, buf.find("\r\n\r\n") + 4);

  stream::HeaderCompressor comp;
  auto next = [&]() -> stream::SpdyFrame {
    for (;;) {
      auto f = stream::DecodeSpdyFrame(&buf, 1 << 24);
      EXPECT_TRUE(f.ok());
      if (f.ok() && f->has_value()) return std::move(**f);
      size_t n = conn.Read(chunk, sizeof(chunk));
      if (n == 0) return stream::SpdyFrame{true, stream::SpdyType::kGoAway, 0, 0xff, ""};
      buf.append(chunk, n);
    }
  };
  const char* types[] = {"error", "stdin", "stdout", "stderr"};
  for (uint32_t i = 0; i < 4; ++i) {
    auto z = comp.Compress(stream::EncodeHeaderBlock({{"streamtype", types[i]}}));
    ASSERT_TRUE(z.ok());
    ASSERT_TRUE(conn.Write(stream::SpdySynStream(1 + 2 * i, *z, false)));
    auto reply = next();
    ASSERT_EQ(reply.type, stream::SpdyType::kSynReply);
  }
  ASSERT_TRUE(conn.Write(stream::SpdyDataFrame(3, "hello", false)));
  ASSERT_TRUE(conn.Write(stream::SpdyDataFrame(3, "", true)));  // end of stdin
  std::map<uint32_t, std::string> got;
  for (;;) {
    auto f = next();
    if (f.control && f.type == stream::SpdyType::kGoAway) break;
    if (!f.control) got[f.stream_id] += f.payload;
  }
  EXPECT_EQ(got[5], "hello");
  EXPECT_NE(got[1].find(R"("reason":"NonZeroExitCode")"), std::string::npos) << got[1];
  EXPECT_NE(got[1].find(R"({"reason":"ExitCode","message":"3"})"), std::string::npos) << got[1];
  EXPECT_EQ(backend_.command, (std::vector<std::string>{"cat"}));
}

// A WebSocket upgrade of `cat` with stdin and stdout, asking for `protocol`.
http::ClientRequest WebSocketExec(const std::string& protocol) {
  http::ClientRequest req;
  req.target = "/exec/ns/p/main?command=cat&input=1&output=1";
  req.headers.Set("Connection", "Upgrade");
  req.headers.Set("Upgrade", "websocket");
  req.headers.Set("Sec-WebSocket-Version", "13");
  req.headers.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  req.headers.Set("Sec-WebSocket-Protocol", protocol);
  return req;
}

TEST_F(StreamsOnLoopback, WebSocketV5ExecWithTheCloseSignal) {
  http::ClientOptions co;
  co.base_url = server_.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  http::ClientRequest req = WebSocketExec("v5.channel.k8s.io");
  auto up = (*client)->Upgrade(req);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->response.status, 101);
  EXPECT_EQ(up->response.headers.Get("Sec-WebSocket-Protocol"), "v5.channel.k8s.io");
  EXPECT_EQ(up->response.headers.Get("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  http::WebSocket ws(*up->stream, http::WebSocket::Role::kClient);
  ASSERT_TRUE(ws.Send(true, std::string("\0hi there", 9)));
  ASSERT_TRUE(ws.Send(true, std::string("\xff\0", 2)));
  std::string out, status;
  while (auto m = ws.Read()) {
    if (m->data.empty()) continue;
    if (m->data[0] == 1) out += m->data.substr(1);
    if (m->data[0] == 3) status += m->data.substr(1);
  }
  EXPECT_EQ(out, "hi there");
  EXPECT_NE(status.find(R"("message":"3")"), std::string::npos) << status;
}

TEST_F(StreamsOnLoopback, WebSocketBase64ExecSpeaksTextFrames) {
  // base64.channel.k8s.io (what non-kubectl clients such as browsers' terminals ask for):
  // text frames, the channel as an ASCII digit, the payload in base64, both ways.
  http::ClientOptions co;
  co.base_url = server_.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  http::ClientRequest req = WebSocketExec("base64.channel.k8s.io");
  auto up = (*client)->Upgrade(req);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->response.status, 101);
  EXPECT_EQ(up->response.headers.Get("Sec-WebSocket-Protocol"), "base64.channel.k8s.io");
  http::WebSocket ws(*up->stream, http::WebSocket::Role::kClient);
  ASSERT_TRUE(ws.Send(false, "0" + Base64Encode(std::string("hi\0there\xff", 9))));
  ASSERT_TRUE(ws.Send(false, "0" + Base64Encode("quit")));
  std::string out, status;
  while (auto m = ws.Read()) {
    if (m->data.empty()) continue;
    EXPECT_FALSE(m->binary);
    auto payload = Base64Decode(std::string_view(m->data).substr(1));
    ASSERT_TRUE(payload.ok()) << m->data;
    if (m->data[0] == '1') out += *payload;
    if (m->data[0] == '3') status += *payload;
  }
  EXPECT_EQ(out, std::string("hi\0there\xff", 9));
  // Version 1 of the protocol: the error channel carries text, not a Status object.
  EXPECT_EQ(status, "command terminated with non-zero exit code: exit status 3");
}

TEST_F(StreamsOnLoopback, NoMatchingSpdyProtocolIs403) {
  http::ClientOptions co;
  co.base_url = server_.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  http::ClientRequest req;
  req.method = "POST";
  req.target = "/exec/ns/p/main?command=ls&output=1";
  req.headers.Set("Connection", "Upgrade");
  req.headers.Set("Upgrade", "SPDY/3.1");
  req.headers.Set("X-Stream-Protocol-Version", "v9.channel.k8s.io");
  auto r = (*client)->Upgrade(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->response.status, 403);
  EXPECT_FALSE(r->response.headers.Get("X-Accepted-Stream-Protocol-Versions").empty());
}

// Timeouts of one second: a client that never opens its streams, and one that goes quiet.
class StreamsWithShortTimeouts : public StreamsOnLoopback {
 protected:
  StreamsWithShortTimeouts() {
    options_.idle_timeout = std::chrono::seconds(1);
    options_.creation_timeout = std::chrono::seconds(1);
  }
  // Reads until the server closes the connection; how long that took.
  static std::chrono::milliseconds UntilClosed(http::ByteStream& conn) {
    auto start = std::chrono::steady_clock::now();
    char buf[4096];
    while (conn.Read(buf, sizeof(buf)) > 0) {
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }
};

TEST_F(StreamsWithShortTimeouts, SpdyClientThatNeverOpensItsStreamsIsDropped) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server_.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  stream::FdStream conn(fd);
  ASSERT_TRUE(conn.Write(
      "POST /exec/ns/p/main?command=cat&input=1&output=1 HTTP/1.1\r\nHost: x\r\n"
      "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
      "Content-Length: 0\r\n\r\n"));
  stream::HeaderCompressor comp;
  auto z = comp.Compress(stream::EncodeHeaderBlock({{"streamtype", "error"}}));
  ASSERT_TRUE(z.ok());
  ASSERT_TRUE(conn.Write(stream::SpdySynStream(1, *z, false)));  // 1 of 3 streams
  EXPECT_LT(UntilClosed(conn), std::chrono::seconds(10));
  EXPECT_TRUE(backend_.command.empty());  // nothing ran
}

TEST_F(StreamsWithShortTimeouts, QuietWebSocketIsClosedAfterTheIdleTimeout) {
  http::ClientOptions co;
  co.base_url = server_.url();
  auto client = http::HttpClient::Create(co);
  ASSERT_TRUE(client.ok());
  http::ClientRequest req;
  req.target = "/exec/ns/p/main?command=cat&input=1&output=1";
  req.headers.Set("Connection", "Upgrade");
  req.headers.Set("Upgrade", "websocket");
  req.headers.Set("Sec-WebSocket-Version", "13");
  req.headers.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  req.headers.Set("Sec-WebSocket-Protocol", "v4.channel.k8s.io");
  auto up = (*client)->Upgrade(req);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->response.status, 101);
  auto took = UntilClosed(*up->stream);
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace il::vk
