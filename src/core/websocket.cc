#include "core/websocket.h"

#include <openssl/sha.h>

#include <cstring>

#include "core/base64.h"
#include "core/http.h"

namespace il::http {

namespace {

int64_t NowTicks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

bool HasToken(const std::string& value, std::string_view token) {
  std::string v;
  for (char c : value) v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return v.find(token) != std::string::npos;
}

}  // namespace

std::string WebSocketAccept(std::string_view key) {
  std::string s(key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

bool IsWebSocketUpgrade(const Headers& headers) {
  return HasToken(headers.Get("Connection"), "upgrade") &&
         HasToken(headers.Get("Upgrade"), "websocket");
}

std::string EncodeWsFrame(WsOpcode op, std::string_view payload, bool fin, bool mask,
                          uint32_t mask_seed) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(op)));
  const uint8_t mbit = mask ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mbit | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(mbit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  char key[4];
  for (int i = 0; i < 4; ++i) key[i] = static_cast<char>((mask_seed >> (8 * (3 - i))) & 0xff);
  out.append(key, 4);
  size_t base = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out[base + i] ^= key[i % 4];
  return out;
}

Result<std::optional<WsFrame>> DecodeWsFrame(std::string* buffer, size_t max_payload) {
  const std::string& b = *buffer;
  if (b.size() < 2) return std::optional<WsFrame>();
  const uint8_t b0 = static_cast<uint8_t>(b[0]), b1 = static_cast<uint8_t>(b[1]);
  if (b0 & 0x70) return InvalidArgument("websocket: reserved bits set (no extension agreed)");
  WsFrame f;
  f.fin = (b0 & 0x80) != 0;
  uint8_t op = b0 & 0x0f;
  if (op != 0 && op != 1 && op != 2 && op != 8 && op != 9 && op != 10)
    return InvalidArgument("websocket: unknown opcode " + std::to_string(op));
  f.opcode = static_cast<WsOpcode>(op);
  const bool masked = (b1 & 0x80) != 0;
  uint64_t n = b1 & 0x7f;
  size_t pos = 2;
  if (n == 126) {
    if (b.size() < 4) return std::optional<WsFrame>();
    n = (uint64_t(uint8_t(b[2])) << 8) | uint8_t(b[3]);
    pos = 4;
  } else if (n == 127) {
    if (b.size() < 10) return std::optional<WsFrame>();
    n = 0;
    for (int i = 0; i < 8; ++i) n = (n << 8) | uint8_t(b[2 + i]);
    pos = 10;
  }
  if (op >= 8 && (n > 125 || !f.fin))
    return InvalidArgument("websocket: control frame too large or fragmented");
  if (n > max_payload) return InvalidArgument("websocket: frame exceeds the message limit");
  size_t need = pos + (masked ? 4 : 0) + n;
  if (b.size() < need) return std::optional<WsFrame>();
  char key[4] = {0, 0, 0, 0};
  if (masked) {
    std::memcpy(key, b.data() + pos, 4);
    pos += 4;
  }
  f.payload.assign(b, pos, n);
  if (masked) {
    for (size_t i = 0; i < f.payload.size(); ++i) f.payload[i] ^= key[i % 4];
  }
  buffer->erase(0, need);
  return std::optional<WsFrame>(std::move(f));
}

WebSocket::WebSocket(ByteStream& stream, Role role, size_t max_message)
    : stream_(stream), role_(role), max_message_(max_message), last_activity_(NowTicks()) {}

void WebSocket::Touch() { last_activity_ = NowTicks(); }

std::chrono::steady_clock::time_point WebSocket::last_activity() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_activity_.load()));
}

bool WebSocket::WriteFrame(WsOpcode op, std::string_view payload) {
  MutexLock lock(write_mu_);
  if (close_sent_) return false;
  if (op == WsOpcode::kClose) close_sent_ = true;
  seed_ = seed_ * 1664525u + 1013904223u;
  Touch();
  return stream_.Write(EncodeWsFrame(op, payload, true, role_ == Role::kClient, seed_));
}

bool WebSocket::Send(bool binary, std::string_view data) {
  return WriteFrame(binary ? WsOpcode::kBinary : WsOpcode::kText, data);
}

void WebSocket::SendClose(uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  p.append(reason.substr(0, 120));
  WriteFrame(WsOpcode::kClose, p);
}

std::optional<WsMessage> WebSocket::Read() {
  std::optional<WsMessage> msg;
  char buf[64 * 1024];
  for (;;) {
    auto frame = DecodeWsFrame(&inbuf_, max_message_);
    if (!frame.ok()) {
      SendClose(1002, frame.status().message());
      return std::nullopt;
    }
    if (!frame->has_value()) {
      size_t n = stream_.Read(buf, sizeof(buf));
      if (n == 0) return std::nullopt;
      Touch();
      inbuf_.append(buf, n);
      continue;
    }
    WsFrame f = std::move(**frame);
    switch (f.opcode) {
      case WsOpcode::kPing:
        WriteFrame(WsOpcode::kPong, f.payload);
        continue;
      case WsOpcode::kPong:
        continue;
      case WsOpcode::kClose:
        SendClose(1000);
        return std::nullopt;
      case WsOpcode::kContinuation:
        if (!msg) {
          SendClose(1002, "continuation without a message");
          return std::nullopt;
        }
        msg->data += f.payload;
        break;
      default:
        if (msg) {
          SendClose(1002, "new message inside a fragmented one");
          return std::nullopt;
        }
        msg = WsMessage{f.opcode == WsOpcode::kBinary, std::move(f.payload)};
    }
    if (msg->data.size() > max_message_) {
      SendClose(1009, "message too big");
      return std::nullopt;
    }
    if (f.fin) return msg;
  }
}

}  // namespace il::http
