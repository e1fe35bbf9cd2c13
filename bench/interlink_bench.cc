// interlink_bench: interLink -> mock-sd throughput and latency over real loopback HTTP,
// beside a bare HTTP round trip measured in the same run.
//
//   /status with 1, 100 and 10,000 pods (one request carries all of them; every pod is
//   running, so every request reaches the sidecar), and /create at concurrency 1 and 64.
// Prints requests/s, p50 and p99 latency, and the p50 ratio to the bare round trip.
// Usage: interlink_bench [--quick]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/log.h"
#include "interlink/interlink_service.h"
#include "protocol/server.h"
#include "sidecars/mock/mock_backend.h"

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Figures {
  double rps = 0, p50_us = 0, p99_us = 0;
  double cpu_us = 0;  // process CPU time (both servers and the client) per operation
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Runs `op` `total` times spread over `concurrency` threads.
Figures Measure(int total, int concurrency, const std::function<void(int)>& op) {
  std::vector<std::vector<double>> lat(concurrency);
  std::atomic<int> next{0};
  auto t0 = Clock::now();
  double cpu0 = CpuSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (int i; (i = next++) < total;) {
        auto s = Clock::now();
        op(i);
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.rps = total / secs;
  f.cpu_us = (CpuSeconds() - cpu0) * 1e6 / total;
  f.p50_us = all[all.size() / 2];
  f.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return f;
}

json::value Pod(int i) {
  std::string uid = "bench-" + std::to_string(i);
  return json::value{
      {"metadata",
       {{"name", "p" + std::to_string(i)},
        {"namespace", "bench"},
        {"uid", uid},
        {"annotations", {{"mock.interlink.io/run-forever", "true"}}}}},
      {"spec", {{"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

std::unique_ptr<il::http::HttpClient> Client(const std::string& url) {
  il::http::ClientOptions o;
  o.base_url = url;
  o.max_idle_connections = 128;
  return std::move(il::http::HttpClient::Create(o)).value();
}

void Check(const il::Result<il::http::Response>& r, const char* what) {
  if (!r.ok() || r->status != 200) {
    std::fprintf(stderr, "%s failed: %s\n", what,
                 r.ok() ? (std::to_string(r->status) + " " + r->body).c_str()
                        : r.status().ToString().c_str());
    std::exit(1);
  }
}

void Row(const char* name, const Figures& f, double base_p50) {
  std::printf("%-34s %10.0f %10.1f %10.1f %8.1fx %10.1f\n", name, f.rps, f.p50_us, f.p99_us,
              f.p50_us / base_p50, f.cpu_us);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  (void)il::log::Init({"error", il::log::Format::kText});

  // Baseline: a bare HTTP round trip on loopback, same server and client code.
  il::http::HttpServer bare({});
  bare.Handle("/rt",
              [](const il::http::Request&, il::http::ResponseWriter& w) { w.Reply(200, "[]"); });
  if (!bare.Start().ok()) return 1;
  auto bare_client = Client(bare.url());

  // interlink -> mock-sd, both over loopback TCP.
  auto store = il::mock::SqliteStateStore::Open(":memory:");
  auto backend =
      il::mock::MockBackend::Open({":memory:"}, std::move(store).value(), il::RealClock());
  il::protocol::ServerOptions so;
  so.component = "mock-sd";
  so.listen = "http://127.0.0.1:0";
  so.body_limit = 512u << 20;
  so.worker_threads = 64;
  il::protocol::Server sidecar(so, **backend);
  if (!sidecar.Start().ok()) return 1;
  il::interlink::InterlinkServiceOptions ao;
  ao.plugin.url = sidecar.url();
  ao.server.component = "interlink";
  ao.server.listen = "http://127.0.0.1:0";
  ao.server.body_limit = 512u << 20;
  ao.server.worker_threads = 128;
  auto service = il::interlink::InterlinkService::Create(std::move(ao));
  if (!service.ok() || !(*service)->Start().ok()) return 1;
  auto& api = **service;
  auto client = Client(api.url());

  const int n_rt = quick ? 200 : 5000;
  auto base = Measure(n_rt, 1, [&](int) {
    il::http::ClientRequest r;
    r.target = "/rt";
    Check(bare_client->Do(r), "bare round trip");
  });

  std::printf("interlink_bench%s: interLink -> mock-sd over loopback HTTP (2 hops)\n",
              quick ? " (quick)" : "");
  std::printf("%-34s %10s %10s %10s %9s %10s\n", "case", "req/s", "p50 us", "p99 us", "p50/bare",
              "cpu us/op");
  Row("bare HTTP round trip (baseline)", base, base.p50_us);

  // /create: concurrency 1 and 64.
  std::atomic<int> uid{0};
  for (int conc : {1, 64}) {
    int total = quick ? 100 : (conc == 1 ? 2000 : 10000);
    auto f = Measure(total, conc, [&](int) {
      il::http::ClientRequest r;
      r.method = "POST";
      r.target = "/create";
      r.body = json::serialize(json::object{{"pod", Pod(uid++)},
                                            {"configmaps", json::array()},
                                            {"secrets", json::array()},
                                            {"projectedvolumesmaps", json::array()}});
      Check(client->Do(r), "/create");
    });
    char name[64];
    std::snprintf(name, sizeof(name), "/create concurrency %d", conc);
    Row(name, f, base.p50_us);
  }

  // /status with 1, 100 and 10,000 pods in one request (all known and running).
  for (int n : {1, 100, 10000}) {
    if (quick && n > 1000) n = 1000;
    while (uid < n) {
      il::http::ClientRequest r;
      r.method = "POST";
      r.target = "/create";
      r.body = json::serialize(json::object{{"pod", Pod(uid++)}});
      Check(client->Do(r), "/create");
    }
    json::array pods;
    for (int i = 0; i < n; ++i) pods.push_back(Pod(i));
    std::string body = json::serialize(pods);
    int reps = quick ? 5 : (n >= 10000 ? 30 : n >= 100 ? 500 : 2000);
    auto f = Measure(reps, 1, [&](int) {
      il::http::ClientRequest r;
      r.method = "GET";
      r.target = "/status";
      r.body = body;
      auto res = client->Do(r);
      Check(res, "/status");
    });
    char name[64];
    std::snprintf(name, sizeof(name), "/status %d pods", n);
    Row(name, f, base.p50_us);
    std::printf("%-34s %10.0f pod statuses/s\n", "", f.rps * n);
  }
  api.Stop();
  sidecar.Stop();
  bare.Stop();
  return 0;
}
