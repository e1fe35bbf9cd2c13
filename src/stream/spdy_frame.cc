#include "stream/spdy_frame.h"

#include <cctype>

namespace il::stream {

namespace {

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>((v >> 16) & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

std::string ControlFrame(SpdyType type, uint8_t flags, std::string_view body) {
  std::string out;
  out.reserve(8 + body.size());
  out.push_back(static_cast<char>(0x80));
  out.push_back(0x03);
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) >> 8));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) & 0xff));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((body.size() >> 16) & 0xff));
  out.push_back(static_cast<char>((body.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(body.size() & 0xff));
  out.append(body);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

uint32_t ReadU32(std::string_view b, size_t o) {
  return (uint32_t(uint8_t(b[o])) << 24) | (uint32_t(uint8_t(b[o + 1])) << 16) |
         (uint32_t(uint8_t(b[o + 2])) << 8) | uint32_t(uint8_t(b[o + 3]));
}

Result<std::optional<SpdyFrame>> DecodeSpdyFrame(std::string* buffer, size_t max_length) {
  const std::string& b = *buffer;
  if (b.size() < 8) return std::optional<SpdyFrame>();
  size_t length = (size_t(uint8_t(b[5])) << 16) | (size_t(uint8_t(b[6])) << 8) | uint8_t(b[7]);
  if (length > max_length) {
    return InvalidArgument("spdy: frame of " + std::to_string(length) + " bytes is too large");
  }
  if (b.size() < 8 + length) return std::optional<SpdyFrame>();
  SpdyFrame f;
  f.flags = static_cast<uint8_t>(b[4]);
  if (uint8_t(b[0]) & 0x80) {
    f.control = true;
    f.type = static_cast<SpdyType>((uint16_t(uint8_t(b[2])) << 8) | uint8_t(b[3]));
  } else {
    f.stream_id = ReadU32(b, 0) & 0x7fffffff;
    if (f.stream_id == 0) return InvalidArgument("spdy: data frame on stream 0");
  }
  f.payload.assign(b, 8, length);
  buffer->erase(0, 8 + length);
  return std::optional<SpdyFrame>(std::move(f));
}

std::string EncodeHeaderBlock(const SpdyHeaders& headers) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    PutU32(&out, static_cast<uint32_t>(k.size()));
    out += Lower(k);
    PutU32(&out, static_cast<uint32_t>(v.size()));
    out += v;
  }
  return out;
}

Result<SpdyHeaders> DecodeHeaderBlock(std::string_view b) {
  auto bad = [] { return InvalidArgument("spdy: malformed header block"); };
  if (b.size() < 4) return bad();
  uint32_t n = ReadU32(b, 0);
  size_t pos = 4;
  SpdyHeaders out;
  for (uint32_t i = 0; i < n; ++i) {
    std::string kv[2];
    for (auto& s : kv) {
      if (b.size() - pos < 4) return bad();
      uint32_t len = ReadU32(b, pos);
      pos += 4;
      if (b.size() - pos < len) return bad();
      s.assign(b.substr(pos, len));
      pos += len;
    }
    // Several values of one name are joined by NUL bytes.
    size_t start = 0;
    for (;;) {
      size_t nul = kv[1].find('\0', start);
      out.emplace_back(kv[0], kv[1].substr(start, nul - start));
      if (nul == std::string::npos) break;
      start = nul + 1;
    }
  }
  return out;
}

std::string HeaderValue(const SpdyHeaders& headers, std::string_view name) {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (Lower(k) == want) return v;
  }
  return "";
}

HeaderCompressor::HeaderCompressor() {
  ok_ = deflateInit2(&z_, 9, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  if (ok_) {
    auto d = SpdyDictionary();
    ok_ = deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()),
                               static_cast<uInt>(d.size())) == Z_OK;
  }
}
HeaderCompressor::~HeaderCompressor() { deflateEnd(&z_); }

Result<std::string> HeaderCompressor::Compress(std::string_view block) {
  if (!ok_) return Internal("spdy: zlib deflate setup failed");
  std::string out;
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z_.avail_in = static_cast<uInt>(block.size());
  char buf[4096];
  do {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof(buf);
    int rc = deflate(&z_, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Internal("spdy: deflate failed");
    out.append(buf, sizeof(buf) - z_.avail_out);
  } while (z_.avail_out == 0);
  return out;
}

HeaderDecompressor::HeaderDecompressor() { ok_ = inflateInit(&z_) == Z_OK; }
HeaderDecompressor::~HeaderDecompressor() { inflateEnd(&z_); }

Result<std::string> HeaderDecompressor::Decompress(std::string_view in) {
  if (!ok_) return Internal("spdy: zlib inflate setup failed");
  std::string out;
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z_.avail_in = static_cast<uInt>(in.size());
  char buf[4096];
  while (z_.avail_in > 0) {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof(buf);
    int rc = inflate(&z_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      auto d = SpdyDictionary();
      if (inflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()),
                               static_cast<uInt>(d.size())) != Z_OK) {
        return InvalidArgument("spdy: header block uses an unknown dictionary");
      }
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return InvalidArgument("spdy: corrupt header block");
    out.append(buf, sizeof(buf) - z_.avail_out);
    if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;
    if (out.size() > (1u << 20)) return InvalidArgument("spdy: header block too large");
  }
  // Drain output still held back once the input is consumed.
  for (;;) {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof(buf);
    int rc = inflate(&z_, Z_SYNC_FLUSH);
    out.append(buf, sizeof(buf) - z_.avail_out);
    if (rc != Z_OK || z_.avail_out != 0) break;
  }
  return out;
}

std::string SpdyDataFrame(uint32_t stream_id, std::string_view data, bool fin) {
  std::string out;
  out.reserve(8 + data.size());
  PutU32(&out, stream_id & 0x7fffffff);
  out.push_back(static_cast<char>(fin ? kSpdyFlagFin : 0));
  out.push_back(static_cast<char>((data.size() >> 16) & 0xff));
  out.push_back(static_cast<char>((data.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(data.size() & 0xff));
  out.append(data);
  return out;
}

std::string SpdySynReply(uint32_t stream_id, std::string_view block, bool fin) {
  std::string body;
  PutU32(&body, stream_id);
  body.append(block);
  return ControlFrame(SpdyType::kSynReply, fin ? kSpdyFlagFin : 0, body);
}

std::string SpdySynStream(uint32_t stream_id, std::string_view block, bool fin) {
  std::string body;
  PutU32(&body, stream_id);
  PutU32(&body, 0);
  body.push_back(0);
  body.push_back(0);
  body.append(block);
  return ControlFrame(SpdyType::kSynStream, fin ? kSpdyFlagFin : 0, body);
}

std::string SpdyRstStream(uint32_t stream_id, uint32_t status) {
  std::string body;
  PutU32(&body, stream_id);
  PutU32(&body, status);
  return ControlFrame(SpdyType::kRstStream, 0, body);
}

std::string SpdyPing(uint32_t id) {
  std::string body;
  PutU32(&body, id);
  return ControlFrame(SpdyType::kPing, 0, body);
}

std::string SpdyGoAway(uint32_t last_good_stream, uint32_t status) {
  std::string body;
  PutU32(&body, last_good_stream);
  PutU32(&body, status);
  return ControlFrame(SpdyType::kGoAway, 0, body);
}

Result<SynStream> ParseSynStream(std::string_view body) {
  if (body.size() < 10) return InvalidArgument("spdy: short SYN_STREAM");
  SynStream s;
  s.stream_id = ReadU32(body, 0) & 0x7fffffff;
  if (s.stream_id == 0) return InvalidArgument("spdy: SYN_STREAM on stream 0");
  s.compressed_block.assign(body.substr(10));
  return s;
}

}  // namespace il::stream
