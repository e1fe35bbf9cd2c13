// protocol::Server and protocol::Client over real HTTP on loopback: status codes across
// one and two hops, sessions, credentials, and follow streams that never starve the
// other requests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/token_auth.h"
#include "protocol/client.h"
#include "protocol/server.h"
#include "testing/fake_backend.h"

namespace il::protocol {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid) {
  return json::value{
      {"metadata", {{"name", "p-" + uid}, {"namespace", "default"}, {"uid", uid}}},
      {"spec", {{"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

api::RetrievedPodData Data(const std::string& uid) {
  api::RetrievedPodData d;
  d.pod = Pod(uid);
  return d;
}

const StatusCode kAllErrors[] = {
    StatusCode::kInvalidArgument, StatusCode::kUnauthenticated,   StatusCode::kPermissionDenied,
    StatusCode::kNotFound,        StatusCode::kAlreadyExists,     StatusCode::kFailedPrecondition,
    StatusCode::kPayloadTooLarge, StatusCode::kResourceExhausted, StatusCode::kInternal,
    StatusCode::kUnimplemented,   StatusCode::kBadGateway,        StatusCode::kUnavailable,
    StatusCode::kDeadlineExceeded};

std::unique_ptr<Server> StartServer(api::Backend& b, Hop hop,
                                    std::shared_ptr<Authenticator> auth = nullptr,
                                    int workers = 4) {
  ServerOptions o;
  o.component = hop == Hop::kPlugin ? "test-sd" : "test-interlink";
  o.hop = hop;
  o.listen = "http://127.0.0.1:0";
  o.authenticator = std::move(auth);
  o.worker_threads = workers;
  o.body_limit = 1u << 20;
  auto s = std::make_unique<Server>(o, b);
  EXPECT_TRUE(s->Start().ok());
  return s;
}

std::unique_ptr<Client> Connect(const std::string& url, Hop hop, std::string token_file = "") {
  ClientOptions o;
  o.hop = hop;
  o.url = url;
  o.token_file = std::move(token_file);
  o.timeout = std::chrono::seconds(10);
  return std::move(Client::Create(o)).value();
}

TEST(Protocol, EveryStatusCodeSurvivesOneHop) {
  api::FakeBackend backend;
  auto server = StartServer(backend, Hop::kPlugin);
  auto client = Connect(server->url(), Hop::kPlugin);
  for (StatusCode c : kAllErrors) {
    backend.create_error = Status(c, "reason " + std::string(StatusCodeName(c)));
    auto r = client->Create({}, Data("u1"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c) << StatusCodeName(c) << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("reason " + std::string(StatusCodeName(c))),
              std::string::npos);
  }
}

// A pass-through Backend: what the interLink API serves in front of the plugin client.
TEST(Protocol, EveryStatusCodeSurvivesTwoHops) {
  api::FakeBackend backend;
  auto sidecar = StartServer(backend, Hop::kPlugin);
  auto plugin = Connect(sidecar->url(), Hop::kPlugin);
  auto interlink = StartServer(*plugin, Hop::kInterlink);
  auto vk = Connect(interlink->url(), Hop::kInterlink);
  for (StatusCode c : kAllErrors) {
    backend.create_error = Status(c, "sbatch said no");
    backend.delete_error = Status(c, "scancel said no");
    auto r = vk->CreatePod({}, api::PodCreateRequests{Pod("u2"), {}, {}, {}, {}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c) << StatusCodeName(c) << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("sbatch said no"), std::string::npos);
    Status d = vk->Delete({}, Pod("u2"));
    EXPECT_EQ(d.code(), c) << StatusCodeName(c) << ": " << d.ToString();
  }
}

TEST(Protocol, UnreachableAndForeignErrorsMapAsDocumented) {
  auto gone = Connect("http://127.0.0.1:1", Hop::kPlugin);
  EXPECT_EQ(gone->Create({}, Data("u")).status().code(), StatusCode::kUnavailable);
  // A foreign plugin's plain-text 500 is the plugin's failure, not ours: 502.
  http::ServerOptions so;
  so.listen = "http://127.0.0.1:0";
  http::HttpServer foreign(so);
  foreign.Handle("/create", [](const http::Request&, http::ResponseWriter& w) {
    w.Reply(500, "panic: nil map", "text/plain");
  });
  ASSERT_TRUE(foreign.Start().ok());
  auto c = Connect(foreign.url(), Hop::kPlugin);
  auto r = c->Create({}, Data("u"));
  EXPECT_EQ(r.status().code(), StatusCode::kBadGateway);
  EXPECT_NE(r.status().message().find("panic: nil map"), std::string::npos);
}

TEST(Protocol, MethodsAndBodiesAreUpstreamsPerHop) {
  http::ServerOptions so;
  so.listen = "http://127.0.0.1:0";
  http::HttpServer peer(so);
  std::vector<std::string> seen;
  std::mutex mu;
  peer.HandlePrefix("/", [&](const http::Request& r, http::ResponseWriter& w) {
    {
      // Released before the reply: after the last one the test body goes on and its
      // locals die while this worker may still be in the handler.
      std::lock_guard l(mu);
      seen.push_back(r.method + " " + r.path + " " + r.body.substr(0, 12) + " " +
                     r.headers.Get("InterLink-Http-Session"));
    }
    w.Reply(200, r.path == "/create" ? R"({"PodUID":"u","PodJID":"j"})" : "[]");
  });
  ASSERT_TRUE(peer.Start().ok());
  auto vk = Connect(peer.url(), Hop::kInterlink);
  auto plugin = Connect(peer.url(), Hop::kPlugin);
  ASSERT_TRUE(vk->CreatePod({}, api::PodCreateRequests{Pod("u"), {}, {}, {}, {}}).ok());
  ASSERT_TRUE(vk->Delete({"s-1"}, Pod("u")).ok());
  (void)vk->PingRaw({});
  ASSERT_TRUE(plugin->Create({}, Data("u")).ok());
  ASSERT_TRUE(plugin->Delete({}, Pod("u")).ok());
  (void)plugin->PingRaw({});
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].rfind("POST /create {\"pod\":", 0), 0u) << seen[0];
  EXPECT_EQ(seen[1], "DELETE /delete {\"metadata\": s-1");
  EXPECT_EQ(seen[2].rfind("POST /pinglink", 0), 0u) << seen[2];
  EXPECT_EQ(seen[3].rfind("POST /create {\"pod\":", 0), 0u) << seen[3];
  EXPECT_EQ(seen[4].rfind("POST /delete {\"metadata\"", 0), 0u) << seen[4];
  EXPECT_EQ(seen[5].rfind("GET /status []", 0), 0u) << seen[5];
  EXPECT_NE(seen[3].find("CreatePod#"), std::string::npos) << "a session id is always sent";
}

TEST(Protocol, SessionTravelsEveryHop) {
  api::FakeBackend backend;
  auto sidecar = StartServer(backend, Hop::kPlugin);
  auto plugin = Connect(sidecar->url(), Hop::kPlugin);
  auto interlink = StartServer(*plugin, Hop::kInterlink);
  auto vk = Connect(interlink->url(), Hop::kInterlink);
  ASSERT_TRUE(
      vk->CreatePod({"CreatePod#7"}, api::PodCreateRequests{Pod("s"), {}, {}, {}, {}}).ok());
  EXPECT_EQ(backend.sessions.back(), "CreatePod#7");
}

TEST(Protocol, AnUnreadableTokenFileFailsTheCallInsteadOfSendingNoCredentials) {
  api::FakeBackend backend;
  std::string path = "/tmp/il-proto-token-" + std::to_string(getpid());
  std::ofstream(path) << "t0ken\n";
  auto server = StartServer(backend, Hop::kPlugin, std::make_shared<TokenAuth>(path));
  auto good = Connect(server->url(), Hop::kPlugin, path);
  EXPECT_TRUE(good->Create({}, Data("a")).ok());
  auto missing = Connect(server->url(), Hop::kPlugin, path + ".missing");
  auto r = missing->Create({}, Data("b"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(backend.create_calls, 1);
  auto none = Connect(server->url(), Hop::kPlugin);
  EXPECT_EQ(none->Create({}, Data("c")).status().code(), StatusCode::kUnauthenticated);
  unlink(path.c_str());
}

TEST(Protocol, TheClientSendsARotatedTokenAtOnce) {
  api::FakeBackend backend;
  std::string path = "/tmp/il-proto-token-s-" + std::to_string(getpid());
  std::string mine = "/tmp/il-proto-token-c-" + std::to_string(getpid());
  std::ofstream(path) << "t0ken\n";
  std::ofstream(mine) << "t0ken\n";
  auto server = StartServer(backend, Hop::kPlugin, std::make_shared<TokenAuth>(path));
  auto client = Connect(server->url(), Hop::kPlugin, mine);
  EXPECT_TRUE(client->Create({}, Data("a")).ok());
  std::ofstream(mine + ".new") << "w0ken\n";  // same size, renamed into place
  ASSERT_EQ(rename((mine + ".new").c_str(), mine.c_str()), 0);
  EXPECT_EQ(client->Create({}, Data("b")).status().code(), StatusCode::kPermissionDenied);
  unlink(mine.c_str());
  EXPECT_EQ(client->Create({}, Data("c")).status().code(), StatusCode::kUnavailable);
  std::ofstream(mine) << "t0ken\n";
  EXPECT_TRUE(client->Create({}, Data("d")).ok());
  EXPECT_EQ(backend.create_calls, 2);
  unlink(path.c_str());
  unlink(mine.c_str());
}

// A backend whose follow-mode logs block until the reader leaves.
class FollowBackend : public api::FakeBackend {
 public:
  Status GetLogs(const api::CallContext&, const api::LogRequest&, api::LogSink& sink) override {
    ++open;
    if (!sink.Write("started\n")) {
      --open;
      return Status::Ok();
    }
    while (!sink.Gone() && !stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --open;
    return Status::Ok();
  }
  std::atomic<int> open{0};
  std::atomic<bool> stop{false};
};

TEST(Protocol, FollowStreamsDoNotHoldRequestWorkersAndAreCapped) {
  FollowBackend backend;
  backend.created["u"] = {};
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  o.worker_threads = 2;
  o.max_streams = 8;
  o.max_streams_per_peer = 8;
  Server server(o, backend);
  ASSERT_TRUE(server.Start().ok());
  const std::string body =
      R"({"Namespace":"default","PodUID":"u","PodName":"p","ContainerName":"c","Opts":{"Follow":true}})";
  std::vector<std::unique_ptr<http::HttpClient>> clients;
  std::vector<std::thread> readers;
  std::atomic<int> refused{0};
  for (int i = 0; i < 10; ++i) {
    http::ClientOptions co;
    co.base_url = server.url();
    co.max_idle_connections = 0;
    clients.push_back(std::move(http::HttpClient::Create(co)).value());
  }
  for (int i = 0; i < 10; ++i) {
    readers.emplace_back([&, i] {
      http::ClientRequest r;
      r.method = "GET";
      r.target = "/getLogs";
      r.body = body;
      r.timeout = std::chrono::milliseconds(0);
      int status = 0;
      (void)clients[i]->Stream(
          r,
          [&](int s, const http::Headers&) {
            status = s;
            return true;
          },
          [&](std::string_view) { return true; }, [&] { return backend.stop.load(); });
      if (status == 429) ++refused;
    });
  }
  for (int i = 0; i < 200 && backend.open + refused < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(backend.open.load(), 8) << "the cap admits exactly max_streams";
  EXPECT_EQ(refused.load(), 2) << "beyond the cap: 429";
  // Two workers, eight streams open: ordinary requests are still served at once.
  auto c = Connect(server.url(), Hop::kPlugin);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Ping({}).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  backend.stop = true;
  for (auto& t : readers) t.join();
}

// --- the status watch extension (api/status_watch.h) ---

TEST(StatusWatch, APluginWithAWatchAdvertisesItAndInterlinkRelaysIt) {
  api::FakeBackend backend;
  backend.watch = true;
  auto plugin = StartServer(backend, Hop::kPlugin);
  auto to_plugin = Connect(plugin->url(), Hop::kPlugin);
  auto ping = to_plugin->Ping({});
  ASSERT_TRUE(ping.ok());
  EXPECT_TRUE(api::SupportsStatusWatch(*ping));
  // interLink: its ping relays the advertisement, its /status/watch relays the wait.
  auto interlink = StartServer(*to_plugin, Hop::kInterlink);
  auto vk = Connect(interlink->url(), Hop::kInterlink);
  auto vk_ping = vk->Ping({});
  ASSERT_TRUE(vk_ping.ok());
  EXPECT_TRUE(api::SupportsStatusWatch(*vk_ping));
  auto first = vk->WatchStatus({}, "", std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->reset) << "an empty cursor starts with a full re-read";
  std::thread notifier([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    backend.changes.Notify("u1");
  });
  auto t0 = std::chrono::steady_clock::now();
  auto next = vk->WatchStatus({}, first->cursor, std::chrono::seconds(30), nullptr);
  notifier.join();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(next->reset);
  EXPECT_EQ(next->uids, std::vector<std::string>{"u1"});
  auto idle = vk->WatchStatus({}, next->cursor, std::chrono::milliseconds(200), nullptr);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE(idle->uids.empty());
  EXPECT_EQ(idle->cursor, next->cursor);
}

TEST(StatusWatch, TheAnswerCarriesTheChangedPodsStatusesWhenAskedFor) {
  api::FakeBackend backend;
  backend.watch = true;
  backend.created["u1"] = {};
  backend.created["u2"] = {};
  auto plugin = StartServer(backend, Hop::kPlugin);
  auto to_plugin = Connect(plugin->url(), Hop::kPlugin);
  auto interlink = StartServer(*to_plugin, Hop::kInterlink);
  auto vk = Connect(interlink->url(), Hop::kInterlink);
  auto vk_ping = vk->Ping({});
  ASSERT_TRUE(vk_ping.ok());
  EXPECT_TRUE(api::SupportsWatchStatuses(*vk_ping)) << "relayed from the plugin";
  auto first = vk->WatchStatus({}, "", std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(first.ok());
  backend.changes.Notify("u1");
  backend.changes.Notify("gone");  // a pod the plugin no longer knows: no status for it
  const int calls_before = backend.status_calls;
  auto next = vk->WatchStatus({}, first->cursor, std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->with_statuses);
  ASSERT_EQ(next->statuses.size(), 1u);
  EXPECT_EQ(next->statuses[0].uid, "u1");
  EXPECT_EQ(api::UidsWithoutStatus(*next), std::vector<std::string>{"gone"});
  EXPECT_EQ(backend.status_calls, calls_before + 1) << "one batched GetStatus by the plugin";
  // A caller that does not ask (a v1 vk) gets the v1 answer, from either hop.
  for (const auto& url : {plugin->url(), interlink->url()}) {
    http::ClientOptions co;
    co.base_url = url;
    auto raw = http::HttpClient::Create(co);
    ASSERT_TRUE(raw.ok());
    http::ClientRequest r;
    r.method = "GET";
    r.target = "/status/watch?since=" + first->cursor + "&timeout=1";
    auto reply = (*raw)->Do(r);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body.find("statuses"), std::string::npos) << url << ": " << reply->body;
  }
}

TEST(StatusWatch, WithoutItNothingIsAdvertisedAndThePathIs404) {
  api::FakeBackend backend;  // like every upstream plugin
  auto plugin = StartServer(backend, Hop::kPlugin);
  auto c = Connect(plugin->url(), Hop::kPlugin);
  auto ping = c->Ping({});
  ASSERT_TRUE(ping.ok());
  EXPECT_FALSE(api::SupportsStatusWatch(*ping));
  auto w = c->WatchStatus({}, "", std::chrono::seconds(1), nullptr);
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound) << w.status().ToString();
  // Behind interLink: not advertised either, and the relay answers 404 too.
  auto interlink = StartServer(*c, Hop::kInterlink);
  auto vk = Connect(interlink->url(), Hop::kInterlink);
  auto vk_ping = vk->Ping({});
  ASSERT_TRUE(vk_ping.ok());
  EXPECT_FALSE(api::SupportsStatusWatch(*vk_ping));
  EXPECT_EQ(vk->WatchStatus({}, "", std::chrono::seconds(1), nullptr).status().code(),
            StatusCode::kNotFound);
}

TEST(StatusWatch, BadParametersAre400AndCredentialsAreChecked) {
  api::FakeBackend backend;
  backend.watch = true;
  std::string path = "/tmp/il-proto-watch-token-" + std::to_string(getpid());
  std::ofstream(path) << "t0ken\n";
  auto server = StartServer(backend, Hop::kPlugin, std::make_shared<TokenAuth>(path));
  http::ClientOptions co;
  co.base_url = server->url();
  auto raw = std::move(http::HttpClient::Create(co)).value();
  auto get = [&](const std::string& target, bool auth) {
    http::ClientRequest r;
    r.method = "GET";
    r.target = target;
    if (auth) r.headers.Set("Authorization", "Bearer t0ken");
    auto resp = raw->Do(r);
    return resp.ok() ? resp->status : 0;
  };
  EXPECT_EQ(get("/status/watch?since=&timeout=0", false), 401);
  EXPECT_EQ(get("/status/watch?since=&timeout=0", true), 200);
  EXPECT_EQ(get("/status/watch?since=nope&timeout=1", true), 400);
  EXPECT_EQ(get("/status/watch?since=ab.1x&timeout=1", true), 400);
  EXPECT_EQ(get("/status/watch?timeout=-3", true), 400);
  EXPECT_EQ(get("/status/watch?timeout=soon", true), 400);
  EXPECT_EQ(backend.watch_calls.load(), 1);
  unlink(path.c_str());
}

TEST(StatusWatch, WaitingWatchesDoNotHoldRequestWorkers) {
  api::FakeBackend backend;
  backend.watch = true;
  ServerOptions o;
  o.listen = "http://127.0.0.1:0";
  o.worker_threads = 1;
  Server server(o, backend);
  ASSERT_TRUE(server.Start().ok());
  const std::string cursor = backend.changes.Cursor();
  std::vector<std::thread> watchers;
  std::atomic<int> woke{0};
  for (int i = 0; i < 3; ++i) {
    watchers.emplace_back([&] {
      auto c = Connect(server.url(), Hop::kPlugin);
      auto w = c->WatchStatus({}, cursor, std::chrono::seconds(30), nullptr);
      if (w.ok() && w->uids.size() == 1) ++woke;
    });
  }
  while (backend.watch_calls < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto c = Connect(server.url(), Hop::kPlugin);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->Ping({}).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  backend.changes.Notify("u");
  for (auto& t : watchers) t.join();
  EXPECT_EQ(woke.load(), 3);
}

}  // namespace
}  // namespace il::protocol
