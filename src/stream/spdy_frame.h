// SPDY/3 framing as Kubernetes speaks it (moby/spdystream; reference
// kubelet-streaming.md §1): frame headers, control frame bodies, and header blocks
// compressed with zlib and the SPDY/3 dictionary, one zlib stream per direction per
// connection.
//
// Thread-safety: the free functions are pure. HeaderCompressor and HeaderDecompressor
// hold a connection's zlib state and are used by one thread at a time.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace il::stream {

std::string_view SpdyDictionary();

enum class SpdyType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};
inline constexpr uint8_t kSpdyFlagFin = 0x01;
inline constexpr uint32_t kSpdyRstProtocolError = 1;
inline constexpr uint32_t kSpdyRstRefused = 3;
inline constexpr uint32_t kSpdyRstCancel = 5;

// One frame off the wire. Control frames keep their body undecoded in `payload`, data
// frames their data.
struct SpdyFrame {
  bool control = false;
  SpdyType type = SpdyType::kSynStream;  // control only
  uint32_t stream_id = 0;                // data frames
  uint8_t flags = 0;
  std::string payload;
};

// Takes one frame off the front of `*buffer`; nullopt when more bytes are needed; an
// error for a frame longer than `max_length`.
Result<std::optional<SpdyFrame>> DecodeSpdyFrame(std::string* buffer, size_t max_length);

using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

// Uncompressed header blocks: names lower-cased on encode; several values of one name
// stay separate pairs (Kubernetes sends one value per name).
std::string EncodeHeaderBlock(const SpdyHeaders& headers);
Result<SpdyHeaders> DecodeHeaderBlock(std::string_view block);
// Case-insensitive lookup; empty when absent.
std::string HeaderValue(const SpdyHeaders& headers, std::string_view name);

class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;
  // Compresses one block with a sync flush (the stream is never finished).
  Result<std::string> Compress(std::string_view block);

 private:
  z_stream z_{};
  bool ok_ = false;
};

class HeaderDecompressor {
 public:
  HeaderDecompressor();
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;
  // Inflates exactly the compressed bytes of one frame.
  Result<std::string> Decompress(std::string_view compressed);

 private:
  z_stream z_{};
  bool ok_ = false;
};

// Whole frames, ready to write.
std::string SpdyDataFrame(uint32_t stream_id, std::string_view data, bool fin);
std::string SpdySynReply(uint32_t stream_id, std::string_view compressed_block, bool fin);
std::string SpdySynStream(uint32_t stream_id, std::string_view compressed_block, bool fin);
std::string SpdyRstStream(uint32_t stream_id, uint32_t status);
std::string SpdyPing(uint32_t id);
std::string SpdyGoAway(uint32_t last_good_stream, uint32_t status = 0);

// Fields of control frame bodies.
struct SynStream {
  uint32_t stream_id = 0;
  std::string compressed_block;
};
Result<SynStream> ParseSynStream(std::string_view body);
uint32_t ReadU32(std::string_view body, size_t offset);

}  // namespace il::stream
