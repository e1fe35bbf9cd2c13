// Fuzz target: what exec, attach and port-forward read from the network (src/stream,
// src/core/websocket.h): SPDY/3 frames with their zlib-compressed header blocks, WebSocket
// frames, the exec status JSON of a hop, terminal sizes and hop query strings.
//
// Input: raw bytes, read as a SPDY byte stream, as a WebSocket byte stream, and as text.
// Properties: a header block that decodes re-encodes to one that decodes to the same pairs
// (names lower-cased); a WebSocket frame re-encoded (masked) decodes to the same payload;
// an exit code parsed from a status is 0..255 and survives ExecStatusJson.
#include <string>

#include "core/websocket.h"
#include "fuzz/fuzz_check.h"
#include "stream/exec_status.h"
#include "stream/hop_stream.h"
#include "stream/process_stream.h"
#include "stream/spdy_frame.h"

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Spdy(std::string buf) {
  il::stream::HeaderDecompressor inflater;
  for (int i = 0; i < 64; ++i) {
    auto f = il::stream::DecodeSpdyFrame(&buf, 1 << 20);
    if (!f.ok() || !f->has_value()) return;
    if (!(*f)->control || (*f)->type != il::stream::SpdyType::kSynStream) continue;
    auto syn = il::stream::ParseSynStream((*f)->payload);
    if (!syn.ok()) continue;
    auto block = inflater.Decompress(syn->compressed_block);
    if (!block.ok()) return;  // the zlib stream is broken for the rest of the connection
    auto headers = il::stream::DecodeHeaderBlock(*block);
    if (!headers.ok()) continue;
    auto again = il::stream::DecodeHeaderBlock(il::stream::EncodeHeaderBlock(*headers));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->size() == headers->size());
    for (size_t k = 0; k < headers->size(); ++k) {
      FUZZ_CHECK((*again)[k].first == Lower((*headers)[k].first));
      FUZZ_CHECK((*again)[k].second == (*headers)[k].second);
    }
  }
}

void WebSocketFrames(std::string buf) {
  for (int i = 0; i < 64; ++i) {
    auto f = il::http::DecodeWsFrame(&buf, 1 << 20);
    if (!f.ok() || !f->has_value()) return;
    std::string wire = il::http::EncodeWsFrame((*f)->opcode, (*f)->payload, (*f)->fin, true, 7);
    auto back = il::http::DecodeWsFrame(&wire, 1 << 20);
    FUZZ_CHECK(back.ok() && back->has_value());
    FUZZ_CHECK((*back)->payload == (*f)->payload);
    FUZZ_CHECK(wire.empty());
  }
}

void Text(std::string_view text) {
  auto code = il::stream::ParseExecStatus(text);
  if (code.ok()) {
    FUZZ_CHECK(*code >= 0 && *code <= 255);
    auto again = il::stream::ParseExecStatus(il::stream::ExecStatusJson(*code));
    FUZZ_CHECK(again.ok() && *again == *code);
  }
  (void)il::stream::ParseTerminalSize(text);
  std::string target = "/exec?" + std::string(text);
  auto r = il::stream::ParseExecTarget(target, false);
  if (r.ok()) {
    auto back = il::stream::ParseExecTarget(il::stream::ExecTarget(*r), false);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->command == r->command && back->namespace_ == r->namespace_);
  }
  (void)il::stream::ParsePortForwardTarget("/portforward?" + std::string(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(il::fuzz::AsText(data, size));
  Spdy(bytes);
  WebSocketFrames(bytes);
  Text(bytes);
  return 0;
}
