#include "kube/watch_decoder.h"

#include <gtest/gtest.h>

namespace il::kube {
namespace {

std::vector<WatchEvent> Drain(WatchDecoder& d) {
  std::vector<WatchEvent> out;
  while (auto n = d.Next()) {
    EXPECT_TRUE(n->ok()) << n->status().ToString();
    if (n->ok()) out.push_back(std::move(*n).value());
  }
  return out;
}

// The event's tree is built in an arena that travels with it (no malloc per string); a
// move assignment on the way out would have copied it back onto the default resource.
TEST(WatchDecoder, AnEventKeepsTheArenaItWasParsedInto) {
  auto ev =
      ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":{"name":"a","labels":{"k":"v"}}}})");
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  const boost::json::storage_ptr default_resource;
  EXPECT_NE(ev->object.storage().get(), default_resource.get());
  WatchEvent moved = std::move(ev).value();
  EXPECT_NE(moved.object.storage().get(), default_resource.get());
  EXPECT_EQ(moved.object.at("metadata").at("labels").at("k").as_string(), "v");
}

TEST(WatchDecoder, ReassemblesEventsSplitAcrossChunks) {
  std::string stream =
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})"
      "\n"
      R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}})"
      "\r\n\n"
      R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}})"
      "\n";
  // Every split point, including inside multi-byte-free JSON tokens.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchDecoder d;
    d.Feed(stream.substr(0, cut));
    auto events = Drain(d);
    d.Feed(stream.substr(cut));
    auto rest = Drain(d);
    events.insert(events.end(), rest.begin(), rest.end());
    ASSERT_EQ(events.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(events[0].type, WatchEventType::kAdded);
    EXPECT_EQ(events[1].type, WatchEventType::kModified);
    EXPECT_EQ(events[2].type, WatchEventType::kBookmark);
    EXPECT_EQ(d.pending(), 0u);
  }
}

TEST(WatchDecoder, MalformedLinesAreErrorsNotCrashes) {
  for (std::string line : {"not json", "[]", R"({"type":"ADDED"})",
                           R"({"type":"NOPE","object":{}})", R"({"type":1,"object":{}})"}) {
    WatchDecoder d;
    d.Feed(line + "\n");
    auto n = d.Next();
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->ok()) << line;
  }
}

TEST(WatchDecoder, OversizeLineIsRejected) {
  WatchDecoder d(16);
  d.Feed(std::string(40, 'x'));
  auto n = d.Next();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->status().code(), StatusCode::kPayloadTooLarge);
}

TEST(WatchDecoder, ErrorEventCarriesStatusObject) {
  WatchDecoder d;
  d.Feed(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
         "\n");
  auto n = d.Next();
  ASSERT_TRUE(n && n->ok());
  EXPECT_EQ((*n)->type, WatchEventType::kError);
  EXPECT_EQ((*n)->object.at("code").as_int64(), 410);
}

}  // namespace
}  // namespace il::kube
