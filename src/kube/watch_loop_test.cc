#include "kube/watch_loop.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>

#include "kube/api_error.h"
#include "kube/kube_client.h"
#include "testing/fake_api_server.h"
#include "testing/fake_clock.h"

namespace il::kube {
namespace json = boost::json;
namespace {

using std::chrono::milliseconds;

json::value Obj(const std::string& name, const std::string& rv) {
  return json::object{{"metadata", json::object{{"name", name}, {"resourceVersion", rv}}}};
}
json::value List(const std::string& rv, std::vector<json::value> items) {
  return json::object{{"metadata", json::object{{"resourceVersion", rv}}},
                      {"items", json::array(items.begin(), items.end())}};
}
WatchEvent Ev(WatchEventType t, json::value o) { return WatchEvent{t, std::move(o)}; }
WatchEvent Gone() {
  return Ev(WatchEventType::kError, json::object{{"kind", "Status"},
                                                 {"code", 410},
                                                 {"reason", "Expired"},
                                                 {"message", "too old resource version"}});
}

// A scripted KubeApi: lists and watches answer from queues; when the watch queue runs
// dry the loop is stopped.
class ScriptedApi : public KubeApi {
 public:
  struct WatchScript {
    std::vector<WatchEvent> events;
    Status end;
  };
  std::deque<Result<json::value>> lists;
  std::deque<WatchScript> watches;
  std::vector<std::string> watch_rvs;
  int list_calls = 0;
  std::stop_source stop;
  std::shared_ptr<testing::FakeClock> clock;

  Result<json::value> List(const std::string&, const ListOptions&) override {
    ++list_calls;
    if (lists.empty()) return Unavailable("no more lists");
    auto r = lists.front();
    lists.pop_front();
    return r;
  }
  Status Watch(const std::string&, const WatchParams& p,
               const std::function<bool(WatchEvent)>& on_event, const std::stop_token&) override {
    watch_rvs.push_back(p.resource_version);
    if (watches.empty()) {
      stop.request_stop();
      return Status::Ok();
    }
    auto w = watches.front();
    watches.pop_front();
    for (auto& e : w.events) {
      if (!on_event(e)) break;
    }
    clock->Advance(std::chrono::seconds(30));  // a healthy watch lasts a while
    return w.end;
  }
  Result<json::value> Get(const std::string&) override { return Todo(); }
  Result<json::value> Create(const std::string&, const json::value&) override { return Todo(); }
  Result<json::value> Update(const std::string&, const json::value&) override { return Todo(); }
  Result<json::value> Patch(const std::string&, PatchType, const json::value&) override {
    return Todo();
  }
  Result<json::value> Delete(const std::string&, const DeleteOptions&) override { return Todo(); }

 private:
  static Status Todo() { return Status(StatusCode::kUnimplemented, "scripted"); }
};

class WatchLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { api_.clock = clock_; }
  Status Run(WatchLoopOptions o = {}) {
    o.clock = clock_;
    WatchHandlers h;
    h.on_sync = [&](const std::vector<json::value>& items, const std::string& rv) {
      log_.push_back("sync " + rv + " n=" + std::to_string(items.size()));
    };
    h.on_event = [&](WatchEventType t, const json::value& o) {
      log_.push_back(std::string(WatchEventTypeName(t)) + " " +
                     std::string(o.at("metadata").at("name").as_string()));
    };
    h.on_error = [&](const Status& s) { errors_.push_back(s); };
    return WatchLoop(api_, "/api/v1/pods", o, h, api_.stop.get_token());
  }

  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
  ScriptedApi api_;
  std::vector<std::string> log_;
  std::vector<Status> errors_;
};

TEST_F(WatchLoopTest, SyncsThenWatchesFromListVersionAndFollowsBookmarks) {
  api_.lists.push_back(List("10", {Obj("a", "9")}));
  api_.watches.push_back(
      {{Ev(WatchEventType::kAdded, Obj("b", "11")), Ev(WatchEventType::kBookmark, Obj("", "15"))},
       Status::Ok()});  // server timeout: rewatch from the bookmark
  api_.watches.push_back(
      {{Ev(WatchEventType::kDeleted, Obj("a", "16"))}, Unavailable("connection reset")});
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"sync 10 n=1", "ADDED b", "DELETED a"}));
  EXPECT_EQ(api_.watch_rvs, (std::vector<std::string>{"10", "15", "16"}));
  EXPECT_EQ(api_.list_calls, 1);
  ASSERT_EQ(errors_.size(), 1u);  // the reset, retried after a backoff
}

TEST_F(WatchLoopTest, RelistsOnGoneErrorEventAndOnGoneReply) {
  api_.lists.push_back(List("10", {}));
  api_.lists.push_back(List("20", {Obj("a", "19")}));
  api_.lists.push_back(List("30", {}));
  api_.watches.push_back({{Ev(WatchEventType::kAdded, Obj("a", "11")), Gone()}, Status::Ok()});
  api_.watches.push_back(
      {{Ev(WatchEventType::kModified, Obj("a", "21"))}, MakeApiStatus(410, "Gone", "too old")});
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"sync 10 n=0", "ADDED a", "sync 20 n=1", "MODIFIED a",
                                            "sync 30 n=0"}));
  EXPECT_EQ(api_.watch_rvs, (std::vector<std::string>{"10", "20", "30"}));
  EXPECT_TRUE(clock_->sleeps().empty());  // progress was made: relist at once
}

TEST_F(WatchLoopTest, FailuresBackOffExponentiallyAndCanGiveUp) {
  for (int i = 0; i < 5; ++i) api_.lists.push_back(Unavailable("apiserver down"));
  WatchLoopOptions o;
  o.initial_backoff = milliseconds(100);
  o.max_backoff = milliseconds(300);
  o.max_consecutive_failures = 4;
  auto s = Run(o);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(api_.list_calls, 4);
  std::vector<testing::FakeClock::Duration> want = {milliseconds(100), milliseconds(200),
                                                    milliseconds(300)};
  EXPECT_EQ(clock_->sleeps(), want);
  EXPECT_EQ(errors_.size(), 4u);
}

// A kube-apiserver restart: while nothing answers, retries stay within
// unreachable_max_backoff and do not grow the backoff for errors the server answers, so the
// first 503 after the restart waits the initial backoff, not one grown through the outage.
TEST_F(WatchLoopTest, UnreachableServerIsRetriedOftenWithoutGrowingTheOtherBackoff) {
  for (int i = 0; i < 6; ++i) api_.lists.push_back(Unavailable("connect: connection refused"));
  api_.lists.push_back(MakeApiStatus(503, "ServiceUnavailable", "starting"));
  api_.lists.push_back(MakeApiStatus(503, "ServiceUnavailable", "starting"));
  api_.lists.push_back(List("10", {}));
  WatchLoopOptions o;
  o.initial_backoff = milliseconds(500);
  o.max_backoff = milliseconds(30000);
  o.unreachable_max_backoff = milliseconds(2000);
  ASSERT_TRUE(Run(o).ok());
  std::vector<testing::FakeClock::Duration> want = {
      milliseconds(500),  milliseconds(1000), milliseconds(2000),
      milliseconds(2000), milliseconds(2000), milliseconds(2000),  // refused: capped at 2 s
      milliseconds(500),  milliseconds(1000)};  // answered: its own backoff, from the start
  EXPECT_EQ(clock_->sleeps(), want);
  EXPECT_EQ(api_.list_calls, 9);
}

TEST_F(WatchLoopTest, OtherErrorEventRelistsAfterBackoff) {
  api_.lists.push_back(List("10", {}));
  api_.lists.push_back(List("12", {}));
  api_.watches.push_back(
      {{Ev(WatchEventType::kError, json::object{{"code", 500}, {"message", "internal"}})},
       Status::Ok()});
  ASSERT_TRUE(Run().ok());
  EXPECT_EQ(api_.list_calls, 2);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(clock_->sleeps().size(), 1u);
}

// The same loop over HTTP against the fake API server: list, a watch stream that ends with a
// 410 ERROR event, a relist, and a watch that the test stops.
TEST(WatchLoopHttp, RelistsAfterGoneOverHttp) {
  FakeApiServer server;
  std::atomic<int> lists{0}, watches{0};
  server.On(
      "GET", "/api/v1/namespaces/default/configmaps",
      [&](const http::Request& r, http::ResponseWriter& w) {
        if (!r.query.count("watch")) {
          int n = ++lists;
          return w.Reply(200, json::serialize(List(n == 1 ? "100" : "200",
                                                   {Obj("cm" + std::to_string(n), "1")})));
        }
        ++watches;
        w.BeginStream(200, "application/json");
        if (r.query.at("resourceVersion") == "100") {
          w.Write(R"({"type":"ADDED","object":{"metadata":{"name":"x","resourceVersion":"1)");
          w.Write(R"(01"}}})"
                  "\n");
          w.Write(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
                  "\n");
          return;
        }
        w.Write(R"({"type":"MODIFIED","object":{"metadata":{"name":"y","resourceVersion":"201"}}})"
                "\n");
        while (!w.ClientGone()) std::this_thread::sleep_for(milliseconds(5));
      });
  ASSERT_TRUE(server.Start().ok());
  ClusterConfig c;
  c.server = server.url();
  auto client = KubeClient::New(c);
  ASSERT_TRUE(client.ok());
  std::stop_source stop;
  std::vector<std::string> seen;
  WatchHandlers h;
  h.on_sync = [&](const std::vector<json::value>& items, const std::string& rv) {
    seen.push_back("sync " + rv + " " +
                   std::string(items[0].at("metadata").at("name").as_string()));
  };
  h.on_event = [&](WatchEventType t, const json::value& o) {
    seen.push_back(std::string(WatchEventTypeName(t)) + " " +
                   std::string(o.at("metadata").at("name").as_string()));
    if (t == WatchEventType::kModified) stop.request_stop();
  };
  WatchLoopOptions o;
  o.clock = std::make_shared<testing::FakeClock>();
  ASSERT_TRUE(
      WatchLoop(**client, "/api/v1/namespaces/default/configmaps", o, h, stop.get_token()).ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"sync 100 cm1", "ADDED x", "sync 200 cm2", "MODIFIED y"}));
  EXPECT_EQ(lists.load(), 2);
  EXPECT_EQ(watches.load(), 2);
}

}  // namespace
}  // namespace il::kube
