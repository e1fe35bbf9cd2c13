#include "core/websocket.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>

#include "core/http.h"

namespace il::http {
namespace {

TEST(WebSocket, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, DetectsUpgradeHeadersCaseInsensitively) {
  Headers h;
  h.Set("Connection", "keep-alive, Upgrade");
  h.Set("Upgrade", "WebSocket");
  EXPECT_TRUE(IsWebSocketUpgrade(h));
  h.Set("Upgrade", "SPDY/3.1");
  EXPECT_FALSE(IsWebSocketUpgrade(h));
}

TEST(WebSocket, FramesRoundTripMaskedAndUnmaskedAtEverySizeClass) {
  for (size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(n, 'x');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7);
    for (bool mask : {false, true}) {
      std::string wire = EncodeWsFrame(WsOpcode::kBinary, payload, true, mask) + "tail";
      auto f = DecodeWsFrame(&wire, 1u << 20);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE(f->has_value());
      EXPECT_EQ((*f)->payload, payload);
      EXPECT_EQ((*f)->opcode, WsOpcode::kBinary);
      EXPECT_EQ(wire, "tail");
    }
  }
}

TEST(WebSocket, PartialFrameWaitsForMoreBytes) {
  std::string wire = EncodeWsFrame(WsOpcode::kText, "hello", true, true);
  std::string part = wire.substr(0, 4);
  auto f = DecodeWsFrame(&part, 100);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
}

TEST(WebSocket, RejectsReservedBitsAndOversizeFrames) {
  std::string wire = EncodeWsFrame(WsOpcode::kBinary, "abc", true, false);
  wire[0] = static_cast<char>(wire[0] | 0x40);
  EXPECT_FALSE(DecodeWsFrame(&wire, 100).ok());
  std::string big = EncodeWsFrame(WsOpcode::kBinary, std::string(200, 'a'), true, false);
  EXPECT_FALSE(DecodeWsFrame(&big, 100).ok());
}

// A ByteStream over in-memory buffers.
class MemoryStream : public ByteStream {
 public:
  std::string in, out;
  size_t Read(char* buf, size_t size) override {
    size_t n = std::min(size, in.size());
    std::memcpy(buf, in.data(), n);
    in.erase(0, n);
    return n;
  }
  bool Write(std::string_view d) override {
    out.append(d);
    return true;
  }
  void ShutdownWrite() override {}
  void Close() override {}
};

TEST(WebSocket, ReadJoinsFragmentsAndAnswersPings) {
  MemoryStream s;
  s.in = EncodeWsFrame(WsOpcode::kBinary, "ab", false, true) +
         EncodeWsFrame(WsOpcode::kPing, "p", true, true) +
         EncodeWsFrame(WsOpcode::kContinuation, "cd", true, true);
  WebSocket ws(s, WebSocket::Role::kServer);
  auto m = ws.Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "abcd");
  std::string out = s.out;
  auto pong = DecodeWsFrame(&out, 100);
  ASSERT_TRUE(pong.ok() && pong->has_value());
  EXPECT_EQ((*pong)->opcode, WsOpcode::kPong);
  EXPECT_EQ((*pong)->payload, "p");
  EXPECT_FALSE(ws.Read());  // end of input
}

TEST(WebSocket, CloseFromPeerIsAnsweredAndEndsRead) {
  MemoryStream s;
  s.in = EncodeWsFrame(WsOpcode::kClose, std::string("\x03\xe8", 2), true, true);
  WebSocket ws(s, WebSocket::Role::kServer);
  EXPECT_FALSE(ws.Read());
  std::string out = s.out;
  auto f = DecodeWsFrame(&out, 100);
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->opcode, WsOpcode::kClose);
}

}  // namespace
}  // namespace il::http
