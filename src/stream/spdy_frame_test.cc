#include "stream/spdy_frame.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace il::stream {
namespace {

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string Unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 3) {
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(SpdyFrame, DictionaryMatchesItsChecksums) {
  auto d = SpdyDictionary();
  ASSERT_EQ(d.size(), 1423u);
  auto* p = reinterpret_cast<const Bytef*>(d.data());
  EXPECT_EQ(adler32(1, p, 1423), 0xE3C6A7C2u);
  EXPECT_EQ(crc32(0, p, 1423), 0x04C8490Eu);
}

// Vectors computed with C zlib at level 9 (reference kubelet-streaming.md §1.5).
TEST(SpdyFrame, FirstTwoSynRepliesMatchTheReferenceBytes) {
  HeaderCompressor c;
  auto b1 = c.Compress(EncodeHeaderBlock({}));
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(Hex(SpdySynReply(1, *b1, false)),
            "80 03 00 02 00 00 00 14 00 00 00 01 78 f9 e3 c6 a7 c2 02 a6 23 06 00 00 00 00 ff ff");
  auto b2 = c.Compress(EncodeHeaderBlock({}));
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(Hex(SpdySynReply(3, *b2, false)),
            "80 03 00 02 00 00 00 0c 00 00 00 03 02 01 00 00 00 00 ff ff");
}

TEST(SpdyFrame, DecompressesKubectlStyleSynStreams) {
  HeaderDecompressor d;
  std::string wire = Unhex(
      "80 03 00 01 00 00 00 28 00 00 00 01 00 00 00 00 00 00 78 f9 e3 c6 a7 c2 02 a6 23 46 70 "
      "3a 2b 29 4a 4d cc 85 16 25 ac a9 a0 80 06 00 00 00 ff ff "
      "80 03 00 01 00 00 00 17 00 00 00 03 00 00 00 00 00 00 c2 2e 55 5c 02 cc 2e 00 00 00 00 ff "
      "ff ");
  const char* want[] = {"error", "stdin"};
  for (int i = 0; i < 2; ++i) {
    auto f = DecodeSpdyFrame(&wire, 1 << 20);
    ASSERT_TRUE(f.ok() && f->has_value());
    ASSERT_TRUE((*f)->control);
    ASSERT_EQ((*f)->type, SpdyType::kSynStream);
    auto syn = ParseSynStream((*f)->payload);
    ASSERT_TRUE(syn.ok());
    EXPECT_EQ(syn->stream_id, static_cast<uint32_t>(1 + 2 * i));
    auto block = d.Decompress(syn->compressed_block);
    ASSERT_TRUE(block.ok()) << block.status().message();
    auto h = DecodeHeaderBlock(*block);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(HeaderValue(*h, "streamType"), want[i]);
  }
  EXPECT_TRUE(wire.empty());
}

TEST(SpdyFrame, HeaderCompressionRoundTripsAcrossBlocks) {
  HeaderCompressor c;
  HeaderDecompressor d;
  for (int i = 0; i < 5; ++i) {
    SpdyHeaders h = {{"streamtype", "data"},
                     {"port", std::to_string(8080 + i)},
                     {"requestid", std::to_string(i)}};
    auto z = c.Compress(EncodeHeaderBlock(h));
    ASSERT_TRUE(z.ok());
    auto back = d.Decompress(*z);
    ASSERT_TRUE(back.ok());
    auto parsed = DecodeHeaderBlock(*back);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, h);
  }
}

TEST(SpdyFrame, ControlAndDataFramesMatchTheReference) {
  EXPECT_EQ(Hex(SpdyDataFrame(5, "", true)), "00 00 00 05 01 00 00 00");
  EXPECT_EQ(Hex(SpdyRstStream(3, kSpdyRstCancel)),
            "80 03 00 03 00 00 00 08 00 00 00 03 00 00 00 05");
  EXPECT_EQ(Hex(SpdyGoAway(7)), "80 03 00 07 00 00 00 08 00 00 00 07 00 00 00 00");
  EXPECT_EQ(Hex(SpdyPing(1)), "80 03 00 06 00 00 00 04 00 00 00 01");
}

TEST(SpdyFrame, DataFrameRoundTripsAndPartialFramesWait) {
  std::string wire = SpdyDataFrame(9, "hello", false);
  std::string part = wire.substr(0, 10);
  auto p = DecodeSpdyFrame(&part, 100);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
  auto f = DecodeSpdyFrame(&wire, 100);
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_FALSE((*f)->control);
  EXPECT_EQ((*f)->stream_id, 9u);
  EXPECT_EQ((*f)->payload, "hello");
  std::string big = SpdyDataFrame(1, std::string(200, 'a'), false);
  EXPECT_FALSE(DecodeSpdyFrame(&big, 100).ok());
}

TEST(SpdyFrame, MalformedHeaderBlocksAreErrors) {
  EXPECT_FALSE(DecodeHeaderBlock("\x00\x00").ok());
  const char truncated[] = {0, 0, 0, 1, 0, 0, 0, 9, 'a', 'b'};
  EXPECT_FALSE(DecodeHeaderBlock(std::string(truncated, sizeof(truncated))).ok());
}

}  // namespace
}  // namespace il::stream
