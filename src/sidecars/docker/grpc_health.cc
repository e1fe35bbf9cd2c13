#include "sidecars/docker/grpc_health.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "core/http.h"
#include "sidecars/docker/netns_dial.h"

namespace il::docker {

namespace {

constexpr size_t kMaxFrame =
    size_t{16} * 1024;  // SETTINGS_MAX_FRAME_SIZE default: we never raise it
constexpr size_t kMaxTotal = size_t{256} * 1024;  // every byte read from the peer
constexpr size_t kMaxService = size_t{8} * 1024;  // keeps the request in one DATA frame
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoAway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};
constexpr uint8_t kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4, kPadded = 0x8,
                  kPriorityFlag = 0x20;

std::string RpcFailed(std::string_view what) {
  return "error: health rpc probe failed: " + std::string(what);
}
Status Failed(std::string_view what) { return Unavailable(RpcFailed(what)); }
Status Malformed(std::string_view what) {
  return Failed("rpc error: code = Internal desc = malformed HTTP/2 response: " +
                std::string(what));
}

uint32_t Be(std::string_view b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

void PutBe(std::string& out, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string f;
  PutBe(f, static_cast<uint32_t>(payload.size()), 3);
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  PutBe(f, stream & 0x7fffffff, 4);
  f.append(payload);
  return f;
}

// An HPACK integer (RFC 7541 §5.1) with an N-bit prefix; `first` holds the high bits.
void PutHpackInt(std::string& out, uint8_t first, int prefix_bits, size_t v) {
  const size_t max = (1u << prefix_bits) - 1;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return;
  }
  out.push_back(static_cast<char>(first | max));
  for (v -= max; v >= 128; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

// "Literal Header Field without Indexing — New Name", both strings raw (no Huffman).
void PutLiteral(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(0x00);
  PutHpackInt(out, 0x00, 7, name.size());
  out.append(name);
  PutHpackInt(out, 0x00, 7, value.size());
  out.append(value);
}

void PutVarint(std::string& out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

// A protobuf varint at `pos`; nullopt when truncated or longer than 10 bytes.
std::optional<uint64_t> Varint(std::string_view b, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70 && pos < b.size(); shift += 7) {
    auto c = static_cast<uint8_t>(b[pos++]);
    v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  return std::nullopt;
}

// Reads whole frames from the peer, bounded in size, total bytes and time.
class FrameReader {
 public:
  FrameReader(int fd, std::chrono::steady_clock::time_point deadline)
      : fd_(fd), deadline_(deadline) {}

  struct Header {
    uint8_t type, flags;
    uint32_t stream;
    std::string payload;
  };

  Status Next(Header& h) {
    IL_RETURN_IF_ERROR(Fill(9));
    uint32_t len = Be(buf_, pos_, 3);
    if (len > kMaxFrame) {
      return Malformed("frame of " + std::to_string(len) + " bytes (max " +
                       std::to_string(kMaxFrame) + "; is it an HTTP/2 server?)");
    }
    h.type = static_cast<uint8_t>(buf_[pos_ + 3]);
    h.flags = static_cast<uint8_t>(buf_[pos_ + 4]);
    h.stream = Be(buf_, pos_ + 5, 4) & 0x7fffffff;
    IL_RETURN_IF_ERROR(Fill(9 + len));
    h.payload = buf_.substr(pos_ + 9, len);
    pos_ += 9 + len;
    return Status::Ok();
  }

 private:
  Status Fill(size_t n) {
    while (buf_.size() - pos_ < n) {
      if (read_ >= kMaxTotal) return Malformed("more than 256 KiB without an answer");
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (r == 0) return Status(StatusCode::kDeadlineExceeded, "deadline");
      if (r < 0 && errno == EINTR) continue;
      char chunk[4096];
      ssize_t got = ::recv(fd_, chunk, std::min(sizeof(chunk), kMaxTotal - read_), 0);
      if (got == 0) return Failed("rpc error: code = Unavailable desc = connection closed");
      if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return Failed(std::string("rpc error: code = Unavailable desc = read: ") + strerror(errno));
      }
      read_ += static_cast<size_t>(got);
      if (pos_ > 0) buf_.erase(0, std::exchange(pos_, 0));
      buf_.append(chunk, static_cast<size_t>(got));
    }
    return Status::Ok();
  }

  int fd_;
  std::chrono::steady_clock::time_point deadline_;
  std::string buf_;
  size_t pos_ = 0, read_ = 0;
};

// The content of a DATA or HEADERS frame: without its padding (and HEADERS' priority field).
Result<std::string> Unpadded(const FrameReader::Header& f) {
  std::string_view p = f.payload;
  size_t pad = 0;
  if (f.flags & kPadded) {
    if (p.empty()) return Malformed("a padded frame without its pad length");
    pad = static_cast<uint8_t>(p[0]);
    p.remove_prefix(1);
  }
  if (f.type == kHeaders && (f.flags & kPriorityFlag)) {
    if (p.size() < 5) return Malformed("HEADERS with a short priority field");
    p.remove_prefix(5);
  }
  if (pad > p.size()) return Malformed("padding longer than the frame");
  return std::string(p.substr(0, p.size() - pad));
}

// An HPACK integer with an N-bit prefix; nullopt when truncated or absurdly large.
std::optional<size_t> HpackInt(std::string_view b, size_t& pos, int prefix_bits) {
  if (pos >= b.size()) return std::nullopt;
  const size_t max = (1u << prefix_bits) - 1;
  size_t v = static_cast<uint8_t>(b[pos++]) & max;
  if (v < max) return v;
  for (int shift = 0; shift <= 21 && pos < b.size(); shift += 7) {
    auto c = static_cast<uint8_t>(b[pos++]);
    v += static_cast<size_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  return std::nullopt;
}

struct Trailers {
  std::optional<int> status;  // grpc-status, when it was a plain literal
  std::string message;        // grpc-message, likewise
};

// Best effort, without a decoder: walks the representations of a header block and keeps
// grpc-status/grpc-message when both name and value are raw literals (no Huffman, no index).
void ScanLiterals(std::string_view b, Trailers& t) {
  size_t pos = 0;
  while (pos < b.size()) {
    auto c = static_cast<uint8_t>(b[pos]);
    if (c & 0x80 || (c & 0xe0) == 0x20) {  // indexed field, or a table size update
      if (!HpackInt(b, pos, c & 0x80 ? 7 : 5)) return;
      continue;
    }
    auto index = HpackInt(b, pos, (c & 0x40) ? 6 : 4);
    if (!index) return;
    std::string_view str[2];
    bool raw[2] = {false, false};
    for (int i = *index == 0 ? 0 : 1; i < 2; ++i) {
      if (pos >= b.size()) return;
      raw[i] = !(static_cast<uint8_t>(b[pos]) & 0x80);
      auto len = HpackInt(b, pos, 7);
      if (!len || *len > b.size() - pos) return;
      str[i] = b.substr(pos, *len);
      pos += *len;
    }
    if (!raw[0] || !raw[1]) continue;
    if (str[0] == "grpc-status" && !str[1].empty() && str[1].size() <= 3 &&
        str[1].find_first_not_of("0123456789") == std::string_view::npos) {
      t.status = std::stoi(std::string(str[1]));
    } else if (str[0] == "grpc-message") {
      t.message = http::UrlDecode(str[1].substr(0, 1024));  // grpc-message is percent-encoded
    }
  }
}

std::string CodeName(int code) {
  static const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code >= 0 && code < 17) return kNames[code];
  return "Code(" + std::to_string(code) + ")";
}

std::string ServingStatusName(uint64_t s) {
  static const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  return s < 4 ? kNames[s] : std::to_string(s);
}

// The verdict once stream 1 has ended.
Status Verdict(std::string_view data, const Trailers& t) {
  if (t.status && *t.status == 12) {
    return Unavailable(
        "error: this server does not implement the grpc health protocol "
        "(grpc.health.v1.Health): " +
        t.message);
  }
  if (t.status && *t.status != 0) {
    return Failed("rpc error: code = " + CodeName(*t.status) + " desc = " + t.message);
  }
  if (data.empty()) return Failed("rpc error: the server answered without a health status");
  if (data.size() < 5) return Malformed("a gRPC message shorter than its prefix");
  if (data[0] != 0) return Failed("rpc error: code = Internal desc = a compressed response");
  uint32_t len = Be(data, 1, 4);
  if (len > data.size() - 5) return Malformed("a gRPC message longer than its DATA");
  std::string_view msg = data.substr(5, len);
  uint64_t status = 0;  // proto3: an absent field is UNKNOWN
  for (size_t pos = 0; pos < msg.size();) {
    auto key = Varint(msg, pos);
    auto bad =
        Failed("rpc error: code = Internal desc = grpc: failed to unmarshal the received message");
    if (!key) return bad;
    uint64_t wire = *key & 7, skip = 0;
    if (wire == 0) {
      auto v = Varint(msg, pos);
      if (!v) return bad;
      if ((*key >> 3) == 1) status = *v;
    } else if (wire == 1 || wire == 5) {
      skip = wire == 1 ? 8 : 4;
    } else if (wire == 2) {
      auto l = Varint(msg, pos);
      if (!l) return bad;
      skip = *l;
    } else {
      return bad;
    }
    if (skip > msg.size() - pos) return bad;
    pos += skip;
  }
  if (status == 1) return Status::Ok();
  return FailedPrecondition("service unhealthy (responded with \"" + ServingStatusName(status) +
                            "\")");
}

}  // namespace

std::string GoDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string frac = std::to_string(ms % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  while (frac.back() == '0') frac.pop_back();
  return std::to_string(ms / 1000) + "." + frac + "s";
}

std::string GrpcHealthRequest(const std::string& authority, const std::string& service) {
  std::string headers;
  PutLiteral(headers, ":method", "POST");
  PutLiteral(headers, ":scheme", "http");
  PutLiteral(headers, ":path", "/grpc.health.v1.Health/Check");
  PutLiteral(headers, ":authority", authority);
  PutLiteral(headers, "content-type", "application/grpc");
  PutLiteral(headers, "te", "trailers");
  PutLiteral(headers, "user-agent", "kube-probe/1.20");
  std::string request;  // HealthCheckRequest: field 1 (string), omitted when empty (proto3)
  if (!service.empty()) {
    request.push_back(0x0a);
    PutVarint(request, service.size());
    request += service;
  }
  std::string message(1, '\0');  // not compressed
  PutBe(message, static_cast<uint32_t>(request.size()), 4);
  message += request;
  return std::string(kPreface) + Frame(kSettings, 0, 0, "") +
         Frame(kHeaders, kEndHeaders, 1, headers) + Frame(kData, kEndStream, 1, message);
}

namespace {

// One call on a fresh connection: the request, then frames until stream 1 ends.
class HealthCall {
 public:
  HealthCall(int fd, std::chrono::steady_clock::time_point deadline)
      : fd_(fd), deadline_(deadline), reader_(fd, deadline) {}

  // kDeadlineExceeded (any text) when the deadline passed.
  Status Run(const std::string& authority, const std::string& service) {
    if (service.size() > kMaxService) return Failed("the service name is longer than 8 KiB");
    IL_RETURN_IF_ERROR(Send(GrpcHealthRequest(authority, service)));
    for (bool ended = false; !ended;) {
      FrameReader::Header f;
      IL_RETURN_IF_ERROR(reader_.Next(f));
      IL_ASSIGN_OR_RETURN(ended, Handle(f));
    }
    return Verdict(data_, trailers_);
  }

 private:
  Status Send(std::string_view bytes) {
    Status s = WriteAll(fd_, bytes, deadline_);
    if (s.ok() || s.code() == StatusCode::kDeadlineExceeded) return s;
    return Failed("rpc error: code = Unavailable desc = " + s.message());
  }

  // True once stream 1 has ended.
  Result<bool> Handle(const FrameReader::Header& f) {
    if (block_ && f.type != kContinuation) return Malformed("a header block cut short");
    const bool ours = f.stream == 1;
    switch (f.type) {
      case kData: {
        if (!ours) return Malformed("DATA on stream " + std::to_string(f.stream));
        IL_ASSIGN_OR_RETURN(std::string d, Unpadded(f));
        data_ += d;
        return (f.flags & kEndStream) != 0;
      }
      case kHeaders: {
        if (!ours) return Malformed("HEADERS on stream " + std::to_string(f.stream));
        IL_ASSIGN_OR_RETURN(block_, Unpadded(f));
        block_ends_stream_ = f.flags & kEndStream;
        return EndOfBlock(f.flags);
      }
      case kContinuation:
        if (!block_ || !ours) return Malformed("CONTINUATION without HEADERS");
        *block_ += f.payload;
        return EndOfBlock(f.flags);
      case kRstStream:
        if (f.payload.size() != 4) return Malformed("RST_STREAM of the wrong size");
        if (!ours) return false;
        return Failed(
            "rpc error: code = Internal desc = stream terminated by RST_STREAM with error "
            "code: " +
            std::to_string(Be(f.payload, 0, 4)));
      case kSettings:
        if (f.stream != 0 || f.payload.size() % 6 != 0) return Malformed("bad SETTINGS");
        if (!(f.flags & kAck)) IL_RETURN_IF_ERROR(Send(Frame(kSettings, kAck, 0, "")));
        return false;
      case kPing:
        if (f.stream != 0 || f.payload.size() != 8) return Malformed("bad PING");
        if (!(f.flags & kAck)) IL_RETURN_IF_ERROR(Send(Frame(kPing, kAck, 0, f.payload)));
        return false;
      case kGoAway:
        return GoAway(f);
      case kPushPromise:
        return Malformed("PUSH_PROMISE");
      default:  // PRIORITY, WINDOW_UPDATE, unknown extension frames: ignored (RFC 9113 §4.1)
        return false;
    }
  }

  Result<bool> EndOfBlock(uint8_t flags) {
    if (!(flags & kEndHeaders)) return false;
    ScanLiterals(*block_, trailers_);
    block_.reset();
    return block_ends_stream_;
  }

  Result<bool> GoAway(const FrameReader::Header& f) {
    if (f.stream != 0 || f.payload.size() < 8) return Malformed("bad GOAWAY");
    uint32_t last = Be(f.payload, 0, 4) & 0x7fffffff, code = Be(f.payload, 4, 4);
    if (last >= 1 && code == 0) return false;  // graceful, and stream 1 will still be answered
    return Failed("rpc error: code = Unavailable desc = the server sent GOAWAY (error code: " +
                  std::to_string(code) + ")");
  }

  int fd_;
  std::chrono::steady_clock::time_point deadline_;
  FrameReader reader_;
  std::string data_;
  Trailers trailers_;
  std::optional<std::string> block_;  // a header block waiting for its CONTINUATION
  bool block_ends_stream_ = false;
};

}  // namespace

Status GrpcHealthCheck(int fd, const std::string& authority, const std::string& service,
                       std::chrono::steady_clock::time_point deadline,
                       std::chrono::milliseconds timeout) {
  HealthCall call(fd, deadline);
  Status s = call.Run(authority, service);
  if (s.code() == StatusCode::kDeadlineExceeded) {
    return Status(StatusCode::kDeadlineExceeded,
                  "timeout: health rpc did not complete within " + GoDuration(timeout));
  }
  return s;
}

}  // namespace il::docker
